use std::sync::Barrier;
use std::time::{Duration, Instant};

use serde_json::json;

use super::*;
use crate::testutil::backend_tests;

const ACCOUNT: &str = "ACME";

/// The pid of a process that has exited and been collected.
fn dead_pid() -> u32 {
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    pid
}

fn names(entries: &[Entry]) -> Vec<(&str, EntryState)> {
    entries.iter().map(|e| (e.name.as_str(), e.state)).collect()
}

fn this_host() -> String {
    Identity::current().hostname
}

backend_tests! {
fn what_was_intended_or_created_and_not_deleted_is_a_leftover(store) {
    let mut journal = store.journal();
    let _lock = journal
        .start_run("run-1", ACCOUNT, std::process::id(), Utc::now())
        .unwrap();

    let group = journal
        .intend(
            "run-1",
            Kind::Group,
            "certify-run-1",
            &json!({"parent": "g-root"}),
        )
        .unwrap();
    journal.created(group, "g-123").unwrap();
    let server = journal
        .intend(
            "run-1",
            Kind::Server,
            "CRT1WEB01",
            &json!({"group": "g-123", "cpu": 2}),
        )
        .unwrap();
    journal.created(server, "va1acmecrt1web01").unwrap();
    let ip = journal
        .intend("run-1", Kind::PublicIp, "web ip", &json!({}))
        .unwrap();
    let deploy = journal
        .intend(
            "run-1",
            Kind::BlueprintDeploy,
            "sample",
            &json!({"blueprint": 42}),
        )
        .unwrap();

    journal.deleted(server).unwrap();
    journal.deleted(server).unwrap();
    journal.failed(ip, "502 from the account").unwrap();
    journal.created(deploy, "req-9").unwrap();
    journal.deleted(deploy).unwrap();

    let leftovers = journal.leftovers("run-1").unwrap();
    assert_eq!(
        names(&leftovers),
        [
            ("web ip", EntryState::Failed),
            ("certify-run-1", EntryState::Created)
        ],
        "newest first, so dependants go before what they live in"
    );
    assert_eq!(leftovers[0].error.as_deref(), Some("502 from the account"));
    assert_eq!(leftovers[1].remote_id.as_deref(), Some("g-123"));
    assert_eq!(leftovers[1].details, json!({"parent": "g-root"}));
    assert_eq!(leftovers[1].account, ACCOUNT);
    assert_eq!(leftovers[1].kind, Kind::Group);

    let all = journal.entries("run-1").unwrap();
    assert_eq!(all.len(), 4);
    assert_eq!(all[3].kind, Kind::BlueprintDeploy);
    assert_eq!(
        journal.entry(server).unwrap().unwrap().state,
        EntryState::Deleted
    );
}


fn a_live_run_is_never_stale(store) {
    let mut journal = store.journal();
    let _lock = journal
        .start_run("live", ACCOUNT, std::process::id(), Utc::now())
        .unwrap();
    journal
        .intend("live", Kind::Group, "g", &json!({}))
        .unwrap();
    assert!(journal.stale_runs(ACCOUNT).unwrap().is_empty());
    let err = journal.claim_run("live").unwrap().unwrap_err();
    assert!(matches!(err, NotReapable::Live(_)), "{err}");
    assert!(err.to_string().contains("still alive"), "{err}");

    // Another machine cannot see the process, but sees the lease being held.
    let mut elsewhere = store.journal_on("elsewhere");
    assert!(elsewhere.stale_runs(ACCOUNT).unwrap().is_empty());
    let err = elsewhere.claim_run("live").unwrap().unwrap_err();
    assert!(matches!(err, NotReapable::OtherHost(_)), "{err}");
    assert!(err.to_string().contains(&this_host()), "{err}");
}

fn a_run_whose_process_is_gone_is_stale_and_claimed_once(store) {
    let mut journal = store.journal();
    // Its lease is fresh, but on this machine the kernel knows the process is gone.
    let _lock = journal
        .start_run("crashed", ACCOUNT, dead_pid(), Utc::now())
        .unwrap();
    let server = journal
        .intend("crashed", Kind::Server, "s1", &json!({}))
        .unwrap();
    journal.created(server, "va1s1").unwrap();
    assert!(
        store.journal_on("elsewhere").stale_runs(ACCOUNT).unwrap().is_empty(),
        "another machine waits for the lease"
    );

    let mut stale = journal.stale_runs(ACCOUNT).unwrap();
    assert_eq!(stale.len(), 1);
    let claimed = stale.pop().unwrap();
    assert_eq!(claimed.run.run_id, "crashed");
    assert_eq!(claimed.run.finished_at, None);
    assert_eq!(names(&claimed.leftovers), [("s1", EntryState::Created)]);

    // While one cleanup holds it, another cannot claim it, here or elsewhere.
    let mut other = store.journal();
    assert!(other.stale_runs(ACCOUNT).unwrap().is_empty());
    assert!(matches!(
        other.claim_run("crashed").unwrap(),
        Err(NotReapable::Live(_))
    ));
    assert!(matches!(
        store.journal_on("elsewhere").claim_run("crashed").unwrap(),
        Err(NotReapable::OtherHost(_))
    ));
    // Nor can a new run reuse its id.
    assert!(matches!(
        journal.start_run("crashed", ACCOUNT, std::process::id(), Utc::now()),
        Err(JournalError::RunExists(_))
    ));

    // Reap: delete, record, finish.
    journal.deleted(server).unwrap();
    journal.finish_run("crashed", true).unwrap();
    drop(claimed);
    assert!(journal.stale_runs(ACCOUNT).unwrap().is_empty());
    assert!(matches!(
        journal.claim_run("crashed").unwrap(),
        Err(NotReapable::Clean(_))
    ));
    let run = journal.run("crashed").unwrap().unwrap();
    assert_eq!(run.teardown_verified, Some(true));
    assert!(run.finished_at.is_some());
}

fn a_finished_run_that_left_something_is_stale_once_it_lets_go(store) {
    let mut journal = store.journal();
    let lock = journal
        .start_run("leaky", ACCOUNT, std::process::id(), Utc::now())
        .unwrap();
    let group = journal
        .intend("leaky", Kind::Group, "g", &json!({}))
        .unwrap();
    journal.created(group, "g-1").unwrap();
    journal.failed(group, "delete timed out").unwrap();
    journal.finish_run("leaky", false).unwrap();
    assert!(
        journal.stale_runs(ACCOUNT).unwrap().is_empty(),
        "its process still holds the lease"
    );
    // Dropping the lock lets the lease run out at once: any machine may reap it now.
    drop(lock);
    let stale = store.journal_on("elsewhere").stale_runs(ACCOUNT).unwrap();
    assert_eq!(stale.len(), 1);
    assert_eq!(stale[0].run.teardown_verified, Some(false));
    assert_eq!(stale[0].run.hostname, this_host());
    assert_eq!(names(&stale[0].leftovers), [("g", EntryState::Failed)]);
}

fn a_run_whose_lease_ran_out_is_reaped_from_another_machine(store) {
    let mut journal = store.journal();
    // A zero lease has run out from the start: what a run killed on this machine looks
    // like to another one after a minute.
    journal.set_lease(Duration::ZERO);
    let _lock = journal
        .start_run("silent", ACCOUNT, std::process::id(), Utc::now())
        .unwrap();
    journal
        .intend("silent", Kind::Group, "g", &json!({}))
        .unwrap();
    let mut elsewhere = store.journal_on("elsewhere");
    let stale = elsewhere.stale_runs(ACCOUNT).unwrap();
    assert_eq!(stale.len(), 1, "{stale:?}");
    assert_eq!(stale[0].run.run_id, "silent");
}

fn a_held_lease_is_renewed_for_as_long_as_the_run_lives(store) {
    let mut journal = store.journal();
    journal.set_lease(Duration::from_millis(1_000));
    let lock = journal
        .start_run("long", ACCOUNT, std::process::id(), Utc::now())
        .unwrap();
    journal.intend("long", Kind::Group, "g", &json!({})).unwrap();
    let mut elsewhere = store.journal_on("elsewhere");
    // Several lease lengths later the run still holds it, because it renews it.
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(3_500) {
        assert!(
            matches!(
                elsewhere.claim_run("long").unwrap(),
                Err(NotReapable::OtherHost(_))
            ),
            "lost the lease after {:?}",
            start.elapsed()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(!lock.is_lost());
    drop(lock);
    assert!(elsewhere.claim_run("long").unwrap().is_ok());
}

fn reapers_on_many_machines_claim_a_dead_run_exactly_once(store) {
    const REAPERS: usize = 4;
    const ROUNDS: usize = 15;
    let mut journal = store.journal();
    journal.set_lease(Duration::ZERO);
    let mut reapers: Vec<Journal> = (0..REAPERS)
        .map(|i| store.journal_on(&format!("reaper-{i}")))
        .collect();
    for round in 0..ROUNDS {
        let account = format!("ACME{round}");
        let run_id = format!("dead-{round}");
        drop(journal.start_run(&run_id, &account, dead_pid(), Utc::now()).unwrap());
        journal.intend(&run_id, Kind::Group, "g", &json!({})).unwrap();
        let barrier = Barrier::new(REAPERS);
        // Each reaper keeps what it claimed until all have tried, as a real one holds it
        // while it tears down (letting go unfinished would rightly let another try).
        let claims: Vec<Vec<StaleRun>> = std::thread::scope(|scope| {
            let handles: Vec<_> = reapers
                .iter_mut()
                .map(|reaper| {
                    let (barrier, account) = (&barrier, &account);
                    scope.spawn(move || {
                        barrier.wait();
                        reaper.stale_runs(account).unwrap()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let counts: Vec<usize> = claims.iter().map(Vec::len).collect();
        assert_eq!(counts.iter().sum::<usize>(), 1, "round {round}: {counts:?}");
    }
}

fn runs_are_listed_per_account_newest_first(store) {
    let mut journal = store.journal();
    let t0 = "2026-08-01T10:00:00Z".parse::<DateTime<Utc>>().unwrap();
    let pid = std::process::id();
    let _a = journal.start_run("a", ACCOUNT, pid, t0).unwrap();
    let _b = journal
        .start_run("b", ACCOUNT, pid, t0 + chrono::Duration::minutes(5))
        .unwrap();
    let _c = journal.start_run("c", "OTHER", pid, t0).unwrap();
    let runs = journal.runs(ACCOUNT).unwrap();
    assert_eq!(
        runs.iter().map(|r| r.run_id.as_str()).collect::<Vec<_>>(),
        ["b", "a"]
    );
    assert_eq!(runs[1].started_at, t0);
    assert_eq!(runs[1].pid, pid);
    assert!(journal.run("nope").unwrap().is_none());
}

fn misuse_is_an_error_that_says_what_to_do(store) {
    let mut journal = store.journal();
    for bad in ["", "../etc", ".hidden", "a b", &"x".repeat(129)] {
        assert!(
            matches!(
                journal.start_run(bad, ACCOUNT, 1, Utc::now()),
                Err(JournalError::InvalidRunId(_))
            ),
            "{bad:?}"
        );
    }
    assert!(matches!(
        journal.intend("ghost", Kind::Server, "s", &json!({})),
        Err(JournalError::UnknownRun(_))
    ));
    assert!(matches!(
        journal.deleted(EntryId(7)),
        Err(JournalError::UnknownEntry(EntryId(7)))
    ));
    assert!(matches!(
        journal.finish_run("ghost", true),
        Err(JournalError::UnknownRun(_))
    ));
    assert!(matches!(
        journal.claim_run("ghost"),
        Err(JournalError::UnknownRun(_))
    ));
}
}

#[test]
fn kinds_are_stored_by_name() {
    for kind in [
        Kind::Group,
        Kind::Server,
        Kind::PublicIp,
        Kind::PackageRun,
        Kind::BlueprintDeploy,
    ] {
        assert_eq!(Kind::from(kind.to_string()), kind);
    }
    assert_eq!(
        Kind::from("load-balancer".to_owned()),
        Kind::Other("load-balancer".into())
    );
    assert_eq!(
        serde_json::to_string(&Kind::PublicIp).unwrap(),
        "\"public-ip\""
    );
}
