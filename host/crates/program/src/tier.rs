//! The program's tiers and the monthly credit each gives the test account: the one table
//! the bundle loader, the suites, the command line and the ledger all read.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::Money;

/// An Ecosystem Program tier and its monthly credit on the test account.
///
/// Ordered lowest first, so `Tier::Gold > Tier::Silver`.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    /// $2,000 a month; also what a Candidate has before certification.
    #[default]
    Silver,
    /// $7,000 a month (Silver + $5,000).
    Gold,
    /// $15,000 a month (Gold + $8,000).
    Platinum,
}

impl Tier {
    /// The tier a Candidate's test account has.
    pub const CANDIDATE: Tier = Tier::Silver;

    /// All tiers, lowest first.
    pub const ALL: [Tier; 3] = [Tier::Silver, Tier::Gold, Tier::Platinum];

    /// The monthly credit of this tier in whole US dollars, as suites and
    /// `candidate.toml` write it.
    pub const fn monthly_credit_usd(self) -> u32 {
        match self {
            Tier::Silver => 2_000,
            Tier::Gold => 7_000,
            Tier::Platinum => 15_000,
        }
    }

    /// The monthly credit of this tier.
    pub const fn monthly_credit(self) -> Money {
        Money::from_dollars(self.monthly_credit_usd() as i64)
    }

    /// The lower-case name, as written in `candidate.toml`, suites and `--tier`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Tier::Silver => "silver",
            Tier::Gold => "gold",
            Tier::Platinum => "platinum",
        }
    }

    /// The tier named exactly `name` (lower case, no spaces), as suite files must write
    /// it; [`FromStr`] is the lenient reading for people typing.
    pub fn from_name(name: &str) -> Option<Tier> {
        Tier::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a text is not a tier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a tier: use silver, gold or platinum (a candidate has silver)")]
pub struct TierError(String);

impl FromStr for Tier {
    type Err = TierError;

    /// Any case, surrounding spaces ignored; `candidate` reads as silver.
    fn from_str(s: &str) -> Result<Tier, TierError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "candidate" => Ok(Tier::CANDIDATE),
            name => Tier::from_name(name).ok_or_else(|| TierError(s.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_have_the_program_credits() {
        assert_eq!(Tier::CANDIDATE, Tier::Silver);
        assert_eq!(Tier::Silver.monthly_credit().to_string(), "$2,000.00");
        assert_eq!(Tier::Gold.monthly_credit().to_string(), "$7,000.00");
        assert_eq!(Tier::Platinum.monthly_credit().to_string(), "$15,000.00");
        assert_eq!(Tier::Gold.monthly_credit_usd(), 7_000);
        assert_eq!("Gold".parse::<Tier>(), Ok(Tier::Gold));
        assert_eq!(" candidate ".parse::<Tier>(), Ok(Tier::Silver));
        assert!("bronze".parse::<Tier>().is_err());
    }

    #[test]
    fn names_round_trip_and_tiers_are_ordered() {
        for t in Tier::ALL {
            assert_eq!(Tier::from_name(t.as_str()), Some(t));
            assert_eq!(t.to_string(), t.as_str());
        }
        assert_eq!(Tier::from_name("Gold"), None);
        assert!(Tier::Silver < Tier::Gold && Tier::Gold < Tier::Platinum);
    }
}
