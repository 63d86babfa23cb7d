//! What a suite says, as typed data: the tier and its credit, limits, the level of each
//! built-in check, the plugin checks each criterion needs, documentation rules, waivers.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use chrono::NaiveDate;
use serde::{Serialize, Serializer};

use crate::problem::Problem;

pub use certify_program::{Criterion, DocRules, DocSection, Tier};

/// The `format` this crate reads.
pub const FORMAT: i64 = 1;

/// The Blueprint Engine stops a blueprint after this many minutes; a suite may ask for
/// less, never more.
pub const ENGINE_BLUEPRINT_LIMIT_MINUTES: u32 = 20;

/// What `[run] time_limit_minutes` is when a suite does not say.
pub const DEFAULT_RUN_TIME_LIMIT_MINUTES: u32 = 60;

/// A loaded, valid certification suite.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suite {
    /// Short name, e.g. `silver` (`name`).
    pub name: String,
    /// The suite's own version (`version`); reports record it next to the digest.
    #[serde(serialize_with = "display")]
    pub version: semver::Version,
    /// One line for people, e.g. "Silver certification" (`title`).
    pub title: String,
    /// The program tier the suite certifies for (`tier`).
    pub tier: Tier,
    /// The test account's monthly credit in US dollars (`[credit] monthly_usd`); the
    /// budget gate refuses anything that would overrun it.
    pub monthly_credit_usd: u32,
    /// The longest a blueprint may take from deploy to ready
    /// (`[time_to_value] limit_minutes`), at most [`ENGINE_BLUEPRINT_LIMIT_MINUTES`].
    pub time_to_value_minutes: u32,
    /// How long a run may keep servers (`[run] time_limit_minutes`): the budget reserves
    /// billed hours for this long.
    pub run_time_limit_minutes: u32,
    /// Every built-in check with its level (those the file leaves out are required).
    pub checks: BTreeMap<BuiltinCheck, Level>,
    /// The minimum number of passing plugin checks per criterion (`[criteria]`).
    pub criteria: BTreeMap<Criterion, u32>,
    /// Documentation rules (`[docs]`).
    pub docs: DocRules,
    /// Waivers, in file order (`[[waivers]]`), expired ones included: the decision
    /// reports those as expired.
    pub waivers: Vec<Waiver>,
    /// Where the suite came from.
    pub source: SuiteSource,
    /// SHA-256 of the exact bytes read, lower-case hex.
    pub sha256: String,
    /// Warnings found while reading (the suite is valid despite them).
    pub warnings: Vec<Problem>,
}

impl Suite {
    /// The level of a built-in check in this suite.
    pub fn level(&self, check: BuiltinCheck) -> Level {
        self.checks.get(&check).copied().unwrap_or(Level::Required)
    }

    /// The built-in checks that must pass (or be waived), in a stable order: the
    /// manifest a verifier holds a report against.
    pub fn required_checks(&self) -> Vec<BuiltinCheck> {
        BuiltinCheck::ALL
            .into_iter()
            .filter(|c| self.level(*c) == Level::Required)
            .collect()
    }

    /// The minimum number of passing plugin checks for a criterion.
    pub fn minimum(&self, criterion: Criterion) -> u32 {
        self.criteria.get(&criterion).copied().unwrap_or(0)
    }

    /// `name version`, e.g. `silver 1.0.0`, as reports and reasons name the suite.
    pub fn label(&self) -> String {
        format!("{} {}", self.name, self.version)
    }
}

/// Where a suite was read from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum SuiteSource {
    /// One of the suites shipped in the harness (`certification-suites/<name>.toml`,
    /// embedded at build time).
    Shipped {
        /// Its name.
        name: String,
    },
    /// A file.
    File {
        /// The path as given.
        path: PathBuf,
    },
}

impl fmt::Display for SuiteSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SuiteSource::Shipped { name } => write!(f, "shipped suite {name}"),
            SuiteSource::File { path } => write!(f, "{}", path.display()),
        }
    }
}

/// Whether a check decides certification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Must pass, or be waived, for the candidate to be certified.
    Required,
    /// Reported as a warning when it does not pass; does not affect the verdict.
    Advisory,
}

impl Level {
    /// The level as written in suite files.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Required => "required",
            Level::Advisory => "advisory",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

pub use certify_program::BuiltinCheck;

/// What a waiver excuses.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum WaiverTarget {
    /// A built-in check, written as its id: `check = "teardown.verified"`.
    Builtin(BuiltinCheck),
    /// One of the candidate plugin's checks, written `check = "plugin:<check id>"`.
    Plugin(String),
}

impl fmt::Display for WaiverTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WaiverTarget::Builtin(c) => f.write_str(c.id()),
            WaiverTarget::Plugin(id) => write!(f, "plugin:{id}"),
        }
    }
}

impl Serialize for WaiverTarget {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A documented exception: a check that may fail without costing certification, until
/// it expires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Waiver {
    /// The check it excuses.
    pub check: WaiverTarget,
    /// Why the failure is acceptable; shown in the report.
    pub justification: String,
    /// The last day the waiver applies; from the next day on it is expired.
    #[serde(serialize_with = "iso_date")]
    pub expires: NaiveDate,
    /// Who approved it, when the suite says.
    pub approved_by: Option<String>,
    /// The line of its `[[waivers]]` header in the suite file, for reports.
    pub line: usize,
}

impl Waiver {
    /// Whether the waiver no longer applies on `today`.
    pub fn is_expired(&self, today: NaiveDate) -> bool {
        today > self.expires
    }
}

pub(crate) fn iso_date<S: Serializer>(d: &NaiveDate, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&d.format("%Y-%m-%d"))
}

fn display<T: fmt::Display, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_names_round_trip() {
        for c in BuiltinCheck::ALL {
            assert_eq!(BuiltinCheck::from_id(c.id()), Some(c));
        }
        for c in Criterion::ALL {
            assert_eq!(Criterion::from_name(c.as_str()), Some(c));
        }
        for s in DocSection::ALL {
            assert_eq!(DocSection::from_name(s.as_str()), Some(s));
        }
    }

    #[test]
    fn a_waiver_applies_through_its_expiry_day() {
        let d = |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let w = Waiver {
            check: WaiverTarget::Builtin(BuiltinCheck::DocsSteps),
            justification: "x".into(),
            expires: d("2026-06-30"),
            approved_by: None,
            line: 1,
        };
        assert!(!w.is_expired(d("2026-06-30")));
        assert!(w.is_expired(d("2026-07-01")));
    }
}
