//! The SQLite file that holds the ledger and the journal on one machine: opening it, its
//! versioned schema, and the settings that make it safe to share between processes and to
//! survive a crash. Also the error type of both stores.
//!
//! WAL mode lets `certify budget` read while a run writes; `synchronous = FULL` makes a
//! committed reservation survive a power cut, not just a killed process; every change runs
//! in a `BEGIN IMMEDIATE` transaction so that the writer lock is taken *before* anything is
//! read, and a check-then-insert cannot interleave with another process's.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{Connection, Transaction, TransactionBehavior};

/// How long a writer waits for another process's transaction before giving up. Runs hold
/// the lock for milliseconds; minutes of waiting would mean something is wedged.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// The schema version this build writes (`PRAGMA user_version`).
pub(crate) const SCHEMA_VERSION: i64 = 2;

const SCHEMA_V1: &str = r#"
CREATE TABLE reservations (
    id           INTEGER PRIMARY KEY,
    account      TEXT    NOT NULL,
    month        TEXT    NOT NULL,               -- YYYY-MM, UTC
    run_id       TEXT    NOT NULL,
    description  TEXT    NOT NULL,
    estimate     INTEGER NOT NULL CHECK (estimate >= 0),  -- micro-dollars
    credit       INTEGER NOT NULL,               -- the credit it was checked against
    month_to_date INTEGER NOT NULL,              -- month-to-date it was checked against
    reserved     INTEGER NOT NULL,               -- other open reservations at the time
    status       TEXT    NOT NULL CHECK (status IN ('open', 'settled', 'released', 'refused')),
    actual       INTEGER,                        -- micro-dollars, once settled or released
    requested_at TEXT    NOT NULL,               -- RFC 3339 UTC
    closed_at    TEXT
);
CREATE INDEX reservations_by_account_month ON reservations (account, month, status);
CREATE INDEX reservations_by_run ON reservations (run_id);

CREATE TABLE runs (
    run_id       TEXT    PRIMARY KEY,
    account      TEXT    NOT NULL,
    pid          INTEGER NOT NULL,
    process_start INTEGER,                       -- /proc/<pid>/stat starttime, against pid reuse
    hostname     TEXT    NOT NULL,
    boot_id      TEXT    NOT NULL,               -- '' where the OS has none
    started_at   TEXT    NOT NULL,
    finished_at  TEXT,
    teardown_verified INTEGER                    -- NULL until finished
);
CREATE INDEX runs_by_account ON runs (account, started_at);

CREATE TABLE journal (
    id           INTEGER PRIMARY KEY,
    run_id       TEXT    NOT NULL REFERENCES runs (run_id),
    kind         TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    details      TEXT    NOT NULL,               -- JSON
    state        TEXT    NOT NULL CHECK (state IN ('intended', 'created', 'deleted', 'failed')),
    remote_id    TEXT,
    error        TEXT,                           -- the last failure, kept after a retry succeeds
    intended_at  TEXT    NOT NULL,
    updated_at   TEXT    NOT NULL
);
CREATE INDEX journal_by_run ON journal (run_id, state);
"#;

/// Version 2: the machine that took each reservation (for `certify budget`), and a lease
/// on each run (see `journal.rs`). Runs from version 1 get their own process as holder
/// and an expired lease, so their liveness is their pid's, as before.
const SCHEMA_V2: &str = r#"
ALTER TABLE reservations ADD COLUMN hostname TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN holder_host TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN holder_boot TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN holder_pid_ns TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN holder_pid INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN holder_start INTEGER;
ALTER TABLE runs ADD COLUMN lease_generation INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN lease_expires_at TEXT NOT NULL DEFAULT '';
UPDATE runs SET holder_host = hostname, holder_boot = boot_id, holder_pid = pid,
    holder_start = process_start;
"#;

/// Why the state database could not be used.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The directory could not be created.
    #[error(
        "could not create the state directory {path}: {source}; make it writable or point \
         CERTIFY_STATE_DB at a file in a writable directory"
    )]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// SQLite could not open or set up the file.
    #[error(
        "could not open the state database {path}: {source}; check that it is a certify \
         state file on a local disk (WAL mode needs one) and that no other tool holds it"
    )]
    Open {
        /// The file.
        path: PathBuf,
        /// What SQLite said.
        #[source]
        source: rusqlite::Error,
    },
    /// The file was written by a newer certify.
    #[error(
        "the state database {path} has schema version {found}, newer than this certify \
         understands ({SCHEMA_VERSION}); upgrade certify, or use another file with \
         CERTIFY_STATE_DB"
    )]
    TooNew {
        /// The file.
        path: PathBuf,
        /// Its version.
        found: i64,
    },
    /// The PostgreSQL URL could not be read.
    #[error(
        "the ledger URL is not a PostgreSQL connection string: {source}; give \
         postgres://USER:PASSWORD@HOST:PORT/DATABASE (with --ledger or CERTIFY_LEDGER_URL)"
    )]
    Url {
        /// What the driver said.
        #[source]
        source: tokio_postgres::Error,
    },
    /// The PostgreSQL server could not be reached or refused the login.
    #[error(
        "could not connect to the shared ledger at {url}: {message}; check that the server \
         is up and reachable from this machine and that the role and database exist"
    )]
    Connect {
        /// The URL without its password.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// The PostgreSQL database was migrated by a newer certify.
    #[error(
        "the shared ledger at {url} has schema version {found}, newer than this certify \
         understands ({known}); upgrade certify on this machine"
    )]
    PostgresTooNew {
        /// The URL without its password.
        url: String,
        /// Its version.
        found: i64,
        /// The newest this build knows.
        known: i64,
    },
    /// A statement failed on the PostgreSQL server.
    #[error(
        "the shared ledger failed: {0}; if the server was restarted, run again; if a \
         statement keeps failing, check the server's log"
    )]
    Postgres(String),
    /// A statement failed on an open database.
    #[error(
        "the state database failed: {0}; if another certify holds it for more than 30 s, \
         look for a hung process; if it reports corruption, move the file aside and run \
         `certify cleanup --stale` against the account"
    )]
    Sqlite(#[from] rusqlite::Error),
}

/// Opens (creating if needed) the state database at `path` and brings its schema up to
/// date.
pub(crate) fn open(path: &Path) -> Result<Connection, DbError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| DbError::CreateDir {
            path: dir.to_owned(),
            source,
        })?;
    }
    let open_err = |source| DbError::Open {
        path: path.to_owned(),
        source,
    };
    let mut conn = Connection::open(path).map_err(open_err)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(open_err)?;
    // Switching to WAL needs a moment of exclusive access; the busy timeout covers a
    // concurrent opener, and the mode then sticks to the file.
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
        .map_err(open_err)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(open_err(rusqlite::Error::InvalidParameterName(format!(
            "journal_mode is {mode}, not wal"
        ))));
    }
    conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")
        .map_err(open_err)?;
    migrate(&mut conn, path)?;
    Ok(conn)
}

fn migrate(conn: &mut Connection, path: &Path) -> Result<(), DbError> {
    // Inside the writer lock, so two processes opening a new file at once create the
    // tables exactly once.
    let tx = immediate(conn)?;
    let version: i64 = tx.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if version > SCHEMA_VERSION {
        return Err(DbError::TooNew {
            path: path.to_owned(),
            found: version,
        });
    }
    if version < 1 {
        tx.execute_batch(SCHEMA_V1)?;
    }
    if version < 2 {
        tx.execute_batch(SCHEMA_V2)?;
    }
    // A new file is not news; upgrading one that holds a record is.
    if version > 0 && version < SCHEMA_VERSION {
        crate::announce_migration(&path.display().to_string(), version, SCHEMA_VERSION);
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    tx.commit()?;
    Ok(())
}

/// Starts a transaction that holds the writer lock from its first statement.
pub(crate) fn immediate(conn: &mut Connection) -> Result<Transaction<'_>, rusqlite::Error> {
    conn.transaction_with_behavior(TransactionBehavior::Immediate)
}

/// The stored form of an instant: RFC 3339 in UTC with milliseconds, which sorts as text.
pub(crate) fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Reads back a stored instant.
pub(crate) fn parse_timestamp(text: &str) -> rusqlite::Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
        })
}

/// Reads back an optional stored instant.
pub(crate) fn parse_opt_timestamp(text: Option<String>) -> rusqlite::Result<Option<DateTime<Utc>>> {
    text.as_deref().map(parse_timestamp).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_in_wal_mode_with_the_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/state.db");
        let conn = open(&path).unwrap();
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        drop(conn);
        // Reopening an up-to-date file changes nothing.
        open(&path).unwrap();
    }

    #[test]
    fn refuses_a_file_from_a_newer_certify() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        open(&path)
            .unwrap()
            .pragma_update(None, "user_version", 99)
            .unwrap();
        let err = open(&path).unwrap_err();
        assert!(matches!(err, DbError::TooNew { found: 99, .. }), "{err}");
        assert!(err.to_string().contains("upgrade certify"));
    }

    #[test]
    fn a_file_from_an_older_certify_is_migrated_and_keeps_its_runs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(SCHEMA_V1).unwrap();
            conn.execute_batch(
                "INSERT INTO runs (run_id, account, pid, process_start, hostname, boot_id,
                     started_at)
                 VALUES ('old', 'ACME', 4242, 17, 'ada', 'b-1', '2026-08-01T00:00:00.000Z');
                 PRAGMA user_version = 1;",
            )
            .unwrap();
        }
        let conn = open(&path).unwrap();
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        // The old run's holder is its own process, and its lease has run out: its
        // liveness is its pid's, as it was before leases.
        let holder: (String, String, i64, Option<i64>, String) = conn
            .query_row(
                "SELECT holder_host, holder_boot, holder_pid, holder_start, lease_expires_at
                 FROM runs WHERE run_id = 'old'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .unwrap();
        assert_eq!(
            holder,
            ("ada".into(), "b-1".into(), 4242, Some(17), String::new())
        );
    }

    #[test]
    fn timestamps_round_trip_and_sort_as_text() {
        let a = "2026-01-31T23:59:59.998Z".parse::<DateTime<Utc>>().unwrap();
        let b = "2026-02-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(parse_timestamp(&timestamp(a)).unwrap(), a);
        assert!(timestamp(a) < timestamp(b));
    }
}
