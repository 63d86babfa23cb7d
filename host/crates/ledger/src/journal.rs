//! The run journal: everything a run creates on the test account is written here *before*
//! it is created, so that whatever happens to the run — a failed check, Ctrl-C, a panic,
//! SIGKILL — the next run on the account, or `certify cleanup`, knows what to tear down.
//!
//! The life of an entry is `intend` → `created` (with the account's id for it) →
//! `deleted`; `failed` records an error on the way without closing it. Only `deleted`
//! closes an entry, and it means "verified gone from the account": an entry whose creation
//! failed stays a leftover until someone has looked and found nothing there, because a
//! create that timed out may still have happened.
//!
//! A run is *stale* when its process is gone and it left something behind (it never
//! finished, or its teardown left entries open). Liveness is decided by a lock file per
//! run, held by the running process (the kernel drops it when the process dies, SIGKILL
//! included), backed by a pid check. A reaper takes the same lock before it reaps, so two
//! cleanups never reap one run twice and a live run is never reaped.

use std::fmt;
use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension as _, Row, params};
use serde::{Deserialize, Serialize};

use crate::db::{self, DbError};
use crate::process::{self, Identity};

/// Why the journal could not do its job.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
    /// A run id that cannot name a lock file.
    #[error(
        "`{0}` is not a usable run id: use 1–128 letters, digits, `.`, `_` or `-`, not \
         starting with `.`"
    )]
    InvalidRunId(String),
    /// `start_run` with an id the journal already has.
    #[error("run {0} is already in the journal; give every run a fresh id")]
    RunExists(String),
    /// The run is not in the journal.
    #[error("there is no run {0} in the journal; list runs with `certify cleanup --list`")]
    UnknownRun(String),
    /// The entry is not in the journal.
    #[error("there is no journal entry {0}; use the id `intend` returned")]
    UnknownEntry(EntryId),
    /// The details could not be stored.
    #[error("the details of a journal entry could not be written as JSON: {0}")]
    Details(#[from] serde_json::Error),
    /// A run lock file could not be used.
    #[error(
        "could not use the run lock {path}: {source}; the directory must be writable by \
         every certify that shares this state database"
    )]
    Lock {
        /// The lock file.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
}

impl From<rusqlite::Error> for JournalError {
    fn from(e: rusqlite::Error) -> JournalError {
        JournalError::Db(DbError::Sqlite(e))
    }
}

/// The id of a journal entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EntryId(pub i64);

impl fmt::Display for EntryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// What a journal entry is.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", from = "String")]
pub enum Kind {
    /// A server group (each run has its own).
    Group,
    /// A server.
    Server,
    /// A public IP on a server.
    PublicIp,
    /// A published package.
    Package,
    /// A published blueprint.
    Blueprint,
    /// A package run on servers.
    PackageRun,
    /// A blueprint deployment.
    BlueprintDeploy,
    /// Anything else, by name.
    Other(String),
}

impl Kind {
    /// The stored name, e.g. `public-ip`.
    pub fn as_str(&self) -> &str {
        match self {
            Kind::Group => "group",
            Kind::Server => "server",
            Kind::PublicIp => "public-ip",
            Kind::Package => "package",
            Kind::Blueprint => "blueprint",
            Kind::PackageRun => "package-run",
            Kind::BlueprintDeploy => "blueprint-deploy",
            Kind::Other(name) => name,
        }
    }
}

impl From<String> for Kind {
    fn from(s: String) -> Kind {
        match s.as_str() {
            "group" => Kind::Group,
            "server" => Kind::Server,
            "public-ip" => Kind::PublicIp,
            "package" => Kind::Package,
            "blueprint" => Kind::Blueprint,
            "package-run" => Kind::PackageRun,
            "blueprint-deploy" => Kind::BlueprintDeploy,
            _ => Kind::Other(s),
        }
    }
}

impl From<Kind> for String {
    fn from(k: Kind) -> String {
        k.as_str().to_owned()
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where an entry stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryState {
    /// About to be created; may or may not exist on the account.
    Intended,
    /// Exists on the account.
    Created,
    /// Verified gone from the account.
    Deleted,
    /// Creating or deleting it failed; it may exist.
    Failed,
}

impl EntryState {
    fn as_str(self) -> &'static str {
        match self {
            EntryState::Intended => "intended",
            EntryState::Created => "created",
            EntryState::Deleted => "deleted",
            EntryState::Failed => "failed",
        }
    }

    fn parse(s: &str) -> rusqlite::Result<EntryState> {
        Ok(match s {
            "intended" => EntryState::Intended,
            "created" => EntryState::Created,
            "deleted" => EntryState::Deleted,
            "failed" => EntryState::Failed,
            other => {
                return Err(rusqlite::Error::InvalidColumnType(
                    0,
                    format!("state {other}"),
                    rusqlite::types::Type::Text,
                ));
            }
        })
    }
}

impl fmt::Display for EntryState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One thing a run creates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Its id.
    pub id: EntryId,
    /// The run that creates it.
    pub run_id: String,
    /// The account it is created on.
    pub account: String,
    /// What it is.
    pub kind: Kind,
    /// Its name as requested (tagged with the run id, so it can be found by name when
    /// the account's id never came back).
    pub name: String,
    /// Whatever the reaper needs to find and delete it (group id, data center, …).
    pub details: serde_json::Value,
    /// Where it stands.
    pub state: EntryState,
    /// The account's id for it, once created.
    pub remote_id: Option<String>,
    /// The last failure recorded for it.
    pub error: Option<String>,
    /// When it was intended.
    pub intended_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// A run as the journal records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Run {
    /// Its id.
    pub run_id: String,
    /// The account it runs on.
    pub account: String,
    /// The process that runs it.
    pub pid: u32,
    /// The machine it runs on.
    pub hostname: String,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it finished, if it did.
    pub finished_at: Option<DateTime<Utc>>,
    /// Whether its teardown was verified (nothing of it left on the account); `None`
    /// until it finished.
    pub teardown_verified: Option<bool>,
}

/// Proof that a run is alive: held by the running process from [`Journal::start_run`] to
/// its end. While it is held nobody reaps the run; when the process dies, however it
/// dies, the kernel releases it.
#[derive(Debug)]
pub struct RunLock {
    run_id: String,
    path: PathBuf,
    // Only held: the lock lives as long as this open file.
    _file: File,
}

impl RunLock {
    /// The run it keeps alive.
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// A run whose process is gone and that left something behind, claimed for reaping.
///
/// Holding it holds the run's lock: no other cleanup reaps it meanwhile. Delete the
/// leftovers (newest first, as listed, so servers go before their group), mark each
/// [`Journal::deleted`], settle the run's open reservations
/// ([`crate::Ledger::open_reservations_for_run`]), then [`Journal::finish_run`].
#[derive(Debug)]
pub struct StaleRun {
    /// The run.
    pub run: Run,
    /// What it left: entries not verified deleted, newest first.
    pub leftovers: Vec<Entry>,
    /// Its lock, now held by the reaper.
    pub lock: RunLock,
}

/// Why a run may not be reaped now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum NotReapable {
    /// Its process is alive, or another cleanup is reaping it.
    Live(Run),
    /// It runs on another machine, whose processes this one cannot see.
    OtherHost(Run),
    /// It finished and left nothing behind.
    Clean(Run),
}

impl fmt::Display for NotReapable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotReapable::Live(run) => write!(
                f,
                "run {} is still alive (pid {}) or being cleaned up; stop it first, its own \
                 teardown will then run",
                run.run_id, run.pid
            ),
            NotReapable::OtherHost(run) => write!(
                f,
                "run {} belongs to a process on {}; run the cleanup there",
                run.run_id, run.hostname
            ),
            NotReapable::Clean(run) => {
                write!(f, "run {} finished and left nothing behind", run.run_id)
            }
        }
    }
}

/// The journal, on one connection to the state database.
pub struct Journal {
    conn: Connection,
    path: PathBuf,
    locks: PathBuf,
    me: Identity,
}

impl fmt::Debug for Journal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Journal")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

const ENTRY_COLUMNS: &str = "j.id, j.run_id, r.account, j.kind, j.name, j.details, j.state, \
                             j.remote_id, j.error, j.intended_at, j.updated_at";
const RUN_COLUMNS: &str =
    "run_id, account, pid, hostname, started_at, finished_at, teardown_verified";

fn entry_from_row(row: &Row<'_>) -> rusqlite::Result<Entry> {
    let details: String = row.get(5)?;
    Ok(Entry {
        id: EntryId(row.get(0)?),
        run_id: row.get(1)?,
        account: row.get(2)?,
        kind: Kind::from(row.get::<_, String>(3)?),
        name: row.get(4)?,
        details: serde_json::from_str(&details).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(5, rusqlite::types::Type::Text, Box::new(e))
        })?,
        state: EntryState::parse(&row.get::<_, String>(6)?)?,
        remote_id: row.get(7)?,
        error: row.get(8)?,
        intended_at: db::parse_timestamp(&row.get::<_, String>(9)?)?,
        updated_at: db::parse_timestamp(&row.get::<_, String>(10)?)?,
    })
}

fn run_from_row(row: &Row<'_>) -> rusqlite::Result<Run> {
    Ok(Run {
        run_id: row.get(0)?,
        account: row.get(1)?,
        pid: row.get(2)?,
        hostname: row.get(3)?,
        started_at: db::parse_timestamp(&row.get::<_, String>(4)?)?,
        finished_at: db::parse_opt_timestamp(row.get(5)?)?,
        teardown_verified: row.get(6)?,
    })
}

/// Run ids name lock files, so they are kept to a safe alphabet.
fn check_run_id(run_id: &str) -> Result<(), JournalError> {
    let ok = (1..=128).contains(&run_id.len())
        && !run_id.starts_with('.')
        && run_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(JournalError::InvalidRunId(run_id.to_owned()))
    }
}

/// Where the run locks of a state database live: `state.db` → `state.db-runs/`, beside the
/// `-wal` and `-shm` files SQLite keeps.
fn locks_dir(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push("-runs");
    path.with_file_name(name)
}

impl Journal {
    /// Opens the journal in the state database at `path` (see [`crate::default_path`]),
    /// creating the file if needed.
    pub fn open(path: impl AsRef<Path>) -> Result<Journal, JournalError> {
        let path = path.as_ref().to_owned();
        let conn = db::open(&path)?;
        Ok(Journal {
            conn,
            locks: locks_dir(&path),
            path,
            me: Identity::current(),
        })
    }

    /// The state database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock_path(&self, run_id: &str) -> PathBuf {
        self.locks.join(format!("{run_id}.lock"))
    }

    /// Takes a run's lock without waiting; `None` if someone holds it.
    fn try_lock(&self, run_id: &str) -> Result<Option<RunLock>, JournalError> {
        let path = self.lock_path(run_id);
        let lock_err = |source| JournalError::Lock {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(&self.locks).map_err(lock_err)?;
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(lock_err)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(RunLock {
                run_id: run_id.to_owned(),
                path,
                _file: file,
            })),
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(e)) => Err(lock_err(e)),
        }
    }

    /// Records the start of a run by process `pid` (normally [`std::process::id`]) and
    /// returns its lock. Keep the lock until the run has finished and torn down: while it
    /// is held, the run counts as alive.
    pub fn start_run(
        &mut self,
        run_id: &str,
        account: &str,
        pid: u32,
        started_at: DateTime<Utc>,
    ) -> Result<RunLock, JournalError> {
        check_run_id(run_id)?;
        let lock = self
            .try_lock(run_id)?
            .ok_or_else(|| JournalError::RunExists(run_id.to_owned()))?;
        let tx = db::immediate(&mut self.conn)?;
        let exists: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM runs WHERE run_id = ?1)",
            [run_id],
            |r| r.get(0),
        )?;
        if exists {
            return Err(JournalError::RunExists(run_id.to_owned()));
        }
        tx.execute(
            "INSERT INTO runs (run_id, account, pid, process_start, hostname, boot_id, started_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                run_id,
                account,
                pid,
                process::start_time(pid).map(|t| t as i64),
                self.me.hostname,
                self.me.boot_id,
                db::timestamp(started_at),
            ],
        )?;
        tx.commit()?;
        Ok(lock)
    }

    /// Records the end of a run and whether its teardown was verified. Also used by a
    /// reaper once it has cleaned up after a crashed run: the verdict is updated, the
    /// original finish time kept.
    pub fn finish_run(
        &mut self,
        run_id: &str,
        teardown_verified: bool,
    ) -> Result<(), JournalError> {
        let tx = db::immediate(&mut self.conn)?;
        let changed = tx.execute(
            "UPDATE runs SET finished_at = COALESCE(finished_at, ?2), teardown_verified = ?3
             WHERE run_id = ?1",
            params![run_id, db::timestamp(Utc::now()), teardown_verified],
        )?;
        if changed == 0 {
            return Err(JournalError::UnknownRun(run_id.to_owned()));
        }
        let leftovers: i64 = tx.query_row(
            "SELECT COUNT(*) FROM journal WHERE run_id = ?1 AND state != 'deleted'",
            [run_id],
            |r| r.get(0),
        )?;
        tx.commit()?;
        if teardown_verified && leftovers == 0 {
            // Nothing will ever ask about this run's liveness again. The caller holds the
            // lock, so a cleanup that opened the file meanwhile sees it held, and then a
            // finished clean run.
            let _ = std::fs::remove_file(self.lock_path(run_id));
        }
        Ok(())
    }

    /// Records that the run is about to create something, before it does; returns the
    /// entry to update once it exists.
    pub fn intend(
        &mut self,
        run_id: &str,
        kind: Kind,
        name: &str,
        details: &serde_json::Value,
    ) -> Result<EntryId, JournalError> {
        let details = serde_json::to_string(details)?;
        let now = db::timestamp(Utc::now());
        let tx = db::immediate(&mut self.conn)?;
        let exists: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM runs WHERE run_id = ?1)",
            [run_id],
            |r| r.get(0),
        )?;
        if !exists {
            return Err(JournalError::UnknownRun(run_id.to_owned()));
        }
        tx.execute(
            "INSERT INTO journal (run_id, kind, name, details, state, intended_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, 'intended', ?5, ?5)",
            params![run_id, kind.as_str(), name, details, now],
        )?;
        let id = EntryId(tx.last_insert_rowid());
        tx.commit()?;
        Ok(id)
    }

    fn update(
        &mut self,
        entry: EntryId,
        sql: &str,
        value: Option<&str>,
    ) -> Result<(), JournalError> {
        let tx = db::immediate(&mut self.conn)?;
        let changed = tx.execute(sql, params![entry.0, value, db::timestamp(Utc::now())])?;
        if changed == 0 {
            return Err(JournalError::UnknownEntry(entry));
        }
        tx.commit()?;
        Ok(())
    }

    /// Records that the entry now exists on the account, under `remote_id`.
    pub fn created(&mut self, entry: EntryId, remote_id: &str) -> Result<(), JournalError> {
        self.update(
            entry,
            "UPDATE journal SET state = 'created', remote_id = ?2, updated_at = ?3 WHERE id = ?1",
            Some(remote_id),
        )
    }

    /// Records that the entry is verified gone from the account. Idempotent.
    pub fn deleted(&mut self, entry: EntryId) -> Result<(), JournalError> {
        self.update(
            entry,
            "UPDATE journal SET state = 'deleted', updated_at = ?3 WHERE id = ?1",
            None,
        )
    }

    /// Records that creating or deleting the entry failed; it stays a leftover.
    pub fn failed(&mut self, entry: EntryId, message: &str) -> Result<(), JournalError> {
        self.update(
            entry,
            "UPDATE journal SET state = 'failed', error = ?2, updated_at = ?3 WHERE id = ?1",
            Some(message),
        )
    }

    /// One entry.
    pub fn entry(&self, entry: EntryId) -> Result<Option<Entry>, JournalError> {
        Ok(self
            .conn
            .query_row(
                &format!(
                    "SELECT {ENTRY_COLUMNS} FROM journal j JOIN runs r USING (run_id) WHERE j.id = ?1"
                ),
                [entry.0],
                entry_from_row,
            )
            .optional()?)
    }

    /// Everything a run intended, in order.
    pub fn entries(&self, run_id: &str) -> Result<Vec<Entry>, JournalError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {ENTRY_COLUMNS} FROM journal j JOIN runs r USING (run_id)
             WHERE j.run_id = ?1 ORDER BY j.id"
        ))?;
        let rows = stmt.query_map([run_id], entry_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// What a run intended or created and is not verified deleted, newest first: the
    /// order to tear it down in.
    pub fn leftovers(&self, run_id: &str) -> Result<Vec<Entry>, JournalError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {ENTRY_COLUMNS} FROM journal j JOIN runs r USING (run_id)
             WHERE j.run_id = ?1 AND j.state != 'deleted' ORDER BY j.id DESC"
        ))?;
        let rows = stmt.query_map([run_id], entry_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// One run.
    pub fn run(&self, run_id: &str) -> Result<Option<Run>, JournalError> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {RUN_COLUMNS} FROM runs WHERE run_id = ?1"),
                [run_id],
                run_from_row,
            )
            .optional()?)
    }

    /// An account's runs, newest first.
    pub fn runs(&self, account: &str) -> Result<Vec<Run>, JournalError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {RUN_COLUMNS} FROM runs WHERE account = ?1 ORDER BY started_at DESC, rowid DESC"
        ))?;
        let rows = stmt.query_map([account], run_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Claims a run for reaping (`certify cleanup --run ID`), or says why it may not be
    /// reaped now.
    pub fn claim_run(&self, run_id: &str) -> Result<Result<StaleRun, NotReapable>, JournalError> {
        let run = self
            .run(run_id)?
            .ok_or_else(|| JournalError::UnknownRun(run_id.to_owned()))?;
        self.claim(run)
    }

    /// Claims every run of the account whose process is gone and that left something
    /// behind (`certify cleanup --stale`, and the start of every run). Live runs, runs of
    /// other machines and clean runs are skipped.
    pub fn stale_runs(&self, account: &str) -> Result<Vec<StaleRun>, JournalError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {RUN_COLUMNS} FROM runs r WHERE account = ?1
               AND (finished_at IS NULL OR teardown_verified = 0
                    OR EXISTS (SELECT 1 FROM journal j WHERE j.run_id = r.run_id AND j.state != 'deleted'))
             ORDER BY started_at, rowid"
        ))?;
        let candidates = stmt
            .query_map([account], run_from_row)?
            .collect::<Result<Vec<_>, _>>()?;
        let mut stale = Vec::new();
        for run in candidates {
            if let Ok(claimed) = self.claim(run)? {
                stale.push(claimed);
            }
        }
        Ok(stale)
    }

    fn claim(&self, run: Run) -> Result<Result<StaleRun, NotReapable>, JournalError> {
        let (process_start, boot_id): (Option<i64>, String) = self.conn.query_row(
            "SELECT process_start, boot_id FROM runs WHERE run_id = ?1",
            [&run.run_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        if run.hostname != self.me.hostname {
            // Neither its pid nor (over a network file system) its lock can be trusted.
            return Ok(Err(NotReapable::OtherHost(run)));
        }
        let Some(lock) = self.try_lock(&run.run_id)? else {
            return Ok(Err(NotReapable::Live(run)));
        };
        // The lock is free. The pid check backs it up for a lock file that was deleted
        // under a live run; after a reboot (a new boot id) no process of the run survives.
        let same_boot = boot_id == self.me.boot_id;
        if same_boot && process::alive(run.pid, process_start.map(|t| t as u64)) {
            return Ok(Err(NotReapable::Live(run)));
        }
        let leftovers = self.leftovers(&run.run_id)?;
        if run.finished_at.is_some() && run.teardown_verified == Some(true) && leftovers.is_empty()
        {
            return Ok(Err(NotReapable::Clean(run)));
        }
        Ok(Ok(StaleRun {
            run,
            leftovers,
            lock,
        }))
    }

    /// The connection, for tests that need to edit a row.
    #[cfg(test)]
    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }
}

#[cfg(test)]
mod tests;
