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

impl Counts {
    /// Counts the verdicts of some cases.
    pub fn of<'a>(cases: impl IntoIterator<Item = &'a Case>) -> Counts {
        let mut c = Counts::default();
        for case in cases {
            c.tests += 1;
            match case.verdict {
                Verdict::Passed => c.passed += 1,
                Verdict::Failed { .. } => c.failures += 1,
                Verdict::Error { .. } => c.errors += 1,
                Verdict::Skipped { .. } => c.skipped += 1,
            }
        }
        c
    }
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

impl Case {
    /// A case with nothing but its verdict: no time, hint, location, measurements,
    /// attachments or output yet.
    pub fn new(id: &str, classname: &str, title: &str, verdict: Verdict) -> Case {
        Case {
            id: id.to_string(),
            classname: classname.to_string(),
            title: title.to_string(),
            verdict,
            duration: 0.0,
            hint: None,
            location: None,
            measurements: Vec::new(),
            attachments: Vec::new(),
            output: String::new(),
        }
    }

    /// The same case with this output.
    pub fn with_output(mut self, output: String) -> Case {
        self.output = output;
        self
    }

    /// Sets how long it took.
    pub fn set_duration(&mut self, d: std::time::Duration) {
        self.duration = seconds(d);
    }
}

/// Seconds to the millisecond, as report.json records every duration: the precision
/// that keeps the JSON readable.
pub fn seconds(d: std::time::Duration) -> f64 {
    (d.as_secs_f64() * 1000.0).round() / 1000.0
}

/// How a case ended: the program's one verdict of a check.
pub use certify_program::Verdict;

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
    /// A report of `suites` in this format, with its counts and `passed` worked out
    /// from them.
    pub fn new(
        name: String,
        started_at: String,
        duration: std::time::Duration,
        properties: Vec<(String, String)>,
        suites: Vec<Suite>,
        certification: Option<Value>,
    ) -> Report {
        let mut report = Report {
            format: FORMAT.to_string(),
            passed: true,
            counts: Counts::default(),
            name,
            started_at,
            duration: seconds(duration),
            properties,
            suites,
            certification,
        };
        report.recount();
        report
    }

    /// Works the counts and `passed` out again from the suites, after they changed.
    pub fn recount(&mut self) {
        self.counts = Counts::of(self.suites.iter().flat_map(|s| &s.cases));
        self.passed = self.counts.failures == 0 && self.counts.errors == 0;
    }

    /// report.json's text: pretty JSON and a final newline, the bytes the attestation
    /// binds.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(self).map(|mut s| {
            s.push('\n');
            s
        })
    }

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
