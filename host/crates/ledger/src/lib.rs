//! The certification harness's crash-safe state: the monthly-credit ledger and the run
//! journal, in one SQLite file on the integrator's machine (the default), or in a
//! PostgreSQL database that a team's machines share ([`Location`]), so that runs on many
//! machines draw on one account's credit without overrunning it, and any machine can reap
//! a run that died on another.
//!
//! - [`Ledger`]: every chargeable action is priced, then reserved against what is left of
//!   the account's monthly credit before it happens — or refused with the numbers — and
//!   settled to the account's actual charge afterwards. Processes reserving on one
//!   account at once, on one machine or many, cannot together overrun the credit.
//! - [`Journal`]: everything a run creates is written down before it is created, so that
//!   what a crashed run left behind is found and torn down by the next run on the account
//!   or by `certify cleanup`, on any machine that shares the journal.
//! - The estimates it reserves come from the price list in `certify-blueprint`.
//! - [`Money`], [`Month`], [`Tier`]: exact micro-dollar amounts, UTC calendar months and
//!   the program's credit tiers.
//!
//! ```
//! use certify_ledger::{Ledger, Money, Month, ReservationRequest, Tier};
//! use certify_blueprint::{PriceList, ServerSize, StorageType, billed_hours};
//! use std::time::Duration;
//!
//! # let dir = tempfile::tempdir().unwrap();
//! # let path = dir.path().join("state.db");
//! let mut ledger = Ledger::open(&path)?;
//! let server = ServerSize::new(2, 4, 60, StorageType::Standard, "ubuntu-14-64");
//! let hours = billed_hours(Duration::from_secs(20 * 60)); // the blueprint time limit
//! let request = ReservationRequest {
//!     account: "ACME",
//!     month: Month::current(),
//!     run_id: "run-1",
//!     description: "deploying 1 server for 1 billed hour",
//!     estimate: PriceList::default().estimate_server(&server, hours),
//!     credit: Tier::CANDIDATE.monthly_credit(),
//!     account_month_to_date: Money::from_dollars(1_234), // from the account's billing
//! };
//! match ledger.reserve(&request)? {
//!     Ok(reservation) => {
//!         // … deploy, check, tear down …
//!         ledger.settle(reservation.id, Money::from_cents(9))?;
//!     }
//!     Err(refusal) => println!("{refusal}"), // a failed budget check in the report
//! }
//! # Ok::<(), certify_ledger::LedgerError>(())
//! ```
//!
//! The file lives at [`default_path`] unless the harness is told otherwise;
//! [`Ledger::connect`] and [`Journal::connect`] take a [`Location`] for either store.

#![warn(missing_docs)]

mod backend;
mod db;
pub mod journal;
pub mod ledger;
pub mod postgres;
mod process;
mod sqlite;
pub mod testing;

use std::ffi::OsString;
use std::path::PathBuf;

pub use backend::{LEDGER_URL_ENV, Location};
pub use certify_program::{Money, MoneyError, Month, MonthError, Tier, TierError};
pub use db::DbError;
pub use journal::{
    DEFAULT_LEASE, Entry, EntryId, EntryState, Journal, JournalError, Kind, NotReapable, Run,
    RunLock, StaleRun,
};
pub use ledger::{
    Ledger, LedgerError, Refusal, Reservation, ReservationId, ReservationRequest, Status, Summary,
    shortfall,
};

/// Says on stderr that a store's schema was brought up to date: a shared ledger is
/// migrated by whichever machine's certify connects first after an upgrade, and the
/// team should be able to see which and when.
pub(crate) fn announce_migration(store: &str, from: i64, to: i64) {
    eprintln!("certify: migrated the state at {store} from schema version {from} to {to}");
    tracing::info!(store, from, to, "migrated the state schema");
}

/// The environment variable that overrides where the state database lives.
pub const STATE_DB_ENV: &str = "CERTIFY_STATE_DB";

/// Where the state database lives unless the harness is told otherwise:
/// `$CERTIFY_STATE_DB`, else `$XDG_STATE_HOME/certify/state.db`, else
/// `~/.local/state/certify/state.db`. `None` when none of these is set (no home
/// directory): the harness should then ask for an explicit path.
///
/// State, not cache: deleting the file loses the record of reservations and of what
/// crashed runs left on the account.
pub fn default_path() -> Option<PathBuf> {
    path_from_env(|name| std::env::var_os(name))
}

fn path_from_env(var: impl Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    let set = |name: &str| var(name).filter(|v| !v.is_empty());
    if let Some(path) = set(STATE_DB_ENV) {
        return Some(PathBuf::from(path));
    }
    // The XDG spec says to ignore a relative value.
    if let Some(state) = set("XDG_STATE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
    {
        return Some(state.join("certify/state.db"));
    }
    set("HOME").map(|home| PathBuf::from(home).join(".local/state/certify/state.db"))
}

#[cfg(test)]
pub(crate) mod testutil;

#[cfg(all(test, unix))]
mod crash_tests;

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<OsString> + 'a {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| OsString::from(v))
        }
    }

    #[test]
    fn the_default_path_follows_xdg_and_can_be_overridden() {
        let home = [("HOME", "/home/ada")];
        assert_eq!(
            path_from_env(env(&home)),
            Some(PathBuf::from("/home/ada/.local/state/certify/state.db"))
        );
        let xdg = [("HOME", "/home/ada"), ("XDG_STATE_HOME", "/var/state")];
        assert_eq!(
            path_from_env(env(&xdg)),
            Some(PathBuf::from("/var/state/certify/state.db"))
        );
        let relative_xdg = [("HOME", "/home/ada"), ("XDG_STATE_HOME", "state")];
        assert_eq!(
            path_from_env(env(&relative_xdg)),
            Some(PathBuf::from("/home/ada/.local/state/certify/state.db"))
        );
        let overridden = [("HOME", "/home/ada"), (STATE_DB_ENV, "/tmp/ci.db")];
        assert_eq!(
            path_from_env(env(&overridden)),
            Some(PathBuf::from("/tmp/ci.db"))
        );
        assert_eq!(path_from_env(env(&[("HOME", "")])), None);
    }
}
