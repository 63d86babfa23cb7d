//! The typed `certify-report/1` model: report.json as the harness writes it and as the
//! JUnit renderer, verification and `report diff` read it.
//!
//! junit.xml and summary.html are pure functions of report.json: the harness writes
//! report.json first, reads it back into this model and renders the other two from it. So
//! verification can render them again from the signed report.json and compare bytes,
//! and neither file can say anything report.json does not.
//!
//! Fields the harness always writes are required here; a report.json that does not
//! parse into this model is not one this harness version wrote.

use serde::{Deserialize, Serialize};

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
    /// The certification decision and the facts it rests on (`certify run` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certification: Option<Certification>,
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

impl std::fmt::Display for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} tests, {} failures, {} errors, {} skipped",
            self.tests, self.failures, self.errors, self.skipped
        )
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

/// The `certification` block: the decision and every fact it rests on, as `certify
/// run` decided them. Its fields are in the order report.json lists them
/// (alphabetical). Money is written as the program writes it (`$2,000.00`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Certification {
    /// The account the run deployed to (its alias).
    pub account: String,
    /// sha256 over the bundle's inputs (their paths, roles and digests).
    pub bundle_sha256: String,
    /// Who is certified, for what.
    pub candidate: Candidate,
    /// Account seconds per real second of the account's clock.
    pub clock_scale: f64,
    /// The month's credit of the account's tier.
    pub credit: String,
    /// Who set the credit (the integrator, the suite).
    pub credit_source: String,
    /// What the run cost.
    pub credit_used: CreditUsed,
    /// Every criterion with its minimum and counts, in the program's order.
    pub criteria: Vec<CriterionResult>,
    /// What the servers and steps asked the egress proxy for, with `--allow-internet`:
    /// the first 256 requests.
    pub egress: Vec<EgressRequest>,
    /// How many requests `egress` leaves out.
    pub egress_omitted: u64,
    /// The account's API: `embedded emulator` or its URL.
    pub endpoint: String,
    /// The binary that ran.
    pub harness: Harness,
    /// The certified inputs, in bundle order.
    pub inputs: Vec<Input>,
    /// How the servers reached the internet: `off`, `proxy` or `host`.
    pub internet: String,
    /// How candidate code ran: `sandbox` or `unsandboxed`.
    pub isolation: String,
    /// The program's dates.
    pub program: Program,
    /// Plain sentences: why certified, or one per reason not.
    pub reasons: Vec<String>,
    /// The run's id (its group, its journal, its reservation).
    pub run_id: String,
    /// Who signs the attestation, when a key was given.
    pub signer: Option<Signer>,
    /// Why the run ended before its checks did, when it did.
    pub stopped: Option<String>,
    /// The suite held against.
    pub suite: SuiteRef,
    /// What teardown did, when it ran.
    pub teardown: Option<Teardown>,
    /// The tiers: the account's, the suite's and the claimed one.
    pub tier: Tiers,
    /// Time-to-value against the suite's limit.
    pub time_to_value: TimeToValue,
    /// The decision.
    pub verdict: Decision,
    /// Waivers the suite applied, and those past their expiry.
    pub waivers: Waivers,
    /// Sentences starting "Warning:": advisory checks that did not pass, expired waivers,
    /// what the integrator allowed.
    pub warnings: Vec<String>,
}

/// The certification decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Decision {
    /// Every required check passed and every criterion met its minimum.
    Certified,
    /// Not certified; the reasons say why.
    NotCertified,
}

impl Decision {
    /// As report.json writes it: `certified` or `not-certified`.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Certified => "certified",
            Decision::NotCertified => "not-certified",
        }
    }
}

/// Who is certified, for what.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// The tier `candidate.toml` claims.
    pub claimed_tier: String,
    /// The partner.
    pub company: String,
    /// The product.
    pub product: String,
    /// The tier certified for: the account's.
    pub tier: String,
    /// The product's version, when `candidate.toml` gives one.
    pub version: Option<String>,
}

/// What the run cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreditUsed {
    /// The account's charge for the run's group, when settled.
    pub actual: Option<String>,
    /// What was reserved, when the blueprint was priced.
    pub estimate: Option<String>,
    /// The ledger's month-to-date spend on the account.
    pub month_to_date: String,
    /// What is left of the month's credit.
    pub remaining: String,
}

/// A criterion's outcome: its minimum and how its plugin checks ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CriterionResult {
    /// `performs-as-advertised`, …
    pub criterion: String,
    /// Checks that could not run.
    pub errors: u32,
    /// Checks that failed.
    pub failed: u32,
    /// Checks that passed.
    pub passed: u32,
    /// The minimum of passing checks.
    pub required: u32,
    /// Checks skipped.
    pub skipped: u32,
    /// `pass` or `fail`.
    pub verdict: String,
    /// Failures a waiver excuses.
    pub waived: u32,
}

/// One request to the egress proxy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EgressRequest {
    /// Whether the proxy connected.
    pub allowed: bool,
    /// `host:port` as asked for.
    pub destination: String,
    /// Why not, when refused.
    pub reason: Option<String>,
}

/// The harness binary that ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Harness {
    /// The plugin contract it speaks.
    pub contract: String,
    /// sha256 of the executable, when it could be read.
    pub sha256: Option<String>,
    /// Its version.
    pub version: String,
}

/// A certified input file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Input {
    /// Path relative to the bundle root, `/`-separated.
    pub path: String,
    /// What part of the bundle it is.
    pub role: String,
    /// Lower-case hex SHA-256 of its bytes.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
}

/// The program's dates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Program {
    /// The start `candidate.toml` claims (`YYYY-MM-DD`).
    pub claimed_start: String,
    /// The program's day of the run, when the start is known.
    pub day: Option<i64>,
    /// Who gave the start, or why it is not counted.
    pub source: String,
    /// The start the integrator gave (`YYYY-MM-DD`).
    pub start: Option<String>,
    /// Past the program's window, when it is.
    pub warning: Option<String>,
}

/// Who signs the attestation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signer {
    /// The signature algorithm.
    pub algorithm: String,
    /// The key's id.
    pub keyid: String,
}

/// The suite a run was held against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuiteRef {
    /// Its name (`silver`).
    pub name: String,
    /// sha256 of its file.
    pub sha256: String,
    /// Its version.
    pub version: String,
}

/// What teardown did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Teardown {
    /// Everything the run created is gone.
    pub complete: bool,
    /// What was deleted, or what is left.
    pub detail: String,
    /// The account was asked afterwards, and agreed.
    pub verified: bool,
}

/// The tiers of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tiers {
    /// The account's tier: what is certified.
    pub account: String,
    /// The tier `candidate.toml` claims.
    pub claimed: String,
    /// When they differ, a sentence saying how.
    pub note: Option<String>,
    /// Who set the account's tier.
    pub source: String,
    /// The suite's tier.
    pub suite: String,
}

/// Time-to-value against the suite's limit, in account seconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimeToValue {
    /// The suite's limit.
    pub limit_seconds: f64,
    /// Measured, when the product became ready.
    pub seconds: Option<f64>,
}

/// The suite's waivers in a decision.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waivers {
    /// Failures a waiver excused.
    pub applied: Vec<AppliedWaiver>,
    /// Waivers past their expiry.
    pub expired: Vec<ExpiredWaiver>,
}

/// A failure a waiver excused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedWaiver {
    /// The check, as waivers name it (`docs.steps`, `plugin:service.health`).
    pub check: String,
    /// What the waiver excuses (`None`: the check did not run).
    pub verdict: Option<WaivedOutcome>,
    /// The waiver.
    pub waiver: Waiver,
}

/// How a waived check ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaivedOutcome {
    /// What happened, unless it passed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// `passed`, `failed`, `error` or `skipped`.
    pub verdict: String,
}

/// A waiver past its expiry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpiredWaiver {
    /// The first day it no longer applied (`YYYY-MM-DD`).
    pub lapsed_on: String,
    /// Whether a check failed that it would have excused.
    pub needed: bool,
    /// The waiver.
    pub waiver: Waiver,
}

/// A suite's waiver, as the report records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waiver {
    /// Who approved it, when the suite says.
    pub approved_by: Option<String>,
    /// The check it excuses.
    pub check: String,
    /// The last day it applies (`YYYY-MM-DD`).
    pub expires: String,
    /// Why the failure is acceptable.
    pub justification: String,
    /// The line of its `[[waivers]]` header in the suite file.
    pub line: usize,
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
        certification: Option<Certification>,
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
        self.counts = self.counted();
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

    /// How the cases themselves ended (what `counts` must state).
    pub fn counted(&self) -> Counts {
        Counts::of(self.cases().map(|(_, case)| case))
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
