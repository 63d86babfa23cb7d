//! One module per verb. Each turns parsed arguments into work, prints what
//! the user asked for, and returns an [`Outcome`](crate::Outcome).

pub mod docs;
pub mod emulator;
pub mod new;
pub mod plan;
pub mod plugin;
pub mod review;

use crate::cli::{
    Cli, Command, DocsCommand, EmulatorCommand, KeyCommand, PluginCommand, ReportCommand,
    SuitesCommand,
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
