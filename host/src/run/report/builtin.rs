//! The built-in checks' cases: the bundle, the budget, the blueprint and the teardown,
//! each filed under the [`BuiltinCheck`](certify_program::BuiltinCheck) it is a result
//! of, so that the decision reads their verdicts by check and never by case id.

use certify_program::{BuiltinCheck as B, case as case_id};

use super::{Cases, STOPPED, case, error, failed, not_deployed_or, round, skipped, slug};
use crate::report::model::Verdict;
use crate::run::RunRecord;

/// The bundle: it loaded and validated, or the run would not have started.
pub(super) fn bundle(facts: &RunRecord<'_>, cases: &mut Cases) {
    let mut bundle_case = case(
        case_id::BUNDLE_VALID,
        "bundle",
        "The candidate bundle is complete and consistent",
        Verdict::Passed,
    );
    bundle_case.output = facts
        .bundle
        .warnings
        .iter()
        .map(|w| format!("warning: {w}\n"))
        .collect();
    cases.push(
        "bundle",
        vec![("bundle.sha256".into(), facts.bundle.digest())],
        vec![(Some(B::BundleValid), bundle_case)],
    );
}

/// The budget: the reservation against the month's credit, and its settlement.
pub(super) fn budget(facts: &RunRecord<'_>, cases: &mut Cases) {
    let not_deployed_or = |why: &str| not_deployed_or(facts, why);
    let mut budget = Vec::new();
    let estimate_lines = facts
        .estimate
        .map(|e| e.lines.join("\n"))
        .unwrap_or_default();
    let mut reservation_case = match facts.reservation {
        Some(Ok(r)) => case(
            case_id::BUDGET_RESERVATION,
            "budget",
            "The run's cost fits in what is left of the month's credit",
            Verdict::Passed,
        )
        .with_output(format!(
            "estimate {} reserved; month-to-date {}, other reservations {}, credit {}, remaining after this run {}\n{estimate_lines}\n",
            r.estimate, r.month_to_date, r.reserved, r.credit, r.remaining_after()
        )),
        Some(Err(refusal)) => case(
            case_id::BUDGET_RESERVATION,
            "budget",
            "The run's cost fits in what is left of the month's credit",
            failed(refusal.to_string()),
        )
        .with_output(format!("{estimate_lines}\n")),
        None => case(case_id::BUDGET_RESERVATION, "budget", "The run's cost fits in what is left of the month's credit", match &facts.stopped {
            Some(_) => skipped(STOPPED),
            None => skipped("not priced"),
        }),
    };
    reservation_case.hint = Some("wait for the next month's credit, or reduce the blueprint's servers or the run's time limit".into());
    budget.push((Some(B::BudgetReservation), reservation_case));
    budget.push((
        Some(B::BudgetSettled),
        match (facts.reservation, facts.settled) {
            (Some(Ok(r)), Some(actual)) => case(
                case_id::BUDGET_SETTLED,
                "budget",
                "The reservation is settled to the account's actual charge",
                Verdict::Passed,
            )
            .with_output(format!("actual {actual} (estimate {})\n", r.estimate)),
            (Some(Ok(_)), None) => case(
                case_id::BUDGET_SETTLED,
                "budget",
                "The reservation is settled to the account's actual charge",
                error(
                    "ledger",
                    "the reservation could not be settled; `certify budget` shows it open",
                ),
            ),
            _ => case(
                case_id::BUDGET_SETTLED,
                "budget",
                "The reservation is settled to the account's actual charge",
                not_deployed_or("nothing was reserved"),
            ),
        },
    ));
    cases.push(
        "budget",
        vec![
            ("budget.credit".into(), facts.credit.to_string()),
            (
                "budget.month_to_date".into(),
                facts.month_to_date.to_string(),
            ),
        ],
        budget,
    );
}

/// The blueprint: publishing, the deployment, each package task, time-to-value, and
/// whether the run ran to its end.
pub(super) fn blueprint(facts: &RunRecord<'_>, cases: &mut Cases) {
    let found = facts.found;
    let not_deployed = || not_deployed_or(facts, "nothing was deployed");
    let mut bp = Vec::new();
    let reserved = matches!(facts.reservation, Some(Ok(_)));
    bp.push((
        Some(B::BlueprintPublished),
        match &found.published {
            Some(Ok(p)) => case(
                case_id::BLUEPRINT_PUBLISHED,
                "blueprint",
                "The packages and the blueprint publish to the account",
                Verdict::Passed,
            )
            .with_output(format!(
                "blueprint id {}; packages: {}\n",
                p.blueprint_id,
                p.packages
                    .iter()
                    .map(|(n, u)| format!("{n} ({u})"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            Some(Err(e)) => case(
                case_id::BLUEPRINT_PUBLISHED,
                "blueprint",
                "The packages and the blueprint publish to the account",
                failed(e.clone()),
            ),
            None if reserved => case(
                case_id::BLUEPRINT_PUBLISHED,
                "blueprint",
                "The packages and the blueprint publish to the account",
                error("interrupted", "the run stopped before publishing"),
            ),
            None => case(
                case_id::BLUEPRINT_PUBLISHED,
                "blueprint",
                "The packages and the blueprint publish to the account",
                not_deployed(),
            ),
        },
    ));
    let logs: String = found
        .build_logs
        .iter()
        .map(|(name, log)| format!("--- build log of {name} ---\n{log}\n"))
        .collect();
    bp.push((Some(B::BlueprintDeployed), match &found.deployed {
        Some(d) => {
            let mut c = case(
                case_id::BLUEPRINT_DEPLOYED,
                "blueprint",
                "The blueprint deploys without errors through the Blueprint Engine",
                match &d.result {
                    Ok(()) => Verdict::Passed,
                    Err(e) => failed(e.clone()),
                },
            );
            c.set_duration(d.finished - d.requested);
            c.output = format!(
                "servers: {}\n{logs}",
                found.servers.iter().map(|(role, s)| format!("{} ({role}, {})", s.name, s.internal_ip().unwrap_or("-"))).collect::<Vec<_>>().join(", ")
            );
            c.hint = Some("read the build log below; each package must exit 0 within 5 minutes, the blueprint within 20".into());
            c
        }
        None => case(case_id::BLUEPRINT_DEPLOYED, "blueprint", "The blueprint deploys without errors through the Blueprint Engine", not_deployed()),
    }));
    for (name, role, result) in &found.packages {
        bp.push((
            Some(B::BlueprintPackages),
            case(
                &format!("{}{}", case_id::BLUEPRINT_PACKAGE_PREFIX, slug(name)),
                "blueprint",
                &format!("The package \"{name}\" succeeds on {role}"),
                match result {
                    Ok(()) => Verdict::Passed,
                    Err(e) => failed(e.clone()),
                },
            ),
        ));
    }
    let limit = facts.ttv_limit;
    bp.push((Some(B::BlueprintTimeToValue), match (found.time_to_value, &found.readiness_failure, &found.deployed) {
        (Some(ttv), _, _) => {
            let mut c = case(
                case_id::BLUEPRINT_TIME_TO_VALUE,
                "blueprint",
                "Time-to-value is within the limit",
                if ttv <= limit {
                    Verdict::Passed
                } else {
                    failed(format!("time-to-value {} exceeds the limit of {}", crate::run::human(ttv), crate::run::human(limit)))
                },
            );
            c.measurements.push(("time_to_value".into(), round(ttv.as_secs_f64()), "s (account time)".into()));
            c.output = format!(
                "from the deploy request to the readiness check's first pass: {} of account time (limit {}; {} attempts; clock scale {})\n",
                crate::run::human(ttv), crate::run::human(limit), found.readiness_attempts, facts.clock_scale
            );
            c
        }
        (None, Some(why), _) => case(case_id::BLUEPRINT_TIME_TO_VALUE, "blueprint", "Time-to-value is within the limit", failed(why.clone())),
        (None, None, Some(d)) if d.result.is_err() => case(case_id::BLUEPRINT_TIME_TO_VALUE, "blueprint", "Time-to-value is within the limit", failed("the deployment failed")),
        // Deployed, but nothing could tell when the product was ready.
        (None, None, Some(_)) => case(case_id::BLUEPRINT_TIME_TO_VALUE, "blueprint", "Time-to-value is within the limit", skipped(match &facts.plugin {
            Err(_) => "the plugin did not load (see plugin.load), so no readiness check could tell when the product was ready",
            Ok(_) => "the run stopped before the readiness check passed",
        })),
        _ => case(case_id::BLUEPRINT_TIME_TO_VALUE, "blueprint", "Time-to-value is within the limit", not_deployed()),
    }));
    let endings = [
        ("interrupted", &facts.ending.interrupted),
        ("harness", &facts.ending.harness_error),
    ];
    for (kind, why) in endings {
        if let Some(why) = why {
            bp.push((
                None,
                case(
                    case_id::RUN_COMPLETED,
                    "blueprint",
                    "The run ran to its end",
                    error(kind, why.clone()),
                ),
            ));
        }
    }
    let mut bp_props = vec![
        ("blueprint.name".into(), facts.bundle.blueprint.name.clone()),
        (
            "blueprint.version".into(),
            facts.bundle.blueprint.version.clone(),
        ),
    ];
    for r in facts.reaped {
        bp_props.push(("reaped".into(), r.clone()));
    }
    cases.push("blueprint", bp_props, bp);
}

/// The teardown: everything the run created is deleted, and the account confirms it.
pub(super) fn teardown(facts: &RunRecord<'_>, cases: &mut Cases) {
    let (complete, verified) = match facts.teardown {
        Some(t) => {
            let left =
                |what: &str| error("teardown", format!("{what}: {}", t.leftovers.join("; ")));
            (
                if t.complete {
                    Verdict::Passed
                } else {
                    left("left on the account")
                },
                if t.verified {
                    Verdict::Passed
                } else {
                    left("not verified")
                },
            )
        }
        None => {
            let nothing = || match &facts.stopped {
                Some(_) => skipped(STOPPED),
                None => skipped("nothing was created"),
            };
            (nothing(), nothing())
        }
    };
    let mut complete = case(
        case_id::TEARDOWN_COMPLETE,
        "teardown",
        "Everything the run created is deleted",
        complete,
    );
    if let Some(t) = facts.teardown {
        complete.output = t.log.iter().map(|l| format!("{l}\n")).collect();
        complete.hint =
            Some("run `certify cleanup --stale` to retry; the journal keeps what is left".into());
    }
    let verified = case(
        case_id::TEARDOWN_VERIFIED,
        "teardown",
        "The account confirms nothing of the run is left",
        verified,
    );
    cases.push(
        "teardown",
        Vec::new(),
        vec![
            (Some(B::TeardownComplete), complete),
            (Some(B::TeardownVerified), verified),
        ],
    );
}
