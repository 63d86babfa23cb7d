//! What a suite says, as typed data: the tier and its credit, limits, the level of each
//! built-in check, the plugin checks each criterion needs, documentation rules, waivers.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use chrono::NaiveDate;
use serde::{Serialize, Serializer};

use crate::problem::Problem;

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

/// Program tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    /// Every candidate: $2,000 a month.
    Silver,
    /// $7,000 a month.
    Gold,
    /// $15,000 a month.
    Platinum,
}

impl Tier {
    /// All tiers, lowest first.
    pub const ALL: [Tier; 3] = [Tier::Silver, Tier::Gold, Tier::Platinum];

    /// The tier's name as written in suite files.
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Silver => "silver",
            Tier::Gold => "gold",
            Tier::Platinum => "platinum",
        }
    }

    /// The program's monthly credit for the tier, in US dollars.
    pub fn program_credit_usd(self) -> u32 {
        match self {
            Tier::Silver => 2_000,
            Tier::Gold => 7_000,
            Tier::Platinum => 15_000,
        }
    }

    /// The tier named `s` (exactly as written in suite files).
    pub fn from_name(s: &str) -> Option<Tier> {
        Tier::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
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

/// The four things the Ecosystem Program's certification validates; every plugin check
/// serves one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Criterion {
    /// `performs-as-advertised`.
    PerformsAsAdvertised,
    /// `documentation`.
    Documentation,
    /// `blueprint-integration`.
    BlueprintIntegration,
    /// `business-value`.
    BusinessValue,
}

impl Criterion {
    /// All criteria, in the program's order.
    pub const ALL: [Criterion; 4] = [
        Criterion::PerformsAsAdvertised,
        Criterion::Documentation,
        Criterion::BlueprintIntegration,
        Criterion::BusinessValue,
    ];

    /// The name as written in suite files and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Criterion::PerformsAsAdvertised => "performs-as-advertised",
            Criterion::Documentation => "documentation",
            Criterion::BlueprintIntegration => "blueprint-integration",
            Criterion::BusinessValue => "business-value",
        }
    }

    /// The criterion with this name.
    pub fn from_name(s: &str) -> Option<Criterion> {
        Criterion::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

impl fmt::Display for Criterion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Criterion {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A section of the partner template for public KB articles. The names match the KB
/// checker's check ids (`kb.public.section.<name>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DocSection {
    /// `description`.
    Description,
    /// `audience`.
    Audience,
    /// `prerequisites`.
    Prerequisites,
    /// `deployment-steps`.
    DeploymentSteps,
    /// `pricing`.
    Pricing,
    /// `faq-support`.
    FaqSupport,
}

impl DocSection {
    /// All sections, in template order.
    pub const ALL: [DocSection; 6] = [
        DocSection::Description,
        DocSection::Audience,
        DocSection::Prerequisites,
        DocSection::DeploymentSteps,
        DocSection::Pricing,
        DocSection::FaqSupport,
    ];

    /// The name as written in suite files.
    pub fn as_str(self) -> &'static str {
        match self {
            DocSection::Description => "description",
            DocSection::Audience => "audience",
            DocSection::Prerequisites => "prerequisites",
            DocSection::DeploymentSteps => "deployment-steps",
            DocSection::Pricing => "pricing",
            DocSection::FaqSupport => "faq-support",
        }
    }

    /// The section with this name.
    pub fn from_name(s: &str) -> Option<DocSection> {
        DocSection::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

impl fmt::Display for DocSection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for DocSection {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Documentation rules (`[docs]`). The defaults are the KB checker's.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DocRules {
    /// Sections the public article must have, in template order.
    pub public_sections: Vec<DocSection>,
    /// The share of an article's visible steps the harness must execute, 0.0–1.0.
    pub min_executed_share: f64,
    /// The internal article must give 24x7 support and how to escalate.
    pub require_escalation: bool,
    /// The public article needs an ordered list of at least this many steps.
    pub min_ordered_steps: u32,
    /// The public article needs at least one step the harness can execute.
    pub require_executable_steps: bool,
    /// Relative links, images and anchors must resolve.
    pub check_links: bool,
}

impl Default for DocRules {
    fn default() -> Self {
        DocRules {
            public_sections: DocSection::ALL.to_vec(),
            min_executed_share: 0.0,
            require_escalation: true,
            min_ordered_steps: 3,
            require_executable_steps: true,
            check_links: true,
        }
    }
}

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
        for t in Tier::ALL {
            assert_eq!(Tier::from_name(t.as_str()), Some(t));
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
