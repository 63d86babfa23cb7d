//! A plugin that uses the budget-gated cloud actions on its deployment: it
//! reboots the blueprint's server, adds a server for a scale test, and tries
//! to touch a server that is not the run's, and can keep the deployment busy
//! while its cost accrues. The tests check each action is done (or refused)
//! as the run allows, and torn down with the run.

use std::time::Duration;

use certify_sdk::{Check, CloudError, Criterion, Outcome, Plugin, PowerAction, ServerSpec};

fn plugin() -> Plugin {
    Plugin::new("cloud-actions", env!("CARGO_PKG_VERSION"))
        .check(
            Check::new("cloud.ready", "The deployment is there", |ctx| {
                Ok(Outcome::expect(ctx.deployment().is_some(), "no deployment"))
            })
            .readiness(),
        )
        .check(
            Check::new(
                "cloud.reboot",
                "The blueprint's server survives a reboot",
                |ctx| {
                    let deployment = ctx.deployment().ok_or("no deployment")?;
                    let server = deployment.servers.first().ok_or("no server")?.name.clone();
                    ctx.cloud().power(&server, PowerAction::Reboot)?;
                    Ok(Outcome::Pass)
                },
            )
            .criterion(Criterion::BlueprintIntegration),
        )
        .check(
            Check::new("cloud.scale", "A second server can be added", |ctx| {
                let spec = ServerSpec {
                    name: "SCALE".into(),
                    cpu: 1,
                    memory_gb: 1,
                    template: None,
                };
                match ctx.cloud().add_server(&spec) {
                    Ok(server) => {
                        ctx.info(format!("added {} at {}", server.name, server.internal_ip));
                        Ok(Outcome::Pass)
                    }
                    Err(CloudError::Refused(message)) => Ok(Outcome::fail(message)),
                    Err(e) => Err(e.into()),
                }
            })
            .criterion(Criterion::BusinessValue),
        )
        .check(
            Check::new(
                "cloud.linger",
                "Keeps the deployment busy for `linger_secs`",
                |ctx| {
                    // Lets the watchdog see the run's cost accrue while the check waits.
                    let secs: u64 = ctx
                        .parameter("linger_secs")
                        .and_then(|s| s.parse().ok())
                        .unwrap_or(0);
                    std::thread::sleep(Duration::from_secs(secs));
                    Ok(Outcome::Pass)
                },
            )
            .timeout(Duration::from_secs(120)),
        )
        .check(Check::new(
            "cloud.not-mine",
            "Servers outside the run are out of reach",
            |ctx| match ctx.cloud().power("WA1OTHERDB01", PowerAction::PowerOff) {
                Err(CloudError::NotFound(_)) => Ok(Outcome::Pass),
                other => Ok(Outcome::fail(format!(
                    "powering off another server gave {other:?}"
                ))),
            },
        ))
}

certify_sdk::export_plugin!(plugin);
