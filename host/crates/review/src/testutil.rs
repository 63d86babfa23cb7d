//! Test fixtures: a hand-written report.json of a run that was not certified (one
//! failed plugin check with hostile output, one deployment timeout, one skip), and an
//! output directory holding it the way `certify run` writes it.

use std::path::Path;

use serde_json::{Value, json};

use crate::attest::StatementInputs;
use crate::{InputDigest, sha256_bytes};

pub(crate) const RESPONSE_TXT: &str =
    "HTTP/1.1 200 OK\ncontent-type: text/html\n\n<h1>Acme Status</h1>\n";
pub(crate) const CHAIN_PEM: &str =
    "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUabc\n-----END CERTIFICATE-----\n";

/// The certified inputs the fixture records.
pub(crate) fn certified_inputs() -> Vec<InputDigest> {
    vec![
        InputDigest::new("candidate.toml", "candidate", "1".repeat(64)),
        InputDigest::new("blueprint.json", "blueprint", "2".repeat(64)),
        InputDigest::new("kb/public/deploy.md", "kb-public", "3".repeat(64)),
    ]
}

pub(crate) fn statement_inputs() -> StatementInputs {
    StatementInputs {
        finished_at: "2026-09-01T10:07:30Z".into(),
        url: None,
    }
}

pub(crate) fn report() -> Value {
    let inputs: Vec<Value> = certified_inputs()
        .into_iter()
        .map(|i| json!({"path": i.path, "role": i.role, "sha256": i.sha256, "size": 1234}))
        .collect();
    json!({
        "format": "certify-report/1",
        "passed": false,
        "counts": {"tests": 5, "passed": 2, "failures": 1, "errors": 1, "skipped": 1},
        "name": "certify run Acme Status Page",
        "started_at": "2026-09-01T10:00:00Z",
        "duration": 450.125,
        "properties": [
            ["harness.version", env!("CARGO_PKG_VERSION")],
            ["run.id", "run-20260901-ab12"],
        ],
        "suites": [
            {
                "name": "performs-as-advertised",
                "properties": [["criterion", "The solution performs as advertised"]],
                "cases": [
                    {
                        "id": "http-probe.status", "classname": "http-probe",
                        "title": "The status page answers 200", "verdict": "passed",
                        "duration": 0.042, "hint": null, "location": null,
                        "measurements": [["latency_ms", 42.0, "ms"]],
                        "attachments": [{
                            "name": "response", "media_type": "text/plain",
                            "path": "evidence/http-probe.status/response.txt",
                            "size": RESPONSE_TXT.len(), "sha256": sha256_bytes(RESPONSE_TXT.as_bytes()),
                        }],
                        "output": "",
                    },
                    {
                        "id": "http-probe.tls", "classname": "http-probe",
                        "title": "TLS chain is complete", "verdict": "failed",
                        "message": "chain incomplete: <script>alert(\"pwned\")</script> ]]>",
                        "duration": 1.5,
                        "hint": "Serve the full certificate chain from the load balancer",
                        "location": "plugin/src/lib.rs:42",
                        "measurements": [],
                        "attachments": [{
                            "name": "chain", "media_type": "application/x-pem-file",
                            "path": "evidence/http-probe.tls/chain.pem",
                            "size": CHAIN_PEM.len(), "sha256": sha256_bytes(CHAIN_PEM.as_bytes()),
                        }],
                        "output": "\u{1b}[31mERROR\u{1b}[0m connection refused ]]> <b>bold</b>\r\n",
                    },
                ],
            },
            {
                "name": "blueprint",
                "properties": [],
                "cases": [
                    {
                        "id": "blueprint.deploy", "classname": "blueprint",
                        "title": "The blueprint deploys", "verdict": "error",
                        "kind": "timeout", "message": "the blueprint ran over 20 minutes",
                        "duration": 1200.0,
                        "hint": "Make the install package finish within 5 minutes",
                        "location": "blueprint.json:12",
                        "measurements": [], "attachments": [], "output": "",
                    },
                    {
                        "id": "blueprint.public-ip", "classname": "blueprint",
                        "title": "Public IP only where needed", "verdict": "skipped",
                        "reason": "no public IP requested",
                        "duration": 0.0, "hint": null, "location": null,
                        "measurements": [], "attachments": [], "output": "",
                    },
                ],
            },
            {
                "name": "docs",
                "properties": [],
                "cases": [
                    {
                        "id": "docs.front-matter", "classname": "docs",
                        "title": "Front matter is complete", "verdict": "passed",
                        "duration": 0.001, "hint": null, "location": "kb/public/deploy.md:1",
                        "measurements": [], "attachments": [], "output": "",
                    },
                ],
            },
        ],
        "certification": certification(inputs),
    })
}

/// The fixture's `certification` block.
fn certification(inputs: Vec<Value>) -> Value {
    json!({
        "verdict": "not-certified",
        "reasons": [
            "One check of performs-as-advertised failed: http-probe.tls",
            "The blueprint did not deploy: timeout",
        ],
        "warnings": [],
        "waivers": {"applied": [], "expired": []},
        "run_id": "run-20260901-ab12",
        "account": "ACME",
        "endpoint": "http://127.0.0.1:41234 (embedded emulator)",
        "clock_scale": 1.0,
        "stopped": null,
        "isolation": "sandbox",
        "internet": "off",
        "egress": [],
        "egress_omitted": 0,
        "suite": {"name": "silver", "version": "1", "sha256": "5".repeat(64)},
        "candidate": {
            "company": "Acme", "product": "Status Page", "version": "2.1.0",
            "tier": "silver", "claimed_tier": "silver",
        },
        "tier": {
            "account": "silver", "source": "the integrator (--tier)", "suite": "silver",
            "claimed": "silver", "note": null,
        },
        "credit": "$2,000.00",
        "credit_source": "the silver suite's [credit] monthly_usd",
        "program": {
            "start": "2026-05-29", "source": "the integrator (--program-start)",
            "claimed_start": "2026-05-29", "day": 95,
            "warning": "day 95 is past the three-month window (90 days); the test account may be closed",
        },
        "time_to_value": {"seconds": 312.0, "limit_seconds": 1200.0},
        "credit_used": {"estimate": "$0.12", "actual": "$0.09", "month_to_date": "$9.09", "remaining": "$1,990.91"},
        "teardown": {"complete": true, "verified": true, "detail": "2 servers deleted"},
        "criteria": [
            {
                "criterion": "performs-as-advertised", "verdict": "fail", "passed": 1,
                "failed": 1, "errors": 0, "skipped": 0, "waived": 0, "required": 2,
            },
            {
                "criterion": "documentation", "verdict": "pass", "passed": 1,
                "failed": 0, "errors": 0, "skipped": 0, "waived": 0, "required": 1,
            },
        ],
        "inputs": inputs,
        "bundle_sha256": "b".repeat(64),
        "harness": {"version": env!("CARGO_PKG_VERSION"), "contract": "certify:plugin@0.1.0", "sha256": "9".repeat(64)},
        "signer": null,
    })
}

/// The JUnit the harness writes for a report.
pub(crate) fn junit(report: &Value) -> String {
    let typed: crate::model::Report = serde_json::from_value(report.clone()).unwrap();
    crate::junit::render(&typed).unwrap()
}

/// The summary page the harness writes for a report.
pub(crate) fn summary(report: &Value) -> String {
    let typed: crate::model::Report = serde_json::from_value(report.clone()).unwrap();
    crate::summary::render(&typed)
}

pub(crate) fn pretty(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap();
    s.push('\n');
    s
}

/// An output directory as `certify run` leaves it before the attestation.
pub(crate) struct OutDir(tempfile::TempDir);

impl OutDir {
    pub(crate) fn new() -> OutDir {
        let out = OutDir(tempfile::tempdir().unwrap());
        let report = report();
        out.write("report.json", &pretty(&report));
        out.write("junit.xml", &junit(&report));
        out.write("summary.html", &summary(&report));
        out.write("evidence/http-probe.status/response.txt", RESPONSE_TXT);
        out.write("evidence/http-probe.tls/chain.pem", CHAIN_PEM);
        out
    }

    /// An output directory holding `report` and its renderings.
    pub(crate) fn with_report(report: &Value) -> OutDir {
        let out = OutDir::new();
        out.write("report.json", &pretty(report));
        out.write("junit.xml", &junit(report));
        out.write("summary.html", &summary(report));
        out
    }

    pub(crate) fn path(&self) -> &Path {
        self.0.path()
    }

    pub(crate) fn write(&self, name: &str, content: &str) {
        let path = self.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
}
