//! A test double for the harness, so plugin authors can unit-test their check
//! logic natively with `cargo test`, in their own CI, without the harness.
//!
//! ```
//! use certify_sdk::{Check, Outcome, Plugin};
//! use certify_sdk::testing::MockHost;
//!
//! let plugin = Plugin::new("demo", "0.1.0").check(Check::new("version", "Reports its version", |ctx| {
//!     let body = ctx.http().get("http://svc/version").send()?.text();
//!     Ok(Outcome::expect(body == "2.1.0", format!("version is {body}")))
//! }));
//! let run = MockHost::new().respond("GET", "http://svc/version", 200, "2.1.0").run(&plugin, "version");
//! assert_eq!(run.outcome, Ok(Outcome::Pass));
//! ```

use std::cell::RefCell;

use crate::context::{Host, Level};
use crate::deployment::{CloudError, Deployment, PowerAction, Server, ServerSpec};
use crate::http::{HttpError, Request, Response};
use crate::plugin::{Evidence, Measurement, Outcome, Plugin};
use crate::{Context, Error};

/// A cloud action a check asked for, as the mock recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloudCall {
    /// [`crate::deployment::Cloud::power`].
    Power(String, PowerAction),
    /// [`crate::deployment::Cloud::run_package`].
    RunPackage(String, String, Vec<(String, String)>),
    /// [`crate::deployment::Cloud::add_server`].
    AddServer(ServerSpec),
}

/// The result of running a check against the mock.
#[derive(Debug)]
pub struct MockRun {
    /// The outcome, or the error that kept the check from running.
    pub outcome: Result<Outcome, Error>,
    /// Evidence the check attached.
    pub evidence: Vec<Evidence>,
    /// Measurements the check reported.
    pub measurements: Vec<Measurement>,
    /// Log lines, as `LEVEL message`.
    pub logs: Vec<String>,
    /// HTTP requests the check sent.
    pub requests: Vec<Request>,
    /// Cloud actions the check asked for.
    pub cloud_calls: Vec<CloudCall>,
}

/// A programmable stand-in for the harness.
///
/// HTTP requests are answered from the responses registered with
/// [`MockHost::respond`] (matched on method and exact URL); anything else is
/// answered `denied`, as the harness answers an address the run does not grant.
#[derive(Default)]
pub struct MockHost {
    parameters: Vec<(String, String)>,
    facts: Vec<(String, String)>,
    responses: Vec<(String, String, Result<Response, HttpError>)>,
    deployment: Option<Deployment>,
    cloud_result: Option<CloudError>,
    logs: RefCell<Vec<String>>,
    requests: RefCell<Vec<Request>>,
    cloud_calls: RefCell<Vec<CloudCall>>,
}

impl MockHost {
    /// A host with no parameters, no deployment, and no reachable address.
    pub fn new() -> Self {
        Self::default()
    }

    /// Set a plugin parameter.
    pub fn parameter(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.parameters.push((name.into(), value.into()));
        self.parameters.sort();
        self
    }

    /// Set a fact about the candidate.
    pub fn fact(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.facts.push((name.into(), value.into()));
        self.facts.sort();
        self
    }

    /// Answer `method url` with `status` and `body`.
    pub fn respond(
        self,
        method: &str,
        url: impl Into<String>,
        status: u16,
        body: impl Into<Vec<u8>>,
    ) -> Self {
        self.respond_with(method, url, Ok(Response::new(status, body)))
    }

    /// Answer `method url` with a full response or an error.
    pub fn respond_with(
        mut self,
        method: &str,
        url: impl Into<String>,
        answer: Result<Response, HttpError>,
    ) -> Self {
        self.responses
            .push((method.to_ascii_uppercase(), url.into(), answer));
        self
    }

    /// Give the check a deployment to look at.
    pub fn deployment(mut self, deployment: Deployment) -> Self {
        self.deployment = Some(deployment);
        self
    }

    /// Make every cloud action fail with this error (they succeed otherwise).
    pub fn cloud_error(mut self, error: CloudError) -> Self {
        self.cloud_result = Some(error);
        self
    }

    /// Run one check of `plugin` (attempt 1) and collect what it did.
    pub fn run(&self, plugin: &Plugin, check_id: &str) -> MockRun {
        let mut ctx = Context::new(check_id, 1, self);
        let outcome = match plugin.find(check_id) {
            Some(check) => (check.run)(&mut ctx),
            None => Err(Error::new(format!("no check `{check_id}` in this plugin"))),
        };
        MockRun {
            outcome,
            evidence: std::mem::take(&mut ctx.evidence),
            measurements: std::mem::take(&mut ctx.measurements),
            logs: self.logs.take(),
            requests: self.requests.take(),
            cloud_calls: self.cloud_calls.take(),
        }
    }

    fn cloud(&self, call: CloudCall) -> Result<(), CloudError> {
        self.cloud_calls.borrow_mut().push(call);
        match &self.cloud_result {
            Some(e) => Err(e.clone()),
            None if self.deployment.is_none() => Err(CloudError::Unavailable(
                "the run has no deployment".to_string(),
            )),
            None => Ok(()),
        }
    }
}

impl Host for MockHost {
    fn log(&self, level: Level, message: &str, fields: &[(String, String)]) {
        let mut line = format!("{} {message}", level.as_str());
        for (k, v) in fields {
            line.push_str(&format!(" {k}={v}"));
        }
        self.logs.borrow_mut().push(line);
    }

    fn parameters(&self) -> Vec<(String, String)> {
        self.parameters.clone()
    }

    fn facts(&self) -> Vec<(String, String)> {
        self.facts.clone()
    }

    fn http(&self, request: &Request) -> Result<Response, HttpError> {
        self.requests.borrow_mut().push(request.clone());
        self.responses
            .iter()
            .find(|(m, u, _)| *m == request.method && *u == request.url)
            .map(|(_, _, answer)| answer.clone())
            .unwrap_or_else(|| {
                Err(HttpError::Denied(format!(
                    "{} is not granted to this run",
                    request.url
                )))
            })
    }

    fn deployment(&self) -> Option<Deployment> {
        self.deployment.clone()
    }

    fn power(&self, server: &str, action: PowerAction) -> Result<(), CloudError> {
        self.cloud(CloudCall::Power(server.to_string(), action))
    }

    fn run_package(
        &self,
        server: &str,
        package: &str,
        parameters: &[(String, String)],
    ) -> Result<(), CloudError> {
        self.cloud(CloudCall::RunPackage(
            server.to_string(),
            package.to_string(),
            parameters.to_vec(),
        ))
    }

    fn add_server(&self, spec: &ServerSpec) -> Result<Server, CloudError> {
        self.cloud(CloudCall::AddServer(spec.clone()))?;
        Ok(Server {
            name: spec.name.to_uppercase(),
            role: spec.name.clone(),
            internal_ip: "10.0.0.99".to_string(),
            public_ip: None,
            cpu: spec.cpu,
            memory_gb: spec.memory_gb,
            storage_gb: 17,
            os: "ubuntu14_64Bit".to_string(),
            status: "active".to_string(),
            power_state: "started".to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Check, Criterion};

    fn plugin() -> Plugin {
        Plugin::new("t", "0.0.1")
            .check(
                Check::new("logs", "logs and measures", |ctx| {
                    ctx.log(Level::Warn, "careful", &[("k", "v")]);
                    ctx.measure("x", 1.5, "ms");
                    ctx.evidence("e.txt", "text/plain", "hi");
                    Ok(Outcome::Pass)
                })
                .criterion(Criterion::BusinessValue),
            )
            .check(Check::new("needs-param", "needs a parameter", |ctx| {
                ctx.require_parameter("url")?;
                Ok(Outcome::Pass)
            }))
            .check(Check::new("http", "calls http", |ctx| {
                let r = ctx.http().get("http://a/b").send()?;
                Ok(Outcome::expect(r.status() == 204, "not 204"))
            }))
    }

    #[test]
    fn collects_logs_measurements_and_evidence() {
        let run = MockHost::new().run(&plugin(), "logs");
        assert_eq!(run.outcome, Ok(Outcome::Pass));
        assert_eq!(run.logs, vec!["WARN careful k=v".to_string()]);
        assert_eq!(run.measurements[0].unit, "ms");
        assert_eq!(run.evidence[0].data, b"hi");
    }

    #[test]
    fn missing_parameter_is_an_error_not_a_failure() {
        let run = MockHost::new().run(&plugin(), "needs-param");
        let err = run.outcome.unwrap_err();
        assert!(
            err.message().contains("parameter `url` is not set"),
            "{err}"
        );
    }

    #[test]
    fn unregistered_address_is_denied() {
        let run = MockHost::new().run(&plugin(), "http");
        assert!(run.outcome.unwrap_err().message().contains("denied"));
        let run = MockHost::new()
            .respond("GET", "http://a/b", 204, "")
            .run(&plugin(), "http");
        assert_eq!(run.outcome, Ok(Outcome::Pass));
        assert_eq!(run.requests.len(), 1);
    }

    #[test]
    fn unknown_check_is_an_error() {
        let run = MockHost::new().run(&plugin(), "nope");
        assert!(run.outcome.is_err());
    }

    #[test]
    fn cloud_actions_need_a_deployment() {
        let p = Plugin::new("t", "0").check(Check::new("c", "c", |ctx| {
            ctx.cloud().power("S1", PowerAction::Reboot)?;
            Ok(Outcome::Pass)
        }));
        let run = MockHost::new().run(&p, "c");
        assert!(run.outcome.unwrap_err().message().contains("unavailable"));
        assert_eq!(run.cloud_calls.len(), 1);
    }
}
