//! The command line: clap types only. What the commands do is in [`crate::commands`].

use std::path::PathBuf;

use certify_program::Tier;
use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand};

/// Certify technology partners' products for the CenturyLink Cloud
/// Marketplace: deploy a candidate's blueprint to its test account under the
/// monthly credit, run its WebAssembly validation plugins in a sandbox and its
/// documentation's steps, tear everything down, and write reports reviewers
/// can verify.
///
/// Exit codes: 0 certified (or every check passed); 1 not certified (or some
/// check failed or could not run); 2 the harness itself could not do its job;
/// 3 teardown incomplete (`run`, `cleanup`).
#[derive(Debug, Parser)]
#[command(
    name = "certify",
    version,
    max_term_width = 100,
    after_help = "Global options, before or after any command (not repeated in each command's help):\n  \
      --cache-dir <DIR>  The harness's cache: compiled plugins and plugin builds\n                     \
      [env: CERTIFY_CACHE_DIR; default: $XDG_CACHE_HOME/certify or ~/.cache/certify]\n  \
      --no-cache         Compile plugins every time instead of using the compiled-plugin cache"
)]
pub struct Cli {
    /// Options for every command.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Options for every command.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Show the harness's progress on stderr (-vv for more).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// The harness's cache: compiled plugins and plugin builds [default: $XDG_CACHE_HOME/certify or ~/.cache/certify].
    // Hidden from every command's help; the top-level help lists it once.
    #[arg(
        long,
        global = true,
        env = "CERTIFY_CACHE_DIR",
        value_name = "DIR",
        hide = true
    )]
    pub cache_dir: Option<PathBuf>,
    /// Compile plugins every time instead of using the compiled-plugin cache.
    #[arg(long, global = true, hide = true)]
    pub no_cache: bool,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Certify a candidate bundle: deploy its blueprint to the test account
    /// under the monthly credit, run its plugin's checks and its articles'
    /// steps, tear everything down, and write the report.
    ///
    /// Exit codes: 0 certified; 1 not certified; 2 the harness could not run;
    /// 3 teardown incomplete (something may be left on the account).
    Run(RunArgs),
    /// Show what `certify run` would do with a bundle, touching no account:
    /// every bundle problem, what would be deployed, the cost against the
    /// credit left, the documentation checks, the plugin checks and doc steps.
    ///
    /// Exit codes: 0 a run could start; 1 a run would be refused (the bundle
    /// has errors, or the cost exceeds the credit left); 2 the harness could
    /// not do its job.
    Plan(PlanArgs),
    /// Scaffold a new, complete candidate bundle that `certify run` certifies
    /// as generated: candidate.toml, a one-server blueprint, a script package,
    /// the public and internal KB articles, a plugin crate and a CI workflow.
    New(NewArgs),
    /// Verify a report (by its signer's key, against its attestation and the bundle it
    /// certified), or compare two reports.
    #[command(subcommand)]
    Report(ReportCommand),
    /// Make the Ed25519 key pair that signs reports.
    #[command(subcommand)]
    Key(KeyCommand),
    /// List and show the certification suites.
    #[command(subcommand)]
    Suites(SuitesCommand),
    /// Show the monthly credit of a test account: month-to-date, open reservations, history.
    Budget(BudgetArgs),
    /// Tear down what runs left on the test account (a killed run's leftovers).
    Cleanup(CleanupArgs),
    /// Inspect and run validation plugins.
    #[command(subcommand)]
    Plugin(PluginCommand),
    /// Check Knowledge Base articles.
    #[command(subcommand)]
    Docs(DocsCommand),
    /// Run the embedded emulator of a CenturyLink Cloud test account.
    #[command(subcommand)]
    Emulator(EmulatorCommand),
}

/// `certify emulator ...`
#[derive(Debug, Subcommand)]
pub enum EmulatorCommand {
    /// Serve an emulated test account (API v2 and the v1 Blueprint API) until Ctrl-C;
    /// prints its URL and credentials at start.
    Serve(EmulatorServeArgs),
}

/// How the emulator runs packages.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Execution {
    /// Validate, time and record packages in the build log; nothing runs.
    Simulated,
    /// Run Linux script packages as local processes, each server on its own
    /// loopback address (not a security boundary: they run as your user).
    Local,
}

/// `certify emulator serve`
#[derive(Debug, Args)]
pub struct EmulatorServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8787")]
    pub addr: std::net::SocketAddr,
    /// Keep the account's state (servers, charges, clock) across restarts, in
    /// DIR/emulator: the place `certify run --state DIR` keeps its embedded emulator's.
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,
    /// How much faster the account clock runs than real time.
    #[arg(long, value_name = "N", default_value_t = 60.0)]
    pub clock_scale: f64,
    /// Inject faults, reproducibly from a seed, e.g. `seed=7,5xx=0.2,latency=10ms..200ms,drop=0.05,fail-package=NAME`.
    #[arg(long, value_name = "SPEC")]
    pub faults: Option<String>,
    /// How packages are executed: `local` (as `certify run`'s embedded emulator does, so
    /// that a deployed product can really be reached and checked) or `simulated`.
    #[arg(long, value_enum, default_value_t = Execution::Local)]
    pub execution: Execution,
}

/// `certify docs ...`
#[derive(Debug, Subcommand)]
pub enum DocsCommand {
    /// Run the structure and content checks on articles, without deploying.
    Check(DocsCheckArgs),
}

/// `certify docs check`
#[derive(Debug, Args)]
pub struct DocsCheckArgs {
    /// Candidate bundles (checked with their own blueprint, packages and
    /// support contacts), articles, or directories searched for *.md articles
    /// (README.md excluded).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Write the report to this directory: junit.xml, report.json and summary.html.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Write the JUnit XML report here (also with --out).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Write the JSON report here (also with --out).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
}

/// `certify run`
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The candidate bundle: a directory with candidate.toml.
    pub bundle: PathBuf,
    /// The test account's API endpoint; the embedded emulator when absent.
    /// Credentials come from CLC_USERNAME and CLC_PASSWORD.
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// The account alias (with --endpoint; the login's alias by default).
    #[arg(long, value_name = "ALIAS")]
    pub account: Option<String>,
    /// Where the report goes.
    #[arg(long, value_name = "DIR", default_value = "certify-report")]
    pub out: PathBuf,
    /// The directory of the harness's state: the credit ledger and run journal
    /// (state.db) and the embedded emulator's account (emulator/) [default: beside
    /// $CERTIFY_STATE_DB, $XDG_STATE_HOME/certify/state.db or ~/.local/state/certify/state.db].
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,
    /// Keep the credit ledger and the run journal in this PostgreSQL database
    /// (postgres://USER:PASSWORD@HOST:PORT/DB), shared by every machine that certifies on
    /// the account, instead of the state file.
    #[arg(
        long,
        value_name = "URL",
        env = "CERTIFY_LEDGER_URL",
        hide_env_values = true
    )]
    pub ledger: Option<String>,
    /// The certification suite: a shipped one by name (silver, gold, platinum) or a suite file.
    #[arg(long, value_name = "NAME|FILE", default_value = "silver")]
    pub suite: String,
    /// How much faster than real time the embedded emulator's account clock runs.
    #[arg(long, value_name = "N", default_value_t = 60.0)]
    pub clock_scale: f64,
    /// Inject faults into the embedded emulator (see `certify emulator serve --help`),
    /// to see the harness keep its guarantees when the account misbehaves.
    #[arg(long, value_name = "SPEC", conflicts_with = "endpoint")]
    pub faults: Option<String>,
    /// Run the candidate's package scripts, KB steps and plugin build as your own user,
    /// outside the sandbox (only where it cannot work; the report says so prominently).
    #[arg(long)]
    pub unsandboxed: bool,
    /// Let the embedded emulator's servers and the KB steps reach public internet
    /// addresses, through a proxy of the harness that refuses loopback, private and
    /// link-local destinations (off by default: the run network has no way out). The
    /// report records it, with every destination asked for.
    #[arg(long, conflicts_with_all = ["endpoint", "unsandboxed"])]
    pub allow_internet: bool,
    /// Supply the bundle's `{ integrator = true }` secret NAME from your environment
    /// variable VARIABLE (repeatable). A bundle can never name a variable itself.
    #[arg(long = "secret", value_name = "NAME=VARIABLE")]
    pub secrets: Vec<String>,
    /// Refuse a bundle whose plugin is a Cargo project: only a built `.wasm` is run
    /// (otherwise the project is built offline, in the sandbox).
    #[arg(long)]
    pub wasm_only: bool,
    /// The candidate's program tier, from the integrator's records: with the suite's
    /// [credit] (the lower of the two) it sets the month's credit. The bundle's own
    /// `tier` is only a claim, which the report compares.
    #[arg(long, value_parser = tier_parser(), default_value_t = Tier::CANDIDATE)]
    pub tier: Tier,
    /// The first day of the candidate's program (YYYY-MM-DD), from the integrator's
    /// records: the report counts the program's days from it. The bundle's own
    /// `program_start` is only a claim.
    #[arg(long, value_name = "DATE")]
    pub program_start: Option<chrono::NaiveDate>,
    /// How long teardown may wait on the account (e.g. 10m, 30s); when it runs out
    /// the run exits 3 with its report, and `certify cleanup` finishes the job.
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = parse_duration)]
    pub teardown_timeout: std::time::Duration,
    /// Sign the run's attestation with this Ed25519 private key (PKCS#8 PEM, from
    /// `certify key generate`), writing attestation.dsse.json. Without it, the PEM in
    /// the environment variable CERTIFY_SIGN_KEY (for CI secrets) signs, if set.
    #[arg(long, value_name = "FILE")]
    pub sign_key: Option<PathBuf>,
}

/// `certify key ...`
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Write a new key pair: NAME.key (the private key, PKCS#8 PEM, mode 0600) and
    /// NAME.pub (the public key, SPKI PEM). Never overwrites a file.
    Generate(KeyGenerateArgs),
}

/// `certify key generate`
#[derive(Debug, Args)]
pub struct KeyGenerateArgs {
    /// The files' name without extension, e.g. `ci` or `keys/integrator`.
    pub name: PathBuf,
}

/// `certify plan`
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The candidate bundle: a directory with candidate.toml.
    pub bundle: PathBuf,
    /// The certification suite: a shipped one by name (silver, gold, platinum) or a suite file.
    #[arg(long, value_name = "NAME|FILE", default_value = "silver")]
    pub suite: String,
    /// The account whose month-to-date the local ledger is read for (the embedded emulator's is CERT).
    #[arg(long, value_name = "ALIAS", default_value = "CERT")]
    pub account: String,
    /// The candidate's program tier, from the integrator's records, as `certify run
    /// --tier` takes it: with the suite's [credit] it sets the credit the plan checks
    /// the estimate against. The bundle's own `tier` is only a claim.
    #[arg(long, value_parser = tier_parser(), default_value_t = Tier::CANDIDATE)]
    pub tier: Tier,
    /// The harness's state directory, whose credit ledger is read if it exists
    /// [default: as for `certify run`].
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `certify new`
#[derive(Debug, Args)]
pub struct NewArgs {
    /// The directory to create the bundle in (must not exist, or be empty).
    pub dir: PathBuf,
    /// The product's name.
    #[arg(long, value_name = "NAME", default_value = "Example Product")]
    pub product: String,
    /// The company's name.
    #[arg(long, value_name = "NAME", default_value = "Example Company Inc.")]
    pub company: String,
}

/// `90s`, `10m`, `1h`, `250ms`.
fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let s = s.trim();
    let (n, unit) = s
        .find(|c: char| !c.is_ascii_digit())
        .map_or((s, "s"), |i| s.split_at(i));
    let n: u64 = n
        .parse()
        .map_err(|_| format!("{s:?} is not a duration such as 30s or 10m"))?;
    let secs = match unit {
        "ms" => return Ok(std::time::Duration::from_millis(n)),
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        _ => return Err(format!("{s:?}: use ms, s, m or h")),
    };
    Ok(std::time::Duration::from_secs(secs))
}

/// `certify report ...`
#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Recompute every digest the report's attestation binds and name what changed;
    /// with --bundle, also check the bundle's files are the ones certified.
    /// junit.xml and summary.html must be exactly what report.json renders to. With
    /// --key, one of these keys must have signed the attestation
    /// (attestation.dsse.json); without --key nothing vouches for the report.
    ///
    /// Exit 0 when everything matches, 1 when something changed or the signature
    /// does not verify.
    Verify(VerifyArgs),
    /// Compare two reports of the same bundle (a candidate's CI run and a re-run):
    /// inputs, suite and harness, the verdict, and every check's outcome side by side
    /// with time-to-value and the credit used.
    ///
    /// Exit 0 when they agree, 1 when anything differs (every difference named,
    /// checks that passed in A but not in B first).
    Diff(DiffArgs),
}

/// `certify report diff`
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// Report A: an output directory (or its report.json).
    pub a: PathBuf,
    /// Report B.
    pub b: PathBuf,
    /// Print the comparison as JSON (format certify-report-diff/1).
    #[arg(long)]
    pub json: bool,
}

/// `certify report verify`
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The report directory (holding attestation.json).
    pub out_dir: PathBuf,
    /// The candidate bundle the report certified.
    #[arg(long, value_name = "DIR")]
    pub bundle: Option<PathBuf>,
    /// A public key (SPKI PEM, NAME.pub) whose signature is accepted; repeatable.
    /// An unsigned report, or one signed by another key, fails.
    #[arg(long = "key", value_name = "PUB")]
    pub keys: Vec<PathBuf>,
    /// The sha256 of a released harness build; repeatable. The report must have been
    /// made by one of them.
    #[arg(long = "harness-sha256", value_name = "HEX")]
    pub harness_sha256: Vec<String>,
    /// A file of released harness sha256s, one per line (`sha256sum` output works;
    /// `#` starts a comment). Adds to --harness-sha256.
    #[arg(long, value_name = "FILE")]
    pub harness_releases: Option<PathBuf>,
}

/// `certify suites ...`
#[derive(Debug, Subcommand)]
pub enum SuitesCommand {
    /// The shipped suites.
    List,
    /// Print a suite file.
    Show(SuitesShowArgs),
}

/// `certify suites show`
#[derive(Debug, Args)]
pub struct SuitesShowArgs {
    /// A shipped suite's name, or a suite file.
    pub suite: String,
}

/// `certify budget`
#[derive(Debug, Args)]
pub struct BudgetArgs {
    /// The account alias (the embedded emulator's is CERT).
    #[arg(long, default_value = "CERT")]
    pub account: String,
    /// The account's tier, which sets its monthly credit.
    #[arg(long, value_parser = tier_parser(), default_value_t = Tier::CANDIDATE)]
    pub tier: Tier,
    /// How many history entries to show.
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    /// The directory of the harness's state (as `certify run --state DIR`).
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,
    /// Keep the credit ledger and the run journal in this PostgreSQL database
    /// (postgres://USER:PASSWORD@HOST:PORT/DB), shared by every machine that certifies on
    /// the account, instead of the state file.
    #[arg(
        long,
        value_name = "URL",
        env = "CERTIFY_LEDGER_URL",
        hide_env_values = true
    )]
    pub ledger: Option<String>,
}

/// `--tier`: the program's tiers by name, each listed with its monthly credit.
fn tier_parser() -> impl TypedValueParser<Value = Tier> {
    PossibleValuesParser::new(Tier::ALL.map(|tier| {
        let credit = tier.monthly_credit().to_string();
        let credit = credit.trim_end_matches(".00");
        let help = if tier == Tier::CANDIDATE {
            format!("{credit} a month (every candidate)")
        } else {
            format!("{credit} a month")
        };
        PossibleValue::new(tier.as_str()).help(help)
    }))
    .map(|name| Tier::from_name(&name).expect("every possible value is a tier's name"))
}

/// `certify cleanup`
#[derive(Debug, Args)]
pub struct CleanupArgs {
    /// Tear down this run's leftovers (it must not be running).
    #[arg(long, value_name = "ID", conflicts_with = "stale")]
    pub run: Option<String>,
    /// Tear down the leftovers of every run on the account whose process is gone, or, with
    /// --ledger, whose lease ran out on whichever machine it ran (the default).
    #[arg(long)]
    pub stale: bool,
    /// The test account's API endpoint; the embedded emulator's account when absent.
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// The account alias (with --endpoint).
    #[arg(long, value_name = "ALIAS")]
    pub account: Option<String>,
    /// The directory of the harness's state (as `certify run --state DIR`).
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,
    /// Keep the credit ledger and the run journal in this PostgreSQL database
    /// (postgres://USER:PASSWORD@HOST:PORT/DB), shared by every machine that certifies on
    /// the account, instead of the state file.
    #[arg(
        long,
        value_name = "URL",
        env = "CERTIFY_LEDGER_URL",
        hide_env_values = true
    )]
    pub ledger: Option<String>,
}

/// `certify plugin ...`
#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Show a plugin's metadata, checks, imports and sha256.
    Inspect(InspectArgs),
    /// Run a plugin's checks in the sandbox and write the report.
    Run(Box<PluginRunArgs>),
}

/// `certify plugin inspect`
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The plugin: a .wasm component, or a Cargo project to build for wasm32-wasip2.
    pub wasm: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `certify plugin run`
#[derive(Debug, Args)]
pub struct PluginRunArgs {
    /// The plugin: a .wasm component, a Cargo project to build for wasm32-wasip2, or a
    /// candidate bundle (its plugin, with its [plugin.parameters]; --param overrides).
    pub wasm: PathBuf,
    /// Run only this check (repeatable); all checks by default.
    #[arg(long = "check", value_name = "ID")]
    pub checks: Vec<String>,
    /// Let plugins reach this address over HTTP: host or host:port (repeatable).
    #[arg(long = "allow-host", value_name = "HOST[:PORT]")]
    pub allow_hosts: Vec<String>,
    /// A parameter for the plugin (repeatable).
    #[arg(long = "param", value_name = "NAME=VALUE", value_parser = parse_pair)]
    pub params: Vec<(String, String)>,
    /// A fact about the candidate the plugin can read (repeatable).
    #[arg(long = "fact", value_name = "NAME=VALUE", value_parser = parse_pair)]
    pub facts: Vec<(String, String)>,
    /// Refuse the plugin unless its sha256 is this.
    #[arg(long, value_name = "HEX")]
    pub sha256: Option<String>,
    /// Write the report to this directory: junit.xml, report.json, summary.html, and
    /// the checks' evidence under evidence/.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Write the JUnit XML report here (evidence goes to evidence/ beside it, unless
    /// --out is given).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Write the JSON report here.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// How many checks run at once [default: number of cores].
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// Limits on every check.
#[derive(Debug, Args)]
pub struct LimitArgs {
    /// Wall-clock limit per check, in seconds (a check may ask for less).
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub timeout: u64,
    /// Memory limit per check, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 128)]
    pub memory: usize,
}

fn parse_pair(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(format!("`{s}` is not NAME=VALUE")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        use clap::CommandFactory as _;
        Cli::command().debug_assert();
    }

    #[test]
    fn pairs_need_a_name() {
        assert_eq!(parse_pair("a=b=c").unwrap(), ("a".into(), "b=c".into()));
        assert!(parse_pair("=x").is_err());
        assert!(parse_pair("novalue").is_err());
    }
}
