//! The program policy a run applies: the tier, the credit and the program's start, all
//! from the integrator (the suite and `certify run`'s flags), never from the bundle.
//!
//! A bundle's `tier` and `program_start` are the candidate's claims. The report shows
//! them next to the values used and says where each value came from, so "claimed
//! platinum, certified against silver" is visible, and a self-declared program start
//! cannot dodge the day-90 warning.

use certify_ledger::Money;
use chrono::NaiveDate;

use certify_program::Tier;

/// What the run applies, with where each value came from.
#[derive(Debug, Clone)]
pub struct Policy {
    /// The account's tier (`--tier`).
    pub tier: &'static str,
    /// Where the tier came from.
    pub tier_source: String,
    /// The tier the bundle claims.
    pub claimed_tier: String,
    /// The tier the suite certifies for.
    pub suite_tier: String,
    /// The month's credit: the lower of the suite's `[credit]` and the tier's.
    pub credit: Money,
    /// Where the credit came from.
    pub credit_source: String,
    /// The program's first day, when the integrator gave it.
    pub program_start: Option<NaiveDate>,
    /// Where the program's start came from.
    pub program_start_source: String,
    /// The start the bundle claims.
    pub claimed_program_start: NaiveDate,
}

impl Policy {
    /// The policy from the suite and the integrator's flags; the bundle only claims.
    pub fn new(
        suite: &certify_suite::Suite,
        tier: Tier,
        program_start: Option<NaiveDate>,
        bundle: &certify_bundle::Bundle,
    ) -> Policy {
        let tier_credit = tier.monthly_credit_usd();
        let suite_credit = suite.monthly_credit_usd;
        let (credit, credit_source) = if suite_credit <= tier_credit {
            (
                suite_credit,
                format!("the {} suite's [credit] monthly_usd", suite.name),
            )
        } else {
            (
                tier_credit,
                format!(
                    "the {} tier's program credit (--tier; the suite allows ${suite_credit})",
                    tier.as_str()
                ),
            )
        };
        Policy {
            tier: tier.as_str(),
            tier_source: "the integrator (--tier)".into(),
            claimed_tier: bundle.candidate.tier.to_string(),
            suite_tier: suite.tier.as_str().to_string(),
            credit: Money::from_dollars(i64::from(credit)),
            credit_source,
            program_start,
            program_start_source: match program_start {
                Some(_) => "the integrator (--program-start)".into(),
                None => "not given (--program-start): the program's day is not counted".into(),
            },
            claimed_program_start: bundle.candidate.program_start,
        }
    }

    /// "claimed platinum, certified against silver", when the claim differs.
    pub fn tier_note(&self) -> Option<String> {
        (self.claimed_tier != self.suite_tier || self.claimed_tier != self.tier).then(|| {
            format!(
                "claimed {}, certified against {} with the {} tier's account",
                self.claimed_tier, self.suite_tier, self.tier
            )
        })
    }

    /// The program's day on `today` (1 on its first day), when its start is known.
    pub fn program_day(&self, today: NaiveDate) -> Option<i64> {
        self.program_start.map(|s| (today - s).num_days() + 1)
    }

    /// The last day of the three-month window, when its start is known.
    pub fn program_end(&self) -> Option<NaiveDate> {
        self.program_start.map(|s| {
            s.checked_add_months(chrono::Months::new(3))
                .and_then(|d| d.pred_opt())
                .unwrap_or(NaiveDate::MAX)
        })
    }
}
