//! The shared store: the ledger and the journal in a PostgreSQL database that the
//! harnesses of several machines use at once (`--ledger postgres://…`).
//!
//! **How reservations are serialised.** Every reservation takes a row lock on its
//! account's row in `accounts` (`INSERT … ON CONFLICT DO UPDATE`, which locks the row
//! whether it inserts or not) before it sums what is settled and open and inserts itself,
//! all in one READ COMMITTED transaction. A second reserver on the account waits for the
//! lock, and its sum — a new statement, so a new snapshot — then sees the first one's
//! reservation. A row lock rather than SERIALIZABLE with retries: reservations on one
//! account are exactly the transactions that must queue, a lock makes them queue without
//! aborted work or a retry loop to get right, and throughput is bounded by one short
//! transaction per reservation either way (several hundred a second; see the `reserve`
//! bench). The lock is the account's, not the account-month's, because open reservations
//! of an earlier month weigh on the next one: two reservations in different months of one
//! account must not interleave either. Settled and open sums are read in one statement,
//! so a settlement committing in between cannot make both miss its amount.
//!
//! **Leases.** Time comparisons use the server's clock (`clock_timestamp()`), never the
//! machines' own, so two machines with skewed clocks agree on whether a lease ran out.
//!
//! **Migrations** are versioned in `certify_schema`; the first harness to connect after
//! an upgrade applies them under a transaction-scoped advisory lock, so two machines
//! starting at once migrate once, and says so on stderr. A schema newer than this build is
//! refused. Tables live in the connection's current schema: a team can give certify a
//! schema of its own with `?options=-c%20search_path%3Dcertify` in the URL.
//!
//! **The driver.** tokio-postgres with a deadpool pool, run on a small tokio runtime of
//! the store's own (two worker threads, for the process's lifetime): calls block the
//! calling thread until their transaction is done, like SQLite calls do, and work from
//! async tasks and plain threads alike. Connections are plain TCP or a Unix socket (no
//! TLS): reach the server over a private network, a VPN or a TLS-terminating proxy.

use std::future::Future;
use std::str::FromStr as _;
use std::sync::OnceLock;
use std::time::Duration;

use chrono::{DateTime, Utc};
use deadpool_postgres::{GenericClient as _, Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::{NoTls, Row};

use crate::backend::{
    Backend, Check, EntryFilter, EntryUpdate, Holder, Lease, NewRun, ReservationFilter, Reserved,
    RunFilter, RunRecord,
};
use crate::db::DbError;
use crate::journal::{Entry, EntryId, EntryState, Kind, Run};
use crate::ledger::{Reservation, ReservationId, ReservationRequest, Status};
use certify_program::{Money, Month};

/// The migrations, in order; version N is `MIGRATIONS[N - 1]`. Never edit one that has
/// shipped: add the next.
const MIGRATIONS: &[(&str, &str)] = &[(
    "ledger and journal with run leases",
    r#"
CREATE TABLE accounts (
    account      TEXT PRIMARY KEY                -- the row reservations lock
);
CREATE TABLE reservations (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account      TEXT    NOT NULL,
    month        TEXT    NOT NULL,               -- YYYY-MM, UTC
    run_id       TEXT    NOT NULL,
    hostname     TEXT    NOT NULL,               -- the machine that reserved
    description  TEXT    NOT NULL,
    estimate     BIGINT  NOT NULL CHECK (estimate >= 0),  -- micro-dollars
    credit       BIGINT  NOT NULL,
    month_to_date BIGINT NOT NULL,
    reserved     BIGINT  NOT NULL,
    status       TEXT    NOT NULL CHECK (status IN ('open', 'settled', 'released', 'refused')),
    actual       BIGINT,
    requested_at TIMESTAMPTZ NOT NULL,
    closed_at    TIMESTAMPTZ
);
CREATE INDEX reservations_by_account ON reservations (account, status, month);
CREATE INDEX reservations_by_run ON reservations (run_id) WHERE status = 'open';

CREATE TABLE runs (
    run_id       TEXT    PRIMARY KEY,
    seq          BIGINT  GENERATED ALWAYS AS IDENTITY,
    account      TEXT    NOT NULL,
    pid          BIGINT  NOT NULL,
    process_start BIGINT,
    hostname     TEXT    NOT NULL,
    boot_id      TEXT    NOT NULL,
    started_at   TIMESTAMPTZ NOT NULL,
    finished_at  TIMESTAMPTZ,
    teardown_verified BOOLEAN,
    holder_host  TEXT    NOT NULL,               -- who holds the lease: the run or a reaper
    holder_boot  TEXT    NOT NULL,
    holder_pid_ns TEXT   NOT NULL,
    holder_pid   BIGINT  NOT NULL,
    holder_start BIGINT,
    lease_generation BIGINT NOT NULL,            -- bumped by every claim
    lease_expires_at TIMESTAMPTZ NOT NULL        -- by the server's clock
);
CREATE INDEX runs_by_account ON runs (account, started_at);

CREATE TABLE journal (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id       TEXT    NOT NULL REFERENCES runs (run_id),
    kind         TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    details      TEXT    NOT NULL,               -- JSON
    state        TEXT    NOT NULL CHECK (state IN ('intended', 'created', 'deleted', 'failed')),
    remote_id    TEXT,
    error        TEXT,
    intended_at  TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX journal_by_run ON journal (run_id, state);
"#,
)];

/// The schema version this build writes.
pub(crate) const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Connections per process: enough for a run's few concurrent users and the benchmark's
/// 16 reservers.
const POOL_SIZE: usize = 16;

/// The runtime every PostgreSQL store of the process runs its I/O on. Never dropped: a
/// runtime cannot be dropped inside another one's task, where the harness drops stores.
fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("certify-ledger-pg")
            .enable_all()
            .build()
            .expect("a tokio runtime can be built")
    })
}

/// Runs `work` on the store's runtime and waits for it, from any thread or task.
fn block<T: Send + 'static>(
    work: impl Future<Output = Result<T, DbError>> + Send + 'static,
) -> Result<T, DbError> {
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    runtime().spawn(async move {
        let _ = tx.send(work.await);
    });
    rx.recv()
        .map_err(|_| DbError::Postgres("the ledger's database task panicked".into()))?
}

fn pg(e: tokio_postgres::Error) -> DbError {
    // The server's own message (with its detail) says more than the driver's summary.
    match e.as_db_error() {
        Some(db) => DbError::Postgres(match db.detail() {
            Some(detail) => format!("{} ({detail})", db.message()),
            None => db.message().to_owned(),
        }),
        None => DbError::Postgres(e.to_string()),
    }
}

/// A URL with its password left out, for messages.
pub(crate) fn redact(url: &str) -> String {
    let Ok(config) = tokio_postgres::Config::from_str(url) else {
        return "<unreadable ledger URL>".into();
    };
    let user = config.get_user().unwrap_or("");
    let host = config
        .get_hosts()
        .first()
        .map(|h| match h {
            tokio_postgres::config::Host::Tcp(name) => name.clone(),
            tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .unwrap_or_default();
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let db = config.get_dbname().unwrap_or("");
    format!("postgres://{user}@{host}:{port}/{db}")
}

/// A pool of connections to the shared database.
pub(crate) struct Postgres {
    pool: Pool,
}

impl Postgres {
    /// Connects (checking that the server answers) and migrates the schema.
    pub(crate) fn connect(url: &str) -> Result<Postgres, DbError> {
        let config =
            tokio_postgres::Config::from_str(url).map_err(|source| DbError::Url { source })?;
        let shown = redact(url);
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = {
            let _enter = runtime().enter();
            Pool::builder(manager)
                .max_size(POOL_SIZE)
                .runtime(deadpool_postgres::Runtime::Tokio1)
                .create_timeout(Some(Duration::from_secs(15)))
                .build()
                .map_err(|e| DbError::Connect {
                    url: shown.clone(),
                    message: e.to_string(),
                })?
        };
        let store = Postgres { pool };
        let pool = store.pool.clone();
        block(async move { migrate(&pool, &shown).await })?;
        Ok(store)
    }

    /// Runs `work` with a pooled connection.
    fn with<T, F, Fut>(&self, work: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(deadpool_postgres::Object) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, tokio_postgres::Error>> + Send,
    {
        let pool = self.pool.clone();
        block(async move {
            let client = pool.get().await.map_err(|e| DbError::Connect {
                url: "the shared ledger".into(),
                message: with_causes(&e),
            })?;
            work(client).await.map_err(pg)
        })
    }
}

/// An error with its causes ("error connecting to server: Connection refused").
fn with_causes(e: &dyn std::error::Error) -> String {
    if let Some(db) = e
        .source()
        .and_then(|s| s.downcast_ref::<tokio_postgres::Error>())
        .and_then(tokio_postgres::Error::as_db_error)
    {
        return db.message().to_owned();
    }
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text = format!("{text}: {more}");
        }
        source = s.source();
    }
    text
}

async fn migrate(pool: &Pool, shown: &str) -> Result<(), DbError> {
    let connect = |e: deadpool_postgres::PoolError| DbError::Connect {
        url: shown.to_owned(),
        message: match &e {
            deadpool_postgres::PoolError::Backend(e) => e
                .as_db_error()
                .map_or_else(|| with_causes(e), |d| d.message().to_owned()),
            other => with_causes(other),
        },
    };
    let mut client = pool.get().await.map_err(connect)?;
    let tx = client.transaction().await.map_err(pg)?;
    // One migrator per schema at a time; the lock ends with the transaction.
    tx.execute(
        "SELECT pg_advisory_xact_lock(1667592761, hashtext(current_schema()))",
        &[],
    )
    .await
    .map_err(pg)?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS certify_schema (
             version     INTEGER PRIMARY KEY,
             description TEXT NOT NULL,
             applied_at  TIMESTAMPTZ NOT NULL DEFAULT now()
         )",
    )
    .await
    .map_err(pg)?;
    let found: i64 = tx
        .query_one(
            "SELECT COALESCE(MAX(version), 0)::BIGINT FROM certify_schema",
            &[],
        )
        .await
        .map_err(pg)?
        .get(0);
    if found > SCHEMA_VERSION {
        return Err(DbError::PostgresTooNew {
            url: shown.to_owned(),
            found,
            known: SCHEMA_VERSION,
        });
    }
    for (index, (description, sql)) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        tx.batch_execute(sql).await.map_err(pg)?;
        tx.execute(
            "INSERT INTO certify_schema (version, description) VALUES ($1, $2)",
            &[&(index as i32 + 1), description],
        )
        .await
        .map_err(pg)?;
    }
    tx.commit().await.map_err(pg)?;
    if found < SCHEMA_VERSION {
        crate::announce_migration(shown, found, SCHEMA_VERSION);
    }
    Ok(())
}

const COLUMNS: &str = "id, account, month, run_id, hostname, description, estimate, credit, \
                       month_to_date, reserved, status, actual, requested_at, closed_at";

fn bad(what: &str, e: impl std::fmt::Display) -> DbError {
    DbError::Postgres(format!("the shared ledger holds an unreadable {what}: {e}"))
}

fn reservation_from_row(row: &Row) -> Result<Reservation, DbError> {
    let month: String = row.get(2);
    let status: String = row.get(10);
    Ok(Reservation {
        id: ReservationId(row.get(0)),
        account: row.get(1),
        month: month.parse().map_err(|e| bad("month", e))?,
        run_id: row.get(3),
        hostname: row.get(4),
        description: row.get(5),
        estimate: Money::from_micros(row.get(6)),
        credit: Money::from_micros(row.get(7)),
        month_to_date: Money::from_micros(row.get(8)),
        reserved: Money::from_micros(row.get(9)),
        status: Status::parse(&status).map_err(|e| bad("status", e))?,
        actual: row.get::<_, Option<i64>>(11).map(Money::from_micros),
        requested_at: row.get(12),
        closed_at: row.get(13),
    })
}

const ENTRY_COLUMNS: &str = "j.id, j.run_id, r.account, j.kind, j.name, j.details, j.state, \
                             j.remote_id, j.error, j.intended_at, j.updated_at";

fn entry_from_row(row: &Row) -> Result<Entry, DbError> {
    let details: String = row.get(5);
    let state: String = row.get(6);
    Ok(Entry {
        id: EntryId(row.get(0)),
        run_id: row.get(1),
        account: row.get(2),
        kind: Kind::from(row.get::<_, String>(3)),
        name: row.get(4),
        details: serde_json::from_str(&details).map_err(|e| bad("entry", e))?,
        state: EntryState::parse(&state).map_err(|e| bad("entry state", e))?,
        remote_id: row.get(7),
        error: row.get(8),
        intended_at: row.get(9),
        updated_at: row.get(10),
    })
}

const RUN_COLUMNS: &str = "r.run_id, r.account, r.pid, r.hostname, r.started_at, r.finished_at, \
     r.teardown_verified, r.lease_generation, r.holder_host, r.holder_boot, r.holder_pid_ns, \
     r.holder_pid, r.holder_start, r.lease_expires_at <= clock_timestamp()";

fn run_from_row(row: &Row) -> Result<RunRecord, DbError> {
    let pid = |i: usize| u32::try_from(row.get::<_, i64>(i)).map_err(|e| bad("pid", e));
    Ok(RunRecord {
        run: Run {
            run_id: row.get(0),
            account: row.get(1),
            pid: pid(2)?,
            hostname: row.get(3),
            started_at: row.get(4),
            finished_at: row.get(5),
            teardown_verified: row.get(6),
        },
        lease: Lease {
            generation: row.get(7),
            holder: Holder {
                hostname: row.get(8),
                boot_id: row.get(9),
                pid_ns: row.get(10),
                pid: pid(11)?,
                process_start: row.get::<_, Option<i64>>(12).map(|t| t as u64),
            },
            expired: row.get(13),
        },
    })
}

fn millis(lease: Duration) -> f64 {
    lease.as_secs_f64() * 1000.0
}

/// Rows of a query mapped by `map`.
async fn rows<T>(
    client: &deadpool_postgres::Object,
    sql: &str,
    args: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    map: fn(&Row) -> Result<T, DbError>,
) -> Result<Result<Vec<T>, DbError>, tokio_postgres::Error> {
    let stmt = client.prepare_cached(sql).await?;
    let rows = client.query(&stmt, args).await?;
    Ok(rows.iter().map(map).collect())
}

impl Backend for Postgres {
    fn try_clone(&self) -> Result<Box<dyn Backend>, DbError> {
        Ok(Box::new(Postgres {
            pool: self.pool.clone(),
        }))
    }

    fn reserve(
        &mut self,
        request: &ReservationRequest<'_>,
        hostname: &str,
        now: DateTime<Utc>,
    ) -> Result<Reserved, DbError> {
        let check = Check::of(request);
        let account = request.account.to_owned();
        let month = request.month.key();
        let run_id = request.run_id.to_owned();
        let description = request.description.to_owned();
        let hostname = hostname.to_owned();
        self.with(move |mut client| async move {
            let tx = client.transaction().await?;
            let lock = tx
                .prepare_cached(
                    "INSERT INTO accounts (account) VALUES ($1)
                     ON CONFLICT (account) DO UPDATE SET account = EXCLUDED.account",
                )
                .await?;
            tx.execute(&lock, &[&account]).await?;
            let sums = tx
                .prepare_cached(
                    "SELECT
                         COALESCE(SUM(actual) FILTER (WHERE month = $2
                             AND status IN ('settled', 'released')), 0)::BIGINT,
                         COALESCE(SUM(estimate) FILTER (WHERE month <= $2
                             AND status = 'open'), 0)::BIGINT
                     FROM reservations WHERE account = $1
                       AND (status = 'open' OR month = $2)",
                )
                .await?;
            let row = tx.query_one(&sums, &[&account, &month]).await?;
            let ledger_month_to_date = Money::from_micros(row.get(0));
            let reserved = Money::from_micros(row.get(1));
            let granted = check.grants(ledger_month_to_date, reserved);
            let (status, closed_at) = if granted {
                (Status::Open, None)
            } else {
                (Status::Refused, Some(now))
            };
            let insert = tx
                .prepare_cached(
                    "INSERT INTO reservations (account, month, run_id, hostname, description,
                         estimate, credit, month_to_date, reserved, status, requested_at,
                         closed_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                     RETURNING id",
                )
                .await?;
            let id: i64 = tx
                .query_one(
                    &insert,
                    &[
                        &account,
                        &month,
                        &run_id,
                        &hostname,
                        &description,
                        &check.estimate.micros(),
                        &check.credit.micros(),
                        &check.month_to_date(ledger_month_to_date).micros(),
                        &reserved.micros(),
                        &status.as_str(),
                        &now,
                        &closed_at,
                    ],
                )
                .await?
                .get(0);
            tx.commit().await?;
            Ok(Reserved {
                id: ReservationId(id),
                ledger_month_to_date,
                reserved,
                granted,
            })
        })
    }

    fn close_reservation(
        &mut self,
        id: ReservationId,
        status: Status,
        actual: Money,
        now: DateTime<Utc>,
    ) -> Result<Option<Reservation>, DbError> {
        self.with(move |client| async move {
            let update = client
                .prepare_cached(
                    "UPDATE reservations SET status = $2, actual = $3, closed_at = $4
                     WHERE id = $1 AND status = 'open'",
                )
                .await?;
            client
                .execute(&update, &[&id.0, &status.as_str(), &actual.micros(), &now])
                .await?;
            let found = rows(
                &client,
                &format!("SELECT {COLUMNS} FROM reservations WHERE id = $1"),
                &[&id.0],
                reservation_from_row,
            )
            .await?;
            Ok(found.map(|r| r.into_iter().next()))
        })?
    }

    fn reservation(&mut self, id: ReservationId) -> Result<Option<Reservation>, DbError> {
        self.with(move |client| async move {
            let found = rows(
                &client,
                &format!("SELECT {COLUMNS} FROM reservations WHERE id = $1"),
                &[&id.0],
                reservation_from_row,
            )
            .await?;
            Ok(found.map(|r| r.into_iter().next()))
        })?
    }

    fn totals(&mut self, account: &str, month: Month) -> Result<(Money, Money, usize), DbError> {
        let account = account.to_owned();
        let month = month.key();
        self.with(move |client| async move {
            let row = client
                .query_one(
                    "SELECT
                         COALESCE(SUM(actual) FILTER (WHERE month = $2
                             AND status IN ('settled', 'released')), 0)::BIGINT,
                         COALESCE(SUM(estimate) FILTER (WHERE month <= $2
                             AND status = 'open'), 0)::BIGINT,
                         COUNT(*) FILTER (WHERE month <= $2 AND status = 'open')
                     FROM reservations WHERE account = $1",
                    &[&account, &month],
                )
                .await?;
            Ok((
                Money::from_micros(row.get(0)),
                Money::from_micros(row.get(1)),
                row.get::<_, i64>(2) as usize,
            ))
        })
    }

    fn reservations(&mut self, filter: ReservationFilter<'_>) -> Result<Vec<Reservation>, DbError> {
        let base = format!("SELECT {COLUMNS} FROM reservations");
        let (sql, text, month, limit) = match filter {
            ReservationFilter::OpenInMonth { account, month } => (
                format!(
                    "{base} WHERE account = $1 AND month <= $2 AND status = 'open' ORDER BY id"
                ),
                account.to_owned(),
                Some(month.key()),
                None,
            ),
            ReservationFilter::OpenOfRun(run_id) => (
                format!("{base} WHERE run_id = $1 AND status = 'open' ORDER BY id"),
                run_id.to_owned(),
                None,
                None,
            ),
            ReservationFilter::History { account, limit } => (
                format!("{base} WHERE account = $1 ORDER BY id DESC LIMIT $2"),
                account.to_owned(),
                None,
                Some(i64::try_from(limit).unwrap_or(i64::MAX)),
            ),
        };
        self.with(move |client| async move {
            match (month, limit) {
                (Some(month), _) => {
                    rows(&client, &sql, &[&text, &month], reservation_from_row).await
                }
                (None, Some(limit)) => {
                    rows(&client, &sql, &[&text, &limit], reservation_from_row).await
                }
                (None, None) => rows(&client, &sql, &[&text], reservation_from_row).await,
            }
        })?
    }

    fn insert_run(&mut self, run: &NewRun<'_>, lease: Duration) -> Result<Option<i64>, DbError> {
        let (run_id, account, started_at) = (
            run.run_id.to_owned(),
            run.account.to_owned(),
            run.started_at,
        );
        let h = run.holder.clone();
        self.with(move |client| async move {
            let inserted = client
                .execute(
                    "INSERT INTO runs (run_id, account, pid, process_start, hostname, boot_id,
                         started_at, holder_host, holder_boot, holder_pid_ns, holder_pid,
                         holder_start, lease_generation, lease_expires_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $5, $6, $8, $3, $4, 1,
                         clock_timestamp() + $9 * interval '1 millisecond')
                     ON CONFLICT (run_id) DO NOTHING",
                    &[
                        &run_id,
                        &account,
                        &i64::from(h.pid),
                        &h.process_start.map(|t| t as i64),
                        &h.hostname,
                        &h.boot_id,
                        &started_at,
                        &h.pid_ns,
                        &millis(lease),
                    ],
                )
                .await?;
            Ok((inserted > 0).then_some(1))
        })
    }

    fn finish_run(
        &mut self,
        run_id: &str,
        teardown_verified: bool,
        now: DateTime<Utc>,
    ) -> Result<Option<()>, DbError> {
        let run_id = run_id.to_owned();
        self.with(move |client| async move {
            let changed = client
                .execute(
                    "UPDATE runs SET finished_at = COALESCE(finished_at, $2),
                         teardown_verified = $3
                     WHERE run_id = $1",
                    &[&run_id, &now, &teardown_verified],
                )
                .await?;
            Ok((changed > 0).then_some(()))
        })
    }

    fn intend(
        &mut self,
        run_id: &str,
        kind: &str,
        name: &str,
        details: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<EntryId>, DbError> {
        let (run_id, kind, name, details) = (
            run_id.to_owned(),
            kind.to_owned(),
            name.to_owned(),
            details.to_owned(),
        );
        self.with(move |client| async move {
            // One statement: the entry goes in only if its run is there.
            let stmt = client
                .prepare_cached(
                    "INSERT INTO journal (run_id, kind, name, details, state, intended_at,
                         updated_at)
                     SELECT run_id, $2, $3, $4, 'intended', $5, $5 FROM runs WHERE run_id = $1
                     RETURNING id",
                )
                .await?;
            let row = client
                .query_opt(&stmt, &[&run_id, &kind, &name, &details, &now])
                .await?;
            Ok(row.map(|r| EntryId(r.get(0))))
        })
    }

    fn update_entry(
        &mut self,
        entry: EntryId,
        update: EntryUpdate<'_>,
        now: DateTime<Utc>,
    ) -> Result<bool, DbError> {
        let (sql, value) = match update {
            EntryUpdate::Created { remote_id } => (
                "UPDATE journal SET state = 'created', remote_id = $2, updated_at = $3 \
                 WHERE id = $1",
                Some(remote_id.to_owned()),
            ),
            EntryUpdate::Deleted => (
                "UPDATE journal SET state = 'deleted', updated_at = $3 \
                 WHERE id = $1 AND $2::TEXT IS NULL",
                None,
            ),
            EntryUpdate::Failed { error } => (
                "UPDATE journal SET state = 'failed', error = $2, updated_at = $3 WHERE id = $1",
                Some(error.to_owned()),
            ),
        };
        self.with(move |client| async move {
            let stmt = client.prepare_cached(sql).await?;
            let changed = client.execute(&stmt, &[&entry.0, &value, &now]).await?;
            Ok(changed > 0)
        })
    }

    fn entries(&mut self, filter: EntryFilter<'_>) -> Result<Vec<Entry>, DbError> {
        let base = format!("SELECT {ENTRY_COLUMNS} FROM journal j JOIN runs r USING (run_id)");
        let (sql, id, run_id) = match filter {
            EntryFilter::One(id) => (format!("{base} WHERE j.id = $1"), Some(id.0), None),
            EntryFilter::OfRun(run_id) => (
                format!("{base} WHERE j.run_id = $1 ORDER BY j.id"),
                None,
                Some(run_id.to_owned()),
            ),
            EntryFilter::Leftovers(run_id) => (
                format!("{base} WHERE j.run_id = $1 AND j.state != 'deleted' ORDER BY j.id DESC"),
                None,
                Some(run_id.to_owned()),
            ),
        };
        self.with(move |client| async move {
            match (id, run_id) {
                (Some(id), _) => rows(&client, &sql, &[&id], entry_from_row).await,
                (None, run_id) => rows(&client, &sql, &[&run_id], entry_from_row).await,
            }
        })?
    }

    fn runs(&mut self, filter: RunFilter<'_>) -> Result<Vec<RunRecord>, DbError> {
        let base = format!("SELECT {RUN_COLUMNS} FROM runs r");
        let (sql, arg) = match filter {
            RunFilter::One(run_id) => (format!("{base} WHERE r.run_id = $1"), run_id),
            RunFilter::OfAccount(account) => (
                format!("{base} WHERE r.account = $1 ORDER BY r.started_at DESC, r.seq DESC"),
                account,
            ),
            RunFilter::MaybeStale(account) => (
                format!(
                    "{base} WHERE r.account = $1
                       AND (r.finished_at IS NULL OR NOT r.teardown_verified
                            OR EXISTS (SELECT 1 FROM journal j
                                       WHERE j.run_id = r.run_id AND j.state != 'deleted'))
                     ORDER BY r.started_at, r.seq"
                ),
                account,
            ),
        };
        let arg = arg.to_owned();
        self.with(move |client| async move { rows(&client, &sql, &[&arg], run_from_row).await })?
    }

    fn claim(
        &mut self,
        run_id: &str,
        generation: i64,
        holder: &Holder,
        lease: Duration,
    ) -> Result<Option<i64>, DbError> {
        let run_id = run_id.to_owned();
        let h = holder.clone();
        self.with(move |client| async move {
            let row = client
                .query_opt(
                    "UPDATE runs SET lease_generation = lease_generation + 1,
                         holder_host = $3, holder_boot = $4, holder_pid_ns = $5,
                         holder_pid = $6, holder_start = $7,
                         lease_expires_at = clock_timestamp() + $8 * interval '1 millisecond'
                     WHERE run_id = $1 AND lease_generation = $2
                     RETURNING lease_generation",
                    &[
                        &run_id,
                        &generation,
                        &h.hostname,
                        &h.boot_id,
                        &h.pid_ns,
                        &i64::from(h.pid),
                        &h.process_start.map(|t| t as i64),
                        &millis(lease),
                    ],
                )
                .await?;
            Ok(row.map(|r| r.get(0)))
        })
    }

    fn renew(&mut self, run_id: &str, generation: i64, lease: Duration) -> Result<bool, DbError> {
        let run_id = run_id.to_owned();
        self.with(move |client| async move {
            let changed = client
                .execute(
                    "UPDATE runs
                     SET lease_expires_at = clock_timestamp() + $3 * interval '1 millisecond'
                     WHERE run_id = $1 AND lease_generation = $2",
                    &[&run_id, &generation, &millis(lease)],
                )
                .await?;
            Ok(changed > 0)
        })
    }

    fn release(&mut self, run_id: &str, generation: i64) -> Result<(), DbError> {
        let run_id = run_id.to_owned();
        self.with(move |client| async move {
            client
                .execute(
                    "UPDATE runs SET lease_expires_at = clock_timestamp()
                     WHERE run_id = $1 AND lease_generation = $2",
                    &[&run_id, &generation],
                )
                .await?;
            Ok(())
        })
    }
}

/// Runs one SQL batch on a fresh connection (for test set-up: creating and dropping
/// the schema a test works in).
pub(crate) fn execute_batch(url: &str, sql: &str) -> Result<(), DbError> {
    let config = tokio_postgres::Config::from_str(url).map_err(|source| DbError::Url { source })?;
    let sql = sql.to_owned();
    let shown = redact(url);
    block(async move {
        let (client, connection) = config.connect(NoTls).await.map_err(|e| DbError::Connect {
            url: shown,
            message: e.to_string(),
        })?;
        let driver = tokio::spawn(connection);
        let result = client.batch_execute(&sql).await.map_err(pg);
        drop(client);
        let _ = driver.await;
        result
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{self, Schema};

    #[test]
    fn migrations_are_versioned_applied_once_and_a_newer_schema_is_refused() {
        let Some(url) = testing::postgres_url("postgres::tests::migrations") else {
            return;
        };
        let schema = Schema::create(&url, "migrations").unwrap();
        // Four machines connecting to a new database at once migrate it once.
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| Postgres::connect(schema.url()).unwrap());
            }
        });
        let store = Postgres::connect(schema.url()).unwrap();
        let versions = store
            .with(|client| async move {
                let rows = client
                    .query("SELECT version FROM certify_schema ORDER BY version", &[])
                    .await?;
                Ok(rows.iter().map(|r| r.get::<_, i32>(0)).collect::<Vec<_>>())
            })
            .unwrap();
        assert_eq!(versions, (1..=SCHEMA_VERSION as i32).collect::<Vec<_>>());

        execute_batch(
            schema.url(),
            "INSERT INTO certify_schema (version, description) VALUES (99, 'from the future')",
        )
        .unwrap();
        let err = Postgres::connect(schema.url()).err().unwrap();
        assert!(
            matches!(err, DbError::PostgresTooNew { found: 99, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("upgrade certify"), "{err}");
        assert!(
            !err.to_string().contains("certify_test:"),
            "no password: {err}"
        );
    }

    #[test]
    fn a_bad_url_or_an_unreachable_server_says_what_to_do() {
        let err = Postgres::connect("postgres://nobody@127.0.0.1:1/nothing")
            .err()
            .unwrap();
        assert!(matches!(err, DbError::Connect { .. }), "{err}");
        assert!(
            err.to_string()
                .contains("postgres://nobody@127.0.0.1:1/nothing"),
            "{err}"
        );
        let err = Postgres::connect("postgres://a:b@host:notaport/db")
            .err()
            .unwrap();
        assert!(matches!(err, DbError::Url { .. }), "{err}");
    }

    #[test]
    fn a_url_is_shown_without_its_password() {
        assert_eq!(
            redact("postgres://certify:s3cret@db.internal:6543/ledger?sslmode=disable"),
            "postgres://certify@db.internal:6543/ledger"
        );
        assert!(!redact("host=db user=u password=s3cret dbname=l").contains("s3cret"));
    }
}
