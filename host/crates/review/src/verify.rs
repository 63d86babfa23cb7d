//! `certify report verify <out-dir> [--key PUB]... [--harness-sha256 HEX]... [--bundle DIR]`:
//! check who vouches for a report, recompute everything, and name whatever changed.
//!
//! What is checked, each failure becoming one problem that names the file:
//!
//! 0. **Signature** (with keys). `attestation.dsse.json` must carry an Ed25519 signature
//!    by one of the given keys over attestation.json's exact bytes (DSSE PAE). An unsigned
//!    report, a signature by another key, or any changed byte of the statement fails. The
//!    signed payload, not the file beside it, is then the statement checked below, and
//!    report.json must name the same signer (the summary page shows it). With released
//!    harness digests, the statement's harness sha256 must be one of them.
//! 1. **Digests.** Every subject of the statement is hashed again: a file changed,
//!    missing, or added among the report files and evidence is named.
//! 2. **Report against attestation.** The predicate report.json implies (verdict, reasons,
//!    run id, account, candidate, suite and harness, passed and failed check ids, and the
//!    certified inputs) must equal the attestation's. A report edited and re-digested in
//!    the attestation still fails here.
//! 3. **Report against itself, junit.xml and summary.html.** junit.xml and summary.html
//!    must be byte for byte what this harness version renders from report.json, so a
//!    page cannot say anything the (signed) record does not. Its stated counts against
//!    its cases; each case's verdict against junit.xml; its verdict, run id and counts
//!    against the ones summary.html carries (these name what differs); each
//!    attachment's sha256 against its evidence file.
//! 4. **Inputs.** Given the bundle's current inputs, every input file added, removed or
//!    changed since certification is named.
//!
//! Without keys, steps 1–4 still run, but a forger who rewrites every file consistently
//! passes them: only a signature says who vouches for the report.
//!
//! Nothing here stops at the first problem: a reviewer wants the whole list.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::Path;

use crate::attest::{self, EvidenceEntry, PREDICATE_TYPE, STATEMENT_TYPE, Statement, TestResult};
use crate::model::Counts;
use crate::model::{FORMAT, Report};
use crate::sign::{Envelope, MAX_ENVELOPE, PublicKey};
use crate::summary::{META_COUNTS, META_RUN_ID, META_VERDICT};
use crate::{
    ATTESTATION_JSON, ENVELOPE_JSON, EVIDENCE_DIR, InputDigest, JUNIT_XML, REPORT_FILES,
    REPORT_JSON, ReviewError, SUMMARY_HTML, sha256_file,
};

/// What to verify beyond consistency.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The bundle's inputs as they are now, to compare with the certified ones.
    pub bundle_inputs: Option<Vec<InputDigest>>,
    /// Public keys any one of which must have signed the statement. Empty: the signature
    /// is not checked, and nothing vouches for the report.
    pub keys: Vec<PublicKey>,
    /// sha256 of the released harness builds; when given, the statement's harness
    /// digest must be one of them.
    pub harness_sha256: Vec<String>,
}

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
    /// The key id of the given key whose signature verified; `None` when no key was
    /// given or none verified.
    pub signer: Option<String>,
    /// The key ids the envelope claims to be signed by, whether or not checked (none
    /// when the report is unsigned).
    pub claimed_signers: Vec<String>,
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
    verify_with(
        out_dir,
        &Options {
            bundle_inputs: bundle_inputs.map(<[InputDigest]>::to_vec),
            ..Options::default()
        },
    )
}

/// Verify the output directory of a `certify run` as `options` say: by key, against
/// released harness builds, against the bundle's current inputs.
///
/// Fails only when `out_dir` cannot be read at all; everything else is a problem in the
/// returned [`Verification`].
pub fn verify_with(out_dir: &Path, options: &Options) -> Result<Verification, ReviewError> {
    std::fs::read_dir(out_dir).map_err(|e| ReviewError::io("read", out_dir, e))?;
    let mut v = Verifier {
        out_dir,
        problems: Vec::new(),
        checked: 0,
        signer: None,
        claimed_signers: Vec::new(),
    };

    let signed = v.envelope(&options.keys);
    let statement = v.attestation(signed.as_deref());
    if let Some(st) = &statement
        && !options.harness_sha256.is_empty()
    {
        v.released_harness(st, &options.harness_sha256);
    }
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
        if let Some(keyid) = v.signer.clone() {
            v.named_signer(report, &keyid);
        }
        v.rendered(report);
        v.junit(report);
        v.summary(report);
        v.attachments(report);
    }
    if let Some(current) = options.bundle_inputs.as_deref() {
        // The attestation's record is the one bound to the report's digest; fall back to
        // the report's when the attestation is unreadable (already a problem).
        let certified = match (&statement, &report) {
            (Some(st), _) => Some(st.predicate.certification.inputs.clone()),
            (None, Some(r)) => r.certification.as_ref().map(attest::inputs),
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
        signer: v.signer,
        claimed_signers: v.claimed_signers,
    })
}

struct Verifier<'a> {
    out_dir: &'a Path,
    problems: Vec<String>,
    checked: usize,
    signer: Option<String>,
    claimed_signers: Vec<String>,
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

    /// 0. The envelope: with keys, the statement's bytes as one of them signed them.
    fn envelope(&mut self, keys: &[PublicKey]) -> Option<Vec<u8>> {
        let path = self.out_dir.join(ENVELOPE_JSON);
        let envelope = match path.symlink_metadata() {
            Err(_) => None,
            Ok(meta) if !meta.is_file() || meta.len() > MAX_ENVELOPE => {
                self.problem(format!(
                    "{ENVELOPE_JSON} is not a plain file of at most {MAX_ENVELOPE} bytes"
                ));
                return None;
            }
            Ok(_) => {
                let bytes = self.read(ENVELOPE_JSON)?;
                match Envelope::from_json(&bytes) {
                    Ok(e) => Some(e),
                    Err(e) => {
                        self.problem(format!("{ENVELOPE_JSON}: {e}"));
                        return None;
                    }
                }
            }
        };
        if let Some(e) = &envelope {
            self.claimed_signers = e.signatures.iter().map(|s| s.keyid.clone()).collect();
        }
        if keys.is_empty() {
            return None;
        }
        let Some(envelope) = envelope else {
            self.problem(format!(
                "the report is unsigned: {ENVELOPE_JSON} is missing, so nothing vouches for it (`certify run --sign-key` writes it)"
            ));
            return None;
        };
        match envelope.verify(keys) {
            Ok(verified) => {
                self.signer = Some(verified.keyid);
                Some(verified.payload)
            }
            Err(e) => {
                self.problem(format!("{ENVELOPE_JSON}: {e}"));
                None
            }
        }
    }

    /// The statement: the signed payload when there is one (attestation.json must be
    /// the same bytes), else attestation.json.
    fn attestation(&mut self, signed: Option<&[u8]>) -> Option<Statement> {
        let file = self.read(ATTESTATION_JSON);
        let bytes = match (signed, file) {
            (Some(signed), Some(file)) if signed == file.as_slice() => file,
            (Some(signed), file) => {
                self.problem(format!(
                    "{ATTESTATION_JSON} is {} the statement that was signed; the signed one in {ENVELOPE_JSON} is checked instead",
                    if file.is_some() { "not" } else { "missing, and so is not" }
                ));
                signed.to_vec()
            }
            (None, Some(file)) => file,
            (None, None) => {
                self.problem(format!(
                    "{ATTESTATION_JSON} is missing: nothing binds the report files to the run; verify the directory `certify run` wrote, as it wrote it"
                ));
                return None;
            }
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

    fn report(&mut self) -> Option<Report> {
        // A missing report.json is named by the subject check (or the unattested-files
        // check without an attestation); here only what it says matters.
        let bytes = self.read(REPORT_JSON)?;
        match Report::from_json(&bytes) {
            Ok(r) => Some(r),
            Err(e) => {
                self.problem(format!(
                    "{REPORT_JSON} is not a {FORMAT} report this harness writes: {e}"
                ));
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
    fn report_against_attestation(&mut self, report: &Report, attested: &TestResult) {
        let expected = match attest::predicate_from(
            report,
            &attested.certification.times.finished_at,
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

    /// 0b. The harness that made the report is a released build.
    fn released_harness(&mut self, st: &Statement, released: &[String]) {
        let harness = st
            .predicate
            .configuration
            .iter()
            .find(|c| c.annotations.get("kind").map(String::as_str) == Some("harness"))
            .and_then(|c| c.sha256());
        match harness {
            None => self.problem(format!(
                "{ATTESTATION_JSON} records no sha256 of the harness that ran, so it cannot be matched to a released build"
            )),
            Some(sha) if !released.iter().any(|r| r.eq_ignore_ascii_case(sha)) => {
                self.problem(format!(
                    "the report was made by a harness build with sha256 {sha}, which is not among the released builds given: a patched or unreleased harness"
                ))
            }
            Some(_) => {}
        }
    }

    /// 0c. report.json names the key that signed it (the summary page shows that name).
    fn named_signer(&mut self, report: &Report, keyid: &str) {
        let named = report
            .certification
            .as_ref()
            .and_then(|c| c.signer.as_ref())
            .map(|s| s.keyid.as_str());
        if named != Some(keyid) {
            self.problem(format!(
                "{REPORT_JSON} names {} as its signer, but the statement is signed by key {keyid}",
                named.map_or("no key".to_string(), |k| format!("key {k}"))
            ));
        }
    }

    /// 3. junit.xml and summary.html are exactly what report.json renders to.
    fn rendered(&mut self, report: &Report) {
        let ours = env!("CARGO_PKG_VERSION");
        match report.property("harness.version") {
            Some(v) if v == ours => {}
            other => {
                self.problem(format!(
                    "{REPORT_JSON} was written by certify {}; this is certify {ours}, which cannot vouch for how that version renders junit.xml and summary.html: verify with the same version",
                    other.unwrap_or("(unknown version)")
                ));
                return;
            }
        }
        let expected = [
            (JUNIT_XML, crate::junit::render(report)),
            (SUMMARY_HTML, Ok(crate::summary::render(report))),
        ];
        for (name, rendering) in expected {
            let Some(found) = self.read(name) else {
                continue; // named as missing by the subject check
            };
            match rendering {
                Err(e) => self.problem(format!("{REPORT_JSON} cannot be rendered as {name}: {e}")),
                Ok(text) if text.as_bytes() != found.as_slice() => self.problem(format!(
                    "{name} is not what {REPORT_JSON} renders to ({}): it shows something the report does not say",
                    first_difference(text.as_bytes(), &found)
                )),
                Ok(_) => {}
            }
        }
    }

    /// 3a. Counts and pass flag consistent with the report's own cases.
    fn report_against_itself(&mut self, report: &Report) {
        let counted = report.counted();
        let stated = report.counts;
        if stated != counted {
            self.problem(format!(
                "{REPORT_JSON} states {stated} but its cases hold {counted}"
            ));
        }
        let all_passed = counted.failures == 0 && counted.errors == 0;
        let passed = report.passed;
        if passed != all_passed {
            self.problem(format!(
                "{REPORT_JSON} says passed: {passed}, but its cases hold {counted}"
            ));
        }
    }

    /// 3b. junit.xml tells the same story as report.json, case by case.
    fn junit(&mut self, report: &Report) {
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
        let counted = report.counted();
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
        let name = &report.name;
        if junit.name.as_ref().map(|n| n.as_str()) != Some(name) {
            self.problem(format!(
                "{JUNIT_XML} names the run {:?} but {REPORT_JSON} {name:?}",
                junit.name.as_ref().map(|n| n.as_str()).unwrap_or("")
            ));
        }

        // Case by case, keyed by suite and id: the verdict and classname must agree. Ids
        // are unique within a suite in what this harness writes; a repeated one (from an
        // older harness) is matched in order rather than mistaken for a missing case.
        let mut in_report: BTreeMap<(String, String), VecDeque<(String, String)>> = BTreeMap::new();
        for (suite, case) in report.cases() {
            in_report
                .entry((suite.name.clone(), case.id.clone()))
                .or_default()
                .push_back((case.classname.clone(), case.verdict.as_str().to_string()));
        }
        let report_props = property_map(report);
        for suite in &junit.test_suites {
            let suite_name = suite.name.as_str();
            // Properties the report also has must have the same values (run id, versions…).
            let mut props = report_props.clone();
            if let Some(s) = report.suites.iter().find(|s| s.name == suite_name) {
                props.extend(s.properties.iter().cloned());
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
                match in_report.get_mut(&key).and_then(VecDeque::pop_front) {
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
        for ((suite, id), _) in in_report.into_iter().filter(|(_, left)| !left.is_empty()) {
            self.problem(format!(
                "{REPORT_JSON} has case {id} in suite {suite}, which {JUNIT_XML} does not"
            ));
        }
    }

    /// 3c. summary.html was rendered from this report.
    fn summary(&mut self, report: &Report) {
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
    fn attachments(&mut self, report: &Report) {
        for (suite, case) in report.cases() {
            let (suite, id) = (&suite.name, &case.id);
            for a in &case.attachments {
                let path = a.path.as_str();
                if !path.starts_with(&format!("{EVIDENCE_DIR}/")) || !is_report_path(path) {
                    self.problem(format!(
                        "{REPORT_JSON} attaches {path:?} to {suite}/{id}, which is not under {EVIDENCE_DIR}/"
                    ));
                    continue;
                }
                let recorded = &a.sha256;
                match sha256_file(&self.out_dir.join(path)) {
                    Ok(actual) if actual != *recorded => self.problem(format!(
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

/// Where two renderings first differ, for a message: a line number.
fn first_difference(expected: &[u8], found: &[u8]) -> String {
    let at = expected
        .iter()
        .zip(found)
        .position(|(a, b)| a != b)
        .unwrap_or(expected.len().min(found.len()));
    let line = found[..at].iter().filter(|b| **b == b'\n').count() + 1;
    format!("first difference on line {line}")
}

/// A value as JSON, for messages.
fn show<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

fn property_map(report: &Report) -> BTreeMap<String, String> {
    report.properties.iter().cloned().collect()
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
    use serde_json::Value;

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

    /// A report from an older harness whose ids repeat within a suite (one line naming two
    /// things gave two cases `kb.bundle.names:12`) still verifies untouched: cases are
    /// matched in order, not mistaken for missing ones; a dropped repeat is still named.
    #[test]
    fn repeated_ids_in_a_suite_verify_and_a_dropped_repeat_is_named() {
        let mut report = crate::testutil::report();
        let blueprint = &mut report["suites"][1]["cases"];
        let mut twin = blueprint[0].clone();
        twin["verdict"] = "passed".into();
        blueprint.as_array_mut().unwrap().push(twin);
        report["counts"]["tests"] = (report["counts"]["tests"].as_u64().unwrap() + 1).into();
        report["counts"]["passed"] = (report["counts"]["passed"].as_u64().unwrap() + 1).into();
        let out = OutDir::with_report(&report);
        attest::write(out.path(), &statement_inputs()).unwrap();
        assert_eq!(problems(&out, None), Vec::<String>::new());

        let junit = std::fs::read_to_string(out.path().join("junit.xml")).unwrap();
        let last = junit.rfind("<testcase name=\"blueprint.deploy\"").unwrap();
        let end = last + junit[last..].find("</testcase>").unwrap() + "</testcase>".len();
        out.write("junit.xml", &format!("{}{}", &junit[..last], &junit[end..]));
        let p = problems(&out, None);
        assert_names(
            &p,
            "has case blueprint.deploy in suite blueprint, which junit.xml does not",
        );
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

    // ---- Signed reports: every forgery must fail with the signer's key. ----

    use crate::sign::{SigningKey, sign_out_dir};
    use crate::testutil::{junit, report as fixture_report};

    /// An honest signed output directory: report.json names the key, then everything is
    /// rendered, attested and signed as `certify run --sign-key` does.
    fn signed(key: &SigningKey) -> OutDir {
        let out = OutDir::new();
        write_as_the_harness(&out, key, |r| r);
        out
    }

    /// Write report.json (after `edit`), its renderings, the statement and the envelope,
    /// exactly as the harness would, signed by `key`: what a forger with that key does.
    fn write_as_the_harness(out: &OutDir, key: &SigningKey, edit: impl FnOnce(Value) -> Value) {
        let mut report: Value =
            serde_json::from_slice(&std::fs::read(out.path().join("report.json")).unwrap())
                .unwrap_or_else(|_| fixture_report());
        report["certification"]["signer"] =
            serde_json::json!({"algorithm": "ed25519", "keyid": key.public().keyid()});
        let report = edit(report);
        rewrite_unsigned(out, &report);
        sign_out_dir(out.path(), key).unwrap();
    }

    /// Rewrite report.json, junit.xml, summary.html and the statement consistently, with
    /// every digest recomputed, but leave the envelope alone (the forger has no key).
    fn rewrite_unsigned(out: &OutDir, report: &Value) {
        out.write("report.json", &pretty(report));
        out.write("junit.xml", &junit(report));
        out.write("summary.html", &crate::testutil::summary(report));
        attest::write(out.path(), &statement_inputs()).unwrap();
    }

    fn by_key(out: &OutDir, keys: &[&SigningKey]) -> Verification {
        verify_with(
            out.path(),
            &Options {
                keys: keys.iter().map(|k| k.public()).collect(),
                ..Options::default()
            },
        )
        .unwrap()
    }

    /// Make the fixture's run certified, consistently within report.json.
    fn certified(mut r: Value) -> Value {
        let case = &mut r["suites"][0]["cases"][1];
        case["verdict"] = "passed".into();
        case.as_object_mut().unwrap().remove("message");
        let case = &mut r["suites"][1]["cases"][0];
        case["verdict"] = "passed".into();
        case.as_object_mut().unwrap().remove("message");
        case.as_object_mut().unwrap().remove("kind");
        r["counts"] =
            serde_json::json!({"tests": 5, "passed": 4, "failures": 0, "errors": 0, "skipped": 1});
        r["passed"] = true.into();
        r["certification"]["verdict"] = "certified".into();
        r["certification"]["reasons"] =
            serde_json::json!(["Certified: every required check passed."]);
        r
    }

    #[test]
    fn an_honest_signed_report_verifies_by_its_key() {
        let key = SigningKey::generate().unwrap();
        let out = signed(&key);
        let v = by_key(&out, &[&key]);
        assert_eq!(v.problems, Vec::<String>::new());
        assert_eq!(v.signer, Some(key.public().keyid()));
        // Any of several given keys will do.
        let other = SigningKey::generate().unwrap();
        assert!(by_key(&out, &[&other, &key]).ok);
        // The page says who signed it.
        let html = std::fs::read_to_string(out.path().join("summary.html")).unwrap();
        assert!(
            html.contains(&key.public().keyid()),
            "the summary names the signer"
        );
    }

    #[test]
    fn an_unsigned_report_is_rejected_by_key() {
        let key = SigningKey::generate().unwrap();
        let out = attested();
        assert!(
            verify(out.path(), None).unwrap().ok,
            "consistent, but vouched for by no one"
        );
        let v = by_key(&out, &[&key]);
        assert_names(&v.problems, "the report is unsigned");
        let html = std::fs::read_to_string(out.path().join("summary.html")).unwrap();
        assert!(html.contains("Unsigned"), "the summary says so");
    }

    /// Forgery 1: flip the verdict in report.json, render junit.xml and summary.html from
    /// it, re-write the statement with every digest recomputed. Consistent throughout —
    /// only the signature gives it away.
    #[test]
    fn forgery_a_flipped_verdict_with_every_digest_recomputed_is_rejected() {
        let key = SigningKey::generate().unwrap();
        let out = signed(&key);
        let forged = certified(
            serde_json::from_slice(&std::fs::read(out.path().join("report.json")).unwrap())
                .unwrap(),
        );
        rewrite_unsigned(&out, &forged);
        assert!(
            verify(out.path(), None).unwrap().ok,
            "without a key the forgery is consistent: {:#?}",
            verify(out.path(), None).unwrap().problems
        );
        let v = by_key(&out, &[&key]);
        assert!(!v.ok);
        assert_names(
            &v.problems,
            "attestation.json is not the statement that was signed",
        );
        assert_names(&v.problems, "report.json changed since the run");
        assert_names(
            &v.problems,
            "report.json and attestation.json disagree on the verdict",
        );

        // Copying the new statement into the envelope's payload breaks the signature.
        let mut env: crate::sign::Envelope =
            serde_json::from_slice(&std::fs::read(out.path().join(crate::ENVELOPE_JSON)).unwrap())
                .unwrap();
        use base64ct::Encoding as _;
        env.payload = base64ct::Base64::encode_string(
            &std::fs::read(out.path().join(ATTESTATION_JSON)).unwrap(),
        );
        out.write(crate::ENVELOPE_JSON, &env.to_json());
        let v = by_key(&out, &[&key]);
        assert_names(&v.problems, "does not verify");
        assert_eq!(v.signer, None);
    }

    /// Forgery 2: a summary.html that says Certified, with its digest recomputed.
    #[test]
    fn forgery_a_summary_that_says_certified_is_rejected() {
        let key = SigningKey::generate().unwrap();
        let out = signed(&key);
        let real = std::fs::read_to_string(out.path().join("summary.html")).unwrap();
        let forged_page = crate::testutil::summary(&certified(fixture_report()));
        assert_ne!(real, forged_page);
        out.write("summary.html", &forged_page);
        redigest(&out, "summary.html");
        let v = by_key(&out, &[&key]);
        assert!(!v.ok);
        assert_names(
            &v.problems,
            "attestation.json is not the statement that was signed",
        );
        assert_names(&v.problems, "summary.html changed since the run");
        assert_names(
            &v.problems,
            "summary.html is not what report.json renders to",
        );
        // Even unsigned, the page no longer matches the record it claims to show.
        assert_names(
            &problems(&out, None),
            "summary.html is not what report.json renders to",
        );
    }

    /// Forgery 3: another run's evidence swapped in (with or without the statement
    /// re-written).
    #[test]
    fn forgery_another_runs_evidence_is_rejected() {
        let key = SigningKey::generate().unwrap();
        let out = signed(&key);
        let other = signed(&key);
        other.write(
            "evidence/http-probe.tls/chain.pem",
            "-----BEGIN CERTIFICATE-----\nOTHER\n-----END CERTIFICATE-----\n",
        );
        std::fs::copy(
            other.path().join("evidence/http-probe.tls/chain.pem"),
            out.path().join("evidence/http-probe.tls/chain.pem"),
        )
        .unwrap();
        let v = by_key(&out, &[&key]);
        assert_names(
            &v.problems,
            "evidence/http-probe.tls/chain.pem changed since the run",
        );
        redigest(&out, "evidence/http-probe.tls/chain.pem");
        let v = by_key(&out, &[&key]);
        assert_names(
            &v.problems,
            "attestation.json is not the statement that was signed",
        );
        assert_names(
            &v.problems,
            "evidence/http-probe.tls/chain.pem changed since the run",
        );

        // A whole other signed run's directory under this report's name: its own
        // signature verifies, but it is that run, with that run's id and evidence.
        let twin = signed(&key);
        let mut report: Value = fixture_report();
        report["certification"]["run_id"] = "run-20260902-zz99".into();
        std::fs::write(twin.path().join("report.json"), pretty(&report)).unwrap();
        write_as_the_harness(&twin, &key, |r| r);
        for name in ["attestation.json", "attestation.dsse.json"] {
            std::fs::copy(twin.path().join(name), out.path().join(name)).unwrap();
        }
        let v = by_key(&out, &[&key]);
        assert_names(&v.problems, "report.json changed since the run");
        assert_names(&v.problems, "disagree on the run id");
    }

    /// Forgery 4: everything re-written as a certified run and signed with the forger's
    /// own key (the report naming it as signer).
    #[test]
    fn forgery_resigned_with_another_key_is_rejected() {
        let key = SigningKey::generate().unwrap();
        let forger = SigningKey::generate().unwrap();
        let out = signed(&key);
        write_as_the_harness(&out, &forger, certified);
        assert!(
            by_key(&out, &[&forger]).ok,
            "it is a well-formed report by the forger"
        );
        let v = by_key(&out, &[&key]);
        assert!(!v.ok);
        assert_names(
            &v.problems,
            &format!(
                "it is signed by key {}, which is none of the keys given",
                forger.public().keyid()
            ),
        );

        // Naming the real key as signer, in report.json and in the envelope, while
        // signing with another does not help.
        write_as_the_harness(&out, &forger, |mut r| {
            r["certification"]["signer"]["keyid"] = key.public().keyid().into();
            certified(r)
        });
        edit_json(&out, crate::ENVELOPE_JSON, |e| {
            e["signatures"][0]["keyid"] = key.public().keyid().into();
        });
        let v = by_key(&out, &[&key]);
        assert_names(&v.problems, "does not verify");
    }

    #[test]
    fn any_changed_byte_is_rejected_by_key() {
        let key = SigningKey::generate().unwrap();
        for name in [
            "report.json",
            "junit.xml",
            "summary.html",
            "attestation.json",
            "attestation.dsse.json",
            "evidence/http-probe.status/response.txt",
        ] {
            let out = signed(&key);
            edit_one_byte(&out, name);
            let v = by_key(&out, &[&key]);
            assert!(!v.ok, "{name} edited, yet verified");
        }
    }

    #[test]
    fn the_signer_report_json_names_must_be_the_key_that_signed() {
        let key = SigningKey::generate().unwrap();
        let out = OutDir::new();
        // Signed, but report.json claims no signer (so the page says "unsigned").
        attest::write(out.path(), &statement_inputs()).unwrap();
        sign_out_dir(out.path(), &key).unwrap();
        let v = by_key(&out, &[&key]);
        assert_names(
            &v.problems,
            "report.json names no key as its signer, but the statement is signed by key",
        );
    }

    #[test]
    fn a_harness_not_among_the_released_builds_is_named() {
        let key = SigningKey::generate().unwrap();
        let out = signed(&key);
        let check = |released: &[&str]| {
            verify_with(
                out.path(),
                &Options {
                    keys: vec![key.public()],
                    harness_sha256: released.iter().map(|s| s.to_string()).collect(),
                    ..Options::default()
                },
            )
            .unwrap()
        };
        assert!(check(&[&"1".repeat(64), &"9".repeat(64)]).ok);
        let v = check(&[&"1".repeat(64)]);
        assert_names(&v.problems, "not among the released builds given");
    }

    #[test]
    fn a_junit_xml_that_says_more_than_the_report_is_named() {
        let out = attested();
        let mut report = fixture_report();
        report["suites"][0]["cases"][0]["output"] = "all good, trust me".into();
        out.write("junit.xml", &junit(&report));
        redigest(&out, "junit.xml");
        let p = problems(&out, None);
        assert_names(
            &p,
            "junit.xml is not what report.json renders to (first difference on line",
        );
    }

    #[test]
    fn a_report_from_another_harness_version_is_named() {
        let mut report = fixture_report();
        report["properties"][0][1] = "0.0.1".into();
        report["certification"]["harness"]["version"] = "0.0.1".into();
        let out = OutDir::with_report(&report);
        attest::write(out.path(), &statement_inputs()).unwrap();
        let p = problems(&out, None);
        assert_names(&p, "report.json was written by certify 0.0.1");
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
