//! The [`Context`] a check runs with, and the [`Host`] capabilities behind it.
//!
//! Inside the harness the host is the WebAssembly import side (see
//! `glue.rs`); in native unit tests it is [`crate::testing::MockHost`]. Check
//! code sees only the context and cannot tell the two apart.

use crate::deployment::{Cloud, CloudError, Deployment, PowerAction, Server, ServerSpec};
use crate::http::{HttpError, Request, RequestBuilder, Response};
use crate::plugin::{Evidence, Measurement};
use crate::{Error, Result};

/// Log levels, least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Very detailed tracing.
    Trace,
    /// Debugging detail.
    Debug,
    /// Normal progress.
    Info,
    /// Something unexpected that did not stop the check.
    Warn,
    /// Something that went wrong.
    Error,
}

impl Level {
    /// The level in upper case, as logs print it.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Trace => "TRACE",
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warn => "WARN",
            Level::Error => "ERROR",
        }
    }
}

/// The capabilities the harness grants a plugin. Implemented by the
/// WebAssembly host at run time and by [`crate::testing::MockHost`] in tests;
/// plugin code uses them through [`Context`].
pub trait Host {
    /// Record a log event.
    fn log(&self, level: Level, message: &str, fields: &[(String, String)]);
    /// The plugin's parameters (`[plugin.parameters]` in the bundle's `candidate.toml`,
    /// or `--param` with `certify plugin run`), sorted by name.
    fn parameters(&self) -> Vec<(String, String)>;
    /// Facts about the candidate and the run, sorted by name.
    fn facts(&self) -> Vec<(String, String)>;
    /// Send an HTTP request through the harness.
    fn http(&self, request: &Request) -> Result<Response, HttpError>;
    /// The deployment under test, if the run has one.
    fn deployment(&self) -> Option<Deployment>;
    /// Apply a power operation to one of the run's servers.
    fn power(&self, server: &str, action: PowerAction) -> Result<(), CloudError>;
    /// Run a published package on one of the run's servers.
    fn run_package(
        &self,
        server: &str,
        package: &str,
        parameters: &[(String, String)],
    ) -> Result<(), CloudError>;
    /// Add a server to the run's deployment.
    fn add_server(&self, spec: &ServerSpec) -> Result<Server, CloudError>;
}

/// What a check runs with: its id and attempt, the run's parameters, the
/// host's capabilities, and the evidence and measurements it collects.
pub struct Context<'h> {
    check_id: String,
    attempt: u32,
    host: &'h dyn Host,
    pub(crate) evidence: Vec<Evidence>,
    pub(crate) measurements: Vec<Measurement>,
}

impl<'h> Context<'h> {
    /// A context for running `check_id` against `host`. The harness and the
    /// test double build contexts; plugin code receives one.
    pub fn new(check_id: impl Into<String>, attempt: u32, host: &'h dyn Host) -> Self {
        Context {
            check_id: check_id.into(),
            attempt,
            host,
            evidence: Vec::new(),
            measurements: Vec::new(),
        }
    }

    /// The id of the check being run.
    pub fn check_id(&self) -> &str {
        &self.check_id
    }

    /// 1 for the first run; readiness checks are repeated with 2, 3, ...
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// A plugin parameter by name.
    pub fn parameter(&self, name: &str) -> Option<String> {
        self.host
            .parameters()
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }

    /// A plugin parameter that the check cannot run without.
    pub fn require_parameter(&self, name: &str) -> Result<String> {
        self.parameter(name).ok_or_else(|| {
            Error::new(format!(
                "parameter `{name}` is not set; set it in `[plugin.parameters]` of candidate.toml (or `--param {name}=...` with `certify plugin run`)"
            ))
        })
    }

    /// All plugin parameters, sorted by name.
    pub fn parameters(&self) -> Vec<(String, String)> {
        self.host.parameters()
    }

    /// A fact about the candidate or the run (`company`, `product`, `tier`, ...).
    pub fn fact(&self, name: &str) -> Option<String> {
        self.host
            .facts()
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }

    /// Log at `level` with structured fields.
    pub fn log(&self, level: Level, message: impl AsRef<str>, fields: &[(&str, &str)]) {
        let fields: Vec<(String, String)> = fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.host.log(level, message.as_ref(), &fields);
    }

    /// Log at info level.
    pub fn info(&self, message: impl AsRef<str>) {
        self.log(Level::Info, message, &[]);
    }

    /// Log at warn level.
    pub fn warn(&self, message: impl AsRef<str>) {
        self.log(Level::Warn, message, &[]);
    }

    /// Log at debug level.
    pub fn debug(&self, message: impl AsRef<str>) {
        self.log(Level::Debug, message, &[]);
    }

    /// HTTP through the harness, to the addresses the run grants.
    pub fn http(&self) -> Http<'_> {
        Http { host: self.host }
    }

    /// The deployment under test, or `None` when the run has none.
    pub fn deployment(&self) -> Option<Deployment> {
        self.host.deployment()
    }

    /// Cloud actions on the test account, gated by the monthly credit.
    pub fn cloud(&self) -> Cloud<'_> {
        Cloud { host: self.host }
    }

    /// Attach evidence to the check's result.
    pub fn evidence(
        &mut self,
        name: impl Into<String>,
        media_type: impl Into<String>,
        data: impl Into<Vec<u8>>,
    ) {
        self.evidence.push(Evidence {
            name: name.into(),
            media_type: media_type.into(),
            data: data.into(),
        });
    }

    /// Report a measured value with the check's result.
    pub fn measure(&mut self, name: impl Into<String>, value: f64, unit: impl Into<String>) {
        self.measurements.push(Measurement {
            name: name.into(),
            value,
            unit: unit.into(),
        });
    }
}

/// Entry point for HTTP requests; see [`Context::http`].
pub struct Http<'h> {
    host: &'h dyn Host,
}

impl<'h> Http<'h> {
    /// Start a request with any method.
    pub fn request(&self, method: &str, url: impl Into<String>) -> RequestBuilder<'h> {
        RequestBuilder::new(self.host, method, url.into())
    }

    /// Start a GET request.
    pub fn get(&self, url: impl Into<String>) -> RequestBuilder<'h> {
        self.request("GET", url)
    }

    /// Start a POST request.
    pub fn post(&self, url: impl Into<String>) -> RequestBuilder<'h> {
        self.request("POST", url)
    }
}
