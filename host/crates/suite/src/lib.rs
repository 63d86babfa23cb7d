//! Certification suites: the declarative, versioned rules a candidate is certified
//! against, one file per tier, and the certification decision they give.
//!
//! A suite (format 1, documented with an annotated example in
//! `certification-suites/README.md`) says, for one tier: the test account's monthly
//! credit, the time-to-value limit, how long a run may keep servers, which built-in
//! checks are required and which advisory, how many passing plugin checks each
//! certification criterion needs, the documentation rules, and waivers (each with a
//! justification and an expiry).
//!
//! The shipped suites (`silver`, `gold`, `platinum`) are embedded in the harness, so
//! `certify run --suite silver` works from any directory; any other suite is a file.
//! Reading one reports **every** problem, each with file:line:column and what to do, and
//! keeps the SHA-256 of the exact bytes read for the report:
//!
//! ```
//! use certify_suite::{BuiltinCheck, Criterion, Results, Suite, Verdict};
//!
//! let suite = Suite::resolve("silver").unwrap();
//! assert_eq!(suite.monthly_credit_usd, 2_000);
//! println!("{} ({})", suite.label(), suite.sha256);
//!
//! let today = chrono::NaiveDate::from_ymd_opt(2026, 4, 1).unwrap();
//! let mut results = Results::new(today);
//! for check in BuiltinCheck::ALL {
//!     results = results.builtin(check, Verdict::Passed);
//! }
//! let results = results
//!     .plugin("service.health", Criterion::PerformsAsAdvertised, Verdict::Passed)
//!     .plugin("roi.page-load", Criterion::BusinessValue, Verdict::Passed);
//! let decision = suite.decide(&results);
//! assert!(decision.certified, "{:?}", decision.reasons);
//! ```

#![warn(missing_docs)]

mod decision;
mod model;
mod parse;
mod problem;

use std::path::{Path, PathBuf};

pub use decision::{
    AppliedWaiver, Blocker, BuiltinVerdict, CriterionVerdict, Decision, ExpiredWaiver, Outcome,
    PluginCheckResult, Results, Verdict,
};
pub use model::{
    BuiltinCheck, Criterion, DEFAULT_RUN_TIME_LIMIT_MINUTES, DocRules, DocSection,
    ENGINE_BLUEPRINT_LIMIT_MINUTES, FORMAT, Level, Suite, SuiteSource, Tier, Waiver, WaiverTarget,
};
pub use problem::{Problem, Severity};

/// The shipped suites' names, lowest tier first.
pub const SHIPPED: [&str; 3] = ["silver", "gold", "platinum"];

/// The shipped suite files, embedded so the harness needs no files beside it.
const SHIPPED_TEXT: [(&str, &str); 3] = [
    (
        "silver",
        include_str!("../../../../certification-suites/silver.toml"),
    ),
    (
        "gold",
        include_str!("../../../../certification-suites/gold.toml"),
    ),
    (
        "platinum",
        include_str!("../../../../certification-suites/platinum.toml"),
    ),
];

/// Why a suite could not be had.
#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    /// The file could not be read.
    #[error("cannot read suite {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not UTF-8 text (so not TOML).
    #[error("suite {} is not UTF-8 text; a suite is a TOML file (see certification-suites/README.md)", path.display())]
    NotText {
        /// The file.
        path: PathBuf,
    },
    /// The file is larger than [`MAX_SUITE_BYTES`].
    #[error("suite {} is larger than {MAX_SUITE_BYTES} bytes; a suite is a short TOML file", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
    },
    /// No shipped suite has this name.
    #[error("there is no shipped suite named {name:?}; use one of {} or give the path of a suite file", SHIPPED.join(", "))]
    UnknownShipped {
        /// The name asked for.
        name: String,
    },
    /// The suite has errors; `problems` holds every error and warning found.
    #[error("{}", summary(file, problems))]
    Invalid {
        /// The file, as problems name it.
        file: PathBuf,
        /// Every problem, in file order.
        problems: Vec<Problem>,
    },
}

impl SuiteError {
    /// The problems of an invalid suite (empty for the other errors).
    pub fn problems(&self) -> &[Problem] {
        match self {
            SuiteError::Invalid { problems, .. } => problems,
            _ => &[],
        }
    }
}

fn summary(file: &Path, problems: &[Problem]) -> String {
    certify_diag::summary(problems, |errors| {
        format!(
            "suite {} is not valid ({errors} {}):",
            file.display(),
            if errors == 1 { "error" } else { "errors" }
        )
    })
}

/// The largest suite file read (the shipped ones are about 2 KB).
pub const MAX_SUITE_BYTES: u64 = 256 * 1024;

impl Suite {
    /// Reads and validates a suite file (at most [`MAX_SUITE_BYTES`]).
    pub fn load(path: impl AsRef<Path>) -> Result<Suite, SuiteError> {
        use std::io::Read as _;
        let path = path.as_ref();
        let mut bytes = Vec::new();
        std::fs::File::open(path)
            .and_then(|f| f.take(MAX_SUITE_BYTES + 1).read_to_end(&mut bytes))
            .map_err(|source| SuiteError::Read {
                path: path.to_path_buf(),
                source,
            })?;
        if bytes.len() as u64 > MAX_SUITE_BYTES {
            return Err(SuiteError::TooLarge {
                path: path.to_path_buf(),
            });
        }
        let text = String::from_utf8(bytes).map_err(|_| SuiteError::NotText {
            path: path.to_path_buf(),
        })?;
        Suite::parse(path, &text)
    }

    /// Validates a suite's text; `path` is where problems say it is. The digest is of
    /// `text`'s bytes.
    pub fn parse(path: impl AsRef<Path>, text: &str) -> Result<Suite, SuiteError> {
        let path = path.as_ref();
        let source = SuiteSource::File {
            path: path.to_path_buf(),
        };
        parse::parse(path, text, source).map_err(|problems| SuiteError::Invalid {
            file: path.to_path_buf(),
            problems,
        })
    }

    /// One of the shipped suites, by name (`silver`, `gold`, `platinum`).
    pub fn builtin(name: &str) -> Result<Suite, SuiteError> {
        let text = Suite::shipped_text(name).ok_or_else(|| SuiteError::UnknownShipped {
            name: name.to_string(),
        })?;
        let file = PathBuf::from(format!("certification-suites/{name}.toml"));
        let source = SuiteSource::Shipped {
            name: name.to_string(),
        };
        parse::parse(&file, text, source).map_err(|problems| SuiteError::Invalid { file, problems })
    }

    /// The exact text of a shipped suite, for `certify suites show`.
    pub fn shipped_text(name: &str) -> Option<&'static str> {
        SHIPPED_TEXT
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, text)| *text)
    }

    /// The shipped suites, lowest tier first.
    pub fn list() -> Vec<Suite> {
        SHIPPED
            .iter()
            // The shipped files are checked by this crate's tests, so a failure here
            // is a build that skipped them, not something a user can fix.
            .map(|name| Suite::builtin(name).expect("the shipped suites are valid"))
            .collect()
    }

    /// What `--suite` names: a shipped suite's name, or else the path of a suite file.
    /// A name that is also a file in the working directory still means the shipped
    /// suite; write `./silver` for the file.
    pub fn resolve(arg: &str) -> Result<Suite, SuiteError> {
        if Suite::shipped_text(arg).is_some() {
            return Suite::builtin(arg);
        }
        let looks_like_name = !arg.contains(['/', '\\', '.']);
        if looks_like_name && !Path::new(arg).exists() {
            return Err(SuiteError::UnknownShipped {
                name: arg.to_string(),
            });
        }
        Suite::load(arg)
    }
}

#[cfg(test)]
mod tests;
