//! The capabilities a run grants its plugins: one module per imported WIT
//! interface, each implementing the generated `Host` trait on the store's
//! [`State`](crate::sandbox::State).
//!
//! [`Grants`] is what a run decides: the parameters and facts plugins see,
//! the addresses they may reach over HTTP, the deployment they may look at,
//! and the cloud actions they may take (priced and gated by the caller's
//! [`CloudActions`]). Anything not granted answers with a clear refusal.

mod cloud;
mod deployment;
mod http;
mod log;
mod run;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

pub use http::{Dialer, HttpPolicy};

/// What a run grants its plugins. Shared by every check of the run.
#[derive(Clone, Default)]
pub struct Grants {
    /// Suite-supplied parameters, as `name → value`.
    pub parameters: Vec<(String, String)>,
    /// Facts about the candidate and the run.
    pub facts: Vec<(String, String)>,
    /// Which addresses plugins may reach over HTTP.
    pub http: HttpPolicy,
    /// The deployment under test, if any.
    pub deployment: Option<DeploymentView>,
    /// Cloud actions, if the run grants them.
    pub cloud: Option<Arc<dyn CloudActions>>,
}

impl Grants {
    /// Parameters and facts are handed to plugins sorted by name, so that a
    /// plugin sees the same order in every run.
    pub fn normalized(mut self) -> Self {
        self.parameters.sort();
        self.facts.sort();
        self
    }
}

/// A server of the deployment, as plugins see it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ServerView {
    /// Full name on the account.
    pub name: String,
    /// The blueprint's name for the server.
    pub role: String,
    /// Private address.
    pub internal_ip: String,
    /// Public address, if any.
    pub public_ip: Option<String>,
    /// Virtual CPUs.
    pub cpu: u32,
    /// Memory in GB.
    pub memory_gb: u32,
    /// Storage in GB.
    pub storage_gb: u32,
    /// Operating system.
    pub os: String,
    /// Server status.
    pub status: String,
    /// Power state.
    pub power_state: String,
}

/// The deployment under test, as plugins see it (secrets already withheld).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DeploymentView {
    /// The run's id.
    pub run_id: String,
    /// The account alias.
    pub account_alias: String,
    /// The data center.
    pub data_center: String,
    /// The blueprint's name.
    pub blueprint: String,
    /// The servers.
    pub servers: Vec<ServerView>,
    /// Deployment parameters, secrets withheld.
    pub parameters: Vec<(String, String)>,
}

/// Power operations plugins may request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PowerAction {
    /// Power on.
    PowerOn,
    /// Power off.
    PowerOff,
    /// Reboot.
    Reboot,
    /// Shut down the OS.
    ShutDown,
}

/// A server a plugin asks to add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerRequest {
    /// Short name.
    pub name: String,
    /// Virtual CPUs.
    pub cpu: u32,
    /// Memory in GB.
    pub memory_gb: u32,
    /// Template, if not the blueprint's.
    pub template: Option<String>,
}

/// Why a cloud action was not done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloudError {
    /// The monthly credit cannot cover it.
    Refused(String),
    /// The run grants no cloud actions.
    Unavailable(String),
    /// Not part of this run.
    NotFound(String),
    /// The account reported a failure.
    Failed(String),
    /// Did not finish in time.
    Timeout,
}

/// A boxed future, for the object-safe [`CloudActions`] trait.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Cloud actions on the test account, implemented by the run that owns the
/// deployment: it prices, reserves, journals and tears down each action.
pub trait CloudActions: Send + Sync {
    /// Apply a power operation to one of the run's servers and wait for it.
    fn power(&self, server: String, action: PowerAction) -> BoxFuture<'_, Result<(), CloudError>>;
    /// Run a published package on one of the run's servers and wait for it.
    fn run_package(
        &self,
        server: String,
        package: String,
        parameters: Vec<(String, String)>,
    ) -> BoxFuture<'_, Result<(), CloudError>>;
    /// Add a server to the deployment and wait until it is active.
    fn add_server(&self, request: ServerRequest) -> BoxFuture<'_, Result<ServerView, CloudError>>;
}
