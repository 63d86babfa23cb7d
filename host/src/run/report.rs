//! The report of a run: the suites (bundle, budget, blueprint and teardown,
//! the plugin's criteria, the documentation), the verdict with its reasons,
//! and the files written to the output directory.

use std::path::Path;
use std::time::Duration;

use certify_kb::StepStatus;
use certify_runtime::{Criterion, Status};
use serde_json::json;

use super::Facts;
use crate::Error;
use crate::report::model::{Case, Report, Suite, Verdict};
use crate::report::{self, ids, json as json_report, junit};

/// Why a case did not run when the run stopped before it cost anything.
const STOPPED: &str = "the run stopped before anything was reserved or deployed";

/// The warning an `--unsandboxed` run carries in every report.
const UNSANDBOXED: &str = "unsandboxed run: the candidate's package scripts and KB steps ran as the integrator's own user (--unsandboxed)";

/// What was written, for the terminal.
pub struct Written {
    /// Whether the candidate is certified.
    pub certified: bool,
    /// The closing lines for the terminal.
    pub summary: String,
}

fn case(id: &str, classname: &str, title: &str, verdict: Verdict) -> Case {
    Case {
        id: id.to_string(),
        classname: classname.to_string(),
        title: title.to_string(),
        verdict,
        duration: Duration::ZERO,
        hint: None,
        location: None,
        measurements: Vec::new(),
        attachments: Vec::new(),
        output: String::new(),
    }
}

fn failed(message: impl Into<String>) -> Verdict {
    Verdict::Failed {
        message: message.into(),
    }
}

fn skipped(reason: impl Into<String>) -> Verdict {
    Verdict::Skipped {
        reason: reason.into(),
    }
}

fn error(kind: &str, message: impl Into<String>) -> Verdict {
    Verdict::Error {
        kind: kind.into(),
        message: message.into(),
    }
}

/// Build the report and write `junit.xml` and `report.json` under `out`.
pub fn write(facts: &Facts<'_>, out: &Path) -> Result<Written, Error> {
    // A report directory holds one run: what an earlier run left there would
    // not be part of this run's attestation.
    for stale in [
        "evidence",
        certify_review::JUNIT_XML,
        certify_review::REPORT_JSON,
        certify_review::SUMMARY_HTML,
        certify_review::ATTESTATION_JSON,
        certify_review::ENVELOPE_JSON,
    ] {
        let path = out.join(stale);
        let _ = if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
    }
    let mut suites = Vec::new();
    let progress = facts.progress;
    let not_deployed_or = |why: &str| match &facts.stopped {
        Some(_) => skipped(STOPPED),
        None => skipped(why),
    };
    let not_deployed = || not_deployed_or("nothing was deployed");

    // The bundle.
    let mut bundle_case = case(
        "bundle.valid",
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
    suites.push(Suite {
        name: "bundle".into(),
        properties: vec![("bundle.sha256".into(), facts.bundle.digest())],
        cases: vec![bundle_case],
    });
    no_cost_suites(facts, &mut suites);

    // The budget.
    let mut budget = Vec::new();
    let estimate_lines = facts
        .estimate
        .map(|e| e.lines.join("\n"))
        .unwrap_or_default();
    let mut reservation_case = match facts.reservation {
        Some(Ok(r)) => case(
            "budget.reservation",
            "budget",
            "The run's cost fits in what is left of the month's credit",
            Verdict::Passed,
        )
        .with_output(format!(
            "estimate {} reserved; month-to-date {}, other reservations {}, credit {}, remaining after this run {}\n{estimate_lines}\n",
            r.estimate, r.month_to_date, r.reserved, r.credit, r.remaining_after()
        )),
        Some(Err(refusal)) => case(
            "budget.reservation",
            "budget",
            "The run's cost fits in what is left of the month's credit",
            failed(refusal.to_string()),
        )
        .with_output(format!("{estimate_lines}\n")),
        None => case("budget.reservation", "budget", "The run's cost fits in what is left of the month's credit", match &facts.stopped {
            Some(_) => skipped(STOPPED),
            None => skipped("not priced"),
        }),
    };
    reservation_case.hint = Some("wait for the next month's credit, or reduce the blueprint's servers or the run's time limit".into());
    budget.push(reservation_case);
    budget.push(match (facts.reservation, facts.settled) {
        (Some(Ok(r)), Some(actual)) => case(
            "budget.settled",
            "budget",
            "The reservation is settled to the account's actual charge",
            Verdict::Passed,
        )
        .with_output(format!("actual {actual} (estimate {})\n", r.estimate)),
        (Some(Ok(_)), None) => case(
            "budget.settled",
            "budget",
            "The reservation is settled to the account's actual charge",
            error(
                "ledger",
                "the reservation could not be settled; `certify budget` shows it open",
            ),
        ),
        _ => case(
            "budget.settled",
            "budget",
            "The reservation is settled to the account's actual charge",
            not_deployed_or("nothing was reserved"),
        ),
    });
    suites.push(Suite {
        name: "budget".into(),
        properties: vec![
            ("budget.credit".into(), facts.credit.to_string()),
            (
                "budget.month_to_date".into(),
                facts.month_to_date.to_string(),
            ),
        ],
        cases: budget,
    });

    // The blueprint and the teardown.
    let mut bp = Vec::new();
    let reserved = matches!(facts.reservation, Some(Ok(_)));
    bp.push(match &progress.published {
        Some(Ok(p)) => case(
            "blueprint.published",
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
            "blueprint.published",
            "blueprint",
            "The packages and the blueprint publish to the account",
            failed(e.clone()),
        ),
        None if reserved => case(
            "blueprint.published",
            "blueprint",
            "The packages and the blueprint publish to the account",
            error("interrupted", "the run stopped before publishing"),
        ),
        None => case(
            "blueprint.published",
            "blueprint",
            "The packages and the blueprint publish to the account",
            not_deployed(),
        ),
    });
    let logs: String = progress
        .build_logs
        .iter()
        .map(|(name, log)| format!("--- build log of {name} ---\n{log}\n"))
        .collect();
    bp.push(match &progress.deployed {
        Some(d) => {
            let mut c = case(
                "blueprint.deployed",
                "blueprint",
                "The blueprint deploys without errors through the Blueprint Engine",
                match &d.result {
                    Ok(()) => Verdict::Passed,
                    Err(e) => failed(e.clone()),
                },
            );
            c.duration = d.finished - d.requested;
            c.output = format!(
                "servers: {}\n{logs}",
                progress.servers.iter().map(|(role, s)| format!("{} ({role}, {})", s.name, s.internal_ip().unwrap_or("-"))).collect::<Vec<_>>().join(", ")
            );
            c.hint = Some("read the build log below; each package must exit 0 within 5 minutes, the blueprint within 20".into());
            c
        }
        None => case("blueprint.deployed", "blueprint", "The blueprint deploys without errors through the Blueprint Engine", not_deployed()),
    });
    for (name, role, result) in &progress.packages {
        bp.push(case(
            &format!("blueprint.package.{}", slug(name)),
            "blueprint",
            &format!("The package \"{name}\" succeeds on {role}"),
            match result {
                Ok(()) => Verdict::Passed,
                Err(e) => failed(e.clone()),
            },
        ));
    }
    let limit = facts.ttv_limit;
    bp.push(match (progress.time_to_value, &progress.readiness_failure, &progress.deployed) {
        (Some(ttv), _, _) => {
            let mut c = case(
                "blueprint.time-to-value",
                "blueprint",
                "Time-to-value is within the limit",
                if ttv <= limit {
                    Verdict::Passed
                } else {
                    failed(format!("time-to-value {} exceeds the limit of {}", super::human(ttv), super::human(limit)))
                },
            );
            c.measurements.push(("time_to_value".into(), round(ttv.as_secs_f64()), "s (account time)".into()));
            c.output = format!(
                "from the deploy request to the readiness check's first pass: {} of account time (limit {}; {} attempts; clock scale {})\n",
                super::human(ttv), super::human(limit), progress.readiness_attempts, facts.clock_scale
            );
            c
        }
        (None, Some(why), _) => case("blueprint.time-to-value", "blueprint", "Time-to-value is within the limit", failed(why.clone())),
        (None, None, Some(d)) if d.result.is_err() => case("blueprint.time-to-value", "blueprint", "Time-to-value is within the limit", failed("the deployment failed")),
        // Deployed, but nothing could tell when the product was ready.
        (None, None, Some(_)) => case("blueprint.time-to-value", "blueprint", "Time-to-value is within the limit", skipped(match &facts.plugin {
            Err(_) => "the plugin did not load (see plugin.load), so no readiness check could tell when the product was ready",
            Ok(_) => "the run stopped before the readiness check passed",
        })),
        _ => case("blueprint.time-to-value", "blueprint", "Time-to-value is within the limit", not_deployed()),
    });
    let mut teardown = Vec::new();
    match facts.teardown {
        Some(t) => {
            let mut complete = case(
                "teardown.complete",
                "teardown",
                "Everything the run created is deleted",
                if t.complete {
                    Verdict::Passed
                } else {
                    error(
                        "teardown",
                        format!("left on the account: {}", t.leftovers.join("; ")),
                    )
                },
            );
            complete.output = t.log.iter().map(|l| format!("{l}\n")).collect();
            complete.hint = Some(
                "run `certify cleanup --stale` to retry; the journal keeps what is left".into(),
            );
            teardown.push(complete);
            teardown.push(case(
                "teardown.verified",
                "teardown",
                "The account confirms nothing of the run is left",
                if t.verified {
                    Verdict::Passed
                } else {
                    error(
                        "teardown",
                        format!("not verified: {}", t.leftovers.join("; ")),
                    )
                },
            ));
        }
        None => {
            let nothing = || match &facts.stopped {
                Some(_) => skipped(STOPPED),
                None => skipped("nothing was created"),
            };
            teardown.push(case(
                "teardown.complete",
                "teardown",
                "Everything the run created is deleted",
                nothing(),
            ));
            teardown.push(case(
                "teardown.verified",
                "teardown",
                "The account confirms nothing of the run is left",
                nothing(),
            ));
        }
    }
    if let Some(why) = &facts.ending.interrupted {
        bp.push(case(
            "run.completed",
            "blueprint",
            "The run ran to its end",
            error("interrupted", why.clone()),
        ));
    }
    if let Some(why) = &facts.ending.harness_error {
        bp.push(case(
            "run.completed",
            "blueprint",
            "The run ran to its end",
            error("harness", why.clone()),
        ));
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
    suites.push(Suite {
        name: "blueprint".into(),
        properties: bp_props,
        cases: bp,
    });
    suites.push(Suite {
        name: "teardown".into(),
        properties: Vec::new(),
        cases: teardown,
    });

    // The plugin's checks, one suite per criterion.
    let plugin_facts = plugin_facts(facts);
    let plugin_report = crate::report::plugin::report(
        &plugin_facts,
        progress.checks.clone(),
        facts.started_at.clone(),
        Duration::ZERO,
        Some(out),
    )?;
    suites.extend(plugin_report.suites.into_iter().map(|mut s| {
        s.properties.extend(
            plugin_facts
                .properties()
                .into_iter()
                .filter(|(k, _)| k.starts_with("plugin.")),
        );
        s
    }));

    // The articles' steps.
    let base = facts.bundle.root.as_path();
    for (file, run) in &progress.steps {
        let rel = crate::report::docs::relative(file, base);
        let suite = format!("docs-steps-{}", ids::article(&rel));
        let cases = match run {
            Ok(run) => {
                let mut cases: Vec<Case> = run
                    .steps
                    .iter()
                    .filter(|s| !s.hidden)
                    .map(|s| {
                        let location = format!(
                            "{}:{}",
                            crate::report::docs::relative(&s.file, base),
                            s.line
                        );
                        let verdict = match &s.status {
                            StepStatus::Passed => Verdict::Passed,
                            StepStatus::Failed { message, .. } => {
                                failed(format!("{location}: {message}"))
                            }
                            StepStatus::Skipped { reason } => skipped(reason.clone()),
                            StepStatus::NotExecutable { reason } => {
                                skipped(format!("not executable: {reason}"))
                            }
                        };
                        let mut c = case(
                            &format!("step.{}", ids::slug(&s.label)),
                            &suite,
                            &s.label,
                            verdict,
                        );
                        c.location = Some(location);
                        c.duration = s.duration;
                        c.output = format!("$ {}\n{}", s.command, s.output);
                        c
                    })
                    .collect();
                ids::make_unique(&mut cases);
                let mut summary = case(
                    "kb.steps.reproduce",
                    &suite,
                    "The article's steps reproduce against the deployment",
                    if run.passed() {
                        Verdict::Passed
                    } else {
                        failed(format!(
                            "{}:{}: {}",
                            rel, run.verdict.line, run.verdict.message
                        ))
                    },
                );
                summary.measurements.push((
                    "steps_executed".into(),
                    round(run.executed_share() * 100.0),
                    "%".into(),
                ));
                summary.output = format!("{} of {} steps executed\n", run.executed, run.total);
                cases.push(summary);
                cases
            }
            Err(e) => vec![case(
                "kb.steps.reproduce",
                &suite,
                "The article's steps reproduce against the deployment",
                error("docs", e.clone()),
            )],
        };
        suites.push(Suite {
            name: suite,
            properties: vec![("article.file".into(), rel.clone())],
            cases,
        });
    }

    // The verdict, by the suite's rules.
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
    let mut decision = decide(facts, &suites, today, program_warning.as_deref());
    if !facts.sandboxed {
        decision.warnings.insert(0, UNSANDBOXED.to_string());
    }
    if let super::isolation::Internet::Proxy(log) = &facts.internet {
        let refused = log.iter().filter(|a| !a.allowed).count();
        decision.warnings.insert(
            0,
            format!(
                "internet allowed (--allow-internet): the servers and steps could reach public addresses through the harness's proxy; {} request(s), {refused} refused, listed in report.json",
                log.len()
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
    for s in &suites {
        for c in s.cases.iter().filter(|c| c.id == "run.completed") {
            if let Verdict::Error { message, .. } = &c.verdict {
                causes.push(format!("the run did not complete ({message})."));
            }
        }
    }
    let certified = decision.certified && causes.is_empty();
    let reasons = if certified {
        decision.reasons.clone()
    } else {
        root_causes(causes, &decision.reasons)
    };
    suites.insert(
        0,
        verdict_suite(facts, certified, &reasons, &decision.warnings),
    );
    let criteria: Vec<serde_json::Value> = decision
        .criteria
        .iter()
        .map(|c| {
            json!({
                "criterion": c.criterion.as_str(),
                "verdict": if c.met { "pass" } else { "fail" },
                "passed": c.passed,
                "failed": c.failed,
                "errors": c.errors,
                "skipped": c.skipped,
                "waived": c.waived,
                "required": c.minimum,
            })
        })
        .collect();

    let mut properties = vec![
        ("harness.version".to_string(), crate::VERSION.to_string()),
        (
            "harness.contract".to_string(),
            certify_runtime::CONTRACT_VERSION.to_string(),
        ),
        ("run.id".to_string(), facts.run_id.to_string()),
        ("run.account".to_string(), facts.account.to_string()),
        ("run.endpoint".to_string(), facts.endpoint.to_string()),
        ("run.data_center".to_string(), facts.data_center.to_string()),
        (
            "run.isolation".to_string(),
            if facts.sandboxed {
                "sandbox"
            } else {
                "unsandboxed"
            }
            .to_string(),
        ),
        (
            "run.internet".to_string(),
            facts.internet.as_str().to_string(),
        ),
        (
            "candidate.company".to_string(),
            facts.bundle.candidate.company.clone(),
        ),
        (
            "candidate.product".to_string(),
            facts.bundle.candidate.product.clone(),
        ),
        ("candidate.tier".to_string(), policy.tier.to_string()),
        (
            "candidate.claimed_tier".to_string(),
            policy.claimed_tier.clone(),
        ),
        (
            "certification.verdict".to_string(),
            if certified {
                "certified"
            } else {
                "not-certified"
            }
            .to_string(),
        ),
    ];
    for input in &facts.bundle.inputs {
        properties.push((format!("input.{}", input.path), input.sha256.clone()));
    }
    let ttv = progress.time_to_value.map(|d| round(d.as_secs_f64()));
    // The binary that ran, so a reviewer can tell a released build from a patched one.
    let harness_sha256 = std::env::current_exe()
        .ok()
        .and_then(|exe| certify_review::sha256_file(&exe).ok());
    let certification = json!({
        "verdict": if certified { "certified" } else { "not-certified" },
        "reasons": reasons,
        "warnings": decision.warnings,
        "waivers": {
            "applied": decision.waived,
            "expired": decision.expired_waivers,
        },
        "suite": {
            "name": facts.suite.name,
            "version": facts.suite.version.to_string(),
            "sha256": facts.suite.sha256,
        },
        "run_id": facts.run_id,
        "account": facts.account,
        "endpoint": facts.endpoint,
        "clock_scale": facts.clock_scale,
        // Why the run ended before the reservation, when it did.
        "stopped": facts.stopped,
        "isolation": if facts.sandboxed { "sandbox" } else { "unsandboxed" },
        "internet": facts.internet.as_str(),
        // What the servers and steps asked the egress proxy for, with --allow-internet.
        "egress": match &facts.internet {
            super::isolation::Internet::Proxy(log) => log
                .iter()
                .map(|a| json!({
                    "destination": a.destination,
                    "allowed": a.allowed,
                    "reason": a.reason,
                }))
                .collect::<Vec<_>>(),
            _ => Vec::new(),
        },
        "candidate": {
            "company": facts.bundle.candidate.company,
            "product": facts.bundle.candidate.product,
            "version": facts.bundle.candidate.version,
            "tier": policy.tier,
            "claimed_tier": policy.claimed_tier,
        },
        "tier": {
            "account": policy.tier,
            "source": policy.tier_source,
            "suite": policy.suite_tier,
            "claimed": policy.claimed_tier,
            "note": policy.tier_note(),
        },
        "credit": facts.credit.to_string(),
        "credit_source": policy.credit_source,
        "program": {
            "start": policy.program_start.map(|d| d.format("%Y-%m-%d").to_string()),
            "source": policy.program_start_source,
            "claimed_start": policy.claimed_program_start.format("%Y-%m-%d").to_string(),
            "day": day,
            "warning": program_warning,
        },
        "time_to_value": { "seconds": ttv, "limit_seconds": limit.as_secs_f64() },
        "credit_used": {
            "estimate": facts.estimate.map(|e| e.total.to_string()),
            "actual": facts.settled.map(|m| m.to_string()),
            "month_to_date": facts.month_to_date.to_string(),
        },
        "teardown": facts.teardown.map(|t| json!({
            "complete": t.complete,
            "verified": t.verified,
            "detail": if t.leftovers.is_empty() { t.log.join("; ") } else { t.leftovers.join("; ") },
        })),
        "criteria": criteria,
        "inputs": facts.bundle.inputs,
        "bundle_sha256": facts.bundle.digest(),
        "harness": {
            "version": crate::VERSION,
            "contract": certify_runtime::CONTRACT_VERSION,
            "sha256": harness_sha256,
        },
        // Who will sign the statement: the summary page shows it, and verification
        // checks that the signature is this key's.
        "signer": facts.signing_key.map(|k| json!({
            "algorithm": certify_review::sign::ALGORITHM,
            "keyid": k.public().keyid(),
        })),
    });
    let report = Report {
        name: format!("certify run {}", facts.bundle.candidate.product),
        started_at: facts.started_at.clone(),
        duration: facts.duration,
        properties,
        suites,
        certification: Some(certification),
    };
    write_files(&report, out, facts.signing_key)?;

    let c = report.counts();
    let mut summary = format!(
        "\n{} checks: {} passed, {} failed, {} errors, {} skipped\n",
        c.tests, c.passed, c.failures, c.errors, c.skipped
    );
    for w in &decision.warnings {
        summary.push_str(&format!("warning: {w}\n"));
    }
    if certified {
        summary.push_str("CERTIFIED");
    } else {
        summary.push_str("NOT CERTIFIED:");
        for r in report
            .certification
            .as_ref()
            .and_then(|c| c["reasons"].as_array())
            .into_iter()
            .flatten()
        {
            summary.push_str(&format!("\n  - {}", r.as_str().unwrap_or_default()));
        }
    }
    Ok(Written { certified, summary })
}

/// report.json first; junit.xml and summary.html rendered from it (so that verification
/// can render them again from the signed record); the attestation over all of them;
/// and, with a key, its signed envelope.
fn write_files(
    report: &Report,
    out: &Path,
    key: Option<&certify_review::sign::SigningKey>,
) -> Result<(), Error> {
    let json_text = json_report::render(report)?;
    report::write_file(&out.join(certify_review::REPORT_JSON), json_text.as_bytes())?;
    report::write_file(
        &out.join(certify_review::JUNIT_XML),
        junit::from_json(&json_text)?.as_bytes(),
    )?;
    let value: serde_json::Value = serde_json::from_str(&json_text)
        .map_err(|e| Error::Other(anyhow::anyhow!("reading back the JSON report: {e}")))?;
    report::write_file(
        &out.join(certify_review::SUMMARY_HTML),
        certify_review::summary::render(&value).as_bytes(),
    )?;
    certify_review::attest::write(
        out,
        &certify_review::StatementInputs {
            finished_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            url: None,
        },
    )
    .map_err(|e| Error::Other(anyhow::Error::new(e).context("writing the attestation")))?;
    if let Some(key) = key {
        certify_review::sign::sign_out_dir(out, key)
            .map_err(|e| Error::Other(anyhow::Error::new(e).context("signing the attestation")))?;
    }
    Ok(())
}

/// The suites of what cost nothing, known before the reservation: whether the plugin
/// builds and loads, and the articles' structure.
fn no_cost_suites(facts: &Facts<'_>, suites: &mut Vec<Suite>) {
    if let Err(e) = &facts.plugin {
        let mut load = case(
            "plugin.load",
            "plugin",
            "The validation plugin builds and loads",
            error("load-failed", portable(e, facts)),
        );
        load.hint = Some(
            "fix the plugin so that `certify plugin run` builds and loads it; the error above is cargo's or the sandbox's own"
                .into(),
        );
        suites.push(Suite {
            name: "plugin".into(),
            properties: vec![("plugin.file".into(), facts.plugin_file.clone())],
            cases: vec![load],
        });
    }
    let base = facts.bundle.root.as_path();
    match &facts.docs {
        Ok(docs) => {
            let r =
                crate::report::docs::report(docs, base, facts.started_at.clone(), Duration::ZERO);
            suites.extend(r.suites);
        }
        Err(e) => suites.push(Suite {
            name: "docs".into(),
            properties: Vec::new(),
            cases: vec![case(
                "docs.read",
                "docs",
                "The KB articles can be read",
                error("docs", e.clone()),
            )],
        }),
    }
}

/// A message with the bundle's place on this machine left out: paths in it read
/// relative to the bundle, as everywhere else in the report.
fn portable(message: &str, facts: &Facts<'_>) -> String {
    let root = facts.bundle.root.display().to_string();
    message.replace(&format!("{root}/"), "").replace(&root, ".")
}

/// Whether a suite holds documentation structure checks (`docs`, `docs-<article>`).
fn is_docs_structure(suite: &str) -> bool {
    suite == "docs" || (suite.starts_with("docs-") && !suite.starts_with("docs-steps-"))
}

/// What the report says about the plugin, whether or not it loaded.
fn plugin_facts(facts: &Facts<'_>) -> crate::report::plugin::PluginFacts {
    match &facts.plugin {
        Ok(p) => crate::report::plugin::PluginFacts {
            name: p.info().name.clone(),
            version: Some(p.info().version.clone()),
            sdk: Some(p.info().sdk.clone()),
            contract: Some(p.info().contract.clone()),
            sha256: p.sha256().to_string(),
            file: facts.plugin_file.clone(),
        },
        Err(_) => crate::report::plugin::PluginFacts {
            name: "plugin".into(),
            version: None,
            sdk: None,
            contract: None,
            sha256: String::new(),
            file: facts.plugin_file.clone(),
        },
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
fn verdict_suite(
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
        "certification.verdict",
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

fn slug(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect::<String>()
        .split('-')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

impl Case {
    fn with_output(mut self, output: String) -> Case {
        self.output = output;
        self
    }
}

/// The suite's decision on what the run found: built-in checks from the
/// report's cases, plugin checks by criterion.
fn decide(
    facts: &Facts<'_>,
    suites: &[Suite],
    today: chrono::NaiveDate,
    program_warning: Option<&str>,
) -> certify_suite::Decision {
    use certify_suite::{BuiltinCheck as B, Results};
    let all = || {
        suites
            .iter()
            .flat_map(|s| s.cases.iter().map(move |c| (s, c)))
    };
    let of = |pick: &dyn Fn(&Suite, &Case) -> bool| -> certify_suite::Verdict {
        let picked: Vec<&Case> = all().filter(|(s, c)| pick(s, c)).map(|(_, c)| c).collect();
        aggregate(&picked)
    };
    let by_id = |id: &'static str| of(&move |_, c| c.id == id);
    let results = Results::new(today)
        .builtin(B::BundleValid, by_id("bundle.valid"))
        .builtin(B::BudgetReservation, by_id("budget.reservation"))
        .builtin(B::BudgetSettled, by_id("budget.settled"))
        .builtin(B::BlueprintPublished, by_id("blueprint.published"))
        .builtin(B::BlueprintDeployed, by_id("blueprint.deployed"))
        .builtin(
            B::BlueprintPackages,
            of(&|_, c| c.id.starts_with("blueprint.package.")),
        )
        .builtin(B::BlueprintTimeToValue, by_id("blueprint.time-to-value"))
        .builtin(B::TeardownComplete, by_id("teardown.complete"))
        .builtin(B::TeardownVerified, by_id("teardown.verified"))
        .builtin(B::DocsStructure, of(&|s, _| is_docs_structure(&s.name)))
        .builtin(B::DocsSteps, of(&|s, _| s.name.starts_with("docs-steps-")))
        .builtin(
            B::ProgramWindow,
            match program_warning {
                Some(w) => certify_suite::Verdict::Failed(w.to_string()),
                None => certify_suite::Verdict::Passed,
            },
        );
    let results = facts
        .progress
        .checks
        .iter()
        .fold(results, |r, (check, run)| {
            let criterion = match check.criterion {
                Criterion::PerformsAsAdvertised => certify_suite::Criterion::PerformsAsAdvertised,
                Criterion::Documentation => certify_suite::Criterion::Documentation,
                Criterion::BlueprintIntegration => certify_suite::Criterion::BlueprintIntegration,
                Criterion::BusinessValue => certify_suite::Criterion::BusinessValue,
            };
            let verdict = match &run.status {
                Status::Passed => certify_suite::Verdict::Passed,
                Status::Failed { message } => certify_suite::Verdict::Failed(message.clone()),
                Status::Skipped { reason } => certify_suite::Verdict::Skipped(reason.clone()),
                Status::Error { kind, message } => {
                    certify_suite::Verdict::Error(format!("{}: {message}", kind.as_str()))
                }
            };
            r.plugin(check.id.clone(), criterion, verdict)
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
