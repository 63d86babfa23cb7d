//! The harness's own errors, and the one place that maps results to exit codes.
//!
//! A check that fails is not an error: it is data in the report, and the
//! command's [`Outcome`] says whether everything passed. [`Error`] means the
//! harness itself could not do its job (bad arguments, unreadable input,
//! a report it could not write).

use std::process::ExitCode;

/// How a command that did its job ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything checked passed (skips allowed); for a run: certified.
    Passed,
    /// Some check failed or could not run; the report says which.
    Failed,
    /// A run could not verify that everything it created was deleted.
    TeardownIncomplete,
}

/// The harness could not do its job. Messages say what to do.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a file, or another I/O step, failed.
    #[error("{0}: {1}")]
    Io(String, #[source] std::io::Error),
    /// The command line or an input is not usable.
    #[error("{0}")]
    Usage(String),
    /// Anything else that stopped the harness.
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// Exit codes, as documented in the README.
pub mod codes {
    /// Every check passed.
    pub const PASSED: u8 = 0;
    /// Some check failed or could not run.
    pub const FAILED: u8 = 1;
    /// The harness could not do its job.
    pub const HARNESS_ERROR: u8 = 2;
    /// A run's teardown is incomplete: something may be left on the account.
    pub const TEARDOWN_INCOMPLETE: u8 = 3;
}

/// Map a command's result to the process exit code, printing the error once.
pub fn exit(result: Result<Outcome, Error>) -> ExitCode {
    match result {
        Ok(Outcome::Passed) => ExitCode::from(codes::PASSED),
        Ok(Outcome::Failed) => ExitCode::from(codes::FAILED),
        Ok(Outcome::TeardownIncomplete) => ExitCode::from(codes::TEARDOWN_INCOMPLETE),
        Err(e) => {
            let mut message = format!("error: {e}");
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                message.push_str(&format!("\n  caused by: {s}"));
                source = s.source();
            }
            eprintln!("{message}");
            ExitCode::from(codes::HARNESS_ERROR)
        }
    }
}

/// Diagnostics go to stderr; `-v` shows the harness's own progress, `-vv` more.
pub fn init_tracing(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("CERTIFY_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .without_time()
        .try_init();
}
