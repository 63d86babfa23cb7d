//! Reading report.json ("certify-report/1") as plain JSON, tolerantly: a missing
//! optional field reads as absent rather than failing, so that the summary renders
//! what is there and verification names what is wrong instead of stopping.

use std::collections::HashMap;

use serde_json::Value;

use crate::InputDigest;
use crate::model::{Certification, Report, Verdict};

/// A string field of an object.
pub(crate) fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// A field along a path of keys.
pub(crate) fn at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(v, |v, k| v.get(k))
}

/// A string along a path of keys.
pub(crate) fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    at(v, path).and_then(Value::as_str)
}

/// The elements of an array field (none when absent or not an array).
pub(crate) fn array<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// Every case with the name of its suite, in report order.
pub(crate) fn cases(report: &Value) -> impl Iterator<Item = (&str, &Value)> {
    array(report, "suites").iter().flat_map(|suite| {
        let name = str_of(suite, "name").unwrap_or("");
        array(suite, "cases").iter().map(move |case| (name, case))
    })
}

/// A case's verdict: `passed`, `failed`, `error` or `skipped` (empty when absent).
pub(crate) fn verdict(case: &Value) -> &str {
    str_of(case, "verdict").unwrap_or("")
}

pub(crate) use crate::model::Counts;

/// Counting a report read as plain JSON.
impl Counts {
    /// Counted from the cases themselves.
    pub(crate) fn of_cases(report: &Value) -> Counts {
        let mut c = Counts::default();
        for (_, case) in cases(report) {
            c.tests += 1;
            match verdict(case) {
                "passed" => c.passed += 1,
                "failed" => c.failures += 1,
                "error" => c.errors += 1,
                "skipped" => c.skipped += 1,
                _ => {}
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

/// The check ids that passed and those that failed or could not run, in report order.
/// A case's id is its own unless another suite has a case with the same id; then it is
/// qualified as `suite/id`, so that every id names one case.
pub(crate) fn test_ids(report: &Report) -> (Vec<String>, Vec<String>) {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (_, case) in report.cases() {
        *seen.entry(case.id.as_str()).or_default() += 1;
    }
    let (mut passed, mut failed) = (Vec::new(), Vec::new());
    for (suite, case) in report.cases() {
        let id = if seen[case.id.as_str()] > 1 {
            format!("{}/{}", suite.name, case.id)
        } else {
            case.id.clone()
        };
        match case.verdict {
            Verdict::Passed => passed.push(id),
            Verdict::Failed { .. } | Verdict::Error { .. } => failed.push(id),
            Verdict::Skipped { .. } => {}
        }
    }
    (passed, failed)
}

/// The certified inputs recorded in `certification.inputs`, in report order.
pub(crate) fn inputs(cert: &Certification) -> Vec<InputDigest> {
    cert.inputs
        .iter()
        .map(|i| InputDigest::new(&i.path, &i.role, &i.sha256))
        .collect()
}
