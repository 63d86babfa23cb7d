//! The plugin host: loads candidates' validation plugins (WebAssembly
//! components built against `wit/certify.wit`) and runs their checks in a
//! sandbox.
//!
//! - [`Runtime`] owns the one `Engine` of the process, the `Linker` with the
//!   granted capabilities, the epoch ticker and the compiled-artifact cache.
//! - [`Runtime::load`] compiles a plugin once (or reads it back from the
//!   cache), refuses imports the host does not grant, and asks the plugin to
//!   describe itself.
//! - [`Plugin::run_check`] runs one check in a fresh `Store` under the
//!   [`Limits`], with the capabilities in [`Grants`], and always returns a
//!   [`CheckRun`]: whatever the plugin does (trap, panic, loop, memory bomb,
//!   flood, malformed result), it becomes data, never a crashed host.
//!
//! Sandbox: no preopened directories, no environment variables, no arguments,
//! no sockets, no inherited stdio; stdout and stderr are captured and bounded.
//! A plugin reaches the world only through the imports in [`capabilities`].

mod bindings;
mod cache;
pub mod capabilities;
mod engine;
mod outcome;
mod plugin;
mod sandbox;
pub mod text;

pub use cache::ArtifactCache;
pub use capabilities::{
    CloudActions, CloudError, DeploymentView, Dialer, Grants, HttpPolicy, PowerAction, ServerView,
};
pub use engine::{Limits, MAX_INSTANCES, Runtime, RuntimeConfig};
pub use outcome::{CheckRun, ErrorKind, Evidence, Measurement, Status};
pub use plugin::{CheckInfo, Criterion, LoadError, Plugin, PluginInfo, sha256_hex};

/// The contract version this host implements (the WIT package version).
pub const CONTRACT_VERSION: &str = "0.1.0";
