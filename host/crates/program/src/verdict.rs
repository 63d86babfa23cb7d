//! How a check ended, as report.json records it and `certify report verify` reads it
//! back: passed, failed (the candidate's product or documentation did not do what is
//! expected), error (it could not be run to a verdict) or skipped (it does not apply).

use serde::{Deserialize, Serialize};

/// How a case ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "lowercase")]
pub enum Verdict {
    /// It did what is expected.
    Passed,
    /// The candidate's product (or documentation) did not.
    Failed {
        /// What happened.
        message: String,
    },
    /// It could not be run to a verdict.
    Error {
        /// Which kind of problem, for example `timeout`.
        kind: String,
        /// What happened.
        message: String,
    },
    /// It does not apply.
    Skipped {
        /// Why.
        reason: String,
    },
}

impl Verdict {
    /// `passed`, `failed`, `error` or `skipped`, as report.json spells it.
    pub fn as_str(&self) -> &'static str {
        match self {
            Verdict::Passed => "passed",
            Verdict::Failed { .. } => "failed",
            Verdict::Error { .. } => "error",
            Verdict::Skipped { .. } => "skipped",
        }
    }
}
