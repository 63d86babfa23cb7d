//! The test account a run deploys to: a real endpoint given its URL and
//! credentials, or the embedded emulator started in-process.
//!
//! The embedded emulator keeps its account under the harness's state
//! directory, so that a month's charges and a crashed run's leftovers are
//! still there for the next run. Only one process can use that state at a
//! time (it is locked); to run several certifications on one emulated
//! account at once, serve it with `certify emulator serve --state DIR` and
//! point the runs at it with `--endpoint`.

use std::path::Path;
use std::time::Duration;

use certify_clc::{Client, Credentials, PollPolicy, RetryPolicy};
use certify_emulator::{Emulator, ExecutionMode, RunningEmulator};

use super::isolation;
use crate::Error;

/// A connected test account.
pub struct Account {
    /// The API client.
    pub client: Client,
    /// The account alias.
    pub alias: String,
    /// The data center runs deploy to.
    pub data_center: String,
    /// What the report says the endpoint was.
    pub endpoint: String,
    /// How much faster than real time the account's clock runs (1 for a real account).
    pub clock_scale: f64,
    emulator: Option<(RunningEmulator, std::fs::File)>,
}

/// Where to connect.
pub struct Target<'a> {
    /// A real endpoint (or a standalone emulator), if given.
    pub endpoint: Option<&'a str>,
    /// The account alias to use with it.
    pub account: Option<&'a str>,
    /// The data center to deploy to, if not the account's primary one.
    pub data_center: Option<&'a str>,
    /// The harness's state directory (the embedded emulator keeps its account there).
    pub state_dir: &'a Path,
    /// Clock scale of the embedded emulator.
    pub clock_scale: f64,
    /// Faults the embedded emulator injects.
    pub faults: Option<certify_emulator::FaultSpec>,
    /// The sandbox and run network the embedded emulator's packages run in.
    pub isolation: Option<isolation::Isolation>,
}

impl Account {
    /// Connect to the endpoint, or start the embedded emulator.
    pub async fn connect(target: Target<'_>) -> Result<Account, Error> {
        let (url, credentials, emulator, endpoint, scale) = match target.endpoint {
            Some(url) => {
                let user = std::env::var("CLC_USERNAME").map_err(|_| {
                    Error::Usage("--endpoint needs the account's credentials in CLC_USERNAME and CLC_PASSWORD".into())
                })?;
                let password = std::env::var("CLC_PASSWORD").map_err(|_| {
                    Error::Usage("--endpoint needs the account's credentials in CLC_USERNAME and CLC_PASSWORD".into())
                })?;
                (
                    url.to_string(),
                    Credentials::new(&user, &password),
                    None,
                    url.to_string(),
                    1.0, // until the account tells its clock, below
                )
            }
            None => {
                let dir = target.state_dir.join("emulator");
                std::fs::create_dir_all(&dir)
                    .map_err(|e| Error::Io(format!("creating {}", dir.display()), e))?;
                let lock = lock_exclusive(&dir.join(".lock"))?;
                let mut builder = Emulator::builder()
                    .state_dir(&dir)
                    .clock_scale(target.clock_scale)
                    .execution(ExecutionMode::Local);
                if let Some(faults) = target.faults.clone() {
                    builder = builder.faults(faults);
                }
                if let Some(iso) = &target.isolation
                    && let Some(network) = &iso.network
                {
                    builder = builder.sandbox(iso.sandbox.clone(), network.clone());
                }
                let running = builder
                    .start("127.0.0.1:0".parse().expect("a valid address"))
                    .await
                    .map_err(|e| {
                        Error::Other(
                            anyhow::Error::new(e).context("starting the embedded emulator"),
                        )
                    })?;
                let url = running.url();
                let credentials = running.credentials();
                (
                    url,
                    credentials,
                    Some((running, lock)),
                    "embedded emulator".to_string(),
                    target.clock_scale,
                )
            }
        };
        let mut builder = Client::builder(&url, credentials)
            .timeout(Duration::from_secs(30))
            .retry(RetryPolicy {
                max_attempts: 6,
                initial_backoff: Duration::from_millis(20),
                max_backoff: Duration::from_secs(2),
            });
        if emulator.is_some() {
            builder = builder.poll(PollPolicy {
                deadline: Duration::from_secs(600),
                ..PollPolicy::fast()
            });
        }
        if let Some(alias) = target.account {
            builder = builder.account_alias(alias);
        }
        let client = builder
            .build()
            .map_err(|e| Error::Other(anyhow::Error::new(e).context("building the API client")))?;
        let login = client.login().await.map_err(|e| {
            Error::Other(anyhow::Error::new(e).context("logging in to the test account"))
        })?;
        let alias = client.alias().await.map_err(|e| {
            Error::Other(anyhow::Error::new(e).context("reading the account alias"))
        })?;
        let data_center = match target.data_center {
            Some(dc) => dc.to_string(),
            None => login.location_alias.clone(),
        };
        // The account tells its own clock: an emulator served with `--clock-scale 60`
        // lives 60 times faster than real time, a real account in real time.
        let scale = if emulator.is_some() {
            scale
        } else {
            client.clock_scale().await.map_err(|e| {
                Error::Other(anyhow::Error::new(e).context("reading the account's clock"))
            })?
        };
        Ok(Account {
            client,
            alias,
            data_center,
            endpoint,
            clock_scale: scale,
            emulator,
        })
    }

    /// Stop the embedded emulator (saving its state), if there is one.
    pub async fn close(self) {
        if let Some((emulator, lock)) = self.emulator {
            emulator.shutdown().await;
            drop(lock);
        }
    }
}

/// Take an exclusive lock on `path`, or say who to ask.
pub(crate) fn lock_exclusive(path: &Path) -> Result<std::fs::File, Error> {
    use std::os::fd::AsRawFd as _;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|e| Error::Io(format!("opening {}", path.display()), e))?;
    // SAFETY: flock on a file descriptor we own; it is released when the file closes.
    let locked = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0;
    if !locked {
        return Err(Error::Usage(format!(
            "another certify process (a run, or `certify emulator serve`) is using the emulator's account in {}; wait for it, or serve one account to several runs with `certify emulator serve --state DIR` and point them at it with `--endpoint`",
            path.parent().unwrap_or(path).display()
        )));
    }
    Ok(file)
}
