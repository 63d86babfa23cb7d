//! Structure and content checks: what the program requires of a public and an internal
//! article, each check a result with file:line, a stable id, a message and a hint.
//!
//! These run without a deployment (`certify docs check`). Bundle-dependent checks (names
//! of the blueprint and packages, the Member's support contacts, where links may point)
//! take their facts from [`BundleFacts`]; a certification suite tunes the rest through
//! [`DocRules`].
//!
//! Check ids (stable; suites and reports refer to them):
//!
//! | Id | Applies to | Passes when |
//! |---|---|---|
//! | `kb.front-matter` | all | `{{{ … }}}` is there and is a JSON object body |
//! | `kb.front-matter.title` / `.date` / `.author` | all | present, non-empty; the date parses |
//! | `kb.annotation` | all | every `<!-- certify: … -->` is valid and applies to a block |
//! | `kb.placeholder` | all | every `{{…}}` in a step has a known shape |
//! | `kb.link` / `kb.image` / `kb.anchor` | all | relative targets exist inside the bundle root; `#anchors` exist; a target outside the bundle is a Knowledge Base path [`crate::layout`] knows (skipped with the reason when it does not know it) |
//! | `kb.bundle.names` | with bundle facts | each blueprint/package name the article mentions is in the bundle |
//! | `kb.public.step-by-step` | public | an ordered list of at least `min_ordered_steps` steps |
//! | `kb.public.section.<name>` | public | a heading for each required section (lenient match) |
//! | `kb.public.no-internal-content` | public | no keys, tokens, passwords, internal contacts |
//! | `kb.steps.found` | public (rule) | at least one step the harness can execute |
//! | `kb.internal.blueprint-design` | internal | names the blueprint (and each package) |
//! | `kb.internal.production` | internal | a section on running it in production |
//! | `kb.internal.support-email` / `.support-phone` | internal | the Member's contacts, well-formed |
//! | `kb.internal.support-24x7` / `.escalation` | internal | 24x7 support, how to escalate |

use std::collections::HashSet;
use std::path::{Component, Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

pub use certify_program::{DocRules, DocSection};

use crate::article::{Article, Audience};
use crate::placeholder;
use crate::steps::StepKind;

/// What the checks know about the candidate's bundle.
#[derive(Debug, Clone, Default)]
pub struct BundleFacts {
    /// Relative links and images must resolve inside this directory. When `None`, the
    /// article's own directory.
    pub root: Option<PathBuf>,
    /// The blueprint's name as the bundle defines it.
    pub blueprint_name: Option<String>,
    /// The packages' names as the bundle defines them.
    pub package_names: Vec<String>,
    /// The Member's 24x7 support email.
    pub support_email: Option<String>,
    /// The Member's 24x7 support telephone.
    pub support_phone: Option<String>,
    /// Strings that must not appear in a public article (escalation contacts, internal
    /// URLs, test-account ids).
    pub internal_only: Vec<String>,
}

/// What a heading of the section looks like (lenient: partners word them freely).
fn section_pattern(section: DocSection) -> &'static Regex {
    static P: LazyLock<[Regex; 6]> = LazyLock::new(|| {
        [
            r"(?i)\b(description|overview|about this)\b",
            r"(?i)\baudience\b",
            r"(?i)\b(pre-?requisites?|requirements|before you (begin|start))\b",
            r"(?i)\b(deploy\w*|steps?|install\w*|getting started|set ?up|how to|provision\w*)\b",
            r"(?i)\b(pricing|prices?|costs?)\b",
            r"(?i)\b(faq|frequently asked|support|contact)\b",
        ]
        .map(|r| Regex::new(r).expect("static regex"))
    });
    &P[section as usize]
}

/// How to add the section when it is missing.
fn section_hint(section: DocSection) -> &'static str {
    match section {
        DocSection::Description => {
            "add a `### Description` section: what the product is and what the blueprint sets up"
        }
        DocSection::Audience => "add a `### Audience` section: who the article is for",
        DocSection::Prerequisites => {
            "add a `### Prerequisite` section: what the reader needs before starting"
        }
        DocSection::DeploymentSteps => {
            "add a `### Deploying <product>` section with numbered steps"
        }
        DocSection::Pricing => "add a `### Pricing` section: infrastructure and licence costs",
        DocSection::FaqSupport => {
            "add a `### Frequently Asked Questions` section with `#### Who should I contact for support?`"
        }
    }
}

/// Outcome of one check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum CheckStatus {
    /// The article meets the requirement.
    Passed,
    /// It does not.
    Failed,
    /// Not applicable here, with the reason.
    Skipped {
        /// Why.
        reason: String,
    },
}

/// One check on one article: a JUnit testcase.
#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    /// Stable id, e.g. `kb.public.section.pricing`.
    pub id: String,
    /// The file checked.
    pub file: PathBuf,
    /// 1-based line it points at.
    pub line: usize,
    /// Outcome.
    #[serde(flatten)]
    pub status: CheckStatus,
    /// What was found (or what is missing).
    pub message: String,
    /// How to fix a failure.
    pub hint: Option<String>,
    /// What a check that runs once per thing (a package, a link, a name) was about:
    /// with `id`, it names the case in reports whatever line it is on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
}

impl CheckResult {
    /// True unless failed.
    pub fn ok(&self) -> bool {
        self.status != CheckStatus::Failed
    }
}

/// Every check on one article.
#[derive(Debug, Clone, Serialize)]
pub struct ArticleReport {
    /// The article's path.
    pub file: PathBuf,
    /// Its title, if it has one.
    pub title: Option<String>,
    /// Who it is for.
    pub audience: Audience,
    /// The results, in order of line within each check group.
    pub checks: Vec<CheckResult>,
}

impl ArticleReport {
    /// True when no check failed.
    pub fn passed(&self) -> bool {
        self.checks.iter().all(CheckResult::ok)
    }

    /// The failed checks.
    pub fn failures(&self) -> impl Iterator<Item = &CheckResult> {
        self.checks.iter().filter(|c| !c.ok())
    }
}

struct Out<'a> {
    a: &'a Article,
    checks: Vec<CheckResult>,
}

impl Out<'_> {
    fn push(&mut self, id: &str, line: usize, ok: bool, message: impl Into<String>, hint: &str) {
        self.checks.push(CheckResult {
            id: id.to_string(),
            file: self.a.path.clone(),
            line,
            status: if ok {
                CheckStatus::Passed
            } else {
                CheckStatus::Failed
            },
            message: message.into(),
            hint: (!ok && !hint.is_empty()).then(|| hint.to_string()),
            subject: None,
        });
    }

    /// Like `push`, for a check that runs once per `subject`.
    fn push_about(
        &mut self,
        id: &str,
        subject: &str,
        line: usize,
        ok: bool,
        message: impl Into<String>,
        hint: &str,
    ) {
        self.push(id, line, ok, message, hint);
        if let Some(last) = self.checks.last_mut() {
            last.subject = Some(subject.to_string());
        }
    }
}

/// Runs every structure and content check on `article` as the given audience (use
/// [`Article::audience`] to infer it).
pub fn check_article(
    article: &Article,
    audience: Audience,
    bundle: Option<&BundleFacts>,
    rules: &DocRules,
) -> ArticleReport {
    let mut o = Out {
        a: article,
        checks: Vec::new(),
    };
    front_matter(&mut o);
    for (check, p) in &article.problems {
        if *check != "kb.front-matter" {
            o.push(check, p.line, false, p.message.clone(), &p.hint);
        }
    }
    placeholders(&mut o);
    match audience {
        Audience::Public => public(&mut o, bundle, rules),
        Audience::Internal => internal(&mut o, bundle, rules),
    }
    if let Some(b) = bundle {
        bundle_names(&mut o, b);
    }
    if rules.check_links {
        links(&mut o, bundle);
    }
    ArticleReport {
        file: article.path.clone(),
        title: article.front.title.clone(),
        audience,
        checks: o.checks,
    }
}

fn front_matter(o: &mut Out<'_>) {
    let a = o.a;
    let line = a.front_line;
    let problems: Vec<_> = a
        .problems
        .iter()
        .filter(|(check, _)| *check == "kb.front-matter")
        .map(|(_, p)| p)
        .collect();
    if problems.is_empty() {
        o.push("kb.front-matter", line, true, "front matter parses", "");
    }
    for p in &problems {
        o.push("kb.front-matter", p.line, false, p.message.clone(), &p.hint);
    }
    let f = &a.front;
    let present = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.trim().is_empty());
    o.push(
        "kb.front-matter.title",
        line,
        present(&f.title),
        match &f.title {
            Some(t) if !t.trim().is_empty() => format!("title: {t}"),
            _ => "the front matter has no title".into(),
        },
        "add \"title\": \"Getting Started with <Product> - Blueprint\"",
    );
    let (ok, msg) = match (&f.date_raw, &f.date) {
        (_, Some(d)) => (true, format!("date: {d}")),
        (Some(raw), None) if !raw.trim().is_empty() => {
            (false, format!("the date {raw:?} is not a date"))
        }
        _ => (false, "the front matter has no date".into()),
    };
    o.push(
        "kb.front-matter.date",
        line,
        ok,
        msg,
        "add \"date\": \"MM-DD-YYYY\"",
    );
    o.push(
        "kb.front-matter.author",
        line,
        present(&f.author),
        match &f.author {
            Some(t) if !t.trim().is_empty() => format!("author: {t}"),
            _ => "the front matter has no author".into(),
        },
        "add \"author\": \"<name or company>\"",
    );
}

fn placeholders(o: &mut Out<'_>) {
    let mut bad = Vec::new();
    for s in &o.a.steps {
        let main = match &s.kind {
            StepKind::Command { command } => command.clone(),
            _ => s.source(),
        };
        let mut texts = vec![(main, s.text_line)];
        if let Some(e) = &s.expected {
            texts.push((e.text.clone(), e.line));
        }
        for (t, first) in &texts {
            for p in placeholder::find(t) {
                if let Err(why) = known_shape(&p.key) {
                    let line = first + t[..p.range.start].matches('\n').count();
                    bad.push((line, p.key.clone(), format!("{{{{{}}}}}: {why}", p.key)));
                }
            }
        }
    }
    for (line, key, msg) in bad {
        o.push_about(
            "kb.placeholder",
            &key,
            line,
            false,
            msg,
            "use {{server.ALIAS.name|internal_ip|public_ip}}, {{account.alias|datacenter}}, {{param.NAME}}, {{deploy.NAME}}, {{secret.NAME}} or {{var.NAME}}",
        );
    }
}

fn known_shape(key: &str) -> Result<(), String> {
    let parts: Vec<&str> = key.split('.').collect();
    match parts[0] {
        "server" => match parts.as_slice() {
            [_, _, "name" | "internal_ip" | "public_ip"] => Ok(()),
            _ => {
                Err("server placeholders are server.ALIAS.name, .internal_ip or .public_ip".into())
            }
        },
        "account" => match parts.as_slice() {
            [_, "alias" | "datacenter"] => Ok(()),
            _ => Err("account placeholders are account.alias and account.datacenter".into()),
        },
        _ if parts.len() >= 2 => Ok(()),
        _ => Err("missing the name after the namespace".into()),
    }
}

static SECRET_ASSIGN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)["']?[A-Za-z_-]*(password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key)[A-Za-z_-]*["']?\s*[:=]\s*["']?([^\s"'<>,;]{6,})"#)
        .expect("static regex")
});
static SECRET_SHAPES: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"-----BEGIN [A-Z ]*PRIVATE KEY-----|\bAKIA[0-9A-Z]{16}\b|(?i:\bbearer\s+[A-Za-z0-9._~+/=-]{20,})|\bgh[pousr]_[A-Za-z0-9]{30,}\b|\bxox[baprs]-[A-Za-z0-9-]{10,}")
        .expect("static regex")
});
static INTERNAL_MARK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(internal (use )?only|for (internal|support staff) use|support staff only|not for (publication|customers|distribution))\b")
        .expect("static regex")
});

fn looks_like_placeholder(v: &str) -> bool {
    let l = v.to_ascii_lowercase();
    l.contains("{{")
        || l.contains('<')
        || l.contains("your")
        || l.contains("xxx")
        || l.contains("example")
        || l.contains("changeme")
        || l.starts_with('$')
        || l.chars().all(|c| "#*.x_-".contains(c))
        || l.chars().collect::<HashSet<_>>().len() <= 2
}

fn public(o: &mut Out<'_>, bundle: Option<&BundleFacts>, rules: &DocRules) {
    let a = o.a;
    let first_line = a.headings.first().map_or(a.front_line, |h| h.line);
    // Step by step.
    let best = a
        .ordered_lists
        .iter()
        .filter(|l| l.depth == 0)
        .max_by_key(|l| l.items.len());
    match best {
        Some(l) if l.items.len() >= rules.min_ordered_steps as usize => o.push(
            "kb.public.step-by-step",
            l.line,
            true,
            format!(
                "{} numbered steps{}",
                l.items.len(),
                l.section
                    .map(|s| format!(" under \"{}\"", a.headings[s].text))
                    .unwrap_or_default()
            ),
            "",
        ),
        other => o.push(
            "kb.public.step-by-step",
            other.map_or(first_line, |l| l.line),
            false,
            format!(
                "no ordered list of at least {} steps (longest has {})",
                rules.min_ordered_steps,
                other.map_or(0, |l| l.items.len())
            ),
            "write the deployment as a numbered list (1. Locate the blueprint, 2. Configure, 3. Deploy, …)",
        ),
    }
    // Template sections, in template order whatever order the suite lists them in.
    let required = DocSection::ALL
        .into_iter()
        .filter(|s| rules.public_sections.contains(s));
    for s in required {
        let id = format!("kb.public.section.{}", s.as_str());
        match a
            .headings
            .iter()
            .find(|h| section_pattern(s).is_match(&h.text))
        {
            Some(h) => o.push(&id, h.line, true, format!("section \"{}\"", h.text), ""),
            None => o.push(
                &id,
                first_line,
                false,
                format!("no {} section (no heading matches)", s.as_str()),
                section_hint(s),
            ),
        }
    }
    // Internal-only content.
    let text = &a.visible;
    let mut hits: Vec<(usize, String)> = Vec::new();
    for c in SECRET_ASSIGN.captures_iter(text) {
        if !looks_like_placeholder(&c[2]) {
            let m = c.get(0).expect("group 0");
            hits.push((
                a.line(m.start()),
                format!("a {} with a literal value", c[1].to_ascii_lowercase()),
            ));
        }
    }
    for m in SECRET_SHAPES.find_iter(text) {
        hits.push((
            a.line(m.start()),
            "a credential (private key, access key or bearer token)".into(),
        ));
    }
    for m in INTERNAL_MARK.find_iter(text) {
        hits.push((
            a.line(m.start()),
            format!("internal-only content (\"{}\")", m.as_str()),
        ));
    }
    if let Some(b) = bundle {
        let lower = text.to_lowercase();
        for s in b.internal_only.iter().filter(|s| !s.trim().is_empty()) {
            if let Some(p) = lower.find(&s.to_lowercase()) {
                hits.push((
                    a.line(p),
                    format!("the internal-only contact or value \"{s}\""),
                ));
            }
        }
    }
    hits.sort();
    hits.dedup_by_key(|h| h.0);
    if hits.is_empty() {
        o.push(
            "kb.public.no-internal-content",
            a.front_line,
            true,
            "no keys, tokens, passwords or internal contacts",
            "",
        );
    }
    for (line, what) in hits {
        o.push(
            "kb.public.no-internal-content",
            line,
            false,
            format!("public article contains {what}"),
            "move it to the internal article, or use a placeholder such as {{secret.NAME}} or <your-password>",
        );
    }
    if rules.require_executable_steps {
        steps_found(o);
    }
}

fn steps_found(o: &mut Out<'_>) {
    let a = o.a;
    let visible: Vec<_> = a.steps.iter().filter(|s| s.visible()).collect();
    let runnable = visible
        .iter()
        .filter(|s| s.skip.is_none() && !matches!(s.kind, StepKind::NotExecutable { .. }))
        .count();
    let not_exec = visible
        .iter()
        .filter(|s| matches!(s.kind, StepKind::NotExecutable { .. }))
        .count();
    let line = visible.first().map_or(a.front_line, |s| s.line);
    o.push(
        "kb.steps.found",
        line,
        runnable > 0,
        format!(
            "{runnable} of {} steps can be executed ({} skipped with a reason, {not_exec} not executable)",
            visible.len(),
            visible.iter().filter(|s| s.skip.is_some()).count()
        ),
        "write commands as ```bash/```console/```http blocks, or the Blueprint Library steps naming the blueprint",
    );
}

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b[A-Z0-9._%+-]+@[A-Z0-9-]+(?:\.[A-Z0-9-]+)*\.[A-Z]{2,}\b")
        .expect("static regex")
});
static PHONE_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?im)^.*\b(phone|telephone|tel|call|hotline)\b.*$").expect("static regex")
});
static PHONE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\+?\(?\d[\d\s().\-]{4,}\d").expect("static regex"));
static H24: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b24\s*[x×/]\s*7\b|24 hours a day|around the clock").expect("static regex")
});
static SUPPORT_HEADING: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\b(support|contacts?)\b").expect("static regex"));
static ESCALATE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\bescalat").expect("static regex"));
static PRODUCTION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(production|operations?|operating|monitoring|maintenance|troubleshoot\w*|runbook)\b")
        .expect("static regex")
});
static DESIGN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(design|architecture|blueprint|packages?)\b").expect("static regex")
});

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

fn well_formed_phone(s: &str) -> bool {
    let d = digits(s).len();
    (10..=15).contains(&d) || (s.trim_start().starts_with('+') && (8..=15).contains(&d))
}

fn internal(o: &mut Out<'_>, bundle: Option<&BundleFacts>, rules: &DocRules) {
    let a = o.a;
    let first_line = a.headings.first().map_or(a.front_line, |h| h.line);
    // Missing contacts point at the support section when there is one.
    let support_line = a
        .headings
        .iter()
        .find(|h| SUPPORT_HEADING.is_match(&h.text))
        .map_or(first_line, |h| h.line);
    internal_design(o, bundle, first_line);
    match a.headings.iter().find(|h| PRODUCTION.is_match(&h.text)) {
        Some(h) => o.push("kb.internal.production", h.line, true, format!("section \"{}\"", h.text), ""),
        None => o.push(
            "kb.internal.production",
            first_line,
            false,
            "no section on how the product runs in production",
            "add a `### Running in production` section: services, ports, logs, health checks, backups",
        ),
    }
    internal_support_email(o, bundle, support_line);
    internal_support_phone(o, bundle, support_line);
    if rules.require_escalation {
        internal_escalation(o, support_line);
    }
    if rules.require_executable_steps_internal {
        steps_found(o);
    }
}

/// Checks that the internal article names the blueprint and each of its packages.
fn internal_design(o: &mut Out<'_>, bundle: Option<&BundleFacts>, first_line: usize) {
    let a = o.a;
    let lower = a.visible.to_lowercase();
    let named = |name: &str| lower.find(&name.to_lowercase()).map(|p| a.line(p));
    match bundle.and_then(|b| b.blueprint_name.as_deref()) {
        Some(bp) => match named(bp) {
            Some(line) => o.push_about(
                "kb.internal.blueprint-design",
                "blueprint",
                line,
                true,
                format!("names the blueprint \"{bp}\""),
                "",
            ),
            None => o.push_about(
                "kb.internal.blueprint-design",
                "blueprint",
                first_line,
                false,
                format!("does not name the blueprint \"{bp}\""),
                "describe how the blueprint is designed, naming it exactly as published",
            ),
        },
        None => match a.headings.iter().find(|h| DESIGN.is_match(&h.text)) {
            Some(h) => o.push(
                "kb.internal.blueprint-design",
                h.line,
                true,
                format!("section \"{}\"", h.text),
                "",
            ),
            None => o.push(
                "kb.internal.blueprint-design",
                first_line,
                false,
                "no section on how the blueprint is designed",
                "add a `### Blueprint design` section naming the blueprint and its packages",
            ),
        },
    }
    for p in bundle
        .map(|b| b.package_names.as_slice())
        .unwrap_or_default()
    {
        match named(p) {
            Some(line) => o.push_about(
                "kb.internal.blueprint-design",
                &format!("package {p}"),
                line,
                true,
                format!("names the package \"{p}\""),
                "",
            ),
            None => o.push_about(
                "kb.internal.blueprint-design",
                &format!("package {p}"),
                first_line,
                false,
                format!("does not name the package \"{p}\""),
                "list every package the blueprint runs, by its published name",
            ),
        }
    }
}

/// Checks that the internal article gives the support email, the bundle's when it has one.
fn internal_support_email(o: &mut Out<'_>, bundle: Option<&BundleFacts>, support_line: usize) {
    let a = o.a;
    let emails: Vec<(usize, &str)> = EMAIL
        .find_iter(&a.visible)
        .map(|m| (a.line(m.start()), m.as_str()))
        .collect();
    let want_email = bundle.and_then(|b| b.support_email.as_deref());
    let found = match want_email {
        Some(w) => emails.iter().find(|(_, e)| e.eq_ignore_ascii_case(w)),
        None => emails.first(),
    };
    match (found, want_email) {
        (Some((line, e)), _) => o.push(
            "kb.internal.support-email",
            *line,
            true,
            format!("support email {e}"),
            "",
        ),
        (None, Some(w)) => o.push(
            "kb.internal.support-email",
            support_line,
            false,
            format!("the Member's 24x7 support email {w} is not given"),
            "give the Member's 24x7 support email address",
        ),
        (None, None) => o.push(
            "kb.internal.support-email",
            support_line,
            false,
            "no well-formed support email address",
            "give the Member's 24x7 support email address, e.g. support@example.com",
        ),
    }
}

/// Checks that the internal article gives a well-formed support telephone, the bundle's
/// when it has one.
fn internal_support_phone(o: &mut Out<'_>, bundle: Option<&BundleFacts>, support_line: usize) {
    let want_phone = bundle.and_then(|b| b.support_phone.as_deref());
    let (phone_ok, malformed) = support_phones(o.a, want_phone);
    match (phone_ok, malformed, want_phone) {
        (Some((line, n)), _, _) => o.push(
            "kb.internal.support-phone",
            line,
            true,
            format!("support telephone {n}"),
            "",
        ),
        (None, Some((line, n)), _) => o.push(
            "kb.internal.support-phone",
            line,
            false,
            format!("\"{n}\" is not a well-formed telephone number"),
            "write the number in full with its country code, e.g. +1 800 555 0100",
        ),
        (None, None, Some(w)) => o.push(
            "kb.internal.support-phone",
            support_line,
            false,
            format!("the Member's 24x7 support telephone {w} is not given"),
            "give the Member's 24x7 support telephone on a line that says \"Phone:\"",
        ),
        (None, None, None) => o.push(
            "kb.internal.support-phone",
            support_line,
            false,
            "no support telephone number",
            "give the Member's 24x7 support telephone on a line that says \"Phone:\"",
        ),
    }
}

/// A telephone number found in the article, with its line.
type FoundPhone = Option<(usize, String)>;

/// The first usable support telephone (matching `want_phone` if given) and the first
/// malformed one, from numbers on lines that say phone/tel/call.
fn support_phones(a: &Article, want_phone: Option<&str>) -> (FoundPhone, FoundPhone) {
    let mut phone_ok: FoundPhone = None;
    let mut malformed: FoundPhone = None;
    for l in PHONE_LINE.find_iter(&a.visible) {
        for p in PHONE.find_iter(l.as_str()) {
            let num = p.as_str().trim();
            let line = a.line(l.start() + p.start());
            // Dates and versions are not telephone numbers; neither are email digits.
            if digits(num).len() < 5 {
                continue;
            }
            if !well_formed_phone(num) {
                malformed.get_or_insert((line, num.to_string()));
                continue;
            }
            let matches_bundle = want_phone.is_none_or(|w| {
                let (dw, dn) = (digits(w), digits(num));
                dn.ends_with(&dw) || dw.ends_with(&dn)
            });
            if matches_bundle && phone_ok.is_none() {
                phone_ok = Some((line, num.to_string()));
            }
        }
    }
    (phone_ok, malformed)
}

/// Checks that the internal article says support is 24x7 and how to escalate.
fn internal_escalation(o: &mut Out<'_>, support_line: usize) {
    said(
        o,
        "kb.internal.support-24x7",
        &H24,
        "24x7 support",
        support_line,
        "does not say support is available 24x7",
        "state that the email and telephone support are staffed 24x7",
    );
    said(
        o,
        "kb.internal.escalation",
        &ESCALATE,
        "says how to escalate",
        support_line,
        "does not say how to escalate",
        "add an escalation path: who to call when the first line does not resolve an incident",
    );
}

/// Passes `id` where the article first matches `re`; fails it at the given line otherwise.
fn said(
    o: &mut Out<'_>,
    id: &str,
    re: &Regex,
    found: &str,
    missing_line: usize,
    missing: &str,
    hint: &str,
) {
    let a = o.a;
    match re.find(&a.visible) {
        Some(m) => o.push(id, a.line(m.start()), true, found, ""),
        None => o.push(id, missing_line, false, missing, hint),
    }
}

static MENTION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?i)(?:'([^'\n]{2,100})'|‘([^’\n]{2,100})’|“([^”\n]{2,100})”|"([^"\n]{2,100})"|\*\*([^*\n]{2,100})\*\*)(\s+(?:script\s+|software\s+)?(?:blueprint|package)s?\b)?"#,
    )
    .expect("static regex")
});
static NAMED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(blueprint|package)s?\s+(named|called)\s*$").expect("static regex")
});
static CONVENTION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^(install|deploy|configure|uninstall|update|add|create|set ?up)\b.{2,80}\bon\s+(linux|windows|ubuntu|centos|rhel|red hat|debian|suse)\b")
        .expect("static regex")
});

fn bundle_names(o: &mut Out<'_>, b: &BundleFacts) {
    let a = o.a;
    let known: Vec<String> = b
        .blueprint_name
        .iter()
        .chain(&b.package_names)
        .map(|n| norm(n))
        .collect();
    if known.is_empty() {
        return;
    }
    let mut mentions: Vec<(usize, String, bool)> = Vec::new();
    for s in &a.steps {
        if let StepKind::FindBlueprint { name, search } = &s.kind {
            mentions.push((s.line, name.clone(), *search));
        }
    }
    for c in MENTION.captures_iter(&a.visible) {
        let m = c.get(0).expect("group 0");
        let name = (1..=5)
            .find_map(|g| c.get(g))
            .map_or("", |g| g.as_str())
            .trim();
        let before = &a.visible[m.start().saturating_sub(40)..m.start()];
        let before = before.get(..).unwrap_or("");
        if c.get(6).is_some() || CONVENTION.is_match(name) || NAMED.is_match(before) {
            if name.to_ascii_lowercase().contains("library") || name.contains('>') {
                continue;
            }
            mentions.push((a.line(m.start()), name.to_string(), false));
        }
    }
    // One check per name (and kind of mention), at its first mention: the outcome
    // depends on the name alone, and a name's check keeps its identity however often
    // the article repeats it.
    mentions.sort_by_key(|(line, _, _)| *line);
    let mut names: Vec<(usize, String, bool, Vec<usize>)> = Vec::new();
    for (line, name, search) in mentions {
        let n = norm(&name);
        match names
            .iter_mut()
            .find(|(_, other, s, _)| *s == search && norm(other) == n)
        {
            Some((first, _, _, also)) => {
                if *first != line && !also.contains(&line) {
                    also.push(line);
                }
            }
            None => names.push((line, name, search, Vec::new())),
        }
    }
    for (line, name, search, also) in names {
        let n = norm(&name);
        let ok = if search {
            known.iter().any(|k| k.contains(&n))
        } else {
            known.contains(&n)
        };
        let also = match also.as_slice() {
            [] => String::new(),
            [one] => format!(" (also on line {one})"),
            more => format!(
                " (also on lines {})",
                more.iter()
                    .map(usize::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        let subject = if search {
            format!("search {name}")
        } else {
            name.clone()
        };
        o.push_about(
            "kb.bundle.names",
            &subject,
            line,
            ok,
            if ok {
                format!("\"{name}\" is in the bundle{also}")
            } else if search {
                format!("no blueprint or package in the bundle matches the search \"{name}\"{also}")
            } else {
                format!("\"{name}\" is not a blueprint or package of the bundle{also}")
            },
            "use the blueprint and package names exactly as the bundle defines them",
        );
    }
}

fn norm(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

fn links(o: &mut Out<'_>, bundle: Option<&BundleFacts>) {
    let a = o.a;
    let dir = a.path.parent().map(Path::to_path_buf).unwrap_or_default();
    let root = bundle
        .and_then(|b| b.root.clone())
        .unwrap_or_else(|| dir.clone());
    let root = lexical(&root);
    let own: HashSet<String> = a.anchors().collect();
    for l in &a.links {
        let id = if l.image { "kb.image" } else { "kb.link" };
        let d = l.dest.trim();
        if d.is_empty() {
            o.push_about(
                id,
                "empty",
                l.line,
                false,
                "empty link target",
                "give the link a target",
            );
            continue;
        }
        let external = d.starts_with("//")
            || d.split_once(':').is_some_and(|(s, _)| {
                !s.is_empty()
                    && s.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
            });
        if external || !placeholder::find(d).is_empty() {
            continue;
        }
        let (path_part, frag) = match d.split_once('#') {
            Some((p, f)) => (p, Some(f)),
            None => (d, None),
        };
        let path_part = path_part.split('?').next().unwrap_or("");
        if path_part.is_empty() {
            let f = frag.unwrap_or("");
            let ok = own.contains(f) || own.contains(&f.to_lowercase());
            o.push_about(
                "kb.anchor",
                f,
                l.line,
                ok,
                if ok {
                    format!("#{f} exists")
                } else {
                    format!("no heading or anchor \"{f}\" in this article")
                },
                "link to an existing heading's anchor (lowercase, spaces as -)",
            );
            continue;
        }
        let decoded = path_part.replace("%20", " ");
        let target = if let Some(abs) = decoded.strip_prefix('/') {
            lexical(&root.join(abs))
        } else {
            lexical(&dir.join(&decoded))
        };
        let kind = if l.image { "image" } else { "link" };
        if !target.starts_with(&root) {
            // Real articles link to the rest of the Knowledge Base by relative
            // path. Such a link is checked against the KB's layout, never
            // against files outside the bundle (which are not the candidate's).
            outside(o, id, l.line, kind, d, &dir, &decoded);
            continue;
        }
        if !target.exists() && decoded.trim_start_matches("./").starts_with("../") {
            // Not in the bundle, and meant relative to where the article is
            // published: a link to the rest of the Knowledge Base.
            outside(o, id, l.line, kind, d, &dir, &decoded);
            continue;
        }
        if !target.exists() {
            o.push_about(
                id,
                d,
                l.line,
                false,
                format!("{kind} {d} does not exist"),
                "add the file to the bundle or fix the path (relative to the article)",
            );
            continue;
        }
        o.push_about(id, d, l.line, true, format!("{kind} {d} resolves"), "");
        if let Some(f) = frag.filter(|f| !f.is_empty())
            && target.extension().is_some_and(|e| e == "md")
            && let Ok(other) = Article::read(&target)
        {
            let ok = other.anchors().any(|x| x == f || x == f.to_lowercase());
            o.push_about(
                "kb.anchor",
                d,
                l.line,
                ok,
                if ok {
                    format!("{d} exists")
                } else {
                    format!("no heading or anchor \"{f}\" in {}", target.display())
                },
                "link to an existing heading's anchor (lowercase, spaces as -)",
            );
        }
    }
}

/// A link that leaves the bundle: passed when it is a Knowledge Base path
/// known to exist, else skipped with the reason (the index is a sample of the
/// KB, so an unknown path is unchecked, not missing).
fn outside(o: &mut Out<'_>, id: &str, line: usize, kind: &str, dest: &str, dir: &Path, link: &str) {
    let home = crate::layout::home_of(dir);
    let resolved = crate::layout::resolve(&home, link);
    match resolved {
        Some(path) if crate::layout::is_known(&path) => o.push_about(
            id,
            dest,
            line,
            true,
            format!("{kind} {dest} is the Knowledge Base's {path}"),
            "",
        ),
        other => o.checks.push(CheckResult {
            id: id.to_string(),
            file: o.a.path.clone(),
            line,
            status: CheckStatus::Skipped {
                reason: format!(
                    "{kind} {dest} leaves the bundle{}; the harness's index of the Knowledge Base does not list it, so it is not checked (make sure it exists)",
                    other.map_or_else(
                        || " and the Knowledge Base".to_string(),
                        |p| format!(" for the Knowledge Base's {p}")
                    )
                ),
            },
            message: format!("{kind} {dest} is outside the bundle"),
            hint: None,
            subject: Some(dest.to_string()),
        }),
    }
}

/// Resolves `.` and `..` without touching the filesystem (targets may not exist).
fn lexical(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones() {
        assert!(well_formed_phone("+1 800 555 0100"));
        assert!(well_formed_phone("(800) 555-0100"));
        assert!(well_formed_phone("+44 20 7946 0958"));
        assert!(!well_formed_phone("555-01"));
        assert!(!well_formed_phone("800 555 01"));
    }

    fn link_checks(text: &str, path: &str) -> Vec<(String, CheckStatus, String)> {
        let a = Article::parse(path, text);
        let bundle = BundleFacts {
            root: Some("/bundles/acme".into()),
            ..BundleFacts::default()
        };
        check_article(&a, Audience::Public, Some(&bundle), &DocRules::default())
            .checks
            .into_iter()
            .filter(|c| c.id == "kb.link" || c.id == "kb.image")
            .map(|c| (c.id, c.status, c.message))
            .collect()
    }

    #[test]
    fn links_leaving_the_bundle_are_checked_against_the_kb_layout() {
        let text = "{{{ \"title\": \"T\" }}}\n\
            [a](../../Servers/creating-a-new-enterprise-cloud-server.md)\n\
            [b](../../Servers/no-such-article.md)\n\
            [c](../../../../../../etc/passwd)\n\
            ![d](../../images/logo.png)\n\
            [e](missing.md)\n\
            [f](../Partner%20Integration%20Resources/centurylink-cloud-ecosystem-program-guide.md)\n";
        let checks = link_checks(text, "/bundles/acme/kb/public/guide.md");
        assert_eq!(checks.len(), 6, "{checks:#?}");
        assert_eq!(checks[0].1, CheckStatus::Passed, "{checks:#?}");
        assert!(
            checks[0]
                .2
                .contains("Servers/creating-a-new-enterprise-cloud-server.md")
        );
        for c in &checks[1..4] {
            assert!(matches!(c.1, CheckStatus::Skipped { .. }), "{c:?}");
        }
        // A file that should be in the bundle and is not still fails.
        assert_eq!(checks[4].1, CheckStatus::Failed, "{checks:#?}");
        assert!(checks[4].2.contains("does not exist"));
        // A sibling folder of the partner guides, known to the KB.
        assert_eq!(checks[5].1, CheckStatus::Passed, "{checks:#?}");
    }

    #[test]
    fn secrets_in_public_articles_are_found() {
        let text = "{{{ \"title\": \"T\" }}}\npassword: hunter2hunter\npassword = \"\"\npassword: ##########\nAuthorization: Bearer abcdefghijklmnopqrstuvwxyz012345\napi_key={{secret.KEY}}\n";
        let a = Article::parse("a.md", text);
        let r = check_article(&a, Audience::Public, None, &DocRules::default());
        let lines: Vec<_> = r
            .failures()
            .filter(|c| c.id == "kb.public.no-internal-content")
            .map(|c| c.line)
            .collect();
        assert_eq!(lines, [2, 5]);
    }
}
