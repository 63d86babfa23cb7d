//! The checks the harness runs itself on every candidate, whatever its plugin does, and
//! the ids of the report cases they give. Suites give each built-in check a level,
//! waivers name them, the run records one result per check and the report writes them
//! under these ids: one list, so that none of those can name a check the others do not
//! know.

use std::fmt;

use serde::{Serialize, Serializer};

/// The checks the harness itself runs on every candidate, whatever its plugin does.
/// Their ids are stable: suites, waivers and reports name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BuiltinCheck {
    /// `bundle.valid`: the bundle loads and validates.
    BundleValid,
    /// `budget.reservation`: the run's cost fits what is left of this month's credit.
    BudgetReservation,
    /// `budget.settled`: the account's billing afterwards stays within the reservation.
    BudgetSettled,
    /// `blueprint.published`: the packages and blueprint publish.
    BlueprintPublished,
    /// `blueprint.deployed`: the blueprint deploys without errors.
    BlueprintDeployed,
    /// `blueprint.packages`: each package the blueprint runs succeeds.
    BlueprintPackages,
    /// `blueprint.time-to-value`: the deployment is ready within the suite's limit.
    BlueprintTimeToValue,
    /// `teardown.complete`: everything the run created was deleted.
    TeardownComplete,
    /// `teardown.verified`: the account, read back, holds nothing the run created.
    TeardownVerified,
    /// `docs.structure`: the KB articles have the required structure and content.
    DocsStructure,
    /// `docs.steps`: the KB articles' steps reproduce against the deployment.
    DocsSteps,
    /// `program.window`: the run falls within the candidate's three-month window.
    ProgramWindow,
}

impl BuiltinCheck {
    /// Every built-in check, in the order a run meets them.
    pub const ALL: [BuiltinCheck; 12] = [
        BuiltinCheck::BundleValid,
        BuiltinCheck::BudgetReservation,
        BuiltinCheck::BlueprintPublished,
        BuiltinCheck::BlueprintDeployed,
        BuiltinCheck::BlueprintPackages,
        BuiltinCheck::BlueprintTimeToValue,
        BuiltinCheck::DocsStructure,
        BuiltinCheck::DocsSteps,
        BuiltinCheck::TeardownComplete,
        BuiltinCheck::TeardownVerified,
        BuiltinCheck::BudgetSettled,
        BuiltinCheck::ProgramWindow,
    ];

    /// The stable id, e.g. `teardown.verified`.
    pub fn id(self) -> &'static str {
        match self {
            BuiltinCheck::BundleValid => "bundle.valid",
            BuiltinCheck::BudgetReservation => "budget.reservation",
            BuiltinCheck::BudgetSettled => "budget.settled",
            BuiltinCheck::BlueprintPublished => "blueprint.published",
            BuiltinCheck::BlueprintDeployed => "blueprint.deployed",
            BuiltinCheck::BlueprintPackages => "blueprint.packages",
            BuiltinCheck::BlueprintTimeToValue => "blueprint.time-to-value",
            BuiltinCheck::TeardownComplete => "teardown.complete",
            BuiltinCheck::TeardownVerified => "teardown.verified",
            BuiltinCheck::DocsStructure => "docs.structure",
            BuiltinCheck::DocsSteps => "docs.steps",
            BuiltinCheck::ProgramWindow => "program.window",
        }
    }

    /// What the check establishes, for `certify suites show` and reports.
    pub fn description(self) -> &'static str {
        match self {
            BuiltinCheck::BundleValid => "the bundle loads and validates",
            BuiltinCheck::BudgetReservation => {
                "the run's cost fits what is left of this month's credit"
            }
            BuiltinCheck::BudgetSettled => {
                "the account's billing stays within what the run reserved"
            }
            BuiltinCheck::BlueprintPublished => "the packages and the blueprint publish",
            BuiltinCheck::BlueprintDeployed => "the blueprint deploys without errors",
            BuiltinCheck::BlueprintPackages => "each package the blueprint runs succeeds",
            BuiltinCheck::BlueprintTimeToValue => {
                "the deployment is ready within the time-to-value limit"
            }
            BuiltinCheck::TeardownComplete => "everything the run created is deleted",
            BuiltinCheck::TeardownVerified => {
                "the account, read back, holds nothing the run created"
            }
            BuiltinCheck::DocsStructure => {
                "the KB articles have the required structure and content"
            }
            BuiltinCheck::DocsSteps => "the KB articles' steps reproduce",
            BuiltinCheck::ProgramWindow => "the run falls within the three-month program window",
        }
    }

    /// The check with this id.
    pub fn from_id(id: &str) -> Option<BuiltinCheck> {
        BuiltinCheck::ALL.into_iter().find(|c| c.id() == id)
    }
}

impl fmt::Display for BuiltinCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl Serialize for BuiltinCheck {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

/// The ids of the report's cases that are not a plugin's or an article's: the built-in
/// checks' own cases, and those the run adds about itself. `report verify`, the summary
/// and the decision find cases by these ids.
pub mod case {
    /// The verdict, first in the report.
    pub const VERDICT: &str = "certification.verdict";
    /// The bundle loads and validates.
    pub const BUNDLE_VALID: &str = "bundle.valid";
    /// The plugin builds and loads (present only when it did not).
    pub const PLUGIN_LOAD: &str = "plugin.load";
    /// The KB articles could be read (present only when they could not).
    pub const DOCS_READ: &str = "docs.read";
    /// The reservation against the month's credit.
    pub const BUDGET_RESERVATION: &str = "budget.reservation";
    /// The reservation settled to the actual charge.
    pub const BUDGET_SETTLED: &str = "budget.settled";
    /// The packages and blueprint published.
    pub const BLUEPRINT_PUBLISHED: &str = "blueprint.published";
    /// The blueprint deployed.
    pub const BLUEPRINT_DEPLOYED: &str = "blueprint.deployed";
    /// One package task: this prefix and the package's slug.
    pub const BLUEPRINT_PACKAGE_PREFIX: &str = "blueprint.package.";
    /// Time-to-value within the limit.
    pub const BLUEPRINT_TIME_TO_VALUE: &str = "blueprint.time-to-value";
    /// Everything the run created is deleted.
    pub const TEARDOWN_COMPLETE: &str = "teardown.complete";
    /// The account confirms it.
    pub const TEARDOWN_VERIFIED: &str = "teardown.verified";
    /// The run did not run to its end (present only then).
    pub const RUN_COMPLETED: &str = "run.completed";
    /// An article's steps reproduce, in its `docs-steps-<article>` suite.
    pub const STEPS_REPRODUCE: &str = "kb.steps.reproduce";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_are_distinct() {
        let mut seen = std::collections::HashSet::new();
        for c in BuiltinCheck::ALL {
            assert_eq!(BuiltinCheck::from_id(c.id()), Some(c));
            assert!(seen.insert(c.id()), "{c} twice");
            assert!(!c.description().is_empty());
        }
        assert_eq!(BuiltinCheck::from_id("bundle.invalid"), None);
    }
}
