//! The monthly-credit ledger: every chargeable action is reserved against what is left of
//! the account's credit for the month *before* it happens, and settled to the account's
//! actual charge afterwards.
//!
//! The credit must never be overrun, also not by two runs on the same account at once in
//! two processes. So the check ("month-to-date + open reservations + this estimate ≤
//! credit") and the insert of the reservation happen in one `BEGIN IMMEDIATE`
//! transaction: the second process waits for the first to commit and then sees its
//! reservation.
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
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension as _, Row, params};
use serde::{Deserialize, Serialize};

use crate::db::{self, DbError};
use crate::money::{Money, Month};

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

impl From<rusqlite::Error> for LedgerError {
    fn from(e: rusqlite::Error) -> LedgerError {
        LedgerError::Db(DbError::Sqlite(e))
    }
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
    fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Settled => "settled",
            Status::Released => "released",
            Status::Refused => "refused",
        }
    }

    fn parse(s: &str) -> rusqlite::Result<Status> {
        Ok(match s {
            "open" => Status::Open,
            "settled" => Status::Settled,
            "released" => Status::Released,
            "refused" => Status::Refused,
            other => {
                return Err(rusqlite::Error::InvalidColumnType(
                    0,
                    format!("status {other}"),
                    rusqlite::types::Type::Text,
                ));
            }
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
    /// The priced estimate (see [`crate::pricing`]).
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

/// The ledger, on one connection to the state database.
///
/// Open one per thread or task; a `Ledger` is `Send` but not `Sync`. Any number of
/// `Ledger`s, in any number of processes, may share a file.
pub struct Ledger {
    conn: Connection,
    path: PathBuf,
}

impl fmt::Debug for Ledger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ledger")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

const COLUMNS: &str = "id, account, month, run_id, description, estimate, credit, month_to_date, \
                       reserved, status, actual, requested_at, closed_at";

fn reservation_from_row(row: &Row<'_>) -> rusqlite::Result<Reservation> {
    let month: String = row.get(2)?;
    Ok(Reservation {
        id: ReservationId(row.get(0)?),
        account: row.get(1)?,
        month: month.parse().map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(2, rusqlite::types::Type::Text, Box::new(e))
        })?,
        run_id: row.get(3)?,
        description: row.get(4)?,
        estimate: Money::from_micros(row.get(5)?),
        credit: Money::from_micros(row.get(6)?),
        month_to_date: Money::from_micros(row.get(7)?),
        reserved: Money::from_micros(row.get(8)?),
        status: Status::parse(&row.get::<_, String>(9)?)?,
        actual: row.get::<_, Option<i64>>(10)?.map(Money::from_micros),
        requested_at: db::parse_timestamp(&row.get::<_, String>(11)?)?,
        closed_at: db::parse_opt_timestamp(row.get(12)?)?,
    })
}

/// Settled (and released) charges of an account in a month.
fn settled_total(conn: &Connection, account: &str, month: Month) -> rusqlite::Result<Money> {
    conn.query_row(
        "SELECT COALESCE(SUM(actual), 0) FROM reservations
         WHERE account = ?1 AND month = ?2 AND status IN ('settled', 'released')",
        params![account, month.key()],
        |row| row.get(0).map(Money::from_micros),
    )
}

/// Open reservations that weigh on a month: its own, and any left open from an earlier
/// month (a run that straddles midnight on the 1st keeps spending into the new month).
fn open_total(conn: &Connection, account: &str, month: Month) -> rusqlite::Result<(Money, usize)> {
    conn.query_row(
        "SELECT COALESCE(SUM(estimate), 0), COUNT(*) FROM reservations
         WHERE account = ?1 AND month <= ?2 AND status = 'open'",
        params![account, month.key()],
        |row| {
            Ok((
                Money::from_micros(row.get(0)?),
                row.get::<_, i64>(1)? as usize,
            ))
        },
    )
}

fn non_negative(what: &'static str, amount: Money) -> Result<(), LedgerError> {
    if amount.is_negative() {
        return Err(LedgerError::NegativeAmount { what, amount });
    }
    Ok(())
}

impl Ledger {
    /// Opens the ledger in the state database at `path` (see [`crate::default_path`]),
    /// creating the file if needed.
    pub fn open(path: impl AsRef<Path>) -> Result<Ledger, LedgerError> {
        let path = path.as_ref().to_owned();
        let conn = db::open(&path)?;
        Ok(Ledger { conn, path })
    }

    /// The state database file.
    pub fn path(&self) -> &Path {
        &self.path
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

        let now = Utc::now();
        let tx = db::immediate(&mut self.conn)?;
        let ledger_mtd = settled_total(&tx, request.account, request.month)?;
        let (reserved, _) = open_total(&tx, request.account, request.month)?;
        let month_to_date = ledger_mtd.max(request.account_month_to_date);
        let total = month_to_date + reserved + request.estimate;
        let granted = total <= request.credit;
        let status = if granted {
            Status::Open
        } else {
            Status::Refused
        };
        let closed_at = (!granted).then(|| db::timestamp(now));
        tx.execute(
            "INSERT INTO reservations (account, month, run_id, description, estimate, credit,
                 month_to_date, reserved, status, requested_at, closed_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                request.account,
                request.month.key(),
                request.run_id,
                request.description,
                request.estimate.micros(),
                request.credit.micros(),
                month_to_date.micros(),
                reserved.micros(),
                status.as_str(),
                db::timestamp(now),
                closed_at,
            ],
        )?;
        let id = ReservationId(tx.last_insert_rowid());
        tx.commit()?;

        if !granted {
            return Ok(Err(Refusal {
                id,
                account: request.account.to_owned(),
                month: request.month,
                run_id: request.run_id.to_owned(),
                description: request.description.to_owned(),
                estimate: request.estimate,
                month_to_date,
                ledger_month_to_date: ledger_mtd,
                account_month_to_date: request.account_month_to_date,
                reserved,
                credit: request.credit,
                shortfall: total - request.credit,
            }));
        }
        // Built from what was inserted rather than re-read: the row is ours and final.
        Ok(Ok(Reservation {
            id,
            account: request.account.to_owned(),
            month: request.month,
            run_id: request.run_id.to_owned(),
            description: request.description.to_owned(),
            estimate: request.estimate,
            credit: request.credit,
            month_to_date,
            reserved,
            status: Status::Open,
            actual: None,
            requested_at: db::parse_timestamp(&db::timestamp(now))?,
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
        let tx = db::immediate(&mut self.conn)?;
        tx.execute(
            "UPDATE reservations SET status = ?2, actual = ?3, closed_at = ?4
             WHERE id = ?1 AND status = 'open'",
            params![
                id.0,
                status.as_str(),
                actual.micros(),
                db::timestamp(Utc::now())
            ],
        )?;
        let reservation = tx
            .query_row(
                &format!("SELECT {COLUMNS} FROM reservations WHERE id = ?1"),
                [id.0],
                reservation_from_row,
            )
            .optional()?
            .ok_or(LedgerError::UnknownReservation(id))?;
        tx.commit()?;
        Ok(reservation)
    }

    /// One reservation (or recorded refusal).
    pub fn reservation(&self, id: ReservationId) -> Result<Option<Reservation>, LedgerError> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM reservations WHERE id = ?1"),
                [id.0],
                reservation_from_row,
            )
            .optional()?)
    }

    /// What the ledger has settled for an account in a month (released ones at $0).
    pub fn month_to_date(&self, account: &str, month: Month) -> Result<Money, LedgerError> {
        Ok(settled_total(&self.conn, account, month)?)
    }

    /// Open reservations that weigh on a month: its own and any still open from earlier
    /// months, oldest first.
    pub fn open_reservations(
        &self,
        account: &str,
        month: Month,
    ) -> Result<Vec<Reservation>, LedgerError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {COLUMNS} FROM reservations
             WHERE account = ?1 AND month <= ?2 AND status = 'open' ORDER BY id"
        ))?;
        let rows = stmt.query_map(params![account, month.key()], reservation_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A run's open reservations, for the teardown of that run or the reaper of a
    /// crashed one to settle.
    pub fn open_reservations_for_run(&self, run_id: &str) -> Result<Vec<Reservation>, LedgerError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {COLUMNS} FROM reservations WHERE run_id = ?1 AND status = 'open' ORDER BY id"
        ))?;
        let rows = stmt.query_map([run_id], reservation_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The account's reservations, settlements and refusals, newest first.
    pub fn history(&self, account: &str, limit: usize) -> Result<Vec<Reservation>, LedgerError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {COLUMNS} FROM reservations WHERE account = ?1 ORDER BY id DESC LIMIT ?2"
        ))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt.query_map(params![account, limit], reservation_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The figures for `certify budget`.
    pub fn summary(
        &self,
        account: &str,
        month: Month,
        credit: Money,
        account_month_to_date: Money,
    ) -> Result<Summary, LedgerError> {
        let ledger_month_to_date = settled_total(&self.conn, account, month)?;
        let (open_reservations, open_count) = open_total(&self.conn, account, month)?;
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

    /// The connection, for tests that need to leave a transaction open.
    #[cfg(test)]
    pub(crate) fn conn_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }
}

#[cfg(test)]
mod tests;
