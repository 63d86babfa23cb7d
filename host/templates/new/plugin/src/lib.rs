//! Validation plugin of @@PRODUCT@@ by @@COMPANY@@.
//!
//! The bundle's package starts @@PRODUCT@@ on the blueprint's `WEB` server;
//! these checks verify it through the deployment the harness grants:
//!
//! - `service.health` (readiness): `GET /health` answers 200 `ok`. The
//!   harness repeats it until it passes; the first pass ends time-to-value.
//! - `service.offers`: `GET /` names the product and the advertised version
//!   (`expected_version`). Replace it with checks that prove what your
//!   product is for: that is the business value the program certifies.
//!
//! `cargo test` runs the checks natively against `MockHost`; `certify plugin
//! run . --param base_url=http://127.0.0.1:8080 --allow-host 127.0.0.1:8080`
//! runs them in the sandbox against a service you started yourself.

use std::time::Duration;

use certify_sdk::{Check, Context, Criterion, HttpError, Outcome, Plugin};

/// The product, as the service names itself.
const PRODUCT: &str = "@@PRODUCT@@";

/// The plugin.
pub fn plugin() -> Plugin {
    Plugin::new("@@SLUG@@-checks", env!("CARGO_PKG_VERSION"))
        .check(
            Check::new("service.health", "@@PRODUCT@@ answers its health endpoint", health)
                .criterion(Criterion::PerformsAsAdvertised)
                .description("GET /health on the WEB server answers 200 \"ok\".")
                .remediation("Make install.sh start the service on T3.Server.IPAddress and App.Port, and wait for /health before exiting.")
                .timeout(Duration::from_secs(10))
                .readiness(),
        )
        .check(
            Check::new("service.offers", "@@PRODUCT@@ serves what it advertises", offers)
                .criterion(Criterion::BusinessValue)
                .description("GET / names the product and the version in `expected_version`.")
                .remediation("Deploy the release the application advertises."),
        )
}

/// The service's base URL: `base_url`, else the WEB server of the deployment
/// on the `App.Port` deployment parameter (8080 by default).
fn base_url(ctx: &Context) -> certify_sdk::Result<String> {
    if let Some(url) = ctx.parameter("base_url") {
        return Ok(url.trim_end_matches('/').to_string());
    }
    let deployment = ctx
        .deployment()
        .ok_or("the run has no deployment; give base_url to check a running service")?;
    let server = deployment
        .server("WEB")
        .or_else(|| deployment.servers.first())
        .ok_or("the deployment has no servers")?;
    let port = deployment
        .parameters
        .iter()
        .find(|(k, _)| k == "App.Port")
        .map_or_else(|| "8080".to_string(), |(_, v)| v.clone());
    Ok(format!("http://{}:{port}", server.internal_ip))
}

/// GET `path`; a service that cannot be reached fails the product, not the check.
fn get(ctx: &Context, path: &str) -> certify_sdk::Result<Result<(u16, String), Outcome>> {
    let url = format!("{}{path}", base_url(ctx)?);
    match ctx.http().get(&url).send() {
        Ok(r) => Ok(Ok((r.status(), r.text().trim().to_string()))),
        Err(HttpError::Transport(e)) => Ok(Err(Outcome::fail(format!("{url} is not reachable: {e}")))),
        Err(HttpError::Timeout) => Ok(Err(Outcome::fail(format!("{url} did not answer in time")))),
        Err(e) => Err(e.into()),
    }
}

fn health(ctx: &mut Context) -> certify_sdk::Result<Outcome> {
    let (status, body) = match get(ctx, "/health")? {
        Ok(answer) => answer,
        Err(failed) => return Ok(failed),
    };
    Ok(Outcome::expect(
        status == 200 && body == "ok",
        format!("/health answered {status} \"{body}\"; expected 200 \"ok\""),
    ))
}

fn offers(ctx: &mut Context) -> certify_sdk::Result<Outcome> {
    let expected = ctx.require_parameter("expected_version")?;
    let (status, body) = match get(ctx, "/")? {
        Ok(answer) => answer,
        Err(failed) => return Ok(failed),
    };
    let names_product = body.contains(&format!("\"product\": \"{PRODUCT}\""));
    let names_version = body.contains(&format!("\"version\": \"{expected}\""));
    Ok(Outcome::expect(
        status == 200 && names_product && names_version,
        format!("/ answered {status}; it should name {PRODUCT} {expected}"),
    ))
}

certify_sdk::export_plugin!(plugin);

#[cfg(test)]
mod tests {
    use certify_sdk::testing::MockHost;

    use super::*;

    fn host() -> MockHost {
        MockHost::new()
            .parameter("base_url", "http://10.0.0.5:8080")
            .parameter("expected_version", "1.0.0")
    }

    #[test]
    fn a_healthy_service_is_ready() {
        let run = host()
            .respond("GET", "http://10.0.0.5:8080/health", 200, "ok\n")
            .run(&plugin(), "service.health");
        assert_eq!(run.outcome, Ok(Outcome::Pass));
        let run = host()
            .respond("GET", "http://10.0.0.5:8080/health", 503, "starting")
            .run(&plugin(), "service.health");
        assert!(matches!(run.outcome, Ok(Outcome::Fail(_))));
    }

    #[test]
    fn the_service_must_name_the_advertised_version() {
        let body = format!(r#"{{"product": "{PRODUCT}", "version": "1.0.0", "status": "ready"}}"#);
        let run = host()
            .respond("GET", "http://10.0.0.5:8080/", 200, body.clone())
            .run(&plugin(), "service.offers");
        assert_eq!(run.outcome, Ok(Outcome::Pass));
        let run = host()
            .respond("GET", "http://10.0.0.5:8080/", 200, body.replace("1.0.0", "0.9.0"))
            .run(&plugin(), "service.offers");
        assert!(matches!(run.outcome, Ok(Outcome::Fail(_))));
    }
}
