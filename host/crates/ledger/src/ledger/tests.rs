use super::*;
use std::path::PathBuf;

use crate::Location;
use crate::testutil::{self, backend_tests};

const ACCOUNT: &str = "ACME";

fn august() -> Month {
    Month::new(2026, 8).unwrap()
}

fn request<'a>(
    description: &'a str,
    estimate: Money,
    account_mtd: Money,
) -> ReservationRequest<'a> {
    ReservationRequest {
        account: ACCOUNT,
        month: august(),
        run_id: "run-1",
        description,
        estimate,
        credit: Money::from_dollars(2_000),
        account_month_to_date: account_mtd,
    }
}

fn dollars(text: &str) -> Money {
    text.parse().unwrap()
}

backend_tests! {
fn a_reservation_that_would_exceed_the_credit_is_refused_with_the_numbers(store) {
    let mut ledger = store.ledger();
    let first = ledger
        .reserve(&request("a package run", dollars("0.50"), dollars("1999")))
        .unwrap()
        .expect("$1,999.50 is within $2,000");
    assert_eq!(first.status, Status::Open);
    assert_eq!(first.remaining_after(), dollars("0.50"));

    let refusal = ledger
        .reserve(&request(
            "deploying 2 servers for 3 billed hours",
            dollars("1.23"),
            dollars("1999"),
        ))
        .unwrap()
        .expect_err("$2,000.73 is past $2,000");
    assert_eq!(refusal.estimate, dollars("1.23"));
    assert_eq!(refusal.month_to_date, dollars("1999"));
    assert_eq!(refusal.account_month_to_date, dollars("1999"));
    assert_eq!(refusal.ledger_month_to_date, Money::ZERO);
    assert_eq!(refusal.reserved, dollars("0.50"));
    assert_eq!(refusal.credit, dollars("2000"));
    assert_eq!(refusal.shortfall, dollars("0.73"));
    assert_eq!(
        refusal.to_string(),
        "refused: deploying 2 servers for 3 billed hours is estimated at $1.23; month-to-date \
         $1,999.00 + reserved $0.50 + this would exceed the $2,000.00 monthly credit by $0.73 \
         (account ACME, 2026-08 UTC)"
    );

    // The refusal is history, not a reservation: it holds no credit.
    let open = ledger.open_reservations(ACCOUNT, august()).unwrap();
    assert_eq!(open.iter().map(|r| r.id).collect::<Vec<_>>(), [first.id]);
    let recorded = ledger.reservation(refusal.id).unwrap().unwrap();
    assert_eq!(recorded.status, Status::Refused);
    assert!(recorded.closed_at.is_some());
}

fn a_reservation_that_exactly_uses_the_credit_is_granted(store) {
    let mut ledger = store.ledger();
    let r = ledger
        .reserve(&request("all of it", dollars("2000"), Money::ZERO))
        .unwrap();
    assert!(r.is_ok());
    let r = ledger
        .reserve(&request(
            "one micro-dollar more",
            Money::from_micros(1),
            Money::ZERO,
        ))
        .unwrap();
    let refusal = r.unwrap_err();
    assert_eq!(refusal.shortfall, Money::from_micros(1));
    assert!(
        refusal
            .to_string()
            .ends_with("by $0.01 (account ACME, 2026-08 UTC)"),
        "{refusal}"
    );
}

fn month_to_date_is_the_larger_of_the_ledger_and_the_account_billing(store) {
    let mut ledger = store.ledger();
    let r = ledger
        .reserve(&request("earlier run", dollars("600"), Money::ZERO))
        .unwrap()
        .unwrap();
    ledger.settle(r.id, dollars("500")).unwrap();
    assert_eq!(
        ledger.month_to_date(ACCOUNT, august()).unwrap(),
        dollars("500")
    );

    // The billing has not caught up: the ledger's $500 counts.
    let refusal = ledger
        .reserve(&request("big", dollars("1600"), dollars("100")))
        .unwrap()
        .unwrap_err();
    assert_eq!(refusal.month_to_date, dollars("500"));
    assert_eq!(refusal.ledger_month_to_date, dollars("500"));
    assert_eq!(refusal.shortfall, dollars("100"));

    // Spending outside the harness: the account's $1,900 counts.
    let refusal = ledger
        .reserve(&request("small", dollars("200"), dollars("1900")))
        .unwrap()
        .unwrap_err();
    assert_eq!(refusal.month_to_date, dollars("1900"));
    assert_eq!(refusal.shortfall, dollars("100"));

    let summary = ledger
        .summary(ACCOUNT, august(), dollars("2000"), dollars("1900"))
        .unwrap();
    assert_eq!(summary.ledger_month_to_date, dollars("500"));
    assert_eq!(summary.month_to_date, dollars("1900"));
    assert_eq!(summary.remaining, dollars("100"));
}

fn settle_and_release_close_a_reservation_once(store) {
    let mut ledger = store.ledger();
    let a = ledger
        .reserve(&request("a", dollars("3"), Money::ZERO))
        .unwrap()
        .unwrap();
    let b = ledger
        .reserve(&request("b", dollars("4"), Money::ZERO))
        .unwrap()
        .unwrap();
    assert_eq!(
        ledger
            .summary(ACCOUNT, august(), dollars("2000"), Money::ZERO)
            .unwrap()
            .open_reservations,
        dollars("7")
    );

    let settled = ledger.settle(a.id, dollars("0.07")).unwrap();
    assert_eq!(
        (settled.status, settled.actual),
        (Status::Settled, Some(dollars("0.07")))
    );
    // A retried teardown settles again, or releases: the first close stands.
    let again = ledger.settle(a.id, dollars("0.09")).unwrap();
    assert_eq!(again, settled);
    assert_eq!(ledger.release(a.id).unwrap(), settled);

    let released = ledger.release(b.id).unwrap();
    assert_eq!(
        (released.status, released.actual),
        (Status::Released, Some(Money::ZERO))
    );
    assert_eq!(ledger.release(b.id).unwrap(), released);

    let summary = ledger
        .summary(ACCOUNT, august(), dollars("2000"), Money::ZERO)
        .unwrap();
    assert_eq!(summary.month_to_date, dollars("0.07"));
    assert_eq!(summary.open_reservations, Money::ZERO);
    assert_eq!(summary.open_count, 0);
    assert_eq!(summary.remaining, dollars("1999.93"));

    assert!(matches!(
        ledger.settle(ReservationId(999), Money::ZERO),
        Err(LedgerError::UnknownReservation(ReservationId(999)))
    ));
    assert!(matches!(
        ledger.settle(a.id, dollars("-1")),
        Err(LedgerError::NegativeAmount { .. })
    ));
    assert!(matches!(
        ledger.reserve(&request("negative", dollars("-1"), Money::ZERO)),
        Err(LedgerError::NegativeAmount { .. })
    ));
}

fn months_are_counted_apart_but_open_reservations_carry_over(store) {
    let mut ledger = store.ledger();
    let july = august().previous();
    let in_july = |description, estimate| ReservationRequest {
        month: july,
        ..request(description, estimate, Money::ZERO)
    };
    let settled = ledger
        .reserve(&in_july("july run", dollars("1500")))
        .unwrap()
        .unwrap();
    ledger.settle(settled.id, dollars("1500")).unwrap();
    let straddling = ledger
        .reserve(&in_july("31 July 23:50", dollars("10")))
        .unwrap()
        .unwrap();

    // July's $1,500 does not count in August…
    assert_eq!(
        ledger.month_to_date(ACCOUNT, july).unwrap(),
        dollars("1500")
    );
    assert_eq!(
        ledger.month_to_date(ACCOUNT, august()).unwrap(),
        Money::ZERO
    );
    // …but a run still open from July keeps spending into August.
    let open: Vec<_> = ledger.open_reservations(ACCOUNT, august()).unwrap();
    assert_eq!(
        open.iter().map(|r| r.id).collect::<Vec<_>>(),
        [straddling.id]
    );
    let granted = ledger
        .reserve(&request("august run", dollars("1990"), Money::ZERO))
        .unwrap()
        .unwrap();
    assert_eq!(granted.reserved, dollars("10"));
    // An August reservation does not weigh on July.
    let july_summary = ledger
        .summary(ACCOUNT, july, dollars("2000"), Money::ZERO)
        .unwrap();
    assert_eq!(july_summary.open_reservations, dollars("10"));
    assert_eq!(july_summary.remaining, dollars("490"));

    // Months are UTC: 23:30 on 31 July in New York is August.
    let at = chrono::DateTime::parse_from_rfc3339("2026-07-31T23:30:00-04:00").unwrap();
    assert_eq!(Month::of(at.with_timezone(&Utc)), august());
}

fn accounts_do_not_share_a_credit(store) {
    let mut ledger = store.ledger();
    ledger
        .reserve(&request("all of ACME's", dollars("2000"), Money::ZERO))
        .unwrap()
        .unwrap();
    let other = ReservationRequest {
        account: "OTHER",
        ..request("other", dollars("2000"), Money::ZERO)
    };
    assert!(ledger.reserve(&other).unwrap().is_ok());
}

fn history_lists_reservations_settlements_and_refusals_newest_first(store) {
    let mut ledger = store.ledger();
    let a = ledger
        .reserve(&request("first", dollars("1"), Money::ZERO))
        .unwrap()
        .unwrap();
    ledger.settle(a.id, dollars("0.40")).unwrap();
    let b = ledger
        .reserve(&ReservationRequest {
            run_id: "run-2",
            ..request("second", dollars("2"), Money::ZERO)
        })
        .unwrap()
        .unwrap();
    let refused = ledger
        .reserve(&request("third", dollars("5000"), Money::ZERO))
        .unwrap()
        .unwrap_err();

    let history = ledger.history(ACCOUNT, 10).unwrap();
    let rows: Vec<_> = history
        .iter()
        .map(|r| {
            (
                r.id,
                r.run_id.as_str(),
                r.description.as_str(),
                r.status,
                r.estimate,
                r.actual,
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (
                refused.id,
                "run-1",
                "third",
                Status::Refused,
                dollars("5000"),
                None
            ),
            (b.id, "run-2", "second", Status::Open, dollars("2"), None),
            (
                a.id,
                "run-1",
                "first",
                Status::Settled,
                dollars("1"),
                Some(dollars("0.40"))
            ),
        ]
    );
    assert!(history.iter().all(|r| r.requested_at <= Utc::now()));
    assert_eq!(ledger.history(ACCOUNT, 1).unwrap().len(), 1);
    assert!(ledger.history("NOBODY", 10).unwrap().is_empty());

    let for_run = ledger.open_reservations_for_run("run-2").unwrap();
    assert_eq!(for_run.iter().map(|r| r.id).collect::<Vec<_>>(), [b.id]);
    assert!(
        ledger
            .open_reservations_for_run("run-1")
            .unwrap()
            .is_empty()
    );
}

fn processes_racing_to_reserve_never_overrun_the_credit(store) {
    race(store.location());
}

fn the_machine_that_reserved_is_recorded(store) {
    let mut ledger = store.ledger();
    let r = ledger
        .reserve(&request("a", dollars("1"), Money::ZERO))
        .unwrap()
        .unwrap();
    assert_eq!(r.hostname, crate::process::Identity::current().hostname);
    assert_eq!(ledger.open_reservations(ACCOUNT, august()).unwrap(), [r]);
}
}

#[test]
fn a_dropped_connection_loses_only_what_was_not_committed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let mut ledger = Ledger::open(&path).unwrap();
    // (PostgreSQL rolls back a dropped connection's transaction by itself.)
    let kept = ledger
        .reserve(&request("committed", dollars("3"), Money::ZERO))
        .unwrap()
        .unwrap();
    ledger
        .sqlite_mut()
        .execute_batch(
            "BEGIN IMMEDIATE;
             INSERT INTO reservations (account, month, run_id, description, estimate, credit,
                 month_to_date, reserved, status, requested_at)
             VALUES ('ACME', '2026-08', 'run-1', 'uncommitted', 1000000, 0, 0, 0, 'open',
                 '2026-08-01T00:00:00.000Z');",
        )
        .unwrap();
    drop(ledger);

    let mut ledger = Ledger::open(&path).unwrap();
    let open = ledger.open_reservations(ACCOUNT, august()).unwrap();
    assert_eq!(open, [kept]);
}

/// How often each child tries to reserve in a round, how many reservations the credit
/// allows, how many processes race, and how many rounds (each on a fresh account).
const HAMMER_ATTEMPTS: usize = 12;
const HAMMER_GRANTS: i64 = 25;
const HAMMER_PROCESSES: usize = 4;
const HAMMER_ROUNDS: usize = 12;

fn hammer_request<'a>(account: &'a str, run_id: &'a str) -> ReservationRequest<'a> {
    ReservationRequest {
        account,
        run_id,
        credit: Money::from_dollars(HAMMER_GRANTS),
        ..request("one dollar", Money::from_dollars(1), Money::ZERO)
    }
}

/// Rounds of separate processes, each with a connection of its own, racing to reserve
/// more than the credit on one account: every round, exactly the credit is granted, and
/// each grant saw every grant before it.
fn race(location: &Location) {
    let dir = tempfile::tempdir().unwrap();
    let mut ledger = Ledger::connect(location).unwrap();
    let mut interleaved_rounds = 0;
    for round in 0..HAMMER_ROUNDS {
        let account = format!("RACE{round}");
        let go = dir.path().join(format!("go-{round}"));
        let names: Vec<String> = (0..HAMMER_PROCESSES)
            .map(|i| format!("hammer-{round}-{i}"))
            .collect();
        let children: Vec<_> = names
            .iter()
            .map(|name| {
                testutil::spawn_child(
                    "ledger::tests::child_reserve_hammer",
                    location,
                    &[
                        (testutil::CHILD_GO, go.to_str().unwrap()),
                        (testutil::CHILD_NAME, name),
                        (HAMMER_ACCOUNT, &account),
                    ],
                )
            })
            .collect();
        // Start them together once all have connected, so they really race.
        for name in &names {
            testutil::wait_for(&dir.path().join(format!("{name}.ready")));
        }
        std::fs::write(&go, "").unwrap();
        let outputs: Vec<_> = children.into_iter().map(testutil::wait).collect();

        let mut granted_by_children = 0;
        for output in &outputs {
            assert!(output.status.success(), "{}", testutil::describe(output));
            let granted: i64 = testutil::printed(output, "granted")
                .unwrap_or_else(|| panic!("the child ran: {}", testutil::describe(output)))
                .parse()
                .unwrap();
            granted_by_children += granted;
        }
        assert_eq!(granted_by_children, HAMMER_GRANTS, "round {round}");

        let open = ledger.open_reservations(&account, august()).unwrap();
        let total: Money = open.iter().map(|r| r.estimate).sum();
        assert_eq!(
            total,
            Money::from_dollars(HAMMER_GRANTS),
            "round {round}: within the credit, to the dollar"
        );
        // Each grant saw every grant before it, whichever process made it: the
        // reservations each was checked against are exactly $0, $1, …, $24.
        let mut seen: Vec<i64> = open
            .iter()
            .map(|r| r.reserved.micros() / 1_000_000)
            .collect();
        seen.sort_unstable();
        assert_eq!(
            seen,
            (0..HAMMER_GRANTS).collect::<Vec<_>>(),
            "round {round}"
        );

        let history = ledger.history(&account, 1_000).unwrap();
        let refused = history
            .iter()
            .filter(|r| r.status == Status::Refused)
            .count();
        assert_eq!(
            refused,
            HAMMER_PROCESSES * HAMMER_ATTEMPTS - HAMMER_GRANTS as usize
        );
        let switches = history
            .windows(2)
            .filter(|w| w[0].run_id != w[1].run_id)
            .count();
        if switches >= HAMMER_PROCESSES {
            interleaved_rounds += 1;
        }
    }
    // In the order the ledger took them, the processes' attempts interleave: they did
    // run at the same time.
    assert!(
        interleaved_rounds > 0,
        "in no round did the processes take turns more than a few times"
    );
}

/// Set in a child of the race: the account.
const HAMMER_ACCOUNT: &str = "CERTIFY_LEDGER_TEST_CHILD_ACCOUNT";

/// Child half of the race; a no-op in an ordinary test run.
#[test]
fn child_reserve_hammer() {
    let Some(location) = testutil::child_db() else {
        return;
    };
    let name = testutil::child_var(testutil::CHILD_NAME);
    let account = testutil::child_var(HAMMER_ACCOUNT);
    let mut ledger = Ledger::connect(&location).unwrap();
    let go = PathBuf::from(testutil::child_var(testutil::CHILD_GO));
    std::fs::write(go.with_file_name(format!("{name}.ready")), "").unwrap();
    testutil::wait_for(&go);
    let mut granted = 0;
    for _ in 0..HAMMER_ATTEMPTS {
        if ledger
            .reserve(&hammer_request(&account, &name))
            .unwrap()
            .is_ok()
        {
            granted += 1;
        }
        // A moment between attempts, as a run has between actions. Without it the
        // process holding SQLite's lock takes it again at once while the others sleep in
        // its busy handler, and they take turns only once.
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    // On a line of its own: libtest has printed the test's name without a newline.
    println!("\ngranted={granted}");
}
