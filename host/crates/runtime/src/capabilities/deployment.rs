//! `ecosystem:certify/deployment`: a read-only view of the deployment under test.

use super::ServerView;
use super::run::to_pairs;
use crate::bindings::deployment;
use crate::sandbox::State;

pub(super) fn server(s: &ServerView) -> deployment::Server {
    deployment::Server {
        name: s.name.clone(),
        role: s.role.clone(),
        internal_ip: s.internal_ip.clone(),
        public_ip: s.public_ip.clone(),
        cpu: s.cpu,
        memory_gb: s.memory_gb,
        storage_gb: s.storage_gb,
        os: s.os.clone(),
        status: s.status.clone(),
        power_state: s.power_state.clone(),
    }
}

impl deployment::Host for State {
    async fn current(&mut self) -> wasmtime::Result<Option<deployment::Info>> {
        Ok(self.grants.deployment.as_ref().map(|d| deployment::Info {
            run_id: d.run_id.clone(),
            account_alias: d.account_alias.clone(),
            data_center: d.data_center.clone(),
            blueprint: d.blueprint.clone(),
            servers: d.servers.iter().map(server).collect(),
            parameters: to_pairs(&d.parameters),
        }))
    }
}
