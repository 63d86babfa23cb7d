//! The services `certify run` and the other verbs share: the plugin runtime, the
//! harness's cache and state paths, the ledger and journal, the test account, the
//! signing key and the sandbox. Both [`crate::commands`] and [`crate::run`] import
//! them from here, so neither imports the other's internals.
//!
//! - [`account`]: connecting to the test account (an endpoint, or the embedded
//!   emulator under the state directory), and the lock on that state.
//! - [`isolation`]: the sandbox and run network the candidate's code runs in.

pub mod account;
pub mod isolation;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use certify_ledger::{Journal, Ledger};
use certify_review::sign::SigningKey;
use certify_runtime::{Limits, Runtime, RuntimeConfig};

pub use account::{Account, Target, lock_exclusive};

use crate::Error;
use crate::cli::{GlobalArgs, LimitArgs};

/// The plugin runtime for this process, with the cache and limits the user chose.
pub fn runtime(global: &GlobalArgs, limits: Option<&LimitArgs>) -> Result<Arc<Runtime>, Error> {
    let mut config = RuntimeConfig {
        limits: Limits::default(),
        cache_dir: if global.no_cache {
            None
        } else {
            Some(cache_root(global).join("compiled"))
        },
    };
    if let Some(l) = limits {
        if l.timeout == 0 || l.memory == 0 {
            return Err(Error::Usage(
                "--timeout and --memory must be greater than zero".into(),
            ));
        }
        config.limits.check_timeout = Duration::from_secs(l.timeout);
        config.limits.memory = l.memory << 20;
    }
    Runtime::new(config).map_err(Error::Other)
}

/// The harness's cache directory.
pub fn cache_root(global: &GlobalArgs) -> PathBuf {
    global.cache_dir.clone().unwrap_or_else(|| {
        std::env::var_os("XDG_CACHE_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
            .unwrap_or_else(std::env::temp_dir)
            .join("certify")
    })
}

/// The harness's state database (ledger and journal). `--state DIR` is a directory
/// that holds everything the harness keeps: `state.db`, the journal's run locks beside
/// it, and the embedded emulator's account (`emulator/`).
pub fn state_db(explicit: Option<&PathBuf>) -> Result<PathBuf, Error> {
    if let Some(dir) = explicit {
        if dir.is_file() {
            return Err(Error::Usage(format!(
                "--state {} is a file; --state names the directory that holds the harness's state (state.db and the emulator's account); give its directory",
                dir.display()
            )));
        }
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::Io(format!("creating --state {}", dir.display()), e))?;
        return Ok(dir.join("state.db"));
    }
    let db = certify_ledger::default_path().ok_or_else(|| {
        Error::Usage("no place for the harness's state: set CERTIFY_STATE_DB or HOME".into())
    })?;
    if db.is_dir() {
        return Err(Error::Usage(format!(
            "CERTIFY_STATE_DB={} is a directory; it names the database file (or give --state DIR)",
            db.display()
        )));
    }
    Ok(db)
}

/// Where the ledger and the journal live: the shared PostgreSQL database given by
/// `--ledger` (or `CERTIFY_LEDGER_URL`), else the state file.
pub fn ledger_location(ledger: Option<&str>, db: &Path) -> certify_ledger::Location {
    certify_ledger::Location::new(ledger, db.to_owned())
}

/// Opens the ledger and the journal at `location`.
pub fn open_state(location: &certify_ledger::Location) -> Result<(Ledger, Journal), Error> {
    let ledger = Ledger::connect(location).map_err(|e| {
        Error::Other(
            anyhow::Error::new(e).context(format!("opening the credit ledger at {location}")),
        )
    })?;
    let journal = Journal::connect(location).map_err(|e| {
        Error::Other(
            anyhow::Error::new(e).context(format!("opening the run journal at {location}")),
        )
    })?;
    Ok((ledger, journal))
}

/// The environment variable that may hold the signing key's PEM (for CI secrets).
pub const SIGN_KEY_ENV: &str = "CERTIFY_SIGN_KEY";

/// The key `certify run` signs with: `--sign-key FILE`, else the PEM in
/// `CERTIFY_SIGN_KEY`, else none. Read before anything is deployed, so that a bad key
/// costs nothing. Errors name where the key came from, never what it holds.
pub fn signing_key(file: Option<&Path>) -> Result<Option<SigningKey>, Error> {
    if let Some(path) = file {
        return SigningKey::read(path)
            .map(Some)
            .map_err(|e| Error::Usage(format!("--sign-key: {e}")));
    }
    match std::env::var(SIGN_KEY_ENV) {
        Ok(pem) if !pem.trim().is_empty() => SigningKey::from_pem(&pem, SIGN_KEY_ENV)
            .map(Some)
            .map_err(|e| Error::Usage(e.to_string())),
        Ok(_) => Ok(None),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(Error::Usage(format!(
            "{SIGN_KEY_ENV} is not UTF-8 text; it must hold a PKCS#8 PEM private key"
        ))),
    }
}
