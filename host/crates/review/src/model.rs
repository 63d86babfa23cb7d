//! The typed `certify-report/1` model: report.json as the harness writes it and as the
//! JUnit renderer, verification and `report diff` read it.
//!
//! junit.xml and summary.html are pure functions of report.json: the harness writes
//! report.json first, reads it back into this model (or as plain JSON for the summary,
//! which tolerates older or sparser reports) and renders the other two from it. So
//! verification can render them again from the signed report.json and compare bytes,
//! and neither file can say anything report.json does not.
//!
//! Fields the harness always writes are required here; a report.json that does not
//! parse into this model is not one this harness version wrote.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The format this model reads: report.json's `format`.
pub const FORMAT: &str = "certify-report/1";

/// A whole report.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Always [`FORMAT`].
    pub format: String,
    /// Whether no case failed or errored (not the certification verdict).
    pub passed: bool,
    /// How many cases ended how.
    pub counts: Counts,
    /// What was run, for example `certify run Acme Status Page`.
    pub name: String,
    /// When the run started (RFC 3339, UTC).
    pub started_at: String,
    /// Wall-clock seconds of the run, to the millisecond.
    pub duration: f64,
    /// Provenance (`harness.version`, `run.id`, `input.<path>`, …) as `[key, value]`.
    pub properties: Vec<(String, String)>,
    /// The suites, in report order.
    pub suites: Vec<Suite>,
    /// The certification decision and the facts it rests on (`certify run` only). Read
    /// as JSON: the summary page and the attestation pick what they show from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certification: Option<Value>,
}

/// How many cases ended how.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// All cases.
    pub tests: u64,
    /// Passed.
    pub passed: u64,
    /// Failed.
    pub failures: u64,
    /// Could not run.
    pub errors: u64,
    /// Skipped.
    pub skipped: u64,
}

/// A group of cases (a criterion's plugin checks, the budget, an article's steps).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suite {
    /// Stable name (`bundle`, `plugin-performs-as-advertised`, `docs-steps-<article>`, …):
    /// one token without dots or paths, also every case's classname (FORMAT.md).
    pub name: String,
    /// Properties of this suite, as `[key, value]`.
    pub properties: Vec<(String, String)>,
    /// The cases, in report order.
    pub cases: Vec<Case>,
}

/// One case: a check, a step, a guarantee.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Case {
    /// Stable id (the JUnit test name): says what is checked, not on which line; unique
    /// within its suite.
    pub id: String,
    /// Group for CI viewers (the JUnit classname).
    pub classname: String,
    /// One line for humans.
    pub title: String,
    /// How it ended.
    #[serde(flatten)]
    pub verdict: Verdict,
    /// Wall-clock seconds, to the millisecond.
    pub duration: f64,
    /// What the candidate should do when it fails.
    pub hint: Option<String>,
    /// `file:line` the case is about.
    pub location: Option<String>,
    /// Measured values as `[name, value, unit]`.
    pub measurements: Vec<(String, f64, String)>,
    /// Files attached to the case, under `evidence/`.
    pub attachments: Vec<Attachment>,
    /// Captured output, bounded.
    pub output: String,
}

/// How a case ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "lowercase")]
pub enum Verdict {
    /// It did what is expected.
    Passed,
    /// The candidate's product (or documentation) did not.
    Failed {
        /// What happened.
        message: String,
    },
    /// It could not be run to a verdict.
    Error {
        /// Which kind of problem, for example `timeout`.
        kind: String,
        /// What happened.
        message: String,
    },
    /// It does not apply.
    Skipped {
        /// Why.
        reason: String,
    },
}

impl Verdict {
    /// `passed`, `failed`, `error` or `skipped`, as report.json spells it.
    pub fn as_str(&self) -> &'static str {
        match self {
            Verdict::Passed => "passed",
            Verdict::Failed { .. } => "failed",
            Verdict::Error { .. } => "error",
            Verdict::Skipped { .. } => "skipped",
        }
    }
}

/// A file attached to a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// The name the plugin gave it.
    pub name: String,
    /// Media type.
    pub media_type: String,
    /// Path relative to the output directory (`evidence/<check>/<file>`).
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// sha256 of the content.
    pub sha256: String,
}

impl Report {
    /// Parse report.json. The error says what does not fit the model.
    pub fn from_json(bytes: &[u8]) -> Result<Report, String> {
        let report: Report = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        if report.format != FORMAT {
            return Err(format!("its format is {:?}, not {FORMAT:?}", report.format));
        }
        Ok(report)
    }

    /// Every case with its suite, in report order.
    pub fn cases(&self) -> impl Iterator<Item = (&Suite, &Case)> {
        self.suites
            .iter()
            .flat_map(|s| s.cases.iter().map(move |c| (s, c)))
    }

    /// A provenance property.
    pub fn property(&self, key: &str) -> Option<&str> {
        self.properties
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fixture_report_parses_and_serializes_back_to_the_same_json() {
        let json = crate::testutil::report();
        let bytes = serde_json::to_vec(&json).unwrap();
        let report = Report::from_json(&bytes).unwrap();
        assert_eq!(report.suites.len(), 3);
        assert_eq!(
            report.suites[0].cases[1].verdict,
            Verdict::Failed {
                message: "chain incomplete: <script>alert(\"pwned\")</script> ]]>".into()
            }
        );
        assert_eq!(report.property("run.id"), Some("run-20260901-ab12"));
        assert_eq!(serde_json::to_value(&report).unwrap(), json);
    }

    #[test]
    fn another_format_is_refused() {
        let mut json = crate::testutil::report();
        json["format"] = "certify-report/9".into();
        let err = Report::from_json(&serde_json::to_vec(&json).unwrap()).unwrap_err();
        assert!(err.contains("certify-report/9"), "{err}");
    }
}
