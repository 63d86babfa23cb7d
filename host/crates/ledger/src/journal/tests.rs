use serde_json::json;

use super::*;

const ACCOUNT: &str = "ACME";

fn journal() -> (tempfile::TempDir, Journal) {
    let dir = tempfile::tempdir().unwrap();
    let journal = Journal::open(dir.path().join("state.db")).unwrap();
    (dir, journal)
}

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

#[test]
fn what_was_intended_or_created_and_not_deleted_is_a_leftover() {
    let (_dir, mut journal) = journal();
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

#[test]
fn a_live_run_is_never_stale() {
    let (_dir, mut journal) = journal();
    let lock = journal
        .start_run("live", ACCOUNT, std::process::id(), Utc::now())
        .unwrap();
    journal
        .intend("live", Kind::Group, "g", &json!({}))
        .unwrap();
    assert!(journal.stale_runs(ACCOUNT).unwrap().is_empty());
    assert!(matches!(
        journal.claim_run("live").unwrap(),
        Err(NotReapable::Live(_))
    ));

    // Even with its lock gone (say the lock file was deleted), a running pid keeps it
    // alive.
    drop(lock);
    std::fs::remove_file(journal.lock_path("live")).unwrap();
    assert!(journal.stale_runs(ACCOUNT).unwrap().is_empty());
    let err = journal.claim_run("live").unwrap().unwrap_err();
    assert!(err.to_string().contains("still alive"), "{err}");
}

#[test]
fn a_run_whose_process_is_gone_is_stale_and_claimed_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let mut journal = Journal::open(&path).unwrap();
    let lock = journal
        .start_run("crashed", ACCOUNT, dead_pid(), Utc::now())
        .unwrap();
    let server = journal
        .intend("crashed", Kind::Server, "s1", &json!({}))
        .unwrap();
    journal.created(server, "va1s1").unwrap();
    drop(lock); // what the kernel does when the process dies

    let mut stale = journal.stale_runs(ACCOUNT).unwrap();
    assert_eq!(stale.len(), 1);
    let claimed = stale.pop().unwrap();
    assert_eq!(claimed.run.run_id, "crashed");
    assert_eq!(claimed.run.finished_at, None);
    assert_eq!(names(&claimed.leftovers), [("s1", EntryState::Created)]);

    // While one cleanup holds it, another (here: another connection) cannot claim it.
    let other = Journal::open(&path).unwrap();
    assert!(other.stale_runs(ACCOUNT).unwrap().is_empty());
    assert!(matches!(
        other.claim_run("crashed").unwrap(),
        Err(NotReapable::Live(_))
    ));
    // Nor can a new run reuse its id.
    assert!(matches!(
        journal.start_run("crashed", ACCOUNT, std::process::id(), Utc::now()),
        Err(JournalError::RunExists(_))
    ));

    // Reap: delete, record, finish.
    journal.deleted(server).unwrap();
    journal.finish_run("crashed", true).unwrap();
    let lock_path = claimed.lock.path().to_owned();
    assert!(!lock_path.exists(), "a clean run's lock file is removed");
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

#[test]
fn a_finished_run_that_left_something_is_stale_once_its_process_is_gone() {
    let (_dir, mut journal) = journal();
    let lock = journal
        .start_run("leaky", ACCOUNT, dead_pid(), Utc::now())
        .unwrap();
    let group = journal
        .intend("leaky", Kind::Group, "g", &json!({}))
        .unwrap();
    journal.created(group, "g-1").unwrap();
    journal.failed(group, "delete timed out").unwrap();
    journal.finish_run("leaky", false).unwrap();
    assert!(
        journal.stale_runs(ACCOUNT).unwrap().is_empty(),
        "its process still holds the lock"
    );
    drop(lock);
    let stale = journal.stale_runs(ACCOUNT).unwrap();
    assert_eq!(stale.len(), 1);
    assert_eq!(stale[0].run.teardown_verified, Some(false));
    assert_eq!(names(&stale[0].leftovers), [("g", EntryState::Failed)]);
}

#[test]
fn a_run_on_another_machine_is_left_to_that_machine() {
    let (_dir, mut journal) = journal();
    drop(
        journal
            .start_run("remote", ACCOUNT, dead_pid(), Utc::now())
            .unwrap(),
    );
    journal
        .conn()
        .execute(
            "UPDATE runs SET hostname = 'elsewhere' WHERE run_id = 'remote'",
            [],
        )
        .unwrap();
    assert!(journal.stale_runs(ACCOUNT).unwrap().is_empty());
    let err = journal.claim_run("remote").unwrap().unwrap_err();
    assert!(matches!(err, NotReapable::OtherHost(_)));
    assert!(err.to_string().contains("elsewhere"), "{err}");
}

#[test]
fn runs_are_listed_per_account_newest_first() {
    let (_dir, mut journal) = journal();
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

#[test]
fn misuse_is_an_error_that_says_what_to_do() {
    let (_dir, mut journal) = journal();
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
