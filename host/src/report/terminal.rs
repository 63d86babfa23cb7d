//! The terminal view: one line per finished check while the run goes on,
//! then a summary. Plain lines, so that CI logs read as well as terminals.

use std::io::Write;

use certify_runtime::{CheckRun, Status};

use super::model::Report;
use crate::runner::Event;

/// Prints events and the summary to a writer (stdout by default).
pub struct Terminal<W: Write> {
    out: W,
}

impl Terminal<std::io::Stdout> {
    /// A terminal reporter on stdout.
    pub fn stdout() -> Self {
        Terminal {
            out: std::io::stdout(),
        }
    }
}

impl<W: Write> Terminal<W> {
    /// A terminal reporter on any writer.
    pub fn new(out: W) -> Self {
        Terminal { out }
    }

    /// A line of context before the checks.
    pub fn note(&mut self, line: &str) {
        let _ = writeln!(self.out, "{line}");
    }

    /// React to a runner event.
    pub fn event(&mut self, event: &Event<'_>) {
        if let Event::CheckFinished { run, .. } = event {
            let _ = writeln!(self.out, "{}", line(run));
        }
    }

    /// The closing summary.
    pub fn summary(&mut self, report: &Report) {
        let c = report.counts;
        let _ = writeln!(
            self.out,
            "\n{} checks: {} passed, {} failed, {} errors, {} skipped ({:.2}s)",
            c.tests, c.passed, c.failures, c.errors, c.skipped, report.duration
        );
        let _ = self.out.flush();
    }
}

/// One line for a finished check.
pub fn line(run: &CheckRun) -> String {
    let secs = run.duration.as_secs_f64();
    match &run.status {
        Status::Passed => format!("PASS  {} ({secs:.3}s)", run.check_id),
        Status::Failed { message } => format!("FAIL  {} ({secs:.3}s): {message}", run.check_id),
        Status::Skipped { reason } => format!("SKIP  {}: {reason}", run.check_id),
        Status::Error { kind, message } => format!(
            "ERROR {} ({secs:.3}s) [{}]: {message}",
            run.check_id,
            kind.as_str()
        ),
    }
}
