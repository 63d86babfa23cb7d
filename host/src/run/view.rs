//! What a run shows while it goes: its phases, the checks and steps as they
//! finish, and the closing summary. On a terminal the current phase is a
//! live line with a spinner and the time it has taken (a deployment's
//! progress); otherwise, as in CI logs, every update is a plain line.

use std::io::IsTerminal as _;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// The run's view; cheap to clone and shared with the task doing the work.
#[derive(Clone)]
pub struct View {
    live: Option<ProgressBar>,
}

impl View {
    /// A live view when stdout is a terminal, plain lines otherwise.
    pub fn new() -> View {
        let live = std::io::stdout().is_terminal().then(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
                    .expect("a valid template"),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        View { live }
    }

    /// Plain lines whatever stdout is.
    #[cfg(test)]
    pub fn plain() -> View {
        View { live: None }
    }

    /// A new phase of the run (publishing, deploying, checking, tearing down).
    pub fn phase(&self, what: &str) {
        // Names and messages from the bundle reach the terminal: no control sequences.
        let what = certify_runtime::text::strip_controls(what);
        let what = what.as_str();
        match &self.live {
            Some(bar) => {
                bar.reset_elapsed();
                bar.set_message(what.to_string());
            }
            None => println!("{what}"),
        }
    }

    /// A line that stays: a finished check, a refusal, a reaped run.
    pub fn line(&self, text: &str) {
        let text = certify_runtime::text::strip_controls(text);
        let text = text.as_str();
        match &self.live {
            Some(bar) => bar.println(text),
            None => println!("{text}"),
        }
    }

    /// The run is over: clear the live line.
    pub fn finish(&self) {
        if let Some(bar) = &self.live {
            bar.finish_and_clear();
        }
    }
}
