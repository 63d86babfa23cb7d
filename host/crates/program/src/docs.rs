//! The documentation rules a certification suite sets (`[docs]`) and the KB checker
//! applies: one type, so a rule the suite reads is the rule the checker runs.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A section of the partner template for public KB articles. The names are the KB
/// checker's check ids (`kb.public.section.<name>`) and what suites write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DocSection {
    /// `description`: "Description", "Overview".
    Description,
    /// `audience`: "Audience".
    Audience,
    /// `prerequisites`: "Prerequisite(s)", "Requirements", "Before you begin".
    Prerequisites,
    /// `deployment-steps`: "Deploying …", "Steps", "Installation", "Getting started".
    DeploymentSteps,
    /// `pricing`: "Pricing", "Cost".
    Pricing,
    /// `faq-support`: "Frequently Asked Questions", "FAQ", "Support".
    FaqSupport,
}

impl DocSection {
    /// All sections of the partner template, in template order.
    pub const ALL: [DocSection; 6] = [
        DocSection::Description,
        DocSection::Audience,
        DocSection::Prerequisites,
        DocSection::DeploymentSteps,
        DocSection::Pricing,
        DocSection::FaqSupport,
    ];

    /// The stable name, as in suite files and check ids.
    pub const fn as_str(self) -> &'static str {
        match self {
            DocSection::Description => "description",
            DocSection::Audience => "audience",
            DocSection::Prerequisites => "prerequisites",
            DocSection::DeploymentSteps => "deployment-steps",
            DocSection::Pricing => "pricing",
            DocSection::FaqSupport => "faq-support",
        }
    }

    /// The section named exactly `name`.
    pub fn from_name(name: &str) -> Option<DocSection> {
        DocSection::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

impl fmt::Display for DocSection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Documentation rules: what a suite's `[docs]` asks of the candidate's KB articles.
/// The defaults are what a suite gets when it leaves a rule out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocRules {
    /// Sections the public article must have, in template order.
    pub public_sections: Vec<DocSection>,
    /// When running, the share of (visible) steps executed must reach this (0.0–1.0).
    pub min_executed_share: f64,
    /// The internal article must give 24x7 support and how to escalate.
    pub require_escalation: bool,
    /// The public article needs an ordered list of at least this many steps.
    pub min_ordered_steps: u32,
    /// The public article needs at least one step the harness can execute
    /// (`kb.steps.found`), and running it needs at least one step executed.
    pub require_executable_steps: bool,
    /// Same for the internal article. Suites cannot set it (it stays off), so the
    /// suite's record leaves it out unless it is on.
    #[serde(default, skip_serializing_if = "is_off")]
    pub require_executable_steps_internal: bool,
    /// Relative links, images and anchors must resolve.
    pub check_links: bool,
}

fn is_off(rule: &bool) -> bool {
    !*rule
}

impl Default for DocRules {
    fn default() -> Self {
        DocRules {
            public_sections: DocSection::ALL.to_vec(),
            min_executed_share: 0.0,
            require_escalation: true,
            min_ordered_steps: 3,
            require_executable_steps: true,
            require_executable_steps_internal: false,
            check_links: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn section_names_round_trip_through_text_and_serde() {
        for s in DocSection::ALL {
            assert_eq!(DocSection::from_name(s.as_str()), Some(s));
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.as_str())
            );
        }
        assert_eq!(DocSection::from_name("support"), None);
    }

    #[test]
    fn the_internal_steps_rule_is_recorded_only_when_on() {
        let mut rules = DocRules::default();
        let json = serde_json::to_value(&rules).unwrap();
        assert!(json.get("require_executable_steps_internal").is_none());
        assert_eq!(json["min_ordered_steps"], 3);
        rules.require_executable_steps_internal = true;
        let json = serde_json::to_value(&rules).unwrap();
        assert_eq!(json["require_executable_steps_internal"], true);
    }
}
