//! The report's provenance and its `certification` block: the decision and the facts it
//! rests on (the suite, the account, the tier and credit, the program's dates,
//! time-to-value, the credit used, the teardown, the criteria, the inputs, the harness
//! and the signer).

use certify_review::model::{
    AppliedWaiver, Candidate, Certification, CreditUsed, CriterionResult, Decision, EgressRequest,
    ExpiredWaiver, Harness, Input, Program, Signer, SuiteRef, Teardown, Tiers, TimeToValue,
    WaivedOutcome, Waiver, Waivers,
};

use super::round;
use super::verdict::Decided;
use crate::report::model::{Report, Suite};
use crate::run::RunRecord;
use crate::services::isolation::Internet;

/// The whole report: its provenance, the verdict first, then the suites.
pub(super) fn report(facts: &RunRecord<'_>, decided: &Decided, suites: Vec<Suite>) -> Report {
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
fn properties(facts: &RunRecord<'_>, certified: bool) -> Vec<(String, String)> {
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
        ("run.isolation".to_string(), isolation(facts).to_string()),
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
            verdict(certified).as_str().to_string(),
        ),
    ];
    for input in &facts.bundle.inputs {
        properties.push((format!("input.{}", input.path), input.sha256.clone()));
    }
    properties
}

/// The `certification` block: the decision and the facts it rests on.
fn certification(facts: &RunRecord<'_>, decided: &Decided) -> Certification {
    let Decided {
        certified,
        reasons,
        decision,
        day,
        program_warning,
    } = decided;
    let policy = facts.policy;
    let criteria = decision
        .criteria
        .iter()
        .map(|c| CriterionResult {
            criterion: c.criterion.as_str().to_string(),
            verdict: if c.met { "pass" } else { "fail" }.to_string(),
            passed: c.passed,
            failed: c.failed,
            errors: c.errors,
            skipped: c.skipped,
            waived: c.waived,
            required: c.minimum,
        })
        .collect();
    // The binary that ran, so a reviewer can tell a released build from a patched one.
    let harness_sha256 = std::env::current_exe()
        .ok()
        .and_then(|exe| certify_review::sha256_file(&exe).ok());
    let (egress, egress_omitted) = match &facts.internet {
        Internet::Proxy(log) => (
            log.attempts
                .iter()
                .map(|a| EgressRequest {
                    destination: a.destination.clone(),
                    allowed: a.allowed,
                    reason: a.reason.clone(),
                })
                .collect(),
            log.omitted(),
        ),
        _ => (Vec::new(), 0),
    };
    Certification {
        verdict: verdict(*certified),
        reasons: reasons.clone(),
        warnings: decision.warnings.clone(),
        waivers: waivers(decision),
        suite: SuiteRef {
            name: facts.suite.name.clone(),
            version: facts.suite.version.to_string(),
            sha256: facts.suite.sha256.clone(),
        },
        run_id: facts.run_id.to_string(),
        account: facts.account.to_string(),
        endpoint: facts.endpoint.to_string(),
        clock_scale: facts.clock_scale,
        stopped: facts.stopped.clone(),
        isolation: isolation(facts).to_string(),
        internet: facts.internet.as_str().to_string(),
        egress,
        egress_omitted: egress_omitted as u64,
        candidate: Candidate {
            company: facts.bundle.candidate.company.clone(),
            product: facts.bundle.candidate.product.clone(),
            version: facts.bundle.candidate.version.clone(),
            tier: policy.tier.to_string(),
            claimed_tier: policy.claimed_tier.clone(),
        },
        tier: Tiers {
            account: policy.tier.to_string(),
            source: policy.tier_source.clone(),
            suite: policy.suite_tier.clone(),
            claimed: policy.claimed_tier.clone(),
            note: policy.tier_note(),
        },
        credit: facts.credit.to_string(),
        credit_source: policy.credit_source.clone(),
        program: Program {
            start: policy.program_start.map(date),
            source: policy.program_start_source.clone(),
            claimed_start: date(policy.claimed_program_start),
            day: *day,
            warning: program_warning.clone(),
        },
        time_to_value: TimeToValue {
            seconds: facts.found.time_to_value.map(|d| round(d.as_secs_f64())),
            limit_seconds: facts.ttv_limit.as_secs_f64(),
        },
        credit_used: CreditUsed {
            estimate: facts.estimate.map(|e| e.total.to_string()),
            actual: facts.settled.map(|m| m.to_string()),
            month_to_date: facts.month_to_date.to_string(),
            remaining: (facts.credit - facts.month_to_date).to_string(),
        },
        teardown: facts.teardown.map(|t| Teardown {
            complete: t.complete,
            verified: t.verified,
            detail: if t.leftovers.is_empty() {
                t.log.join("; ")
            } else {
                t.leftovers.join("; ")
            },
        }),
        criteria,
        inputs: facts
            .bundle
            .inputs
            .iter()
            .map(|i| Input {
                path: i.path.clone(),
                role: i.role.as_str().to_string(),
                sha256: i.sha256.clone(),
                size: i.size,
            })
            .collect(),
        bundle_sha256: facts.bundle.digest(),
        harness: Harness {
            version: crate::VERSION.to_string(),
            contract: certify_runtime::CONTRACT_VERSION.to_string(),
            sha256: harness_sha256,
        },
        // Who will sign the statement: the summary page shows it, and verification
        // checks that the signature is this key's.
        signer: facts.signing_key.map(|k| Signer {
            algorithm: certify_review::sign::ALGORITHM.to_string(),
            keyid: k.public().keyid(),
        }),
    }
}

/// The suite's waivers as the report records them.
fn waivers(decision: &certify_suite::Decision) -> Waivers {
    let waiver = |w: &certify_suite::Waiver| Waiver {
        check: w.check.to_string(),
        justification: w.justification.clone(),
        expires: date(w.expires),
        approved_by: w.approved_by.clone(),
        line: w.line,
    };
    Waivers {
        applied: decision
            .waived
            .iter()
            .map(|a| AppliedWaiver {
                check: a.check.clone(),
                verdict: a.verdict.as_ref().map(outcome),
                waiver: waiver(&a.waiver),
            })
            .collect(),
        expired: decision
            .expired_waivers
            .iter()
            .map(|e| ExpiredWaiver {
                waiver: waiver(&e.waiver),
                lapsed_on: date(e.lapsed_on),
                needed: e.needed,
            })
            .collect(),
    }
}

/// How a waived check ended.
fn outcome(v: &certify_suite::Verdict) -> WaivedOutcome {
    use certify_suite::Verdict as V;
    let (verdict, message) = match v {
        V::Passed => ("passed", None),
        V::Failed(m) => ("failed", Some(m)),
        V::Error(m) => ("error", Some(m)),
        V::Skipped(m) => ("skipped", Some(m)),
    };
    WaivedOutcome {
        verdict: verdict.to_string(),
        message: message.cloned(),
    }
}

/// The decision as the report records it.
fn verdict(certified: bool) -> Decision {
    if certified {
        Decision::Certified
    } else {
        Decision::NotCertified
    }
}

/// How candidate code ran: `sandbox`, or `unsandboxed` (`--unsandboxed`).
fn isolation(facts: &RunRecord<'_>) -> &'static str {
    if facts.sandboxed {
        "sandbox"
    } else {
        "unsandboxed"
    }
}

/// A date as the report writes it: `YYYY-MM-DD`.
fn date(d: chrono::NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}
