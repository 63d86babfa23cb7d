//! Where the candidate's package scripts and KB steps run: in the sandbox
//! (`certify-sandbox`: bubblewrap, on the run's private network), or, only when the
//! integrator says `--unsandboxed`, as the integrator's own user.

use std::sync::Arc;

use certify_sandbox::{RunNetwork, Sandbox};

use crate::Error;

/// The run's sandbox and, with the embedded emulator, its private network.
#[derive(Debug, Clone)]
pub struct Isolation {
    pub sandbox: Sandbox,
    /// `None` with a real endpoint: the servers are the account's, steps reach them
    /// over the host's network.
    pub network: Option<Arc<RunNetwork>>,
}

/// How the candidate's servers and steps could reach the internet, for the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Internet {
    /// Not at all: the run network has no way out.
    Off,
    /// Through the egress proxy (`--allow-internet`), with what was asked of it.
    Proxy(certify_sandbox::egress::Log),
    /// As the integrator's machine can (`--unsandboxed`, or a real account's servers
    /// with the steps on the host's network).
    Host,
}

impl Internet {
    /// What a run's isolation gave, as of now (the proxy's log grows while it runs).
    pub fn of(isolation: Option<&Isolation>) -> Internet {
        match isolation.map(|i| i.network.as_deref()) {
            Some(Some(network)) if network.proxy().is_some() => {
                Internet::Proxy(network.egress_log())
            }
            Some(Some(_)) => Internet::Off,
            _ => Internet::Host,
        }
    }

    /// The word in the report: `off`, `proxy` or `host`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Internet::Off => "off",
            Internet::Proxy(_) => "proxy",
            Internet::Host => "host",
        }
    }
}

/// The run's isolation: `None` when the integrator chose `--unsandboxed`; an error saying
/// why and what to do when the sandbox cannot work here. With `allow_internet`, the run
/// network gets its egress proxy.
pub fn prepare(
    unsandboxed: bool,
    embedded: bool,
    allow_internet: bool,
) -> Result<Option<Isolation>, Error> {
    if unsandboxed {
        return Ok(None);
    }
    let sandbox = Sandbox::probe().map_err(|e| Error::Usage(e.to_string()))?;
    let network = if embedded {
        Some(Arc::new(RunNetwork::create().map_err(|e| {
            Error::Usage(format!(
                "cannot create the run's private network: {e}; pass --unsandboxed to run the candidate's code as your own user"
            ))
        })?))
    } else {
        None
    };
    if let Some(network) = network.as_ref().filter(|_| allow_internet) {
        network.allow_internet().map_err(|e| {
            Error::Usage(format!(
                "cannot start the run network's egress proxy for --allow-internet: {e}"
            ))
        })?;
    }
    Ok(Some(Isolation { sandbox, network }))
}

/// The plugin's HTTP grants reach the servers through the run network, when there is one.
pub fn dialer(isolation: Option<&Isolation>) -> Option<certify_runtime::Dialer> {
    let network = isolation?.network.clone()?;
    Some(certify_runtime::Dialer(Arc::new(move |addr| {
        network.connect(addr)
    })))
}
