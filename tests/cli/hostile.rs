//! Hostile bundles against the real CLI: what a candidate must not be able to do
//! with its bundle (the fixtures and the list of attacks are in `tests/hostile/`).
//! Each test attacks and shows the attack fails.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::run::{
    ONE_RUN_AT_A_TIME, case, certify_run, copy_dir, edit, sample_copy, spent, start_until,
};
use crate::support::{certify, read_json, run};

fn hostile(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/hostile")
        .join(name)
}

/// A copy of the sample (plugin prebuilt) with the attack laid over it.
pub fn attack(dir: &Path, name: &str) -> PathBuf {
    let bundle = sample_copy(dir);
    copy_dir(&hostile(name), &bundle, &|_| false);
    bundle
}

/// Every file under `dir` with its digest and mode: "byte-identical" made checkable.
fn tree(dir: &Path) -> Vec<(String, String, u32)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, String, u32)>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            let meta = std::fs::symlink_metadata(&p).unwrap();
            if meta.is_dir() {
                walk(root, &p, out);
            } else {
                use std::os::unix::fs::PermissionsExt;
                let rel = p.strip_prefix(root).unwrap().display().to_string();
                let digest = hex::encode(Sha256::digest(std::fs::read(&p).unwrap()));
                out.push((rel, digest, meta.permissions().mode()));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

#[test]
fn a_platform_group_in_the_deploy_parameters_is_refused_and_nothing_is_deployed() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = attack(dir.path(), "platform-group");
    let out = dir.path().join("report");
    let done = run(&mut certify_run(dir.path(), &bundle, &out));
    assert_eq!(done.code, 2, "{done:?}");
    let line = std::fs::read_to_string(bundle.join("candidate.toml"))
        .unwrap()
        .lines()
        .position(|l| l.contains("T3.BuildServerTask.GroupID"))
        .unwrap()
        + 1;
    assert!(
        done.stderr.contains(&format!("candidate.toml:{line}:")),
        "{done:?}"
    );
    assert!(
        done.stderr
            .contains("T3.BuildServerTask.GroupID is set by the platform or the harness"),
        "{done:?}"
    );
    // Refused before the account, the ledger or the journal were touched.
    assert!(!dir.path().join("state.db").exists(), "{done:?}");
    assert!(!dir.path().join("emulator").exists(), "{done:?}");
}

#[test]
fn a_system_parameter_declared_with_prompt_false_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = attack(dir.path(), "prompt-false");
    let done = run(certify().args(["docs", "check"]).arg(&bundle));
    assert_eq!(done.code, 0, "{done:?}");
    assert!(!done.stderr.contains("Prompt"), "{done:?}");
}

#[test]
fn the_claimed_tier_and_program_start_change_neither_the_credit_nor_the_day() {
    let _one = ONE_RUN_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    // All but a cent of the Silver credit is spent: only the claimed Platinum
    // credit would let the blueprint through.
    spent(dir.path(), 199_999);
    let bundle = attack(dir.path(), "claimed-platinum");
    let out = dir.path().join("report");
    let start = chrono::Utc::now().date_naive() - chrono::Days::new(99);
    let done = run(certify_run(dir.path(), &bundle, &out)
        .arg("--program-start")
        .arg(start.to_string()));
    assert_eq!(done.code, 1, "{done:?}");
    let report = read_json(&out.join("report.json"));
    let refusal = case(&report, "budget.reservation");
    assert_eq!(refusal["verdict"], "failed", "{refusal}");
    assert!(
        refusal["message"].as_str().unwrap().contains("$2,000.00"),
        "{refusal}"
    );
    let cert = &report["certification"];
    assert_eq!(cert["credit"], "$2,000.00");
    assert_eq!(cert["tier"]["account"], "silver");
    assert_eq!(cert["tier"]["claimed"], "platinum");
    assert!(
        cert["tier"]["note"]
            .as_str()
            .unwrap()
            .contains("claimed platinum, certified against silver"),
        "{cert}"
    );
    // Day 100 from the integrator's date, whatever the bundle claims (2099).
    assert_eq!(cert["program"]["day"], 100, "{cert}");
    assert_eq!(cert["program"]["claimed_start"], "2099-01-01");
    assert!(
        cert["program"]["source"]
            .as_str()
            .unwrap()
            .contains("--program-start")
    );
    assert!(
        cert["program"]["warning"]
            .as_str()
            .unwrap()
            .contains("day 100"),
        "{cert}"
    );
}

#[test]
fn the_suites_credit_is_honoured() {
    let _one = ONE_RUN_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    // 99 cents spent: what is left of a $1 credit cannot cover the run; what is
    // left of the tier's $2,000 could.
    spent(dir.path(), 99);
    let bundle = sample_copy(dir.path());
    let suite = dir.path().join("tiny.toml");
    let silver = Path::new(env!("CARGO_MANIFEST_DIR")).join("certification-suites/silver.toml");
    std::fs::copy(silver, &suite).unwrap();
    edit(&suite, "monthly_usd = 2000", "monthly_usd = 1");
    let out = dir.path().join("report");
    let done = run(certify_run(dir.path(), &bundle, &out)
        .arg("--suite")
        .arg(&suite));
    assert_eq!(done.code, 1, "{done:?}");
    let report = read_json(&out.join("report.json"));
    let refusal = case(&report, "budget.reservation");
    assert_eq!(refusal["verdict"], "failed", "{refusal}");
    assert_eq!(report["certification"]["credit"], "$1.00");
    assert!(
        report["certification"]["credit_source"]
            .as_str()
            .unwrap()
            .contains("[credit] monthly_usd")
    );
}

#[test]
fn links_to_secrets_and_devices_are_refused_and_never_shipped() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = sample_copy(dir.path());
    let home = dir.path().join("home");
    std::fs::create_dir_all(home.join(".ssh")).unwrap();
    std::fs::write(home.join(".ssh/id_rsa"), "CANARY-PRIVATE-KEY").unwrap();
    let pkg = bundle.join("packages/install-acme-status");
    std::os::unix::fs::symlink(home.join(".ssh/id_rsa"), pkg.join("id_rsa")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", bundle.join("kb/zero.md")).unwrap();
    let out = dir.path().join("report");
    let done = run(&mut certify_run(dir.path(), &bundle, &out));
    assert_eq!(done.code, 2, "{done:?}");
    for named in ["packages/install-acme-status/id_rsa", "kb/zero.md"] {
        assert!(
            done.stderr.contains(&format!("{named} is a symbolic link")),
            "{done:?}"
        );
    }
    assert!(!done.stderr.contains("CANARY"), "{done:?}");
    // Nothing was published: the emulator's account was never even opened.
    assert!(!dir.path().join("emulator").exists());
}

#[test]
fn two_links_to_the_bundle_itself_do_not_hang_docs_check() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = sample_copy(dir.path());
    std::os::unix::fs::symlink(".", bundle.join("kb/a")).unwrap();
    std::os::unix::fs::symlink(".", bundle.join("kb/b")).unwrap();
    let started = Instant::now();
    let done = run(certify().args(["docs", "check"]).arg(&bundle));
    assert_eq!(done.code, 2, "{done:?}");
    assert!(done.stderr.contains("kb/a is a symbolic link"), "{done:?}");
    // A directory of articles (not a bundle) is walked without following them.
    let articles = run(certify().args(["docs", "check"]).arg(bundle.join("kb")));
    assert_ne!(articles.code, 2, "{articles:?}");
    assert!(started.elapsed() < Duration::from_secs(60));
}

#[test]
fn a_file_changed_after_the_snapshot_is_not_what_gets_deployed() {
    let _one = ONE_RUN_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let bundle = sample_copy(dir.path());
    let out = dir.path().join("report");
    let mut child = start_until(&mut certify_run(dir.path(), &bundle, &out), "reserved");
    // Priced: now swap the service for one that reports another version (and
    // the blueprint for a bigger one) in the candidate's directory.
    edit(
        &bundle.join("packages/install-acme-status/acme_status.py"),
        "2.3.1",
        "6.6.6",
    );
    edit(
        &bundle.join("blueprint.json"),
        "\"cpu\": \"1\"",
        "\"cpu\": \"16\"",
    );
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "the snapshot is what was certified");
    let report = read_json(&out.join("report.json"));
    assert_eq!(case(&report, "status.api")["verdict"], "passed");
    // And the report binds the snapshot, not the changed files.
    let changed = run(certify()
        .args(["report", "verify"])
        .arg(&out)
        .arg("--bundle")
        .arg(&bundle));
    assert_eq!(changed.code, 1, "{changed:?}");
    assert!(changed.stdout.contains("acme_status.py"), "{changed:?}");
}

#[test]
fn an_untouched_bundle_verifies_and_a_changed_hidden_file_does_not() {
    let _one = ONE_RUN_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let bundle = attack(dir.path(), "hidden-file");
    let before = tree(&bundle);
    let out = dir.path().join("report");
    let done = run(&mut certify_run(dir.path(), &bundle, &out));
    assert_eq!(done.code, 0, "{done:?}");
    // The harness wrote nothing into the candidate's directory.
    assert_eq!(tree(&bundle), before);
    let report = read_json(&out.join("report.json"));
    let inputs = report["certification"]["inputs"].as_array().unwrap();
    assert!(
        inputs.iter().any(|i| i["path"] == ".hidden/real_lib.rs"),
        "{inputs:?}"
    );
    let ok = run(certify()
        .args(["report", "verify"])
        .arg(&out)
        .arg("--bundle")
        .arg(&bundle));
    assert_eq!(ok.code, 0, "{ok:?}");
    std::fs::write(bundle.join(".hidden/real_lib.rs"), "// swapped").unwrap();
    let changed = run(certify()
        .args(["report", "verify"])
        .arg(&out)
        .arg("--bundle")
        .arg(&bundle));
    assert_eq!(changed.code, 1, "{changed:?}");
    assert!(
        changed.stdout.contains(".hidden/real_lib.rs"),
        "{changed:?}"
    );
}

/// A served emulator (`certify emulator serve`, packages really run), its URL and
/// the credentials and alias it printed.
struct Served {
    child: std::process::Child,
    url: String,
    alias: String,
    username: String,
    password: String,
}

impl Served {
    fn start(state: &Path) -> Served {
        use std::io::BufRead;
        let port = crate::support::closed_port();
        let mut child = certify()
            .args(["emulator", "serve", "--execution", "local", "--addr"])
            .arg(format!("127.0.0.1:{port}"))
            .arg("--state")
            .arg(state)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let mut field = |name: &str| loop {
            let l = lines
                .next()
                .expect("the emulator printed its details")
                .unwrap();
            if let Some(v) = l.trim().strip_prefix(name) {
                break v.trim().to_string();
            }
        };
        let alias = field("account alias:");
        let username = field("username:");
        let password = field("password:");
        std::thread::spawn(move || for _ in lines {});
        Served {
            child,
            url: format!("http://127.0.0.1:{port}"),
            alias,
            username,
            password,
        }
    }

    fn signal(&self, signal: i32) {
        // SAFETY: signalling our own child.
        unsafe { libc::kill(self.child.id() as i32, signal) };
    }

    /// A run against this account, until it prints `line`.
    fn run_until(
        &self,
        state: &Path,
        bundle: &Path,
        out: &Path,
        extra: &[&str],
        line: &str,
    ) -> std::process::Child {
        let mut cmd = certify_run(state, bundle, out);
        cmd.args(["--endpoint", &self.url, "--account", &self.alias])
            .args(extra)
            .env("CLC_USERNAME", &self.username)
            .env("CLC_PASSWORD", &self.password);
        start_until(&mut cmd, line)
    }
}

impl Served {
    /// `certify cleanup` of the runs that state's journal left on this account.
    fn cleanup(&self, state: &Path) {
        let done = run(certify()
            .env("CERTIFY_STATE_DB", state.join("state.db"))
            .args([
                "cleanup",
                "--stale",
                "--endpoint",
                &self.url,
                "--account",
                &self.alias,
            ])
            .env("CLC_USERNAME", &self.username)
            .env("CLC_PASSWORD", &self.password));
        assert_eq!(done.code, 0, "{done:?}");
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        // Let it run again so that its servers' processes are stopped with it.
        self.signal(libc::SIGCONT);
        self.signal(libc::SIGINT);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.child.try_wait().unwrap().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits for `child` at most `limit`; its exit code.
fn wait_at_most(child: &mut std::process::Child, limit: Duration) -> Option<i32> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    panic!("the run was still there after {limit:?}");
}

#[test]
fn an_account_that_stops_answering_during_teardown_ends_the_run_with_exit_3_and_a_report() {
    let _one = ONE_RUN_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let served = Served::start(&dir.path().join("account"));
    let bundle = sample_copy(dir.path());
    let out = dir.path().join("report");
    let mut child = served.run_until(
        dir.path(),
        &bundle,
        &out,
        &["--teardown-timeout", "5s"],
        "running the plugin's checks",
    );
    // The account stops answering (the process is stopped, its socket still
    // accepts), and the run is interrupted: it tears down against silence.
    served.signal(libc::SIGSTOP);
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    assert_eq!(wait_at_most(&mut child, Duration::from_secs(90)), Some(3));
    let report = read_json(&out.join("report.json"));
    let complete = case(&report, "teardown.complete");
    assert_eq!(complete["verdict"], "error", "{complete}");
    assert!(
        complete["message"]
            .as_str()
            .unwrap()
            .contains("group certify-"),
        "{complete}"
    );
    // The journal kept what is left: once the account answers, cleanup finishes.
    served.signal(libc::SIGCONT);
    served.cleanup(dir.path());
}

#[test]
fn a_second_signal_during_teardown_ends_the_run_at_once() {
    let _one = ONE_RUN_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let served = Served::start(&dir.path().join("account"));
    let bundle = sample_copy(dir.path());
    let out = dir.path().join("report");
    let mut child = served.run_until(
        dir.path(),
        &bundle,
        &out,
        &[],
        "running the plugin's checks",
    );
    served.signal(libc::SIGSTOP);
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    std::thread::sleep(Duration::from_secs(1));
    // SAFETY: as above.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    // The default teardown timeout is ten minutes: only the second signal ends it.
    assert_eq!(wait_at_most(&mut child, Duration::from_secs(30)), Some(3));
    served.signal(libc::SIGCONT);
    served.cleanup(dir.path());
}

#[test]
fn the_suites_run_time_limit_ends_the_run_with_teardown() {
    let _one = ONE_RUN_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let bundle = sample_copy(dir.path());
    let suite = dir.path().join("short.toml");
    let silver = Path::new(env!("CARGO_MANIFEST_DIR")).join("certification-suites/silver.toml");
    std::fs::copy(silver, &suite).unwrap();
    edit(&suite, "time_limit_minutes = 60", "time_limit_minutes = 1");
    edit(&suite, "limit_minutes = 20", "limit_minutes = 1");
    let out = dir.path().join("report");
    // One account minute is a quarter of a second here.
    let done = run(certify_run(dir.path(), &bundle, &out)
        .args(["--clock-scale", "240", "--suite"])
        .arg(&suite));
    assert_eq!(done.code, 1, "{done:?}");
    assert!(
        done.stdout
            .contains("run time limit of 1 minutes was reached"),
        "{done:?}"
    );
    let report = read_json(&out.join("report.json"));
    assert_eq!(case(&report, "teardown.verified")["verdict"], "passed");
}
