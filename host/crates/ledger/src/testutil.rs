//! Helpers for the ledger's and the journal's tests.
//!
//! - [`Store`] and [`backend_tests!`]: the behaviour tests are written once and run
//!   against both stores, SQLite in a temporary directory and PostgreSQL in a schema of
//!   the test's own (see [`crate::testing`] for when PostgreSQL is skipped).
//! - Child processes: the only honest way to show that runs cannot overrun the credit
//!   together, or that a SIGKILLed run leaves a usable state, is to do it with real
//!   processes on a real store. A child is this test binary run again with
//!   `--exact <test>`: the named test is a helper that does nothing unless [`CHILD_DB`]
//!   is set, so it passes as a no-op in an ordinary `cargo test`.

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::backend::Location;
use crate::process::Identity;
use crate::testing::{self, Schema};
use crate::{Journal, Ledger};

/// A store for one test: dropped with it.
pub(crate) struct Store {
    location: Location,
    _dir: Option<tempfile::TempDir>,
    _schema: Option<Schema>,
}

impl Store {
    /// A fresh SQLite file.
    pub(crate) fn sqlite() -> Store {
        let dir = tempfile::tempdir().unwrap();
        Store {
            location: Location::Sqlite(dir.path().join("state.db")),
            _dir: Some(dir),
            _schema: None,
        }
    }

    /// A fresh schema on the test server, or `None` (after a notice) without one.
    pub(crate) fn postgres(test: &str) -> Option<Store> {
        let url = testing::postgres_url(test)?;
        let schema = Schema::create(&url, test.rsplit("::").next().unwrap_or(test))
            .unwrap_or_else(|e| panic!("{test}: creating a schema on {url}: {e}"));
        Some(Store {
            location: Location::Postgres(schema.url().to_owned()),
            _dir: None,
            _schema: Some(schema),
        })
    }

    pub(crate) fn location(&self) -> &Location {
        &self.location
    }

    pub(crate) fn ledger(&self) -> Ledger {
        Ledger::connect(&self.location).unwrap()
    }

    pub(crate) fn journal(&self) -> Journal {
        Journal::connect(&self.location).unwrap()
    }

    /// The journal as another machine sees it.
    pub(crate) fn journal_on(&self, hostname: &str) -> Journal {
        Journal::connect_as(&self.location, Identity::elsewhere(hostname)).unwrap()
    }
}

/// Writes each test once and runs it against both stores: `sqlite::<name>` and
/// `postgres::<name>`. The body gets `$store: &Store`.
macro_rules! backend_tests {
    ($(fn $name:ident($store:ident) $body:block)*) => {
        mod sqlite {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[test]
                fn $name() {
                    let store = $crate::testutil::Store::sqlite();
                    let $store = &store;
                    $body
                }
            )*
        }
        mod postgres {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[test]
                fn $name() {
                    let Some(store) = $crate::testutil::Store::postgres(
                        concat!(module_path!(), "::", stringify!($name)),
                    ) else {
                        return;
                    };
                    let $store = &store;
                    $body
                }
            )*
        }
    };
}
pub(crate) use backend_tests;

/// Set in a child: the store to work on (a file path or a PostgreSQL URL).
pub(crate) const CHILD_DB: &str = "CERTIFY_LEDGER_TEST_CHILD_DB";
/// Set in a child: a file whose appearance is the signal to start, so children race.
pub(crate) const CHILD_GO: &str = "CERTIFY_LEDGER_TEST_CHILD_GO";
/// Set in a child: a name for it (used as its run id).
pub(crate) const CHILD_NAME: &str = "CERTIFY_LEDGER_TEST_CHILD_NAME";

/// The store, when running as a child; `None` in an ordinary test run.
pub(crate) fn child_db() -> Option<Location> {
    std::env::var(CHILD_DB).ok().map(|s| Location::parse(&s))
}

/// A variable set for a child.
pub(crate) fn child_var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is set for every child"))
}

/// Runs the test `test` (full path, e.g. `ledger::tests::child_reserve_hammer`) in a
/// new process of this test binary.
pub(crate) fn spawn_child(test: &str, db: &Location, vars: &[(&str, &str)]) -> Child {
    let db = match db {
        Location::Sqlite(path) => path.display().to_string(),
        Location::Postgres(url) => url.clone(),
    };
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
