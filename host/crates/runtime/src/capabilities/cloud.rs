//! `ecosystem:certify/cloud`: cloud actions, delegated to the run's
//! [`CloudActions`](super::CloudActions), which prices and gates them.

use super::deployment::server;
use super::{CloudError, PowerAction, ServerRequest};
use crate::bindings::{cloud, deployment, types};
use crate::sandbox::State;

const NOT_GRANTED: &str = "this run grants no cloud actions (they are granted only with a deployment, inside `certify run`)";

fn wire(e: CloudError) -> cloud::Error {
    match e {
        CloudError::Refused(m) => cloud::Error::Refused(m),
        CloudError::Unavailable(m) => cloud::Error::Unavailable(m),
        CloudError::NotFound(m) => cloud::Error::NotFound(m),
        CloudError::Failed(m) => cloud::Error::Failed(m),
        CloudError::Timeout => cloud::Error::Timeout,
    }
}

impl cloud::Host for State {
    async fn power(
        &mut self,
        server: String,
        action: cloud::PowerAction,
    ) -> wasmtime::Result<Result<(), cloud::Error>> {
        let Some(actions) = self.grants.cloud.clone() else {
            return Ok(Err(cloud::Error::Unavailable(NOT_GRANTED.into())));
        };
        let action = match action {
            cloud::PowerAction::PowerOn => PowerAction::PowerOn,
            cloud::PowerAction::PowerOff => PowerAction::PowerOff,
            cloud::PowerAction::Reboot => PowerAction::Reboot,
            cloud::PowerAction::ShutDown => PowerAction::ShutDown,
        };
        Ok(actions.power(server, action).await.map_err(wire))
    }

    async fn run_package(
        &mut self,
        server: String,
        package_name: String,
        parameters: Vec<types::Pair>,
    ) -> wasmtime::Result<Result<(), cloud::Error>> {
        let Some(actions) = self.grants.cloud.clone() else {
            return Ok(Err(cloud::Error::Unavailable(NOT_GRANTED.into())));
        };
        let parameters = parameters.into_iter().map(|p| (p.name, p.value)).collect();
        Ok(actions
            .run_package(server, package_name, parameters)
            .await
            .map_err(wire))
    }

    async fn add_server(
        &mut self,
        spec: cloud::ServerSpec,
    ) -> wasmtime::Result<Result<deployment::Server, cloud::Error>> {
        let Some(actions) = self.grants.cloud.clone() else {
            return Ok(Err(cloud::Error::Unavailable(NOT_GRANTED.into())));
        };
        let request = ServerRequest {
            name: spec.name,
            cpu: spec.cpu,
            memory_gb: spec.memory_gb,
            template: spec.template,
        };
        Ok(actions
            .add_server(request)
            .await
            .map(|s| server(&s))
            .map_err(wire))
    }
}
