//! Money and calendar months: the units the program counts in.
//!
//! Amounts are whole micro-dollars in an `i64` so that sums in the database are exact:
//! a server's storage costs fractions of a cent per hour, and a ledger that adds floats
//! drifts a little further from the account's invoice on every settlement.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike as _, NaiveDate, TimeZone as _, Utc};
use serde::{Deserialize, Serialize};

/// Micro-dollars in one dollar.
const MICROS_PER_DOLLAR: i64 = 1_000_000;
/// Micro-dollars in one cent.
const MICROS_PER_CENT: i64 = 10_000;

/// An amount of US dollars, exact to the micro-dollar.
///
/// `Display` rounds to cents with thousands separators (`$1,234.56`); the alternate form
/// (`{:#}`) shows every digit (`$1,234.560021`) for logs and machine-checked reports.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Money(i64);

impl Money {
    /// Nothing.
    pub const ZERO: Money = Money(0);

    /// An amount in micro-dollars (millionths of a dollar).
    pub const fn from_micros(micros: i64) -> Money {
        Money(micros)
    }

    /// An amount in whole cents.
    pub const fn from_cents(cents: i64) -> Money {
        Money(cents * MICROS_PER_CENT)
    }

    /// An amount in whole dollars.
    pub const fn from_dollars(dollars: i64) -> Money {
        Money(dollars * MICROS_PER_DOLLAR)
    }

    /// Converts a dollar figure as the CLC billing API reports it (a JSON float such as
    /// `0.02857`) to the nearest micro-dollar. Not-a-number and infinities are refused,
    /// since a billing figure like that means the response was misread.
    pub fn from_dollars_f64(dollars: f64) -> Result<Money, MoneyError> {
        let micros = (dollars * MICROS_PER_DOLLAR as f64).round();
        if !micros.is_finite() || micros.abs() > i64::MAX as f64 / 2.0 {
            return Err(MoneyError::OutOfRange(dollars.to_string()));
        }
        Ok(Money(micros as i64))
    }

    /// The amount in micro-dollars.
    pub const fn micros(self) -> i64 {
        self.0
    }

    /// The amount in dollars as a float, for display in JSON reports only; never add
    /// these up.
    pub fn as_dollars_f64(self) -> f64 {
        self.0 as f64 / MICROS_PER_DOLLAR as f64
    }

    /// Whether the amount is below zero.
    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// Rounded up to the next whole cent, so a shortfall shown in cents is never
    /// understated (a refusal "by $0.00" would read as a bug).
    pub const fn ceil_to_cent(self) -> Money {
        Money(
            self.0.div_euclid(MICROS_PER_CENT) * MICROS_PER_CENT
                + if self.0.rem_euclid(MICROS_PER_CENT) == 0 {
                    0
                } else {
                    MICROS_PER_CENT
                },
        )
    }

    /// Sum, saturating instead of wrapping: an absurd amount must stay absurd, not turn
    /// negative and slip under the credit.
    pub const fn saturating_add(self, other: Money) -> Money {
        Money(self.0.saturating_add(other.0))
    }

    /// Difference, saturating like [`Money::saturating_add`].
    pub const fn saturating_sub(self, other: Money) -> Money {
        Money(self.0.saturating_sub(other.0))
    }

    /// The larger of two amounts.
    pub fn max(self, other: Money) -> Money {
        Ord::max(self, other)
    }
}

impl std::ops::Add for Money {
    type Output = Money;
    fn add(self, rhs: Money) -> Money {
        self.saturating_add(rhs)
    }
}

impl std::ops::Sub for Money {
    type Output = Money;
    fn sub(self, rhs: Money) -> Money {
        self.saturating_sub(rhs)
    }
}

impl std::ops::AddAssign for Money {
    fn add_assign(&mut self, rhs: Money) {
        *self = *self + rhs;
    }
}

impl std::iter::Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, |a, b| a + b)
    }
}

/// `1234567` → `1,234,567`.
fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let per_dollar = MICROS_PER_DOLLAR as u64;
        if f.alternate() {
            let (dollars, micros) = (abs / per_dollar, abs % per_dollar);
            return write!(f, "{sign}${}.{micros:06}", group_thousands(dollars));
        }
        // Half away from zero, like a printed invoice.
        let per_cent = MICROS_PER_CENT as u64;
        let cents = (abs + per_cent / 2) / per_cent;
        let (dollars, cents) = (cents / 100, cents % 100);
        write!(f, "{sign}${}.{cents:02}", group_thousands(dollars))
    }
}

/// Why a text is not an amount of money.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// Not of the form `$1,234.56`.
    #[error("`{0}` is not an amount of dollars: write it like `2000`, `$2,000.00` or `0.015`")]
    Invalid(String),
    /// More than six decimals.
    #[error("`{0}` has more than six decimals: amounts are kept to the micro-dollar")]
    TooPrecise(String),
    /// Does not fit in an `i64` of micro-dollars.
    #[error("`{0}` is out of range: amounts must stay within ±9 trillion dollars")]
    OutOfRange(String),
}

impl FromStr for Money {
    type Err = MoneyError;

    /// Accepts `2000`, `$2,000`, `-$1.50`, `$-1.50`, `0.000210`, `USD 12.5`; commas are
    /// thousands separators and are ignored.
    fn from_str(text: &str) -> Result<Money, MoneyError> {
        let invalid = || MoneyError::Invalid(text.to_owned());
        let mut s = text.trim();
        let mut negative = false;
        if let Some(rest) = s.strip_prefix('-') {
            negative = true;
            s = rest.trim_start();
        }
        s = s.strip_prefix("USD").map(str::trim_start).unwrap_or(s);
        s = s.strip_prefix('$').unwrap_or(s);
        if let Some(rest) = s.strip_prefix('-') {
            if negative {
                return Err(invalid());
            }
            negative = true;
            s = rest;
        }
        let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
        let whole: String = whole.chars().filter(|&c| c != ',').collect();
        if whole.is_empty() && frac.is_empty()
            || !whole.chars().all(|c| c.is_ascii_digit())
            || !frac.chars().all(|c| c.is_ascii_digit())
        {
            return Err(invalid());
        }
        if frac.len() > 6 {
            return Err(MoneyError::TooPrecise(text.to_owned()));
        }
        let out_of_range = || MoneyError::OutOfRange(text.to_owned());
        let dollars: i64 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| out_of_range())?
        };
        let frac_micros: i64 = format!("{frac:0<6}").parse().map_err(|_| invalid())?;
        let micros = dollars
            .checked_mul(MICROS_PER_DOLLAR)
            .and_then(|m| m.checked_add(frac_micros))
            .ok_or_else(out_of_range)?;
        Ok(Money(if negative { -micros } else { micros }))
    }
}

/// A calendar month in UTC, the period a monthly credit applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Month {
    /// The year, e.g. 2026.
    pub year: i32,
    /// 1 (January) to 12 (December).
    pub month: u8,
}

impl Month {
    /// A month; `None` unless `month` is 1–12.
    pub fn new(year: i32, month: u8) -> Option<Month> {
        (1..=12).contains(&month).then_some(Month { year, month })
    }

    /// The UTC month an instant falls in. The credit is per calendar month in UTC, so a
    /// reservation made at 23:30 on the 31st in New York counts towards the next month.
    pub fn of(at: DateTime<Utc>) -> Month {
        Month {
            year: at.year(),
            month: at.month() as u8,
        }
    }

    /// The current UTC month.
    pub fn current() -> Month {
        Month::of(Utc::now())
    }

    /// The month after this one.
    pub fn next(self) -> Month {
        if self.month == 12 {
            Month {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Month {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    /// The month before this one.
    pub fn previous(self) -> Month {
        if self.month == 1 {
            Month {
                year: self.year - 1,
                month: 12,
            }
        } else {
            Month {
                year: self.year,
                month: self.month - 1,
            }
        }
    }

    /// Midnight UTC on the first day of the month.
    pub fn start(self) -> DateTime<Utc> {
        let date = NaiveDate::from_ymd_opt(self.year, u32::from(self.month), 1)
            .expect("a Month is always a valid year and month");
        Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0).expect("midnight exists"))
    }

    /// Midnight UTC on the first day of the next month (exclusive end).
    pub fn end(self) -> DateTime<Utc> {
        self.next().start()
    }

    /// Whether an instant falls in this month.
    pub fn contains(self, at: DateTime<Utc>) -> bool {
        Month::of(at) == self
    }

    /// The sortable key stored in the database, `YYYY-MM`.
    pub fn key(self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// Why a text is not a month.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a month: write it as YYYY-MM, e.g. 2026-08")]
pub struct MonthError(String);

impl FromStr for Month {
    type Err = MonthError;

    fn from_str(s: &str) -> Result<Month, MonthError> {
        let err = || MonthError(s.to_owned());
        let (year, month) = s.trim().split_once('-').ok_or_else(err)?;
        if year.len() != 4 || month.len() != 2 {
            return Err(err());
        }
        let year = year.parse().map_err(|_| err())?;
        let month = month.parse().map_err(|_| err())?;
        Month::new(year, month).ok_or_else(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_displays_as_dollars_and_cents_with_separators() {
        assert_eq!(Money::from_cents(123_456).to_string(), "$1,234.56");
        assert_eq!(Money::from_dollars(2_000).to_string(), "$2,000.00");
        assert_eq!(
            Money::from_dollars(15_000_000).to_string(),
            "$15,000,000.00"
        );
        assert_eq!(Money::ZERO.to_string(), "$0.00");
        assert_eq!(Money::from_cents(-150).to_string(), "-$1.50");
        assert_eq!(
            Money::from_micros(5_000).to_string(),
            "$0.01",
            "half a cent rounds up"
        );
        assert_eq!(Money::from_micros(4_999).to_string(), "$0.00");
        assert_eq!(
            format!("{:#}", Money::from_micros(1_234_560_021)),
            "$1,234.560021"
        );
    }

    #[test]
    fn money_parses_the_ways_people_write_it() {
        let cases = [
            ("2000", 2_000_000_000),
            ("$2,000.00", 2_000_000_000),
            ("0.015", 15_000),
            ("$0.000210", 210),
            (".5", 500_000),
            ("-$1.50", -1_500_000),
            ("$-1.50", -1_500_000),
            ("USD 12.5", 12_500_000),
        ];
        for (text, micros) in cases {
            assert_eq!(
                text.parse::<Money>(),
                Ok(Money::from_micros(micros)),
                "{text}"
            );
        }
        assert!(matches!("".parse::<Money>(), Err(MoneyError::Invalid(_))));
        assert!(matches!("$".parse::<Money>(), Err(MoneyError::Invalid(_))));
        assert!(matches!(
            "1.2.3".parse::<Money>(),
            Err(MoneyError::Invalid(_))
        ));
        assert!(matches!(
            "--1".parse::<Money>(),
            Err(MoneyError::Invalid(_))
        ));
        assert!(matches!(
            "0.0000001".parse::<Money>(),
            Err(MoneyError::TooPrecise(_))
        ));
        assert!(matches!(
            "99999999999999999".parse::<Money>(),
            Err(MoneyError::OutOfRange(_))
        ));
        let m = Money::from_micros(123_456_789);
        assert_eq!(
            format!("{m:#}").parse::<Money>(),
            Ok(m),
            "the alternate form round-trips"
        );
    }

    #[test]
    fn billing_floats_become_exact_micros() {
        assert_eq!(
            Money::from_dollars_f64(0.02857),
            Ok(Money::from_micros(28_570))
        );
        assert_eq!(
            Money::from_dollars_f64(1998.0),
            Ok(Money::from_dollars(1998))
        );
        assert!(Money::from_dollars_f64(f64::NAN).is_err());
        assert!(Money::from_dollars_f64(f64::INFINITY).is_err());
    }

    #[test]
    fn ceil_to_cent_never_understates() {
        assert_eq!(Money::from_micros(1).ceil_to_cent(), Money::from_cents(1));
        assert_eq!(Money::from_cents(73).ceil_to_cent(), Money::from_cents(73));
        assert_eq!(
            Money::from_micros(730_001).ceil_to_cent(),
            Money::from_cents(74)
        );
        assert_eq!(Money::from_micros(-1).ceil_to_cent(), Money::ZERO);
    }

    #[test]
    fn months_are_utc_calendar_months() {
        let last_instant = "2026-01-31T23:59:59.999Z".parse::<DateTime<Utc>>().unwrap();
        let first_instant = "2026-02-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(Month::of(last_instant), Month::new(2026, 1).unwrap());
        assert_eq!(Month::of(first_instant), Month::new(2026, 2).unwrap());
        // 20:00 on the 31st in New York is already February in UTC.
        let new_york = DateTime::parse_from_rfc3339("2026-01-31T20:00:00-05:00").unwrap();
        assert_eq!(
            Month::of(new_york.with_timezone(&Utc)),
            Month::new(2026, 2).unwrap()
        );

        let december = Month::new(2025, 12).unwrap();
        assert_eq!(december.next(), Month::new(2026, 1).unwrap());
        assert_eq!(december.next().previous(), december);
        assert_eq!(
            december.end(),
            "2026-01-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert!(december.contains(december.start()));
        assert!(!december.contains(december.end()));
        assert_eq!(december.to_string(), "2025-12");
        assert_eq!("2025-12".parse::<Month>(), Ok(december));
        assert!("2025-13".parse::<Month>().is_err());
        assert!("2025-1".parse::<Month>().is_err());
        assert!(Month::new(2026, 0).is_none());
    }
}
