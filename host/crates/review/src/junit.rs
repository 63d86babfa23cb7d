//! junit.xml as a pure function of report.json, written with `quick-junit` (which
//! escapes ANSI colour codes, `]]>` and characters XML cannot hold).
//!
//! The harness renders junit.xml from the report.json it has just written, and
//! verification renders it again from the signed report.json and compares bytes: the
//! JUnit report cannot say anything report.json does not.
//!
//! The output validates against the strict Jenkins schema (`junit-10.xsd`) with one
//! tolerated exception: quick-junit always writes a `skipped` count on `<testsuites>`,
//! which that schema does not list and every common consumer accepts. So: no properties
//! or extra attributes on test cases (the schema has none); the run's provenance goes
//! once into the first suite's `<properties>` (the schema allows none on
//! `<testsuites>`), each suite's own properties into its own, and per-case details
//! (location, hint, measurements, attachments, captured output) into the case's
//! `<system-out>`, which is also what GitLab and the GitHub reporters show.
//!
//! Names follow the report's scheme (FORMAT.md, "Suites, classes and test ids"): a
//! suite and its cases' classname are one token without dots or paths, the test name
//! is the case's stable id.
//!
//! - a failed case is `<failure>` (the candidate's product did not do it);
//! - a case that could not run is `<error type="KIND">`;
//! - a skipped case is `<skipped message="REASON">`.

use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, TestCase, TestCaseStatus, TestSuite};

use crate::model::{Case, Report, Verdict};

/// Render a report as JUnit XML. Fails only if quick-junit cannot write XML.
pub fn render(report: &Report) -> Result<String, String> {
    let mut junit = quick_junit::Report::new(report.name.as_str());
    junit.set_time(seconds(report.duration));
    let timestamp = chrono::DateTime::parse_from_rfc3339(&report.started_at).ok();
    for (i, suite) in report.suites.iter().enumerate() {
        let mut out = TestSuite::new(suite.name.as_str());
        if let Some(ts) = timestamp {
            out.set_timestamp(ts);
        }
        out.set_time(suite.cases.iter().map(|c| seconds(c.duration)).sum());
        let provenance = if i == 0 { &report.properties[..] } else { &[] };
        for (name, value) in provenance.iter().chain(&suite.properties) {
            out.add_property(Property::new(name.as_str(), value.as_str()));
        }
        out.add_test_cases(suite.cases.iter().map(case));
        junit.add_test_suite(out);
    }
    junit
        .to_string()
        .map_err(|e| format!("rendering the JUnit report: {e}"))
}

/// Seconds as report.json holds them; negative, NaN or huge values (a hostile
/// report.json) read as zero rather than panicking.
fn seconds(s: f64) -> Duration {
    Duration::try_from_secs_f64(s).unwrap_or_default()
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
    tc.set_time(seconds(case.duration));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> Report {
        serde_json::from_value(crate::testutil::report()).unwrap()
    }

    #[test]
    fn rendering_is_a_pure_function_of_the_report() {
        let a = render(&fixture()).unwrap();
        assert_eq!(a, render(&fixture()).unwrap());
        let parsed = quick_junit::Report::deserialize_from_str(&a).unwrap();
        assert_eq!((parsed.tests, parsed.failures, parsed.errors), (5, 1, 1));
        assert!(
            a.contains("what to do: Serve the full certificate chain"),
            "{a}"
        );
        assert!(
            a.contains("[[ATTACHMENT|evidence/http-probe.tls/chain.pem]]"),
            "{a}"
        );
        assert!(!a.contains("\u{1b}"), "ANSI codes are escaped");
    }

    #[test]
    fn the_provenance_is_written_once() {
        let xml = render(&fixture()).unwrap();
        assert_eq!(xml.matches("name=\"run.id\"").count(), 1, "{xml}");
        let first_suite = xml.find("<testsuite ").unwrap();
        let second_suite = xml[first_suite + 1..].find("<testsuite ").unwrap() + first_suite;
        let at = xml.find("name=\"run.id\"").unwrap();
        assert!(first_suite < at && at < second_suite, "{xml}");
    }

    #[test]
    fn a_changed_case_changes_the_bytes() {
        let mut r = fixture();
        r.suites[0].cases[1].verdict = Verdict::Passed;
        assert_ne!(render(&r).unwrap(), render(&fixture()).unwrap());
    }

    #[test]
    fn hostile_durations_do_not_panic() {
        let mut r = fixture();
        r.duration = f64::NAN;
        r.suites[0].cases[0].duration = -1.0;
        r.suites[0].cases[1].duration = 1e300;
        render(&r).unwrap();
    }
}
