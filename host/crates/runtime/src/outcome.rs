//! What running a check produces. Everything a plugin can do ends here as
//! data: a verdict on the candidate's product ([`Status::Passed`],
//! [`Status::Failed`], [`Status::Skipped`]) or an [`Status::Error`] saying
//! why the check could not give one.

use std::time::Duration;

use serde::Serialize;

/// The result of one check run.
#[derive(Debug, Clone, Serialize)]
pub struct CheckRun {
    /// The check's id.
    pub check_id: String,
    /// 1 for the first run of this check.
    pub attempt: u32,
    /// The verdict, or why there is none.
    pub status: Status,
    /// Evidence the check attached (within the limits).
    pub evidence: Vec<Evidence>,
    /// Values the check measured.
    pub measurements: Vec<Measurement>,
    /// The plugin's log events, one per line, bounded.
    pub log: String,
    /// What the plugin wrote to stdout and stderr, bounded.
    pub stdio: String,
    /// Wall-clock time of the run, instantiation included.
    #[serde(serialize_with = "seconds")]
    pub duration: Duration,
}

fn seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// The verdict of a check, or why there is none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum Status {
    /// The candidate's product did what the check expects.
    Passed,
    /// The candidate's product did not.
    Failed {
        /// What happened, from the plugin.
        message: String,
    },
    /// The check does not apply.
    Skipped {
        /// Why, from the plugin.
        reason: String,
    },
    /// The check could not be run to a verdict.
    Error {
        /// Which limit or failure.
        kind: ErrorKind,
        /// The details.
        message: String,
    },
}

impl Status {
    /// An error of `kind` with a message.
    pub fn error(kind: ErrorKind, message: impl Into<String>) -> Status {
        // Messages quote the plugin (a panic's text, an evidence name): bounded, plain.
        Status::Error {
            kind,
            message: crate::text::message(&message.into()),
        }
    }

    /// Whether this is a pass.
    pub fn is_pass(&self) -> bool {
        matches!(self, Status::Passed)
    }
}

/// Why a check could not be run to a verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    /// The plugin could not be loaded (every check of it gets this).
    LoadFailed,
    /// The check id is not one the plugin declares.
    UnknownCheck,
    /// A fresh instance could not be created.
    Instantiation,
    /// The check ran past its wall-clock limit.
    Timeout,
    /// The check tried to use more memory than the limit.
    MemoryLimit,
    /// The plugin's stack overflowed.
    StackOverflow,
    /// The plugin panicked.
    Panic,
    /// The plugin trapped (for example an `unreachable` instruction).
    Trap,
    /// The plugin wrote or logged more than the limit.
    OutputLimit,
    /// The check attached more evidence than the limit.
    EvidenceLimit,
    /// The check returned a result the host cannot accept.
    MalformedResult,
    /// The check itself reported that it could not run (its `error` result).
    CheckError,
}

impl ErrorKind {
    /// A short name for reports, for example `timeout`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::LoadFailed => "load-failed",
            ErrorKind::UnknownCheck => "unknown-check",
            ErrorKind::Instantiation => "instantiation",
            ErrorKind::Timeout => "timeout",
            ErrorKind::MemoryLimit => "memory-limit",
            ErrorKind::StackOverflow => "stack-overflow",
            ErrorKind::Panic => "panic",
            ErrorKind::Trap => "trap",
            ErrorKind::OutputLimit => "output-limit",
            ErrorKind::EvidenceLimit => "evidence-limit",
            ErrorKind::MalformedResult => "malformed-result",
            ErrorKind::CheckError => "check-error",
        }
    }
}

/// A piece of evidence a check attached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// File-like name.
    pub name: String,
    /// Media type.
    pub media_type: String,
    /// The bytes.
    #[serde(skip)]
    pub data: Vec<u8>,
}

/// A value a check measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Measurement {
    /// What was measured.
    pub name: String,
    /// The value (finite).
    pub value: f64,
    /// Its unit.
    pub unit: String,
}
