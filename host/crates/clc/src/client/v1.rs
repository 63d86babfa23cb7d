//! Typed v1 Blueprint API calls (`clc-api.md` §4.1): `POST <v1 base>/<Area>/<Method>/JSON`
//! with the `{Success, Message, StatusCode}` envelope, after a cookie logon
//! (`Auth/Logon`) that is renewed when a call answers status code 100.

use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::{Body, Client, ClientError, Pending, Retry};
use crate::Secret;
use crate::model::*;

/// v1 `Billing/GetAccountSummary`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct AccountSummary {
    /// Charges so far this month.
    pub month_to_date_total: f64,
    /// Current hourly rate of the whole account.
    pub current_hour: f64,
    /// Estimate for the whole month.
    pub monthly_estimate: f64,
}

impl Client {
    async fn v1_logon(&self) -> Result<Secret, ClientError> {
        let url = format!("{}/Auth/Logon/", self.inner.v1_base);
        let body = json!({
            "APIKey": self.inner.credentials.username,
            "Password": self.inner.credentials.password.expose(),
        });
        let attempts = self.inner.retry.max_attempts.max(1);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let r = self
                .inner
                .http
                .post(&url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.to_string())
                .send()
                .await;
            let resp = match r {
                Ok(resp) if !resp.status().is_server_error() => resp,
                Ok(_) | Err(_) if attempt < attempts => {
                    self.backoff(attempt).await;
                    continue;
                }
                Ok(resp) => {
                    let status = resp.status();
                    let bytes = resp.bytes().await.unwrap_or_default();
                    return Err(super::api_error(
                        &Method::POST,
                        "/REST/Auth/Logon",
                        status,
                        &bytes,
                    ));
                }
                Err(source) => {
                    return Err(ClientError::Transport {
                        method: "POST".into(),
                        path: "/REST/Auth/Logon".into(),
                        source,
                    });
                }
            };
            let cookies: Vec<String> = resp
                .headers()
                .get_all(reqwest::header::SET_COOKIE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .filter_map(|v| v.split(';').next())
                .map(str::to_string)
                .collect();
            let env: V1Envelope = match resp.bytes().await {
                Ok(b) => super::decode("POST", "/REST/Auth/Logon", &b)?,
                Err(_) if attempt < attempts => continue,
                Err(source) => {
                    return Err(ClientError::Transport {
                        method: "POST".into(),
                        path: "/REST/Auth/Logon".into(),
                        source,
                    });
                }
            };
            if !env.success {
                return Err(ClientError::V1 {
                    method: "Auth/Logon".into(),
                    status_code: env.status_code,
                    message: env.message,
                });
            }
            return Ok(Secret::new(cookies.join("; ")));
        }
    }

    async fn v1_cookie(&self, renew: bool) -> Result<Secret, ClientError> {
        let mut guard = self.inner.v1_cookie.lock().await;
        if !renew && let Some(c) = guard.as_ref() {
            return Ok(c.clone());
        }
        let c = self.v1_logon().await?;
        *guard = Some(c.clone());
        Ok(c)
    }

    /// One v1 call; returns the whole answer after checking its envelope.
    async fn v1_call(&self, method: &str, body: Value, retry: Retry) -> Result<Value, ClientError> {
        let url = format!("{}/{method}/JSON", self.inner.v1_base);
        let shown = format!("/REST/{method}/JSON");
        let mut renewed = false;
        loop {
            let cookie = self.v1_cookie(renewed).await?;
            let (_, bytes) = self
                .send_url(
                    Method::POST,
                    &url,
                    &shown,
                    Body::Json(body.clone()),
                    retry,
                    None,
                    Some(&cookie),
                )
                .await?;
            let v: Value = super::decode("POST", &shown, &bytes)?;
            let env: V1Envelope = serde_json::from_value(v.clone()).unwrap_or_default();
            if env.success {
                return Ok(v);
            }
            // 100: not authenticated (cookie expired); log on again once.
            if env.status_code == 100 && !renewed {
                renewed = true;
                continue;
            }
            return Err(ClientError::V1 {
                method: method.to_string(),
                status_code: env.status_code,
                message: env.message,
            });
        }
    }

    async fn v1_field<T: DeserializeOwned>(
        &self,
        method: &str,
        body: Value,
        field: &str,
        retry: Retry,
    ) -> Result<T, ClientError> {
        let v = self.v1_call(method, body, retry).await?;
        let inner = if field.is_empty() {
            v
        } else {
            v[field].clone()
        };
        serde_json::from_value(inner).map_err(|e| ClientError::Decode {
            method: "POST".into(),
            path: format!("/REST/{method}/JSON"),
            detail: e.to_string(),
        })
    }

    /// v1 `Blueprint/GetBlueprints` (the account's private blueprints; `search` filters by name).
    pub async fn blueprints(
        &self,
        search: Option<&str>,
    ) -> Result<Vec<BlueprintSummary>, ClientError> {
        let mut body = json!({"Visibility": 2});
        if let Some(s) = search {
            body["Search"] = json!(s);
        }
        self.v1_field(
            "Blueprint/GetBlueprints",
            body,
            "Blueprints",
            Retry::Idempotent,
        )
        .await
    }

    /// v1 `Blueprint/GetBlueprintDetails`.
    pub async fn blueprint_details(&self, id: u32) -> Result<BlueprintDetails, ClientError> {
        self.v1_field(
            "Blueprint/GetBlueprintDetails",
            json!({"ID": id}),
            "BlueprintDetails",
            Retry::Idempotent,
        )
        .await
    }

    /// v1 `Blueprint/GetBlueprintParameters`.
    pub async fn blueprint_parameters(
        &self,
        id: u32,
    ) -> Result<Vec<BlueprintParameter>, ClientError> {
        self.v1_field(
            "Blueprint/GetBlueprintParameters",
            json!({"ID": id}),
            "Parameters",
            Retry::Idempotent,
        )
        .await
    }

    /// v1 `Blueprint/DeployBlueprint`: returns what to wait on. Not repeated after an
    /// ambiguous failure (the v1 API cannot list deployments to settle it).
    pub async fn deploy_blueprint(
        &self,
        request: &DeployBlueprintRequest,
    ) -> Result<Pending, ClientError> {
        let body = serde_json::to_value(request).expect("serializable");
        match self
            .v1_field::<u64>("Blueprint/DeployBlueprint", body, "RequestID", Retry::Once)
            .await
        {
            Ok(n) => Ok(Pending::Deployment(n)),
            Err(e) if e.is_transient() => Err(ClientError::Ambiguous {
                what: "deploy blueprint".into(),
                detail: e.to_string(),
            }),
            Err(e) => Err(e),
        }
    }

    pub(crate) async fn deployment_status_with(
        &self,
        request_id: u64,
        retry: Retry,
    ) -> Result<DeploymentStatus, ClientError> {
        self.v1_field(
            "Blueprint/GetDeploymentStatus",
            json!({"RequestID": request_id}),
            "",
            retry,
        )
        .await
    }

    /// v1 `Blueprint/GetDeploymentStatus` (the Python SDK calls it `GetBlueprintStatus`).
    pub async fn deployment_status(
        &self,
        request_id: u64,
    ) -> Result<DeploymentStatus, ClientError> {
        self.deployment_status_with(request_id, Retry::Idempotent)
            .await
    }

    /// v1 `Blueprint/GetPackages` (classification 1 System, 2 Script, 3 Software;
    /// visibility 1 Public, 2 Private, 3 Shared).
    pub async fn packages(
        &self,
        classification: i32,
        visibility: i32,
    ) -> Result<Vec<PackageSummary>, ClientError> {
        let body = json!({"Classification": classification, "Visibility": visibility});
        self.v1_field("Blueprint/GetPackages", body, "Packages", Retry::Idempotent)
            .await
    }

    /// v1 `Blueprint/GetPendingPackages`: uploaded, not yet published.
    pub async fn pending_packages(&self) -> Result<Vec<PackageSummary>, ClientError> {
        self.v1_field(
            "Blueprint/GetPendingPackages",
            json!({}),
            "Packages",
            Retry::Idempotent,
        )
        .await
    }

    /// v1 `Blueprint/PublishPackage`: returns what to wait on. After an ambiguous failure
    /// the published packages are searched for the package's UUID before re-sending.
    pub async fn publish_package(
        &self,
        request: &PublishPackageRequest,
        package_id: &str,
    ) -> Result<Pending, ClientError> {
        let body = serde_json::to_value(request).expect("serializable");
        let attempts = self.inner.retry.max_attempts.max(1);
        let mut last = None;
        for attempt in 1..=attempts {
            match self
                .v1_field::<u64>(
                    "Blueprint/PublishPackage",
                    body.clone(),
                    "RequestID",
                    Retry::Once,
                )
                .await
            {
                Ok(n) => return Ok(Pending::Request(n)),
                Err(e) if e.is_transient() => {
                    let published = self
                        .packages(request.classification, request.visibility)
                        .await?;
                    if published
                        .iter()
                        .any(|p| p.id.eq_ignore_ascii_case(package_id))
                    {
                        return Ok(Pending::Done);
                    }
                    last = Some(e);
                    self.backoff(attempt).await;
                }
                Err(e) => return Err(e),
            }
        }
        Err(ClientError::Ambiguous {
            what: "publish package".into(),
            detail: last.map(|e| e.to_string()).unwrap_or_default(),
        })
    }

    pub(crate) async fn request_status_with(
        &self,
        request_id: u64,
        retry: Retry,
    ) -> Result<RequestDetails, ClientError> {
        self.v1_field(
            "Queue/GetRequestStatus",
            json!({"RequestID": request_id}),
            "RequestDetails",
            retry,
        )
        .await
    }

    /// v1 `Queue/GetRequestStatus`.
    pub async fn request_status(&self, request_id: u64) -> Result<RequestDetails, ClientError> {
        self.request_status_with(request_id, Retry::Idempotent)
            .await
    }

    /// v1 `Billing/GetAccountSummary`: the account's month-to-date total (deleted servers
    /// included), for settling the monthly credit.
    pub async fn account_summary(&self) -> Result<AccountSummary, ClientError> {
        let v = self
            .v1_call("Billing/GetAccountSummary", json!({}), Retry::Idempotent)
            .await?;
        Ok(AccountSummary {
            month_to_date_total: v["MonthToDateTotal"].as_f64().unwrap_or(0.0),
            current_hour: v["CurrentHour"].as_f64().unwrap_or(0.0),
            monthly_estimate: v["MonthlyEstimate"].as_f64().unwrap_or(0.0),
        })
    }
}
