//! `certify report verify|diff`, `certify key generate`, `certify suites list|show`,
//! `certify budget` and `certify cleanup`: what integrators and reviewers run around a
//! run.

use std::path::Path;

use certify_ledger::{Ledger, Money, Month};
use certify_review::sign::PublicKey;

use crate::cli::{BudgetArgs, CleanupArgs, DiffArgs, KeyGenerateArgs, SuitesShowArgs, VerifyArgs};
use crate::run::deploy;
use crate::services::{Account, Target};
use crate::{Error, Outcome};

/// `certify key generate NAME`.
pub fn key_generate(args: KeyGenerateArgs) -> Result<Outcome, Error> {
    let files = certify_review::sign::generate_files(&args.name)
        .map_err(|e| Error::Usage(e.to_string()))?;
    println!(
        "private key: {} (mode 0600; keep it secret, e.g. as a CI secret)",
        files.private.display()
    );
    println!(
        "public key:  {} (give it to reviewers: `certify report verify --key {}`)",
        files.public.display(),
        files.public.display()
    );
    println!("key id:      {}", files.keyid);
    Ok(Outcome::Passed)
}

/// Check who vouches for a report directory, recompute everything its attestation binds
/// and name what changed.
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
    let keys = args
        .keys
        .iter()
        .map(|p| PublicKey::read(p).map_err(|e| Error::Usage(format!("--key: {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let mut harness_sha256 = Vec::new();
    for hex in &args.harness_sha256 {
        harness_sha256.push(sha256_arg(hex, "--harness-sha256")?);
    }
    if let Some(file) = &args.harness_releases {
        harness_sha256.extend(releases_file(file)?);
    }
    let options = certify_review::verify::Options {
        bundle_inputs: inputs,
        keys,
        harness_sha256,
    };
    let v = certify_review::verify::verify_with(&args.out_dir, &options)
        .map_err(|e| Error::Other(anyhow::Error::new(e).context("verifying the report")))?;
    if v.ok {
        println!(
            "verified: {} ({} files and inputs checked)",
            args.out_dir.display(),
            v.checked
        );
    } else {
        println!("NOT verified: {}", args.out_dir.display());
        for p in &v.problems {
            println!("  - {p}");
        }
    }
    match (&v.signer, options.keys.is_empty()) {
        (Some(keyid), _) => println!("signed by key {keyid}"),
        (None, true) => {
            let claimed = if v.claimed_signers.is_empty() {
                "it is unsigned".to_string()
            } else {
                format!(
                    "it claims to be signed by key {}, which was not checked",
                    v.claimed_signers.join(", ")
                )
            };
            println!(
                "nothing vouches for this report: {claimed}; anyone can rewrite every file and digest consistently. Give the signer's public key with --key."
            );
        }
        (None, false) => {}
    }
    Ok(if v.ok {
        Outcome::Passed
    } else {
        Outcome::Failed
    })
}

/// A sha256 argument: 64 hex digits, lower-cased.
fn sha256_arg(hex: &str, what: &str) -> Result<String, Error> {
    let hex = hex.trim();
    if hex.len() == 64 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
        Ok(hex.to_ascii_lowercase())
    } else {
        Err(Error::Usage(format!(
            "{what}: {hex:?} is not a sha256 (64 hex digits)"
        )))
    }
}

/// A releases file: one sha256 per line, first word (so `sha256sum` output works),
/// blank lines and `#` comments ignored.
fn releases_file(path: &Path) -> Result<Vec<String>, Error> {
    const MAX: u64 = 1024 * 1024;
    let what = || format!("reading {}", path.display());
    let len = std::fs::metadata(path)
        .map_err(|e| Error::Io(what(), e))?
        .len();
    if len > MAX {
        return Err(Error::Usage(format!(
            "{} is {len} bytes; a releases file lists sha256s, one a line",
            path.display()
        )));
    }
    let text = std::fs::read_to_string(path).map_err(|e| Error::Io(what(), e))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if let Some(word) = line.split_whitespace().next() {
            out.push(sha256_arg(word, &format!("{}:{}", path.display(), i + 1))?);
        }
    }
    if out.is_empty() {
        return Err(Error::Usage(format!(
            "{} lists no sha256; one per line",
            path.display()
        )));
    }
    Ok(out)
}

/// Compare two reports of one bundle.
pub fn diff(args: DiffArgs) -> Result<Outcome, Error> {
    let load = |p: &Path| certify_review::diff::load(p).map_err(|e| Error::Usage(e.to_string()));
    let (a, b) = (load(&args.a)?, load(&args.b)?);
    let d = certify_review::diff::diff(
        &a,
        &args.a.display().to_string(),
        &b,
        &args.b.display().to_string(),
    );
    if args.json {
        let text = serde_json::to_string_pretty(&d)
            .map_err(|e| Error::Other(anyhow::anyhow!("rendering the comparison: {e}")))?;
        println!("{text}");
    } else {
        print!("{}", d.to_text());
    }
    Ok(if d.same {
        Outcome::Passed
    } else {
        Outcome::Failed
    })
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
    let db = crate::services::state_db(args.state.as_ref())?;
    let location = crate::services::ledger_location(args.ledger.as_deref(), &db);
    let mut ledger = Ledger::connect(&location).map_err(|e| {
        Error::Other(
            anyhow::Error::new(e).context(format!("opening the credit ledger at {location}")),
        )
    })?;
    let credit = args.tier.monthly_credit();
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
    let open = ledger
        .open_reservations(&args.account, month)
        .map_err(|e| Error::Other(anyhow::Error::new(e).context("reading the ledger")))?;
    if !open.is_empty() {
        println!("open reservations (every machine on this ledger):");
        let now = chrono::Utc::now();
        for r in open {
            println!(
                "  {:>11}  run {}  on {}  {} old  {}",
                r.estimate.to_string(),
                r.run_id,
                if r.hostname.is_empty() {
                    "?"
                } else {
                    &r.hostname
                },
                age(now - r.requested_at),
                r.description
            );
        }
    }
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

/// How long ago, roughly: `45s`, `12m`, `3h05m`, `2d04h`.
fn age(elapsed: chrono::Duration) -> String {
    let s = elapsed.num_seconds().max(0);
    match s {
        0..60 => format!("{s}s"),
        60..3_600 => format!("{}m", s / 60),
        3_600..86_400 => format!("{}h{:02}m", s / 3_600, s % 3_600 / 60),
        _ => format!("{}d{:02}h", s / 86_400, s % 86_400 / 3_600),
    }
}

/// Tear down what a run (or every dead run) left on the account.
pub async fn cleanup(args: CleanupArgs) -> Result<Outcome, Error> {
    let db = crate::services::state_db(args.state.as_ref())?;
    let location = crate::services::ledger_location(args.ledger.as_deref(), &db);
    let (mut ledger, journal) = crate::services::open_state(&location)?;
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
        // Its reservations are closed at their estimate (the safe side): the account's
        // charge for one run cannot be told apart from its month-to-date.
        for r in ledger
            .open_reservations_for_run(&run.run.run_id)
            .unwrap_or_default()
        {
            let _ = ledger.settle(r.id, r.estimate);
        }
        let _ = journal
            .lock()
            .expect("journal lock")
            .finish_run(&run.run.run_id, t.verified);
        println!(
            "run {} (on {}): {}",
            run.run.run_id,
            run.run.hostname,
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

#[cfg(test)]
mod tests {
    use super::age;

    #[test]
    fn ages_are_short_and_never_negative() {
        let secs = chrono::Duration::seconds;
        assert_eq!(age(secs(-5)), "0s");
        assert_eq!(age(secs(45)), "45s");
        assert_eq!(age(secs(12 * 60 + 5)), "12m");
        assert_eq!(age(secs(3 * 3600 + 5 * 60)), "3h05m");
        assert_eq!(age(secs(2 * 86_400 + 4 * 3600)), "2d04h");
    }
}
