//! The verdict: the suite's decision on the run's built-in checks (by check, from the
//! cases filed under each) and its plugin checks (by criterion), the causes the suite's
//! rules do not list, and the reasons cut down to their root causes.

use certify_program::{BuiltinCheck as B, case as case_id};
use certify_runtime::Status;

use super::{Cases, UNSANDBOXED, case, failed, portable};
use crate::report::model::{Case, Suite, Verdict};
use crate::run::RunRecord;
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
pub(super) fn decide(facts: &RunRecord<'_>, cases: &Cases) -> Decided {
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
        root_causes(causes, &decision)
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
    facts: &RunRecord<'_>,
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
    let results = facts.found.checks.iter().fold(results, |r, (check, run)| {
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
/// out: the verdict says it once. Which reason is which comes from the decision's
/// typed blockers, not from the sentences.
fn root_causes(mut causes: Vec<String>, decision: &certify_suite::Decision) -> Vec<String> {
    use certify_suite::{Blocker, Verdict as V};
    // A failure of these stops the run before the checks that follow them.
    const STOPPERS: [B; 5] = [
        B::BundleValid,
        B::DocsStructure,
        B::BudgetReservation,
        B::BlueprintPublished,
        B::BlueprintDeployed,
    ];
    // These cannot pass on a run that stopped early.
    const DOWNSTREAM: [B; 3] = [B::BlueprintTimeToValue, B::BlueprintPackages, B::DocsSteps];
    let is_root = |b: &Blocker| {
        matches!(b, Blocker::Builtin { check, verdict }
            if STOPPERS.contains(check) && !matches!(verdict, Some(V::Skipped(_))))
    };
    let reasons: Vec<(&Blocker, &str)> = decision
        .blockers
        .iter()
        .zip(&decision.reasons)
        .map(|(b, r)| (b, r.strip_prefix("Not certified: ").unwrap_or(r)))
        .collect();
    let stopped = !causes.is_empty() || decision.blockers.iter().any(is_root);
    let failing_plugin_check = |c: certify_program::Criterion| {
        decision
            .blockers
            .iter()
            .any(|b| matches!(b, Blocker::Plugin { criterion, .. } if *criterion == c))
    };
    causes.extend(
        reasons
            .iter()
            .filter(|(b, _)| is_root(b))
            .map(|(_, r)| r.to_string()),
    );
    for (blocker, reason) in reasons.iter().filter(|(b, _)| !is_root(b)) {
        let consequence = match blocker {
            Blocker::Builtin { check, verdict } => {
                stopped
                    && (matches!(verdict, None | Some(V::Skipped(_))) || DOWNSTREAM.contains(check))
            }
            Blocker::Plugin { .. } => false,
            Blocker::Criterion(c) => stopped || failing_plugin_check(*c),
        };
        if !consequence {
            causes.push(reason.to_string());
        }
    }
    let mut seen = std::collections::HashSet::new();
    causes.retain(|c| seen.insert(c.clone()));
    causes
}

/// The suite that carries the verdict as a case, first in the report: CI test viewers
/// show a run that is not certified as failing even when every other case passed.
pub(super) fn verdict_suite(
    facts: &RunRecord<'_>,
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
    use certify_program::{BuiltinCheck as B, Criterion};
    use certify_suite::{Results, Verdict};

    use super::root_causes;

    fn decide(results: &Results) -> certify_suite::Decision {
        certify_suite::Suite::builtin("silver")
            .unwrap()
            .decide(results)
    }

    fn today() -> chrono::NaiveDate {
        chrono::NaiveDate::from_ymd_opt(2026, 4, 1).unwrap()
    }

    /// Every built-in check passed but those given.
    fn builtins(except: &[(B, Verdict)]) -> Results {
        B::ALL.into_iter().fold(Results::new(today()), |r, c| {
            let v = except
                .iter()
                .find(|(e, _)| *e == c)
                .map_or(Verdict::Passed, |(_, v)| v.clone());
            r.builtin(c, v)
        })
    }

    #[test]
    fn a_plugin_that_did_not_load_is_the_one_reason() {
        // The bundle and its articles were checked; everything after was skipped, and
        // budget.settled did not run at all. Every criterion is short.
        let skipped =
            || Verdict::Skipped("the run stopped before anything was reserved or deployed".into());
        let mut results = builtins(
            &B::ALL
                .into_iter()
                .filter(|c| ![B::BundleValid, B::DocsStructure, B::ProgramWindow].contains(c))
                .map(|c| (c, skipped()))
                .collect::<Vec<_>>(),
        );
        results.builtins.retain(|(c, _)| *c != B::BudgetSettled);
        let decision = decide(&results);
        assert!(decision.reasons.len() > 5, "{:?}", decision.reasons);
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
        let failed = |m: &str| Verdict::Failed(m.into());
        let decision = decide(&builtins(&[
            (B::BlueprintDeployed, failed("package install failed")),
            (
                B::BlueprintPackages,
                failed("the deployment failed: package install failed"),
            ),
            (B::BlueprintTimeToValue, failed("the deployment failed")),
            (B::DocsSteps, failed("step 3: connection refused")),
            (B::TeardownVerified, failed("1 server left")),
        ]));
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
        let results = builtins(&[(B::DocsSteps, Verdict::Failed("step 7".into()))])
            .plugin(
                "status.version",
                Criterion::PerformsAsAdvertised,
                Verdict::Failed("3.0.0 expected".into()),
            )
            .plugin(
                "roi.page-load",
                Criterion::BusinessValue,
                Verdict::Skipped("no public IP".into()),
            );
        let decision = decide(&results);
        let causes = root_causes(Vec::new(), &decision);
        assert_eq!(
            causes,
            [
                "docs.steps failed (step 7).",
                "plugin check status.version (performs-as-advertised) failed (3.0.0 expected).",
                "business-value needs at least 1 passing plugin check, and 0 passed (1 skipped).",
            ]
        );
    }

    #[test]
    fn a_plugin_message_that_reads_like_a_consequence_is_still_a_cause() {
        // The candidate's own words cannot talk a failure out of the reasons.
        let results = builtins(&[(B::BlueprintDeployed, Verdict::Failed("timeout".into()))])
            .plugin(
                "status.health",
                Criterion::PerformsAsAdvertised,
                Verdict::Failed("the probe was skipped; it did not run".into()),
            );
        let causes = root_causes(Vec::new(), &decide(&results));
        assert!(
            causes
                .iter()
                .any(|c| c.starts_with("plugin check status.health")),
            "{causes:?}"
        );
    }
}
