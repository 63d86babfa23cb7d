//! `certify plan`: what a run would do, touching no account. The estimate is
//! the one a real run reserves; a bundle over the credit left, or with
//! errors, is refused with the reason; secrets never show.

use std::path::Path;

use crate::run::{ONE_RUN_AT_A_TIME, certify_run, edit, sample, sample_copy, spent};
use crate::support::{certify, read_json, run};

fn plan(state: &Path, bundle: &Path, json: bool) -> crate::support::Run {
    let mut cmd = certify();
    cmd.env("CERTIFY_STATE_DB", state.join("state.db"))
        .arg("plan")
        .arg(bundle);
    if json {
        cmd.arg("--json");
    }
    run(&mut cmd)
}

#[test]
fn the_plan_shows_the_estimate_a_run_then_reserves() {
    let _one = ONE_RUN_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let bundle = sample_copy(dir.path());

    let planned = plan(dir.path(), &bundle, true);
    assert_eq!(planned.code, 0, "{planned:?}");
    assert!(
        !dir.path().join("state.db").exists(),
        "a plan creates no ledger"
    );
    let doc: serde_json::Value = serde_json::from_str(&planned.stdout).unwrap();
    assert_eq!(doc["ready"], true);
    let cost = &doc["cost"];
    assert_eq!(cost["hours"], 1, "the silver suite's 60 minutes");
    assert_eq!(cost["fits"], true);
    let web = &cost["servers"][0];
    assert_eq!(web["name"], "WEB");
    let items: Vec<&str> = web["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["resource"].as_str().unwrap())
        .collect();
    assert_eq!(
        items,
        ["cpu", "memory", "storage"],
        "Ubuntu: no licence, no public IP"
    );
    let deployment = &doc["deployment"];
    assert_eq!(deployment["servers"][0]["storage_gb"], 17);
    let checks: Vec<&str> = doc["plugin"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert!(checks.contains(&"status.health"), "{checks:?}");
    assert_eq!(doc["docs"]["passed"], true);
    assert!(doc["docs"]["steps"].as_array().unwrap().len() >= 5);

    // The run reserves exactly that estimate.
    let out = dir.path().join("report");
    let done = run(&mut certify_run(dir.path(), &bundle, &out));
    assert_eq!(done.code, 0, "{done:?}");
    let report = read_json(&out.join("report.json"));
    assert_eq!(
        report["certification"]["credit_used"]["estimate"],
        cost["estimate"]
    );
    let mut ledger = certify_ledger::Ledger::open(dir.path().join("state.db")).unwrap();
    let reserved = ledger.history("CERT", 10).unwrap();
    assert_eq!(reserved.len(), 1);
    assert_eq!(
        serde_json::json!(reserved[0].estimate.micros()),
        cost["estimate_micros"]
    );
    drop(ledger);

    // A plan after the run reads the month-to-date the run settled.
    let again = plan(dir.path(), &bundle, true);
    let doc: serde_json::Value = serde_json::from_str(&again.stdout).unwrap();
    assert_eq!(
        doc["cost"]["month_to_date"],
        report["certification"]["credit_used"]["actual"]
    );
    assert!(
        doc["cost"]["month_to_date_source"]
            .as_str()
            .unwrap()
            .contains("local ledger")
    );
}

#[test]
fn a_bundle_over_the_credit_left_is_refused_with_the_shortfall() {
    let dir = tempfile::tempdir().unwrap();
    // All but four cents of the month's credit is spent; the sample needs $0.04285.
    spent(dir.path(), 199_996);
    let bundle = sample_copy(dir.path());
    let planned = plan(dir.path(), &bundle, false);
    assert_eq!(planned.code, 1, "{planned:?}");
    assert!(
        planned.stdout.contains("DOES NOT FIT: short by $0.01"),
        "{planned:?}"
    );
    assert!(planned.stdout.contains("REFUSED"), "{planned:?}");
    let json = plan(dir.path(), &bundle, true);
    assert_eq!(json.code, 1, "{json:?}");
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(doc["ready"], false);
    assert_eq!(doc["cost"]["shortfall"], "$0.01");
    assert_eq!(doc["cost"]["month_to_date"], "$1,999.96");

    // One cent more of credit left and it fits.
    let dir = tempfile::tempdir().unwrap();
    spent(dir.path(), 199_995);
    let bundle = sample_copy(dir.path());
    let planned = plan(dir.path(), &bundle, false);
    assert_eq!(planned.code, 0, "{planned:?}");
}

#[test]
fn the_plan_applies_the_integrators_tier_not_the_bundles_claim() {
    let dir = tempfile::tempdir().unwrap();
    // All but a cent of the Silver credit is spent: only the claimed Platinum credit
    // would let the blueprint through, and a run would be refused.
    spent(dir.path(), 199_999);
    let bundle = crate::hostile::attack(dir.path(), "claimed-platinum");
    let json = plan(dir.path(), &bundle, true);
    assert_eq!(json.code, 1, "{json:?}");
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(doc["cost"]["credit"], "$2,000.00", "{doc}");
    assert_eq!(doc["cost"]["fits"], false);
    assert_eq!(
        doc["candidate"]["tier"], "platinum",
        "the claim is shown as a claim"
    );
    let text = plan(dir.path(), &bundle, false);
    assert!(
        text.stdout.contains(
            "monthly credit           $2,000.00 (the silver suite's [credit] monthly_usd)"
        ),
        "{text:?}"
    );
}

#[test]
fn a_bundle_with_errors_shows_every_problem_and_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = sample_copy(dir.path());
    edit(
        &bundle.join("candidate.toml"),
        "tier = \"silver\"",
        "tier = \"bronze\"",
    );
    edit(
        &bundle.join("blueprint.json"),
        "\"template\": \"UBUNTU-16-64-TEMPLATE\",",
        "\"template\": 7,",
    );
    let planned = plan(dir.path(), &bundle, false);
    assert_eq!(planned.code, 1, "{planned:?}");
    assert!(planned.stdout.contains("candidate.toml:"), "{planned:?}");
    assert!(planned.stdout.contains("blueprint.json:"), "{planned:?}");
    let json = plan(dir.path(), &bundle, true);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(doc["ready"], false);
    assert!(doc["problems"].as_array().unwrap().len() >= 2, "{doc}");
}

#[test]
fn secrets_are_masked_in_the_plan() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = sample_copy(dir.path());
    edit(
        &bundle.join("candidate.toml"),
        "\"Acme.AdminPassword\" = { generate = true }",
        "\"Acme.AdminPassword\" = \"hunter2-in-the-toml\"",
    );
    for json in [false, true] {
        let planned = plan(dir.path(), &bundle, json);
        assert_eq!(planned.code, 0, "{planned:?}");
        assert!(!planned.stdout.contains("hunter2"), "{planned:?}");
        assert!(planned.stdout.contains("********"), "{planned:?}");
    }
    // A secret the integrator supplies is named as such, never read by the plan.
    edit(
        &bundle.join("candidate.toml"),
        "\"Acme.AdminPassword\" = \"hunter2-in-the-toml\"",
        "\"Acme.AdminPassword\" = { integrator = true }",
    );
    let planned = plan(dir.path(), &bundle, false);
    assert_eq!(planned.code, 0, "{planned:?}");
    assert!(
        planned.stdout.contains("--secret NAME=VARIABLE"),
        "{planned:?}"
    );
}

#[test]
fn the_sample_in_the_repository_plans_like_its_copy() {
    let dir = tempfile::tempdir().unwrap();
    let planned = plan(dir.path(), &sample(), false);
    assert_eq!(planned.code, 0, "{planned:?}");
    for part in [
        "server WEB: 1 vCPU, 2 GB memory, 17 GB storage",
        "estimate to reserve      $0.04",
        "status.health",
        "a run could start",
    ] {
        assert!(planned.stdout.contains(part), "{part}: {planned:?}");
    }
}
