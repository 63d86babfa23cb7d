//! The ledger's reservation speed, on PostgreSQL (the shared ledger) and SQLite (the
//! embedded default), printing medians:
//!
//! - the round trip of one reservation (check and take, one transaction);
//! - 16 reservers on one account at once, each on its own connection, asking for more
//!   than the credit: reservations a second, and a check that exactly the credit was
//!   granted (no overrun).
//!
//! PostgreSQL comes from `CERTIFY_TEST_POSTGRES_URL` (`eval "$(tests/postgres.sh)"`);
//! without it only SQLite is measured.
//!
//! ```sh
//! cargo bench -p certify-ledger --bench reserve
//! ```

use std::sync::Barrier;
use std::time::{Duration, Instant};

use certify_ledger::testing::{self, Schema};
use certify_ledger::{Ledger, Location, Money, Month, ReservationRequest, Status};

const ROUND_TRIPS: usize = 1_000;
const RESERVERS: usize = 16;
const ATTEMPTS_EACH: usize = 60;
const CONCURRENT_ROUNDS: usize = 5;

fn request<'a>(account: &'a str, run_id: &'a str, credit: Money) -> ReservationRequest<'a> {
    ReservationRequest {
        account,
        month: Month::current(),
        run_id,
        description: "one dollar",
        estimate: Money::from_dollars(1),
        credit,
        account_month_to_date: Money::ZERO,
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn percentile(mut values: Vec<f64>, p: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    values[((values.len() - 1) as f64 * p).round() as usize]
}

fn round_trip(location: &Location) {
    let mut ledger = Ledger::connect(location).unwrap();
    let credit = Money::from_dollars(1_000_000);
    // Warm the connection and the statement cache.
    for _ in 0..20 {
        ledger
            .reserve(&request("WARM", "warm", credit))
            .unwrap()
            .unwrap();
    }
    let mut millis = Vec::with_capacity(ROUND_TRIPS);
    for _ in 0..ROUND_TRIPS {
        let start = Instant::now();
        ledger
            .reserve(&request("ROUNDTRIP", "bench", credit))
            .unwrap()
            .unwrap();
        millis.push(start.elapsed().as_secs_f64() * 1e3);
    }
    println!(
        "  reservation round trip: median {:.2} ms, p90 {:.2} ms ({ROUND_TRIPS} reservations)",
        median(millis.clone()),
        percentile(millis, 0.9)
    );
}

/// One round of 16 reservers racing on a fresh account; reservations a second.
fn concurrent_round(location: &Location, round: usize) -> f64 {
    let account = format!("CONCURRENT{round}");
    let attempts = RESERVERS * ATTEMPTS_EACH;
    // Three quarters of the attempts fit: the last quarter must be refused.
    let grants = attempts * 3 / 4;
    let credit = Money::from_dollars(grants as i64);
    let mut ledgers: Vec<Ledger> = (0..RESERVERS)
        .map(|_| Ledger::connect(location).unwrap())
        .collect();
    let barrier = Barrier::new(RESERVERS + 1);
    let elapsed = std::thread::scope(|scope| {
        for (i, ledger) in ledgers.iter_mut().enumerate() {
            let (barrier, account) = (&barrier, &account);
            scope.spawn(move || {
                let run_id = format!("reserver-{i}");
                barrier.wait();
                for _ in 0..ATTEMPTS_EACH {
                    let _ = ledger.reserve(&request(account, &run_id, credit)).unwrap();
                }
            });
        }
        barrier.wait();
        let start = Instant::now();
        // The scope joins every reserver before it returns.
        start
    });
    let elapsed: Duration = elapsed.elapsed();
    let ledger = &mut ledgers[0];
    let history = ledger.history(&account, attempts + 1).unwrap();
    let granted: Money = history
        .iter()
        .filter(|r| r.status == Status::Open)
        .map(|r| r.estimate)
        .sum();
    assert_eq!(history.len(), attempts);
    assert!(granted <= credit, "OVERRUN: {granted} granted of {credit}");
    assert_eq!(granted, credit, "every dollar of the credit was granted");
    attempts as f64 / elapsed.as_secs_f64()
}

fn concurrent(location: &Location) {
    let rates: Vec<f64> = (0..CONCURRENT_ROUNDS)
        .map(|round| concurrent_round(location, round))
        .collect();
    println!(
        "  {RESERVERS} concurrent reservers on one account: median {:.0} reservations/s \
         (min {:.0}, {CONCURRENT_ROUNDS} rounds of {} attempts, a quarter refused, no overrun)",
        median(rates.clone()),
        rates.iter().copied().fold(f64::INFINITY, f64::min),
        RESERVERS * ATTEMPTS_EACH
    );
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this once, quickly.
    if std::env::args().any(|a| a == "--test") {
        return;
    }
    match testing::postgres_url("the reserve bench") {
        Some(url) => {
            let schema = Schema::create(&url, "bench").unwrap();
            let location = Location::Postgres(schema.url().to_owned());
            println!("PostgreSQL ({location}):");
            round_trip(&location);
            concurrent(&location);
        }
        None => println!("PostgreSQL: skipped (CERTIFY_TEST_POSTGRES_URL is not set)"),
    }
    let dir = tempfile::tempdir().unwrap();
    let location = Location::Sqlite(dir.path().join("state.db"));
    println!("SQLite ({location}):");
    round_trip(&location);
    concurrent(&location);
}
