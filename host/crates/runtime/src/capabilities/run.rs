//! `ecosystem:certify/run`: the plugin's parameters (`[plugin.parameters]` in the bundle,
//! or `--param`) and the candidate's facts.

use crate::bindings::{run, types};
use crate::sandbox::State;

pub(super) fn to_pairs(list: &[(String, String)]) -> Vec<types::Pair> {
    list.iter()
        .map(|(name, value)| types::Pair {
            name: name.clone(),
            value: value.clone(),
        })
        .collect()
}

impl run::Host for State {
    async fn parameters(&mut self) -> wasmtime::Result<Vec<types::Pair>> {
        Ok(to_pairs(&self.grants.parameters))
    }

    async fn parameter(&mut self, name: String) -> wasmtime::Result<Option<String>> {
        Ok(self
            .grants
            .parameters
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone()))
    }

    async fn facts(&mut self) -> wasmtime::Result<Vec<types::Pair>> {
        Ok(to_pairs(&self.grants.facts))
    }
}
