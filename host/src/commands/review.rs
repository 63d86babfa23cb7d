//! `certify report verify`, `certify suites list|show`, `certify budget`
//! and `certify cleanup`: what integrators and reviewers run around a run.

use std::path::Path;

use certify_ledger::{Journal, Ledger, Money, Month};

use crate::cli::{BudgetArgs, CleanupArgs, SuitesShowArgs, VerifyArgs};
use crate::run::{Account, Target, deploy};
use crate::{Error, Outcome};

/// Recompute everything a report directory's attestation binds and name what changed.
pub fn verify(args: VerifyArgs) -> Result<Outcome, Error> {
    let inputs = match &args.bundle {
        Some(dir) => {
            let bundle =
                certify_bundle::Bundle::load(dir).map_err(|e| Error::Usage(e.to_string()))?;
            Some(
                bundle
                    .inputs
                    .iter()
                    .map(|i| {
                        let role = serde_json::to_value(i.role)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_string))
                            .unwrap_or_default();
                        certify_review::InputDigest::new(i.path.clone(), role, i.sha256.clone())
                    })
                    .collect::<Vec<_>>(),
            )
        }
        None => None,
    };
    let v = certify_review::verify::verify(&args.out_dir, inputs.as_deref())
        .map_err(|e| Error::Other(anyhow::Error::new(e).context("verifying the report")))?;
    if v.ok {
        println!(
            "verified: {} ({} files and inputs checked)",
            args.out_dir.display(),
            v.checked
        );
        Ok(Outcome::Passed)
    } else {
        println!("NOT verified: {}", args.out_dir.display());
        for p in &v.problems {
            println!("  - {p}");
        }
        Ok(Outcome::Failed)
    }
}

/// List the shipped suites.
pub fn suites_list() -> Result<Outcome, Error> {
    for s in certify_suite::Suite::list() {
        println!(
            "{:<10} {:<8} {:<9} credit ${}/month, time-to-value {} min  {}",
            s.name,
            s.version.to_string(),
            s.tier.as_str(),
            s.monthly_credit_usd,
            s.time_to_value_minutes,
            s.title
        );
    }
    Ok(Outcome::Passed)
}

/// Print a suite file (a shipped one exactly as shipped).
pub fn suites_show(args: SuitesShowArgs) -> Result<Outcome, Error> {
    match certify_suite::Suite::shipped_text(&args.suite) {
        Some(text) => print!("{text}"),
        None => {
            let suite = certify_suite::Suite::resolve(&args.suite)
                .map_err(|e| Error::Usage(e.to_string()))?;
            let text = std::fs::read_to_string(Path::new(&args.suite))
                .map_err(|e| Error::Io(format!("reading {}", args.suite), e))?;
            println!("# {} (sha256 {})", suite.label(), suite.sha256);
            print!("{text}");
        }
    }
    Ok(Outcome::Passed)
}

/// The month's credit on an account: month-to-date, open reservations, history.
pub fn budget(args: BudgetArgs) -> Result<Outcome, Error> {
    let db = crate::run::state_db(args.state.as_ref())?;
    let ledger = Ledger::open(&db)
        .map_err(|e| Error::Other(anyhow::Error::new(e).context("opening the credit ledger")))?;
    let credit = Money::from_dollars(i64::from(args.tier.monthly_credit_usd()));
    let month = Month::current();
    let summary = ledger
        .summary(&args.account, month, credit, Money::ZERO)
        .map_err(|e| Error::Other(anyhow::Error::new(e).context("reading the ledger")))?;
    println!("account {} — {month} (UTC)", args.account);
    println!("  monthly credit      {}", summary.credit);
    println!("  month-to-date       {}", summary.month_to_date);
    println!(
        "  open reservations   {} ({})",
        summary.open_reservations, summary.open_count
    );
    println!("  remaining           {}", summary.remaining);
    let history = ledger
        .history(&args.account, args.limit)
        .map_err(|e| Error::Other(anyhow::Error::new(e).context("reading the ledger")))?;
    if !history.is_empty() {
        println!("history (newest first):");
        for r in history {
            println!(
                "  {}  {:<8} run {}  estimate {}  actual {}  {}",
                r.requested_at.format("%Y-%m-%d %H:%M"),
                format!("{:?}", r.status).to_lowercase(),
                r.run_id,
                r.estimate,
                r.actual.map_or_else(|| "-".to_string(), |a| a.to_string()),
                r.description
            );
        }
    }
    Ok(Outcome::Passed)
}

/// Tear down what a run (or every dead run) left on the account.
pub async fn cleanup(args: CleanupArgs) -> Result<Outcome, Error> {
    let db = crate::run::state_db(args.state.as_ref())?;
    let journal = Journal::open(&db)
        .map_err(|e| Error::Other(anyhow::Error::new(e).context("opening the run journal")))?;
    let journal = std::sync::Arc::new(std::sync::Mutex::new(journal));
    let account = Account::connect(Target {
        endpoint: args.endpoint.as_deref(),
        account: args.account.as_deref(),
        data_center: None,
        state_dir: db.parent().unwrap_or(Path::new(".")),
        clock_scale: 60.0,
        faults: None,
        // Cleanup only deletes: nothing of the candidate's runs.
        isolation: None,
    })
    .await?;
    let runs = match &args.run {
        Some(id) => {
            let claimed = journal.lock().expect("journal lock").claim_run(id);
            match claimed {
                Ok(Ok(stale)) => vec![stale],
                Ok(Err(not)) => {
                    account.close().await;
                    return Err(Error::Usage(not.to_string()));
                }
                Err(e) => {
                    account.close().await;
                    return Err(Error::Other(
                        anyhow::Error::new(e).context("reading the run journal"),
                    ));
                }
            }
        }
        None => journal
            .lock()
            .expect("journal lock")
            .stale_runs(&account.alias)
            .map_err(|e| Error::Other(anyhow::Error::new(e).context("reading the run journal")))?,
    };
    let mut clean = true;
    if runs.is_empty() {
        println!("nothing to clean up on account {}", account.alias);
    }
    for run in runs {
        let t = deploy::teardown(&account.client, &journal, &run.run.run_id).await;
        let _ = journal
            .lock()
            .expect("journal lock")
            .finish_run(&run.run.run_id, t.verified);
        println!(
            "run {}: {}",
            run.run.run_id,
            if t.verified {
                "torn down, verified"
            } else {
                "NOT fully torn down"
            }
        );
        for line in t.log.iter().chain(&t.leftovers) {
            println!("  {line}");
        }
        clean &= t.verified;
    }
    account.close().await;
    Ok(if clean {
        Outcome::Passed
    } else {
        Outcome::TeardownIncomplete
    })
}
