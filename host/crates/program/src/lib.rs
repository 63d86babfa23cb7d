//! The Ecosystem Program's vocabulary: the words every part of the harness shares, defined
//! once so that the ledger, the bundle loader, the suite and the reports cannot disagree
//! on them.
//!
//! - [`Money`]: exact micro-dollar amounts, the unit of every price, credit and charge.
//! - [`Month`]: the UTC calendar month a credit belongs to.
//! - [`Tier`]: the program's tiers and the monthly credit each gives the test account.
//! - [`Criterion`]: the four things certification validates; every plugin check serves one.
//! - [`DocRules`] and [`DocSection`]: what a suite asks of the candidate's KB articles, as
//!   the KB checker applies it.
//! - [`BuiltinCheck`]: the checks the harness runs itself, and [`case`], the report's ids.
//! - [`Verdict`]: how a check ended.

#![warn(missing_docs)]

mod check;
mod criterion;
mod docs;
mod money;
mod tier;
mod verdict;

pub use check::{BuiltinCheck, case};
pub use criterion::Criterion;
pub use docs::{DocRules, DocSection};
pub use money::{Money, MoneyError, Month, MonthError};
pub use tier::{Tier, TierError};
pub use verdict::Verdict;
