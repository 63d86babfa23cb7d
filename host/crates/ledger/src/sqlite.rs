//! The embedded store: the ledger and the journal in one SQLite file on this machine (the
//! default). Every change runs in a `BEGIN IMMEDIATE` transaction, which takes SQLite's
//! single writer lock before anything is read, so a check-then-insert cannot interleave
//! with another process's; that is what serialises reservations here.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension as _, Row, params};

use crate::backend::{
    Backend, Check, EntryFilter, EntryUpdate, Holder, Lease, NewRun, ReservationFilter, Reserved,
    RunFilter, RunRecord,
};
use crate::db::{self, DbError};
use crate::journal::{Entry, EntryId, EntryState, Kind, Run};
use crate::ledger::{Reservation, ReservationId, ReservationRequest, Status};
use certify_program::{Money, Month};

/// One connection to the state file.
pub(crate) struct Sqlite {
    conn: Connection,
    path: PathBuf,
}

impl Sqlite {
    pub(crate) fn open(path: &Path) -> Result<Sqlite, DbError> {
        Ok(Sqlite {
            conn: db::open(path)?,
            path: path.to_owned(),
        })
    }
}

const COLUMNS: &str = "id, account, month, run_id, hostname, description, estimate, credit, \
                       month_to_date, reserved, status, actual, requested_at, closed_at";

fn conversion(column: usize, e: impl std::error::Error + Send + Sync + 'static) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(column, rusqlite::types::Type::Text, Box::new(e))
}

fn reservation_from_row(row: &Row<'_>) -> rusqlite::Result<Reservation> {
    let month: String = row.get(2)?;
    let status: String = row.get(10)?;
    Ok(Reservation {
        id: ReservationId(row.get(0)?),
        account: row.get(1)?,
        month: month.parse().map_err(|e| conversion(2, e))?,
        run_id: row.get(3)?,
        hostname: row.get(4)?,
        description: row.get(5)?,
        estimate: Money::from_micros(row.get(6)?),
        credit: Money::from_micros(row.get(7)?),
        month_to_date: Money::from_micros(row.get(8)?),
        reserved: Money::from_micros(row.get(9)?),
        status: Status::parse(&status).map_err(|e| conversion(10, e))?,
        actual: row.get::<_, Option<i64>>(11)?.map(Money::from_micros),
        requested_at: db::parse_timestamp(&row.get::<_, String>(12)?)?,
        closed_at: db::parse_opt_timestamp(row.get(13)?)?,
    })
}

const ENTRY_COLUMNS: &str = "j.id, j.run_id, r.account, j.kind, j.name, j.details, j.state, \
                             j.remote_id, j.error, j.intended_at, j.updated_at";

fn entry_from_row(row: &Row<'_>) -> rusqlite::Result<Entry> {
    let details: String = row.get(5)?;
    let state: String = row.get(6)?;
    Ok(Entry {
        id: EntryId(row.get(0)?),
        run_id: row.get(1)?,
        account: row.get(2)?,
        kind: Kind::from(row.get::<_, String>(3)?),
        name: row.get(4)?,
        details: serde_json::from_str(&details).map_err(|e| conversion(5, e))?,
        state: EntryState::parse(&state).map_err(|e| conversion(6, e))?,
        remote_id: row.get(7)?,
        error: row.get(8)?,
        intended_at: db::parse_timestamp(&row.get::<_, String>(9)?)?,
        updated_at: db::parse_timestamp(&row.get::<_, String>(10)?)?,
    })
}

const RUN_COLUMNS: &str = "r.run_id, r.account, r.pid, r.hostname, r.started_at, r.finished_at, \
     r.teardown_verified, r.lease_generation, r.holder_host, r.holder_boot, r.holder_pid_ns, \
     r.holder_pid, r.holder_start, r.lease_expires_at <= ?1";

fn run_from_row(row: &Row<'_>) -> rusqlite::Result<RunRecord> {
    Ok(RunRecord {
        run: Run {
            run_id: row.get(0)?,
            account: row.get(1)?,
            pid: row.get(2)?,
            hostname: row.get(3)?,
            started_at: db::parse_timestamp(&row.get::<_, String>(4)?)?,
            finished_at: db::parse_opt_timestamp(row.get(5)?)?,
            teardown_verified: row.get(6)?,
        },
        lease: Lease {
            generation: row.get(7)?,
            holder: Holder {
                hostname: row.get(8)?,
                boot_id: row.get(9)?,
                pid_ns: row.get(10)?,
                pid: row.get(11)?,
                process_start: row.get::<_, Option<i64>>(12)?.map(|t| t as u64),
            },
            expired: row.get(13)?,
        },
    })
}

fn expiry(lease: Duration) -> String {
    let lease = chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::MAX);
    db::timestamp(crate::backend::now() + lease)
}

impl Backend for Sqlite {
    fn try_clone(&self) -> Result<Box<dyn Backend>, DbError> {
        Ok(Box::new(Sqlite::open(&self.path)?))
    }

    fn reserve(
        &mut self,
        request: &ReservationRequest<'_>,
        hostname: &str,
        now: DateTime<Utc>,
    ) -> Result<Reserved, DbError> {
        let check = Check::of(request);
        let tx = db::immediate(&mut self.conn)?;
        let (ledger_month_to_date, reserved) = sums(&tx, request.account, request.month)?;
        let granted = check.grants(ledger_month_to_date, reserved);
        let status = if granted {
            Status::Open
        } else {
            Status::Refused
        };
        let closed_at = (!granted).then(|| db::timestamp(now));
        tx.execute(
            "INSERT INTO reservations (account, month, run_id, hostname, description, estimate,
                 credit, month_to_date, reserved, status, requested_at, closed_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            params![
                request.account,
                request.month.key(),
                request.run_id,
                hostname,
                request.description,
                request.estimate.micros(),
                request.credit.micros(),
                check.month_to_date(ledger_month_to_date).micros(),
                reserved.micros(),
                status.as_str(),
                db::timestamp(now),
                closed_at,
            ],
        )?;
        let id = ReservationId(tx.last_insert_rowid());
        tx.commit()?;
        Ok(Reserved {
            id,
            ledger_month_to_date,
            reserved,
            granted,
        })
    }

    fn close_reservation(
        &mut self,
        id: ReservationId,
        status: Status,
        actual: Money,
        now: DateTime<Utc>,
    ) -> Result<Option<Reservation>, DbError> {
        let tx = db::immediate(&mut self.conn)?;
        tx.execute(
            "UPDATE reservations SET status = ?2, actual = ?3, closed_at = ?4
             WHERE id = ?1 AND status = 'open'",
            params![id.0, status.as_str(), actual.micros(), db::timestamp(now)],
        )?;
        let reservation = tx
            .query_row(
                &format!("SELECT {COLUMNS} FROM reservations WHERE id = ?1"),
                [id.0],
                reservation_from_row,
            )
            .optional()?;
        tx.commit()?;
        Ok(reservation)
    }

    fn reservation(&mut self, id: ReservationId) -> Result<Option<Reservation>, DbError> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM reservations WHERE id = ?1"),
                [id.0],
                reservation_from_row,
            )
            .optional()?)
    }

    fn totals(&mut self, account: &str, month: Month) -> Result<(Money, Money, usize), DbError> {
        let tx = self.conn.transaction()?;
        let (settled, open) = sums(&tx, account, month)?;
        let count: i64 = tx.query_row(
            "SELECT COUNT(*) FROM reservations
             WHERE account = ?1 AND month <= ?2 AND status = 'open'",
            params![account, month.key()],
            |r| r.get(0),
        )?;
        Ok((settled, open, count as usize))
    }

    fn reservations(&mut self, filter: ReservationFilter<'_>) -> Result<Vec<Reservation>, DbError> {
        let base = format!("SELECT {COLUMNS} FROM reservations");
        let (sql, args): (String, Vec<rusqlite::types::Value>) = match filter {
            ReservationFilter::OpenInMonth { account, month } => (
                format!(
                    "{base} WHERE account = ?1 AND month <= ?2 AND status = 'open' ORDER BY id"
                ),
                vec![account.to_owned().into(), month.key().into()],
            ),
            ReservationFilter::OpenOfRun(run_id) => (
                format!("{base} WHERE run_id = ?1 AND status = 'open' ORDER BY id"),
                vec![run_id.to_owned().into()],
            ),
            ReservationFilter::History { account, limit } => (
                format!("{base} WHERE account = ?1 ORDER BY id DESC LIMIT ?2"),
                vec![
                    account.to_owned().into(),
                    i64::try_from(limit).unwrap_or(i64::MAX).into(),
                ],
            ),
        };
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(args), reservation_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn insert_run(&mut self, run: &NewRun<'_>, lease: Duration) -> Result<Option<i64>, DbError> {
        let tx = db::immediate(&mut self.conn)?;
        let exists: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM runs WHERE run_id = ?1)",
            [run.run_id],
            |r| r.get(0),
        )?;
        if exists {
            return Ok(None);
        }
        let h = run.holder;
        tx.execute(
            "INSERT INTO runs (run_id, account, pid, process_start, hostname, boot_id, started_at,
                 holder_host, holder_boot, holder_pid_ns, holder_pid, holder_start,
                 lease_generation, lease_expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?5, ?6, ?8, ?3, ?4, 1, ?9)",
            params![
                run.run_id,
                run.account,
                h.pid,
                h.process_start.map(|t| t as i64),
                h.hostname,
                h.boot_id,
                db::timestamp(run.started_at),
                h.pid_ns,
                expiry(lease),
            ],
        )?;
        tx.commit()?;
        Ok(Some(1))
    }

    fn finish_run(
        &mut self,
        run_id: &str,
        teardown_verified: bool,
        now: DateTime<Utc>,
    ) -> Result<Option<()>, DbError> {
        let changed = self.conn.execute(
            "UPDATE runs SET finished_at = COALESCE(finished_at, ?2), teardown_verified = ?3
             WHERE run_id = ?1",
            params![run_id, db::timestamp(now), teardown_verified],
        )?;
        Ok((changed > 0).then_some(()))
    }

    fn intend(
        &mut self,
        run_id: &str,
        kind: &str,
        name: &str,
        details: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<EntryId>, DbError> {
        let now = db::timestamp(now);
        let tx = db::immediate(&mut self.conn)?;
        let exists: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM runs WHERE run_id = ?1)",
            [run_id],
            |r| r.get(0),
        )?;
        if !exists {
            return Ok(None);
        }
        tx.execute(
            "INSERT INTO journal (run_id, kind, name, details, state, intended_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, 'intended', ?5, ?5)",
            params![run_id, kind, name, details, now],
        )?;
        let id = EntryId(tx.last_insert_rowid());
        tx.commit()?;
        Ok(Some(id))
    }

    fn update_entry(
        &mut self,
        entry: EntryId,
        update: EntryUpdate<'_>,
        now: DateTime<Utc>,
    ) -> Result<bool, DbError> {
        let (sql, value) = match update {
            EntryUpdate::Created { remote_id } => (
                "UPDATE journal SET state = 'created', remote_id = ?2, updated_at = ?3 WHERE id = ?1",
                Some(remote_id),
            ),
            EntryUpdate::Deleted => (
                "UPDATE journal SET state = 'deleted', updated_at = ?3 WHERE id = ?1 AND ?2 IS NULL",
                None,
            ),
            EntryUpdate::Failed { error } => (
                "UPDATE journal SET state = 'failed', error = ?2, updated_at = ?3 WHERE id = ?1",
                Some(error),
            ),
        };
        let changed = self
            .conn
            .execute(sql, params![entry.0, value, db::timestamp(now)])?;
        Ok(changed > 0)
    }

    fn entries(&mut self, filter: EntryFilter<'_>) -> Result<Vec<Entry>, DbError> {
        let base = format!("SELECT {ENTRY_COLUMNS} FROM journal j JOIN runs r USING (run_id)");
        let (sql, arg): (String, rusqlite::types::Value) = match filter {
            EntryFilter::One(id) => (format!("{base} WHERE j.id = ?1"), id.0.into()),
            EntryFilter::OfRun(run_id) => (
                format!("{base} WHERE j.run_id = ?1 ORDER BY j.id"),
                run_id.to_owned().into(),
            ),
            EntryFilter::Leftovers(run_id) => (
                format!("{base} WHERE j.run_id = ?1 AND j.state != 'deleted' ORDER BY j.id DESC"),
                run_id.to_owned().into(),
            ),
        };
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map([arg], entry_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn runs(&mut self, filter: RunFilter<'_>) -> Result<Vec<RunRecord>, DbError> {
        let base = format!("SELECT {RUN_COLUMNS} FROM runs r");
        let (sql, arg) = match filter {
            RunFilter::One(run_id) => (format!("{base} WHERE r.run_id = ?2"), run_id),
            RunFilter::OfAccount(account) => (
                format!("{base} WHERE r.account = ?2 ORDER BY r.started_at DESC, r.rowid DESC"),
                account,
            ),
            RunFilter::MaybeStale(account) => (
                format!(
                    "{base} WHERE r.account = ?2
                       AND (r.finished_at IS NULL OR r.teardown_verified = 0
                            OR EXISTS (SELECT 1 FROM journal j
                                       WHERE j.run_id = r.run_id AND j.state != 'deleted'))
                     ORDER BY r.started_at, r.rowid"
                ),
                account,
            ),
        };
        let now = db::timestamp(crate::backend::now());
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map(params![now, arg], run_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn claim(
        &mut self,
        run_id: &str,
        generation: i64,
        holder: &Holder,
        lease: Duration,
    ) -> Result<Option<i64>, DbError> {
        let changed = self.conn.execute(
            "UPDATE runs SET lease_generation = lease_generation + 1, holder_host = ?3,
                 holder_boot = ?4, holder_pid_ns = ?5, holder_pid = ?6, holder_start = ?7,
                 lease_expires_at = ?8
             WHERE run_id = ?1 AND lease_generation = ?2",
            params![
                run_id,
                generation,
                holder.hostname,
                holder.boot_id,
                holder.pid_ns,
                holder.pid,
                holder.process_start.map(|t| t as i64),
                expiry(lease),
            ],
        )?;
        Ok((changed > 0).then_some(generation + 1))
    }

    fn renew(&mut self, run_id: &str, generation: i64, lease: Duration) -> Result<bool, DbError> {
        let changed = self.conn.execute(
            "UPDATE runs SET lease_expires_at = ?3 WHERE run_id = ?1 AND lease_generation = ?2",
            params![run_id, generation, expiry(lease)],
        )?;
        Ok(changed > 0)
    }

    fn release(&mut self, run_id: &str, generation: i64) -> Result<(), DbError> {
        self.conn.execute(
            "UPDATE runs SET lease_expires_at = ?3 WHERE run_id = ?1 AND lease_generation = ?2",
            params![run_id, generation, db::timestamp(crate::backend::now())],
        )?;
        Ok(())
    }

    #[cfg(test)]
    fn sqlite(&mut self) -> Option<&mut Connection> {
        Some(&mut self.conn)
    }
}

/// Settled this month, and open reservations weighing on it (its own and any left open
/// from an earlier month: a run that straddles midnight on the 1st keeps spending into the
/// new month).
fn sums(conn: &Connection, account: &str, month: Month) -> rusqlite::Result<(Money, Money)> {
    conn.query_row(
        "SELECT
             COALESCE(SUM(CASE WHEN month = ?2 AND status IN ('settled', 'released')
                               THEN actual END), 0),
             COALESCE(SUM(CASE WHEN month <= ?2 AND status = 'open' THEN estimate END), 0)
         FROM reservations WHERE account = ?1",
        params![account, month.key()],
        |row| {
            Ok((
                Money::from_micros(row.get(0)?),
                Money::from_micros(row.get(1)?),
            ))
        },
    )
}
