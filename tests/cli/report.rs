//! The reports: JUnit that validates against the strict schema and reads the
//! same in the usual consumers, a JSON summary with the same facts, evidence
//! beside them, and exit codes as documented.

use certify_fixtures::{HTTP_PROBE, MISBEHAVING};

use crate::support::{Server, cases, certify, read_json, run, validate_junit};

#[test]
fn junit_validates_and_says_what_json_says() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("out/junit.xml");
    let json = dir.path().join("out/report.json");
    let out = run(certify()
        .args(["plugin", "run", MISBEHAVING, "--allow-host"])
        .arg(server.address())
        .arg("--param")
        .arg(format!("url={}", server.url("/health")))
        .arg("--junit")
        .arg(&junit)
        .arg("--json")
        .arg(&json));
    assert_eq!(out.code, 1, "{out:?}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    validate_junit(&xml);

    // Read it back the way CI consumers do.
    let parsed = quick_junit::Report::deserialize_from_str(&xml).expect("the report parses back");
    let report = read_json(&json);
    assert_eq!(
        parsed.tests,
        report["counts"]["tests"].as_u64().unwrap() as usize
    );
    // well.fail, huge-message and ansi-message.
    assert_eq!(parsed.failures, 3);
    assert_eq!(
        parsed.errors,
        report["counts"]["errors"].as_u64().unwrap() as usize
    );
    let suites: Vec<&str> = parsed.test_suites.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        suites,
        [
            "plugin-performs-as-advertised",
            "plugin-blueprint-integration",
            "plugin-business-value"
        ]
    );
    // One scheme: a case's classname is its suite's name.
    for suite in &parsed.test_suites {
        for case in &suite.test_cases {
            assert_eq!(
                case.classname.as_ref().map(|c| c.as_str()),
                Some(suite.name.as_str())
            );
        }
    }

    // Provenance once, on the first suite.
    let wasm = std::fs::read(MISBEHAVING).unwrap();
    let digest = {
        use sha2::Digest as _;
        hex::encode(sha2::Sha256::digest(&wasm))
    };
    assert_eq!(xml.matches("name=\"harness.version\"").count(), 1, "{xml}");
    for suite in parsed.test_suites.iter().take(1) {
        let props: Vec<(&str, &str)> = suite
            .properties
            .iter()
            .map(|p| (p.name.as_str(), p.value.as_str()))
            .collect();
        assert!(
            props.contains(&("plugin.sha256", digest.as_str())),
            "{props:?}"
        );
        assert!(props.contains(&("plugin.name", "misbehaving")));
        assert!(props.contains(&("harness.version", env!("CARGO_PKG_VERSION"))));
    }

    // failure / error / skipped map as documented, with the reason.
    let case = |id: &str| {
        parsed
            .test_suites
            .iter()
            .flat_map(|s| &s.test_cases)
            .find(|c| c.name.as_str() == id)
            .unwrap_or_else(|| panic!("no case {id}"))
            .clone()
    };
    use quick_junit::{NonSuccessKind, TestCaseStatus};
    match case("well.fail").status {
        TestCaseStatus::NonSuccess {
            kind: NonSuccessKind::Failure,
            message,
            description,
            ..
        } => {
            assert!(message.unwrap().as_str().contains("expected 4"));
            assert!(
                description
                    .unwrap()
                    .as_str()
                    .contains("What to do: Make the widget return 4.")
            );
        }
        other => panic!("well.fail is {other:?}"),
    }
    match case("memory-bomb").status {
        TestCaseStatus::NonSuccess {
            kind: NonSuccessKind::Error,
            ty,
            ..
        } => {
            assert_eq!(ty.unwrap().as_str(), "memory-limit");
        }
        other => panic!("memory-bomb is {other:?}"),
    }
    assert!(matches!(
        case("well.skip").status,
        TestCaseStatus::Skipped { .. }
    ));
    // The plugin's log, escape codes and CDATA terminator included, survives.
    let out = case("well.pass").system_out.unwrap();
    assert!(out.as_str().contains("all good"), "{}", out.as_str());
    assert!(out.as_str().contains("]]>"), "{}", out.as_str());
}

#[test]
fn evidence_is_written_beside_the_report_with_its_digest() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("report.json");
    let out = run(certify()
        .args([
            "plugin",
            "run",
            HTTP_PROBE,
            "--check",
            "service.health",
            "--allow-host",
        ])
        .arg(server.address())
        .arg("--param")
        .arg(format!("base_url={}", server.url("")))
        .arg("--json")
        .arg(&json));
    assert_eq!(out.code, 0, "{out:?}");
    let report = read_json(&json);
    let (_, case) = &cases(&report)[0];
    let attachment = &case["attachments"][0];
    let path = dir.path().join(attachment["path"].as_str().unwrap());
    assert_eq!(std::fs::read(&path).unwrap(), b"ok");
    assert_eq!(attachment["size"], 2);
    assert_eq!(report["format"], "certify-report/1");
    assert_eq!(report["passed"], true);
}

#[test]
fn exit_codes_are_as_documented() {
    let pass = run(certify().args([
        "plugin",
        "run",
        MISBEHAVING,
        "--check",
        "well.pass",
        "--check",
        "well.skip",
    ]));
    assert_eq!(pass.code, 0, "{pass:?}");
    let fail = run(certify().args(["plugin", "run", MISBEHAVING, "--check", "well.fail"]));
    assert_eq!(fail.code, 1, "{fail:?}");
    let error = run(certify().args(["plugin", "run", MISBEHAVING, "--check", "trap"]));
    assert_eq!(error.code, 1, "{error:?}");
    let usage = run(certify().args(["plugin", "run", MISBEHAVING, "--allow-host", "http://x/y"]));
    assert_eq!(usage.code, 2, "{usage:?}");
    assert!(usage.stderr.contains("not an address"), "{usage:?}");
}

/// The schema check itself must be able to fail: a case without its required
/// `name` and an attribute the strict schema does not list are both refused.
#[test]
fn the_schema_check_refuses_what_the_strict_schema_does_not_allow() {
    let valid = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="r" tests="1" failures="0" errors="0" skipped="0"><testsuite name="a" tests="1" failures="0" errors="0" skipped="0" time="0.1" timestamp="2026-01-01T00:00:00" hostname="h" id="0" package="p"><properties/><testcase name="c" classname="k" time="0.1"/><system-out/><system-err/></testsuite></testsuites>"#;
    validate_junit(valid);
    for invalid in [
        valid.replace(r#"<testcase name="c" "#, "<testcase "),
        valid.replace(
            r#"<testsuite name="a" "#,
            r#"<testsuite name="a" flaky="1" "#,
        ),
    ] {
        let refused = std::panic::catch_unwind(|| validate_junit(&invalid));
        assert!(refused.is_err(), "validated although invalid:\n{invalid}");
    }
}
