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

/// The run's isolation: `None` when the integrator chose `--unsandboxed`; an error saying
/// why and what to do when the sandbox cannot work here.
pub fn prepare(unsandboxed: bool, embedded: bool) -> Result<Option<Isolation>, Error> {
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
    Ok(Some(Isolation { sandbox, network }))
}

/// The plugin's HTTP grants reach the servers through the run network, when there is one.
pub fn dialer(isolation: Option<&Isolation>) -> Option<certify_runtime::Dialer> {
    let network = isolation?.network.clone()?;
    Some(certify_runtime::Dialer(Arc::new(move |addr| {
        network.connect(addr)
    })))
}
