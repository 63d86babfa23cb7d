//! Reports reviewers can trust: the summary page of a certification run, the
//! attestation that binds the run's report files and inputs together, and the
//! verification that names whatever changed since.
//!
//! `certify run` writes an output directory:
//!
//! ```text
//! out/
//! ├── junit.xml                 for CI systems
//! ├── report.json               the machine-readable record ("certify-report/1")
//! ├── summary.html              the page reviewers read and print: summary::render
//! ├── evidence/<check>/<file>   files the checks attached, referenced from report.json
//! └── attestation.json          an in-toto Statement v1 over all of the above: attest::write
//! ```
//!
//! - [`summary::render`]: report.json as an HTML page — verdict per criterion and overall
//!   first, then failures with their hints and locations, time-to-value, credit,
//!   teardown, the program's facts, the inputs and every case. Self-contained (no
//!   external assets, no JavaScript), with a print stylesheet; every string from the
//!   report is escaped, since command output and plugin messages are untrusted.
//! - [`attest::write`]: the in-toto Statement whose subjects are the report files and
//!   every evidence file (by sha256) and whose predicate is a test result
//!   (`https://in-toto.io/attestation/test-result/v0.1`) carrying the verdict, the check
//!   ids that passed and failed, the suite and harness, and the certified inputs.
//! - [`verify::verify`]: for `certify report verify <out-dir> [--bundle <bundle>]`:
//!   recomputes every digest, cross-checks report.json against the attestation,
//!   junit.xml and summary.html, and, given the bundle's current inputs, names every
//!   input file added, removed or changed.
//!
//! ```no_run
//! use certify_review::{attest, summary, verify};
//! # fn main() -> Result<(), certify_review::ReviewError> {
//! let out = std::path::Path::new("out");
//! let report: serde_json::Value =
//!     serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
//! std::fs::write(out.join("summary.html"), summary::render(&report)).unwrap();
//! let harness = std::env::current_exe().unwrap();
//! attest::write(
//!     out,
//!     &attest::StatementInputs {
//!         finished_at: "2026-09-01T10:04:12Z".into(),
//!         harness_sha256: Some(certify_review::sha256_file(&harness)?),
//!         url: None,
//!     },
//! )?;
//! let verification = verify::verify(out, None)?;
//! for problem in &verification.problems {
//!     eprintln!("{problem}");
//! }
//! # Ok(())
//! # }
//! ```
//!
//! The crate reads report.json as plain JSON, so that it does not depend on the harness
//! and a reviewer's tool can verify reports written by other harness versions.

#![warn(missing_docs)]

pub mod attest;
mod report;
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
/// The attestation.
pub const ATTESTATION_JSON: &str = "attestation.json";
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
