//! The report of a run: the suites (bundle, budget, blueprint and teardown,
//! the plugin's criteria, the documentation), the verdict with its reasons,
//! and the files written to the output directory.
//!
//! - [`builtin`]: the built-in checks' cases, each filed under its check.
//! - [`steps`]: the articles' step runs.
//! - [`verdict`]: the suite's decision, from the checks' typed results.
//! - [`certification`]: provenance and the `certification` block.

mod builtin;
mod certification;
mod steps;
mod verdict;

use std::path::Path;
use std::time::Duration;

use certify_program::{BuiltinCheck, BuiltinCheck as B, case as case_id};

use super::RunRecord;
use crate::Error;
use crate::report;
use crate::report::model::{Case, Report, Suite, Verdict};

/// Why a case did not run when the run stopped before it cost anything.
const STOPPED: &str = "the run stopped before anything was reserved or deployed";

/// The warning an `--unsandboxed` run carries in every report.
const UNSANDBOXED: &str = "unsandboxed run: the candidate's package scripts and KB steps ran as the integrator's own user (--unsandboxed)";

/// What was written, for the terminal.
pub struct Written {
    /// Whether the candidate is certified.
    pub certified: bool,
    /// The closing lines for the terminal.
    pub summary: String,
}

/// The report's suites as they are built, with every built-in check's cases filed
/// under the check they are a result of: the decision reads a check's verdict from
/// its cases here, never by looking for case ids in the rendered report.
#[derive(Default)]
struct Cases {
    suites: Vec<Suite>,
    builtins: Vec<(BuiltinCheck, Case)>,
}

impl Cases {
    /// Adds a suite of cases, each with the built-in check it is a result of, if any.
    fn push(
        &mut self,
        name: &str,
        properties: Vec<(String, String)>,
        cases: Vec<(Option<BuiltinCheck>, Case)>,
    ) {
        let mut suite = Suite {
            name: name.to_string(),
            properties,
            cases: Vec::with_capacity(cases.len()),
        };
        for (check, case) in cases {
            if let Some(check) = check {
                self.builtins.push((check, case.clone()));
            }
            suite.cases.push(case);
        }
        self.suites.push(suite);
    }

    /// Adds a suite whose cases are all results of one built-in check (or of none).
    fn push_all(&mut self, check: Option<BuiltinCheck>, suite: Suite) {
        if let Some(check) = check {
            self.builtins
                .extend(suite.cases.iter().map(|c| (check, c.clone())));
        }
        self.suites.push(suite);
    }

    /// The cases filed under a built-in check.
    fn of(&self, check: BuiltinCheck) -> Vec<&Case> {
        self.builtins
            .iter()
            .filter(|(c, _)| *c == check)
            .map(|(_, case)| case)
            .collect()
    }
}

fn case(id: &str, classname: &str, title: &str, verdict: Verdict) -> Case {
    Case::new(id, classname, title, verdict)
}

fn failed(message: impl Into<String>) -> Verdict {
    Verdict::Failed {
        message: message.into(),
    }
}

fn skipped(reason: impl Into<String>) -> Verdict {
    Verdict::Skipped {
        reason: reason.into(),
    }
}

fn error(kind: &str, message: impl Into<String>) -> Verdict {
    Verdict::Error {
        kind: kind.into(),
        message: message.into(),
    }
}

/// Skipped: the run stopped before anything cost, or `why`.
fn not_deployed_or(facts: &RunRecord<'_>, why: &str) -> Verdict {
    match &facts.stopped {
        Some(_) => skipped(STOPPED),
        None => skipped(why),
    }
}

/// Build the report and write `junit.xml`, `report.json`, `summary.html` and the
/// attestation under `out`.
pub fn write(facts: &RunRecord<'_>, out: &Path) -> Result<Written, Error> {
    clear(out);
    let mut cases = Cases::default();
    builtin::bundle(facts, &mut cases);
    no_cost_suites(facts, &mut cases);
    builtin::budget(facts, &mut cases);
    builtin::blueprint(facts, &mut cases);
    builtin::teardown(facts, &mut cases);
    plugin_suites(facts, out, &mut cases)?;
    steps::suites(facts, &mut cases);
    let decided = verdict::decide(facts, &cases);
    let mut suites = cases.suites;
    suites.insert(
        0,
        verdict::verdict_suite(
            facts,
            decided.certified,
            &decided.reasons,
            &decided.decision.warnings,
        ),
    );
    let report = certification::report(facts, &decided, suites);
    write_files(&report, out, facts.signing_key)?;
    Ok(Written {
        certified: decided.certified,
        summary: summary(&report, &decided),
    })
}

/// A report directory holds one run: what an earlier run left there would not be part
/// of this run's attestation.
fn clear(out: &Path) {
    for stale in [
        "evidence",
        certify_review::JUNIT_XML,
        certify_review::REPORT_JSON,
        certify_review::SUMMARY_HTML,
        certify_review::ATTESTATION_JSON,
        certify_review::ENVELOPE_JSON,
    ] {
        let path = out.join(stale);
        let _ = if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
    }
}

/// The plugin's checks, one suite per criterion, with the plugin's provenance.
fn plugin_suites(facts: &RunRecord<'_>, out: &Path, cases: &mut Cases) -> Result<(), Error> {
    let plugin_facts = plugin_facts(facts);
    let plugin_report = crate::report::plugin::report(
        &plugin_facts,
        facts.found.checks.clone(),
        facts.started_at.clone(),
        Duration::ZERO,
        Some(out),
    )?;
    for mut s in plugin_report.suites {
        s.properties.extend(
            plugin_facts
                .properties()
                .into_iter()
                .filter(|(k, _)| k.starts_with("plugin.")),
        );
        cases.push_all(None, s);
    }
    Ok(())
}

/// The closing lines for the terminal.
fn summary(report: &Report, decided: &verdict::Decided) -> String {
    let c = report.counts;
    let mut summary = format!(
        "\n{} checks: {} passed, {} failed, {} errors, {} skipped\n",
        c.tests, c.passed, c.failures, c.errors, c.skipped
    );
    for w in &decided.decision.warnings {
        summary.push_str(&format!("warning: {w}\n"));
    }
    if decided.certified {
        summary.push_str("CERTIFIED");
    } else {
        summary.push_str("NOT CERTIFIED:");
        for r in &decided.reasons {
            summary.push_str(&format!("\n  - {r}"));
        }
    }
    summary
}

/// report.json first; junit.xml and summary.html rendered from it (so that verification
/// can render them again from the signed record); the attestation over all of them;
/// and, with a key, its signed envelope.
fn write_files(
    report: &Report,
    out: &Path,
    key: Option<&certify_review::sign::SigningKey>,
) -> Result<(), Error> {
    report::write_out_dir(report, out)?;
    certify_review::attest::write(
        out,
        &certify_review::StatementInputs {
            finished_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            url: None,
        },
    )
    .map_err(|e| Error::Other(anyhow::Error::new(e).context("writing the attestation")))?;
    if let Some(key) = key {
        certify_review::sign::sign_out_dir(out, key)
            .map_err(|e| Error::Other(anyhow::Error::new(e).context("signing the attestation")))?;
    }
    Ok(())
}

/// The suites of what cost nothing, known before the reservation: whether the plugin
/// builds and loads, and the articles' structure.
fn no_cost_suites(facts: &RunRecord<'_>, cases: &mut Cases) {
    if let Err(e) = &facts.plugin {
        let mut load = case(
            case_id::PLUGIN_LOAD,
            "plugin",
            "The validation plugin builds and loads",
            error("load-failed", portable(e, facts)),
        );
        load.hint = Some(
            "fix the plugin so that `certify plugin run` builds and loads it; the error above is cargo's or the sandbox's own"
                .into(),
        );
        cases.push(
            "plugin",
            vec![("plugin.file".into(), facts.plugin_file.clone())],
            vec![(None, load)],
        );
    }
    let base = facts.bundle.root.as_path();
    match &facts.docs {
        Ok(docs) => {
            let r =
                crate::report::docs::report(docs, base, facts.started_at.clone(), Duration::ZERO);
            for suite in r.suites {
                cases.push_all(Some(B::DocsStructure), suite);
            }
        }
        Err(e) => cases.push(
            "docs",
            Vec::new(),
            vec![(
                Some(B::DocsStructure),
                case(
                    case_id::DOCS_READ,
                    "docs",
                    "The KB articles can be read",
                    error("docs", e.clone()),
                ),
            )],
        ),
    }
}

/// A message with the bundle's place on this machine left out: paths in it read
/// relative to the bundle, as everywhere else in the report.
fn portable(message: &str, facts: &RunRecord<'_>) -> String {
    let root = facts.bundle.root.display().to_string();
    message.replace(&format!("{root}/"), "").replace(&root, ".")
}

/// What the report says about the plugin, whether or not it loaded.
fn plugin_facts(facts: &RunRecord<'_>) -> crate::report::plugin::PluginFacts {
    match &facts.plugin {
        Ok(p) => crate::report::plugin::PluginFacts {
            name: p.info().name.clone(),
            version: Some(p.info().version.clone()),
            sdk: Some(p.info().sdk.clone()),
            contract: Some(p.info().contract.clone()),
            sha256: p.sha256().to_string(),
            file: facts.plugin_file.clone(),
        },
        Err(_) => crate::report::plugin::PluginFacts {
            name: "plugin".into(),
            version: None,
            sdk: None,
            contract: None,
            sha256: String::new(),
            file: facts.plugin_file.clone(),
        },
    }
}

fn slug(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect::<String>()
        .split('-')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
