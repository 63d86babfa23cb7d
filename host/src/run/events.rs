//! What a run's phases report as they go, and the one collector that turns it into
//! the run's record ([`Findings`], which the report is written from) and the live
//! terminal view ([`View`]).
//!
//! The phases hold an [`Events`] and emit; none of them writes the record or the
//! terminal itself. The work task is aborted when a signal, the watchdog or the run
//! time limit stops it, and the record then holds every event that reached the
//! collector before: what the interrupted run's report says.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use certify_clc::model::Server;
use certify_ledger::Money;
use certify_runtime::{CheckInfo, CheckRun};

use super::view::View;
use super::{Findings, deploy};

/// Something a phase of the run found or did.
pub enum Event {
    /// A new phase begins: the terminal's live line.
    Phase(String),
    /// A line for the terminal that the record does not keep (the run's set-up, a
    /// refusal, a reaped run, a teardown note).
    Said(String),
    /// The packages and the blueprint were published, or why not.
    Published(Result<deploy::Published, String>),
    /// The run's group was created.
    GroupCreated(String),
    /// The blueprint's deployment ended (well or not).
    Deployed(deploy::Deployed),
    /// The deployment's servers, their build logs and how each package task ended.
    Servers {
        /// Each server with its blueprint role.
        servers: Vec<(String, Server)>,
        /// Build logs by server name.
        build_logs: Vec<(String, String)>,
        /// Per package task: name, server role, and how it ended.
        packages: Vec<(String, String, Result<(), String>)>,
    },
    /// The readiness check passed after `attempts`, `time_to_value` (account time)
    /// from the deployment request.
    Ready {
        /// Account time from the request to the first passing readiness check.
        time_to_value: Duration,
        /// Readiness checks made.
        attempts: u32,
    },
    /// Time-to-value could not be measured, and why.
    NotReady {
        /// Readiness checks made.
        attempts: u32,
        /// Why.
        why: String,
    },
    /// A plugin check finished.
    CheckFinished(CheckRun),
    /// Every plugin check has run.
    ChecksDone(Vec<(CheckInfo, CheckRun)>),
    /// Every article's steps have run.
    StepsDone(Vec<(PathBuf, Result<certify_kb::ArticleRun, String>)>),
    /// The run's group's accrued charge, as the account's billing last said.
    Accrued(Money),
}

/// The collector: cheap to clone, shared by the phases and the work task.
#[derive(Clone)]
pub struct Events {
    record: Arc<Mutex<Findings>>,
    view: View,
}

impl Events {
    /// A collector with an empty record, showing on `view`.
    pub fn new(view: View) -> Events {
        Events {
            record: Arc::new(Mutex::new(Findings::default())),
            view,
        }
    }

    /// Records what a phase found and shows what the terminal shows of it.
    pub fn emit(&self, event: Event) {
        match event {
            Event::Phase(what) => self.view.phase(&what),
            Event::Said(line) => self.view.line(&line),
            Event::Published(p) => self.record().published = Some(p),
            Event::GroupCreated(id) => self.record().group_id = Some(id),
            Event::Deployed(d) => self.record().deployed = Some(d),
            Event::Servers {
                servers,
                build_logs,
                packages,
            } => {
                let line = match self.record().deployed.as_ref().map(|d| &d.result) {
                    Some(Err(e)) => format!("the deployment failed: {e}"),
                    _ => format!("deployed: {} server(s)", servers.len()),
                };
                let mut r = self.record();
                r.servers = servers;
                r.build_logs = build_logs;
                r.packages = packages;
                drop(r);
                self.view.line(&line);
            }
            Event::Ready {
                time_to_value,
                attempts,
            } => {
                let mut r = self.record();
                r.time_to_value = Some(time_to_value);
                r.readiness_attempts = attempts;
            }
            Event::NotReady { attempts, why } => {
                let mut r = self.record();
                r.readiness_attempts = attempts;
                r.readiness_failure = Some(why);
            }
            Event::CheckFinished(run) => self
                .view
                .line(&format!("  {}", crate::report::terminal::line(&run))),
            Event::ChecksDone(runs) => self.record().checks = runs,
            Event::StepsDone(steps) => self.record().steps = steps,
            Event::Accrued(money) => self.record().accrued = Some(money),
        }
    }

    /// A new phase begins.
    pub fn phase(&self, what: &str) {
        self.emit(Event::Phase(what.to_string()));
    }

    /// A line for the terminal.
    pub fn say(&self, line: &str) {
        self.emit(Event::Said(line.to_string()));
    }

    /// The run's group, once created.
    pub fn group_id(&self) -> Option<String> {
        self.record().group_id.clone()
    }

    /// The record so far, leaving an empty one: for the report.
    pub fn take_record(&self) -> Findings {
        std::mem::take(&mut *self.record())
    }

    /// The terminal view, to clear its live line or show a line from a signal
    /// watcher.
    pub fn view(&self) -> &View {
        &self.view
    }

    fn record(&self) -> MutexGuard<'_, Findings> {
        // A panic while holding the lock cannot leave the record half-written (every
        // update is one assignment), so a poisoned lock is still good to read.
        self.record.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events() -> Events {
        Events::new(View::plain())
    }

    #[test]
    fn the_record_keeps_what_the_phases_found() {
        let e = events();
        e.emit(Event::GroupCreated("g1".into()));
        e.emit(Event::Ready {
            time_to_value: Duration::from_secs(300),
            attempts: 4,
        });
        e.emit(Event::Accrued(Money::from_dollars(1)));
        e.say("a line the record does not keep");
        assert_eq!(e.group_id().as_deref(), Some("g1"));
        let r = e.take_record();
        assert_eq!(r.time_to_value, Some(Duration::from_secs(300)));
        assert_eq!(r.readiness_attempts, 4);
        assert_eq!(r.accrued, Some(Money::from_dollars(1)));
        assert!(r.readiness_failure.is_none());
        // Taken: the collector starts again from nothing.
        assert!(e.group_id().is_none());
    }

    #[test]
    fn a_clone_shares_the_record() {
        let e = events();
        let worker = e.clone();
        worker.emit(Event::NotReady {
            attempts: 2,
            why: "no readiness check".into(),
        });
        drop(worker);
        let r = e.take_record();
        assert_eq!(r.readiness_attempts, 2);
        assert_eq!(r.readiness_failure.as_deref(), Some("no readiness check"));
    }
}
