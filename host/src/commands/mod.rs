//! One module per verb. Each turns parsed arguments into work, prints what
//! the user asked for, and returns an [`Outcome`](crate::Outcome).

pub mod docs;
pub mod emulator;
pub mod new;
pub mod plan;
pub mod plugin;
pub mod review;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use certify_runtime::{Limits, Runtime, RuntimeConfig};

use crate::cli::{
    Cli, Command, DocsCommand, EmulatorCommand, GlobalArgs, KeyCommand, LimitArgs, PluginCommand,
    ReportCommand, SuitesCommand,
};
use crate::{Error, Outcome};

/// Run the command the user asked for.
pub async fn dispatch(cli: Cli) -> Result<Outcome, Error> {
    match cli.command {
        Command::Run(args) => crate::run::execute(&cli.global, args).await,
        Command::Plan(args) => plan::plan(&cli.global, args).await,
        Command::New(args) => new::new(args),
        Command::Report(ReportCommand::Verify(args)) => review::verify(args),
        Command::Report(ReportCommand::Diff(args)) => review::diff(args),
        Command::Key(KeyCommand::Generate(args)) => review::key_generate(args),
        Command::Suites(SuitesCommand::List) => review::suites_list(),
        Command::Suites(SuitesCommand::Show(args)) => review::suites_show(args),
        Command::Budget(args) => review::budget(args),
        Command::Cleanup(args) => review::cleanup(args).await,
        Command::Plugin(PluginCommand::Inspect(args)) => plugin::inspect(&cli.global, args).await,
        Command::Plugin(PluginCommand::Run(args)) => plugin::run(&cli.global, *args).await,
        Command::Docs(DocsCommand::Check(args)) => docs::check(args).await,
        Command::Emulator(EmulatorCommand::Serve(args)) => emulator::serve(args).await,
    }
}

/// The plugin runtime for this process, with the cache and limits the user chose.
pub fn runtime(global: &GlobalArgs, limits: Option<&LimitArgs>) -> Result<Arc<Runtime>, Error> {
    let mut config = RuntimeConfig {
        limits: Limits::default(),
        cache_dir: if global.no_cache {
            None
        } else {
            Some(cache_root(global).join("compiled"))
        },
    };
    if let Some(l) = limits {
        if l.timeout == 0 || l.memory == 0 {
            return Err(Error::Usage(
                "--timeout and --memory must be greater than zero".into(),
            ));
        }
        config.limits.check_timeout = Duration::from_secs(l.timeout);
        config.limits.memory = l.memory << 20;
    }
    Runtime::new(config).map_err(Error::Other)
}

/// The harness's cache directory.
pub fn cache_root(global: &GlobalArgs) -> PathBuf {
    global.cache_dir.clone().unwrap_or_else(|| {
        std::env::var_os("XDG_CACHE_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
            .unwrap_or_else(std::env::temp_dir)
            .join("certify")
    })
}
