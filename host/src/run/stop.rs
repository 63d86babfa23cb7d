//! Stopping before anything costs: a plugin that does not build or load, articles that
//! cannot be read or whose structure fails a required check, are all known before the
//! account is touched. Such a run reserves nothing and deploys nothing; it writes its
//! report with the cause first and ends not certified.

use std::path::Path;
use std::time::Instant;

use certify_kb::DocsReport;
use certify_runtime::Plugin;

use super::{Ending, Findings, RunRecord};
use crate::cli::RunArgs;
use crate::{Error, Outcome};

/// Why the run cannot be certified whatever a deployment would show, if it cannot.
pub fn cause(
    suite: &certify_suite::Suite,
    plugin: &Result<std::sync::Arc<Plugin>, String>,
    docs: &Result<(Vec<certify_kb::Article>, DocsReport), String>,
) -> Option<String> {
    if let Err(e) = plugin {
        return Some(format!("the validation plugin did not build or load:\n{e}"));
    }
    let report = match docs {
        Err(e) => return Some(format!("the KB articles could not be read: {e}")),
        Ok((_, report)) => report,
    };
    let first_failure = report
        .articles
        .iter()
        .flat_map(|a| a.checks.iter())
        .chain(&report.set_checks)
        .find(|c| !c.ok())?;
    // The suite decides whether the structure blocks: it may be advisory, or waived.
    let verdict = certify_suite::Verdict::Failed(first_failure.message.clone());
    let today = chrono::Utc::now().date_naive();
    let results = certify_suite::Results::new(today)
        .builtin(certify_suite::BuiltinCheck::DocsStructure, verdict);
    let blocking = suite.decide(&results).builtins.iter().any(|b| {
        b.check == certify_suite::BuiltinCheck::DocsStructure
            && b.outcome == certify_suite::Outcome::Blocking
    });
    blocking.then(|| {
        let failed = report
            .articles
            .iter()
            .flat_map(|a| a.checks.iter())
            .chain(&report.set_checks)
            .filter(|c| !c.ok())
            .count();
        format!(
            "the KB articles' structure fails {failed} required check(s), first: {}",
            first_failure.message
        )
    })
}

/// What the run knows when it stops before the account: everything of step 1.
pub struct Known<'a> {
    pub suite: &'a certify_suite::Suite,
    pub bundle: &'a certify_bundle::Bundle,
    pub plugin: Result<&'a Plugin, String>,
    pub plugin_file: String,
    pub docs: Result<&'a DocsReport, String>,
    pub signing_key: Option<&'a certify_review::sign::SigningKey>,
    pub started_at: String,
    pub clock: Instant,
    /// The integrator's tier, credit and program dates.
    pub policy: &'a super::policy::Policy,
    /// Whether the candidate's code would have run in the sandbox.
    pub sandboxed: bool,
    /// How it could have reached the internet.
    pub internet: crate::services::isolation::Internet,
}

/// Write the report of a run stopped before the reservation, and end not certified.
pub fn stop(
    args: &RunArgs,
    known: Known<'_>,
    cause: String,
    say: &dyn Fn(&str),
) -> Result<Outcome, Error> {
    say(&format!(
        "stopping before anything is reserved or deployed: {cause}"
    ));
    let found = Findings::default();
    let ending = Ending {
        interrupted: None,
        harness_error: None,
    };
    let endpoint = args.endpoint.as_deref().unwrap_or("embedded emulator");
    let ttv_limit =
        std::time::Duration::from_secs(u64::from(known.suite.time_to_value_minutes) * 60);
    let credit = known.policy.credit;
    let run_id = super::new_run_id();
    let facts = RunRecord {
        suite: known.suite,
        run_id: &run_id,
        bundle: known.bundle,
        account: args.account.as_deref().unwrap_or(""),
        endpoint,
        data_center: known.bundle.deploy.data_center.as_deref().unwrap_or(""),
        clock_scale: args.clock_scale,
        started_at: known.started_at,
        duration: known.clock.elapsed(),
        plugin: known.plugin,
        plugin_file: known.plugin_file,
        docs: known.docs,
        estimate: None,
        reservation: None,
        settled: None,
        credit,
        month_to_date: certify_ledger::Money::ZERO,
        ttv_limit,
        reaped: &[],
        teardown: None,
        found: &found,
        ending: &ending,
        signing_key: known.signing_key,
        stopped: Some(cause),
        policy: known.policy,
        sandboxed: known.sandboxed,
        internet: known.internet,
    };
    let written = super::report::write(&facts, &args.out)?;
    say(&written.summary);
    say(&format!("report: {}", args.out.display()));
    Ok(Outcome::Failed)
}

/// The plugin's source as the bundle names it (`plugin`, `plugin.wasm`), relative to
/// the bundle: reports name no path of the machine they were made on.
pub fn plugin_file(bundle: &certify_bundle::Bundle) -> String {
    let path: &Path = match &bundle.plugin.source {
        certify_bundle::PluginSource::Wasm { path } => path,
        certify_bundle::PluginSource::Cargo { dir, .. } => dir,
    };
    let rel = path.strip_prefix(&bundle.root).unwrap_or(path);
    match rel.file_name() {
        Some(_) if rel.is_relative() => rel.display().to_string(),
        Some(name) => name.to_string_lossy().into_owned(),
        None => String::new(),
    }
}
