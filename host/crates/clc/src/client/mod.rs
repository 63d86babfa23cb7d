//! A typed client for the CLC API: v2 (`v2.rs`), the v1 Blueprint API (`v1.rs`), and
//! queue polling (`poll.rs`). It works against any base URL: the real endpoint
//! (`https://api.ctl.io`) or an emulator.
//!
//! Behaviour the harness relies on:
//! - the bearer token is reused until shortly before it expires and renewed on a 401;
//! - idempotent calls (reads, deletes, power operations, settings) are retried a bounded
//!   number of times on 5xx, timeouts and reset connections, with backoff and jitter;
//! - creates are never blindly repeated: after an ambiguous failure the client looks the
//!   resource up (server by name prefix and description tag, group by name, public IP by
//!   ports) and only re-sends when it is certainly absent;
//! - errors carry the API's own message ([`ClientError`]); passwords and tokens only ever
//!   live in [`Secret`]s and never reach `Debug` output or logs.

mod error;
mod poll;
mod v1;
mod v2;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;

pub use error::ClientError;
pub use poll::{Pending, PollPolicy};
pub use v1::AccountSummary;
pub use v2::{PowerOp, QueuedServer};

use crate::Secret;
use crate::model::{ErrorBody, LoginRequest, LoginResponse};

/// API user credentials.
#[derive(Clone)]
pub struct Credentials {
    username: String,
    password: Secret,
}

impl Credentials {
    /// Credentials for `username`.
    pub fn new(username: &str, password: &str) -> Self {
        Credentials {
            username: username.to_string(),
            password: Secret::new(password),
        }
    }

    /// The user name.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The password.
    pub fn password(&self) -> &Secret {
        &self.password
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &self.password)
            .finish()
    }
}

/// How often transient failures of idempotent calls are retried.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// Backoff before the first retry; doubles each time.
    pub initial_backoff: Duration,
    /// Cap on the backoff.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(3),
        }
    }
}

/// What the login told us.
#[derive(Debug, Clone)]
pub struct LoginInfo {
    /// User name.
    pub user_name: String,
    /// Account alias.
    pub account_alias: String,
    /// Primary data center.
    pub location_alias: String,
    /// Roles.
    pub roles: Vec<String>,
}

#[derive(Clone)]
struct Session {
    token: Secret,
    expires: SystemTime,
    info: LoginInfo,
}

/// Builds a [`Client`].
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    base_url: String,
    v1_base_url: Option<String>,
    credentials: Credentials,
    alias: Option<String>,
    timeout: Duration,
    retry: RetryPolicy,
    poll: PollPolicy,
}

impl ClientBuilder {
    /// The v1 base URL, when it is not `<base>/REST` (the real one is
    /// `https://api.ctl.io/REST`).
    pub fn v1_base_url(mut self, url: impl Into<String>) -> Self {
        self.v1_base_url = Some(url.into());
        self
    }

    /// Use this account alias instead of the one login returns (sub-accounts).
    pub fn account_alias(mut self, alias: &str) -> Self {
        self.alias = Some(alias.to_string());
        self
    }

    /// Timeout of one HTTP request (default 60 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Retry policy for idempotent calls.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Polling policy for queued work.
    pub fn poll(mut self, poll: PollPolicy) -> Self {
        self.poll = poll;
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<Client, ClientError> {
        let http = reqwest::Client::builder()
            .timeout(self.timeout)
            .connect_timeout(Duration::from_secs(10))
            .pool_max_idle_per_host(64)
            .user_agent(concat!("certify-clc/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(ClientError::Build)?;
        let base = self.base_url.trim_end_matches('/').to_string();
        let v1_base = self
            .v1_base_url
            .map(|u| u.trim_end_matches('/').to_string())
            .unwrap_or_else(|| format!("{base}/REST"));
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base,
                v1_base,
                credentials: self.credentials,
                alias_override: self.alias,
                session: tokio::sync::Mutex::new(None),
                v1_cookie: tokio::sync::Mutex::new(None),
                retry: self.retry,
                poll: self.poll,
                seq: AtomicU64::new(0),
            }),
        })
    }
}

struct Inner {
    http: reqwest::Client,
    base: String,
    v1_base: String,
    credentials: Credentials,
    alias_override: Option<String>,
    session: tokio::sync::Mutex<Option<Session>>,
    v1_cookie: tokio::sync::Mutex<Option<Secret>>,
    retry: RetryPolicy,
    poll: PollPolicy,
    seq: AtomicU64,
}

/// A CLC API client. Cheap to clone; clones share the session.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.inner.base)
            .field("v1_base", &self.inner.v1_base)
            .field("credentials", &self.inner.credentials)
            .finish_non_exhaustive()
    }
}

/// Whether a call may be repeated after a transient failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retry {
    /// Repeat on 5xx and transport failures (reads, deletes, settings).
    Idempotent,
    /// Send once; the caller settles ambiguity (creates) or the next poll does (status).
    Once,
}

/// A request body.
pub(crate) enum Body {
    None,
    Json(serde_json::Value),
    Bytes(Vec<u8>, &'static str),
}

/// Seconds since the epoch.
fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Reads `exp` from a JWT without verifying it (we only need to know when to renew).
fn token_expiry(token: &str) -> Option<SystemTime> {
    let payload = token.split('.').nth(1)?;
    let bytes = crate::codec::b64url_decode(payload)?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    Some(UNIX_EPOCH + Duration::from_secs(v["exp"].as_u64()?))
}

/// A pseudo-random number in `[0, 1)` for jitter; quality does not matter here.
pub(crate) fn jitter_unit(salt: u64) -> f64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as u64)
        .unwrap_or(0);
    let x = crate::codec::mix(nanos ^ salt.rotate_left(17));
    (x >> 11) as f64 / (1u64 << 53) as f64
}

impl Client {
    /// A builder for a client of the API at `base_url` (e.g. `https://api.ctl.io` or an
    /// emulator's `RunningEmulator::url` in `certify-emulator`).
    pub fn builder(base_url: impl Into<String>, credentials: Credentials) -> ClientBuilder {
        ClientBuilder {
            base_url: base_url.into(),
            v1_base_url: None,
            credentials,
            alias: None,
            timeout: Duration::from_secs(60),
            retry: RetryPolicy::default(),
            poll: PollPolicy::default(),
        }
    }

    /// The v2 base URL.
    pub fn base_url(&self) -> &str {
        &self.inner.base
    }

    /// The polling policy.
    pub fn poll_policy(&self) -> &PollPolicy {
        &self.inner.poll
    }

    fn next_seq(&self) -> u64 {
        self.inner.seq.fetch_add(1, Ordering::Relaxed)
    }

    async fn backoff(&self, attempt: u32) {
        let r = &self.inner.retry;
        let base = r.initial_backoff.as_secs_f64() * 2f64.powi(attempt.saturating_sub(1) as i32);
        let capped = base.min(r.max_backoff.as_secs_f64());
        // Full jitter in [capped/2, capped): spreads retries of concurrent callers.
        let wait = capped * (0.5 + 0.5 * jitter_unit(self.next_seq()));
        tokio::time::sleep(Duration::from_secs_f64(wait)).await;
    }

    /// Logs in (`POST /v2/authentication/login`) and caches the token. Called
    /// automatically by every other call; call it directly to check credentials.
    pub async fn login(&self) -> Result<LoginInfo, ClientError> {
        let mut guard = self.inner.session.lock().await;
        let s = self.do_login().await?;
        let info = s.info.clone();
        *guard = Some(s);
        Ok(info)
    }

    async fn do_login(&self) -> Result<Session, ClientError> {
        let body = serde_json::to_value(LoginRequest {
            username: self.inner.credentials.username.clone(),
            password: self.inner.credentials.password.expose().to_string(),
        })
        .expect("serializable");
        let (_, bytes) = self
            .send(
                Method::POST,
                "/v2/authentication/login",
                Body::Json(body),
                Retry::Idempotent,
                None,
            )
            .await?;
        let resp: LoginResponse = decode("POST", "/v2/authentication/login", &bytes)?;
        let expires = token_expiry(&resp.bearer_token)
            .unwrap_or_else(|| SystemTime::now() + Duration::from_secs(14 * 24 * 3600));
        Ok(Session {
            token: Secret::new(resp.bearer_token),
            expires,
            info: LoginInfo {
                user_name: resp.user_name,
                account_alias: resp.account_alias,
                location_alias: resp.location_alias,
                roles: resp.roles,
            },
        })
    }

    async fn session(&self) -> Result<Session, ClientError> {
        let mut guard = self.inner.session.lock().await;
        if let Some(s) = guard.as_ref()
            // Renew a little early so a token never expires mid-request.
            && s.expires > SystemTime::now() + Duration::from_secs(300)
        {
            return Ok(s.clone());
        }
        let s = self.do_login().await?;
        *guard = Some(s.clone());
        Ok(s)
    }

    async fn invalidate(&self, token: &Secret) {
        let mut guard = self.inner.session.lock().await;
        if guard.as_ref().is_some_and(|s| &s.token == token) {
            *guard = None;
        }
    }

    /// The account alias in use (login's, unless overridden).
    pub async fn alias(&self) -> Result<String, ClientError> {
        if let Some(a) = &self.inner.alias_override {
            return Ok(a.clone());
        }
        Ok(self.session().await?.info.account_alias)
    }

    /// The primary data center from login.
    pub async fn primary_data_center(&self) -> Result<String, ClientError> {
        Ok(self.session().await?.info.location_alias)
    }

    /// Sends one request with the retry discipline; returns status and body of a 2xx
    /// answer. `token: None` sends no Authorization header (login).
    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Body,
        retry: Retry,
        token: Option<&Secret>,
    ) -> Result<(StatusCode, bytes::Bytes), ClientError> {
        let url = format!("{}{}", self.inner.base, path);
        self.send_url(method, &url, path, body, retry, token, None)
            .await
    }

    /// [`Client::send`] to a full URL, with an optional `Cookie` header (v1).
    #[allow(clippy::too_many_arguments)]
    async fn send_url(
        &self,
        method: Method,
        url: &str,
        path: &str,
        body: Body,
        retry: Retry,
        token: Option<&Secret>,
        cookie: Option<&Secret>,
    ) -> Result<(StatusCode, bytes::Bytes), ClientError> {
        let max = match retry {
            Retry::Idempotent => self.inner.retry.max_attempts.max(1),
            Retry::Once => 1,
        };
        let shown_path = path.split('?').next().unwrap_or(path).to_string();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut req = self
                .inner
                .http
                .request(method.clone(), url)
                .header(reqwest::header::ACCEPT, "application/json");
            if let Some(t) = token {
                req = req.bearer_auth(t.expose());
            }
            if let Some(c) = cookie {
                req = req.header(reqwest::header::COOKIE, c.expose());
            }
            req = match &body {
                Body::None => req,
                Body::Json(v) => req
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(v.to_string()),
                Body::Bytes(b, ct) => req
                    .header(reqwest::header::CONTENT_TYPE, *ct)
                    .body(b.clone()),
            };
            let outcome = match req.send().await {
                Ok(resp) => {
                    let status = resp.status();
                    match resp.bytes().await {
                        Ok(b) => Ok((status, b)),
                        Err(e) => Err(e),
                    }
                }
                Err(e) => Err(e),
            };
            match outcome {
                Err(source) => {
                    tracing::debug!(%method, path = %shown_path, attempt, error = %source, "request failed");
                    if attempt < max {
                        self.backoff(attempt).await;
                        continue;
                    }
                    return Err(ClientError::Transport {
                        method: method.to_string(),
                        path: shown_path,
                        source,
                    });
                }
                Ok((status, bytes)) => {
                    tracing::debug!(%method, path = %shown_path, status = status.as_u16(), "response");
                    if status.is_success() {
                        return Ok((status, bytes));
                    }
                    if status.is_server_error() && attempt < max {
                        self.backoff(attempt).await;
                        continue;
                    }
                    return Err(api_error(&method, &shown_path, status, &bytes));
                }
            }
        }
    }

    /// Sends an authenticated v2 request; renews the token once on 401.
    pub(crate) async fn call(
        &self,
        method: Method,
        path: &str,
        body: Body,
        retry: Retry,
    ) -> Result<(StatusCode, bytes::Bytes), ClientError> {
        let session = self.session().await?;
        let first = self
            .send(
                method.clone(),
                path,
                clone_body(&body),
                retry,
                Some(&session.token),
            )
            .await;
        match first {
            Err(e) if e.status() == Some(401) => {
                // A 401 means the request was not processed, so even a create may be re-sent.
                self.invalidate(&session.token).await;
                let session = self.session().await?;
                self.send(method, path, body, retry, Some(&session.token))
                    .await
            }
            other => other,
        }
    }

    /// An authenticated v2 call decoded as `T`.
    pub(crate) async fn call_json<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Body,
        retry: Retry,
    ) -> Result<T, ClientError> {
        let m = method.to_string();
        let (_, bytes) = self.call(method, path, body, retry).await?;
        decode(&m, path.split('?').next().unwrap_or(path), &bytes)
    }
}

fn clone_body(b: &Body) -> Body {
    match b {
        Body::None => Body::None,
        Body::Json(v) => Body::Json(v.clone()),
        Body::Bytes(b, ct) => Body::Bytes(b.clone(), ct),
    }
}

pub(crate) fn decode<T: DeserializeOwned>(
    method: &str,
    path: &str,
    bytes: &[u8],
) -> Result<T, ClientError> {
    serde_json::from_slice(bytes).map_err(|e| ClientError::Decode {
        method: method.to_string(),
        path: path.to_string(),
        detail: e.to_string(),
    })
}

fn api_error(method: &Method, path: &str, status: StatusCode, bytes: &[u8]) -> ClientError {
    // The API's error bodies: {"message"}, {"message","modelState"}, an array of
    // {"message"}, or (rarely) {"error"}.
    let value: Option<serde_json::Value> = serde_json::from_slice(bytes).ok();
    let (message, model_state) = match value {
        Some(serde_json::Value::Array(items)) => (
            items
                .iter()
                .filter_map(|i| i["message"].as_str())
                .collect::<Vec<_>>()
                .join("; "),
            Default::default(),
        ),
        Some(v) => {
            let body: ErrorBody = serde_json::from_value(v.clone()).unwrap_or_default();
            let msg = if body.message.is_empty() {
                v["error"].as_str().unwrap_or_default().to_string()
            } else {
                body.message
            };
            (msg, body.model_state.unwrap_or_default())
        }
        None => (
            String::from_utf8_lossy(bytes).chars().take(300).collect(),
            Default::default(),
        ),
    };
    let message = if message.is_empty() {
        status.canonical_reason().unwrap_or("error").to_string()
    } else {
        message
    };
    ClientError::Api {
        method: method.to_string(),
        path: path.to_string(),
        status: status.as_u16(),
        message,
        model_state,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_redacts_credentials() {
        let c = Client::builder("http://127.0.0.1:1", Credentials::new("bob", "s3cr3t-pass"))
            .build()
            .unwrap();
        let shown = format!("{c:?} {:?}", Credentials::new("bob", "s3cr3t-pass"));
        assert!(!shown.contains("s3cr3t-pass"), "{shown}");
        assert!(shown.contains("bob"));
    }

    #[test]
    fn api_errors_keep_message_and_model_state() {
        let e = api_error(
            &Method::POST,
            "/v2/servers/x",
            StatusCode::BAD_REQUEST,
            br#"{"message":"The request is invalid.","modelState":{"body.name":["bad"]}}"#,
        );
        assert_eq!(e.status(), Some(400));
        assert_eq!(e.api_message(), Some("The request is invalid."));
        assert_eq!(e.model_state()["body.name"], vec!["bad".to_string()]);
        let e = api_error(
            &Method::GET,
            "/x",
            StatusCode::INTERNAL_SERVER_ERROR,
            b"oops",
        );
        assert_eq!(e.api_message(), Some("oops"));
        assert!(e.is_transient());
    }
}
