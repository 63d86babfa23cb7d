//! Helpers for tests that need other processes: the only honest way to show that two
//! runs cannot overrun the credit together, or that a SIGKILLed run leaves a usable
//! state, is to do it with real processes on a real file.
//!
//! A child is this test binary run again with `--exact <test>`: the named test is a
//! helper that does nothing unless [`CHILD_DB`] is set, so it passes as a no-op in an
//! ordinary `cargo test`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Set in a child: the state database to work on.
pub(crate) const CHILD_DB: &str = "CERTIFY_LEDGER_TEST_CHILD_DB";
/// Set in a child: a file whose appearance is the signal to start, so children race.
pub(crate) const CHILD_GO: &str = "CERTIFY_LEDGER_TEST_CHILD_GO";
/// Set in a child: a name for it (used as its run id).
pub(crate) const CHILD_NAME: &str = "CERTIFY_LEDGER_TEST_CHILD_NAME";

/// The state database, when running as a child; `None` in an ordinary test run.
pub(crate) fn child_db() -> Option<PathBuf> {
    std::env::var_os(CHILD_DB).map(PathBuf::from)
}

/// A variable set for a child.
pub(crate) fn child_var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is set for every child"))
}

/// Runs the test `test` (full path, e.g. `ledger::tests::child_reserve_hammer`) in a
/// new process of this test binary.
pub(crate) fn spawn_child(test: &str, db: &Path, vars: &[(&str, &str)]) -> Child {
    Command::new(std::env::current_exe().expect("the test binary knows its path"))
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(CHILD_DB, db)
        .envs(vars.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the test binary can run itself")
}

/// Waits for a child and returns its output.
pub(crate) fn wait(child: Child) -> Output {
    child
        .wait_with_output()
        .expect("the child can be waited for")
}

/// Waits until `path` exists; children call this so they start together.
pub(crate) fn wait_for(path: &Path) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !path.exists() {
        assert!(
            Instant::now() < deadline,
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// A value a child printed as `key=value` on its own line.
pub(crate) fn printed(output: &Output, key: &str) -> Option<String> {
    let prefix = format!("{key}=");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|line| line.strip_prefix(&prefix).map(str::to_owned))
}

/// Both streams of a child, for assertion messages.
pub(crate) fn describe(output: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}
