//! Every way a plugin can go wrong ends as the right `error` testcase, while
//! the well-behaved checks in the same run still pass; refused plugins are
//! refused at load with the reason.

use certify_fixtures::{FORBIDDEN, MISBEHAVING, TRIVIAL};

use crate::support::{Server, cases, certify, read_json, run};

/// Check id → (verdict, error kind, a phrase the message must contain).
const EXPECTED: &[(&str, &str, &str, &str)] = &[
    ("well.pass", "passed", "", ""),
    ("well.fail", "failed", "", "expected 4"),
    ("well.skip", "skipped", "", "no load balancer"),
    ("well.http", "passed", "", ""),
    ("infinite-loop", "error", "timeout", "time limit of 2s"),
    (
        "memory-bomb",
        "error",
        "memory-limit",
        "the limit is 128 MiB",
    ),
    (
        "deep-recursion",
        "error",
        "stack-overflow",
        "overflowed its stack",
    ),
    ("trap", "error", "trap", "unreachable"),
    ("panic", "error", "panic", "the plugin lost its temper"),
    ("log-flood", "error", "output-limit", "logged more than"),
    ("stdout-flood", "error", "output-limit", "stdout/stderr"),
    ("oversized-evidence", "error", "evidence-limit", "8 MiB"),
    (
        "malformed-result",
        "error",
        "malformed-result",
        "finite value",
    ),
    (
        "http-not-granted",
        "error",
        "check-error",
        "203.0.113.9:80 is not granted",
    ),
    (
        "host-call-hangs",
        "error",
        "timeout",
        "waiting in a host call",
    ),
    (
        "huge-message",
        "failed",
        "",
        "[truncated: 25165824 bytes in all",
    ),
    ("evidence-flood", "passed", "", ""),
    ("measurement-flood", "passed", "", ""),
    ("ansi-message", "failed", "", "the widget is down"),
    // Fields count in the log budget like the message does.
    (
        "log-field-flood",
        "error",
        "output-limit",
        "logged more than",
    ),
];

#[test]
fn every_misbehaviour_is_the_right_error_and_good_checks_still_pass() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("report.json");
    let junit = dir.path().join("junit.xml");
    let out = run(certify()
        .args(["plugin", "run", MISBEHAVING, "--allow-host"])
        .arg(server.address())
        .arg("--param")
        .arg(format!("url={}", server.url("/health")))
        .arg("--json")
        .arg(&json)
        .arg("--junit")
        .arg(&junit));
    assert_eq!(out.code, 1, "{out:?}");
    let report = read_json(&json);
    let cases = cases(&report);
    // Every behaviour the guest declares has an expectation here, and back.
    let ids: Vec<&str> = cases.iter().map(|(id, _)| id.as_str()).collect();
    let expected: Vec<&str> = EXPECTED.iter().map(|e| e.0).collect();
    let mut sorted_ids = ids.clone();
    sorted_ids.sort();
    let mut sorted_expected = expected.clone();
    sorted_expected.sort();
    assert_eq!(
        sorted_ids, sorted_expected,
        "the guest's behaviours and this test's table differ"
    );

    for (id, verdict, kind, phrase) in EXPECTED {
        let case = &cases.iter().find(|(c, _)| c == id).unwrap().1;
        assert_eq!(case["verdict"], *verdict, "{id}: {case:#}");
        if !kind.is_empty() {
            assert_eq!(case["kind"], *kind, "{id}: {case:#}");
        }
        let text = case["message"]
            .as_str()
            .or(case["reason"].as_str())
            .unwrap_or("");
        assert!(
            text.contains(phrase),
            "{id}: {text:?} does not contain {phrase:?}"
        );
    }
    assert_eq!(report["counts"]["passed"], 4);
    assert_eq!(report["counts"]["errors"], 12);
    bounded(&cases, &std::fs::read_to_string(&junit).unwrap());
}

/// What a plugin returns is bounded: messages, measurements, evidence, names.
fn bounded(cases: &[(String, serde_json::Value)], junit: &str) {
    let case = |id: &str| &cases.iter().find(|(c, _)| c == id).unwrap().1;
    let huge = case("huge-message")["message"].as_str().unwrap();
    assert!(huge.len() <= (64 << 10) + 100, "{}", huge.len());
    assert_eq!(
        case("measurement-flood")["measurements"]
            .as_array()
            .unwrap()
            .len(),
        256
    );
    let evidence = case("evidence-flood")["attachments"].as_array().unwrap();
    assert_eq!(evidence.len(), 64);
    assert!(
        evidence
            .iter()
            .all(|e| !e["name"].as_str().unwrap().contains('/')),
        "{evidence:?}"
    );
    assert!(
        case("evidence-flood")["output"]
            .as_str()
            .unwrap()
            .contains("99936 evidence items dropped"),
    );
    // No control character reaches the report (or a terminal printing it).
    let ansi = case("ansi-message")["message"].as_str().unwrap();
    assert!(
        !ansi.chars().any(|c| c.is_control() && c != '\n'),
        "{ansi:?}"
    );
    // Every JUnit text node stays under lxml's default 10 MB limit.
    assert!(junit.len() < 10 << 20, "junit.xml is {} bytes", junit.len());
}

#[test]
fn a_plugin_importing_an_ungranted_capability_is_refused_naming_it() {
    let out = run(certify().args(["plugin", "run", FORBIDDEN]));
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.contains("load-failed"), "{out:?}");
    assert!(
        out.stdout.contains("imports `evil:backdoor/shell`"),
        "{out:?}"
    );

    let inspect = run(certify().args(["plugin", "inspect", FORBIDDEN]));
    assert_eq!(inspect.code, 2, "{inspect:?}");
    assert!(
        inspect.stderr.contains("evil:backdoor/shell"),
        "{inspect:?}"
    );
}

#[test]
fn a_pinned_digest_refuses_any_other_build() {
    let wasm = std::fs::read(TRIVIAL).unwrap();
    let right = hex_sha256(&wasm);
    let wrong = "0".repeat(64);
    let refused = run(certify().args([
        "plugin",
        "run",
        TRIVIAL,
        "--check",
        "trivial.0001",
        "--sha256",
        &wrong,
    ]));
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(
        refused.stdout.contains(&format!("sha256 is {right}")),
        "{refused:?}"
    );
    let accepted = run(certify().args([
        "plugin",
        "run",
        TRIVIAL,
        "--check",
        "trivial.0001",
        "--sha256",
        &right,
    ]));
    assert_eq!(accepted.code, 0, "{accepted:?}");
}

#[test]
fn broken_input_is_a_load_error_in_the_report_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.wasm");
    std::fs::write(&junk, b"\0asm\x01\0\0\0 this is not a component").unwrap();
    let json = dir.path().join("r.json");
    let out = run(certify()
        .arg("plugin")
        .arg("run")
        .arg(&junk)
        .arg("--json")
        .arg(&json));
    assert_eq!(out.code, 1, "{out:?}");
    let report = read_json(&json);
    let (id, case) = &cases(&report)[0];
    assert_eq!(id, "plugin.load");
    assert_eq!(case["kind"], "load-failed");
    assert!(
        case["message"].as_str().unwrap().contains("wasm32-wasip2"),
        "{case}"
    );

    let missing = run(certify().args(["plugin", "run", "/nonexistent/plugin.wasm"]));
    assert_eq!(missing.code, 2, "{missing:?}");
    assert!(
        missing
            .stderr
            .contains("reading the plugin /nonexistent/plugin.wasm"),
        "{missing:?}"
    );
}

#[test]
fn precompiled_artifacts_are_refused() {
    // Warm the cache, then hand one of its compiled artifacts back in.
    let out = run(certify().args(["plugin", "run", TRIVIAL, "--check", "trivial.0000"]));
    assert_eq!(out.code, 0, "{out:?}");
    let artifact = std::fs::read_dir(crate::support::cache_dir().join("compiled"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .expect("the cache holds compiled artifacts");
    let out = run(certify().arg("plugin").arg("run").arg(&artifact));
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stdout.contains("precompiled wasmtime artifact"),
        "{out:?}"
    );
}

#[test]
fn the_second_load_comes_from_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let first = run(certify().env("CERTIFY_CACHE_DIR", dir.path()).args([
        "plugin",
        "run",
        TRIVIAL,
        "--check",
        "trivial.0002",
    ]));
    assert!(first.stdout.contains("compiled"), "{first:?}");
    let second = run(certify().env("CERTIFY_CACHE_DIR", dir.path()).args([
        "plugin",
        "run",
        TRIVIAL,
        "--check",
        "trivial.0002",
    ]));
    assert!(second.stdout.contains("from cache"), "{second:?}");
    let uncached = run(certify().env("CERTIFY_CACHE_DIR", dir.path()).args([
        "--no-cache",
        "plugin",
        "run",
        TRIVIAL,
        "--check",
        "trivial.0002",
    ]));
    assert!(uncached.stdout.contains("compiled"), "{uncached:?}");
}

#[test]
fn unknown_check_ids_are_errors_and_the_rest_still_run() {
    let out = run(certify().args([
        "plugin",
        "run",
        MISBEHAVING,
        "--check",
        "well.pass",
        "--check",
        "no.such.check",
    ]));
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.contains("PASS  well.pass"), "{out:?}");
    assert!(
        out.stdout
            .contains("[unknown-check]: the plugin has no check `no.such.check`"),
        "{out:?}"
    );
}

fn hex_sha256(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(bytes))
}
