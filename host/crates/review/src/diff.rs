//! `certify report diff <a> <b>`: two reports of one bundle side by side — typically a
//! candidate's CI run and the integrator's re-run — with every difference named.
//!
//! Differences (each one makes the reports disagree), in this order:
//! 1. checks that passed in A but not in B (regressions come first: they are what a
//!    re-run that does not reproduce a candidate's claims looks like);
//! 2. the verdict;
//! 3. every other check whose outcome differs, or that only one report has;
//! 4. the certified inputs, digest by digest; the suite (name, version, sha256); the
//!    harness (version, plugin contract); the candidate.
//!
//! Every check counts, advisory ones included: a suite's failures block unless waived,
//! and a re-run that does not reproduce even an advisory result is worth a reviewer's
//! look. (report.json does not record which built-in checks a suite made advisory.)
//!
//! Time-to-value and the credit used are shown side by side but never differ "enough"
//! to count: two honest runs do not take the same time. Nor does the harness binary's
//! sha256 count (an integrator may build the same release from source); it is a note.
//!
//! The reports are compared as they are: verify each (`certify report verify --key`)
//! before trusting what they say.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::model::{Certification, Report};
use crate::{InputDigest, REPORT_JSON, ReviewError};
use serde::Serialize;

/// The largest report.json read: outputs are bounded per check, so a real one is far
/// smaller.
const MAX_REPORT: u64 = 256 * 1024 * 1024;

/// `format` of the JSON output.
pub const FORMAT: &str = "certify-report-diff/1";

/// The comparison of two reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diff {
    /// Always [`FORMAT`].
    pub format: &'static str,
    /// Whether the reports agree: no differences.
    pub same: bool,
    /// Report A at a glance.
    pub a: Run,
    /// Report B at a glance.
    pub b: Run,
    /// Every difference, regressions first.
    pub differences: Vec<Difference>,
    /// Facts that differ without making the reports disagree.
    pub notes: Vec<String>,
    /// Every check of either report with its outcome in each, in A's order then B's.
    pub checks: Vec<CheckRow>,
    /// Time-to-value in seconds of account time, A and B.
    pub time_to_value: Pair<Option<f64>>,
    /// The credit the run actually used (or its estimate when not settled), A and B.
    pub credit_used: Pair<Option<String>>,
}

/// One report at a glance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Run {
    /// Where it was read from.
    pub path: String,
    /// Its run id.
    pub run_id: Option<String>,
    /// `certified`, `not-certified`, or none for a report without a certification.
    pub verdict: Option<String>,
    /// When it started.
    pub started_at: String,
    /// The harness version.
    pub harness: Option<String>,
}

/// A value in A and in B.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pair<T> {
    /// In report A.
    pub a: T,
    /// In report B.
    pub b: T,
}

/// One difference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    /// `regression` (a check passed in A, not in B), `verdict`, `check`, `input`,
    /// `suite`, `harness` or `candidate`.
    pub kind: &'static str,
    /// What differs: `suite/check-id`, an input path, `suite.sha256`, …
    pub subject: String,
    /// Its value in A (none: absent).
    pub a: Option<String>,
    /// Its value in B (none: absent).
    pub b: Option<String>,
    /// One sentence.
    pub message: String,
}

/// A check's outcome in A and B.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckRow {
    /// The report suite (`blueprint`, `plugin-performs-as-advertised`, …).
    pub suite: String,
    /// The check id.
    pub id: String,
    /// `passed`, `failed`, `error`, `skipped`; none when the report lacks the check.
    pub a: Option<String>,
    /// Likewise in B.
    pub b: Option<String>,
}

/// Read report.json from an output directory (or the file itself).
pub fn load(path: &Path) -> Result<Report, ReviewError> {
    let file = if path.is_dir() {
        path.join(REPORT_JSON)
    } else {
        path.to_path_buf()
    };
    let len = std::fs::metadata(&file)
        .map_err(|e| ReviewError::io("read", &file, e))?
        .len();
    if len > MAX_REPORT {
        return Err(ReviewError::Report {
            path: file,
            reason: format!(
                "it is {len} bytes, more than any report `certify run` writes ({MAX_REPORT})"
            ),
        });
    }
    let bytes = std::fs::read(&file).map_err(|e| ReviewError::io("read", &file, e))?;
    Report::from_json(&bytes).map_err(|reason| ReviewError::Report {
        path: file,
        reason: format!("it is not a report `certify run` writes: {reason}"),
    })
}

/// Compare report A (read from `path_a`) with report B.
pub fn diff(a: &Report, path_a: &str, b: &Report, path_b: &str) -> Diff {
    let (ca, cb) = (cert(a), cert(b));
    let mut regressions = Vec::new();
    let mut others = Vec::new();
    let checks = check_rows(a, b);
    for row in &checks {
        if row.a == row.b {
            continue;
        }
        let subject = format!("{}/{}", row.suite, row.id);
        let (sa, sb) = (outcome(&row.a), outcome(&row.b));
        if row.a.as_deref() == Some("passed") {
            regressions.push(Difference {
                kind: "regression",
                message: format!("check {subject} passed in A but is {sb} in B"),
                subject,
                a: row.a.clone(),
                b: row.b.clone(),
            });
        } else {
            others.push(Difference {
                kind: "check",
                message: format!("check {subject} is {sa} in A, {sb} in B"),
                subject,
                a: row.a.clone(),
                b: row.b.clone(),
            });
        }
    }
    let mut differences = regressions;
    let verdict = |c: &Certification| Some(c.verdict.as_str().to_string());
    let (va, vb) = (text(ca, verdict), text(cb, verdict));
    if va != vb {
        differences.push(Difference {
            kind: "verdict",
            subject: "verdict".into(),
            message: format!("the verdict is {} in A, {} in B", show(&va), show(&vb)),
            a: va,
            b: vb,
        });
    }
    differences.extend(others);
    differences.extend(inputs(ca, cb));
    let mut field =
        |kind: &'static str, subject: &str, get: &dyn Fn(&Certification) -> Option<&str>| {
            let get = |c: &Certification| get(c).map(str::to_string);
            let (x, y) = (text(ca, get), text(cb, get));
            if x != y {
                differences.push(Difference {
                    kind,
                    subject: subject.into(),
                    message: format!("the {subject} is {} in A, {} in B", show(&x), show(&y)),
                    a: x,
                    b: y,
                });
            }
        };
    field("suite", "suite name", &|c| Some(&c.suite.name));
    field("suite", "suite version", &|c| Some(&c.suite.version));
    field("suite", "suite sha256", &|c| Some(&c.suite.sha256));
    field("harness", "harness version", &|c| Some(&c.harness.version));
    field("harness", "plugin contract", &|c| Some(&c.harness.contract));
    field("candidate", "candidate company", &|c| {
        Some(&c.candidate.company)
    });
    field("candidate", "candidate product", &|c| {
        Some(&c.candidate.product)
    });
    field("candidate", "candidate version", &|c| {
        c.candidate.version.as_deref()
    });

    let mut notes = Vec::new();
    let harness = |c: &Certification| c.harness.sha256.clone();
    let (ha, hb) = (text(ca, harness), text(cb, harness));
    if ha != hb {
        notes.push(format!(
            "the harness binaries differ: sha256 {} in A, {} in B (the same release built elsewhere differs too; `certify report verify --harness-sha256` checks for a released build)",
            show(&ha),
            show(&hb)
        ));
    }

    Diff {
        format: FORMAT,
        same: differences.is_empty(),
        a: run(a, path_a),
        b: run(b, path_b),
        differences,
        notes,
        checks,
        time_to_value: Pair {
            a: ttv(ca),
            b: ttv(cb),
        },
        credit_used: Pair {
            a: credit(ca),
            b: credit(cb),
        },
    }
}

fn cert(r: &Report) -> Option<&Certification> {
    r.certification.as_ref()
}

/// A field of a report's certification block, when it has one.
fn text(
    cert: Option<&Certification>,
    get: impl Fn(&Certification) -> Option<String>,
) -> Option<String> {
    cert.and_then(get)
}

fn show(v: &Option<String>) -> String {
    v.as_deref().unwrap_or("(none)").to_string()
}

fn outcome(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("absent")
}

fn run(r: &Report, path: &str) -> Run {
    let c = cert(r);
    Run {
        path: path.to_string(),
        run_id: text(c, |c| Some(c.run_id.clone()))
            .or_else(|| r.property("run.id").map(str::to_string)),
        verdict: text(c, |c| Some(c.verdict.as_str().to_string())),
        started_at: r.started_at.clone(),
        harness: text(c, |c| Some(c.harness.version.clone()))
            .or_else(|| r.property("harness.version").map(str::to_string)),
    }
}

fn ttv(c: Option<&Certification>) -> Option<f64> {
    c?.time_to_value.seconds
}

fn credit(c: Option<&Certification>) -> Option<String> {
    let used = &c?.credit_used;
    used.actual.clone().or_else(|| used.estimate.clone())
}

/// Every check of A then those only B has, with both outcomes.
fn check_rows(a: &Report, b: &Report) -> Vec<CheckRow> {
    let outcomes = |r: &Report| -> BTreeMap<(String, String), String> {
        r.cases()
            .map(|(s, c)| {
                (
                    (s.name.clone(), c.id.clone()),
                    c.verdict.as_str().to_string(),
                )
            })
            .collect()
    };
    let (oa, ob) = (outcomes(a), outcomes(b));
    let mut seen = BTreeSet::new();
    let mut rows = Vec::new();
    for (s, c) in a.cases().chain(b.cases()) {
        let key = (s.name.clone(), c.id.clone());
        if seen.insert(key.clone()) {
            rows.push(CheckRow {
                a: oa.get(&key).cloned(),
                b: ob.get(&key).cloned(),
                suite: key.0,
                id: key.1,
            });
        }
    }
    rows
}

/// The certified inputs, by path: added, removed or with another digest or role.
fn inputs(ca: Option<&Certification>, cb: Option<&Certification>) -> Vec<Difference> {
    let read = |c: Option<&Certification>| -> BTreeMap<String, InputDigest> {
        c.map(|c| c.inputs.as_slice())
            .unwrap_or_default()
            .iter()
            .map(|i| {
                let d = InputDigest::new(&i.path, &i.role, &i.sha256);
                (d.path.clone(), d)
            })
            .collect()
    };
    let (ia, ib) = (read(ca), read(cb));
    let paths: BTreeSet<&String> = ia.keys().chain(ib.keys()).collect();
    let mut out = Vec::new();
    for path in paths {
        let (x, y) = (ia.get(path), ib.get(path));
        if x == y {
            continue;
        }
        let message = match (x, y) {
            (Some(x), None) => format!("input {path} ({}) is in A only", x.role),
            (None, Some(y)) => format!("input {path} ({}) is in B only", y.role),
            (Some(x), Some(y)) if x.sha256 != y.sha256 => format!(
                "input {path} ({}) differs: sha256 {} in A, {} in B",
                y.role, x.sha256, y.sha256
            ),
            (Some(x), Some(y)) => {
                format!("input {path} has role {} in A, {} in B", x.role, y.role)
            }
            (None, None) => continue,
        };
        out.push(Difference {
            kind: "input",
            subject: path.clone(),
            a: x.map(|i| i.sha256.clone()),
            b: y.map(|i| i.sha256.clone()),
            message,
        });
    }
    out
}

impl Diff {
    /// The comparison for a terminal: the two runs, every difference, the side-by-side
    /// figures, then the checks (differing ones marked).
    pub fn to_text(&self) -> String {
        use std::fmt::Write as _;
        let mut s = String::new();
        for (label, r) in [("A", &self.a), ("B", &self.b)] {
            let _ = writeln!(
                s,
                "{label}: {}  run {}  {}  certify {}  started {}",
                r.path,
                r.run_id.as_deref().unwrap_or("-"),
                r.verdict.as_deref().unwrap_or("no verdict"),
                r.harness.as_deref().unwrap_or("?"),
                r.started_at
            );
        }
        if self.same {
            s.push_str(
                "same: the verdicts, every check, the inputs, the suite and the harness agree\n",
            );
        } else {
            let _ = writeln!(s, "{} difference(s):", self.differences.len());
            for d in &self.differences {
                let _ = writeln!(s, "  - {}", d.message);
            }
        }
        for n in &self.notes {
            let _ = writeln!(s, "note: {n}");
        }
        let secs = |v: Option<f64>| v.map_or("-".to_string(), |x| format!("{x} s"));
        let _ = writeln!(
            s,
            "time-to-value: A {}, B {}",
            secs(self.time_to_value.a),
            secs(self.time_to_value.b)
        );
        let _ = writeln!(
            s,
            "credit used:   A {}, B {}",
            self.credit_used.a.as_deref().unwrap_or("-"),
            self.credit_used.b.as_deref().unwrap_or("-")
        );
        let width = self
            .checks
            .iter()
            .map(|c| c.suite.len() + c.id.len() + 1)
            .max()
            .unwrap_or(0)
            .min(60); // long article paths overflow rather than push every row right
        let _ = writeln!(s, "checks ({}):", self.checks.len());
        for c in &self.checks {
            let mark = if c.a == c.b { ' ' } else { '*' };
            let name = format!("{}/{}", c.suite, c.id);
            let _ = writeln!(
                s,
                "{mark} {name:<width$}  {:<8} {}",
                outcome(&c.a),
                outcome(&c.b)
            );
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Decision, Verdict};

    fn fixture() -> Report {
        serde_json::from_value(crate::testutil::report()).unwrap()
    }

    fn compare(a: &Report, b: &Report) -> Diff {
        diff(a, "a", b, "b")
    }

    #[test]
    fn a_report_agrees_with_itself() {
        let d = compare(&fixture(), &fixture());
        assert!(d.same, "{:#?}", d.differences);
        assert_eq!(d.checks.len(), 5);
        assert_eq!(d.time_to_value.a, Some(312.0));
        assert_eq!(d.credit_used.b.as_deref(), Some("$0.09"));
        assert!(d.to_text().contains("same:"));
    }

    #[test]
    fn a_changed_check_outcome_is_found_and_a_regression_comes_first() {
        let a = fixture();
        let mut b = fixture();
        // A passed check fails in B; a failed one passes in B; the verdict flips.
        b.suites[0].cases[0].verdict = Verdict::Failed {
            message: "503".into(),
        };
        b.suites[0].cases[1].verdict = Verdict::Passed;
        b.certification.as_mut().unwrap().verdict = Decision::Certified;
        let d = compare(&a, &b);
        assert!(!d.same);
        let kinds: Vec<_> = d.differences.iter().map(|d| d.kind).collect();
        assert_eq!(kinds, ["regression", "verdict", "check"]);
        assert_eq!(
            d.differences[0].message,
            "check performs-as-advertised/http-probe.status passed in A but is failed in B"
        );
        assert_eq!(
            d.differences[2].message,
            "check performs-as-advertised/http-probe.tls is failed in A, passed in B"
        );
        assert!(
            d.to_text()
                .contains("* performs-as-advertised/http-probe.status")
        );
    }

    #[test]
    fn a_changed_input_and_a_missing_check_are_found() {
        let a = fixture();
        let mut b = fixture();
        b.certification.as_mut().unwrap().inputs[1].sha256 = "f".repeat(64);
        b.suites[2].cases.clear();
        let d = compare(&a, &b);
        let messages: Vec<_> = d.differences.iter().map(|d| d.message.as_str()).collect();
        assert!(
            messages.contains(&"check docs/docs.front-matter passed in A but is absent in B"),
            "{messages:#?}"
        );
        assert!(
            messages
                .iter()
                .any(|m| m.starts_with("input blueprint.json (blueprint) differs: sha256 2222")),
            "{messages:#?}"
        );
    }

    #[test]
    fn a_different_suite_is_found_and_the_harness_binary_is_a_note() {
        let a = fixture();
        let mut b = fixture();
        let cert = b.certification.as_mut().unwrap();
        cert.suite.name = "gold".into();
        cert.suite.sha256 = "6".repeat(64);
        cert.harness.sha256 = Some("8".repeat(64));
        let d = compare(&a, &b);
        let subjects: Vec<_> = d.differences.iter().map(|d| d.subject.as_str()).collect();
        assert_eq!(subjects, ["suite name", "suite sha256"]);
        assert_eq!(d.notes.len(), 1);
        let json = serde_json::to_value(&d).unwrap();
        assert_eq!(json["format"], FORMAT);
        assert_eq!(json["differences"][0]["a"], "silver");
        assert_eq!(json["differences"][0]["b"], "gold");
    }
}
