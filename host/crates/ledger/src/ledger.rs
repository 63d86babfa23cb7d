//! The monthly-credit ledger: every chargeable action is reserved against what is left of
//! the account's credit for the month *before* it happens, and settled to the account's
//! actual charge afterwards.
//!
//! The credit must never be overrun, also not by two runs on the same account at once in
//! two processes, also not by runs on several machines sharing a PostgreSQL ledger. So the
//! check ("month-to-date + open reservations + this estimate ≤ credit") and the insert of
//! the reservation happen in one transaction that is serialised per account: SQLite's
//! `BEGIN IMMEDIATE` writer lock on one machine, a row lock on the account in PostgreSQL
//! (see [`crate::postgres`] for why a lock rather than SERIALIZABLE). The second reserver
//! waits for the first to commit and then sees its reservation.
//!
//! Month-to-date is the larger of what the ledger has settled and what the account's own
//! billing says, because each can know something the other does not: the ledger knows
//! settlements the billing has not caught up with yet, the billing knows spending that
//! did not go through this harness. Both figures also count the accrued cost of runs that
//! are still open, so a live run's spend can be counted twice; that errs on the side of
//! the credit, which is the side to err on.
//!
//! A refusal is not an error: `reserve` returns `Ok(Err(Refusal))`, which the report shows
//! as a failed budget check with its numbers. The refusal is also recorded, so
//! `certify budget` can list it in the history.

use std::fmt;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::backend::{self, Backend, Check, Location, ReservationFilter};
use crate::db::DbError;
use crate::process::Identity;
use certify_program::{Money, Month};

/// Why the ledger could not do its job (as opposed to refusing an action, which is a
/// [`Refusal`]).
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
    /// No reservation has this id.
    #[error(
        "there is no reservation {0} in the ledger; settle only ids that `reserve` returned, \
         against the same state database"
    )]
    UnknownReservation(ReservationId),
    /// An amount that cannot be negative was.
    #[error("{what} is {amount:#}, below zero; a charge or estimate is never negative")]
    NegativeAmount {
        /// Which amount.
        what: &'static str,
        /// Its value.
        amount: Money,
    },
    /// A required name was empty.
    #[error("the {0} of a reservation is empty; give every reservation an account and a run id")]
    Empty(&'static str),
}

/// The id of a reservation (or of a recorded refusal), unique within a state database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ReservationId(pub i64);

impl fmt::Display for ReservationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// Where a reservation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Granted, the action may be running; counts against the credit at its estimate.
    Open,
    /// Closed with the account's actual charge.
    Settled,
    /// Closed without a charge: the action created nothing.
    Released,
    /// Never granted; kept for the history.
    Refused,
}

impl Status {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Settled => "settled",
            Status::Released => "released",
            Status::Refused => "refused",
        }
    }

    pub(crate) fn parse(s: &str) -> Result<Status, backend::Unknown> {
        Ok(match s {
            "open" => Status::Open,
            "settled" => Status::Settled,
            "released" => Status::Released,
            "refused" => Status::Refused,
            other => return Err(backend::Unknown(other.to_owned())),
        })
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What to reserve, and the figures to check it against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReservationRequest<'a> {
    /// The account alias.
    pub account: &'a str,
    /// The UTC month the action happens in (usually [`Month::current`]).
    pub month: Month,
    /// The run it belongs to.
    pub run_id: &'a str,
    /// What is being paid for, as the refusal message and the report should say it, e.g.
    /// `deploying 2 servers for 3 billed hours`.
    pub description: &'a str,
    /// The priced estimate (`certify_blueprint::PriceList`).
    pub estimate: Money,
    /// The account's monthly credit (see [`crate::Tier::monthly_credit`]).
    pub credit: Money,
    /// Month-to-date as the account's billing reports it right now.
    pub account_month_to_date: Money,
}

/// A reservation as the ledger records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reservation {
    /// Its id.
    pub id: ReservationId,
    /// The account alias.
    pub account: String,
    /// The UTC month it counts towards.
    pub month: Month,
    /// The run it belongs to.
    pub run_id: String,
    /// The machine that reserved it.
    pub hostname: String,
    /// What it pays for.
    pub description: String,
    /// The estimate reserved.
    pub estimate: Money,
    /// The credit it was checked against.
    pub credit: Money,
    /// Month-to-date when it was checked (the larger of ledger and account billing).
    pub month_to_date: Money,
    /// Other open reservations when it was checked.
    pub reserved: Money,
    /// Where it stands.
    pub status: Status,
    /// The actual charge, once settled ($0 once released).
    pub actual: Option<Money>,
    /// When it was requested.
    pub requested_at: DateTime<Utc>,
    /// When it was settled, released or refused.
    pub closed_at: Option<DateTime<Utc>>,
}

impl Reservation {
    /// Credit left after this reservation was granted, as of the check.
    pub fn remaining_after(&self) -> Money {
        self.credit - self.month_to_date - self.reserved - self.estimate
    }
}

/// Why an action may not happen: it would take the month past the credit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    /// The recorded refusal, for the history.
    pub id: ReservationId,
    /// The account alias.
    pub account: String,
    /// The UTC month.
    pub month: Month,
    /// The run that asked.
    pub run_id: String,
    /// What it would have paid for.
    pub description: String,
    /// The estimate of the action.
    pub estimate: Money,
    /// Month-to-date used: the larger of the two below.
    pub month_to_date: Money,
    /// What the ledger had settled for the month.
    pub ledger_month_to_date: Money,
    /// What the account's billing reported.
    pub account_month_to_date: Money,
    /// Open reservations of this and other runs.
    pub reserved: Money,
    /// The monthly credit.
    pub credit: Money,
    /// By how much the credit would be exceeded (> 0).
    pub shortfall: Money,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "refused: {} is estimated at {}; month-to-date {} + reserved {} + this would exceed \
             the {} monthly credit by {} (account {}, {} UTC)",
            self.description,
            self.estimate,
            self.month_to_date,
            self.reserved,
            self.credit,
            self.shortfall.ceil_to_cent(),
            self.account,
            self.month,
        )
    }
}

/// The ledger's one rule, by how much a reservation would break it: month-to-date plus
/// open reservations plus the estimate must stay within the credit. `None` when they
/// do. `certify plan` asks the same question before a run does.
pub fn shortfall(
    credit: Money,
    month_to_date: Money,
    reserved: Money,
    estimate: Money,
) -> Option<Money> {
    let total = month_to_date + reserved + estimate;
    (total > credit).then(|| total - credit)
}

/// The figures `certify budget` shows for an account and month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// The account alias.
    pub account: String,
    /// The UTC month.
    pub month: Month,
    /// The monthly credit.
    pub credit: Money,
    /// Settled in the ledger this month.
    pub ledger_month_to_date: Money,
    /// As the account's billing reports it.
    pub account_month_to_date: Money,
    /// The larger of the two.
    pub month_to_date: Money,
    /// Sum of open reservations (this month's and any still open from earlier months).
    pub open_reservations: Money,
    /// How many reservations are open.
    pub open_count: usize,
    /// Credit minus month-to-date minus open reservations; negative once overrun.
    pub remaining: Money,
}

/// The ledger, on one connection to its store (an SQLite file or a shared PostgreSQL
/// database, see [`Location`]).
///
/// Open one per thread or task; a `Ledger` is `Send` but not `Sync`. Any number of
/// `Ledger`s, in any number of processes on any number of machines, may share a store.
pub struct Ledger {
    store: Box<dyn Backend>,
    location: Location,
    hostname: String,
}

impl fmt::Debug for Ledger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ledger")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

fn non_negative(what: &'static str, amount: Money) -> Result<(), LedgerError> {
    if amount.is_negative() {
        return Err(LedgerError::NegativeAmount { what, amount });
    }
    Ok(())
}

impl Ledger {
    /// Opens the ledger in the SQLite state file at `path` (see [`crate::default_path`]),
    /// creating the file if needed.
    pub fn open(path: impl AsRef<Path>) -> Result<Ledger, LedgerError> {
        Ledger::connect(&Location::Sqlite(path.as_ref().to_owned()))
    }

    /// Opens the ledger at `location`, creating and migrating its schema if needed.
    pub fn connect(location: &Location) -> Result<Ledger, LedgerError> {
        Ok(Ledger {
            store: backend::open(location)?,
            location: location.clone(),
            hostname: Identity::current().hostname,
        })
    }

    /// Where the ledger lives.
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// Reserves `request.estimate` against the month's credit, or refuses it.
    ///
    /// Granted only if month-to-date (the larger of the ledger's settled total and
    /// `request.account_month_to_date`) plus open reservations plus the estimate stays
    /// within `request.credit`. `Err` only when the ledger itself failed.
    pub fn reserve(
        &mut self,
        request: &ReservationRequest<'_>,
    ) -> Result<Result<Reservation, Refusal>, LedgerError> {
        if request.account.is_empty() {
            return Err(LedgerError::Empty("account"));
        }
        if request.run_id.is_empty() {
            return Err(LedgerError::Empty("run id"));
        }
        non_negative("the estimate", request.estimate)?;
        non_negative("the account's month-to-date", request.account_month_to_date)?;

        let now = backend::now();
        let check = Check::of(request);
        let done = self.store.reserve(request, &self.hostname, now)?;
        let month_to_date = check.month_to_date(done.ledger_month_to_date);
        if !done.granted {
            let shortfall = shortfall(
                request.credit,
                month_to_date,
                done.reserved,
                request.estimate,
            )
            .unwrap_or(Money::ZERO);
            return Ok(Err(Refusal {
                id: done.id,
                account: request.account.to_owned(),
                month: request.month,
                run_id: request.run_id.to_owned(),
                description: request.description.to_owned(),
                estimate: request.estimate,
                month_to_date,
                ledger_month_to_date: done.ledger_month_to_date,
                account_month_to_date: request.account_month_to_date,
                reserved: done.reserved,
                credit: request.credit,
                shortfall,
            }));
        }
        // Built from what was inserted rather than re-read: the row is ours and final.
        Ok(Ok(Reservation {
            id: done.id,
            account: request.account.to_owned(),
            month: request.month,
            run_id: request.run_id.to_owned(),
            hostname: self.hostname.clone(),
            description: request.description.to_owned(),
            estimate: request.estimate,
            credit: request.credit,
            month_to_date,
            reserved: done.reserved,
            status: Status::Open,
            actual: None,
            requested_at: now,
            closed_at: None,
        }))
    }

    /// Closes a reservation with the actual charge from the account's billing.
    ///
    /// Idempotent: closing an already closed reservation changes nothing and returns it
    /// as it was first closed, so a teardown retried after a crash cannot charge twice.
    pub fn settle(&mut self, id: ReservationId, actual: Money) -> Result<Reservation, LedgerError> {
        non_negative("the actual charge", actual)?;
        self.close(id, Status::Settled, actual)
    }

    /// Closes a reservation whose action created nothing, at $0. Idempotent like
    /// [`Ledger::settle`].
    pub fn release(&mut self, id: ReservationId) -> Result<Reservation, LedgerError> {
        self.close(id, Status::Released, Money::ZERO)
    }

    fn close(
        &mut self,
        id: ReservationId,
        status: Status,
        actual: Money,
    ) -> Result<Reservation, LedgerError> {
        self.store
            .close_reservation(id, status, actual, backend::now())?
            .ok_or(LedgerError::UnknownReservation(id))
    }

    /// One reservation (or recorded refusal).
    pub fn reservation(&mut self, id: ReservationId) -> Result<Option<Reservation>, LedgerError> {
        Ok(self.store.reservation(id)?)
    }

    /// What the ledger has settled for an account in a month (released ones at $0).
    pub fn month_to_date(&mut self, account: &str, month: Month) -> Result<Money, LedgerError> {
        Ok(self.store.totals(account, month)?.0)
    }

    /// Open reservations that weigh on a month: its own and any still open from earlier
    /// months, oldest first.
    pub fn open_reservations(
        &mut self,
        account: &str,
        month: Month,
    ) -> Result<Vec<Reservation>, LedgerError> {
        Ok(self
            .store
            .reservations(ReservationFilter::OpenInMonth { account, month })?)
    }

    /// A run's open reservations, for the teardown of that run or the reaper of a
    /// crashed one to settle.
    pub fn open_reservations_for_run(
        &mut self,
        run_id: &str,
    ) -> Result<Vec<Reservation>, LedgerError> {
        Ok(self
            .store
            .reservations(ReservationFilter::OpenOfRun(run_id))?)
    }

    /// The account's reservations, settlements and refusals, newest first.
    pub fn history(
        &mut self,
        account: &str,
        limit: usize,
    ) -> Result<Vec<Reservation>, LedgerError> {
        Ok(self
            .store
            .reservations(ReservationFilter::History { account, limit })?)
    }

    /// The figures for `certify budget`.
    pub fn summary(
        &mut self,
        account: &str,
        month: Month,
        credit: Money,
        account_month_to_date: Money,
    ) -> Result<Summary, LedgerError> {
        let (ledger_month_to_date, open_reservations, open_count) =
            self.store.totals(account, month)?;
        let month_to_date = ledger_month_to_date.max(account_month_to_date);
        Ok(Summary {
            account: account.to_owned(),
            month,
            credit,
            ledger_month_to_date,
            account_month_to_date,
            month_to_date,
            open_reservations,
            open_count,
            remaining: credit - month_to_date - open_reservations,
        })
    }

    /// The SQLite connection, for tests that need to leave a transaction open.
    #[cfg(test)]
    pub(crate) fn sqlite_mut(&mut self) -> &mut rusqlite::Connection {
        self.store.sqlite().expect("an SQLite ledger")
    }
}

#[cfg(test)]
mod tests;
