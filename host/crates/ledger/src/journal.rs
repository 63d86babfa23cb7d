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
//! finished, or its teardown left entries open). Liveness is a **lease** in the store:
//! a running run holds its lease and renews it from a thread of its own every third of
//! its length ([`DEFAULT_LEASE`], a minute). The holder counts as gone when
//!
//! - its lease ran out (by the store's clock: the only test that works across machines,
//!   and the one a stopped or partitioned process fails too), or
//! - it ran on this machine (same host name, boot and pid namespace) and its process is
//!   gone (pid and start time, see [`crate::process`]): the kernel knows at once, so a
//!   SIGKILLed run on this machine is reaped without waiting out its lease.
//!
//! A reaper *claims* a gone holder's run by taking over its lease with a compare-and-swap
//! on the lease's generation: of two cleanups on two machines, exactly one wins, and the
//! loser sees a live holder (the winner) from then on. The reaper renews the lease while it
//! tears down, so if it dies too the run is reaped again later, never twice at once.

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::backend::{
    self, Backend, EntryFilter, EntryUpdate, Holder, Location, NewRun, RunFilter, RunRecord,
};
use crate::db::DbError;
use crate::process::{self, Identity};

/// How long a run's lease lasts unless renewed; it is renewed every third of that. A run
/// killed on another machine is reaped this long after its last renewal at the latest.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(60);

/// Why the journal could not do its job.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
    /// A run id outside the safe alphabet.
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
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            EntryState::Intended => "intended",
            EntryState::Created => "created",
            EntryState::Deleted => "deleted",
            EntryState::Failed => "failed",
        }
    }

    pub(crate) fn parse(s: &str) -> Result<EntryState, backend::Unknown> {
        Ok(match s {
            "intended" => EntryState::Intended,
            "created" => EntryState::Created,
            "deleted" => EntryState::Deleted,
            "failed" => EntryState::Failed,
            other => return Err(backend::Unknown(other.to_owned())),
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

/// Proof that a run is alive: its lease, held from [`Journal::start_run`] (or a claim) and
/// renewed by a thread of its own until this is dropped. While it is held nobody reaps the
/// run. Dropping it lets the lease run out at once; a process that dies without dropping
/// it is seen gone by its pid on its own machine and by the lease's end elsewhere.
#[derive(Debug)]
pub struct RunLock {
    run_id: String,
    lost: Arc<AtomicBool>,
    stop: Option<mpsc::Sender<()>>,
    renewer: Option<JoinHandle<()>>,
}

impl RunLock {
    fn hold(
        mut store: Box<dyn Backend>,
        run_id: &str,
        generation: i64,
        lease: Duration,
    ) -> RunLock {
        let lost = Arc::new(AtomicBool::new(false));
        let (stop, stopped) = mpsc::channel::<()>();
        let (id, flag) = (run_id.to_owned(), lost.clone());
        // A zero lease (tests) is never renewed: it has run out from the start.
        let every = (!lease.is_zero()).then(|| lease / 3);
        let renewer = std::thread::Builder::new()
            .name("certify-lease".into())
            .spawn(move || {
                loop {
                    let tick = match every {
                        Some(every) => stopped.recv_timeout(every),
                        None => stopped.recv().map_err(|_| mpsc::RecvTimeoutError::Disconnected),
                    };
                    match tick {
                        Err(mpsc::RecvTimeoutError::Timeout) => {}
                        // Dropped: let the lease run out now, so another machine need not
                        // wait for it.
                        _ => {
                            let _ = store.release(&id, generation);
                            return;
                        }
                    }
                    match store.renew(&id, generation, lease) {
                        Ok(true) => {}
                        Ok(false) => {
                            flag.store(true, Ordering::SeqCst);
                            tracing::warn!(run = %id, "the run's lease was taken over by a cleanup");
                            return;
                        }
                        // A store that is briefly unreachable: try again at the next tick,
                        // well within the lease.
                        Err(e) => tracing::warn!(run = %id, "could not renew the run's lease: {e}"),
                    }
                }
            })
            .expect("a thread can be started");
        RunLock {
            run_id: run_id.to_owned(),
            lost,
            stop: Some(stop),
            renewer: Some(renewer),
        }
    }

    /// The run it keeps alive.
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// Whether a cleanup took the run over (its lease had run out, say because this
    /// process was stopped); the run should stop creating anything.
    pub fn is_lost(&self) -> bool {
        self.lost.load(Ordering::SeqCst)
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(renewer) = self.renewer.take() {
            let _ = renewer.join();
        }
    }
}

/// A run whose process is gone and that left something behind, claimed for reaping.
///
/// Holding it holds the run's lease: no other cleanup reaps it meanwhile. Delete the
/// leftovers (newest first, as listed, so servers go before their group), mark each
/// [`Journal::deleted`], settle the run's open reservations
/// ([`crate::Ledger::open_reservations_for_run`]), then [`Journal::finish_run`].
#[derive(Debug)]
pub struct StaleRun {
    /// The run.
    pub run: Run,
    /// What it left: entries not verified deleted, newest first.
    pub leftovers: Vec<Entry>,
    /// Its lease, now held by the reaper.
    pub lock: RunLock,
}

/// Why a run may not be reaped now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum NotReapable {
    /// Its process on this machine is alive, or another cleanup is reaping it.
    Live(Run),
    /// It runs on another machine and its lease is being renewed.
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
                "run {} is alive on {} (it keeps renewing its lease); stop it there, or wait \
                 until its lease runs out after it died",
                run.run_id, run.hostname
            ),
            NotReapable::Clean(run) => {
                write!(f, "run {} finished and left nothing behind", run.run_id)
            }
        }
    }
}

/// The journal, on one connection to its store (an SQLite file or a shared PostgreSQL
/// database, see [`Location`]).
pub struct Journal {
    store: Box<dyn Backend>,
    location: Location,
    me: Identity,
    lease: Duration,
}

impl fmt::Debug for Journal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Journal")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

/// Run ids are shown and typed on command lines, so they are kept to a safe alphabet.
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

impl Journal {
    /// Opens the journal in the SQLite state file at `path` (see [`crate::default_path`]),
    /// creating the file if needed.
    pub fn open(path: impl AsRef<Path>) -> Result<Journal, JournalError> {
        Journal::connect(&Location::Sqlite(path.as_ref().to_owned()))
    }

    /// Opens the journal at `location`, creating and migrating its schema if needed.
    pub fn connect(location: &Location) -> Result<Journal, JournalError> {
        Journal::connect_as(location, Identity::current())
    }

    pub(crate) fn connect_as(location: &Location, me: Identity) -> Result<Journal, JournalError> {
        Ok(Journal {
            store: backend::open(location)?,
            location: location.clone(),
            me,
            lease: DEFAULT_LEASE,
        })
    }

    /// Where the journal lives.
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// The length of the leases this journal takes (runs it starts, runs it claims).
    pub fn set_lease(&mut self, lease: Duration) {
        self.lease = lease;
    }

    fn holder(&self, pid: u32) -> Holder {
        Holder {
            hostname: self.me.hostname.clone(),
            boot_id: self.me.boot_id.clone(),
            pid_ns: self.me.pid_ns.clone(),
            pid,
            process_start: process::start_time(pid),
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
        let holder = self.holder(pid);
        let run = NewRun {
            run_id,
            account,
            started_at,
            holder: &holder,
        };
        let generation = self
            .store
            .insert_run(&run, self.lease)?
            .ok_or_else(|| JournalError::RunExists(run_id.to_owned()))?;
        Ok(RunLock::hold(
            self.store.try_clone()?,
            run_id,
            generation,
            self.lease,
        ))
    }

    /// Records the end of a run and whether its teardown was verified. Also used by a
    /// reaper once it has cleaned up after a crashed run: the verdict is updated, the
    /// original finish time kept.
    pub fn finish_run(
        &mut self,
        run_id: &str,
        teardown_verified: bool,
    ) -> Result<(), JournalError> {
        self.store
            .finish_run(run_id, teardown_verified, backend::now())?
            .ok_or_else(|| JournalError::UnknownRun(run_id.to_owned()))
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
        self.store
            .intend(run_id, kind.as_str(), name, &details, backend::now())?
            .ok_or_else(|| JournalError::UnknownRun(run_id.to_owned()))
    }

    fn update(&mut self, entry: EntryId, update: EntryUpdate<'_>) -> Result<(), JournalError> {
        if self.store.update_entry(entry, update, backend::now())? {
            Ok(())
        } else {
            Err(JournalError::UnknownEntry(entry))
        }
    }

    /// Records that the entry now exists on the account, under `remote_id`.
    pub fn created(&mut self, entry: EntryId, remote_id: &str) -> Result<(), JournalError> {
        self.update(entry, EntryUpdate::Created { remote_id })
    }

    /// Records that the entry is verified gone from the account. Idempotent.
    pub fn deleted(&mut self, entry: EntryId) -> Result<(), JournalError> {
        self.update(entry, EntryUpdate::Deleted)
    }

    /// Records that creating or deleting the entry failed; it stays a leftover.
    pub fn failed(&mut self, entry: EntryId, message: &str) -> Result<(), JournalError> {
        self.update(entry, EntryUpdate::Failed { error: message })
    }

    /// One entry.
    pub fn entry(&mut self, entry: EntryId) -> Result<Option<Entry>, JournalError> {
        Ok(self
            .store
            .entries(EntryFilter::One(entry))?
            .into_iter()
            .next())
    }

    /// Everything a run intended, in order.
    pub fn entries(&mut self, run_id: &str) -> Result<Vec<Entry>, JournalError> {
        Ok(self.store.entries(EntryFilter::OfRun(run_id))?)
    }

    /// What a run intended or created and is not verified deleted, newest first: the
    /// order to tear it down in.
    pub fn leftovers(&mut self, run_id: &str) -> Result<Vec<Entry>, JournalError> {
        Ok(self.store.entries(EntryFilter::Leftovers(run_id))?)
    }

    /// One run.
    pub fn run(&mut self, run_id: &str) -> Result<Option<Run>, JournalError> {
        Ok(self
            .store
            .runs(RunFilter::One(run_id))?
            .into_iter()
            .next()
            .map(|r| r.run))
    }

    /// An account's runs, newest first.
    pub fn runs(&mut self, account: &str) -> Result<Vec<Run>, JournalError> {
        Ok(self
            .store
            .runs(RunFilter::OfAccount(account))?
            .into_iter()
            .map(|r| r.run)
            .collect())
    }

    /// Claims a run for reaping (`certify cleanup --run ID`), or says why it may not be
    /// reaped now.
    pub fn claim_run(
        &mut self,
        run_id: &str,
    ) -> Result<Result<StaleRun, NotReapable>, JournalError> {
        let record = self
            .store
            .runs(RunFilter::One(run_id))?
            .pop()
            .ok_or_else(|| JournalError::UnknownRun(run_id.to_owned()))?;
        self.claim(record)
    }

    /// Claims every run of the account whose holder is gone and that left something
    /// behind (`certify cleanup --stale`, and the start of every run), on whichever
    /// machine it ran. Live runs and clean runs are skipped, and so are runs another
    /// cleanup claimed first.
    pub fn stale_runs(&mut self, account: &str) -> Result<Vec<StaleRun>, JournalError> {
        let candidates = self.store.runs(RunFilter::MaybeStale(account))?;
        let mut stale = Vec::new();
        for record in candidates {
            if let Ok(claimed) = self.claim(record)? {
                stale.push(claimed);
            }
        }
        Ok(stale)
    }

    /// Whether the holder of a lease is gone: the lease ran out, or the holder ran on this
    /// machine and its process is no more.
    fn holder_gone(&self, record: &RunRecord) -> bool {
        let holder = &record.lease.holder;
        let same_machine = holder.hostname == self.me.hostname
            && holder.boot_id == self.me.boot_id
            && holder.pid_ns == self.me.pid_ns;
        record.lease.expired || (same_machine && !process::alive(holder.pid, holder.process_start))
    }

    fn claim(&mut self, record: RunRecord) -> Result<Result<StaleRun, NotReapable>, JournalError> {
        if !self.holder_gone(&record) {
            let on_this_machine = record.lease.holder.hostname == self.me.hostname;
            return Ok(Err(if on_this_machine {
                NotReapable::Live(record.run)
            } else {
                NotReapable::OtherHost(record.run)
            }));
        }
        let run = record.run;
        let leftovers = self.leftovers(&run.run_id)?;
        if run.finished_at.is_some() && run.teardown_verified == Some(true) && leftovers.is_empty()
        {
            return Ok(Err(NotReapable::Clean(run)));
        }
        let me = self.holder(std::process::id());
        let Some(generation) =
            self.store
                .claim(&run.run_id, record.lease.generation, &me, self.lease)?
        else {
            // Another cleanup took it between our read and our claim.
            return Ok(Err(NotReapable::Live(run)));
        };
        let lock = RunLock::hold(self.store.try_clone()?, &run.run_id, generation, self.lease);
        // Read again under the claim: the run may have gone on before it died.
        let leftovers = self.leftovers(&run.run_id)?;
        Ok(Ok(StaleRun {
            run,
            leftovers,
            lock,
        }))
    }

    /// The SQLite connection, for tests that need to edit a row.
    #[cfg(test)]
    pub(crate) fn sqlite(&mut self) -> &mut rusqlite::Connection {
        self.store.sqlite().expect("an SQLite journal")
    }
}

#[cfg(test)]
mod tests;
