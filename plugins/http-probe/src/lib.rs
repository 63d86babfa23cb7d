//! Example validation plugin: checks that a product's HTTP service is up,
//! reports the advertised version, and answers fast enough.
//!
//! Where the service is: the `base_url` parameter when given (for example
//! `--param base_url=http://127.0.0.1:8080`), otherwise the first server of
//! the deployment under test, on the `port` parameter (default 8080).
//!
//! Parameters:
//! - `expected_version`: the version the candidate advertises (required by `service.version`);
//! - `max_latency_ms`: the slowest acceptable median response (default 500).

use std::time::Duration;

use certify_sdk::{Check, Context, Criterion, Outcome, Plugin};

/// The plugin.
pub fn plugin() -> Plugin {
    Plugin::new("http-probe", env!("CARGO_PKG_VERSION"))
        .check(
            Check::new(
                "service.health",
                "The service answers its health endpoint",
                health,
            )
            .criterion(Criterion::PerformsAsAdvertised)
            .description("GET /health answers 200.")
            .remediation(
                "Make the install package start the service and bind it to the server's address.",
            )
            .timeout(Duration::from_secs(10))
            .readiness(),
        )
        .check(
            Check::new(
                "service.version",
                "The service reports the advertised version",
                version,
            )
            .criterion(Criterion::PerformsAsAdvertised)
            .description("GET /version answers the version given in `expected_version`.")
            .remediation("Deploy the release the application advertises."),
        )
        .check(
            Check::new(
                "service.latency",
                "The service answers fast enough",
                latency,
            )
            .criterion(Criterion::BusinessValue)
            .description(
                "The median of five GET /health is at most `max_latency_ms` (default 500 ms).",
            )
            .remediation(
                "Size the blueprint's server for the advertised load, or fix the slow path.",
            ),
        )
}

/// Where the service is.
fn base_url(ctx: &Context) -> certify_sdk::Result<String> {
    if let Some(url) = ctx.parameter("base_url") {
        return Ok(url.trim_end_matches('/').to_string());
    }
    let port = ctx.parameter("port").unwrap_or_else(|| "8080".to_string());
    match ctx.deployment().and_then(|d| d.servers.first().cloned()) {
        Some(server) => Ok(format!("http://{}:{port}", server.internal_ip)),
        None => Err("no `base_url` parameter and no deployment to find the service in".into()),
    }
}

fn health(ctx: &mut Context) -> certify_sdk::Result<Outcome> {
    let url = format!("{}/health", base_url(ctx)?);
    let response = match ctx.http().get(&url).send() {
        Ok(r) => r,
        // The product not listening is the product's failure, not the check's.
        Err(certify_sdk::HttpError::Transport(e)) => {
            return Ok(Outcome::fail(format!("{url} is not reachable: {e}")));
        }
        Err(e) => return Err(e.into()),
    };
    ctx.evidence("health.txt", "text/plain", response.body().to_vec());
    ctx.measure("latency", ms(response.elapsed()), "ms");
    Ok(Outcome::expect(
        response.status() == 200,
        format!("GET {url} answered {}", response.status()),
    ))
}

fn version(ctx: &mut Context) -> certify_sdk::Result<Outcome> {
    let expected = ctx.require_parameter("expected_version")?;
    let url = format!("{}/version", base_url(ctx)?);
    let response = ctx.http().get(&url).send()?;
    if response.status() != 200 {
        return Ok(Outcome::fail(format!(
            "GET {url} answered {}",
            response.status()
        )));
    }
    let actual = response.text().trim().to_string();
    ctx.info(format!("reported version {actual}"));
    Ok(Outcome::expect(
        actual == expected,
        format!("the service reports version {actual:?}, the application advertises {expected:?}"),
    ))
}

fn latency(ctx: &mut Context) -> certify_sdk::Result<Outcome> {
    let max: f64 = match ctx.parameter("max_latency_ms") {
        Some(v) => v
            .parse()
            .map_err(|_| format!("`max_latency_ms` must be a number, got {v:?}"))?,
        None => 500.0,
    };
    let url = format!("{}/health", base_url(ctx)?);
    let mut samples = Vec::new();
    for _ in 0..5 {
        let response = ctx.http().get(&url).send()?;
        if response.status() != 200 {
            return Ok(Outcome::fail(format!(
                "GET {url} answered {}",
                response.status()
            )));
        }
        samples.push(ms(response.elapsed()));
    }
    samples.sort_by(f64::total_cmp);
    let median = samples[samples.len() / 2];
    ctx.measure("median_latency", median, "ms");
    Ok(Outcome::expect(
        median <= max,
        format!("median response time {median:.1} ms is above the {max} ms the application claims"),
    ))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

certify_sdk::export_plugin!(plugin);

#[cfg(test)]
mod tests {
    use certify_sdk::testing::MockHost;
    use certify_sdk::{Deployment, HttpError, Response, Server};

    use super::*;

    const BASE: &str = "http://10.0.0.5:8080";

    fn host() -> MockHost {
        MockHost::new().parameter("base_url", BASE)
    }

    #[test]
    fn healthy_service_passes_and_leaves_evidence() {
        let run = host()
            .respond("GET", format!("{BASE}/health"), 200, "ok")
            .run(&plugin(), "service.health");
        assert_eq!(run.outcome, Ok(Outcome::Pass));
        assert_eq!(run.evidence[0].data, b"ok");
    }

    #[test]
    fn unreachable_service_is_a_failure_of_the_product() {
        let run = host()
            .respond_with(
                "GET",
                format!("{BASE}/health"),
                Err(HttpError::Transport("connection refused".into())),
            )
            .run(&plugin(), "service.health");
        assert!(matches!(run.outcome, Ok(Outcome::Fail(m)) if m.contains("connection refused")));
    }

    #[test]
    fn finds_the_service_in_the_deployment() {
        let deployment = Deployment {
            run_id: "r1".into(),
            account_alias: "ACME".into(),
            data_center: "WA1".into(),
            blueprint: "Install Widget".into(),
            servers: vec![Server {
                name: "WA1ACMEWEB01".into(),
                role: "WEB".into(),
                internal_ip: "10.1.1.12".into(),
                public_ip: None,
                cpu: 1,
                memory_gb: 2,
                storage_gb: 17,
                os: "ubuntu14_64Bit".into(),
                status: "active".into(),
                power_state: "started".into(),
            }],
            parameters: vec![],
        };
        let run = MockHost::new()
            .deployment(deployment)
            .respond("GET", "http://10.1.1.12:8080/health", 200, "ok")
            .run(&plugin(), "service.health");
        assert_eq!(run.outcome, Ok(Outcome::Pass));
    }

    #[test]
    fn wrong_version_fails_with_both_versions() {
        let run = host()
            .parameter("expected_version", "2.0.0")
            .respond("GET", format!("{BASE}/version"), 200, "1.9.9\n")
            .run(&plugin(), "service.version");
        assert!(
            matches!(run.outcome, Ok(Outcome::Fail(m)) if m.contains("1.9.9") && m.contains("2.0.0"))
        );
    }

    #[test]
    fn version_needs_its_parameter() {
        let run = host().run(&plugin(), "service.version");
        assert!(run.outcome.is_err());
    }

    #[test]
    fn slow_service_fails_latency() {
        let slow = Response::new(200, "ok").with_elapsed(Duration::from_millis(900));
        let run = host()
            .respond_with("GET", format!("{BASE}/health"), Ok(slow))
            .run(&plugin(), "service.latency");
        assert!(matches!(run.outcome, Ok(Outcome::Fail(_))));
        assert_eq!(run.measurements[0].value, 900.0);
    }
}
