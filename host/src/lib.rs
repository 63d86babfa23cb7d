//! The ecosystem certification harness.
//!
//! - [`build`]: building a plugin's Cargo project for `wasm32-wasip2`.
//! - [`build_copy`]: building it from a bundle's snapshot, in a private copy.
//! - [`cli`]: the command line (clap types only).
//! - [`commands`]: one module per verb; each turns arguments into work and an [`Outcome`].
//! - [`run`]: `certify run`, a whole certification: deploy, check, tear down, report.
//! - [`services`]: what the verbs share: the runtime, the cache and state paths, the
//!   ledger and journal, the test account, the signing key, the sandbox.
//! - [`runner`]: runs a plugin's checks on the runtime, with bounded
//!   concurrency, and emits [`runner::Event`]s; it never prints.
//! - [`report`]: the report model and its writers (terminal, JUnit, JSON).
//! - [`error`]: the harness's own errors and the one mapping to exit codes.
//!
//! The plugin sandbox itself is the `certify-runtime` crate.

pub mod build;
pub mod build_copy;
pub mod cli;
pub mod commands;
pub mod error;
pub mod report;
pub mod run;
pub mod runner;
pub mod sandboxed_build;
pub mod services;

pub use error::{Error, Outcome};

/// The harness version, recorded in every report.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Run the command line and map the result to the process exit code.
pub fn main(cli: cli::Cli) -> std::process::ExitCode {
    error::init_tracing(cli.global.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return error::exit(Err(Error::Io("starting the async runtime".into(), e))),
    };
    error::exit(runtime.block_on(commands::dispatch(cli)))
}
