//! The program's certification criteria: the four things certification validates, which
//! every plugin check serves and every suite counts passes against.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The certification criteria of the Ecosystem Program.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Criterion {
    /// The solution performs as advertised (`performs-as-advertised`).
    PerformsAsAdvertised,
    /// The documentation is simple to follow, accurate and publishable (`documentation`).
    Documentation,
    /// The solution deploys through the Blueprint Engine (`blueprint-integration`).
    BlueprintIntegration,
    /// The solution delivers the business value claimed (`business-value`).
    BusinessValue,
}

impl Criterion {
    /// Every criterion, in the program's order.
    pub const ALL: [Criterion; 4] = [
        Criterion::PerformsAsAdvertised,
        Criterion::Documentation,
        Criterion::BlueprintIntegration,
        Criterion::BusinessValue,
    ];

    /// The kebab-case name, as in the plugin contract, suite files and reports.
    pub const fn as_str(self) -> &'static str {
        match self {
            Criterion::PerformsAsAdvertised => "performs-as-advertised",
            Criterion::Documentation => "documentation",
            Criterion::BlueprintIntegration => "blueprint-integration",
            Criterion::BusinessValue => "business-value",
        }
    }

    /// The criterion named exactly `name`.
    pub fn from_name(name: &str) -> Option<Criterion> {
        Criterion::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// How the program words it.
    pub const fn title(self) -> &'static str {
        match self {
            Criterion::PerformsAsAdvertised => "The solution performs as advertised",
            Criterion::Documentation => "The documentation is accurate and publishable",
            Criterion::BlueprintIntegration => "The solution deploys through the Blueprint Engine",
            Criterion::BusinessValue => "The solution delivers the business value claimed",
        }
    }
}

impl fmt::Display for Criterion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_text_and_serde() {
        for c in Criterion::ALL {
            assert_eq!(Criterion::from_name(c.as_str()), Some(c));
            assert_eq!(c.to_string(), c.as_str());
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(json, format!("\"{}\"", c.as_str()));
            assert_eq!(serde_json::from_str::<Criterion>(&json).unwrap(), c);
        }
        assert_eq!(Criterion::from_name("Documentation"), None);
    }
}
