//! The verdict: the suite's decision on the run's built-in checks (by check, from the
//! cases filed under each) and its plugin checks (by criterion), the causes the suite's
//! rules do not list, and the reasons cut down to their root causes.

use certify_program::{BuiltinCheck as B, case as case_id};
use certify_runtime::Status;

use super::{Cases, UNSANDBOXED, case, failed, portable};
use crate::report::model::{Case, Suite, Verdict};
use crate::run::Facts;
use crate::services::isolation::Internet;

/// What the run comes to.
pub(super) struct Decided {
    /// Whether the candidate is certified.
    pub certified: bool,
    /// Why (not), each root cause once.
    pub reasons: Vec<String>,
    /// The suite's decision, its warnings with the run's own.
    pub decision: certify_suite::Decision,
    /// The day of the program the run fell on, when the program's start is known.
    pub day: Option<i64>,
    /// Past the program's three months, when it is.
    pub program_warning: Option<String>,
}

/// Decide the run by the suite's rules.
pub(super) fn decide(facts: &Facts<'_>, cases: &Cases) -> Decided {
    let today = chrono::Utc::now().date_naive();
    // The program's day counts from the integrator's date, never the bundle's claim.
    let policy = facts.policy;
    let day = policy.program_day(today);
    let program_warning = day.filter(|d| *d > 90).map(|day| {
        format!(
            "day {day} of the program: past the three months a candidate has to integrate, validate and document (ended {})",
            policy.program_end().map_or_else(String::new, |d| d.to_string())
        )
    });
    let mut decision = suite_decision(facts, cases, today, program_warning.as_deref());
    if !facts.sandboxed {
        decision.warnings.insert(0, UNSANDBOXED.to_string());
    }
    if let Internet::Proxy(log) = &facts.internet {
        let listed = if log.omitted() == 0 {
            "listed".to_string()
        } else {
            format!("the first {} listed", certify_sandbox::egress::LOG_LIMIT)
        };
        decision.warnings.insert(
            0,
            format!(
                "internet allowed (--allow-internet): the servers and steps could reach public addresses through the harness's proxy; {} request(s), {} refused, {listed} in report.json",
                log.requests, log.refused
            ),
        );
    }
    // Causes the suite's rules do not list: the plugin that did not build or load, and
    // a run that did not run to its end.
    let mut causes = Vec::new();
    if let Err(e) = &facts.plugin {
        // Cargo's (or the sandbox's) own first error says what is wrong; the line
        // before it only says that building failed.
        let line = e
            .lines()
            .find_map(|l| l.trim().strip_prefix("error: "))
            .or_else(|| e.lines().next())
            .unwrap_or_default();
        causes.push(format!(
            "the validation plugin did not build or load: {}",
            portable(line, facts)
        ));
    }
    for why in [&facts.ending.interrupted, &facts.ending.harness_error]
        .into_iter()
        .flatten()
    {
        causes.push(format!("the run did not complete ({why})."));
    }
    let certified = decision.certified && causes.is_empty();
    let reasons = if certified {
        decision.reasons.clone()
    } else {
        root_causes(causes, &decision.reasons)
    };
    Decided {
        certified,
        reasons,
        decision,
        day,
        program_warning,
    }
}

/// The suite's decision on what the run found: built-in checks from the cases filed
/// under each, plugin checks by criterion.
fn suite_decision(
    facts: &Facts<'_>,
    cases: &Cases,
    today: chrono::NaiveDate,
    program_warning: Option<&str>,
) -> certify_suite::Decision {
    let mut results = certify_suite::Results::new(today);
    for check in B::ALL {
        let verdict = match check {
            B::ProgramWindow => match program_warning {
                Some(w) => certify_suite::Verdict::Failed(w.to_string()),
                None => certify_suite::Verdict::Passed,
            },
            _ => aggregate(&cases.of(check)),
        };
        results = results.builtin(check, verdict);
    }
    let results = facts
        .progress
        .checks
        .iter()
        .fold(results, |r, (check, run)| {
            let verdict = match &run.status {
                Status::Passed => certify_suite::Verdict::Passed,
                Status::Failed { message } => certify_suite::Verdict::Failed(message.clone()),
                Status::Skipped { reason } => certify_suite::Verdict::Skipped(reason.clone()),
                Status::Error { kind, message } => {
                    certify_suite::Verdict::Error(format!("{}: {message}", kind.as_str()))
                }
            };
            r.plugin(check.id.clone(), check.criterion, verdict)
        });
    facts.suite.decide(&results)
}

/// One verdict for several cases: any error, else any failure, else passed
/// when something passed, else skipped.
fn aggregate(cases: &[&Case]) -> certify_suite::Verdict {
    let first = |f: &dyn Fn(&Verdict) -> Option<String>| {
        cases
            .iter()
            .find_map(|c| f(&c.verdict).map(|m| format!("{}: {m}", c.id)))
    };
    if let Some(m) = first(&|v| match v {
        Verdict::Error { message, .. } => Some(message.clone()),
        _ => None,
    }) {
        return certify_suite::Verdict::Error(m);
    }
    if let Some(m) = first(&|v| match v {
        Verdict::Failed { message } => Some(message.clone()),
        _ => None,
    }) {
        return certify_suite::Verdict::Failed(m);
    }
    if cases.iter().any(|c| c.verdict == Verdict::Passed) {
        certify_suite::Verdict::Passed
    } else {
        certify_suite::Verdict::Skipped(
            cases
                .iter()
                .find_map(|c| match &c.verdict {
                    Verdict::Skipped { reason } => Some(reason.clone()),
                    _ => None,
                })
                .unwrap_or_else(|| "it did not run".into()),
        )
    }
}

/// The reasons a run is not certified, each root cause once: what stopped the run
/// early (the plugin, the documentation's structure, the credit, the deployment, an
/// interruption) stands for everything it kept from running, so the checks it
/// skipped, the criteria left without passing plugin checks and the steps that could
/// not reproduce are not listed again. The suite's "Not certified:" prefix is left
/// out: the verdict says it once.
fn root_causes(mut causes: Vec<String>, decision: &[String]) -> Vec<String> {
    let reasons: Vec<String> = decision
        .iter()
        .map(|r| r.strip_prefix("Not certified: ").unwrap_or(r).to_string())
        .collect();
    const ROOTS: [&str; 5] = [
        "bundle.valid ",
        "docs.structure ",
        "budget.reservation ",
        "blueprint.published ",
        "blueprint.deployed ",
    ];
    let (roots, rest): (Vec<String>, Vec<String>) = reasons
        .into_iter()
        .partition(|r| ROOTS.iter().any(|p| r.starts_with(p)) && !r.contains(" was skipped"));
    let stopped = !causes.is_empty() || !roots.is_empty();
    causes.extend(roots);
    let failing_plugin_check = |criterion: &str| {
        rest.iter()
            .any(|r| r.starts_with("plugin check ") && r.contains(&format!("({criterion})")))
    };
    for r in &rest {
        let consequence = if stopped {
            r.contains(" was skipped")
                || r.contains(" did not run")
                || r.contains(" needs at least ")
                || [
                    "blueprint.time-to-value ",
                    "blueprint.packages ",
                    "docs.steps ",
                ]
                .iter()
                .any(|p| r.starts_with(p))
        } else {
            r.split_once(" needs at least ")
                .is_some_and(|(criterion, _)| failing_plugin_check(criterion))
        };
        if !consequence {
            causes.push(r.clone());
        }
    }
    let mut seen = std::collections::HashSet::new();
    causes.retain(|c| seen.insert(c.clone()));
    causes
}

/// The suite that carries the verdict as a case, first in the report: CI test viewers
/// show a run that is not certified as failing even when every other case passed.
pub(super) fn verdict_suite(
    facts: &Facts<'_>,
    certified: bool,
    reasons: &[String],
    warnings: &[String],
) -> Suite {
    let title = format!(
        "{} is certified by the {} suite",
        facts.bundle.candidate.product,
        facts.suite.label()
    );
    let mut c = case(
        case_id::VERDICT,
        "certification",
        &title,
        if certified {
            Verdict::Passed
        } else {
            failed(format!(
                "Not certified: {}.",
                reasons
                    .iter()
                    .map(|r| r.trim_end_matches('.'))
                    .collect::<Vec<_>>()
                    .join("; ")
            ))
        },
    );
    c.output = reasons
        .iter()
        .chain(warnings)
        .map(|r| format!("{r}\n"))
        .collect();
    if !certified {
        c.hint = Some("fix the causes listed, first to last, and run again".into());
    }
    Suite {
        name: "certification".into(),
        properties: Vec::new(),
        cases: vec![c],
    }
}

#[cfg(test)]
mod tests {
    use super::root_causes;

    fn reasons(list: &[&str]) -> Vec<String> {
        list.iter().map(|r| format!("Not certified: {r}")).collect()
    }

    #[test]
    fn a_plugin_that_did_not_load_is_the_one_reason() {
        let decision = reasons(&[
            "blueprint.time-to-value was skipped (the run stopped before anything was reserved or deployed); a required check must run and pass.",
            "performs-as-advertised needs at least 1 passing plugin check, and 0 passed.",
            "business-value needs at least 1 passing plugin check, and 0 passed.",
            "budget.settled did not run; a required check must run and pass.",
        ]);
        let causes = root_causes(
            vec!["the validation plugin did not build or load: failed to parse manifest".into()],
            &decision,
        );
        assert_eq!(
            causes,
            ["the validation plugin did not build or load: failed to parse manifest"]
        );
    }

    #[test]
    fn a_failed_deployment_stands_for_what_it_kept_from_running() {
        let decision = reasons(&[
            "blueprint.deployed failed (package install failed).",
            "blueprint.packages failed (the deployment failed: package install failed).",
            "blueprint.time-to-value failed (the deployment failed).",
            "docs.steps failed (step 3: connection refused).",
            "performs-as-advertised needs at least 1 passing plugin check, and 0 passed.",
            "teardown.verified failed (1 server left).",
        ]);
        let causes = root_causes(Vec::new(), &decision);
        assert_eq!(
            causes,
            [
                "blueprint.deployed failed (package install failed).",
                "teardown.verified failed (1 server left).",
            ]
        );
    }

    #[test]
    fn without_a_root_cause_every_reason_stays_but_a_criterion_its_failures_explain() {
        let decision = reasons(&[
            "plugin check status.version (performs-as-advertised) failed (3.0.0 expected).",
            "performs-as-advertised needs at least 2 passing plugin checks, and 1 passed.",
            "business-value needs at least 1 passing plugin check, and 0 passed (1 skipped).",
            "docs.steps failed (step 7).",
        ]);
        let causes = root_causes(Vec::new(), &decision);
        assert_eq!(
            causes,
            [
                "plugin check status.version (performs-as-advertised) failed (3.0.0 expected).",
                "business-value needs at least 1 passing plugin check, and 0 passed (1 skipped).",
                "docs.steps failed (step 7).",
            ]
        );
    }
}
