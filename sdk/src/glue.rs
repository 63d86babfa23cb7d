//! Glue between the generated bindings and the SDK's API: the host
//! capabilities as imports, and the `describe` / `run-check` exports that
//! [`crate::export_plugin!`] wires to a [`Plugin`]. Not part of the public API.

use std::time::Duration;

use crate::bindings::ecosystem::certify::{cloud, deployment, http, log, run, types};
use crate::bindings::exports::ecosystem::certify::checks as exports;
pub use crate::bindings::exports::ecosystem::certify::checks::{
    CheckContext, CheckResult, Guest, PluginInfo,
};
use crate::context::{Host, Level};
use crate::deployment::{CloudError, Deployment, PowerAction, Server, ServerSpec};
use crate::http::{HttpError, Request, Response};
use crate::plugin::{Criterion, Outcome, Plugin};
use crate::{CONTRACT_VERSION, Context, SDK};

/// `describe` for a plugin.
pub fn describe(plugin: &Plugin) -> PluginInfo {
    PluginInfo {
        name: plugin.name.clone(),
        version: plugin.version.clone(),
        sdk: SDK.to_string(),
        contract: CONTRACT_VERSION.to_string(),
        checks: plugin
            .checks
            .iter()
            .map(|c| exports::Check {
                id: c.id.clone(),
                title: c.title.clone(),
                criterion: match c.criterion {
                    Criterion::PerformsAsAdvertised => types::Criterion::PerformsAsAdvertised,
                    Criterion::Documentation => types::Criterion::Documentation,
                    Criterion::BlueprintIntegration => types::Criterion::BlueprintIntegration,
                    Criterion::BusinessValue => types::Criterion::BusinessValue,
                },
                description: c.description.clone(),
                remediation: c.remediation.clone(),
                timeout_ms: c
                    .timeout
                    .map(|t| u32::try_from(t.as_millis()).unwrap_or(u32::MAX)),
                readiness: c.readiness,
            })
            .collect(),
    }
}

/// `run-check` for a plugin, against the WebAssembly host.
pub fn run_check(plugin: &Plugin, context: CheckContext) -> Result<CheckResult, String> {
    let Some(check) = plugin.find(&context.check_id) else {
        return Err(format!("no check `{}` in this plugin", context.check_id));
    };
    let mut ctx = Context::new(context.check_id.clone(), context.attempt, &WasmHost);
    let outcome = (check.run)(&mut ctx).map_err(|e| e.to_string())?;
    Ok(CheckResult {
        outcome: match outcome {
            Outcome::Pass => exports::Outcome::Pass,
            Outcome::Fail(m) => exports::Outcome::Fail(m),
            Outcome::Skipped(m) => exports::Outcome::Skipped(m),
        },
        evidence: ctx
            .evidence
            .into_iter()
            .map(|e| exports::Evidence {
                name: e.name,
                media_type: e.media_type,
                data: e.data,
            })
            .collect(),
        measurements: ctx
            .measurements
            .into_iter()
            .map(|m| exports::Measurement {
                name: m.name,
                value: m.value,
                unit: m.unit,
            })
            .collect(),
    })
}

fn pairs(list: Vec<types::Pair>) -> Vec<(String, String)> {
    list.into_iter().map(|p| (p.name, p.value)).collect()
}

fn to_pairs(list: &[(String, String)]) -> Vec<types::Pair> {
    list.iter()
        .map(|(name, value)| types::Pair {
            name: name.clone(),
            value: value.clone(),
        })
        .collect()
}

fn server(s: deployment::Server) -> Server {
    Server {
        name: s.name,
        role: s.role,
        internal_ip: s.internal_ip,
        public_ip: s.public_ip,
        cpu: s.cpu,
        memory_gb: s.memory_gb,
        storage_gb: s.storage_gb,
        os: s.os,
        status: s.status,
        power_state: s.power_state,
    }
}

fn cloud_error(e: cloud::Error) -> CloudError {
    match e {
        cloud::Error::Refused(m) => CloudError::Refused(m),
        cloud::Error::Unavailable(m) => CloudError::Unavailable(m),
        cloud::Error::NotFound(m) => CloudError::NotFound(m),
        cloud::Error::Failed(m) => CloudError::Failed(m),
        cloud::Error::Timeout => CloudError::Timeout,
    }
}

/// The host capabilities, as WebAssembly imports.
struct WasmHost;

impl Host for WasmHost {
    fn log(&self, level: Level, message: &str, fields: &[(String, String)]) {
        let level = match level {
            Level::Trace => log::Level::Trace,
            Level::Debug => log::Level::Debug,
            Level::Info => log::Level::Info,
            Level::Warn => log::Level::Warn,
            Level::Error => log::Level::Error,
        };
        log::event(level, message, &to_pairs(fields));
    }

    fn parameters(&self) -> Vec<(String, String)> {
        pairs(run::parameters())
    }

    fn facts(&self) -> Vec<(String, String)> {
        pairs(run::facts())
    }

    fn http(&self, request: &Request) -> Result<Response, HttpError> {
        let wire = http::Request {
            method: request.method.clone(),
            url: request.url.clone(),
            headers: to_pairs(&request.headers),
            body: request.body.clone(),
            timeout_ms: request
                .timeout
                .map(|t| u32::try_from(t.as_millis()).unwrap_or(u32::MAX)),
        };
        match http::send(&wire) {
            Ok(r) => Ok(Response {
                status: r.status,
                headers: pairs(r.headers),
                body: r.body,
                elapsed: Duration::from_micros(r.elapsed_us),
            }),
            Err(http::Error::Denied(m)) => Err(HttpError::Denied(m)),
            Err(http::Error::InvalidRequest(m)) => Err(HttpError::InvalidRequest(m)),
            Err(http::Error::Timeout) => Err(HttpError::Timeout),
            Err(http::Error::TooLarge(n)) => Err(HttpError::TooLarge(n)),
            Err(http::Error::Transport(m)) => Err(HttpError::Transport(m)),
        }
    }

    fn deployment(&self) -> Option<Deployment> {
        deployment::current().map(|d| Deployment {
            run_id: d.run_id,
            account_alias: d.account_alias,
            data_center: d.data_center,
            blueprint: d.blueprint,
            servers: d.servers.into_iter().map(server).collect(),
            parameters: pairs(d.parameters),
        })
    }

    fn power(&self, server: &str, action: PowerAction) -> Result<(), CloudError> {
        let action = match action {
            PowerAction::PowerOn => cloud::PowerAction::PowerOn,
            PowerAction::PowerOff => cloud::PowerAction::PowerOff,
            PowerAction::Reboot => cloud::PowerAction::Reboot,
            PowerAction::ShutDown => cloud::PowerAction::ShutDown,
        };
        cloud::power(server, action).map_err(cloud_error)
    }

    fn run_package(
        &self,
        server: &str,
        package: &str,
        parameters: &[(String, String)],
    ) -> Result<(), CloudError> {
        cloud::run_package(server, package, &to_pairs(parameters)).map_err(cloud_error)
    }

    fn add_server(&self, spec: &ServerSpec) -> Result<Server, CloudError> {
        let spec = cloud::ServerSpec {
            name: spec.name.clone(),
            cpu: spec.cpu,
            memory_gb: spec.memory_gb,
            template: spec.template.clone(),
        };
        cloud::add_server(&spec).map(server).map_err(cloud_error)
    }
}
