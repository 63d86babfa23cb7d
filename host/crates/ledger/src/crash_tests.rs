//! A run SIGKILLed in the middle of a deployment, with a transaction open: the next
//! process finds the ledger and the journal intact, the run stale, its leftovers listed
//! and its reservation still open for settling.

use std::os::unix::process::ExitStatusExt as _;

use serde_json::json;

use crate::testutil::{self, backend_tests};
use crate::{
    EntryState, Journal, Kind, Ledger, Location, Money, Month, ReservationRequest, Status,
};

const ACCOUNT: &str = "ACME";
const RUN: &str = "killed-mid-deploy";

fn month() -> Month {
    Month::new(2026, 8).unwrap()
}

fn request() -> ReservationRequest<'static> {
    ReservationRequest {
        account: ACCOUNT,
        month: month(),
        run_id: RUN,
        description: "deploying 1 server for 1 billed hour",
        estimate: Money::from_dollars(5),
        credit: Money::from_dollars(2_000),
        account_month_to_date: Money::ZERO,
    }
}

backend_tests! {
fn a_sigkilled_run_leaves_a_state_the_next_run_can_reap(store) {
    sigkilled_run_is_reaped(store.location());
}
}

fn sigkilled_run_is_reaped(location: &Location) {
    let child = testutil::spawn_child("crash_tests::child_killed_mid_deploy", location, &[]);
    let output = testutil::wait(child);
    assert_eq!(
        output.status.signal(),
        Some(libc::SIGKILL),
        "{}",
        testutil::describe(&output)
    );

    let mut journal = Journal::connect(location).unwrap();
    let mut ledger = Ledger::connect(location).unwrap();
    if let Location::Sqlite(_) = location {
        let integrity: String = journal
            .sqlite()
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(integrity, "ok");
    }

    // The committed work is there; the transaction open at the kill is not.
    let open = ledger.open_reservations(ACCOUNT, month()).unwrap();
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0].estimate, Money::from_dollars(5));
    assert_eq!(ledger.open_reservations_for_run(RUN).unwrap(), open);

    let mut stale = journal.stale_runs(ACCOUNT).unwrap();
    assert_eq!(stale.len(), 1);
    let claimed = stale.pop().unwrap();
    assert_eq!(claimed.run.run_id, RUN);
    let leftovers: Vec<_> = claimed
        .leftovers
        .iter()
        .map(|e| (e.kind.clone(), e.state, e.remote_id.clone()))
        .collect();
    assert_eq!(
        leftovers,
        [
            (Kind::Server, EntryState::Intended, None),
            (Kind::Group, EntryState::Created, Some("g-42".to_owned())),
        ]
    );

    // The reaper's part: delete, settle to the account's charge, finish.
    for entry in &claimed.leftovers {
        journal.deleted(entry.id).unwrap();
    }
    let settled = ledger.settle(open[0].id, Money::from_cents(3)).unwrap();
    assert_eq!(settled.status, Status::Settled);
    journal.finish_run(RUN, true).unwrap();
    drop(claimed);

    assert!(journal.stale_runs(ACCOUNT).unwrap().is_empty());
    let summary = ledger
        .summary(ACCOUNT, month(), Money::from_dollars(2_000), Money::ZERO)
        .unwrap();
    assert_eq!(summary.month_to_date, Money::from_cents(3));
    assert_eq!(summary.open_count, 0);
}

/// Child half of the test above; a no-op in an ordinary test run.
#[test]
fn child_killed_mid_deploy() {
    let Some(location) = testutil::child_db() else {
        return;
    };
    let mut journal = Journal::connect(&location).unwrap();
    let mut ledger = Ledger::connect(&location).unwrap();
    let _lock = journal
        .start_run(RUN, ACCOUNT, std::process::id(), chrono::Utc::now())
        .unwrap();
    ledger.reserve(&request()).unwrap().unwrap();
    let group = journal
        .intend(RUN, Kind::Group, "certify-run", &json!({}))
        .unwrap();
    journal.created(group, "g-42").unwrap();
    journal
        .intend(RUN, Kind::Server, "CRT1WEB01", &json!({"group": "g-42"}))
        .unwrap();
    // Mid-write when the kill comes (a PostgreSQL server rolls back a dead client's
    // transaction by itself; SQLite's file must survive it).
    if let Location::Sqlite(_) = location {
        ledger
            .sqlite_mut()
            .execute_batch(
                "BEGIN IMMEDIATE;
             UPDATE reservations SET status = 'settled', actual = 0;
             INSERT INTO reservations (account, month, run_id, description, estimate, credit,
                 month_to_date, reserved, status, requested_at)
             VALUES ('ACME', '2026-08', 'x', 'uncommitted', 1, 0, 0, 0, 'open',
                 '2026-08-01T00:00:00.000Z');",
            )
            .unwrap();
    }
    // SAFETY: sends SIGKILL to this process; nothing after it runs.
    unsafe { libc::kill(libc::getpid(), libc::SIGKILL) };
    unreachable!("SIGKILL cannot be caught");
}
