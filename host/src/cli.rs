//! The command line: clap types only. What the commands do is in [`crate::commands`].

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Certify technology partners' products for the Marketplace: run their
/// WebAssembly validation plugins in a sandbox and write JUnit reports.
///
/// Exit codes: 0 every check passed; 1 some check failed or could not run;
/// 2 the harness itself could not do its job.
#[derive(Debug, Parser)]
#[command(name = "certify", version, max_term_width = 100)]
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
    #[arg(long, global = true, env = "CERTIFY_CACHE_DIR", value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Compile plugins every time instead of using the compiled-plugin cache.
    #[arg(long, global = true)]
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
    /// Keep the account's state (servers, charges, clock) in this directory across restarts.
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,
    /// How much faster the account clock runs than real time.
    #[arg(long, value_name = "N", default_value_t = 60.0)]
    pub clock_scale: f64,
    /// Inject faults, reproducibly from a seed, e.g. `seed=7,5xx=0.2,latency=10ms..200ms,drop=0.05,fail-package=NAME`.
    #[arg(long, value_name = "SPEC")]
    pub faults: Option<String>,
    /// How packages are executed.
    #[arg(long, value_enum, default_value_t = Execution::Simulated)]
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
    /// Articles, or directories searched for *.md articles (README.md excluded).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Write the JUnit XML report here.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Write the JSON summary here.
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
    /// The harness's state database (credit ledger and run journal)
    /// [default: $CERTIFY_STATE_DB, $XDG_STATE_HOME/certify/state.db or ~/.local/state/certify/state.db].
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// How much faster than real time the embedded emulator's account clock runs.
    #[arg(long, value_name = "N", default_value_t = 60.0)]
    pub clock_scale: f64,
    /// The run's time limit in minutes: the credit is reserved for it, rounded up to billed hours.
    #[arg(long, value_name = "MIN", default_value_t = 60)]
    pub time_limit_minutes: u64,
    /// The time-to-value limit in minutes of account time (the Blueprint Engine's 20 by default).
    #[arg(long = "ttv-limit-minutes", value_name = "MIN", default_value_t = 20)]
    pub ttv_limit_minutes: u64,
}

/// `certify plugin ...`
#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Show a plugin's metadata, checks, imports and sha256.
    Inspect(InspectArgs),
    /// Run a plugin's checks in the sandbox and write the report.
    Run(PluginRunArgs),
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
    /// The plugin: a .wasm component, or a Cargo project to build for wasm32-wasip2.
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
    /// Write the JUnit XML report here.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Write the JSON summary here.
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
