//! The report's provenance and its `certification` block: the decision and the facts it
//! rests on (the suite, the account, the tier and credit, the program's dates,
//! time-to-value, the credit used, the teardown, the criteria, the inputs, the harness
//! and the signer).

use serde_json::json;

use super::round;
use super::verdict::Decided;
use crate::report::model::{Report, Suite};
use crate::run::Facts;
use crate::services::isolation::Internet;

/// The whole report: its provenance, the verdict first, then the suites.
pub(super) fn report(facts: &Facts<'_>, decided: &Decided, suites: Vec<Suite>) -> Report {
    let properties = properties(facts, decided.certified);
    let certification = certification(facts, decided);
    Report::new(
        format!("certify run {}", facts.bundle.candidate.product),
        facts.started_at.clone(),
        facts.duration,
        properties,
        suites,
        Some(certification),
    )
}

/// The report's provenance properties.
fn properties(facts: &Facts<'_>, certified: bool) -> Vec<(String, String)> {
    let policy = facts.policy;
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
    properties
}

/// The `certification` block: the decision and the facts it rests on.
fn certification(facts: &Facts<'_>, decided: &Decided) -> serde_json::Value {
    let Decided {
        certified,
        reasons,
        decision,
        day,
        program_warning,
    } = decided;
    let certified = *certified;
    let policy = facts.policy;
    let limit = facts.ttv_limit;
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

    let ttv = facts.progress.time_to_value.map(|d| round(d.as_secs_f64()));
    // The binary that ran, so a reviewer can tell a released build from a patched one.
    let harness_sha256 = std::env::current_exe()
        .ok()
        .and_then(|exe| certify_review::sha256_file(&exe).ok());
    json!({
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
            Internet::Proxy(log) => log
                .attempts
                .iter()
                .map(|a| json!({
                    "destination": a.destination,
                    "allowed": a.allowed,
                    "reason": a.reason,
                }))
                .collect::<Vec<_>>(),
            _ => Vec::new(),
        },
        // How many requests the list leaves out (it keeps the first 256).
        "egress_omitted": match &facts.internet {
            Internet::Proxy(log) => log.omitted(),
            _ => 0,
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
    })
}
