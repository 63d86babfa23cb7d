//! Reports reviewers can trust: the typed report, its JUnit and HTML renderings, the
//! signed attestation that binds the run's report files and inputs together, the
//! verification that names whatever changed since, and the comparison of two reports.
//!
//! `certify run` writes an output directory:
//!
//! ```text
//! out/
//! ├── report.json               the record ("certify-report/1"): model::Report
//! ├── junit.xml                 for CI systems: junit::render(report.json)
//! ├── summary.html              the page reviewers read and print: summary::render(report.json)
//! ├── evidence/<check>/<file>   files the checks attached, referenced from report.json
//! ├── attestation.json          an in-toto Statement v1 over all of the above: attest::write
//! └── attestation.dsse.json     that statement signed, a DSSE envelope (with --sign-key): sign
//! ```
//!
//! - [`model`]: report.json as types. junit.xml and summary.html are pure functions of
//!   it, so verification renders them again and compares bytes.
//! - [`junit::render`], [`summary::render`]: the two renderings. The summary page puts
//!   the verdict per criterion and overall first, with who signed the report, then
//!   failures with their hints and locations, time-to-value, credit, teardown, the
//!   program's facts, the inputs and every case. Every string from the report is
//!   escaped, since command output and plugin messages are untrusted.
//! - [`attest::write`]: the in-toto Statement whose subjects are the report files and
//!   every evidence file (by sha256) and whose predicate is a test result
//!   (`https://in-toto.io/attestation/test-result/v0.1`) carrying the verdict, the check
//!   ids that passed and failed, the suite and harness (with the harness binary's
//!   sha256), and the certified inputs.
//! - [`sign`]: Ed25519 keys (PKCS#8 / SPKI PEM) and the DSSE envelope over the statement.
//! - [`verify::verify_with`]: for `certify report verify`: checks the signature against
//!   the given keys, recomputes every digest, cross-checks report.json against the
//!   statement, renders junit.xml and summary.html again, checks the harness against the
//!   released builds and the bundle's inputs against the certified ones.
//! - [`diff::diff`]: for `certify report diff`: two reports of one bundle, check by check.
//!
//! The formats are described in FORMAT.md beside this crate.
//!
//! ```no_run
//! use certify_review::{attest, model, sign, summary, verify};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let out = std::path::Path::new("out");
//! let report = model::Report::from_json(&std::fs::read(out.join("report.json"))?)?;
//! std::fs::write(out.join("summary.html"), summary::render(&report))?;
//! attest::write(
//!     out,
//!     &attest::StatementInputs { finished_at: "2026-09-01T10:04:12Z".into(), url: None },
//! )?;
//! let key = sign::SigningKey::read(std::path::Path::new("ci.key"))?;
//! sign::sign_out_dir(out, &key)?;
//! let options = verify::Options { keys: vec![key.public()], ..Default::default() };
//! let verification = verify::verify_with(out, &options)?;
//! for problem in &verification.problems {
//!     eprintln!("{problem}");
//! }
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

pub mod attest;
pub mod diff;
pub mod junit;
pub mod model;
pub mod sign;
pub mod summary;
pub mod verify;

use std::io::Read as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

pub use attest::{Statement, StatementInputs};
pub use verify::Verification;

/// The report files of an output directory, in the order the attestation lists them.
pub const REPORT_FILES: [&str; 3] = [JUNIT_XML, REPORT_JSON, SUMMARY_HTML];
/// The JUnit report.
pub const JUNIT_XML: &str = "junit.xml";
/// The machine-readable record.
pub const REPORT_JSON: &str = "report.json";
/// The reviewers' summary page.
pub const SUMMARY_HTML: &str = "summary.html";
/// The attestation: the unsigned in-toto Statement.
pub const ATTESTATION_JSON: &str = "attestation.json";
/// The signed attestation: a DSSE envelope whose payload is attestation.json.
pub const ENVELOPE_JSON: &str = "attestation.dsse.json";
/// The folder of evidence files.
pub const EVIDENCE_DIR: &str = "evidence";

/// One input file of a certified bundle, as reports and attestations record it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct InputDigest {
    /// Path relative to the bundle root, `/`-separated.
    pub path: String,
    /// What part of the bundle it is (`candidate`, `blueprint`, `package`, `kb-public`,
    /// `kb-internal`, `plugin`, `suite`, …).
    pub role: String,
    /// Lower-case hex SHA-256 of its bytes.
    pub sha256: String,
}

impl InputDigest {
    /// An input digest from its parts.
    pub fn new(
        path: impl Into<String>,
        role: impl Into<String>,
        sha256: impl Into<String>,
    ) -> InputDigest {
        InputDigest {
            path: path.into(),
            role: role.into(),
            sha256: sha256.into(),
        }
    }
}

/// Why a summary could not be attested or a directory could not be verified at all.
///
/// A report that fails verification is not an error: it is a [`Verification`] with
/// `ok: false` and the problems named.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReviewError {
    /// A file or directory could not be read or written.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// `read`, `write`, …
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The output directory's report files are not what `certify run` writes, so there is
    /// nothing to attest.
    #[error("cannot attest {}: {reason}", path.display())]
    Report {
        /// The offending file.
        path: PathBuf,
        /// What is wrong and what to do.
        reason: String,
    },
}

impl ReviewError {
    fn io(action: &'static str, path: &Path, source: std::io::Error) -> ReviewError {
        ReviewError::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }
}

/// The lower-case hex SHA-256 of a file's bytes, read in chunks (evidence can be large).
pub fn sha256_file(path: &Path) -> Result<String, ReviewError> {
    let mut file = std::fs::File::open(path).map_err(|e| ReviewError::io("read", path, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(ReviewError::io("read", path, e)),
        };
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// The lower-case hex SHA-256 of some bytes.
pub fn sha256_bytes(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod testutil;
