//! The generated bindings for the `ecosystem:certify/plugin` world: the only
//! `bindgen!` in the host. Imports are async (HTTP and cloud actions wait on
//! the network) and trappable (a host function can stop a plugin that
//! exceeds a limit); exports are async to match.

wasmtime::component::bindgen!({
    path: "../../../wit",
    world: "ecosystem:certify/plugin@0.1.0",
    imports: { default: async | trappable },
    exports: { default: async },
});

pub use ecosystem::certify::{cloud, deployment, http, log, run, types};
pub use exports::ecosystem::certify::checks;
