//! `certify run`: certify a candidate bundle end to end.
//!
//! 1. Load and validate the bundle; build and load its plugin; check its
//!    articles' structure. Nothing is spent yet.
//! 2. Connect to the test account (the embedded emulator unless an endpoint
//!    is given), start the run in the journal, and reap what earlier runs on
//!    the account left behind.
//! 3. Price the blueprint and reserve the estimate against the month's
//!    credit; a refusal ends the run here, with the numbers.
//! 4. Publish and deploy into the run's own group, collect the servers,
//!    measure time-to-value with the plugin's readiness check, run every
//!    plugin check and the articles' steps against that one deployment.
//! 5. Tear down — always: after success, failure, Ctrl-C, SIGTERM, a panic,
//!    or the watchdog seeing the accrued cost reach the reservation — and
//!    verify nothing is left; settle the reservation to the actual charge.
//! 6. Write the report; the exit code says certified (0), not certified
//!    (1), harness error (2) or teardown incomplete (3).

pub mod budget;
mod cloud;
pub mod deploy;
mod docs;
mod events;
mod journaled;
pub mod policy;
mod report;
mod stop;
mod view;

use events::{Event, Events};

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use certify_bundle::{Bundle, ResolvedParameter};
use certify_clc::model::Server;
use certify_kb::{DeploymentOutcome, DocRules, DocsReport};

use certify_ledger::{Ledger, Money, Refusal, Reservation};
use certify_runtime::{
    CheckInfo, CheckRun, DeploymentView, Grants, HttpPolicy, Plugin, ServerView,
};

use crate::cli::{GlobalArgs, RunArgs};
use crate::services::{self, Account, Target, isolation, ledger_location, open_state, state_db};
use crate::{Error, Outcome};

use deploy::SharedJournal;
pub use docs::{bundle_facts as docs_facts, check as docs_check};

/// `1m30s`, `250ms`: for messages.
pub fn human(d: Duration) -> String {
    let secs = d.as_secs();
    if secs >= 60 {
        format!("{}m{:02}s", secs / 60, secs % 60)
    } else if secs >= 1 {
        format!("{:.1}s", d.as_secs_f64())
    } else {
        format!("{}ms", d.as_millis())
    }
}

/// A new run id: the UTC time and a random suffix.
pub fn new_run_id() -> String {
    let mut bytes = [0u8; 3];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        use std::io::Read as _;
        let _ = f.read_exact(&mut bytes);
    }
    format!(
        "{}-{}",
        chrono::Utc::now().format("%Y%m%d%H%M%S"),
        hex::encode(bytes)
    )
}

/// Everything the run learned: the record the event collector ([`events::Events`])
/// keeps from what the phases emit, so that an interrupted run still reports what it
/// got to.
#[derive(Default)]
pub struct Findings {
    /// Publishing: the blueprint id and packages, or why it failed.
    pub published: Option<Result<deploy::Published, String>>,
    /// The run's group.
    pub group_id: Option<String>,
    /// The deployment.
    pub deployed: Option<deploy::Deployed>,
    /// The servers, with their blueprint role.
    pub servers: Vec<(String, Server)>,
    /// Per package task: (package name, server role, verdict message or None if passed).
    pub packages: Vec<(String, String, Result<(), String>)>,
    /// Build logs by server name.
    pub build_logs: Vec<(String, String)>,
    /// Time-to-value in account time, when the readiness check passed.
    pub time_to_value: Option<Duration>,
    /// Readiness attempts made.
    pub readiness_attempts: u32,
    /// Why time-to-value could not be measured.
    pub readiness_failure: Option<String>,
    /// Plugin checks and their runs.
    pub checks: Vec<(CheckInfo, CheckRun)>,
    /// The articles' step runs.
    pub steps: Vec<(PathBuf, Result<certify_kb::ArticleRun, String>)>,
    /// Accrued cost of the run's group, last read.
    pub accrued: Option<Money>,
}

/// How the run ended besides its checks.
pub struct Ending {
    /// Interrupted by a signal or the watchdog, with the reason.
    pub interrupted: Option<String>,
    /// The harness failed (a panic or an error inside the run).
    pub harness_error: Option<String>,
}

/// The run's one record, which the suite decides on and the report is written from:
/// the set-up (suite, bundle, account, policy), the plugin and the articles' structure,
/// the budget, what the phases found ([`Findings`]), the teardown and how the run ended.
/// A run that stopped early fills in what it got to (`run::stop`).
pub struct RunRecord<'a> {
    pub(crate) suite: &'a certify_suite::Suite,
    pub(crate) run_id: &'a str,
    pub(crate) bundle: &'a Bundle,
    pub(crate) account: &'a str,
    pub(crate) endpoint: &'a str,
    pub(crate) data_center: &'a str,
    pub(crate) clock_scale: f64,
    /// Whether the candidate's packages and steps ran in the sandbox (not `--unsandboxed`).
    pub(crate) sandboxed: bool,
    /// How the candidate's servers and steps could reach the internet.
    pub(crate) internet: isolation::Internet,
    pub(crate) started_at: String,
    pub(crate) duration: Duration,
    pub(crate) plugin: Result<&'a Plugin, String>,
    pub(crate) plugin_file: String,
    pub(crate) docs: Result<&'a DocsReport, String>,
    pub(crate) estimate: Option<&'a budget::Estimate>,
    pub(crate) reservation: Option<Result<&'a Reservation, &'a Refusal>>,
    pub(crate) settled: Option<Money>,
    pub(crate) credit: Money,
    pub(crate) policy: &'a policy::Policy,
    pub(crate) month_to_date: Money,
    pub(crate) ttv_limit: Duration,
    pub(crate) reaped: &'a [String],
    pub(crate) teardown: Option<&'a deploy::Teardown>,
    pub(crate) found: &'a Findings,
    pub(crate) ending: &'a Ending,
    /// Signs the attestation, when given.
    pub(crate) signing_key: Option<&'a certify_review::sign::SigningKey>,
    /// Why the run stopped before it reserved anything, when it did.
    pub(crate) stopped: Option<String>,
}

/// `--secret NAME=VARIABLE` as NAME → VARIABLE, for secrets the bundle asks the
/// integrator for; anything else is a usage error, and so is a variable that is unset.
fn supplied_secrets(
    given: &[String],
    bundle: &Bundle,
) -> Result<std::collections::BTreeMap<String, String>, Error> {
    use certify_bundle::{ParameterValue, SecretSource};
    let mut map = std::collections::BTreeMap::new();
    for g in given {
        let Some((name, var)) = g
            .split_once('=')
            .filter(|(n, v)| !n.is_empty() && !v.is_empty())
        else {
            return Err(Error::Usage(format!(
                "--secret {g}: write NAME=VARIABLE (the secret's name, the environment variable holding it)"
            )));
        };
        let asked =
            bundle.deploy.parameters.iter().any(|p| {
                p.name == name && p.value == ParameterValue::Secret(SecretSource::Integrator)
            });
        if !asked {
            return Err(Error::Usage(format!(
                "--secret {name}: the bundle does not ask the integrator for a secret {name} (`{{ integrator = true }}` in [deploy.secrets])"
            )));
        }
        if std::env::var_os(var).is_none() {
            return Err(Error::Usage(format!(
                "--secret {name}={var}: the environment variable {var} is not set"
            )));
        }
        map.insert(name.to_string(), var.to_string());
    }
    Ok(map)
}

/// Run `certify run`: the phases in order, each handing the next what it found.
pub async fn execute(global: &GlobalArgs, args: RunArgs) -> Result<Outcome, Error> {
    let events = Events::new(view::View::new());
    let say = |line: &str| events.say(line);
    // 1. Everything that costs nothing, before anything is created.
    let p = match prepare(global, &args, &events).await? {
        Start::Ready(p) => *p,
        Start::Stopped(outcome) => return Ok(outcome),
    };
    // 2. The account, the journal, the ledger.
    let c = connect(&args, &p.bundle, p.isolation.clone(), &say).await?;
    // 3. The credit: the integrator's and the suite's, never the bundle's.
    let credit = p.policy.credit;
    let time_limit = Duration::from_secs(u64::from(p.suite.run_time_limit_minutes) * 60);
    let ttv_limit = Duration::from_secs(u64::from(p.suite.time_to_value_minutes) * 60);
    let (estimate, month_to_date, reservation) =
        reserve(&c, &p.bundle, credit, time_limit, &say).await?;

    // 4. Deploy, check, and 5. tear down.
    let parameters = p
        .bundle
        .deploy
        .resolve(|name| {
            let var = p.secrets.get(name)?;
            std::env::var(var).ok()
        })
        .map_err(|e| Error::Usage(e.to_string()))?;
    let mut ending = Ending {
        interrupted: None,
        harness_error: None,
    };
    let mut teardown = None;
    let mut settled = None;
    if let Ok(reservation) = &reservation {
        let work = Work::new(&p, &c, parameters, estimate.hours, ttv_limit, &events);
        let (ended, signalled, sigterm) = supervise(
            work,
            &c.account,
            &events,
            reservation.estimate,
            time_limit,
            p.suite.run_time_limit_minutes,
        )
        .await?;
        ending = ended;
        if let Some(why) = &ending.interrupted {
            say(&format!("{why}: tearing down"));
        }
        events.phase("tearing down");
        let _second_signal = exit_on_second_signal(signalled, sigterm, events.view().clone());
        let (t, s) = tear_down(&c, &events, reservation, args.teardown_timeout, &say).await;
        teardown = Some(t);
        settled = s;
    }
    let verified = teardown.as_ref().is_none_or(|t| t.verified)
        && !deploy::has_leftovers(&c.journal, &c.run_id);
    let _ = c
        .journal
        .lock()
        .expect("journal lock")
        .finish_run(&c.run_id, verified);

    // 6. The report.
    // Month-to-date as `certify budget` tells it afterwards: this run's charge included.
    let month_to_date = c
        .ledger
        .lock()
        .expect("ledger lock")
        .summary(
            &c.account.alias,
            certify_ledger::Month::current(),
            credit,
            month_to_date,
        )
        .map_or(month_to_date, |s| s.month_to_date);
    let found = events.take_record();
    let facts = RunRecord {
        suite: &p.suite,
        run_id: &c.run_id,
        bundle: &p.bundle,
        account: &c.account.alias,
        endpoint: &c.account.endpoint,
        data_center: &c.account.data_center,
        clock_scale: c.account.clock_scale,
        sandboxed: p.isolation.is_some(),
        internet: isolation::Internet::of(p.isolation.as_ref()),
        started_at: p.started_at.clone(),
        duration: p.clock.elapsed(),
        plugin: p.plugin.as_deref().map_err(|e| e.clone()),
        plugin_file: p.plugin_file.clone(),
        docs: p.docs.as_ref().map(|(_, r)| r).map_err(|e| e.clone()),
        estimate: Some(&estimate),
        reservation: Some(reservation.as_ref()),
        settled,
        credit,
        policy: &p.policy,
        month_to_date,
        ttv_limit,
        reaped: &c.reaped,
        teardown: teardown.as_ref(),
        found: &found,
        ending: &ending,
        signing_key: p.signing_key.as_ref(),
        stopped: None,
    };
    let written = report::write(&facts, &args.out)?;
    c.account.close().await;
    events.view().finish();
    say(&written.summary);
    say(&format!("report: {}", args.out.display()));
    Ok(if teardown.as_ref().is_some_and(|t| !t.verified) {
        Outcome::TeardownIncomplete
    } else if ending.harness_error.is_some() {
        return Err(Error::Other(anyhow::anyhow!(
            "{} (teardown completed and verified; the report is in {})",
            ending.harness_error.clone().unwrap_or_default(),
            args.out.display()
        )));
    } else if written.certified {
        Outcome::Passed
    } else {
        Outcome::Failed
    })
}

/// What the first phase hands on: everything known before the account is touched.
struct Prepared {
    suite: certify_suite::Suite,
    bundle: Bundle,
    signing_key: Option<certify_review::sign::SigningKey>,
    policy: policy::Policy,
    secrets: std::collections::BTreeMap<String, String>,
    isolation: Option<isolation::Isolation>,
    plugin: Result<Arc<Plugin>, String>,
    plugin_file: String,
    rules: DocRules,
    docs: Result<(Vec<certify_kb::Article>, DocsReport), String>,
    started_at: String,
    clock: Instant,
}

/// Whether the run goes on to the account, or stopped (and reported) already.
enum Start {
    Ready(Box<Prepared>),
    Stopped(Outcome),
}

/// Phase 1: load and validate the bundle, build and load its plugin, check its
/// articles' structure. Nothing is spent; a cause that no deployment could outweigh
/// ends the run here, with its report.
async fn prepare(global: &GlobalArgs, args: &RunArgs, events: &Events) -> Result<Start, Error> {
    let started_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let clock = Instant::now();
    let say = |line: &str| events.say(line);
    crate::report::check_out_dir(&args.out)?;
    let suite =
        certify_suite::Suite::resolve(&args.suite).map_err(|e| Error::Usage(e.to_string()))?;
    let bundle = Bundle::load(&args.bundle).map_err(|e| Error::Usage(e.to_string()))?;
    let signing_key = services::signing_key(args.sign_key.as_deref())?;
    for w in &bundle.warnings {
        eprintln!("warning: {w}");
    }
    let policy = policy::Policy::new(&suite, args.tier, args.program_start, &bundle);
    say(&format!(
        "certifying {} by {} ({} tier account) against the {} suite",
        bundle.candidate.product,
        bundle.candidate.company,
        policy.tier,
        suite.label()
    ));
    if let Some(note) = policy.tier_note() {
        say(&format!("tier: {note}"));
    }
    let runtime = services::runtime(global, None)?;
    let cache_root = services::cache_root(global);
    let secrets = supplied_secrets(&args.secrets, &bundle)?;
    let isolation = isolation::prepare(
        args.unsandboxed,
        args.endpoint.is_none(),
        args.allow_internet,
    )?;
    if isolation.is_none() {
        say(
            "WARNING: --unsandboxed: the candidate's package scripts, KB steps and plugin build run as your own user",
        );
    }
    if args.allow_internet {
        say(&format!(
            "internet: allowed through the egress proxy at {} (public addresses only)",
            certify_sandbox::PROXY
        ));
    }
    events.phase("building and loading the plugin");
    // Built (or read) from the bundle's snapshot, never from the candidate's directory,
    // and built in the sandbox unless the integrator said otherwise.
    let built = match &bundle.plugin.source {
        certify_bundle::PluginSource::Wasm { path } => std::fs::read(path)
            .map(|bytes| (bundle.snapshot.shown(path), bytes))
            .map_err(|e| format!("reading {}: {e}", bundle.snapshot.shown(path).display())),
        certify_bundle::PluginSource::Cargo { dir, .. } if args.wasm_only => {
            return Err(Error::Usage(format!(
                "--wasm-only: the bundle's plugin is the Cargo project {}; ask the candidate for the built .wasm",
                bundle.snapshot.shown(dir).display()
            )));
        }
        certify_bundle::PluginSource::Cargo { dir, .. } => crate::build_copy::build(
            &bundle.snapshot,
            dir,
            &cache_root,
            isolation.as_ref().map(|i| &i.sandbox),
        )
        .map_err(|e| e.to_string()),
    };
    let plugin_file = stop::plugin_file(&bundle);
    let plugin: Result<Arc<Plugin>, String> = match built {
        Ok((_, bytes)) => runtime
            .load(bytes, None)
            .await
            .map(Arc::new)
            .map_err(|e| e.to_string()),
        Err(e) => Err(e),
    };
    let rules = suite.docs.clone();
    let docs = docs::check(&bundle, &rules).map_err(|e| e.to_string());
    if let Some(cause) = stop::cause(&suite, &plugin, &docs) {
        let known = stop::Known {
            suite: &suite,
            bundle: &bundle,
            plugin: plugin.as_deref().map_err(|e| e.clone()),
            plugin_file,
            docs: docs.as_ref().map(|(_, r)| r).map_err(|e| e.clone()),
            signing_key: signing_key.as_ref(),
            started_at,
            clock,
            policy: &policy,
            sandboxed: isolation.is_some(),
            internet: isolation::Internet::of(isolation.as_ref()),
        };
        events.view().finish();
        return stop::stop(args, known, cause, &say).map(Start::Stopped);
    }
    Ok(Start::Ready(Box::new(Prepared {
        suite,
        bundle,
        signing_key,
        policy,
        secrets,
        isolation,
        plugin,
        plugin_file,
        rules,
        docs,
        started_at,
        clock,
    })))
}

/// What the second phase hands on: the account, the shared state, the run's id.
struct Connected {
    account: Account,
    ledger: Arc<Mutex<Ledger>>,
    journal: SharedJournal,
    run_id: String,
    /// What earlier, dead runs left and this one reaped.
    reaped: Vec<String>,
    /// The journal's lock on the run, held until the run ends.
    _run_lock: certify_ledger::RunLock,
}

/// Phase 2: connect to the test account (the embedded emulator unless an endpoint is
/// given), start the run in the journal, and reap what earlier runs left behind.
async fn connect(
    args: &RunArgs,
    bundle: &Bundle,
    isolation: Option<isolation::Isolation>,
    say: &dyn Fn(&str),
) -> Result<Connected, Error> {
    let db = state_db(args.state.as_ref())?;
    if let Some(dir) = db.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::Io(format!("creating {}", dir.display()), e))?;
    }
    let (ledger, journal) = open_state(&ledger_location(args.ledger.as_deref(), &db))?;
    let ledger = Arc::new(Mutex::new(ledger));
    let journal: SharedJournal = Arc::new(Mutex::new(journal));
    let account = Account::connect(Target {
        endpoint: args.endpoint.as_deref(),
        account: args.account.as_deref(),
        data_center: bundle.deploy.data_center.as_deref(),
        state_dir: db.parent().unwrap_or(std::path::Path::new(".")),
        clock_scale: args.clock_scale,
        faults: match &args.faults {
            Some(spec) => Some(
                certify_emulator::FaultSpec::parse(spec)
                    .map_err(|e| Error::Usage(format!("--faults: {e}")))?,
            ),
            None => None,
        },
        isolation,
    })
    .await?;
    let run_id = new_run_id();
    say(&format!(
        "run {run_id} on account {} ({})",
        account.alias, account.endpoint
    ));
    let run_lock = journal
        .lock()
        .expect("journal lock")
        .start_run(
            &run_id,
            &account.alias,
            std::process::id(),
            chrono::Utc::now(),
        )
        .map_err(|e| {
            Error::Other(anyhow::Error::new(e).context("starting the run in the journal"))
        })?;
    let reaped = reap_stale(&account, &journal, &ledger).await;
    for r in &reaped {
        say(&format!("reaped: {r}"));
    }
    Ok(Connected {
        account,
        ledger,
        journal,
        run_id,
        reaped,
        _run_lock: run_lock,
    })
}

/// Phase 3: price the blueprint and reserve the estimate against the month's credit;
/// a refusal is the run's result, with the numbers.
async fn reserve(
    c: &Connected,
    bundle: &Bundle,
    credit: Money,
    time_limit: Duration,
    say: &dyn Fn(&str),
) -> Result<(budget::Estimate, Money, Result<Reservation, Refusal>), Error> {
    let Connected {
        account,
        ledger,
        run_id,
        ..
    } = c;
    let estimate = budget::estimate(
        &account.client,
        &account.data_center,
        bundle,
        &certify_blueprint::PriceList::default(),
        time_limit,
    )
    .await?;
    let month_to_date = budget::account_month_to_date(&account.client).await;
    let reservation = budget::reserve(
        &mut ledger.lock().expect("ledger lock"),
        &account.alias,
        run_id,
        &estimate,
        credit,
        month_to_date,
        &format!(
            "deploying {} ({} for {} billed {})",
            bundle.blueprint.name,
            plural(bundle.blueprint.servers.len(), "server", "servers"),
            estimate.hours,
            if estimate.hours == 1 { "hour" } else { "hours" }
        ),
    )?;
    match &reservation {
        Ok(r) => say(&format!(
            "reserved {} of the {} monthly credit",
            r.estimate, credit
        )),
        Err(refusal) => say(&refusal.to_string()),
    }
    Ok((estimate, month_to_date, reservation))
}

/// Phase 4: the deployment and the checks, as their own task, until it ends or a
/// signal, the watchdog or the suite's run time limit stops it. Returns how it ended,
/// whether a signal stopped it, and the SIGTERM stream for the teardown's watcher.
async fn supervise(
    work: Work,
    account: &Account,
    events: &Events,
    reserved: Money,
    time_limit: Duration,
    limit_minutes: u32,
) -> Result<(Ending, bool, tokio::signal::unix::Signal), Error> {
    let mut ending = Ending {
        interrupted: None,
        harness_error: None,
    };
    let mut task = tokio::spawn(work.run());
    let watchdog = budget::watchdog(account.client.clone(), events.clone(), reserved);
    tokio::pin!(watchdog);
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| Error::Io("installing the SIGTERM handler".into(), e))?;
    // The suite's run time limit is account time; the account's clock may run faster.
    let run_limit = time_limit.div_f64(account.clock_scale.max(1.0));
    let mut signalled = false;
    tokio::select! {
        joined = &mut task => match joined {
            Ok(Ok(())) => {}
            Ok(Err(e)) => ending.harness_error = Some(format!("{e}")),
            Err(e) if e.is_panic() => ending.harness_error = Some(format!("the harness panicked: {}", panic_message(e.into_panic()))),
            Err(e) => ending.harness_error = Some(e.to_string()),
        },
        _ = tokio::signal::ctrl_c() => {
            task.abort();
            signalled = true;
            ending.interrupted = Some("interrupted by Ctrl-C (SIGINT)".into());
        }
        _ = sigterm.recv() => {
            task.abort();
            signalled = true;
            ending.interrupted = Some("terminated (SIGTERM)".into());
        }
        reason = &mut watchdog => {
            task.abort();
            ending.interrupted = Some(reason);
        }
        _ = tokio::time::sleep(run_limit) => {
            task.abort();
            ending.interrupted = Some(format!(
                "the suite's run time limit of {limit_minutes} minutes was reached"
            ));
        }
    }
    Ok((ending, signalled, sigterm))
}

/// Phase 5: tear down what the journal says the run created, verify nothing is left,
/// and settle the reservation to the account's actual charge. Returns the teardown and
/// what the reservation settled to, when it could be settled.
async fn tear_down(
    c: &Connected,
    events: &Events,
    reservation: &Reservation,
    timeout: Duration,
    say: &dyn Fn(&str),
) -> (deploy::Teardown, Option<Money>) {
    let Connected {
        account,
        ledger,
        journal,
        run_id,
        ..
    } = c;
    // Everything that talks to the account from here on shares one deadline: an
    // account that stops answering cannot keep the run (and its report) hostage.
    let deadline = tokio::time::Instant::now() + timeout;
    // The accrued charge, read before the servers go.
    let accrued = tokio::time::timeout_at(deadline, budget::accrued_cost(&account.client, events))
        .await
        .ok()
        .flatten();
    let t =
        match tokio::time::timeout_at(deadline, deploy::teardown(&account.client, journal, run_id))
            .await
        {
            Ok(t) => t,
            Err(_) => deploy::unfinished_teardown(journal, run_id, timeout),
        };
    for line in &t.log {
        tracing::info!("teardown: {line}");
    }
    if !t.verified {
        say(&format!(
            "teardown incomplete: run `certify cleanup --run {run_id}` once the account answers"
        ));
    }
    let settled = budget::settle(
        &mut ledger.lock().expect("ledger lock"),
        reservation,
        accrued,
    );
    (t, settled)
}

/// `1 server`, `2 servers`.
fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// While the run tears down, a signal (the second, counting the one that interrupted
/// the run) ends the process at once with exit code 3: whatever is left stays in the
/// journal for `certify cleanup`. The watcher stops when the returned guard drops.
fn exit_on_second_signal(
    signalled: bool,
    mut sigterm: tokio::signal::unix::Signal,
    view: view::View,
) -> AbortOnDrop {
    AbortOnDrop(tokio::spawn(async move {
        let mut seen = u32::from(signalled);
        loop {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = sigterm.recv() => {}
            }
            seen += 1;
            if seen >= 2 {
                view.line("second signal: stopping now, without finishing the teardown; run `certify cleanup` for what is left");
                std::process::exit(3);
            }
            view.line("tearing down; a second Ctrl-C or SIGTERM stops at once (and leaves the rest to `certify cleanup`)");
        }
    }))
}

/// A task that stops when its guard goes.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Reap what earlier, dead runs on this account left: delete it, settle
/// their reservations at their estimate (the safe side), close them.
async fn reap_stale(
    account: &Account,
    journal: &SharedJournal,
    ledger: &Arc<Mutex<Ledger>>,
) -> Vec<String> {
    let stale = match journal
        .lock()
        .expect("journal lock")
        .stale_runs(&account.alias)
    {
        Ok(s) => s,
        Err(e) => return vec![format!("could not look for stale runs: {e}")],
    };
    let mut out = Vec::new();
    for run in stale {
        let t = deploy::teardown(&account.client, journal, &run.run.run_id).await;
        let open = ledger
            .lock()
            .expect("ledger lock")
            .open_reservations_for_run(&run.run.run_id)
            .unwrap_or_default();
        for r in open {
            let _ = ledger.lock().expect("ledger lock").settle(r.id, r.estimate);
        }
        let _ = journal
            .lock()
            .expect("journal lock")
            .finish_run(&run.run.run_id, t.verified);
        out.push(format!(
            "run {} (started {}) left {} item(s); {}",
            run.run.run_id,
            run.run.started_at.format("%Y-%m-%d %H:%M UTC"),
            run.leftovers.len(),
            if t.verified {
                "all deleted and verified gone"
            } else {
                "some could not be deleted"
            }
        ));
        drop(run.lock);
    }
    out
}

/// The part of the run that creates things on the account. It runs as its own
/// task so that a signal, the watchdog or a panic can stop it while the
/// teardown, which works from the journal, still runs.
struct Work {
    client: certify_clc::Client,
    journal: SharedJournal,
    ledger: Arc<Mutex<Ledger>>,
    run_id: String,
    alias: String,
    data_center: String,
    clock_scale: f64,
    bundle: Bundle,
    parameters: Vec<ResolvedParameter>,
    plugin: Option<Arc<Plugin>>,
    articles: Vec<certify_kb::Article>,
    rules: DocRules,
    credit: Money,
    tier: &'static str,
    hours: u32,
    ttv_limit: Duration,
    concurrency: usize,
    events: Events,
    isolation: Option<isolation::Isolation>,
}

impl Work {
    /// The work of a run that prepared `p`, connected `c` and reserved its estimate of
    /// `hours` billed.
    fn new(
        p: &Prepared,
        c: &Connected,
        parameters: Vec<ResolvedParameter>,
        hours: u32,
        ttv_limit: Duration,
        events: &Events,
    ) -> Work {
        Work {
            client: c.account.client.clone(),
            journal: c.journal.clone(),
            ledger: c.ledger.clone(),
            run_id: c.run_id.clone(),
            alias: c.account.alias.clone(),
            data_center: c.account.data_center.clone(),
            clock_scale: c.account.clock_scale,
            bundle: p.bundle.clone(),
            parameters,
            plugin: p.plugin.as_ref().ok().cloned(),
            articles: p.docs.as_ref().map(|(a, _)| a.clone()).unwrap_or_default(),
            rules: p.rules.clone(),
            credit: p.policy.credit,
            tier: p.policy.tier,
            hours,
            ttv_limit,
            concurrency: std::thread::available_parallelism().map_or(2, |n| n.get()),
            events: events.clone(),
            isolation: p.isolation.clone(),
        }
    }

    async fn run(self) -> Result<(), Error> {
        let events = &self.events;
        events.phase("publishing the packages and the blueprint");
        let published = deploy::publish(&self.client, &self.bundle).await;
        events.emit(Event::Published(published.clone()));
        let Ok(published) = published else {
            return Ok(());
        };

        let journal = journaled::RunJournal::new(self.journal.clone(), &self.run_id);
        let group_id = deploy::create_group(&self.client, &journal, &self.data_center).await?;
        events.emit(Event::GroupCreated(group_id.clone()));
        events.phase(&format!("deploying {}", self.bundle.blueprint.name));
        let build_password = format!("Cb7-{}", new_run_id().replace('-', ""));
        let real_ttv_limit = self.ttv_limit.div_f64(self.clock_scale.max(1.0));
        let deployed = deploy::deploy(
            &self.client,
            &journal,
            published.blueprint_id,
            &group_id,
            &self.data_center,
            &self.parameters,
            &build_password,
            real_ttv_limit,
        )
        .await?;
        events.emit(Event::Deployed(deployed.clone()));
        let servers = deploy::collect(&self.client, &journal, &group_id).await?;
        let prefix = format!("{}{}", self.data_center, self.alias).to_uppercase();
        let with_roles: Vec<(String, Server)> = servers
            .iter()
            .map(|s| (role_of(&s.name, &prefix), s.clone()))
            .collect();
        let mut logs = Vec::new();
        for s in &servers {
            if let Ok(lines) = self.client.build_log(&s.id).await {
                logs.push((s.name.clone(), lines.join("\n")));
            }
        }
        events.emit(Event::Servers {
            servers: with_roles.clone(),
            build_logs: logs,
            packages: package_results(&self.bundle, &deployed, &with_roles),
        });

        // Plugin checks against the deployment.
        if let Some(plugin) = &self.plugin {
            let grants = Arc::new(self.grants(&with_roles, &group_id, &published));
            if deployed.result.is_ok() {
                self.time_to_value(plugin, &grants, &deployed).await;
            }
            events.phase("running the plugin's checks");
            let runs = crate::runner::run_checks(plugin, &[], grants, self.concurrency, |e| {
                if let crate::runner::Event::CheckFinished { run, .. } = e {
                    events.emit(Event::CheckFinished(run.clone()));
                }
            })
            .await;
            events.emit(Event::ChecksDone(runs));
        }

        // The articles' steps.
        if !self.articles.is_empty() {
            events.phase("running the articles' steps");
            let bindings = docs::bindings(
                &with_roles,
                &self.alias,
                &self.data_center,
                &self.parameters,
            );
            let params = self
                .client
                .blueprint_parameters(published.blueprint_id)
                .await
                .unwrap_or_default();
            let library = docs::Library {
                blueprint: docs::blueprint_facts(&self.bundle, &params),
                outcome: match (&deployed.result, deployed.request_id) {
                    (Ok(()), id) => DeploymentOutcome::Succeeded {
                        request_id: id.map_or_else(String::new, |n| n.to_string()),
                        servers: servers.iter().map(|s| s.name.clone()).collect(),
                    },
                    (Err(message), id) => DeploymentOutcome::Failed {
                        request_id: id.map_or_else(String::new, |n| n.to_string()),
                        message: message.clone(),
                    },
                },
            };
            let articles = self.articles.clone();
            let rules = self.rules.clone();
            let isolation = self.isolation.clone();
            let steps = tokio::task::spawn_blocking(move || {
                docs::run_steps(&articles, &bindings, &rules, &library, isolation.as_ref())
            })
            .await
            .map_err(|e| Error::Other(anyhow::anyhow!("running the articles' steps: {e}")))?;
            events.emit(Event::StepsDone(steps));
        }
        Ok(())
    }

    fn grants(
        &self,
        servers: &[(String, Server)],
        group_id: &str,
        published: &deploy::Published,
    ) -> Grants {
        let mut http = HttpPolicy::deny_all();
        if let Some(dialer) = isolation::dialer(self.isolation.as_ref()) {
            http = http.through(dialer);
        }
        // Each server's addresses, on the ports the bundle declares for its role only.
        for (role, s) in servers {
            let ports = self
                .bundle
                .plugin
                .ports
                .iter()
                .find(|(r, _)| r.eq_ignore_ascii_case(role))
                .map(|(_, p)| p.as_slice())
                .unwrap_or_default();
            for ip in s
                .internal_ip()
                .into_iter()
                .map(str::to_string)
                .chain(s.public_ips())
            {
                for port in ports {
                    if let Ok(p) = http.clone().allow(&format!("{ip}:{port}")) {
                        http = p;
                    }
                }
            }
        }
        let c = &self.bundle.candidate;
        let mut facts = vec![
            ("company".to_string(), c.company.clone()),
            ("product".to_string(), c.product.clone()),
            ("tier".to_string(), self.tier.to_string()),
            ("run_id".to_string(), self.run_id.clone()),
            ("account".to_string(), self.alias.clone()),
        ];
        if let Some(v) = &c.version {
            facts.push(("version".to_string(), v.clone()));
        }
        let deployment = DeploymentView {
            run_id: self.run_id.clone(),
            account_alias: self.alias.clone(),
            data_center: self.data_center.clone(),
            blueprint: self.bundle.blueprint.name.clone(),
            servers: servers.iter().map(|(role, s)| view(role, s)).collect(),
            parameters: self
                .parameters
                .iter()
                .filter(|p| !p.secret)
                .map(|p| (p.name.clone(), p.value.clone()))
                .collect(),
        };
        let cloud = cloud::RunCloud {
            client: self.client.clone(),
            journal: journaled::RunJournal::new(self.journal.clone(), &self.run_id),
            ledger: self.ledger.clone(),
            run_id: self.run_id.clone(),
            alias: self.alias.clone(),
            data_center: self.data_center.clone(),
            group_id: group_id.to_string(),
            credit: self.credit,
            hours: self.hours,
            template: self
                .bundle
                .blueprint
                .servers
                .first()
                .map_or_else(|| "UBUNTU-16-64-TEMPLATE".into(), |s| s.template.clone()),
            servers: Arc::new(Mutex::new(servers.iter().map(|(_, s)| s.clone()).collect())),
            packages: published.packages.clone(),
            view: |s| view(&s.name, s),
        };
        Grants {
            parameters: self
                .bundle
                .plugin
                .parameters
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            facts,
            http,
            deployment: Some(deployment),
            cloud: Some(Arc::new(cloud)),
        }
        .normalized()
    }

    /// Repeat the readiness check until it passes or the time-to-value limit
    /// (in account time) is reached; record when it passed.
    async fn time_to_value(
        &self,
        plugin: &Arc<Plugin>,
        grants: &Arc<Grants>,
        deployed: &deploy::Deployed,
    ) {
        let Some(readiness) = plugin.info().checks.iter().find(|c| c.readiness).cloned() else {
            self.events.emit(Event::NotReady {
                attempts: 0,
                why: "the plugin declares no readiness check".into(),
            });
            return;
        };
        let scale = self.clock_scale.max(1.0);
        let deadline = deployed.requested + self.ttv_limit.div_f64(scale);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let run = plugin
                .run_check(&readiness.id, attempt, grants.clone())
                .await;
            if run.status.is_pass() {
                self.events.emit(Event::Ready {
                    time_to_value: deployed.requested.elapsed().mul_f64(scale),
                    attempts: attempt,
                });
                return;
            }
            if Instant::now() >= deadline {
                self.events.emit(Event::NotReady {
                    attempts: attempt,
                    why: format!(
                        "the readiness check {} did not pass within the time-to-value limit ({} attempts; last: {})",
                        readiness.id,
                        attempt,
                        crate::report::terminal::line(&run)
                    ),
                });
                return;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

/// `VA1CERTWEB01` → `WEB`: the blueprint's name for a server.
fn role_of(name: &str, prefix: &str) -> String {
    let upper = name.to_uppercase();
    let rest = upper.strip_prefix(prefix).unwrap_or(&upper);
    rest.trim_end_matches(|c: char| c.is_ascii_digit())
        .to_string()
}

fn view(role: &str, s: &Server) -> ServerView {
    let d = s.details.as_ref();
    ServerView {
        name: s.name.clone(),
        role: role.to_string(),
        internal_ip: s.internal_ip().unwrap_or_default().to_string(),
        public_ip: s.public_ips().first().cloned(),
        cpu: d.map_or(0, |d| d.cpu),
        memory_gb: d.map_or(0, |d| d.memory_mb / 1024),
        storage_gb: d.map_or(0, |d| d.storage_gb),
        os: s.os.clone(),
        status: s.status.clone(),
        power_state: s.power_state().unwrap_or_default().to_string(),
    }
}

/// One result per package task of the blueprint: passed when the deployment
/// succeeded; when it failed, the package named in the failure failed and
/// the others are reported with that reason.
fn package_results(
    bundle: &Bundle,
    deployed: &deploy::Deployed,
    _servers: &[(String, Server)],
) -> Vec<(String, String, Result<(), String>)> {
    bundle
        .blueprint
        .package_tasks()
        .map(|(server, task)| {
            let name = bundle
                .package_of(task)
                .map_or_else(|| task.name.clone(), |p| p.name.clone());
            let result = match &deployed.result {
                Ok(()) => Ok(()),
                Err(message) if message.contains(&name) || message.contains(&task.uuid) => {
                    Err(message.clone())
                }
                Err(message) => Err(format!("the deployment failed: {message}")),
            };
            (name, server.name.clone(), result)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_come_from_server_names() {
        assert_eq!(role_of("VA1CERTWEB01", "VA1CERT"), "WEB");
        assert_eq!(role_of("va1certdb02", "VA1CERT"), "DB");
    }

    #[test]
    fn run_ids_are_unique_and_safe() {
        let a = new_run_id();
        let b = new_run_id();
        assert_ne!(a, b);
        assert!(
            a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'),
            "{a}"
        );
    }
}
