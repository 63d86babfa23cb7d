//! Reading report.json ("certify-report/1") as plain JSON, tolerantly: a missing
//! optional field reads as absent rather than failing, so that the summary renders
//! what is there and verification names what is wrong instead of stopping.

use std::collections::HashMap;

use serde_json::Value;

use crate::InputDigest;

/// The report format this crate reads.
pub(crate) const FORMAT: &str = "certify-report/1";

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

    /// As report.json states them in `counts`, if it does.
    pub(crate) fn stated(report: &Value) -> Option<Counts> {
        serde_json::from_value(report.get("counts")?.clone()).ok()
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
pub(crate) fn test_ids(report: &Value) -> (Vec<String>, Vec<String>) {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (_, case) in cases(report) {
        *seen.entry(str_of(case, "id").unwrap_or("")).or_default() += 1;
    }
    let (mut passed, mut failed) = (Vec::new(), Vec::new());
    for (suite, case) in cases(report) {
        let id = str_of(case, "id").unwrap_or("");
        let id = if seen[id] > 1 {
            format!("{suite}/{id}")
        } else {
            id.to_string()
        };
        match verdict(case) {
            "passed" => passed.push(id),
            "failed" | "error" => failed.push(id),
            _ => {}
        }
    }
    (passed, failed)
}

/// The certified inputs recorded in `certification.inputs`, in report order; entries
/// that are not objects with string fields read as empty strings, so that they show up
/// as differences rather than vanish.
pub(crate) fn inputs(report: &Value) -> Option<Vec<InputDigest>> {
    let list = at(report, &["certification", "inputs"])?.as_array()?;
    Some(
        list.iter()
            .map(|i| InputDigest {
                path: str_of(i, "path").unwrap_or("").to_string(),
                role: str_of(i, "role").unwrap_or("").to_string(),
                sha256: str_of(i, "sha256").unwrap_or("").to_string(),
            })
            .collect(),
    )
}
