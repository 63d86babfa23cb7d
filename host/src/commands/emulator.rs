//! `certify emulator serve`: the test-account emulator, standalone.

use certify_emulator::{ExecutionMode, FaultSpec, ServeConfig};

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
    // `--state DIR` holds the account in DIR/emulator, as `certify run --state DIR` keeps
    // its embedded emulator's: one convention, and one process at a time on an account.
    let (state_dir, _lock) = match &args.state {
        Some(dir) => {
            if dir.is_file() {
                return Err(Error::Usage(format!(
                    "--state {} is a file; give a directory",
                    dir.display()
                )));
            }
            let account = dir.join("emulator");
            std::fs::create_dir_all(&account)
                .map_err(|e| Error::Io(format!("creating {}", account.display()), e))?;
            let lock = crate::run::lock_exclusive(&account.join(".lock"))?;
            (Some(account), Some(lock))
        }
        None => (None, None),
    };
    let config = ServeConfig {
        addr: args.addr,
        state_dir,
        clock_scale: args.clock_scale,
        faults,
        execution: match args.execution {
            Execution::Simulated => ExecutionMode::Simulated,
            Execution::Local => ExecutionMode::Local,
        },
    };
    certify_emulator::serve(config)
        .await
        .map_err(|e| Error::Other(anyhow::Error::new(e).context("running the emulator")))?;
    Ok(Outcome::Passed)
}
