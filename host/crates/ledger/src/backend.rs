//! Where the ledger and the journal live, and the one interface both stores implement:
//! an embedded SQLite file for one machine ([`crate::sqlite`]), or a PostgreSQL database
//! that several machines share ([`crate::postgres`]).
//!
//! The trait is the storage half of the ledger and the journal: each method is one
//! transaction with the same meaning on both stores. The rules — when a reservation is
//! granted, when a run counts as dead — are decided once, in `ledger.rs` and `journal.rs`,
//! and the stores only keep them atomic. The same behaviour tests run against both.
//!
//! The interface is synchronous, like the ledger's and the journal's own: a reservation or
//! a journal entry is one short transaction that the caller waits for before it acts.
//! The PostgreSQL store drives its async driver on a small runtime of its own, so it can
//! be called from inside the harness's async tasks as well as from plain threads.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, SubsecRound as _, Utc};

use crate::db::DbError;
use crate::journal::{Entry, EntryId, Run};
use crate::ledger::{Reservation, ReservationId, ReservationRequest, Status};
use certify_program::{Money, Month};

/// The environment variable naming a shared PostgreSQL ledger, like `--ledger`.
pub const LEDGER_URL_ENV: &str = "CERTIFY_LEDGER_URL";

/// Where the ledger and the journal live.
#[derive(Clone, PartialEq, Eq)]
pub enum Location {
    /// An SQLite file on this machine (see [`crate::default_path`]).
    Sqlite(PathBuf),
    /// A PostgreSQL database, as a `postgres://` URL (libpq key=value strings work too).
    Postgres(String),
}

impl Location {
    /// A PostgreSQL URL when `ledger` is given (from `--ledger` or [`LEDGER_URL_ENV`]),
    /// else the SQLite file `state`.
    pub fn new(ledger: Option<&str>, state: PathBuf) -> Location {
        match ledger.filter(|url| !url.trim().is_empty()) {
            Some(url) => Location::Postgres(url.trim().to_owned()),
            None => Location::Sqlite(state),
        }
    }

    /// Reads a location from one string: a `postgres://` or `postgresql://` URL, else a
    /// file path.
    pub fn parse(text: &str) -> Location {
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            Location::Postgres(text.to_owned())
        } else {
            Location::Sqlite(PathBuf::from(text))
        }
    }

    /// Whether several machines can share it.
    pub fn is_shared(&self) -> bool {
        matches!(self, Location::Postgres(_))
    }
}

impl fmt::Display for Location {
    /// The file, or the URL without its password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Sqlite(path) => write!(f, "{}", path.display()),
            Location::Postgres(url) => f.write_str(&crate::postgres::redact(url)),
        }
    }
}

impl fmt::Debug for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Location({self})")
    }
}

/// Opens the store at `location`, creating and migrating its schema as needed.
pub(crate) fn open(location: &Location) -> Result<Box<dyn Backend>, DbError> {
    Ok(match location {
        Location::Sqlite(path) => Box::new(crate::sqlite::Sqlite::open(path)?),
        Location::Postgres(url) => Box::new(crate::postgres::Postgres::connect(url)?),
    })
}

/// The current instant as the stores keep it (milliseconds), so a value handed back from
/// a write equals the value read back later, on either store.
pub(crate) fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

/// A stored value this build does not know (a status, an entry state).
#[derive(Debug, thiserror::Error)]
#[error("unknown value `{0}`")]
pub(crate) struct Unknown(pub String);

/// What a reservation transaction saw and did.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reserved {
    pub id: ReservationId,
    /// Settled (and released) this month, as the ledger knows it.
    pub ledger_month_to_date: Money,
    /// Open reservations weighing on the month, other than this one.
    pub reserved: Money,
    /// Whether it was granted (else recorded as refused).
    pub granted: bool,
}

/// The rule a reservation is checked by, applied inside the store's transaction: granted
/// when month-to-date (the larger of the ledger's and the account's) + open reservations +
/// the estimate stay within the credit.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Check {
    pub credit: Money,
    pub estimate: Money,
    pub account_month_to_date: Money,
}

impl Check {
    pub(crate) fn of(request: &ReservationRequest<'_>) -> Check {
        Check {
            credit: request.credit,
            estimate: request.estimate,
            account_month_to_date: request.account_month_to_date,
        }
    }

    /// Month-to-date as the check counts it.
    pub(crate) fn month_to_date(&self, ledger_month_to_date: Money) -> Money {
        ledger_month_to_date.max(self.account_month_to_date)
    }

    /// Whether the reservation is granted, given what the ledger holds.
    pub(crate) fn grants(&self, ledger_month_to_date: Money, reserved: Money) -> bool {
        crate::ledger::shortfall(
            self.credit,
            self.month_to_date(ledger_month_to_date),
            reserved,
            self.estimate,
        )
        .is_none()
    }
}

/// Which reservations to list.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ReservationFilter<'a> {
    /// Open ones of the account weighing on the month (its own and earlier months'),
    /// oldest first.
    OpenInMonth { account: &'a str, month: Month },
    /// A run's open ones, oldest first.
    OpenOfRun(&'a str),
    /// The account's, newest first.
    History { account: &'a str, limit: usize },
}

/// Which journal entries to list.
#[derive(Debug, Clone, Copy)]
pub(crate) enum EntryFilter<'a> {
    /// One entry.
    One(EntryId),
    /// All of a run's, in order.
    OfRun(&'a str),
    /// A run's entries not verified deleted, newest first.
    Leftovers(&'a str),
}

/// Which runs to list.
#[derive(Debug, Clone, Copy)]
pub(crate) enum RunFilter<'a> {
    /// One run.
    One(&'a str),
    /// An account's runs, newest first.
    OfAccount(&'a str),
    /// An account's runs that may have left something: unfinished, unverified, or with
    /// entries not deleted; oldest first.
    MaybeStale(&'a str),
}

/// How a journal entry changes.
#[derive(Debug, Clone, Copy)]
pub(crate) enum EntryUpdate<'a> {
    Created { remote_id: &'a str },
    Deleted,
    Failed { error: &'a str },
}

/// The process that holds a run's lease: the run itself, or a cleanup reaping it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Holder {
    pub hostname: String,
    pub boot_id: String,
    /// The pid namespace (`/proc/self/ns/pid`): containers on one kernel share its boot
    /// id but not their pids.
    pub pid_ns: String,
    pub pid: u32,
    pub process_start: Option<u64>,
}

/// A run's lease as stored.
#[derive(Debug, Clone)]
pub(crate) struct Lease {
    /// Bumped by every claim, so that a claim is a compare-and-swap and a holder that
    /// lost its lease cannot renew it.
    pub generation: i64,
    pub holder: Holder,
    /// Whether it has run out, by the store's clock.
    pub expired: bool,
}

/// A run with its lease.
#[derive(Debug, Clone)]
pub(crate) struct RunRecord {
    pub run: Run,
    pub lease: Lease,
}

/// A run to record at its start.
#[derive(Debug, Clone)]
pub(crate) struct NewRun<'a> {
    pub run_id: &'a str,
    pub account: &'a str,
    pub started_at: DateTime<Utc>,
    pub holder: &'a Holder,
}

/// The storage of the ledger and the journal. Each method is one transaction.
pub(crate) trait Backend: Send {
    /// Another handle on the same store (for a lease renewer on its own thread).
    fn try_clone(&self) -> Result<Box<dyn Backend>, DbError>;

    /// Checks and takes a reservation atomically: serialised against every other
    /// reservation on the account, in any process on any machine, by [`Check`].
    fn reserve(
        &mut self,
        request: &ReservationRequest<'_>,
        hostname: &str,
        now: DateTime<Utc>,
    ) -> Result<Reserved, DbError>;

    /// Closes an open reservation (no change if it is closed already) and returns it.
    fn close_reservation(
        &mut self,
        id: ReservationId,
        status: Status,
        actual: Money,
        now: DateTime<Utc>,
    ) -> Result<Option<Reservation>, DbError>;

    /// One reservation.
    fn reservation(&mut self, id: ReservationId) -> Result<Option<Reservation>, DbError>;

    /// Settled this month, and the open reservations weighing on it (sum and count), in
    /// one snapshot.
    fn totals(&mut self, account: &str, month: Month) -> Result<(Money, Money, usize), DbError>;

    /// Reservations.
    fn reservations(&mut self, filter: ReservationFilter<'_>) -> Result<Vec<Reservation>, DbError>;

    /// Records a new run holding its lease for `lease`; `None` if the id is taken.
    fn insert_run(&mut self, run: &NewRun<'_>, lease: Duration) -> Result<Option<i64>, DbError>;

    /// Records the end of a run (keeping the first finish time); `None` if unknown.
    fn finish_run(
        &mut self,
        run_id: &str,
        teardown_verified: bool,
        now: DateTime<Utc>,
    ) -> Result<Option<()>, DbError>;

    /// Records an intended entry; `None` if the run is unknown.
    fn intend(
        &mut self,
        run_id: &str,
        kind: &str,
        name: &str,
        details: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<EntryId>, DbError>;

    /// Changes an entry; `false` if it is unknown.
    fn update_entry(
        &mut self,
        entry: EntryId,
        update: EntryUpdate<'_>,
        now: DateTime<Utc>,
    ) -> Result<bool, DbError>;

    /// Journal entries.
    fn entries(&mut self, filter: EntryFilter<'_>) -> Result<Vec<Entry>, DbError>;

    /// Runs with their leases.
    fn runs(&mut self, filter: RunFilter<'_>) -> Result<Vec<RunRecord>, DbError>;

    /// Takes over a run's lease if it is still at `generation`; the new generation, or
    /// `None` when someone else took it first.
    fn claim(
        &mut self,
        run_id: &str,
        generation: i64,
        holder: &Holder,
        lease: Duration,
    ) -> Result<Option<i64>, DbError>;

    /// Extends a lease held at `generation`; `false` when it was lost to a claim.
    fn renew(&mut self, run_id: &str, generation: i64, lease: Duration) -> Result<bool, DbError>;

    /// Lets a lease held at `generation` run out now.
    fn release(&mut self, run_id: &str, generation: i64) -> Result<(), DbError>;

    /// The SQLite connection, for tests that tamper with the file.
    #[cfg(test)]
    fn sqlite(&mut self) -> Option<&mut rusqlite::Connection> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ledger_url_chooses_postgresql_and_is_shown_without_its_password() {
        let file = PathBuf::from("/state/state.db");
        assert_eq!(
            Location::new(None, file.clone()),
            Location::Sqlite(file.clone())
        );
        assert_eq!(
            Location::new(Some("  "), file.clone()),
            Location::Sqlite(file.clone())
        );
        let shared = Location::new(Some("postgres://team:s3cret@db:5432/certify"), file);
        assert!(shared.is_shared());
        assert_eq!(shared.to_string(), "postgres://team@db:5432/certify");
        assert!(!format!("{shared:?}").contains("s3cret"));
        assert_eq!(
            Location::parse("postgresql://db/certify"),
            Location::Postgres("postgresql://db/certify".into())
        );
        assert_eq!(
            Location::parse("state.db"),
            Location::Sqlite("state.db".into())
        );
    }
}
