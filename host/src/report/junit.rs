//! The JUnit XML mapping, written with `quick-junit` (which escapes ANSI
//! colour codes, `]]>` and characters XML cannot hold).
//!
//! The output validates against the strict Jenkins schema
//! (`junit-10.xsd`) with one tolerated exception: quick-junit always writes a
//! `skipped` count on `<testsuites>`, which that schema does not list and
//! every common consumer accepts. So: no properties or extra attributes on
//! test cases (the schema has none); provenance goes into every suite's
//! `<properties>`, and per-case details (location, hint, measurements,
//! attachments, captured output) into the case's `<system-out>`, which is
//! also what GitLab and the GitHub reporters show.
//!
//! - a failed case is `<failure>` (the candidate's product did not do it);
//! - a case that could not run is `<error type="KIND">`;
//! - a skipped case is `<skipped message="REASON">`.

use quick_junit::{NonSuccessKind, Property, TestCase, TestCaseStatus, TestSuite};

use super::model::{Case, Report, Verdict};
use crate::Error;

/// Render a report as JUnit XML.
pub fn render(report: &Report) -> Result<String, Error> {
    let mut junit = quick_junit::Report::new(report.name.as_str());
    junit.set_time(report.duration);
    let timestamp = chrono::DateTime::parse_from_rfc3339(&report.started_at).ok();
    for suite in &report.suites {
        let mut out = TestSuite::new(suite.name.as_str());
        if let Some(ts) = timestamp {
            out.set_timestamp(ts);
        }
        out.set_time(suite.cases.iter().map(|c| c.duration).sum());
        for (name, value) in report.properties.iter().chain(&suite.properties) {
            out.add_property(Property::new(name.as_str(), value.as_str()));
        }
        out.add_test_cases(suite.cases.iter().map(case));
        junit.add_test_suite(out);
    }
    junit
        .to_string()
        .map_err(|e| Error::Other(anyhow::anyhow!("rendering the JUnit report: {e}")))
}

fn case(case: &Case) -> TestCase {
    let status = match &case.verdict {
        Verdict::Passed => TestCaseStatus::success(),
        Verdict::Failed { message } => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            s.set_message(message.as_str()).set_type("failure");
            if let Some(hint) = &case.hint {
                s.set_description(format!("{message}\n\nWhat to do: {hint}"));
            }
            s
        }
        Verdict::Error { kind, message } => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
            s.set_message(message.as_str()).set_type(kind.as_str());
            s
        }
        Verdict::Skipped { reason } => {
            let mut s = TestCaseStatus::skipped();
            s.set_message(reason.as_str());
            s
        }
    };
    let mut tc = TestCase::new(case.id.as_str(), status);
    tc.set_classname(case.classname.as_str());
    tc.set_time(case.duration);
    tc.set_system_out(system_out(case));
    tc
}

/// Everything about a case a reviewer wants to see next to it.
fn system_out(case: &Case) -> String {
    let mut out = format!("{}\n", case.title);
    if let Some(location) = &case.location {
        out.push_str(&format!("at: {location}\n"));
    }
    if let Some(hint) = &case.hint {
        out.push_str(&format!("what to do: {hint}\n"));
    }
    for (name, value, unit) in &case.measurements {
        out.push_str(&format!("measurement: {name} = {value} {unit}\n"));
    }
    for a in &case.attachments {
        out.push_str(&format!(
            "evidence: {} ({}, {} bytes, sha256 {})\n[[ATTACHMENT|{}]]\n",
            a.name, a.media_type, a.size, a.sha256, a.path
        ));
    }
    if !case.output.is_empty() {
        out.push_str("--- output ---\n");
        out.push_str(&case.output);
    }
    out
}
