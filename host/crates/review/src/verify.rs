//! `certify report verify <out-dir> [--bundle <bundle>]`: recompute everything and name
//! whatever changed.
//!
//! What is checked, each failure becoming one problem that names the file:
//!
//! 1. **Digests.** Every subject of `attestation.json` is hashed again: a file changed,
//!    missing, or added among the report files and evidence is named.
//! 2. **Report against attestation.** The predicate report.json implies (verdict, reasons,
//!    run id, account, candidate, suite and harness, passed and failed check ids, and the
//!    certified inputs) must equal the attestation's. A report edited and re-digested in
//!    the attestation still fails here.
//! 3. **Report against itself, junit.xml and summary.html.** Its stated counts against its
//!    cases; each case's verdict against junit.xml (the Kubernetes conformance bot's
//!    cross-check of junit against e2e.log); its verdict, run id and counts against the
//!    ones summary.html carries; each attachment's sha256 against its evidence file. So an attestation edited to match an edited
//!    report is still caught unless every file was forged consistently — which only a
//!    signature over the attestation (or a re-run) can rule out.
//! 4. **Inputs.** Given the bundle's current inputs, every input file added, removed or
//!    changed since certification is named.
//!
//! Nothing here stops at the first problem: a reviewer wants the whole list.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;

use crate::attest::{self, EvidenceEntry, PREDICATE_TYPE, STATEMENT_TYPE, Statement, TestResult};
use crate::report::{self, Counts, str_of};
use crate::summary::{META_COUNTS, META_RUN_ID, META_VERDICT};
use crate::{
    ATTESTATION_JSON, EVIDENCE_DIR, InputDigest, JUNIT_XML, REPORT_FILES, REPORT_JSON, ReviewError,
    SUMMARY_HTML, sha256_file,
};

/// The outcome of verifying an output directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// Whether nothing changed: no problems.
    pub ok: bool,
    /// What changed or disagrees, one sentence each, naming the file or input.
    pub problems: Vec<String>,
    /// How many digests were recomputed and compared (files of the output directory,
    /// then bundle inputs).
    pub checked: usize,
}

/// Verify the output directory of a `certify run`; with `bundle_inputs` (the bundle's
/// inputs as they are now), also that the certified inputs have not changed.
///
/// Fails only when `out_dir` cannot be read at all; everything else is a problem in the
/// returned [`Verification`].
pub fn verify(
    out_dir: &Path,
    bundle_inputs: Option<&[InputDigest]>,
) -> Result<Verification, ReviewError> {
    std::fs::read_dir(out_dir).map_err(|e| ReviewError::io("read", out_dir, e))?;
    let mut v = Verifier {
        out_dir,
        problems: Vec::new(),
        checked: 0,
    };

    let statement = v.attestation();
    let report = v.report();
    if let Some(st) = &statement {
        v.subjects(st);
    } else {
        for name in REPORT_FILES {
            if !out_dir.join(name).is_file() {
                v.problem(format!("{name} is missing"));
            }
        }
        v.unattested_files(&BTreeSet::new());
    }
    if let Some(report) = &report {
        if let Some(st) = &statement {
            v.report_against_attestation(report, &st.predicate);
        }
        v.report_against_itself(report);
        v.junit(report);
        v.summary(report);
        v.attachments(report);
    }
    if let Some(current) = bundle_inputs {
        // The attestation's record is the one bound to the report's digest; fall back to
        // the report's when the attestation is unreadable (already a problem).
        let certified = match (&statement, &report) {
            (Some(st), _) => Some(st.predicate.certification.inputs.clone()),
            (None, Some(r)) => report::inputs(r),
            (None, None) => None,
        };
        match certified {
            Some(certified) => v.bundle(&certified, current),
            None => v.problem(format!(
                "cannot compare the bundle's inputs: neither {ATTESTATION_JSON} nor {REPORT_JSON} records the certified inputs"
            )),
        }
    }

    Ok(Verification {
        ok: v.problems.is_empty(),
        problems: v.problems,
        checked: v.checked,
    })
}

struct Verifier<'a> {
    out_dir: &'a Path,
    problems: Vec<String>,
    checked: usize,
}

impl Verifier<'_> {
    fn problem(&mut self, p: impl Into<String>) {
        self.problems.push(p.into());
    }

    fn read(&mut self, name: &str) -> Option<Vec<u8>> {
        match std::fs::read(self.out_dir.join(name)) {
            Ok(bytes) => Some(bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => {
                self.problem(format!("{name} cannot be read: {e}"));
                None
            }
        }
    }

    fn attestation(&mut self) -> Option<Statement> {
        let Some(bytes) = self.read(ATTESTATION_JSON) else {
            self.problem(format!(
                "{ATTESTATION_JSON} is missing: nothing binds the report files to the run; verify the directory `certify run` wrote, as it wrote it"
            ));
            return None;
        };
        let st: Statement = match serde_json::from_slice(&bytes) {
            Ok(st) => st,
            Err(e) => {
                self.problem(format!(
                    "{ATTESTATION_JSON} is not an attestation this harness writes ({e})"
                ));
                return None;
            }
        };
        if st.statement_type != STATEMENT_TYPE {
            self.problem(format!(
                "{ATTESTATION_JSON} has _type {:?}, expected {STATEMENT_TYPE:?}",
                st.statement_type
            ));
        }
        if st.predicate_type != PREDICATE_TYPE {
            self.problem(format!(
                "{ATTESTATION_JSON} has predicateType {:?}, expected {PREDICATE_TYPE:?}",
                st.predicate_type
            ));
        }
        if st.predicate.certification.format != attest::CERTIFICATION_FORMAT {
            self.problem(format!(
                "{ATTESTATION_JSON} has certification format {:?}, expected {:?}",
                st.predicate.certification.format,
                attest::CERTIFICATION_FORMAT
            ));
        }
        Some(st)
    }

    fn report(&mut self) -> Option<Value> {
        // A missing report.json is named by the subject check (or the unattested-files
        // check without an attestation); here only what it says matters.
        let bytes = self.read(REPORT_JSON)?;
        match serde_json::from_slice(&bytes) {
            Ok(v) => Some(v),
            Err(e) => {
                self.problem(format!("{REPORT_JSON} is not JSON ({e})"));
                None
            }
        }
    }

    /// 1. Every subject hashed again, and every report or evidence file attested.
    fn subjects(&mut self, st: &Statement) {
        let mut listed = BTreeSet::new();
        for s in &st.subject {
            if !listed.insert(s.name.clone()) {
                self.problem(format!("{ATTESTATION_JSON} lists {} twice", s.name));
                continue;
            }
            if !is_report_path(&s.name) {
                self.problem(format!(
                    "{ATTESTATION_JSON} lists {:?}, which is neither a report file nor under {EVIDENCE_DIR}/",
                    s.name
                ));
                continue;
            }
            let Some(recorded) = s.sha256() else {
                self.problem(format!(
                    "{ATTESTATION_JSON} records no sha256 for {}",
                    s.name
                ));
                continue;
            };
            let path = self.out_dir.join(&s.name);
            match path.symlink_metadata() {
                Err(_) => {
                    self.problem(format!(
                        "{} is missing: the attestation records it with sha256 {recorded}",
                        s.name
                    ));
                    continue;
                }
                Ok(meta) if !meta.is_file() => {
                    self.problem(format!(
                        "{} is not a plain file (a link or special file); the attestation records a file with sha256 {recorded}",
                        s.name
                    ));
                    continue;
                }
                Ok(_) => {}
            }
            match sha256_file(&path) {
                Ok(actual) => {
                    self.checked += 1;
                    if actual != recorded {
                        self.problem(format!(
                            "{} changed since the run: its sha256 is {actual}, the attestation records {recorded}",
                            s.name
                        ));
                    }
                }
                Err(e) => self.problem(format!("{} cannot be read: {e}", s.name)),
            }
        }
        for name in REPORT_FILES {
            if !listed.contains(name) && self.out_dir.join(name).exists() {
                self.problem(format!(
                    "{name} is not in the attestation's subjects, so nothing vouches for it"
                ));
            } else if !listed.contains(name) {
                self.problem(format!("{name} is missing and not in the attestation"));
            }
        }
        self.unattested_files(&listed);
    }

    /// Evidence files nothing vouches for.
    fn unattested_files(&mut self, listed: &BTreeSet<String>) {
        match attest::evidence_files(self.out_dir) {
            Ok(found) => {
                for entry in found {
                    match entry {
                        EvidenceEntry::File(name) if !listed.contains(&name) => {
                            self.problem(format!(
                                "{name} was added after the run: it is not in the attestation's subjects"
                            ));
                        }
                        EvidenceEntry::NotAFile(name) if !listed.contains(&name) => {
                            self.problem(format!(
                                "{name} is not a plain file (a link or special file) and not in the attestation"
                            ));
                        }
                        _ => {}
                    }
                }
            }
            Err(e) => self.problem(format!("the evidence cannot be listed: {e}")),
        }
    }

    /// 2. The predicate report.json implies equals the attestation's.
    fn report_against_attestation(&mut self, report: &Value, attested: &TestResult) {
        let expected = match attest::predicate_from(
            report,
            &attested.certification.times.finished_at,
            attested
                .configuration
                .iter()
                .find(|c| c.annotations.get("kind").map(String::as_str) == Some("harness"))
                .and_then(|c| c.sha256()),
            attested.url.clone(),
        ) {
            Ok(p) => p,
            Err(reason) => {
                self.problem(format!(
                    "{REPORT_JSON} is not a certification report: {reason}"
                ));
                return;
            }
        };
        let (a, r) = (&attested.certification, &expected.certification);
        let mut disagree = |what: &str, in_report: String, in_attestation: String| {
            if in_report != in_attestation {
                self.problems.push(format!(
                    "{REPORT_JSON} and {ATTESTATION_JSON} disagree on {what}: the report says {in_report}, the attestation {in_attestation}"
                ));
            }
        };
        disagree("the verdict", show(&r.verdict), show(&a.verdict));
        disagree("the result", show(&expected.result), show(&attested.result));
        disagree("the reasons", show(&r.reasons), show(&a.reasons));
        disagree("the run id", show(&r.run_id), show(&a.run_id));
        disagree("the account", show(&r.account), show(&a.account));
        disagree("the endpoint", show(&r.endpoint), show(&a.endpoint));
        disagree(
            "the bundle digest",
            show(&r.bundle_sha256),
            show(&a.bundle_sha256),
        );
        disagree("the candidate", show(&r.candidate), show(&a.candidate));
        disagree(
            "the start time",
            show(&r.times.started_at),
            show(&a.times.started_at),
        );
        disagree(
            "the suite and harness",
            show(&expected.configuration),
            show(&attested.configuration),
        );
        disagree(
            "the checks that passed",
            show(&expected.passed_tests),
            show(&attested.passed_tests),
        );
        disagree(
            "the checks that failed",
            show(&expected.failed_tests),
            show(&attested.failed_tests),
        );
        for change in diff_inputs(&a.inputs, &r.inputs) {
            self.problem(format!(
                "{REPORT_JSON} and {ATTESTATION_JSON} disagree on the certified inputs: {}",
                change.describe("the report", "the attestation")
            ));
        }
    }

    /// 3a. Counts and pass flag consistent with the report's own cases.
    fn report_against_itself(&mut self, report: &Value) {
        let counted = Counts::of_cases(report);
        match Counts::stated(report) {
            Some(stated) if stated != counted => self.problem(format!(
                "{REPORT_JSON} states {stated} but its cases hold {counted}"
            )),
            None => self.problem(format!("{REPORT_JSON} has no readable \"counts\"")),
            _ => {}
        }
        let all_passed = counted.failures == 0 && counted.errors == 0;
        if let Some(passed) = report.get("passed").and_then(Value::as_bool)
            && passed != all_passed
        {
            self.problem(format!(
                "{REPORT_JSON} says passed: {passed}, but its cases hold {counted}"
            ));
        }
    }

    /// 3b. junit.xml tells the same story as report.json, case by case.
    fn junit(&mut self, report: &Value) {
        let Some(bytes) = self.read(JUNIT_XML) else {
            return; // named as missing by the subject check
        };
        let junit = match std::str::from_utf8(&bytes)
            .map_err(|e| e.to_string())
            .and_then(|s| quick_junit::Report::deserialize_from_str(s).map_err(|e| e.to_string()))
        {
            Ok(j) => j,
            Err(e) => {
                self.problem(format!("{JUNIT_XML} cannot be read back as JUnit ({e})"));
                return;
            }
        };
        let counted = Counts::of_cases(report);
        let junit_counts = Counts {
            tests: junit.tests as u64,
            passed: (junit.tests - junit.failures - junit.errors - junit.skipped) as u64,
            failures: junit.failures as u64,
            errors: junit.errors as u64,
            skipped: junit.skipped as u64,
        };
        if junit_counts != counted {
            self.problem(format!(
                "{JUNIT_XML} counts {junit_counts} but {REPORT_JSON} holds {counted}"
            ));
        }
        if let Some(name) = str_of(report, "name")
            && junit.name.as_ref().map(|n| n.as_str()) != Some(name)
        {
            self.problem(format!(
                "{JUNIT_XML} names the run {:?} but {REPORT_JSON} {name:?}",
                junit.name.as_ref().map(|n| n.as_str()).unwrap_or("")
            ));
        }

        // Case by case, keyed by suite and id: the verdict and classname must agree.
        let mut in_report: BTreeMap<(String, String), (String, String)> = BTreeMap::new();
        for (suite, case) in report::cases(report) {
            in_report.insert(
                (
                    suite.to_string(),
                    str_of(case, "id").unwrap_or("").to_string(),
                ),
                (
                    str_of(case, "classname").unwrap_or("").to_string(),
                    report::verdict(case).to_string(),
                ),
            );
        }
        let report_props = property_map(report);
        for suite in &junit.test_suites {
            let suite_name = suite.name.as_str();
            // Properties the report also has must have the same values (run id, versions…).
            let mut props = report_props.clone();
            if let Some(s) = report::array(report, "suites")
                .iter()
                .find(|s| str_of(s, "name") == Some(suite_name))
            {
                props.extend(pairs(s));
            }
            for p in &suite.properties {
                if let Some(v) = props.get(p.name.as_str())
                    && v != p.value.as_str()
                {
                    self.problem(format!(
                        "{JUNIT_XML} and {REPORT_JSON} disagree on property {} of suite {suite_name}: junit says {:?}, the report {v:?}",
                        p.name.as_str(),
                        p.value.as_str()
                    ));
                }
            }
            for case in &suite.test_cases {
                let key = (suite_name.to_string(), case.name.as_str().to_string());
                let verdict = match &case.status {
                    quick_junit::TestCaseStatus::Success { .. } => "passed",
                    quick_junit::TestCaseStatus::NonSuccess {
                        kind: quick_junit::NonSuccessKind::Failure,
                        ..
                    } => "failed",
                    quick_junit::TestCaseStatus::NonSuccess { .. } => "error",
                    quick_junit::TestCaseStatus::Skipped { .. } => "skipped",
                };
                let classname = case.classname.as_ref().map(|c| c.as_str()).unwrap_or("");
                match in_report.remove(&key) {
                    None => self.problem(format!(
                        "{JUNIT_XML} has case {} in suite {suite_name}, which {REPORT_JSON} does not",
                        key.1
                    )),
                    Some((rc, rv)) => {
                        if rv != verdict {
                            self.problem(format!(
                                "{JUNIT_XML} and {REPORT_JSON} disagree on case {} in suite {suite_name}: junit says {verdict}, the report {rv}",
                                key.1
                            ));
                        }
                        if rc != classname {
                            self.problem(format!(
                                "{JUNIT_XML} and {REPORT_JSON} disagree on the classname of case {} in suite {suite_name}: {classname:?} against {rc:?}",
                                key.1
                            ));
                        }
                    }
                }
            }
        }
        for ((suite, id), _) in in_report {
            self.problem(format!(
                "{REPORT_JSON} has case {id} in suite {suite}, which {JUNIT_XML} does not"
            ));
        }
    }

    /// 3c. summary.html was rendered from this report.
    fn summary(&mut self, report: &Value) {
        let Some(bytes) = self.read(SUMMARY_HTML) else {
            return; // named as missing by the subject check
        };
        let html = String::from_utf8_lossy(&bytes);
        let expected = crate::summary::facts(report);
        for (what, name, value) in [
            ("verdict", META_VERDICT, &expected.verdict),
            ("run id", META_RUN_ID, &expected.run_id),
            ("counts", META_COUNTS, &expected.counts),
        ] {
            match crate::summary::meta(&html, name) {
                None => self.problem(format!(
                    "{SUMMARY_HTML} does not carry the {what} of the run (<meta name=\"{name}\">); render it from {REPORT_JSON} with the harness"
                )),
                Some(found) if found != crate::summary::escape(value) => self.problem(format!(
                    "{SUMMARY_HTML} and {REPORT_JSON} disagree on the {what}: the page says {found:?}, the report {value:?}"
                )),
                Some(_) => {}
            }
        }
    }

    /// 3d. Each attachment report.json lists is an evidence file with that sha256.
    fn attachments(&mut self, report: &Value) {
        for (suite, case) in report::cases(report) {
            for a in report::array(case, "attachments") {
                let path = str_of(a, "path").unwrap_or("");
                let id = str_of(case, "id").unwrap_or("?");
                if !path.starts_with(&format!("{EVIDENCE_DIR}/")) || !is_report_path(path) {
                    self.problem(format!(
                        "{REPORT_JSON} attaches {path:?} to {suite}/{id}, which is not under {EVIDENCE_DIR}/"
                    ));
                    continue;
                }
                let Some(recorded) = str_of(a, "sha256") else {
                    continue;
                };
                match sha256_file(&self.out_dir.join(path)) {
                    Ok(actual) if actual != recorded => self.problem(format!(
                        "{path} does not match {REPORT_JSON}: its sha256 is {actual}, the report records {recorded} for {suite}/{id}"
                    )),
                    Ok(_) => {}
                    // A missing evidence file is named by the subject check too, but a
                    // report may attach a file the attestation never listed.
                    Err(_) => self.problem(format!(
                        "{path} is missing: {REPORT_JSON} attaches it to {suite}/{id}"
                    )),
                }
            }
        }
    }

    /// 4. The bundle's inputs now against the certified ones.
    fn bundle(&mut self, certified: &[InputDigest], current: &[InputDigest]) {
        self.checked += current.len();
        for change in diff_inputs(certified, current) {
            self.problem(match change {
                InputChange::Added(i) => format!(
                    "input {} ({}) was added to the bundle after certification",
                    i.path, i.role
                ),
                InputChange::Removed(i) => format!(
                    "input {} ({}) was certified but is no longer in the bundle",
                    i.path, i.role
                ),
                InputChange::Changed { before, after } if before.sha256 != after.sha256 => {
                    format!(
                        "input {} ({}) changed since certification: its sha256 is now {}, certified {}",
                        after.path, after.role, after.sha256, before.sha256
                    )
                }
                InputChange::Changed { before, after } => format!(
                    "input {} changed role since certification: now {}, certified as {}",
                    after.path, after.role, before.role
                ),
            });
        }
    }
}

/// A name an attestation may list: a report file or a relative path under `evidence/`
/// that cannot climb out of the output directory.
fn is_report_path(name: &str) -> bool {
    REPORT_FILES.contains(&name)
        || name.strip_prefix("evidence/").is_some_and(|rest| {
            !rest.is_empty()
                && !rest.contains('\\')
                && rest
                    .split('/')
                    .all(|part| !part.is_empty() && part != "." && part != "..")
        })
}

/// A value as JSON, for messages.
fn show<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// `properties` as `[[key, value], …]` pairs.
fn pairs(v: &Value) -> impl Iterator<Item = (String, String)> + '_ {
    report::array(v, "properties").iter().filter_map(|p| {
        let p = p.as_array()?;
        Some((
            p.first()?.as_str()?.to_string(),
            p.get(1)?.as_str()?.to_string(),
        ))
    })
}

fn property_map(report: &Value) -> BTreeMap<String, String> {
    pairs(report).collect()
}

/// How one input differs between two records.
enum InputChange<'a> {
    Added(&'a InputDigest),
    Removed(&'a InputDigest),
    Changed {
        before: &'a InputDigest,
        after: &'a InputDigest,
    },
}

impl InputChange<'_> {
    /// One sentence; `after` names the newer record, `before` the older one.
    fn describe(&self, after: &str, before: &str) -> String {
        match self {
            InputChange::Added(i) => {
                format!("{} ({}) is in {after} but not in {before}", i.path, i.role)
            }
            InputChange::Removed(i) => {
                format!("{} ({}) is in {before} but not in {after}", i.path, i.role)
            }
            InputChange::Changed {
                before: b,
                after: a,
            } if a.sha256 != b.sha256 => format!(
                "{} ({}) changed: its sha256 is {} in {after}, {} in {before}",
                a.path, a.role, a.sha256, b.sha256
            ),
            InputChange::Changed {
                before: b,
                after: a,
            } => format!(
                "{} changed role: {} in {after}, {} in {before}",
                a.path, a.role, b.role
            ),
        }
    }
}

/// Inputs added, removed or changed from `before` to `after`, by path, in path order.
fn diff_inputs<'a>(before: &'a [InputDigest], after: &'a [InputDigest]) -> Vec<InputChange<'a>> {
    let old: BTreeMap<&str, &InputDigest> = before.iter().map(|i| (i.path.as_str(), i)).collect();
    let new: BTreeMap<&str, &InputDigest> = after.iter().map(|i| (i.path.as_str(), i)).collect();
    let paths: BTreeSet<&str> = old.keys().chain(new.keys()).copied().collect();
    paths
        .into_iter()
        .filter_map(|p| match (old.get(p), new.get(p)) {
            (Some(b), Some(a)) if a != b => Some(InputChange::Changed {
                before: b,
                after: a,
            }),
            (Some(b), None) => Some(InputChange::Removed(b)),
            (None, Some(a)) => Some(InputChange::Added(a)),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{OutDir, certified_inputs, pretty, statement_inputs};

    fn attested() -> OutDir {
        let out = OutDir::new();
        attest::write(out.path(), &statement_inputs()).unwrap();
        out
    }

    fn problems(out: &OutDir, bundle: Option<&[InputDigest]>) -> Vec<String> {
        let v = verify(out.path(), bundle).unwrap();
        assert_eq!(v.ok, v.problems.is_empty());
        v.problems
    }

    fn assert_names(problems: &[String], needle: &str) {
        assert!(
            problems.iter().any(|p| p.contains(needle)),
            "no problem names {needle:?}: {problems:#?}"
        );
    }

    /// Flip one byte in the middle of a file (kept valid UTF-8: ASCII letters only).
    fn edit_one_byte(out: &OutDir, name: &str) {
        let path = out.path().join(name);
        let mut bytes = std::fs::read(&path).unwrap();
        let i = bytes
            .iter()
            .enumerate()
            .skip(bytes.len() / 2)
            .find(|(_, b)| b.is_ascii_lowercase())
            .map(|(i, _)| i)
            .unwrap();
        bytes[i] = if bytes[i] == b'a' { b'b' } else { b'a' };
        std::fs::write(&path, bytes).unwrap();
    }

    #[test]
    fn write_then_verify_passes() {
        let out = attested();
        let v = verify(out.path(), Some(&certified_inputs())).unwrap();
        assert_eq!(v.problems, Vec::<String>::new());
        assert!(v.ok);
        // 3 report files + 2 evidence files + 3 inputs.
        assert_eq!(v.checked, 8);
    }

    #[test]
    fn one_edited_byte_in_any_attested_file_is_named() {
        for name in [
            "report.json",
            "junit.xml",
            "summary.html",
            "evidence/http-probe.tls/chain.pem",
        ] {
            let out = attested();
            edit_one_byte(&out, name);
            let p = problems(&out, None);
            assert_names(&p, &format!("{name} changed since the run"));
        }
    }

    #[test]
    fn a_removed_evidence_file_is_named() {
        let out = attested();
        std::fs::remove_file(out.path().join("evidence/http-probe.status/response.txt")).unwrap();
        let p = problems(&out, None);
        assert_names(&p, "evidence/http-probe.status/response.txt is missing");
    }

    #[test]
    fn an_added_evidence_file_is_named() {
        let out = attested();
        out.write("evidence/http-probe.status/extra.txt", "planted");
        let p = problems(&out, None);
        assert_names(
            &p,
            "evidence/http-probe.status/extra.txt was added after the run",
        );
    }

    #[test]
    fn a_missing_attestation_fails_and_the_rest_is_still_checked() {
        let out = OutDir::new();
        edit_json(&out, "report.json", |r| r["counts"]["passed"] = 5.into());
        let p = problems(&out, None);
        assert_names(&p, "attestation.json is missing");
        assert_names(&p, "report.json states 5 tests");
    }

    #[test]
    fn a_changed_bundle_input_is_named() {
        let out = attested();
        let mut bundle = certified_inputs();
        bundle[1].sha256 = "f".repeat(64);
        let p = problems(&out, Some(&bundle));
        assert_eq!(p.len(), 1, "{p:#?}");
        assert_names(
            &p,
            "input blueprint.json (blueprint) changed since certification",
        );
    }

    #[test]
    fn an_added_or_removed_bundle_input_is_named() {
        let out = attested();
        let mut bundle = certified_inputs();
        bundle.push(InputDigest::new(
            "packages/extra/install.sh",
            "package",
            "e".repeat(64),
        ));
        let removed = bundle.remove(0);
        let p = problems(&out, Some(&bundle));
        assert_names(
            &p,
            "input packages/extra/install.sh (package) was added to the bundle after certification",
        );
        assert_names(
            &p,
            &format!(
                "input {} (candidate) was certified but is no longer in the bundle",
                removed.path
            ),
        );
    }

    /// The forger edits report.json and re-digests it in the attestation: the
    /// attestation's own record of the verdict gives it away.
    #[test]
    fn a_report_edited_and_redigested_still_fails() {
        let out = attested();
        edit_json(&out, "report.json", |r| {
            r["certification"]["verdict"] = "certified".into();
        });
        redigest(&out, "report.json");
        let p = problems(&out, None);
        assert!(
            !p.iter().any(|p| p.contains("changed since the run")),
            "{p:#?}"
        );
        assert_names(
            &p,
            "report.json and attestation.json disagree on the verdict",
        );
    }

    /// The forger edits report.json, the attestation's verdict, and the digest: junit.xml
    /// and summary.html still tell the truth.
    #[test]
    fn an_attestation_edited_to_match_an_edited_report_still_fails() {
        let out = attested();
        edit_json(&out, "report.json", |r| {
            // Turn the failed check into a pass, consistently within the report.
            let case = &mut r["suites"][0]["cases"][1];
            case["verdict"] = "passed".into();
            case.as_object_mut().unwrap().remove("message");
            r["counts"]["passed"] = 3.into();
            r["counts"]["failures"] = 0.into();
            r["certification"]["verdict"] = "certified".into();
        });
        redigest(&out, "report.json");
        edit_json(&out, "attestation.json", |a| {
            a["predicate"]["result"] = "PASSED".into();
            a["predicate"]["certification"]["verdict"] = "certified".into();
            a["predicate"]["passedTests"] =
                serde_json::json!(["http-probe.status", "http-probe.tls", "docs.front-matter"]);
            a["predicate"]["failedTests"] = serde_json::json!(["blueprint.deploy"]);
        });
        let p = problems(&out, None);
        assert!(
            !p.iter().any(|p| p.contains("attestation.json disagree")),
            "{p:#?}"
        );
        assert_names(&p, "junit.xml counts 5 tests, 1 failures");
        assert_names(
            &p,
            "junit.xml and report.json disagree on case http-probe.tls",
        );
        assert_names(&p, "summary.html and report.json disagree on the verdict");
    }

    #[test]
    fn an_input_edited_in_the_report_and_redigested_is_named() {
        let out = attested();
        edit_json(&out, "report.json", |r| {
            r["certification"]["inputs"][2]["sha256"] = "0".repeat(64).into();
        });
        redigest(&out, "report.json");
        let p = problems(&out, None);
        assert_names(
            &p,
            "disagree on the certified inputs: kb/public/deploy.md (kb-public) changed",
        );
    }

    #[test]
    fn an_evidence_file_that_disagrees_with_its_attachment_is_named() {
        let out = attested();
        edit_one_byte(&out, "evidence/http-probe.status/response.txt");
        redigest(&out, "evidence/http-probe.status/response.txt");
        let p = problems(&out, None);
        assert_names(
            &p,
            "evidence/http-probe.status/response.txt does not match report.json",
        );
    }

    #[test]
    fn subjects_outside_the_output_directory_are_refused() {
        let out = attested();
        edit_json(&out, "attestation.json", |a| {
            a["subject"][3]["name"] = "evidence/../../etc/passwd".into();
        });
        let p = problems(&out, None);
        assert_names(&p, "lists \"evidence/../../etc/passwd\", which is neither");
    }

    #[test]
    fn an_unreadable_directory_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = verify(&dir.path().join("nope"), None).unwrap_err();
        assert!(err.to_string().contains("cannot read"), "{err}");
    }

    fn edit_json(out: &OutDir, name: &str, f: impl FnOnce(&mut Value)) {
        let mut v: Value =
            serde_json::from_slice(&std::fs::read(out.path().join(name)).unwrap()).unwrap();
        f(&mut v);
        out.write(name, &pretty(&v));
    }

    /// Record a file's current digest in the attestation, as a forger would.
    fn redigest(out: &OutDir, name: &str) {
        let sha = sha256_file(&out.path().join(name)).unwrap();
        edit_json(out, "attestation.json", |a| {
            for s in a["subject"].as_array_mut().unwrap() {
                if s["name"] == name {
                    s["digest"]["sha256"] = sha.clone().into();
                }
            }
        });
    }
}
