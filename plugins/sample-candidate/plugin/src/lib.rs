//! Validation plugin of the sample candidate: Acme Status Page by Acme Widgets Inc.
//!
//! The bundle's package installs Acme Status Page on the blueprint's `WEB` server; these
//! checks verify what the candidate claims for it, through the deployment the harness
//! grants (no address is configured by hand):
//!
//! - `status.health` (readiness): `GET /health` answers 200 `ok`. The harness repeats it
//!   until it passes; the first pass ends time-to-value.
//! - `status.version`: `GET /version` is the version the candidate advertises.
//! - `status.api`: `GET /api/status` is the status page as JSON: the product, its
//!   version, an overall status the components justify, the configured contact. This is
//!   the business value: customers can see whether Acme's services are up.
//! - `status.admin-protected`: `GET /admin` without the admin password is refused (401).
//!
//! Where the service is: the server whose blueprint name is the `server` parameter
//! (default `WEB`, else the deployment's first server), at its internal address, on the
//! deployment parameter `Acme.Port` (default 8080). Parameters:
//!
//! - `expected_version` (required by `status.version` and `status.api`): the version the
//!   candidate advertises;
//! - `server`, `port`: override where the service is;
//! - `base_url`: check a service that was not deployed by the harness (a candidate's own
//!   CI, `certify plugin run … --param base_url=http://127.0.0.1:8080`).

use std::time::Duration;

use certify_sdk::{Check, Context, Criterion, HttpError, Outcome, Plugin, Response};
use serde_json::Value;

/// The product, as the status API names it.
const PRODUCT: &str = "Acme Status Page";
/// The statuses a component or the page can have, best first.
const STATUSES: [&str; 4] = ["operational", "degraded", "partial_outage", "major_outage"];

/// The plugin.
pub fn plugin() -> Plugin {
    Plugin::new("acme-status-page", env!("CARGO_PKG_VERSION"))
        .check(
            Check::new(
                "status.health",
                "Acme Status Page answers its health endpoint",
                health,
            )
            .criterion(Criterion::PerformsAsAdvertised)
            .description("GET /health on the WEB server answers 200 \"ok\".")
            .remediation(
                "Make install.sh start the service on T3.Server.IPAddress and the Acme.Port parameter, and wait for /health before exiting.",
            )
            .timeout(Duration::from_secs(10))
            .readiness(),
        )
        .check(
            Check::new(
                "status.version",
                "Acme Status Page reports the advertised version",
                version,
            )
            .criterion(Criterion::PerformsAsAdvertised)
            .description("GET /version answers the version in `expected_version`.")
            .remediation("Deploy the release the application advertises."),
        )
        .check(
            Check::new(
                "status.api",
                "The status API tells customers whether the services are up",
                status_api,
            )
            .criterion(Criterion::BusinessValue)
            .description(
                "GET /api/status is JSON naming the product and version, every component with a known status, an overall status no better than its worst component, and the contact given as Acme.AdminEmail.",
            )
            .remediation("Serve the status page's JSON at /api/status as the product documentation describes."),
        )
        .check(
            Check::new(
                "status.admin-protected",
                "The admin API refuses requests without the admin password",
                admin_protected,
            )
            .criterion(Criterion::PerformsAsAdvertised)
            .description("GET /admin without credentials answers 401 with a Basic challenge.")
            .remediation("Require the Acme.AdminPassword for every /admin request."),
        )
}

/// The service's base URL, from the deployment view.
fn base_url(ctx: &Context) -> certify_sdk::Result<String> {
    if let Some(url) = ctx.parameter("base_url") {
        return Ok(url.trim_end_matches('/').to_string());
    }
    let deployment = ctx.deployment().ok_or(
        "the run has no deployment: Acme Status Page is checked where the blueprint deployed it",
    )?;
    let role = ctx.parameter("server").unwrap_or_else(|| "WEB".to_string());
    let server = deployment
        .server(&role)
        .or_else(|| deployment.servers.first())
        .ok_or("the deployment has no servers")?;
    let port = ctx
        .parameter("port")
        .or_else(|| {
            deployment
                .parameters
                .iter()
                .find(|(k, _)| k == "Acme.Port")
                .map(|(_, v)| v.clone())
        })
        .unwrap_or_else(|| "8080".to_string());
    let host = if server.internal_ip.contains(':') {
        format!("[{}]", server.internal_ip)
    } else {
        server.internal_ip.clone()
    };
    Ok(format!("http://{host}:{port}"))
}

/// GET, with "not reachable" as the product's failure rather than the check's error.
fn get(ctx: &Context, url: &str) -> certify_sdk::Result<Result<Response, Outcome>> {
    match ctx.http().get(url).send() {
        Ok(r) => Ok(Ok(r)),
        Err(HttpError::Transport(e)) => {
            Ok(Err(Outcome::fail(format!("{url} is not reachable: {e}"))))
        }
        Err(HttpError::Timeout) => Ok(Err(Outcome::fail(format!("{url} did not answer in time")))),
        Err(e) => Err(e.into()),
    }
}

fn health(ctx: &mut Context) -> certify_sdk::Result<Outcome> {
    let url = format!("{}/health", base_url(ctx)?);
    let response = match get(ctx, &url)? {
        Ok(r) => r,
        Err(failed) => return Ok(failed),
    };
    ctx.evidence("health.txt", "text/plain", response.body().to_vec());
    ctx.measure("latency", response.elapsed().as_secs_f64() * 1000.0, "ms");
    let body = response.text();
    Ok(Outcome::expect(
        response.status() == 200 && body.trim() == "ok",
        format!(
            "GET {url} answered {} {}; expected 200 \"ok\"",
            response.status(),
            quote(body.trim())
        ),
    ))
}

fn version(ctx: &mut Context) -> certify_sdk::Result<Outcome> {
    let expected = ctx.require_parameter("expected_version")?;
    let url = format!("{}/version", base_url(ctx)?);
    let response = match get(ctx, &url)? {
        Ok(r) => r,
        Err(failed) => return Ok(failed),
    };
    if response.status() != 200 {
        return Ok(Outcome::fail(format!(
            "GET {url} answered {}",
            response.status()
        )));
    }
    let actual = response.text().trim().to_string();
    ctx.info(format!("Acme Status Page reports version {actual}"));
    Ok(Outcome::expect(
        actual == expected,
        format!(
            "the service reports version {}; the candidate advertises {expected}",
            quote(&actual)
        ),
    ))
}

fn status_api(ctx: &mut Context) -> certify_sdk::Result<Outcome> {
    let expected_version = ctx.require_parameter("expected_version")?;
    let contact = ctx.deployment().and_then(|d| {
        d.parameters
            .iter()
            .find(|(k, _)| k == "Acme.AdminEmail")
            .map(|(_, v)| v.clone())
    });
    let url = format!("{}/api/status", base_url(ctx)?);
    let response = match get(ctx, &url)? {
        Ok(r) => r,
        Err(failed) => return Ok(failed),
    };
    ctx.evidence("status.json", "application/json", response.body().to_vec());
    if response.status() != 200 {
        return Ok(Outcome::fail(format!(
            "GET {url} answered {}",
            response.status()
        )));
    }
    let doc: Value = match serde_json::from_slice(response.body()) {
        Ok(v) => v,
        Err(e) => return Ok(Outcome::fail(format!("GET {url} is not JSON: {e}"))),
    };
    let problems = status_problems(&doc, &expected_version, contact.as_deref());
    if problems.is_empty() {
        let n = doc["components"].as_array().map_or(0, Vec::len);
        ctx.measure("components", n as f64, "count");
        ctx.info(format!(
            "status {} with {n} components",
            doc["status"].as_str().unwrap_or("")
        ));
        Ok(Outcome::Pass)
    } else {
        Ok(Outcome::fail(format!("GET {url}: {}", problems.join("; "))))
    }
}

/// What is wrong with a status document (nothing when it is right).
fn status_problems(doc: &Value, expected_version: &str, contact: Option<&str>) -> Vec<String> {
    let mut out = Vec::new();
    let text = |k: &str| doc.get(k).and_then(Value::as_str);
    if text("product") != Some(PRODUCT) {
        out.push(format!(
            "product is {}, not \"{PRODUCT}\"",
            shown(doc.get("product"))
        ));
    }
    if text("version") != Some(expected_version) {
        out.push(format!(
            "version is {}, the candidate advertises {expected_version}",
            shown(doc.get("version"))
        ));
    }
    let rank = |s: &str| STATUSES.iter().position(|x| *x == s);
    let overall = text("status");
    if overall.and_then(rank).is_none() {
        out.push(format!(
            "status is {}, not one of {}",
            shown(doc.get("status")),
            STATUSES.join(", ")
        ));
    }
    match doc.get("components").and_then(Value::as_array) {
        None => out.push("there is no \"components\" list".into()),
        Some(c) if c.is_empty() => out.push("the page lists no components".into()),
        Some(components) => {
            let mut worst = 0;
            for (i, c) in components.iter().enumerate() {
                let name = c.get("name").and_then(Value::as_str).unwrap_or("");
                let status = c.get("status").and_then(Value::as_str).unwrap_or("");
                if name.is_empty() {
                    out.push(format!("component {i} has no name"));
                }
                match rank(status) {
                    Some(r) => worst = worst.max(r),
                    None => out.push(format!(
                        "component {} has the unknown status {}",
                        quote(name),
                        quote(status)
                    )),
                }
            }
            // The page must not look better than its worst component: that is the
            // promise a status page makes to its readers.
            if let Some(o) = overall.and_then(rank)
                && o < worst
            {
                out.push(format!(
                    "the page says {} while a component is {}",
                    overall.unwrap_or(""),
                    STATUSES[worst]
                ));
            }
        }
    }
    if let Some(want) = contact
        && text("contact") != Some(want)
    {
        out.push(format!(
            "contact is {}, the deployment set Acme.AdminEmail to {want}",
            shown(doc.get("contact"))
        ));
    }
    out
}

/// A JSON field as a reader would want it named: `"2.3.1"`, `42`, `missing`.
fn shown(value: Option<&Value>) -> String {
    match value {
        None => "missing".into(),
        Some(Value::String(s)) => quote(s),
        Some(Value::Null) => "null".into(),
        Some(other) => {
            let mut text = other.to_string();
            if text.chars().count() > 60 {
                text = text.chars().take(60).collect::<String>() + "…";
            }
            text
        }
    }
}

/// A product's text in quotes, bounded, with line breaks and control
/// characters shown as spaces so a message stays one readable line.
fn quote(text: &str) -> String {
    let mut shown: String = text
        .chars()
        .take(60)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.chars().count() > 60 {
        shown.push('…');
    }
    format!("\"{shown}\"")
}

fn admin_protected(ctx: &mut Context) -> certify_sdk::Result<Outcome> {
    let url = format!("{}/admin", base_url(ctx)?);
    let response = match get(ctx, &url)? {
        Ok(r) => r,
        Err(failed) => return Ok(failed),
    };
    let challenged = response
        .header("www-authenticate")
        .is_some_and(|h| h.to_ascii_lowercase().starts_with("basic"));
    Ok(Outcome::expect(
        response.status() == 401 && challenged,
        format!(
            "GET {url} without credentials answered {}{}; expected 401 with a Basic challenge",
            response.status(),
            if challenged {
                ""
            } else {
                " without a WWW-Authenticate: Basic header"
            }
        ),
    ))
}

certify_sdk::export_plugin!(plugin);

#[cfg(test)]
mod tests {
    use certify_sdk::testing::MockHost;
    use certify_sdk::{Deployment, Server};

    use super::*;

    const BASE: &str = "http://127.0.4.2:8080";
    const STATUS: &str = r#"{"product": "Acme Status Page", "version": "2.3.1", "status": "operational", "components": [{"name": "Website", "status": "operational"}, {"name": "API", "status": "operational"}], "contact": "ops@acmewidgets.example", "uptime_seconds": 3}"#;

    fn deployment(port: Option<&str>) -> Deployment {
        let server = |role: &str, ip: &str| Server {
            name: format!("WA1ACME{role}01"),
            role: role.into(),
            internal_ip: ip.into(),
            public_ip: None,
            cpu: 1,
            memory_gb: 2,
            storage_gb: 17,
            os: "ubuntu16_64Bit".into(),
            status: "active".into(),
            power_state: "started".into(),
        };
        let mut parameters = vec![(
            "Acme.AdminEmail".to_string(),
            "ops@acmewidgets.example".to_string(),
        )];
        if let Some(p) = port {
            parameters.push(("Acme.Port".into(), p.into()));
        }
        Deployment {
            run_id: "run-1".into(),
            account_alias: "ACME".into(),
            data_center: "WA1".into(),
            blueprint: "Deploy Acme Status Page on Linux".into(),
            // WEB is not first: the check must find it by name.
            servers: vec![server("DB", "127.0.4.1"), server("WEB", "127.0.4.2")],
            parameters,
        }
    }

    fn host() -> MockHost {
        MockHost::new()
            .deployment(deployment(Some("8080")))
            .parameter("expected_version", "2.3.1")
    }

    #[test]
    fn healthy_service_passes_with_evidence() {
        let run = host()
            .respond("GET", format!("{BASE}/health"), 200, "ok\n")
            .run(&plugin(), "status.health");
        assert_eq!(run.outcome, Ok(Outcome::Pass));
        assert_eq!(run.evidence[0].data, b"ok\n");
    }

    #[test]
    fn the_port_comes_from_the_deployment_parameters() {
        let run = MockHost::new()
            .deployment(deployment(Some("9090")))
            .respond("GET", "http://127.0.4.2:9090/health", 200, "ok")
            .run(&plugin(), "status.health");
        assert_eq!(run.outcome, Ok(Outcome::Pass));
        // Without the parameter: the package's default.
        let run = MockHost::new()
            .deployment(deployment(None))
            .respond("GET", "http://127.0.4.2:8080/health", 200, "ok")
            .run(&plugin(), "status.health");
        assert_eq!(run.outcome, Ok(Outcome::Pass));
    }

    #[test]
    fn unreachable_service_fails_the_product_not_the_check() {
        let run = host()
            .respond_with(
                "GET",
                format!("{BASE}/health"),
                Err(HttpError::Transport("connection refused".into())),
            )
            .run(&plugin(), "status.health");
        assert!(matches!(run.outcome, Ok(Outcome::Fail(m)) if m.contains("connection refused")));
    }

    #[test]
    fn without_a_deployment_the_check_needs_a_base_url() {
        let run = MockHost::new().run(&plugin(), "status.health");
        assert!(run.outcome.is_err());
        let run = MockHost::new()
            .parameter("base_url", "http://127.0.0.1:8080/")
            .respond("GET", "http://127.0.0.1:8080/health", 200, "ok")
            .run(&plugin(), "status.health");
        assert_eq!(run.outcome, Ok(Outcome::Pass));
    }

    #[test]
    fn version_must_be_the_advertised_one() {
        let run = host()
            .respond("GET", format!("{BASE}/version"), 200, "2.3.1\n")
            .run(&plugin(), "status.version");
        assert_eq!(run.outcome, Ok(Outcome::Pass));
        let run = host()
            .respond("GET", format!("{BASE}/version"), 200, "2.2.0\n")
            .run(&plugin(), "status.version");
        assert!(
            matches!(run.outcome, Ok(Outcome::Fail(m)) if m.contains("2.2.0") && m.contains("2.3.1"))
        );
    }

    #[test]
    fn status_api_passes_and_counts_components() {
        let run = host()
            .respond("GET", format!("{BASE}/api/status"), 200, STATUS)
            .run(&plugin(), "status.api");
        assert_eq!(run.outcome, Ok(Outcome::Pass));
        assert_eq!(run.measurements[0].value, 2.0);
        assert_eq!(run.evidence[0].name, "status.json");
    }

    #[test]
    fn a_page_better_than_its_components_fails() {
        let body = STATUS.replace(
            r#"{"name": "API", "status": "operational"}"#,
            r#"{"name": "API", "status": "major_outage"}"#,
        );
        let run = host()
            .respond("GET", format!("{BASE}/api/status"), 200, body)
            .run(&plugin(), "status.api");
        assert!(
            matches!(&run.outcome, Ok(Outcome::Fail(m)) if m.contains("major_outage")),
            "{:?}",
            run.outcome
        );
    }

    #[test]
    fn status_api_reports_every_problem() {
        let doc: Value = serde_json::from_str(
            r#"{"product": "Other", "version": "1.0", "status": "fine", "components": [{"status": "meh"}], "contact": "x@y.example"}"#,
        )
        .unwrap();
        let p = status_problems(&doc, "2.3.1", Some("ops@acmewidgets.example"));
        assert_eq!(p.len(), 6, "{p:#?}");
        let run = host()
            .respond("GET", format!("{BASE}/api/status"), 200, "<html>")
            .run(&plugin(), "status.api");
        assert!(matches!(run.outcome, Ok(Outcome::Fail(m)) if m.contains("not JSON")));
    }

    #[test]
    fn messages_read_as_prose() {
        let doc: Value = serde_json::from_str(
            r#"{"product": "Acme Status Page", "version": "2.2.0", "status": 3, "components": [{"name": "API", "status": "meh"}]}"#,
        )
        .unwrap();
        let p = status_problems(&doc, "2.3.1", Some("ops@acmewidgets.example")).join("; ");
        assert_eq!(
            p,
            "version is \"2.2.0\", the candidate advertises 2.3.1; \
             status is 3, not one of operational, degraded, partial_outage, major_outage; \
             component \"API\" has the unknown status \"meh\"; \
             contact is missing, the deployment set Acme.AdminEmail to ops@acmewidgets.example"
        );
        let run = host()
            .respond("GET", format!("{BASE}/health"), 503, "starting\n")
            .run(&plugin(), "status.health");
        assert_eq!(
            run.outcome,
            Ok(Outcome::fail(format!(
                "GET {BASE}/health answered 503 \"starting\"; expected 200 \"ok\""
            )))
        );
        for leak in ["Some(", "String(", "None"] {
            assert!(!p.contains(leak), "{p}");
        }
    }

    #[test]
    fn admin_needs_the_password() {
        let challenge = Response::new(401, "admin password required")
            .with_header("WWW-Authenticate", "Basic realm=\"Acme Status Page admin\"");
        let run = host()
            .respond_with("GET", format!("{BASE}/admin"), Ok(challenge))
            .run(&plugin(), "status.admin-protected");
        assert_eq!(run.outcome, Ok(Outcome::Pass));
        let run = host()
            .respond("GET", format!("{BASE}/admin"), 200, "{}")
            .run(&plugin(), "status.admin-protected");
        assert!(matches!(run.outcome, Ok(Outcome::Fail(m)) if m.contains("200")));
    }
}
