//! Several machines, one account, one shared PostgreSQL ledger (`--ledger`): each
//! "machine" here is a `certify` process with a state directory of its own, all pointed at
//! one served emulator account and one ledger schema.
//!
//! Without a PostgreSQL server (`CERTIFY_TEST_POSTGRES_URL`) these tests say so and pass,
//! unless `CERTIFY_REQUIRE_POSTGRES=1` (see `certify_ledger::testing`).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use certify_fixtures::SAMPLE_PLUGIN;
use certify_ledger::testing::{self, Schema};
use certify_ledger::{Ledger, Location, Money, Month, ReservationRequest, Status};

use crate::support::{certify, run};

/// A served emulator account that every "machine" reaches over HTTP.
struct Served {
    child: Child,
    url: String,
    username: String,
    password: String,
    alias: String,
}

impl Served {
    fn start(state: &Path) -> Served {
        let mut child = certify()
            .args(["emulator", "serve", "--addr", "127.0.0.1:0", "--state"])
            .arg(state)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut field = |name: &str| -> String {
            let line = lines
                .next()
                .expect("the emulator prints its details")
                .unwrap();
            line.split_once(name)
                .unwrap_or_else(|| panic!("expected {name} in {line:?}"))
                .1
                .trim()
                .to_owned()
        };
        let url = field("listening on");
        field("v2 API:");
        field("v1 API:");
        let alias = field("account alias:");
        let username = field("username:");
        let password = field("password:");
        std::thread::spawn(move || for _ in lines {});
        Served {
            child,
            url,
            username,
            password,
            alias,
        }
    }

    /// `certify <args>` as one machine: its own state directory, this account, the ledger.
    fn certify(&self, machine: &Path, ledger: &str) -> Command {
        let mut cmd = certify();
        cmd.env("CERTIFY_STATE_DB", machine.join("state.db"))
            .env("CERTIFY_LEDGER_URL", ledger)
            .env("CLC_USERNAME", &self.username)
            .env("CLC_PASSWORD", &self.password);
        cmd
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The sample bundle with its prebuilt plugin.
fn sample_copy(dir: &Path) -> PathBuf {
    fn copy_dir(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap().flatten() {
            let path = entry.path();
            if path.ends_with("plugin") {
                continue;
            }
            let target = to.join(entry.file_name());
            if path.is_dir() {
                copy_dir(&path, &target);
            } else {
                std::fs::copy(&path, &target).unwrap();
            }
        }
    }
    let copy = dir.join("bundle");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("plugins/sample-candidate"),
        &copy,
    );
    std::fs::copy(SAMPLE_PLUGIN, copy.join("plugin.wasm")).unwrap();
    let manifest = copy.join("candidate.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        text.replacen(
            "[plugin]\npath = \"plugin\"",
            "[plugin]\npath = \"plugin.wasm\"",
            1,
        ),
    )
    .unwrap();
    copy
}

/// Starts a command and reads its stdout until a line holds `marker`; returns the child
/// and what it printed so far.
fn start_until(cmd: &mut Command, marker: &str) -> (Child, String) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap() == 0 || Instant::now() > deadline {
            panic!("the run ended before printing {marker:?}:\n{seen}");
        }
        seen.push_str(&line);
        if line.contains(marker) {
            break;
        }
    }
    std::thread::spawn(move || for _ in reader.lines() {});
    (child, seen)
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_default()
}

#[test]
fn a_run_killed_on_one_machine_is_reaped_from_another() {
    let Some(url) = testing::postgres_url("a_run_killed_on_one_machine_is_reaped_from_another")
    else {
        return;
    };
    let schema = Schema::create(&url, "cli_reap").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let served = Served::start(&dir.path().join("account"));
    let bundle = sample_copy(dir.path());
    let (first, second, third) = (
        dir.path().join("machine-1"),
        dir.path().join("machine-2"),
        dir.path().join("machine-3"),
    );

    let (mut child, printed) = start_until(
        served
            .certify(&first, schema.url())
            .args(["run", "--endpoint", &served.url, "--out"])
            .arg(first.join("report"))
            .arg(&bundle),
        "deploying",
    );
    let run_id = printed
        .lines()
        .find_map(|l| l.strip_prefix("run ")?.split_whitespace().next())
        .expect("the run says its id")
        .to_owned();
    // In the middle of the deployment: the servers are being built.
    std::thread::sleep(Duration::from_millis(1500));
    child.kill().unwrap(); // SIGKILL: no teardown, no lease release
    child.wait().unwrap();

    // Any machine sees the dead run's reservation, with its run and machine.
    let budget =
        run(served
            .certify(&third, schema.url())
            .args(["budget", "--account", &served.alias]));
    assert_eq!(budget.code, 0, "{budget:?}");
    assert!(
        budget.stdout.contains("open reservations (every machine"),
        "{budget:?}"
    );
    let line = budget
        .stdout
        .lines()
        .find(|l| l.contains(&format!("run {run_id}")))
        .unwrap_or_else(|| panic!("no open reservation of {run_id}: {budget:?}"));
    assert!(line.contains(&format!("on {}", hostname())), "{line}");

    // Another machine, with no local record of the run, reaps it from the shared journal.
    let reaped = run(served.certify(&second, schema.url()).args([
        "cleanup",
        "--stale",
        "--endpoint",
        &served.url,
    ]));
    assert_eq!(reaped.code, 0, "{reaped:?}");
    assert!(
        reaped.stdout.contains(&format!(
            "run {run_id} (on {}): torn down, verified",
            hostname()
        )),
        "{reaped:?}"
    );
    // Once: the run is done with, here and on the first machine.
    for machine in [&second, &first] {
        let again = run(served.certify(machine, schema.url()).args([
            "cleanup",
            "--stale",
            "--endpoint",
            &served.url,
        ]));
        assert!(again.stdout.contains("nothing to clean up"), "{again:?}");
    }
    // Its reservation is closed: nothing is held against the credit any more.
    let budget =
        run(served
            .certify(&third, schema.url())
            .args(["budget", "--account", &served.alias]));
    assert!(
        budget.stdout.contains("open reservations   $0.00 (0)"),
        "{budget:?}"
    );
    assert!(!budget.stdout.contains("every machine"), "{budget:?}");
}

#[test]
fn runs_on_several_machines_cannot_together_overrun_the_credit() {
    let Some(url) =
        testing::postgres_url("runs_on_several_machines_cannot_together_overrun_the_credit")
    else {
        return;
    };
    let schema = Schema::create(&url, "cli_race").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let served = Served::start(&dir.path().join("account"));
    let bundle = sample_copy(dir.path());

    // Earlier runs spent all but 6 cents of the Silver credit: one sample run (4 cents
    // here) fits, two do not — and four machines ask at once.
    let remaining = Money::from_cents(6);
    let location = Location::Postgres(schema.url().to_owned());
    let mut ledger = Ledger::connect(&location).unwrap();
    let earlier = ledger
        .reserve(&ReservationRequest {
            account: &served.alias,
            month: Month::current(),
            run_id: "earlier",
            description: "earlier runs",
            estimate: Money::from_dollars(2_000) - remaining,
            credit: Money::from_dollars(2_000),
            account_month_to_date: Money::ZERO,
        })
        .unwrap()
        .unwrap();
    ledger
        .settle(earlier.id, Money::from_dollars(2_000) - remaining)
        .unwrap();

    let children: Vec<Child> = (0..4)
        .map(|i| {
            let machine = dir.path().join(format!("machine-{i}"));
            served
                .certify(&machine, schema.url())
                .args(["run", "--endpoint", &served.url, "--out"])
                .arg(machine.join("report"))
                .arg(&bundle)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let said: Vec<String> = children
        .into_iter()
        .map(|c| String::from_utf8_lossy(&c.wait_with_output().unwrap().stdout).into_owned())
        .collect();

    // The ledger's record of the four: what was granted fits in what was left.
    let runs: Vec<_> = ledger
        .history(&served.alias, 100)
        .unwrap()
        .into_iter()
        .filter(|r| r.run_id != "earlier")
        .collect();
    assert_eq!(runs.len(), 4, "{runs:#?}\n{said:#?}");
    let granted: Vec<_> = runs
        .iter()
        .filter(|r| r.status != Status::Refused)
        .collect();
    let granted_total: Money = granted.iter().map(|r| r.estimate).sum();
    assert!(
        granted_total <= remaining,
        "granted {granted_total} of {remaining}: {runs:#?}"
    );
    assert!(
        runs[0].estimate + runs[0].estimate > remaining,
        "the test needs a run that fits once only: {runs:#?}"
    );
    assert_eq!(granted.len(), 1, "{runs:#?}\n{said:#?}");
    let refusals = said
        .iter()
        .filter(|s| s.contains("refused: deploying"))
        .count();
    assert_eq!(refusals, 3, "{said:#?}");
}
