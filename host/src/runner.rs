//! Runs a plugin's checks on the runtime and emits [`Event`]s as they go.
//! Checks of one plugin run concurrently up to a limit; results come back in
//! the plugin's declared order whatever order they finished in. The runner
//! never prints: reporters turn its events into the terminal view and the
//! report files.

use std::sync::Arc;

use certify_runtime::{CheckInfo, CheckRun, Criterion, ErrorKind, Grants, Plugin, Status};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// What happens during a run, in order.
#[derive(Debug)]
pub enum Event<'a> {
    /// A check started.
    CheckStarted {
        /// The check.
        check: &'a CheckInfo,
    },
    /// A check finished, with its result.
    CheckFinished {
        /// The check.
        check: &'a CheckInfo,
        /// What happened.
        run: &'a CheckRun,
    },
}

/// Run `ids` (all of the plugin's checks when empty) with at most
/// `concurrency` at once, emitting events. Returns the checks and their runs
/// in the plugin's order (or the order of `ids`).
pub async fn run_checks(
    plugin: &Arc<Plugin>,
    ids: &[String],
    grants: Arc<Grants>,
    concurrency: usize,
    mut emit: impl FnMut(Event<'_>),
) -> Vec<(CheckInfo, CheckRun)> {
    let selected: Vec<CheckInfo> = if ids.is_empty() {
        plugin.info().checks.clone()
    } else {
        ids.iter()
            .map(|id| {
                plugin
                    .info()
                    .checks
                    .iter()
                    .find(|c| &c.id == id)
                    .cloned()
                    .unwrap_or_else(|| {
                        placeholder_check(id, &format!("{id} (not declared by the plugin)"))
                    })
            })
            .collect()
    };

    let mut results: Vec<Option<CheckRun>> = vec![None; selected.len()];
    let mut finish = |i: usize, run: CheckRun, emit: &mut dyn FnMut(Event<'_>)| {
        emit(Event::CheckFinished {
            check: &selected[i],
            run: &run,
        });
        results[i] = Some(run);
    };

    let permits = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut tasks = JoinSet::new();
    for (index, check) in selected.iter().enumerate() {
        let permit = permits
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        // Report what finished while we waited for a permit.
        while let Some(done) = tasks.try_join_next() {
            let (i, run) = done.expect("check tasks do not panic");
            finish(i, run, &mut emit);
        }
        emit(Event::CheckStarted { check });
        let plugin = plugin.clone();
        let grants = grants.clone();
        let id = check.id.clone();
        tasks.spawn(async move {
            let run = plugin.run_check(&id, 1, grants).await;
            drop(permit);
            (index, run)
        });
    }
    while let Some(done) = tasks.join_next().await {
        let (i, run) = done.expect("check tasks do not panic");
        finish(i, run, &mut emit);
    }
    selected
        .iter()
        .cloned()
        .zip(results)
        .map(|(check, run)| (check, run.expect("every check ran")))
        .collect()
}

/// A description for a check the plugin did not describe (an id it does not
/// declare, or any check of a plugin that could not be loaded).
pub fn placeholder_check(id: &str, title: &str) -> CheckInfo {
    CheckInfo {
        id: id.to_string(),
        title: title.to_string(),
        criterion: Criterion::PerformsAsAdvertised,
        description: String::new(),
        remediation: None,
        timeout: None,
        readiness: false,
    }
}

/// The result every check of a plugin that could not be loaded gets.
pub fn load_failure(id: &str, message: &str) -> CheckRun {
    CheckRun {
        check_id: id.to_string(),
        attempt: 1,
        status: Status::error(ErrorKind::LoadFailed, message),
        evidence: Vec::new(),
        measurements: Vec::new(),
        log: String::new(),
        stdio: String::new(),
        duration: std::time::Duration::ZERO,
    }
}
