//! Write validation plugins for the ecosystem certification harness.
//!
//! A plugin is a WebAssembly component that declares checks; the harness
//! (`certify`) loads it in a sandbox and runs each check against the
//! candidate's deployment. A check returns an [`Outcome`] (pass, fail with a
//! message, or skipped with a reason), and may attach evidence and
//! measurements. Everything a check can reach — parameters, logging, HTTP to
//! the deployed servers, the deployment itself, cloud actions — goes through
//! its [`Context`], which the harness grants.
//!
//! A complete plugin:
//!
//! ```
//! use std::time::Duration;
//! use certify_sdk::{Check, Context, Criterion, Outcome, Plugin};
//!
//! fn plugin() -> Plugin {
//!     Plugin::new("acme-widget-checks", "1.0.0")
//!         .check(
//!             Check::new("service.health", "The service answers its health endpoint", health)
//!                 .criterion(Criterion::PerformsAsAdvertised)
//!                 .description("GET {base_url}/health answers 200.")
//!                 .remediation("Start the service from the install package and bind it to the server's address.")
//!                 .timeout(Duration::from_secs(10))
//!                 .readiness(),
//!         )
//! }
//!
//! fn health(ctx: &mut Context) -> certify_sdk::Result<Outcome> {
//!     let base = ctx.require_parameter("base_url")?;
//!     let response = ctx.http().get(format!("{base}/health")).send()?;
//!     ctx.measure("latency", response.elapsed().as_secs_f64() * 1000.0, "ms");
//!     if response.status() == 200 {
//!         Ok(Outcome::Pass)
//!     } else {
//!         Ok(Outcome::fail(format!("/health answered {}", response.status())))
//!     }
//! }
//!
//! certify_sdk::export_plugin!(plugin);
//!
//! // Check logic is plain Rust: test it natively with the host test double.
//! # fn main() {
//! use certify_sdk::testing::MockHost;
//! let run = MockHost::new()
//!     .parameter("base_url", "http://10.0.0.5:8080")
//!     .respond("GET", "http://10.0.0.5:8080/health", 200, "ok")
//!     .run(&plugin(), "service.health");
//! assert_eq!(run.outcome, Ok(Outcome::Pass));
//! # }
//! ```
//!
//! Build it with `cargo build --release --target wasm32-wasip2` (crate type
//! `cdylib`) and run it with `certify plugin run target/wasm32-wasip2/release/<name>.wasm`.
//!
//! A failed check is an [`Outcome::Fail`]: the candidate's product did not do
//! what the check expects. An [`Error`] (returned with `?`) means the check
//! could not be run at all — a parameter is missing, the harness denied an
//! address — and is reported as an error, not as a failure of the product.

#![deny(missing_docs)]

#[doc(hidden)]
pub mod bindings;
mod context;
mod deployment;
#[doc(hidden)]
pub mod glue;
mod http;
mod plugin;
pub mod testing;

pub use context::{Context, Host, Level};
pub use deployment::{CloudError, Deployment, PowerAction, Server, ServerSpec};
pub use http::{HttpError, Request, RequestBuilder, Response};
pub use plugin::{Check, CheckFn, Criterion, Evidence, Measurement, Outcome, Plugin};

/// The version of the plugin contract (the WIT package `ecosystem:certify`) this SDK implements.
pub const CONTRACT_VERSION: &str = "0.1.0";

/// This SDK, as `name/version`; reported by every plugin built with it.
pub const SDK: &str = concat!("certify-sdk/", env!("CARGO_PKG_VERSION"));

/// Why a check could not be run. Reported as an error, never as a failure of
/// the candidate's product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    message: String,
}

impl Error {
    /// An error with a message for the report.
    pub fn new(message: impl Into<String>) -> Self {
        Error {
            message: message.into(),
        }
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl From<String> for Error {
    fn from(message: String) -> Self {
        Error { message }
    }
}

impl From<&str> for Error {
    fn from(message: &str) -> Self {
        Error::new(message)
    }
}

impl From<HttpError> for Error {
    fn from(e: HttpError) -> Self {
        Error::new(format!("http: {e}"))
    }
}

impl From<CloudError> for Error {
    fn from(e: CloudError) -> Self {
        Error::new(format!("cloud: {e}"))
    }
}

/// The result of a check function: an [`Outcome`], or an [`Error`] when the
/// check could not be run.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Export a plugin from this crate. Takes the path of a function that returns
/// the [`Plugin`]; call it once, at the crate root of a `cdylib`.
#[macro_export]
macro_rules! export_plugin {
    ($plugin:path) => {
        #[doc(hidden)]
        pub struct __CertifyPluginExport;

        impl $crate::glue::Guest for __CertifyPluginExport {
            fn describe() -> $crate::glue::PluginInfo {
                $crate::glue::describe(&$plugin())
            }

            fn run_check(
                context: $crate::glue::CheckContext,
            ) -> ::std::result::Result<$crate::glue::CheckResult, ::std::string::String> {
                $crate::glue::run_check(&$plugin(), context)
            }
        }

        $crate::bindings::__export_certify_world!(__CertifyPluginExport with_types_in $crate::bindings);
    };
}
