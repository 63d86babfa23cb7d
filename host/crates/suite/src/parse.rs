//! Reading a suite file (format 1) with positions, so every problem has a line and
//! column. The format is documented, with an annotated example, in
//! `certification-suites/README.md`.
//!
//! The file is walked by hand over `toml`'s span-keeping tables rather than deserialised
//! with serde: serde stops at the first problem and points at the table rather than the
//! key, and whoever edits a suite wants every mistake at once, each where it is. Unknown
//! keys are errors: a typo must not silently turn a required check into a default.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

use chrono::NaiveDate;
use sha2::{Digest, Sha256};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::model::{
    BuiltinCheck, Criterion, DEFAULT_RUN_TIME_LIMIT_MINUTES, DocRules, DocSection,
    ENGINE_BLUEPRINT_LIMIT_MINUTES, FORMAT, Level, Suite, SuiteSource, Tier, Waiver, WaiverTarget,
};
use crate::problem::{Diagnostics, Problem, Severity, Source};

type Value<'i> = Spanned<DeValue<'i>>;

/// A run longer than a day is a mistake: the budget would reserve a day of every
/// server's billed hours.
const MAX_RUN_TIME_LIMIT_MINUTES: u32 = 24 * 60;

const TOP_LEVEL_KEYS: &[&str] = &[
    "format",
    "name",
    "version",
    "title",
    "tier",
    "credit",
    "time_to_value",
    "run",
    "checks",
    "criteria",
    "docs",
    "waivers",
];

/// Reads a suite. `Err` holds every problem (errors and warnings) when any is an error.
pub(crate) fn parse(file: &Path, text: &str, source: SuiteSource) -> Result<Suite, Vec<Problem>> {
    let sha256 = hex::encode(Sha256::digest(text.as_bytes()));
    let mut w = Walker {
        src: Source::new(file.to_path_buf(), text.to_owned()),
        diag: Diagnostics::default(),
        suggested: Vec::new(),
    };
    let suite = w.suite(text, source, sha256);
    match suite {
        Some(s) if !w.diag.has_errors() => Ok(s),
        _ => Err(w.diag.into_sorted()),
    }
}

/// A table being read: its entries, how to name it in messages, and where its header
/// is (`None` for the top level, whose missing keys concern the whole file).
struct Table<'t, 'i> {
    entries: &'t DeTable<'i>,
    /// `the top level`, `[credit]`, `[[waivers]]`.
    label: String,
    header: Option<usize>,
}

impl<'t, 'i> Table<'t, 'i> {
    fn get(&self, key: &str) -> Option<&'t Value<'i>> {
        self.entries
            .iter()
            .find(|(k, _)| k.get_ref() == key)
            .map(|(_, v)| v)
    }

    /// Who lacks a missing key: `the suite` or the table.
    fn owner(&self) -> &str {
        if self.header.is_none() {
            "the suite"
        } else {
            &self.label
        }
    }
}

struct Walker {
    /// The suite file being read.
    src: Source,
    diag: Diagnostics,
    /// Keys an unknown key was taken for (`did you mean`), by table label: their
    /// absence is that typo, already reported, not a second problem.
    suggested: Vec<(String, &'static str)>,
}

impl Walker {
    fn error(&mut self, at: Option<usize>, message: impl Into<String>, hint: impl Into<String>) {
        self.problem(Severity::Error, at, message, hint);
    }

    fn warning(&mut self, at: Option<usize>, message: impl Into<String>, hint: impl Into<String>) {
        self.problem(Severity::Warning, at, message, hint);
    }

    /// A problem at a byte offset; `None` for the whole file.
    fn problem(
        &mut self,
        severity: Severity,
        at: Option<usize>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        match at {
            Some(offset) => self.diag.at(severity, &self.src, offset, message, hint),
            None => self
                .diag
                .push(severity, &self.src.file, 0, 0, message, hint),
        }
    }

    fn suite(&mut self, text: &str, source: SuiteSource, sha256: String) -> Option<Suite> {
        let (doc, errors) = DeTable::parse_recoverable(text);
        if !errors.is_empty() {
            // What follows a syntax error cannot be trusted, so the schema is not checked.
            for e in errors {
                self.error(
                    Some(e.span().map_or(0, |s| s.start)),
                    format!("not valid TOML: {}", e.message().trim_end()),
                    "fix the TOML syntax: strings in double quotes, one `key = value` per line, [table] and [[waivers]] headers",
                );
            }
            return None;
        }
        let root = &Table {
            entries: doc.get_ref(),
            label: "the top level".to_string(),
            header: None,
        };
        self.unknown_keys(root, TOP_LEVEL_KEYS);
        self.format(root);

        let name = self.name(root);
        let version = self.version(root);
        let title = self.string(root, "title", "\"Silver certification\"");
        let tier = self.tier(root);

        let credit = self.table(root, "credit", "monthly_usd (the tier's monthly credit)");
        let monthly_credit_usd = credit.as_ref().and_then(|t| {
            self.unknown_keys(t, &["monthly_usd"]);
            self.uint(t, "monthly_usd", 1..=u32::MAX, "2000", "")
        });
        if let (Some(tier), Some(usd), Some(t)) = (tier, monthly_credit_usd, &credit)
            && usd != tier.monthly_credit_usd()
        {
            let at = t.get("monthly_usd").map(|v| v.span().start);
            self.warning(
                at,
                format!(
                    "the program's credit for {tier} is ${} a month; this suite sets ${}",
                    thousands(tier.monthly_credit_usd()),
                    thousands(usd)
                ),
                format!(
                    "write `monthly_usd = {}` unless the program changed the {tier} credit",
                    tier.monthly_credit_usd()
                ),
            );
        }

        let ttv = self.table(root, "time_to_value", "limit_minutes");
        let time_to_value_minutes = ttv.as_ref().and_then(|t| {
            self.unknown_keys(t, &["limit_minutes"]);
            self.uint(
                t,
                "limit_minutes",
                1..=ENGINE_BLUEPRINT_LIMIT_MINUTES,
                "20",
                "the Blueprint Engine stops a blueprint after 20 minutes, so a suite may ask for less, never more",
            )
        });

        let run_time_limit_minutes = self.run(root, time_to_value_minutes);
        let checks = self.checks(root);
        let criteria = self.criteria(root);
        let docs = self.docs(root);
        let waivers = self.waivers(root);

        Some(Suite {
            name: name?,
            version: version?,
            title: title?.0,
            tier: tier?,
            monthly_credit_usd: monthly_credit_usd?,
            time_to_value_minutes: time_to_value_minutes?,
            run_time_limit_minutes: run_time_limit_minutes?,
            checks: checks?,
            criteria: criteria?,
            docs: docs?,
            waivers: waivers?,
            source,
            sha256,
            // Everything is read by now; when any problem is an error, `parse`
            // discards the suite, so these are warnings.
            warnings: self.diag.problems.clone(),
        })
    }

    fn format(&mut self, root: &Table<'_, '_>) {
        match root.get("format") {
            None => self.error(
                None,
                "the suite has no `format` key",
                format!("add `format = {FORMAT}` as the first line"),
            ),
            Some(v) => match integer(v) {
                Some(FORMAT) => {}
                Some(n) => self.error(
                    Some(v.span().start),
                    format!("format {n} is not supported; this harness reads format {FORMAT}"),
                    "write the suite in format 1 (see certification-suites/README.md) or use a newer certify",
                ),
                None => self.error(
                    Some(v.span().start),
                    "`format` must be an integer",
                    format!("write `format = {FORMAT}`"),
                ),
            },
        }
    }

    fn name(&mut self, root: &Table<'_, '_>) -> Option<String> {
        let (name, span) = self.string(root, "name", "\"silver\"")?;
        let valid = name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !valid {
            self.error(
                Some(span.start),
                format!("suite name {name:?} is not a short name"),
                "use lower-case letters, digits and `-`, starting with a letter, e.g. `name = \"gold\"`",
            );
            return None;
        }
        Some(name)
    }

    fn version(&mut self, root: &Table<'_, '_>) -> Option<semver::Version> {
        let (text, span) = self.string(root, "version", "\"1.0.0\"")?;
        match semver::Version::parse(&text) {
            Ok(v) => Some(v),
            Err(e) => {
                self.error(
                    Some(span.start),
                    format!("version {text:?} is not a semantic version ({e})"),
                    "write MAJOR.MINOR.PATCH, e.g. `version = \"1.0.0\"`; raise MAJOR when a change can turn a certified candidate into a failing one",
                );
                None
            }
        }
    }

    fn tier(&mut self, root: &Table<'_, '_>) -> Option<Tier> {
        let (text, span) = self.string(root, "tier", "\"silver\"")?;
        let tier = Tier::from_name(&text);
        if tier.is_none() {
            self.error(
                Some(span.start),
                format!("unknown tier {text:?}"),
                "use \"silver\", \"gold\" or \"platinum\"",
            );
        }
        tier
    }

    fn run(&mut self, root: &Table<'_, '_>, ttv: Option<u32>) -> Option<u32> {
        let Some(t) = &self.optional_table(root, "run") else {
            return Some(DEFAULT_RUN_TIME_LIMIT_MINUTES);
        };
        self.unknown_keys(t, &["time_limit_minutes"]);
        if t.get("time_limit_minutes").is_none() {
            return Some(DEFAULT_RUN_TIME_LIMIT_MINUTES);
        }
        let minutes = self.uint(
            t,
            "time_limit_minutes",
            1..=MAX_RUN_TIME_LIMIT_MINUTES,
            "60",
            "the budget reserves every server's billed hours for this long",
        )?;
        if let Some(ttv) = ttv.filter(|ttv| minutes < *ttv) {
            let at = t.get("time_limit_minutes").map(|v| v.span().start);
            self.error(
                at,
                format!(
                    "a run of {minutes} minutes is shorter than the time-to-value limit ({ttv} minutes)"
                ),
                "give the run time to deploy, check and tear down: at least the time-to-value limit, typically 60",
            );
            return None;
        }
        Some(minutes)
    }

    /// `[checks]`: built-in check id = level. Dotted keys are accepted both quoted
    /// (`"docs.steps" = …`) and bare (`docs.steps = …`, which TOML reads as nested
    /// tables), since people write both.
    fn checks(&mut self, root: &Table<'_, '_>) -> Option<BTreeMap<BuiltinCheck, Level>> {
        let mut levels: BTreeMap<BuiltinCheck, Level> = BuiltinCheck::ALL
            .into_iter()
            .map(|c| (c, Level::Required))
            .collect();
        let Some(t) = &self.optional_table(root, "checks") else {
            return Some(levels);
        };
        let mut entries = Vec::new();
        flatten(t.entries, "", &mut entries);
        entries.sort_by_key(|(_, key_span, _)| key_span.start);
        let mut seen = BTreeMap::new();
        let mut ok = true;
        for (id, key_span, v) in entries {
            let Some(check) = BuiltinCheck::from_id(&id) else {
                let ids: Vec<&str> = BuiltinCheck::ALL.iter().map(|c| c.id()).collect();
                let hint = match closest(&id, &ids) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("the built-in checks are: {}", ids.join(", ")),
                };
                self.error(
                    Some(key_span.start),
                    format!("unknown built-in check `{id}` in [checks]"),
                    hint,
                );
                ok = false;
                continue;
            };
            // The first occurrence stays the one named, however many follow.
            if let Some(&first) = seen.get(&check) {
                let (line, _) = self.src.position(first);
                self.error(
                    Some(key_span.start),
                    format!("check `{id}` is given a level twice (first on line {line})"),
                    "keep one of the two lines",
                );
                ok = false;
                continue;
            }
            seen.insert(check, key_span.start);
            let level = match v.get_ref().as_str() {
                Some("required") => Level::Required,
                Some("advisory") => Level::Advisory,
                other => {
                    let what = other.map_or_else(
                        || format!("a {}", v.get_ref().type_str()),
                        |s| format!("{s:?}"),
                    );
                    self.error(
                        Some(v.span().start),
                        format!("the level of `{id}` must be \"required\" or \"advisory\", not {what}"),
                        "required: it must pass (or be waived) to certify; advisory: a failure is only a warning",
                    );
                    ok = false;
                    continue;
                }
            };
            levels.insert(check, level);
        }
        ok.then_some(levels)
    }

    fn criteria(&mut self, root: &Table<'_, '_>) -> Option<BTreeMap<Criterion, u32>> {
        let t = &self.table(
            root,
            "criteria",
            "the minimum number of passing plugin checks for each of performs-as-advertised, documentation, blueprint-integration and business-value",
        )?;
        let names: Vec<&str> = Criterion::ALL.iter().map(|c| c.as_str()).collect();
        self.unknown_keys(t, &names);
        let mut out = BTreeMap::new();
        let mut ok = true;
        for c in Criterion::ALL {
            match self.uint(t, c.as_str(), 0..=1000, "1", "") {
                Some(n) => {
                    out.insert(c, n);
                }
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    fn docs(&mut self, root: &Table<'_, '_>) -> Option<DocRules> {
        let t = &self.table(
            root,
            "docs",
            "public_sections, min_executed_share and require_escalation",
        )?;
        self.unknown_keys(
            t,
            &[
                "public_sections",
                "min_executed_share",
                "require_escalation",
                "min_ordered_steps",
                "require_executable_steps",
                "check_links",
            ],
        );
        let defaults = DocRules::default();
        let public_sections = self.sections(t);
        let min_executed_share = self.share(t, "min_executed_share");
        let require_escalation = self.boolean(t, "require_escalation", None);
        let min_ordered_steps = if t.get("min_ordered_steps").is_some() {
            self.uint(t, "min_ordered_steps", 0..=1000, "3", "")
        } else {
            Some(defaults.min_ordered_steps)
        };
        let require_executable_steps = self.boolean(
            t,
            "require_executable_steps",
            Some(defaults.require_executable_steps),
        );
        let check_links = self.boolean(t, "check_links", Some(defaults.check_links));
        Some(DocRules {
            public_sections: public_sections?,
            min_executed_share: min_executed_share?,
            require_escalation: require_escalation?,
            min_ordered_steps: min_ordered_steps?,
            require_executable_steps: require_executable_steps?,
            check_links: check_links?,
            ..defaults
        })
    }

    fn sections(&mut self, t: &Table<'_, '_>) -> Option<Vec<DocSection>> {
        let example = "[\"description\", \"audience\", \"prerequisites\", \"deployment-steps\", \"pricing\", \"faq-support\"]";
        let Some(v) = t.get("public_sections") else {
            self.missing(
                t,
                "public_sections",
                format!("add `public_sections = {example}` (or the ones this tier requires)"),
            );
            return None;
        };
        let Some(items) = v.get_ref().as_array() else {
            self.error(
                Some(v.span().start),
                "`public_sections` must be an array of section names",
                format!("write `public_sections = {example}`"),
            );
            return None;
        };
        let names: Vec<&str> = DocSection::ALL.iter().map(|s| s.as_str()).collect();
        let mut out = Vec::new();
        let mut ok = true;
        for item in items.iter() {
            let section = item.get_ref().as_str().and_then(DocSection::from_name);
            match section {
                Some(s) if out.contains(&s) => {
                    self.error(
                        Some(item.span().start),
                        format!("section `{s}` is listed twice in `public_sections`"),
                        "list each section once",
                    );
                    ok = false;
                }
                Some(s) => out.push(s),
                None => {
                    let text = item.get_ref().as_str().unwrap_or("");
                    let hint = match closest(text, &names) {
                        Some(s) => format!("did you mean \"{s}\"?"),
                        None => format!("the sections are: {}", names.join(", ")),
                    };
                    self.error(
                        Some(item.span().start),
                        format!(
                            "unknown public section {}",
                            item.get_ref()
                                .as_str()
                                .map_or_else(|| "(not a string)".to_string(), |s| format!("{s:?}"))
                        ),
                        hint,
                    );
                    ok = false;
                }
            }
        }
        out.sort();
        ok.then_some(out)
    }

    fn share(&mut self, t: &Table<'_, '_>, key: &str) -> Option<f64> {
        let Some(v) = t.get(key) else {
            self.missing(
                t,
                key,
                format!(
                    "add `{key} = 0.5`: the share of steps (0.0 to 1.0) the harness must execute"
                ),
            );
            return None;
        };
        let n = match v.get_ref() {
            DeValue::Float(f) => f.as_str().parse::<f64>().ok(),
            DeValue::Integer(_) => integer(v).map(|i| i as f64),
            _ => None,
        };
        match n {
            Some(n) if (0.0..=1.0).contains(&n) => Some(n),
            _ => {
                self.error(
                    Some(v.span().start),
                    format!("`{key}` must be a number from 0.0 to 1.0"),
                    format!("write e.g. `{key} = 0.5` for half of the steps"),
                );
                None
            }
        }
    }

    fn waivers(&mut self, root: &Table<'_, '_>) -> Option<Vec<Waiver>> {
        let Some(v) = root.get("waivers") else {
            return Some(Vec::new());
        };
        let Some(items) = v.get_ref().as_array() else {
            self.error(
                Some(v.span().start),
                "`waivers` must be a list of [[waivers]] tables",
                "write each waiver as a [[waivers]] section with check, justification and expires",
            );
            return None;
        };
        let mut out: Vec<Waiver> = Vec::new();
        let mut ok = true;
        for item in items.iter() {
            let Some(entries) = item.get_ref().as_table() else {
                self.error(
                    Some(item.span().start),
                    "each waiver must be a table",
                    "write each waiver as a [[waivers]] section with check, justification and expires",
                );
                ok = false;
                continue;
            };
            let t = &Table {
                entries,
                label: "[[waivers]]".to_string(),
                header: Some(item.span().start),
            };
            match self.waiver(t) {
                Some(w) => {
                    if let Some(first) = out.iter().find(|o| o.check == w.check) {
                        let at = t.get("check").map(|v| v.span().start);
                        self.error(
                            at,
                            format!(
                                "check `{}` is waived twice (first on line {})",
                                w.check, first.line
                            ),
                            "keep one waiver per check: renew it by moving its expiry",
                        );
                        ok = false;
                    } else {
                        out.push(w);
                    }
                }
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    fn waiver(&mut self, t: &Table<'_, '_>) -> Option<Waiver> {
        self.unknown_keys(t, &["check", "justification", "expires", "approved_by"]);
        let check = self
            .string(t, "check", "\"docs.steps\" or \"plugin:<check id>\"")
            .and_then(|(text, span)| self.waiver_target(&text, span));
        let justification = if t.get("justification").is_none() {
            self.missing(
                t,
                "justification",
                "add `justification = \"…\"`: why the failure is acceptable and what will fix it; the report shows it to reviewers",
            );
            None
        } else {
            self.string(
                t,
                "justification",
                "\"why the failure is acceptable, and what will fix it\"",
            )
            .map(|(s, _)| s)
        };
        let expires = self.date(t, "expires");
        let approved_by = match t.get("approved_by") {
            None => Some(None),
            Some(_) => self
                .string(t, "approved_by", "\"Ecosystem team, J. Doe\"")
                .map(|(s, _)| Some(s)),
        };
        let (line, _) = self.src.position(t.header.unwrap_or(0));
        Some(Waiver {
            check: check?,
            justification: justification?,
            expires: expires?,
            approved_by: approved_by?,
            line,
        })
    }

    fn waiver_target(&mut self, text: &str, span: Range<usize>) -> Option<WaiverTarget> {
        if let Some(id) = text.strip_prefix("plugin:") {
            let valid = !id.is_empty()
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
            if !valid {
                self.error(
                    Some(span.start),
                    format!("{id:?} is not a plugin check id"),
                    "write the id the plugin declares, e.g. `check = \"plugin:service.health\"` (letters, digits, `.`, `-` and `_`)",
                );
                return None;
            }
            return Some(WaiverTarget::Plugin(id.to_string()));
        }
        if let Some(c) = BuiltinCheck::from_id(text) {
            return Some(WaiverTarget::Builtin(c));
        }
        let ids: Vec<&str> = BuiltinCheck::ALL.iter().map(|c| c.id()).collect();
        let hint = match closest(text, &ids) {
            Some(s) => {
                format!("did you mean `{s}`? (a plugin check is written \"plugin:<check id>\")")
            }
            None => format!(
                "waive a built-in check by its id ({}), or a plugin check as \"plugin:<check id>\"",
                ids.join(", ")
            ),
        };
        self.error(
            Some(span.start),
            format!("the waiver names {text:?}, which is not a built-in check"),
            hint,
        );
        None
    }

    fn date(&mut self, t: &Table<'_, '_>, key: &str) -> Option<NaiveDate> {
        let Some(v) = t.get(key) else {
            self.missing(
                t,
                key,
                format!("add `{key} = 2026-12-31`: the last day it applies"),
            );
            return None;
        };
        match certify_diag::toml_date(v.get_ref()) {
            Some(d) => Some(d),
            None => {
                self.error(
                    Some(v.span().start),
                    format!("`{key}` is not a date"),
                    format!("write a calendar date without a time, e.g. `{key} = 2026-12-31`: the last day it applies"),
                );
                None
            }
        }
    }

    /// Reports a key that is missing, unless an unknown key was already taken for it.
    fn missing(&mut self, t: &Table<'_, '_>, key: &str, hint: impl Into<String>) {
        let typo = self
            .suggested
            .iter()
            .any(|(label, k)| *label == t.label && *k == key);
        if !typo {
            self.error(t.header, format!("{} has no `{key}`", t.owner()), hint);
        }
    }

    fn unknown_keys(&mut self, t: &Table<'_, '_>, allowed: &[&'static str]) {
        let mut keys: Vec<_> = t.entries.iter().map(|(k, _)| k).collect();
        keys.sort_by_key(|k| k.span().start);
        for k in keys {
            let key = k.get_ref().as_ref();
            if allowed.contains(&key) {
                continue;
            }
            let hint = match closest(key, allowed) {
                Some(s) => {
                    self.suggested.push((t.label.clone(), s));
                    format!("did you mean `{s}`?")
                }
                None => format!("the keys here are: {}", allowed.join(", ")),
            };
            self.error(
                Some(k.span().start),
                format!("unknown key `{key}` in {}", t.label),
                hint,
            );
        }
    }

    /// A required table; reports it missing or of the wrong type.
    fn table<'t, 'i>(
        &mut self,
        root: &Table<'t, 'i>,
        key: &str,
        holds: &str,
    ) -> Option<Table<'t, 'i>> {
        if root.get(key).is_none() {
            let typo = self
                .suggested
                .iter()
                .any(|(label, k)| *label == root.label && *k == key);
            if !typo {
                self.error(
                    None,
                    format!("the suite has no [{key}] table"),
                    format!(
                        "add a [{key}] table with {holds} (see certification-suites/README.md)"
                    ),
                );
            }
            return None;
        }
        self.optional_table(root, key)
    }

    fn optional_table<'t, 'i>(&mut self, root: &Table<'t, 'i>, key: &str) -> Option<Table<'t, 'i>> {
        let v = root.get(key)?;
        match v.get_ref().as_table() {
            Some(entries) => Some(Table {
                entries,
                label: format!("[{key}]"),
                header: Some(v.span().start),
            }),
            None => {
                self.error(
                    Some(v.span().start),
                    format!("`{key}` must be a table"),
                    format!("write it as a [{key}] section"),
                );
                None
            }
        }
    }

    fn string(
        &mut self,
        t: &Table<'_, '_>,
        key: &str,
        example: &str,
    ) -> Option<(String, Range<usize>)> {
        let Some(v) = t.get(key) else {
            self.missing(t, key, format!("add `{key} = {example}`"));
            return None;
        };
        match v.get_ref().as_str() {
            Some(s) if !s.trim().is_empty() => Some((s.trim().to_string(), v.span())),
            Some(_) => {
                self.error(
                    Some(v.span().start),
                    format!("`{key}` in {} is empty", t.label),
                    format!("write e.g. `{key} = {example}`"),
                );
                None
            }
            None => {
                self.error(
                    Some(v.span().start),
                    format!(
                        "`{key}` in {} must be a string, not {}",
                        t.label,
                        v.get_ref().type_str()
                    ),
                    format!("write e.g. `{key} = {example}`"),
                );
                None
            }
        }
    }

    fn uint(
        &mut self,
        t: &Table<'_, '_>,
        key: &str,
        range: std::ops::RangeInclusive<u32>,
        example: &str,
        why: &str,
    ) -> Option<u32> {
        let Some(v) = t.get(key) else {
            self.missing(t, key, format!("add `{key} = {example}`"));
            return None;
        };
        let n = integer(v).and_then(|i| u32::try_from(i).ok());
        match n {
            Some(n) if range.contains(&n) => Some(n),
            _ => {
                let bounds = if *range.end() == u32::MAX {
                    format!("at least {}", range.start())
                } else {
                    format!("from {} to {}", range.start(), range.end())
                };
                let mut hint = format!("write e.g. `{key} = {example}`");
                if !why.is_empty() {
                    hint = format!("{hint}; {why}");
                }
                self.error(
                    Some(v.span().start),
                    format!("`{key}` in {} must be a whole number {bounds}", t.label),
                    hint,
                );
                None
            }
        }
    }

    /// A boolean; `default` makes it optional.
    fn boolean(&mut self, t: &Table<'_, '_>, key: &str, default: Option<bool>) -> Option<bool> {
        let Some(v) = t.get(key) else {
            if default.is_none() {
                self.missing(t, key, format!("add `{key} = true` or `{key} = false`"));
            }
            return default;
        };
        let b = v.get_ref().as_bool();
        if b.is_none() {
            self.error(
                Some(v.span().start),
                format!("`{key}` in {} must be true or false", t.label),
                format!("write `{key} = true` or `{key} = false` (no quotes)"),
            );
        }
        b
    }
}

fn integer(v: &Value<'_>) -> Option<i64> {
    let i = v.get_ref().as_integer()?;
    i64::from_str_radix(i.as_str(), i.radix()).ok()
}

/// The entries of `[checks]` with their dotted ids, key spans (of the last key part)
/// and values, descending into nested tables.
fn flatten<'t, 'i>(
    t: &'t DeTable<'i>,
    prefix: &str,
    out: &mut Vec<(String, Range<usize>, &'t Value<'i>)>,
) {
    for (k, v) in t.iter() {
        let id = if prefix.is_empty() {
            k.get_ref().to_string()
        } else {
            format!("{prefix}.{}", k.get_ref())
        };
        match v.get_ref().as_table() {
            Some(inner) => flatten(inner, &id, out),
            None => out.push((id, k.span(), v)),
        }
    }
}

/// The allowed word nearest to a typo, when it is near enough to be what was meant.
fn closest<'a>(typo: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (edit_distance(typo, c), *c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Levenshtein distance, in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// `15000` as `15,000`.
fn thousands(n: u32) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_near_misses_only() {
        assert_eq!(closest("titel", TOP_LEVEL_KEYS), Some("title"));
        assert_eq!(
            closest(
                "teardown.verifed",
                &["teardown.verified", "teardown.complete"]
            ),
            Some("teardown.verified")
        );
        assert_eq!(closest("colour", TOP_LEVEL_KEYS), None);
    }

    #[test]
    fn formats_dollars() {
        assert_eq!(thousands(2_000), "2,000");
        assert_eq!(thousands(15_000), "15,000");
        assert_eq!(thousands(500), "500");
    }
}
