//! The deployment under test, and cloud actions on the test account.

use crate::context::Host;

/// A server the blueprint created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    /// Full name on the account, for example `WA1ACMEWEB01`.
    pub name: String,
    /// The blueprint's name for this server (its build task), for example `WEB`.
    pub role: String,
    /// Private address.
    pub internal_ip: String,
    /// Public address, when the blueprint opened one.
    pub public_ip: Option<String>,
    /// Virtual CPUs.
    pub cpu: u32,
    /// Memory in GB.
    pub memory_gb: u32,
    /// Storage in GB.
    pub storage_gb: u32,
    /// Operating system as the account names it.
    pub os: String,
    /// `active`, `underConstruction`, ...
    pub status: String,
    /// `started`, `stopped` or `paused`.
    pub power_state: String,
}

/// The deployment a run is checking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployment {
    /// The run's id.
    pub run_id: String,
    /// The test account's alias.
    pub account_alias: String,
    /// The data center.
    pub data_center: String,
    /// The blueprint's name.
    pub blueprint: String,
    /// The servers, in the blueprint's order.
    pub servers: Vec<Server>,
    /// The blueprint's deployment parameters (secrets withheld).
    pub parameters: Vec<(String, String)>,
}

impl Deployment {
    /// The first server with this role (the blueprint's build-task name).
    pub fn server(&self, role: &str) -> Option<&Server> {
        self.servers
            .iter()
            .find(|s| s.role.eq_ignore_ascii_case(role))
    }
}

/// Power operations a plugin may apply to the run's servers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PowerAction {
    /// Power on.
    PowerOn,
    /// Power off (hard).
    PowerOff,
    /// Reboot.
    Reboot,
    /// Shut down the operating system.
    ShutDown,
}

/// A server to add to the deployment, for example for a scale test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSpec {
    /// Up to 6 letters or digits; the account builds the full name.
    pub name: String,
    /// Virtual CPUs.
    pub cpu: u32,
    /// Memory in GB.
    pub memory_gb: u32,
    /// Template; the blueprint's first server's when `None`.
    pub template: Option<String>,
}

/// Why a cloud action was not done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloudError {
    /// The monthly credit cannot cover it; the message gives the numbers.
    Refused(String),
    /// The run grants no cloud actions.
    Unavailable(String),
    /// The server or package is not part of this run.
    NotFound(String),
    /// The account reported a failure.
    Failed(String),
    /// The action did not finish in time.
    Timeout,
}

impl std::fmt::Display for CloudError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CloudError::Refused(m) => write!(f, "refused: {m}"),
            CloudError::Unavailable(m) => write!(f, "unavailable: {m}"),
            CloudError::NotFound(m) => write!(f, "not found: {m}"),
            CloudError::Failed(m) => write!(f, "failed: {m}"),
            CloudError::Timeout => f.write_str("timed out"),
        }
    }
}

impl std::error::Error for CloudError {}

/// Cloud actions; see [`crate::Context::cloud`].
pub struct Cloud<'h> {
    pub(crate) host: &'h dyn Host,
}

impl Cloud<'_> {
    /// Apply a power operation to one of the run's servers and wait for it.
    pub fn power(&self, server: &str, action: PowerAction) -> Result<(), CloudError> {
        self.host.power(server, action)
    }

    /// Run one of the candidate's published packages on a server and wait for it.
    pub fn run_package(
        &self,
        server: &str,
        package: &str,
        parameters: &[(&str, &str)],
    ) -> Result<(), CloudError> {
        let parameters: Vec<(String, String)> = parameters
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.host.run_package(server, package, &parameters)
    }

    /// Add a server to the run's deployment and wait until it is active.
    pub fn add_server(&self, spec: &ServerSpec) -> Result<Server, CloudError> {
        self.host.add_server(spec)
    }
}
