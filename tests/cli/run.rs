//! `certify run` end to end on the embedded emulator: the sample candidate is
//! certified and its report verifies; broken copies of it get the right
//! verdict, exit code and reason; interrupted and killed runs still leave
//! nothing behind.
//!
//! Runs are serialized: each starts its own emulator, whose servers listen on
//! the same loopback addresses.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use certify_fixtures::SAMPLE_PLUGIN;

use crate::support::{cases, certify, read_json, run, validate_junit};

pub static ONE_RUN_AT_A_TIME: Mutex<()> = Mutex::new(());

pub fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("plugins/sample-candidate")
}

/// A `certify run` with its own state directory (`state.db` with the ledger and
/// journal, `emulator/` with the emulator's account).
pub fn certify_run(state: &Path, bundle: &Path, out: &Path) -> Command {
    let mut cmd = certify();
    cmd.env_remove("CERTIFY_STATE_DB")
        .arg("run")
        .arg(bundle)
        .arg("--out")
        .arg(out)
        .arg("--state")
        .arg(state);
    cmd
}

/// A copy of the sample bundle whose plugin is the prebuilt `.wasm` (built
/// once by the fixtures, instead of once per copy).
pub fn sample_copy(dir: &Path) -> PathBuf {
    let copy = dir.join("bundle");
    copy_dir(&sample(), &copy, &|p| p.ends_with("plugin"));
    std::fs::copy(SAMPLE_PLUGIN, copy.join("plugin.wasm")).unwrap();
    edit(
        &copy.join("candidate.toml"),
        "[plugin]\npath = \"plugin\"",
        "[plugin]\npath = \"plugin.wasm\"",
    );
    copy
}

pub fn copy_dir(from: &Path, to: &Path, skip: &dyn Fn(&Path) -> bool) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let path = entry.path();
        if skip(&path) {
            continue;
        }
        let target = to.join(entry.file_name());
        if path.is_dir() {
            copy_dir(&path, &target, skip);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

pub fn edit(file: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(file).unwrap();
    assert!(
        text.contains(from),
        "{} does not contain {from:?}",
        file.display()
    );
    std::fs::write(file, text.replacen(from, to, 1)).unwrap();
}

/// Record in the run's ledger that earlier runs this month spent `cents` of
/// the emulator account's Silver credit.
pub fn spent(state: &Path, cents: i64) {
    use certify_ledger::{Ledger, Money, Month, ReservationRequest};
    let mut ledger = Ledger::open(state.join("state.db")).unwrap();
    let r = ledger
        .reserve(&ReservationRequest {
            account: "CERT",
            month: Month::current(),
            run_id: "earlier",
            description: "earlier runs",
            estimate: Money::from_cents(cents),
            credit: Money::from_dollars(2_000),
            account_month_to_date: Money::ZERO,
        })
        .unwrap()
        .unwrap();
    ledger.settle(r.id, Money::from_cents(cents)).unwrap();
}

pub fn case(report: &serde_json::Value, id: &str) -> serde_json::Value {
    cases(report)
        .into_iter()
        .find(|(i, _)| i == id)
        .unwrap_or_else(|| panic!("no case {id}"))
        .1
}

fn reasons(report: &serde_json::Value) -> String {
    report["certification"]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_sample_candidate_is_certified_and_its_report_verifies() {
    let _one = ONE_RUN_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report");
    let done = run(&mut certify_run(dir.path(), &sample(), &out));
    assert_eq!(done.code, 0, "{done:?}");
    assert!(done.stdout.contains("CERTIFIED"), "{done:?}");

    let report = read_json(&out.join("report.json"));
    assert_eq!(report["certification"]["verdict"], "certified");
    assert_eq!(report["certification"]["teardown"]["verified"], true);
    assert!(
        report["certification"]["time_to_value"]["seconds"]
            .as_f64()
            .unwrap()
            > 0.0
    );
    for id in [
        "blueprint.deployed",
        "blueprint.time-to-value",
        "teardown.verified",
        "budget.settled",
        "status.api",
    ] {
        assert_eq!(case(&report, id)["verdict"], "passed", "{id}");
    }
    let inputs = report["certification"]["inputs"].as_array().unwrap();
    assert!(inputs.iter().any(|i| i["path"] == "candidate.toml"));
    let xml = std::fs::read_to_string(out.join("junit.xml")).unwrap();
    validate_junit(&xml);
    junit_names_match_the_snapshot(&xml);
    portable_and_readable(&out, &[dir.path(), Path::new(env!("CARGO_MANIFEST_DIR"))]);
    assert!(
        std::fs::read_to_string(out.join("summary.html"))
            .unwrap()
            .contains("Certified")
    );

    // The report verifies, against the bundle too.
    let ok = run(certify()
        .args(["report", "verify"])
        .arg(&out)
        .arg("--bundle")
        .arg(sample()));
    assert_eq!(ok.code, 0, "{ok:?}");

    // One changed input byte is named.
    let copy = dir.path().join("changed");
    copy_dir(&sample(), &copy, &|p| p.ends_with("target"));
    edit(&copy.join("blueprint.json"), "Acme", "ACME");
    let changed = run(certify()
        .args(["report", "verify"])
        .arg(&out)
        .arg("--bundle")
        .arg(&copy));
    assert_eq!(changed.code, 1, "{changed:?}");
    assert!(changed.stdout.contains("blueprint.json"), "{changed:?}");

    // One edited byte of the report is named.
    let junit = out.join("junit.xml");
    let mut bytes = std::fs::read(&junit).unwrap();
    let at = bytes.iter().position(|b| *b == b'1').unwrap();
    bytes[at] = b'2';
    std::fs::write(&junit, bytes).unwrap();
    let tampered = run(certify().args(["report", "verify"]).arg(&out));
    assert_eq!(tampered.code, 1, "{tampered:?}");
    assert!(tampered.stdout.contains("junit.xml"), "{tampered:?}");

    // The ledger holds the settled run, in the --state directory with the emulator's
    // account; its month-to-date is the report's.
    assert!(dir.path().join("emulator").is_dir());
    let budget = run(certify().arg("budget").arg("--state").arg(dir.path()));
    assert_eq!(budget.code, 0, "{budget:?}");
    assert!(budget.stdout.contains("settled"), "{budget:?}");
    assert!(
        budget.stdout.contains("(1 server for 1 billed hour)"),
        "{budget:?}"
    );
    let month_to_date = report["certification"]["credit_used"]["month_to_date"]
        .as_str()
        .unwrap();
    assert!(
        budget
            .stdout
            .contains(&format!("month-to-date       {month_to_date}")),
        "{month_to_date}: {budget:?}"
    );
    // --state names a directory; a file there is named plainly.
    let file = run(certify()
        .arg("budget")
        .arg("--state")
        .arg(dir.path().join("state.db")));
    assert_eq!(file.code, 2, "{file:?}");
    assert!(file.stderr.contains("is a file"), "{file:?}");
}

/// The suite, classname and test name of every JUnit case of the sample's report, as
/// `tests/cli/snapshots/sample-junit-names.txt` pins them: the naming scheme (FORMAT.md
/// of the review crate) is an interface CI systems keep history by. Set
/// `CERTIFY_UPDATE_SNAPSHOTS=1` to rewrite the file after a deliberate change.
fn junit_names_match_the_snapshot(xml: &str) {
    let parsed = quick_junit::Report::deserialize_from_str(xml).unwrap();
    let mut names = String::new();
    for suite in &parsed.test_suites {
        for case in &suite.test_cases {
            let classname = case.classname.as_ref().map_or("", |c| c.as_str());
            assert!(
                !classname.contains('.') && !classname.contains('/'),
                "{classname}"
            );
            assert_eq!(classname, suite.name.as_str());
            names.push_str(&format!("{} {}\n", suite.name.as_str(), case.name.as_str()));
        }
    }
    let snapshot =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cli/snapshots/sample-junit-names.txt");
    if std::env::var_os("CERTIFY_UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&snapshot, &names).unwrap();
    }
    let expected = std::fs::read_to_string(&snapshot).unwrap();
    assert_eq!(
        names,
        expected,
        "the JUnit names differ from {}",
        snapshot.display()
    );
    // The provenance once, not in every suite.
    assert_eq!(xml.matches("name=\"run.id\"").count(), 1);
}

/// Every file of a report can be read by others (0644) and names no path of the
/// machine: not the bundle's, not the output's, not the cache's.
fn portable_and_readable(out: &Path, local: &[&Path]) {
    use std::os::unix::fs::PermissionsExt as _;
    let mut local: Vec<String> = local.iter().map(|p| p.display().to_string()).collect();
    local.push(crate::support::cache_dir().display().to_string());
    local.extend(std::env::var("HOME").ok().filter(|h| h.len() > 1));
    let mut files = vec![out.to_path_buf()];
    let mut seen = 0;
    while let Some(path) = files.pop() {
        if path.is_dir() {
            files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        seen += 1;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644, "{} is {mode:o}", path.display());
        let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
        for l in &local {
            assert!(
                !text.contains(l.as_str()),
                "{} names the local path {l}",
                path.display()
            );
        }
        assert!(
            !text.contains("99999999"),
            "{} has float noise",
            path.display()
        );
    }
    assert!(seen >= 4, "{seen} files");
}

/// The workspace's copy of the SDK, for plugins built outside the workspace
/// while `certify-sdk` is not on crates.io.
pub fn workspace_sdk() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sdk")
}

/// Give a plugin project outside the workspace the workspace's lock file, so
/// it builds with the dependency versions the workspace tests, without
/// resolving them anew.
pub fn lock_like_the_workspace(plugin: &Path) {
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.lock"),
        plugin.join("Cargo.lock"),
    )
    .unwrap();
}

#[test]
fn a_copy_of_the_sample_outside_the_repository_is_certified() {
    let _one = ONE_RUN_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("acme-status-page");
    copy_dir(&sample(), &copy, &|p| p.ends_with("target"));
    lock_like_the_workspace(&copy.join("plugin"));

    // Without a certify-sdk to build against, the plugin does not load: the run
    // stops before anything is deployed, and the report gives that cause first.
    let out = dir.path().join("no-sdk");
    let done = run(certify_run(dir.path(), &copy, &out).env_remove("CERTIFY_SDK_PATH"));
    assert_eq!(done.code, 1, "{done:?}");
    let report = read_json(&out.join("report.json"));
    let load = case(&report, "plugin.load");
    assert_eq!(load["verdict"], "error", "{load}");
    assert!(
        load["message"].as_str().unwrap().contains("certify-sdk"),
        "{load}"
    );
    assert_ne!(case(&report, "blueprint.deployed")["verdict"], "passed");
    assert!(
        reasons(&report)
            .lines()
            .next()
            .unwrap_or_default()
            .contains("certify-sdk"),
        "{}",
        reasons(&report)
    );

    // With the SDK's location, the copy is certified as the original is.
    let out = dir.path().join("report");
    let done = run(certify_run(dir.path(), &copy, &out).env("CERTIFY_SDK_PATH", workspace_sdk()));
    assert_eq!(done.code, 0, "{done:?}");
    let report = read_json(&out.join("report.json"));
    assert_eq!(report["certification"]["verdict"], "certified");
    for id in ["status.health", "status.api", "blueprint.time-to-value"] {
        assert_eq!(case(&report, id)["verdict"], "passed", "{id}");
    }
}

#[test]
fn a_failing_plugin_check_is_not_certified() {
    let _one = ONE_RUN_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let bundle = sample_copy(dir.path());
    edit(
        &bundle.join("candidate.toml"),
        "expected_version = \"2.3.1\"",
        "expected_version = \"3.0.0\"",
    );
    let out = dir.path().join("report");
    let done = run(&mut certify_run(dir.path(), &bundle, &out));
    assert_eq!(done.code, 1, "{done:?}");
    let report = read_json(&out.join("report.json"));
    assert_eq!(case(&report, "status.version")["verdict"], "failed");
    assert!(
        reasons(&report).contains("status.version"),
        "{}",
        reasons(&report)
    );
    assert_eq!(report["certification"]["teardown"]["verified"], true);
}

#[test]
fn a_step_that_no_longer_reproduces_is_not_certified() {
    let _one = ONE_RUN_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let bundle = sample_copy(dir.path());
    let article = bundle.join("kb/public/getting-started-with-acme-status-page-blueprint.md");
    edit(&article, "   ```text\n   2.3.1\n", "   ```text\n   2.2.0\n");
    let out = dir.path().join("report");
    let done = run(&mut certify_run(dir.path(), &bundle, &out));
    assert_eq!(done.code, 1, "{done:?}");
    let report = read_json(&out.join("report.json"));
    let failed: Vec<String> = cases(&report)
        .into_iter()
        .filter(|(id, c)| id.starts_with("step.") && c["verdict"] == "failed")
        .map(|(_, c)| c["location"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(
        failed[0].ends_with("getting-started-with-acme-status-page-blueprint.md:73"),
        "{failed:?}"
    );
    assert!(
        reasons(&report).contains("docs.steps"),
        "{}",
        reasons(&report)
    );
}

#[test]
fn a_blueprint_over_the_remaining_credit_is_refused_before_anything_is_created() {
    let _one = ONE_RUN_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    // Earlier runs this month spent all but a cent of the credit.
    spent(dir.path(), 199_999);
    let bundle = sample_copy(dir.path());
    let out = dir.path().join("report");
    let done = run(&mut certify_run(dir.path(), &bundle, &out));
    assert_eq!(done.code, 1, "{done:?}");
    let report = read_json(&out.join("report.json"));
    let refusal = case(&report, "budget.reservation");
    assert_eq!(refusal["verdict"], "failed");
    let message = refusal["message"].as_str().unwrap();
    for figure in ["$1,999.99", "$2,000.00", "exceed"] {
        assert!(message.contains(figure), "{message}");
    }
    assert_eq!(case(&report, "blueprint.deployed")["verdict"], "skipped");
    assert_eq!(case(&report, "teardown.complete")["verdict"], "skipped");
}

#[test]
fn a_package_that_fails_is_not_certified_and_still_torn_down() {
    let _one = ONE_RUN_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let bundle = sample_copy(dir.path());
    edit(
        &bundle.join("packages/install-acme-status/install.sh"),
        "set -eu\n",
        "set -eu\necho 'the licence server is unreachable' >&2\nexit 1\n",
    );
    let out = dir.path().join("report");
    let done = run(&mut certify_run(dir.path(), &bundle, &out));
    assert_eq!(done.code, 1, "{done:?}");
    let report = read_json(&out.join("report.json"));
    assert_eq!(case(&report, "blueprint.deployed")["verdict"], "failed");
    assert!(
        reasons(&report).contains("blueprint.deployed"),
        "{}",
        reasons(&report)
    );
    assert_eq!(case(&report, "teardown.verified")["verdict"], "passed");
}

/// Start a run and wait until it prints `line`.
pub(crate) fn start_until(cmd: &mut Command, line: &str) -> std::process::Child {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut reader = BufReader::new(stdout);
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut seen = String::new();
    loop {
        let mut l = String::new();
        if reader.read_line(&mut l).unwrap() == 0 || Instant::now() > deadline {
            panic!("the run ended before printing {line:?}:\n{seen}");
        }
        seen.push_str(&l);
        if l.contains(line) {
            break;
        }
    }
    // Keep draining so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in reader.lines() {});
    child
}

#[test]
fn ctrl_c_tears_down_and_still_writes_the_report() {
    let _one = ONE_RUN_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let bundle = sample_copy(dir.path());
    let out = dir.path().join("report");
    let mut child = start_until(&mut certify_run(dir.path(), &bundle, &out), "deploying");
    // SAFETY: sending a signal to our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = child.wait().unwrap();
    assert_eq!(
        status.code(),
        Some(1),
        "an interrupted run is not certified"
    );
    let report = read_json(&out.join("report.json"));
    let completed = case(&report, "run.completed");
    assert_eq!(completed["kind"], "interrupted");
    assert_eq!(case(&report, "teardown.verified")["verdict"], "passed");
}

#[test]
fn a_killed_run_is_reaped_by_the_next_one() {
    let _one = ONE_RUN_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let bundle = sample_copy(dir.path());
    let mut child = start_until(
        &mut certify_run(dir.path(), &bundle, &dir.path().join("first")),
        "deploying",
    );
    // In the middle of the deployment: the servers are being built.
    std::thread::sleep(Duration::from_millis(1500));
    child.kill().unwrap();
    child.wait().unwrap();
    // Let the emulator's last state snapshot land.
    std::thread::sleep(Duration::from_millis(500));

    let out = dir.path().join("second");
    let done = run(&mut certify_run(dir.path(), &bundle, &out));
    assert!(done.stdout.contains("reaped: run"), "{done:?}");
    assert!(
        done.stdout.contains("all deleted and verified gone"),
        "{done:?}"
    );
    assert_eq!(done.code, 0, "{done:?}");
    let nothing = run(certify()
        .env("CERTIFY_STATE_DB", dir.path().join("state.db"))
        .arg("cleanup"));
    assert!(
        nothing.stdout.contains("nothing to clean up"),
        "{nothing:?}"
    );
}

#[test]
fn with_the_account_misbehaving_teardown_still_completes_and_nothing_leaks() {
    let _one = ONE_RUN_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let bundle = sample_copy(dir.path());
    for seed in [3, 11] {
        let out = dir.path().join(format!("report-{seed}"));
        let faults = format!("seed={seed},5xx=0.2,drop=0.05,latency=0ms..20ms");
        let done = run(certify_run(dir.path(), &bundle, &out).args(["--faults", &faults]));
        // The verdict may go either way when the account fails a deploy
        // request; the guarantees may not.
        assert!(matches!(done.code, 0 | 1), "{done:?}");
        let report = read_json(&out.join("report.json"));
        if done.code == 1 {
            assert!(!reasons(&report).is_empty());
        }
        assert_eq!(
            report["certification"]["teardown"]["verified"], true,
            "{done:?}"
        );
    }
    let nothing = run(certify()
        .env("CERTIFY_STATE_DB", dir.path().join("state.db"))
        .arg("cleanup"));
    assert!(
        nothing.stdout.contains("nothing to clean up"),
        "{nothing:?}"
    );
    let budget = run(certify()
        .env("CERTIFY_STATE_DB", dir.path().join("state.db"))
        .arg("budget"));
    assert!(
        budget.stdout.contains("open reservations   $0.00 (0)"),
        "{budget:?}"
    );
}

/// The report with what legitimately differs between two runs of the same
/// inputs blanked out: the run id, times and durations, measured values,
/// ids the account assigns, and process ids in the product's own output.
fn normalized(report_json: &Path) -> String {
    let mut report = read_json(report_json);
    let run_id = report["certification"]["run_id"]
        .as_str()
        .unwrap()
        .to_string();
    fn blank(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(map) => {
                for (k, v) in map.iter_mut() {
                    if k == "duration" || k == "seconds" {
                        *v = serde_json::Value::Null;
                    } else if k == "measurements" {
                        for m in v.as_array_mut().into_iter().flatten() {
                            m[1] = serde_json::Value::Null;
                        }
                    } else {
                        blank(v);
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(blank),
            _ => {}
        }
    }
    blank(&mut report);
    let text = serde_json::to_string_pretty(&report)
        .unwrap()
        .replace(&run_id, "RUN");
    let patterns = [
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z",
        r"\b[0-9a-f]{32}\b",
        r"pid \d+",
        r"\d+m\d\ds",
        // The sample service's own clock, in the steps' recorded responses.
        r#"uptime_seconds\\": \d+"#,
    ];
    patterns.iter().fold(text, |t, p| {
        regex::Regex::new(p)
            .unwrap()
            .replace_all(&t, "…")
            .into_owned()
    })
}

#[test]
fn the_same_inputs_give_the_same_report_apart_from_ids_and_times() {
    let _one = ONE_RUN_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let bundle = sample_copy(dir.path());
    let mut reports = Vec::new();
    for name in ["first", "second"] {
        let state = dir.path().join(format!("state-{name}"));
        std::fs::create_dir_all(&state).unwrap();
        let out = dir.path().join(name);
        let done = run(&mut certify_run(&state, &bundle, &out));
        assert_eq!(done.code, 0, "{done:?}");
        reports.push(normalized(&out.join("report.json")));
    }
    if reports[0] != reports[1] {
        let first: Vec<&str> = reports[0].lines().collect();
        let second: Vec<&str> = reports[1].lines().collect();
        let diff: Vec<String> = first
            .iter()
            .zip(&second)
            .filter(|(a, b)| a != b)
            .map(|(a, b)| format!("- {a}\n+ {b}"))
            .take(10)
            .collect();
        panic!("the reports differ:\n{}", diff.join("\n"));
    }
}

/// The sample bundle with the cloud-actions plugin in place of its own.
fn cloud_copy(dir: &Path) -> PathBuf {
    let bundle = sample_copy(dir);
    std::fs::copy(certify_fixtures::CLOUD, bundle.join("plugin.wasm")).unwrap();
    bundle
}

#[test]
fn plugins_cloud_actions_are_limited_to_the_run_and_torn_down_with_it() {
    let _one = ONE_RUN_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let bundle = cloud_copy(dir.path());
    let out = dir.path().join("report");
    let done = run(&mut certify_run(dir.path(), &bundle, &out));
    let report = read_json(&out.join("report.json"));
    for id in ["cloud.reboot", "cloud.scale", "cloud.not-mine"] {
        assert_eq!(case(&report, id)["verdict"], "passed", "{id}: {done:?}");
    }
    // The added server was journaled and deleted with the run's group.
    let teardown = case(&report, "teardown.complete")["output"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(teardown.matches("deleted server").count(), 2, "{teardown}");
    assert_eq!(case(&report, "teardown.verified")["verdict"], "passed");
    // Its own credit was reserved and settled beside the run's.
    let budget = run(certify()
        .env("CERTIFY_STATE_DB", dir.path().join("state.db"))
        .arg("budget"));
    assert!(
        budget.stdout.contains("a plugin adds server SCALE"),
        "{budget:?}"
    );
    assert!(
        budget.stdout.contains("open reservations   $0.00 (0)"),
        "{budget:?}"
    );
}

#[test]
fn a_cloud_action_the_credit_cannot_cover_is_refused_with_the_numbers() {
    let _one = ONE_RUN_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    // Room for the blueprint's reservation, not for a second server.
    spent(dir.path(), 199_995);
    let bundle = cloud_copy(dir.path());
    let out = dir.path().join("report");
    let done = run(&mut certify_run(dir.path(), &bundle, &out));
    assert_eq!(done.code, 1, "{done:?}");
    let report = read_json(&out.join("report.json"));
    assert_eq!(case(&report, "budget.reservation")["verdict"], "passed");
    let scale = case(&report, "cloud.scale");
    assert_eq!(scale["verdict"], "failed", "{scale}");
    assert!(
        scale["message"]
            .as_str()
            .unwrap()
            .contains("exceed the $2,000.00 monthly credit"),
        "{scale}"
    );
    assert_eq!(case(&report, "teardown.verified")["verdict"], "passed");
}

#[test]
fn the_watchdog_tears_down_when_the_cost_reaches_the_reservation() {
    let _one = ONE_RUN_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let bundle = cloud_copy(dir.path());
    // A check that keeps the deployment up for more than the one billed hour
    // reserved: at clock scale 240 an account hour passes in 15 s.
    edit(
        &bundle.join("candidate.toml"),
        "[plugin.parameters]\n",
        "[plugin.parameters]\nlinger_secs = \"45\"\n",
    );
    let out = dir.path().join("report");
    let done = run(certify_run(dir.path(), &bundle, &out).args(["--clock-scale", "240"]));
    assert_eq!(done.code, 1, "{done:?}");
    let report = read_json(&out.join("report.json"));
    let completed = case(&report, "run.completed");
    assert_eq!(completed["kind"], "interrupted", "{completed}");
    assert!(
        completed["message"]
            .as_str()
            .unwrap()
            .contains("reached its reservation"),
        "{completed}"
    );
    assert_eq!(case(&report, "teardown.verified")["verdict"], "passed");
}

/// The README's recipe for concurrent runs, as a new user types it: one served
/// emulator (whose clock runs 60 times faster than real time), two runs against it
/// at once on one harness state. Both are certified, time-to-value is in the
/// account's time (which the account tells), and the ledger stays within the credit.
#[test]
fn two_runs_on_one_served_emulator_are_both_certified_in_account_time() {
    let _one = ONE_RUN_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let mut serve = certify()
        .args([
            "emulator",
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--clock-scale",
            "60",
            "--state",
        ])
        .arg(dir.path().join("account"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut banner = BufReader::new(serve.stdout.take().unwrap());
    let mut field = std::collections::HashMap::new();
    loop {
        let mut line = String::new();
        assert!(
            banner.read_line(&mut line).unwrap() > 0,
            "the emulator ended early"
        );
        if let Some(url) = line.trim().strip_prefix("CLC emulator listening on ") {
            field.insert("url".to_string(), url.to_string());
        } else if let Some((k, v)) = line.trim().split_once(':') {
            field.insert(k.trim().to_string(), v.trim().to_string());
        }
        if line.starts_with("Press Ctrl-C") {
            break;
        }
    }
    std::thread::spawn(move || for _ in banner.lines() {});

    let started = Instant::now();
    let runs: Vec<_> = (0..2)
        .map(|i| {
            let out = dir.path().join(format!("report-{i}"));
            let child = certify_run(dir.path(), &sample(), &out)
                .args([
                    "--endpoint",
                    &field["url"],
                    "--account",
                    &field["account alias"],
                ])
                .env("CLC_USERNAME", &field["username"])
                .env("CLC_PASSWORD", &field["password"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            (out, child)
        })
        .collect();
    for (out, child) in runs {
        let done = child.wait_with_output().unwrap();
        let wall = started.elapsed().as_secs_f64();
        assert_eq!(
            done.status.code(),
            Some(0),
            "{}\n{}",
            String::from_utf8_lossy(&done.stdout),
            String::from_utf8_lossy(&done.stderr)
        );
        let report = read_json(&out.join("report.json"));
        let ttv = case(&report, "blueprint.time-to-value");
        assert!(ttv.to_string().contains("clock scale 60"), "{ttv}");
        // Account time at 60x: far more account seconds than the whole run took.
        let seconds = report["certification"]["time_to_value"]["seconds"]
            .as_f64()
            .unwrap();
        assert!(
            seconds > wall,
            "time-to-value {seconds} s is not in account time (run took {wall} s)"
        );
    }
    let budget = run(certify()
        .env("CERTIFY_STATE_DB", dir.path().join("state.db"))
        .args(["budget", "--account", &field["account alias"]]));
    assert_eq!(budget.code, 0, "{budget:?}");
    // Both runs settled: nothing is still reserved, and the ledger is within the credit.
    assert!(
        budget.stdout.contains("open reservations   $0.00 (0)"),
        "{budget:?}"
    );
    let spent = budget
        .stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("month-to-date"))
        .and_then(|v| {
            v.trim()
                .trim_start_matches('$')
                .replace(',', "")
                .parse::<f64>()
                .ok()
        })
        .expect("month-to-date");
    // (A run this short may be billed nothing: the account bills by the hour's fraction.)
    assert!((0.0..=2_000.0).contains(&spent), "{budget:?}");
    let _ = serve.kill();
    let _ = serve.wait();
}

/// One line of the internal article names both the blueprint and its package: each
/// thing checked is its own case with its own id, and the honest report verifies.
#[test]
fn a_report_whose_article_names_several_things_on_one_line_verifies() {
    let _one = ONE_RUN_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let bundle = sample_copy(dir.path());
    edit(
        &bundle.join("kb/internal/acme-status-page-blueprint-internal.md"),
        "### Blueprint design\n",
        "### Blueprint design\nThe **Deploy Acme Status Page on Linux** blueprint runs the **Install Acme Status Page on Linux** package.\n\n",
    );
    let out = dir.path().join("report");
    let done = run(&mut certify_run(dir.path(), &bundle, &out));
    assert_eq!(done.code, 0, "{done:?}");
    let report = read_json(&out.join("report.json"));
    let suite = report["suites"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "docs-internal-acme-status-page-blueprint-internal")
        .unwrap();
    let on_line = |line: &str| -> Vec<String> {
        suite["cases"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["location"].as_str().unwrap().ends_with(line))
            .map(|c| c["id"].as_str().unwrap().to_string())
            .collect()
    };
    let text =
        std::fs::read_to_string(bundle.join("kb/internal/acme-status-page-blueprint-internal.md"))
            .unwrap();
    let line = text
        .lines()
        .position(|l| l.contains("blueprint runs the **Install"))
        .unwrap()
        + 1;
    let ids = on_line(&format!(":{line}"));
    for id in [
        "kb.internal.blueprint-design.blueprint",
        "kb.internal.blueprint-design.package-install-acme-status-page-on-linux",
        "kb.bundle.names.deploy-acme-status-page-on-linux",
        "kb.bundle.names.install-acme-status-page-on-linux",
    ] {
        assert!(ids.iter().any(|i| i == id), "{id} not in {ids:?}");
    }
    // Unique within every suite.
    for s in report["suites"].as_array().unwrap() {
        let mut seen = std::collections::HashSet::new();
        for c in s["cases"].as_array().unwrap() {
            assert!(
                seen.insert(c["id"].as_str().unwrap()),
                "{} repeats",
                c["id"]
            );
        }
    }
    let verified = run(certify().args(["report", "verify"]).arg(&out));
    assert_eq!(verified.code, 0, "{verified:?}");
}

/// A plugin whose manifest is broken is known before the account is touched: the run
/// reserves nothing, creates nothing, and its report names the cause first, with
/// cargo's own words, once.
#[test]
fn a_plugin_that_does_not_build_stops_before_the_reservation() {
    let _one = ONE_RUN_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let bundle = sample_copy(dir.path());
    let plugin = bundle.join("plugin");
    std::fs::create_dir_all(plugin.join("src")).unwrap();
    std::fs::write(
        plugin.join("Cargo.toml"),
        "[package]\nname = \"broken-probe\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[lib]\ncrate-type = [\"cdylib\"]\n\n[dependencies]\ncertify-sdk = { path = \"../no-such-sdk\" }\n",
    )
    .unwrap();
    std::fs::write(plugin.join("src/lib.rs"), "").unwrap();
    edit(
        &bundle.join("candidate.toml"),
        "[plugin]\npath = \"plugin.wasm\"",
        "[plugin]\npath = \"plugin\"",
    );
    let out = dir.path().join("report");
    let done = run(&mut certify_run(dir.path(), &bundle, &out));
    assert_eq!(done.code, 1, "{done:?}");
    assert!(
        done.stdout.contains("stopping before anything is reserved"),
        "{done:?}"
    );
    // No ledger row, no journal, no emulator account: nothing was touched.
    assert!(!dir.path().join("state.db").exists(), "{done:?}");
    assert!(!dir.path().join("emulator").exists(), "{done:?}");

    let report = read_json(&out.join("report.json"));
    let reasons = report["certification"]["reasons"].as_array().unwrap();
    assert_eq!(reasons.len(), 1, "{reasons:?}");
    let reason = reasons[0].as_str().unwrap();
    assert!(reason.contains("plugin did not build or load"), "{reason}");
    assert!(!reason.starts_with("Not certified:"), "{reason}");
    // The verdict comes first, the cause next, with cargo's error and no misleading hint.
    let ids: Vec<String> = cases(&report).into_iter().map(|(id, _)| id).collect();
    assert_eq!(ids[0], "certification.verdict", "{ids:?}");
    let load = case(&report, "plugin.load");
    let message = load["message"].as_str().unwrap();
    assert!(message.contains("no-such-sdk"), "{message}");
    assert!(!message.contains("is the target installed"), "{message}");
    assert!(!message.contains(dir.path().to_str().unwrap()), "{message}");
    for id in [
        "budget.reservation",
        "blueprint.deployed",
        "teardown.complete",
    ] {
        let c = case(&report, id);
        assert_eq!(c["verdict"], "skipped", "{id}");
        assert!(
            c["reason"].as_str().unwrap().contains("stopped before"),
            "{c}"
        );
    }
    let page = std::fs::read_to_string(out.join("summary.html")).unwrap();
    assert!(!page.contains("needs at least"), "{page}");
    validate_junit(&std::fs::read_to_string(out.join("junit.xml")).unwrap());
    let verified = run(certify().args(["report", "verify"]).arg(&out));
    assert_eq!(verified.code, 0, "{verified:?}");
}
