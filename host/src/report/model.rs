//! The report model: what was run, on which inputs, with which verdict.
//! Reporters (JUnit, JSON, terminal) read it; nothing here formats.

use std::time::Duration;

use serde::Serialize;

/// A whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// What was run, for example `certify plugin run misbehaving`.
    pub name: String,
    /// When the run started (RFC 3339, UTC).
    pub started_at: String,
    /// Wall-clock time of the run.
    #[serde(serialize_with = "seconds")]
    pub duration: Duration,
    /// Provenance: harness version, input digests, ...
    pub properties: Vec<(String, String)>,
    /// The suites, in a stable order.
    pub suites: Vec<Suite>,
    /// The certification decision and the facts it rests on (full runs only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certification: Option<serde_json::Value>,
}

/// A group of cases, for example the checks of one certification criterion.
#[derive(Debug, Clone, Serialize)]
pub struct Suite {
    /// Stable name.
    pub name: String,
    /// Properties specific to this suite.
    pub properties: Vec<(String, String)>,
    /// The cases, in a stable order.
    pub cases: Vec<Case>,
}

/// One case: a check, a step, a guarantee.
#[derive(Debug, Clone, Serialize)]
pub struct Case {
    /// Stable id (the JUnit test name).
    pub id: String,
    /// Group for CI viewers (the JUnit classname).
    pub classname: String,
    /// One line for humans.
    pub title: String,
    /// The verdict.
    #[serde(flatten)]
    pub verdict: Verdict,
    /// Wall-clock time.
    #[serde(serialize_with = "seconds")]
    pub duration: Duration,
    /// What the candidate should do when it fails.
    pub hint: Option<String>,
    /// `file:line` the case is about, if any.
    pub location: Option<String>,
    /// Measured values: name, value, unit.
    pub measurements: Vec<(String, f64, String)>,
    /// Files attached to the case.
    pub attachments: Vec<Attachment>,
    /// Captured output (logs, stdout/stderr), bounded.
    pub output: String,
}

/// The verdict of a case: the one definition, which `report.json` records and
/// `certify report verify` reads back.
pub use certify_review::model::Verdict;

/// A file attached to a case, stored beside the report.
#[derive(Debug, Clone, Serialize)]
pub struct Attachment {
    /// The name the plugin gave it.
    pub name: String,
    /// Media type.
    pub media_type: String,
    /// Path relative to the report's directory.
    pub path: String,
    /// Size in bytes.
    pub size: usize,
    /// sha256 of the content.
    pub sha256: String,
}

/// How many cases ended how.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// All cases.
    pub tests: usize,
    /// Passed.
    pub passed: usize,
    /// Failed.
    pub failures: usize,
    /// Could not run.
    pub errors: usize,
    /// Skipped.
    pub skipped: usize,
}

impl Counts {
    /// Count the verdicts of some cases.
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

impl Report {
    /// Counts over every case.
    pub fn counts(&self) -> Counts {
        Counts::of(self.suites.iter().flat_map(|s| &s.cases))
    }

    /// Whether nothing failed and nothing errored.
    pub fn all_passed(&self) -> bool {
        let c = self.counts();
        c.failures == 0 && c.errors == 0
    }
}

fn seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    // Millisecond precision keeps the JSON readable.
    s.serialize_f64((d.as_secs_f64() * 1000.0).round() / 1000.0)
}
