//! `certify emulator serve`: the test-account emulator, standalone.

use certify_clc::emulator::{self, ExecutionMode, FaultSpec, ServeConfig};

use crate::cli::{EmulatorServeArgs, Execution};
use crate::{Error, Outcome};

/// Serve an emulated test account until Ctrl-C.
pub async fn serve(args: EmulatorServeArgs) -> Result<Outcome, Error> {
    let faults = match &args.faults {
        Some(spec) => FaultSpec::parse(spec).map_err(|e| Error::Usage(format!("--faults: {e}")))?,
        None => FaultSpec::none(),
    };
    if !(args.clock_scale.is_finite() && args.clock_scale > 0.0) {
        return Err(Error::Usage(
            "--clock-scale must be a positive number".into(),
        ));
    }
    let config = ServeConfig {
        addr: args.addr,
        state_dir: args.state,
        clock_scale: args.clock_scale,
        faults,
        execution: match args.execution {
            Execution::Simulated => ExecutionMode::Simulated,
            Execution::Local => ExecutionMode::Local,
        },
    };
    emulator::serve(config)
        .await
        .map_err(|e| Error::Other(anyhow::Error::new(e).context("running the emulator")))?;
    Ok(Outcome::Passed)
}
