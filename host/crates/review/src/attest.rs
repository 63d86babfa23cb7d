//! The attestation: an in-toto Statement v1 that binds a run's report files, its
//! evidence and its certified inputs together.
//!
//! - `subject`: `junit.xml`, `report.json`, `summary.html` and every file under
//!   `evidence/`, each with its sha256. One edited byte in any of them changes a digest.
//! - `predicateType`: the in-toto test-result predicate, whose `result`, `configuration`
//!   (the suite and the harness, with digests), `passedTests` and `failedTests` (check
//!   ids) say what was run and how it ended.
//! - `predicate.certification`: our own record (format `certify-attestation/1`): the
//!   verdict and its reasons, the run id, account, endpoint, candidate, times, and every
//!   certified input (path, role, sha256). The same facts are in report.json, which the
//!   subject digest binds; verification checks that the two still agree.
//!
//! Everything but the report files comes from report.json, so the attestation cannot
//! say something the report does not. The output is deterministic — struct order for
//! keys, report order for tests and inputs, sorted paths for evidence, pretty JSON with a
//! trailing newline — so the same inputs and results give the same bytes apart from the
//! run id and times.
//!
//! The statement itself is unsigned, for tools that read in-toto statements as they are;
//! [`crate::sign`] wraps its exact bytes in a signed DSSE envelope
//! (`attestation.dsse.json`), and `cosign attest-blob` or GitHub's `actions/attest` can
//! sign its predicate keylessly.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::model::{self, Decision, Report, Verdict};
use crate::{
    ATTESTATION_JSON, EVIDENCE_DIR, InputDigest, REPORT_FILES, REPORT_JSON, ReviewError,
    sha256_file,
};

/// `_type` of an in-toto Statement v1.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// `predicateType` of the in-toto test-result predicate.
pub const PREDICATE_TYPE: &str = "https://in-toto.io/attestation/test-result/v0.1";
/// `predicate.certification.format`: the version of our own part of the predicate.
pub const CERTIFICATION_FORMAT: &str = "certify-attestation/1";

/// An in-toto Statement v1 with a test-result predicate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    /// Always [`STATEMENT_TYPE`].
    #[serde(rename = "_type")]
    pub statement_type: String,
    /// The report files and evidence files, by name and sha256.
    pub subject: Vec<ResourceDescriptor>,
    /// Always [`PREDICATE_TYPE`].
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    /// What was run and how it ended.
    pub predicate: TestResult,
}

/// An in-toto ResourceDescriptor (the subset we write).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceDescriptor {
    /// A name: a path relative to the output directory for subjects.
    pub name: String,
    /// Where the resource can be found, if anywhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// Digests by algorithm (`sha256`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub digest: BTreeMap<String, String>,
    /// Further facts (`kind`, `version`, …).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl ResourceDescriptor {
    /// The descriptor's sha256, if it has one.
    pub fn sha256(&self) -> Option<&str> {
        self.digest.get("sha256").map(String::as_str)
    }
}

/// The test-result predicate (`https://in-toto.io/attestation/test-result/v0.1`) with
/// our certification record beside its standard fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestResult {
    /// `PASSED` when certified, `FAILED` otherwise.
    pub result: String,
    /// The suite and the harness that ran, with digests.
    pub configuration: Vec<ResourceDescriptor>,
    /// Where the run can be seen, for example the CI job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Ids of the checks that passed, in report order.
    #[serde(rename = "passedTests", default)]
    pub passed_tests: Vec<String>,
    /// Ids of the checks that failed or could not run, in report order.
    #[serde(rename = "failedTests", default)]
    pub failed_tests: Vec<String>,
    /// Our own record of the certification.
    pub certification: Certification,
}

/// What was certified, for whom, when and with which verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Certification {
    /// Always [`CERTIFICATION_FORMAT`].
    pub format: String,
    /// `certified` or `not-certified`.
    pub verdict: String,
    /// Why, in the report's words.
    #[serde(default)]
    pub reasons: Vec<String>,
    /// The run id (also the tag on everything the run created in the account).
    pub run_id: String,
    /// The test account's alias.
    pub account: String,
    /// The API endpoint (the embedded emulator when local).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// The bundle's one digest (the sha256 of its `sha256sum`-style input listing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bundle_sha256: Option<String>,
    /// Who and what was certified.
    #[serde(default)]
    pub candidate: Candidate,
    /// When the run happened.
    pub times: Times,
    /// Every certified input, in report order.
    pub inputs: Vec<InputDigest>,
}

/// The candidate as the report names it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    /// Company.
    #[serde(default)]
    pub company: String,
    /// Product.
    #[serde(default)]
    pub product: String,
    /// Product version.
    #[serde(default)]
    pub version: String,
    /// Program tier (`silver`, `gold`, `platinum`).
    #[serde(default)]
    pub tier: String,
}

/// When the run happened (RFC 3339).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Times {
    /// When the run started: report.json's `started_at`.
    pub started_at: String,
    /// When the run finished.
    pub finished_at: String,
}

/// What the harness knows that report.json does not say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatementInputs {
    /// When the run finished (RFC 3339, UTC).
    pub finished_at: String,
    /// Where the run can be seen, for example the CI job's URL.
    pub url: Option<String>,
}

/// Write `attestation.json` in `out_dir`, after junit.xml, report.json, summary.html and
/// the evidence are written, and return the statement written.
///
/// Fails when a report file is missing, report.json is not a certification report
/// (`certify-report/1` with a `certification` section), or a file cannot be read or
/// written.
pub fn write(out_dir: &Path, inputs: &StatementInputs) -> Result<Statement, ReviewError> {
    let mut subject = Vec::new();
    for name in REPORT_FILES {
        let path = out_dir.join(name);
        if !path.is_file() {
            return Err(ReviewError::Report {
                path,
                reason: "it is missing; write junit.xml, report.json and summary.html before the attestation".into(),
            });
        }
        subject.push(subject_descriptor(name, sha256_file(&path)?));
    }
    for name in evidence_files(out_dir)? {
        match name {
            EvidenceEntry::File(name) => {
                let digest = sha256_file(&out_dir.join(&name))?;
                subject.push(subject_descriptor(&name, digest));
            }
            EvidenceEntry::NotAFile(name) => {
                return Err(ReviewError::Report {
                    path: out_dir.join(name),
                    reason: "evidence must be plain files (not links or special files); write the content itself".into(),
                });
            }
        }
    }

    let path = out_dir.join(REPORT_JSON);
    let bytes = std::fs::read(&path).map_err(|e| ReviewError::io("read", &path, e))?;
    let report = Report::from_json(&bytes).map_err(|e| ReviewError::Report {
        path: path.clone(),
        reason: format!("it is not a report `certify run` writes: {e}"),
    })?;
    let predicate = predicate_from(&report, &inputs.finished_at, inputs.url.clone())
        .map_err(|reason| ReviewError::Report { path, reason })?;

    let statement = Statement {
        statement_type: STATEMENT_TYPE.into(),
        subject,
        predicate_type: PREDICATE_TYPE.into(),
        predicate,
    };
    let path = out_dir.join(ATTESTATION_JSON);
    write_atomically(&path, to_json(&statement).as_bytes())?;
    Ok(statement)
}

/// The statement as written: pretty JSON with a trailing newline.
pub fn to_json(statement: &Statement) -> String {
    // Serializing plain structs of strings cannot fail.
    let mut json = serde_json::to_string_pretty(statement).unwrap_or_default();
    json.push('\n');
    json
}

fn subject_descriptor(name: &str, sha256: String) -> ResourceDescriptor {
    ResourceDescriptor {
        name: name.to_string(),
        uri: None,
        digest: BTreeMap::from([("sha256".to_string(), sha256)]),
        annotations: BTreeMap::new(),
    }
}

/// The predicate that report.json implies, given what report.json does not say. Verify
/// rebuilds it from the report to compare with the attestation's.
pub(crate) fn predicate_from(
    report: &Report,
    finished_at: &str,
    url: Option<String>,
) -> Result<TestResult, String> {
    let Some(cert) = &report.certification else {
        return Err("it has no \"certification\" section; only a `certify run` report (with a verdict) can be attested".into());
    };
    let result = match cert.verdict {
        Decision::Certified => "PASSED",
        Decision::NotCertified => "FAILED",
    };
    let suite = ResourceDescriptor {
        name: cert.suite.name.clone(),
        uri: None,
        digest: BTreeMap::from([("sha256".to_string(), cert.suite.sha256.clone())]),
        annotations: BTreeMap::from([
            ("kind".to_string(), "certification-suite".to_string()),
            ("version".to_string(), cert.suite.version.clone()),
        ]),
    };
    let harness = ResourceDescriptor {
        name: "certify".into(),
        uri: None,
        digest: cert
            .harness
            .sha256
            .iter()
            .map(|sha| ("sha256".to_string(), sha.clone()))
            .collect(),
        annotations: BTreeMap::from([
            ("kind".to_string(), "harness".to_string()),
            ("version".to_string(), cert.harness.version.clone()),
            ("contract".to_string(), cert.harness.contract.clone()),
        ]),
    };

    let (passed_tests, failed_tests) = test_ids(report);
    Ok(TestResult {
        result: result.into(),
        configuration: vec![suite, harness],
        url,
        passed_tests,
        failed_tests,
        certification: Certification {
            format: CERTIFICATION_FORMAT.into(),
            verdict: cert.verdict.as_str().into(),
            reasons: cert.reasons.clone(),
            run_id: cert.run_id.clone(),
            account: cert.account.clone(),
            endpoint: Some(cert.endpoint.clone()),
            bundle_sha256: Some(cert.bundle_sha256.clone()),
            candidate: Candidate {
                company: cert.candidate.company.clone(),
                product: cert.candidate.product.clone(),
                version: cert.candidate.version.clone().unwrap_or_default(),
                tier: cert.candidate.tier.clone(),
            },
            times: Times {
                started_at: report.started_at.clone(),
                finished_at: finished_at.into(),
            },
            inputs: inputs(cert),
        },
    })
}

/// The check ids that passed and those that failed or could not run, in report order.
/// A case's id is its own unless another suite has a case with the same id; then it is
/// qualified as `suite/id`, so that every id names one case.
pub(crate) fn test_ids(report: &Report) -> (Vec<String>, Vec<String>) {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (_, case) in report.cases() {
        *seen.entry(case.id.as_str()).or_default() += 1;
    }
    let (mut passed, mut failed) = (Vec::new(), Vec::new());
    for (suite, case) in report.cases() {
        let id = if seen[case.id.as_str()] > 1 {
            format!("{}/{}", suite.name, case.id)
        } else {
            case.id.clone()
        };
        match case.verdict {
            Verdict::Passed => passed.push(id),
            Verdict::Failed { .. } | Verdict::Error { .. } => failed.push(id),
            Verdict::Skipped { .. } => {}
        }
    }
    (passed, failed)
}

/// The certified inputs recorded in `certification.inputs`, in report order.
pub(crate) fn inputs(cert: &model::Certification) -> Vec<InputDigest> {
    cert.inputs
        .iter()
        .map(|i| InputDigest::new(&i.path, &i.role, &i.sha256))
        .collect()
}

/// A path under `evidence/`, relative to the output directory and `/`-separated.
pub(crate) enum EvidenceEntry {
    /// A regular file.
    File(String),
    /// A link, a socket, … — not something a digest can vouch for.
    NotAFile(String),
}

/// Everything under `evidence/`, sorted by path (none when there is no such folder).
pub(crate) fn evidence_files(out_dir: &Path) -> Result<Vec<EvidenceEntry>, ReviewError> {
    let root = out_dir.join(EVIDENCE_DIR);
    let mut found = Vec::new();
    if root.symlink_metadata().is_err() {
        return Ok(found);
    }
    let mut stack = vec![(root, EVIDENCE_DIR.to_string())];
    while let Some((dir, name)) = stack.pop() {
        let meta = dir
            .symlink_metadata()
            .map_err(|e| ReviewError::io("read", &dir, e))?;
        if !meta.is_dir() {
            found.push(EvidenceEntry::NotAFile(name));
            continue;
        }
        let entries = std::fs::read_dir(&dir).map_err(|e| ReviewError::io("read", &dir, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| ReviewError::io("read", &dir, e))?;
            let child = format!("{name}/{}", entry.file_name().to_string_lossy());
            let kind = entry
                .file_type()
                .map_err(|e| ReviewError::io("read", &entry.path(), e))?;
            if kind.is_dir() {
                stack.push((entry.path(), child));
            } else if kind.is_file() {
                found.push(EvidenceEntry::File(child));
            } else {
                found.push(EvidenceEntry::NotAFile(child));
            }
        }
    }
    found.sort_by(|a, b| a.name().cmp(b.name()));
    Ok(found)
}

impl EvidenceEntry {
    pub(crate) fn name(&self) -> &str {
        match self {
            EvidenceEntry::File(n) | EvidenceEntry::NotAFile(n) => n,
        }
    }
}

/// A reader of `path` sees the old file or the whole new one, never half of it.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), ReviewError> {
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, bytes).map_err(|e| ReviewError::io("write", &tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        ReviewError::io("write", path, e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{OutDir, statement_inputs};
    use serde_json::Value;

    #[test]
    fn subjects_are_the_report_files_then_sorted_evidence() {
        let out = OutDir::new();
        let st = write(out.path(), &statement_inputs()).unwrap();
        let names: Vec<_> = st.subject.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "junit.xml",
                "report.json",
                "summary.html",
                "evidence/http-probe.status/response.txt",
                "evidence/http-probe.tls/chain.pem",
            ]
        );
        let report = std::fs::read(out.path().join("report.json")).unwrap();
        assert_eq!(
            st.subject[1].sha256(),
            Some(crate::sha256_bytes(&report).as_str())
        );
    }

    #[test]
    fn predicate_is_a_test_result_with_our_certification() {
        let out = OutDir::new();
        let st = write(out.path(), &statement_inputs()).unwrap();
        assert_eq!(st.statement_type, STATEMENT_TYPE);
        assert_eq!(st.predicate_type, PREDICATE_TYPE);
        let p = &st.predicate;
        assert_eq!(p.result, "FAILED");
        assert_eq!(p.passed_tests, ["http-probe.status", "docs.front-matter"]);
        assert_eq!(p.failed_tests, ["http-probe.tls", "blueprint.deploy"]);
        assert_eq!(p.configuration[0].name, "silver");
        assert_eq!(p.configuration[0].sha256(), Some("5".repeat(64).as_str()));
        assert_eq!(p.configuration[1].annotations["version"], "0.1.0");
        assert_eq!(p.configuration[1].sha256(), Some("9".repeat(64).as_str()));
        let c = &p.certification;
        assert_eq!(c.verdict, "not-certified");
        assert_eq!(c.run_id, "run-20260901-ab12");
        assert_eq!(c.account, "ACME");
        assert_eq!(c.times.started_at, "2026-09-01T10:00:00Z");
        assert_eq!(c.inputs.len(), 3);
        assert_eq!(
            c.inputs[0],
            InputDigest::new("candidate.toml", "candidate", "1".repeat(64))
        );

        let json: Value =
            serde_json::from_slice(&std::fs::read(out.path().join(ATTESTATION_JSON)).unwrap())
                .unwrap();
        assert_eq!(json["_type"], STATEMENT_TYPE);
        assert_eq!(json["predicate"]["passedTests"][0], "http-probe.status");
        assert_eq!(
            json["subject"][0]["digest"]["sha256"]
                .as_str()
                .unwrap()
                .len(),
            64
        );
    }

    #[test]
    fn the_configuration_is_the_suite_then_the_harness_with_their_digests() {
        let out = OutDir::new();
        let st = write(out.path(), &statement_inputs()).unwrap();
        let kinds: Vec<&str> = st
            .predicate
            .configuration
            .iter()
            .map(|c| c.annotations["kind"].as_str())
            .collect();
        assert_eq!(kinds, ["certification-suite", "harness"]);
        assert_eq!(
            st.predicate.certification.bundle_sha256,
            Some("b".repeat(64))
        );
        assert!(crate::verify::verify(out.path(), None).unwrap().ok);
    }

    #[test]
    fn a_report_without_a_suite_is_not_one_the_harness_wrote() {
        let out = OutDir::new();
        let mut report = crate::testutil::report();
        report["certification"]
            .as_object_mut()
            .unwrap()
            .remove("suite");
        out.write("report.json", &crate::testutil::pretty(&report));
        let err = write(out.path(), &statement_inputs())
            .unwrap_err()
            .to_string();
        assert!(err.contains("missing field `suite`"), "{err}");
    }

    #[test]
    fn same_inputs_give_identical_bytes() {
        let a = OutDir::new();
        let b = OutDir::new();
        write(a.path(), &statement_inputs()).unwrap();
        write(b.path(), &statement_inputs()).unwrap();
        let bytes_a = std::fs::read(a.path().join(ATTESTATION_JSON)).unwrap();
        let bytes_b = std::fs::read(b.path().join(ATTESTATION_JSON)).unwrap();
        assert_eq!(bytes_a, bytes_b);
        assert!(bytes_a.ends_with(b"}\n"));
        // And writing twice in one place is stable too.
        write(a.path(), &statement_inputs()).unwrap();
        assert_eq!(
            std::fs::read(a.path().join(ATTESTATION_JSON)).unwrap(),
            bytes_a
        );
    }

    #[test]
    fn a_missing_report_file_is_an_error_saying_what_to_write() {
        let out = OutDir::new();
        std::fs::remove_file(out.path().join("summary.html")).unwrap();
        let err = write(out.path(), &statement_inputs())
            .unwrap_err()
            .to_string();
        assert!(err.contains("summary.html"), "{err}");
        assert!(err.contains("before the attestation"), "{err}");
    }

    #[test]
    fn a_report_without_certification_cannot_be_attested() {
        let out = OutDir::new();
        let mut report = crate::testutil::report();
        report.as_object_mut().unwrap().remove("certification");
        out.write("report.json", &crate::testutil::pretty(&report));
        let err = write(out.path(), &statement_inputs())
            .unwrap_err()
            .to_string();
        assert!(err.contains("no \"certification\" section"), "{err}");
    }
}
