//! The emulator's HTTP surface: the v2 and v1 routes with the real status codes and bodies,
//! the emulator-only catalog endpoints, lenient body parsing (real clients send JSON,
//! form-encoded bodies and JSON under odd content types), and the fault layer.
//!
//! Paths are matched case-insensitively (the whole path is lower-cased before routing, as
//! the real API treats aliases and ids case-insensitively), so every route below is
//! written in lower case.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, Query, RawPathParams, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::Shared;
use super::faults::EndpointClass;
use super::state::{DATA_CENTERS, GroupRec, Refusal, ServerRec, State as Account};
use certify_clc::model::*;

type Sh = State<Arc<Shared>>;
type ApiResult = Result<Response, ApiError>;

/// An error answer in the API's own shape.
#[derive(Debug)]
pub(crate) struct ApiError(StatusCode, ErrorBody);

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError(
            status,
            ErrorBody {
                message: message.into(),
                model_state: None,
            },
        )
    }
    fn not_found() -> Self {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "The requested resource does not exist.",
        )
    }
    fn bad_request(m: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, m)
    }
    fn invalid(model_state: BTreeMap<String, Vec<String>>) -> Self {
        ApiError(
            StatusCode::BAD_REQUEST,
            ErrorBody {
                message: "The request is invalid.".into(),
                model_state: Some(model_state),
            },
        )
    }
}

impl From<Refusal> for ApiError {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::NotFound => ApiError::not_found(),
            Refusal::BadRequest(m) => ApiError::bad_request(m),
            Refusal::Invalid(m) => ApiError::invalid(m),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, axum::Json(self.1)).into_response()
    }
}

fn json_response<T: serde::Serialize>(status: StatusCode, body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => (
            status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json; charset=utf-8"),
            )],
            bytes,
        )
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

fn ok<T: serde::Serialize>(body: &T) -> ApiResult {
    Ok(json_response(StatusCode::OK, body))
}

/// Parses a request body the way the real API tolerates it: JSON under any content type,
/// or a form-encoded body; an empty body is the type's default.
fn parse_body<T: DeserializeOwned + Default>(body: &Bytes) -> Result<T, ApiError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::bad_request("The request body is not UTF-8."))?;
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Ok(T::default());
    }
    let invalid = |e: &dyn std::fmt::Display| {
        let mut m = BTreeMap::new();
        m.insert("body".to_string(), vec![e.to_string()]);
        ApiError::invalid(m)
    };
    if trimmed.starts_with(['{', '[', '"']) {
        let value: Value = serde_json::from_str(trimmed).map_err(|e| invalid(&e))?;
        // Some clients double-encode: a JSON string holding the JSON document.
        let value = match value {
            Value::String(s) => serde_json::from_str(&s).map_err(|e| invalid(&e))?,
            v => v,
        };
        return serde_json::from_value(value).map_err(|e| invalid(&e));
    }
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(trimmed).map_err(|e| invalid(&e))?;
    let map: serde_json::Map<String, Value> = pairs
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    serde_json::from_value(Value::Object(map)).map_err(|e| invalid(&e))
}

fn lower_query(q: &HashMap<String, String>) -> HashMap<String, String> {
    q.iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.to_ascii_lowercase()))
        .collect()
}

fn token_from(headers: &HeaderMap) -> Option<String> {
    if let Some(v) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let v = v.trim();
        if v.len() > 7 && v[..7].eq_ignore_ascii_case("bearer ") {
            return Some(v[7..].trim().to_string());
        }
    }
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| {
            c.trim()
                .strip_prefix(V1_COOKIE)
                .and_then(|r| r.strip_prefix('='))
        })
        .map(str::to_string)
}

const V1_COOKIE: &str = "Tier3.API.Cookie";

fn authorized(sh: &Shared, headers: &HeaderMap) -> bool {
    let Some(token) = token_from(headers) else {
        return false;
    };
    super::auth::verify(&sh.signing_key, &token, chrono::Utc::now().timestamp())
}

/// A request with a valid bearer token (or v1 session cookie) whose `{alias}` path
/// parameter names the emulated account: what every v2 and emulator-only route checks
/// before anything else. Refuses as the real API does: 401 without a valid token, 403 for
/// another account's alias.
pub(crate) struct Authenticated {
    /// The emulator the request reached.
    pub sh: Arc<Shared>,
    /// The account alias from the path, lower-cased as the API's links spell it.
    pub alias: String,
}

impl FromRequestParts<Arc<Shared>> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, sh: &Arc<Shared>) -> Result<Self, ApiError> {
        let params = RawPathParams::from_request_parts(parts, sh)
            .await
            .map_err(|_| ApiError::not_found())?;
        let alias = params
            .iter()
            .find(|(k, _)| *k == "alias")
            .map(|(_, v)| v)
            .unwrap_or_default();
        if !authorized(sh, &parts.headers) {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "Authorization has been denied for this request.",
            ));
        }
        if !alias.eq_ignore_ascii_case(&sh.alias) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "You do not have access to the requested account.",
            ));
        }
        Ok(Authenticated {
            sh: sh.clone(),
            alias: alias.to_ascii_lowercase(),
        })
    }
}

/// The path parameters after `{alias}`, by route family.
#[derive(serde::Deserialize)]
struct Id {
    id: String,
}

#[derive(serde::Deserialize)]
struct Dc {
    dc: String,
}

#[derive(serde::Deserialize)]
struct Ip {
    id: String,
    ip: String,
}

#[derive(serde::Deserialize)]
struct Op {
    op: String,
}

#[derive(serde::Deserialize)]
struct Month {
    year: i32,
    month: u32,
}

fn status_link(alias: &str, status_id: &str) -> Link {
    Link::new(
        "status",
        format!("/v2/operations/{alias}/status/{status_id}"),
    )
    .with_id(status_id)
}

/// Every route: its path (lower case) and the handler of each method.
fn routes() -> Vec<(&'static str, MethodRouter<Arc<Shared>>)> {
    vec![
        ("/v2/authentication/login", post(login)),
        ("/v2/accounts/{alias}", get(account)),
        ("/v2/datacenters/{alias}", get(data_centers)),
        ("/v2/datacenters/{alias}/{dc}", get(data_center)),
        (
            "/v2/datacenters/{alias}/{dc}/deploymentcapabilities",
            get(capabilities),
        ),
        ("/v2-experimental/networks/{alias}/{dc}", get(networks)),
        ("/v2/groups/{alias}", post(create_group)),
        (
            "/v2/groups/{alias}/{id}",
            get(get_group).delete(delete_group).patch(patch_group),
        ),
        ("/v2/groups/{alias}/{id}/defaults", get(group_defaults)),
        ("/v2/groups/{alias}/{id}/billing", get(group_billing)),
        ("/v2/servers/{alias}", post(create_server)),
        (
            "/v2/servers/{alias}/{id}",
            get(get_server).delete(delete_server).patch(patch_server),
        ),
        ("/v2/servers/{alias}/{id}/credentials", get(credentials)),
        (
            "/v2/servers/{alias}/{id}/capabilities",
            get(server_capabilities),
        ),
        (
            "/v2/servers/{alias}/{id}/publicipaddresses",
            post(add_public_ip).get(list_public_ips),
        ),
        (
            "/v2/servers/{alias}/{id}/publicipaddresses/{ip}",
            get(get_public_ip)
                .put(update_public_ip)
                .delete(delete_public_ip),
        ),
        (
            "/v2/operations/{alias}/servers/{op}",
            post(server_operation),
        ),
        ("/v2/operations/{alias}/status/{id}", get(op_status)),
        (
            "/v2/billing/{alias}/serverpricing/{id}",
            get(server_pricing),
        ),
        (
            "/v2/billing/{alias}/estimate-server/{id}",
            get(server_estimate),
        ),
        ("/v2/invoice/{alias}/{year}/{month}", get(invoice)),
        ("/rest/auth/logon", post(v1_logon)),
        ("/rest/auth/logon/", post(v1_logon)),
        ("/rest/{area}/{method}/json", post(v1_call)),
        ("/rest/{area}/{method}/json/", post(v1_call)),
        ("/emulator/packages/{alias}", post(upload_package)),
        ("/emulator/blueprints/{alias}", post(register_blueprint)),
        ("/emulator/servers/{alias}/{id}/buildlog", get(build_log)),
        ("/emulator/clock/{alias}", get(account_clock)),
    ]
}

/// The router with every route; paths must reach it lower-cased.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    routes()
        .into_iter()
        .fold(Router::new(), |router, (path, methods)| {
            router.route(path, methods)
        })
        .fallback(|| async { ApiError::not_found() })
        .layer(axum::middleware::from_fn_with_state(
            shared.clone(),
            fault_layer,
        ))
        .with_state(shared)
}

/// A handle the connection loop gives each request so the fault layer can drop the
/// connection after the work is done.
#[derive(Clone)]
pub(crate) struct DropSignal(pub Arc<tokio::sync::Notify>);

async fn fault_layer(State(sh): Sh, req: Request, next: Next) -> Response {
    let Some(class) = EndpointClass::classify(req.method().as_str(), req.uri().path()) else {
        return next.run(req).await;
    };
    let f = sh.faults.for_request(class);
    if !f.delay.is_zero() {
        tokio::time::sleep(f.delay).await;
    }
    if f.error {
        tracing::debug!(path = %req.uri().path(), "injected 500");
        return ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "An error has occurred.")
            .into_response();
    }
    let drop_signal = req.extensions().get::<DropSignal>().cloned();
    let path = req.uri().path().to_string();
    let resp = next.run(req).await;
    if f.drop
        && let Some(d) = drop_signal
    {
        tracing::debug!(%path, "injected connection drop");
        d.0.notify_one();
        std::future::pending::<()>().await;
    }
    resp
}

// ---- v2: authentication, account, data centers ---------------------------------------

/// A signed-in user: the account's identity and a fresh bearer token.
struct Session {
    user: String,
    alias: String,
    dc: String,
    token: String,
}

/// Checks a user name and password against the account's (the v2 login and the v1 logon
/// take the same pair) and issues a token.
fn sign_in(sh: &Arc<Shared>, username: &str, password: &str) -> Option<Session> {
    let (user, pass, alias, dc) = sh.with(false, |st, _| {
        (
            st.account.username.clone(),
            st.account.password.clone(),
            st.account.alias.clone(),
            st.account.primary_dc.clone(),
        )
    });
    if username != user || password != pass {
        return None;
    }
    let token = super::auth::issue(
        &sh.signing_key,
        &user,
        &alias,
        &dc,
        chrono::Utc::now().timestamp(),
    );
    Some(Session {
        user,
        alias,
        dc,
        token,
    })
}

async fn login(State(sh): Sh, body: Bytes) -> ApiResult {
    let req: LoginRequest = parse_body(&body)?;
    let Some(session) = sign_in(&sh, &req.username, &req.password) else {
        return Err(ApiError::bad_request(
            "We didn't recognize the username or password you entered. Please try again.",
        ));
    };
    ok(&LoginResponse {
        user_name: session.user,
        account_alias: session.alias,
        location_alias: session.dc,
        roles: vec!["AccountAdmin".into(), "ServerAdmin".into()],
        bearer_token: session.token,
    })
}

async fn account(a: Authenticated) -> ApiResult {
    let body = a.sh.with(false, |st, _| {
        json!({
            "accountAlias": st.account.alias,
            "parentAlias": "",
            "businessName": st.account.company_name,
            "primaryDataCenter": st.account.primary_dc.to_ascii_lowercase(),
            "isManaged": false,
            "status": "Active",
            "links": [{"rel": "self", "href": format!("/v2/accounts/{}", st.account.alias.to_ascii_lowercase())}],
        })
    });
    ok(&body)
}

fn dc_name(dc: &str) -> Option<String> {
    DATA_CENTERS
        .iter()
        .find(|(d, _)| d.eq_ignore_ascii_case(dc))
        .map(|(d, n)| format!("{d} - {n}"))
}

fn dc_entity(st: &Account, alias: &str, dc: &str, group_links: bool) -> DataCenter {
    let id = dc.to_ascii_lowercase();
    let base = format!("/v2/datacenters/{alias}/{id}");
    let mut links = vec![
        Link::new("self", base.clone()),
        Link::new(
            "deploymentCapabilities",
            format!("{base}/deploymentCapabilities"),
        ),
        Link::new("billing", format!("/v2/billing/{alias}")),
        Link::new("createServer", format!("/v2/servers/{alias}")).with_verbs(&["POST"]),
        Link::new("createGroup", format!("/v2/groups/{alias}")).with_verbs(&["POST"]),
    ];
    if group_links && let Some(root) = st.groups.root(dc) {
        links.push(
            Link::new("group", format!("/v2/groups/{alias}/{}", root.id))
                .with_id(root.id.clone())
                .with_name(root.name.clone()),
        );
    }
    DataCenter {
        id,
        name: dc_name(dc).unwrap_or_default(),
        links,
    }
}

async fn data_centers(Authenticated { sh, alias }: Authenticated) -> ApiResult {
    let list = sh.with(false, |st, _| {
        DATA_CENTERS
            .iter()
            .map(|(dc, _)| dc_entity(st, &alias, dc, false))
            .collect::<Vec<_>>()
    });
    ok(&list)
}

async fn data_center(
    Authenticated { sh, alias }: Authenticated,
    Path(Dc { dc }): Path<Dc>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    dc_name(&dc).ok_or_else(ApiError::not_found)?;
    let q = lower_query(&q);
    let links = q.get("grouplinks").is_some_and(|v| v == "true");
    ok(&sh.with(false, |st, _| dc_entity(st, &alias, &dc, links)))
}

async fn capabilities(a: Authenticated, Path(Dc { dc }): Path<Dc>) -> ApiResult {
    dc_name(&dc).ok_or_else(ApiError::not_found)?;
    let (net_id, net_name, _) = a.sh.with(false, |st, _| st.network(&dc));
    let caps = DeploymentCapabilities {
        data_center_enabled: true,
        import_vm_enabled: false,
        supports_premium_storage: true,
        supports_shared_load_balancer: true,
        supports_bare_metal_servers: false,
        deployable_networks: vec![DeployableNetwork {
            name: net_name,
            network_id: net_id,
            kind: "private".into(),
            account_id: a.sh.alias.clone(),
        }],
        templates: super::templates(),
        importable_os_types: Vec::new(),
    };
    ok(&caps)
}

async fn networks(
    Authenticated { sh, alias }: Authenticated,
    Path(Dc { dc }): Path<Dc>,
) -> ApiResult {
    dc_name(&dc).ok_or_else(ApiError::not_found)?;
    let (id, name, cidr) = sh.with(false, |st, _| st.network(&dc));
    let gateway = cidr.replace(".0.0/16", ".0.1");
    ok(&json!([{
        "id": id, "cidr": cidr, "description": name, "gateway": gateway,
        "name": name, "netmask": "255.255.0.0", "type": "private", "vlan": 700,
        "links": [{"rel": "self", "href": format!("/v2-experimental/networks/{alias}/{}/{id}", dc.to_ascii_lowercase())}],
    }]))
}

// ---- v2: groups -----------------------------------------------------------------------

fn server_entity(st: &Account, s: &ServerRec, alias: &str) -> Server {
    let self_href = format!("/v2/servers/{alias}/{}", s.id);
    let mut links = vec![
        Link::new("self", self_href.clone())
            .with_id(s.id.clone())
            .with_verbs(&["GET", "PATCH", "DELETE"]),
        Link::new("group", format!("/v2/groups/{alias}/{}", s.group_id))
            .with_id(s.group_id.clone()),
        Link::new(
            "billing",
            format!("/v2/billing/{alias}/serverPricing/{}", s.id),
        ),
        Link::new("credentials", format!("{self_href}/credentials")),
        Link::new(
            "publicIPAddresses",
            format!("{self_href}/publicIPAddresses"),
        )
        .with_verbs(&["POST"]),
        Link::new("capabilities", format!("{self_href}/capabilities")),
    ];
    for ip in s.public_ips.iter().filter(|ip| ip.ready) {
        links.push(
            Link::new(
                "publicIPAddress",
                format!("{self_href}/publicIPAddresses/{}", ip.address),
            )
            .with_id(ip.address.clone())
            .with_verbs(&["GET", "PUT", "DELETE"]),
        );
    }
    let details = (s.status != "underConstruction" || s.power_state == "started").then(|| {
        let mut ips = Vec::new();
        for ip in s.public_ips.iter().filter(|ip| ip.ready) {
            ips.push(IpAddress {
                internal: Some(ip.internal.clone()),
                public: Some(ip.address.clone()),
            });
        }
        ips.push(IpAddress {
            internal: Some(s.internal_ip.clone()),
            public: None,
        });
        ServerDetails {
            ip_addresses: ips,
            alert_policies: Vec::new(),
            cpu: s.cpu,
            disk_count: s.disks.len() as u32,
            host_name: s.id.clone(),
            in_maintenance_mode: s.maintenance,
            memory_mb: s.memory_gb * 1024,
            power_state: s.power_state.clone(),
            storage_gb: s.storage_gb,
            disks: s
                .disks
                .iter()
                .map(|(id, size, paths)| DiskInfo {
                    id: id.clone(),
                    size_gb: *size,
                    partition_paths: paths.clone(),
                })
                .collect(),
            partitions: Vec::new(),
            snapshots: Vec::new(),
            custom_fields: Vec::new(),
        }
    });
    let _ = st;
    Server {
        id: s.id.clone(),
        name: s.name.clone(),
        description: s.description.clone(),
        group_id: s.group_id.clone(),
        is_template: false,
        location_id: s.dc.clone(),
        os_type: s.os_type.clone(),
        os: s.os_type.clone(),
        status: s.status.clone(),
        details,
        kind: s.kind.clone(),
        storage_type: s.storage_type.clone(),
        change_info: ChangeInfo {
            created_date: format_time(s.created),
            created_by: st.account.username.clone(),
            modified_date: format_time(s.modified),
            modified_by: st.account.username.clone(),
        },
        links,
    }
}

fn group_entity(st: &Account, g: &GroupRec, alias: &str, detailed: bool) -> Group {
    let href = format!("/v2/groups/{alias}/{}", g.id);
    let mut links = vec![
        Link::new("self", href.clone())
            .with_id(g.id.clone())
            .with_verbs(&["GET", "PATCH", "DELETE"]),
        Link::new("billing", format!("{href}/billing")),
        Link::new("defaults", format!("{href}/defaults")),
        Link::new("createGroup", format!("/v2/groups/{alias}")).with_verbs(&["POST"]),
        Link::new("createServer", format!("/v2/servers/{alias}")).with_verbs(&["POST"]),
    ];
    if let Some(p) = &g.parent {
        links.push(Link::new("parentGroup", format!("/v2/groups/{alias}/{p}")).with_id(p.clone()));
    }
    let servers: Vec<&ServerRec> = st.servers.in_group(&g.id).collect();
    for s in &servers {
        links.push(
            Link::new("server", format!("/v2/servers/{alias}/{}", s.id)).with_id(s.id.clone()),
        );
    }
    Group {
        id: g.id.clone(),
        name: g.name.clone(),
        description: g.description.clone(),
        location_id: g.dc.clone(),
        kind: g.kind.clone(),
        status: "active".into(),
        servers_count: servers.len() as u32,
        groups: g
            .children
            .iter()
            .filter_map(|c| st.groups.get(c))
            .map(|c| group_entity(st, c, alias, detailed))
            .collect(),
        links,
        change_info: ChangeInfo {
            created_date: format_time(g.created),
            created_by: st.account.username.clone(),
            modified_date: format_time(g.modified),
            modified_by: st.account.username.clone(),
        },
        custom_fields: Vec::new(),
        servers: detailed.then(|| {
            servers
                .iter()
                .map(|s| server_entity(st, s, alias))
                .collect()
        }),
    }
}

async fn get_group(
    Authenticated { sh, alias }: Authenticated,
    Path(Id { id }): Path<Id>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let detailed = lower_query(&q)
        .get("serverdetail")
        .is_some_and(|v| v == "detailed");
    let g = sh.with(false, |st, _| {
        st.groups
            .get(&id)
            .map(|g| group_entity(st, g, &alias, detailed))
    });
    ok(&g.ok_or_else(ApiError::not_found)?)
}

async fn create_group(Authenticated { sh, alias }: Authenticated, body: Bytes) -> ApiResult {
    let req: CreateGroup = parse_body(&body)?;
    let g = sh.with(true, |st, now| {
        st.create_group(
            &req.name,
            req.description.as_deref(),
            &req.parent_group_id,
            now,
        )
        .map(|id| group_entity(st, &st.groups[&id], &alias, false))
    })?;
    Ok(json_response(StatusCode::CREATED, &g))
}

async fn delete_group(
    Authenticated { sh, alias }: Authenticated,
    Path(Id { id }): Path<Id>,
) -> ApiResult {
    let status = sh.with(true, |st, now| st.delete_group(&id, now))?;
    Ok(json_response(
        StatusCode::ACCEPTED,
        &status_link(&alias, &status),
    ))
}

async fn patch_group(a: Authenticated, Path(Id { id }): Path<Id>, body: Bytes) -> ApiResult {
    let ops: Vec<PatchOp> = parse_body(&body)?;
    a.sh.with(true, |st, now| -> Result<(), ApiError> {
        let g = st.groups.get_mut(&id).ok_or_else(ApiError::not_found)?;
        for op in &ops {
            let v = op.value.as_str().unwrap_or_default().to_string();
            match op.member.as_str() {
                "name" if !v.is_empty() => g.name = v,
                "description" => g.description = v,
                other => {
                    return Err(ApiError::bad_request(format!(
                        "The member '{other}' cannot be set."
                    )));
                }
            }
        }
        g.modified = now;
        Ok(())
    })?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn group_defaults(a: Authenticated, Path(Id { id }): Path<Id>) -> ApiResult {
    let dc =
        a.sh.with(false, |st, _| st.groups.get(&id).map(|g| g.dc.clone()))
            .ok_or_else(ApiError::not_found)?;
    let (net, _, _) = a.sh.with(false, |st, _| st.network(&dc));
    ok(&json!({
        "cpu": {"value": 1, "inherited": true},
        "memoryGB": {"value": 2, "inherited": true},
        "memory": {"value": 2, "inherited": true},
        "networkId": {"value": net, "inherited": true},
        "templateName": {"value": "CENTOS-7-64-TEMPLATE", "inherited": true},
    }))
}

async fn group_billing(a: Authenticated, Path(Id { id }): Path<Id>) -> ApiResult {
    let b = a.sh.with(true, |st, now| st.group_billing(&id, now));
    ok(&b.ok_or_else(ApiError::not_found)?)
}

// ---- v2: servers ----------------------------------------------------------------------

async fn create_server(Authenticated { sh, alias }: Authenticated, body: Bytes) -> ApiResult {
    let req: CreateServer = parse_body(&body)?;
    let (name, uuid, status) = sh.with(true, |st, now| st.create_server(&req, now))?;
    let item = QueuedItem {
        server: name,
        is_queued: true,
        links: vec![
            status_link(&alias, &status),
            Link::new("self", format!("/v2/servers/{alias}/{uuid}?uuid=True"))
                .with_id(uuid)
                .with_verbs(&["GET"]),
        ],
        error_message: None,
    };
    Ok(json_response(StatusCode::ACCEPTED, &item))
}

async fn get_server(
    Authenticated { sh, alias }: Authenticated,
    Path(Id { id }): Path<Id>,
) -> ApiResult {
    // `?uuid=true` and plain ids are both looked up; uuids and names never collide.
    let s = sh.with(false, |st, _| {
        st.servers.find(&id).map(|s| server_entity(st, s, &alias))
    });
    ok(&s.ok_or_else(ApiError::not_found)?)
}

async fn delete_server(
    Authenticated { sh, alias }: Authenticated,
    Path(Id { id }): Path<Id>,
) -> ApiResult {
    let (server, status) = sh.with(true, |st, now| st.delete_server(&id, now))?;
    Ok(json_response(
        StatusCode::ACCEPTED,
        &QueuedItem {
            server,
            is_queued: true,
            links: vec![status_link(&alias, &status)],
            error_message: None,
        },
    ))
}

async fn patch_server(
    Authenticated { sh, alias }: Authenticated,
    Path(Id { id }): Path<Id>,
    body: Bytes,
) -> ApiResult {
    let ops: Vec<PatchOp> = parse_body(&body)?;
    let num = |v: &Value| -> Result<u32, ApiError> {
        v.as_u64()
            .map(|n| n as u32)
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            .ok_or_else(|| ApiError::bad_request("The value must be a whole number."))
    };
    let (mut cpu, mut memory) = (None, None);
    let mut simple = Vec::new();
    for op in &ops {
        match op.member.as_str() {
            "cpu" => cpu = Some(num(&op.value)?),
            "memory" | "memoryGB" => memory = Some(num(&op.value)?),
            "description" | "groupId" => simple.push(op.clone()),
            other => {
                return Err(ApiError::bad_request(format!(
                    "The member '{other}' cannot be set by the emulator."
                )));
            }
        }
    }
    let status = sh.with(true, |st, now| -> Result<Option<String>, ApiError> {
        let sid = st
            .servers
            .find(&id)
            .ok_or_else(ApiError::not_found)?
            .id
            .clone();
        for op in &simple {
            let v = op.value.as_str().unwrap_or_default().to_string();
            if op.member == "groupId" && !st.groups.contains_key(&v) {
                return Err(ApiError::bad_request("The group does not exist."));
            }
            let s = st.servers.get_mut(&sid).expect("found");
            if op.member == "groupId" {
                s.group_id = v;
            } else {
                s.description = v;
            }
            s.modified = now;
        }
        if cpu.is_some() || memory.is_some() {
            return Ok(Some(st.resize(&sid, cpu, memory, now)?));
        }
        Ok(None)
    })?;
    match status {
        Some(s) => Ok(json_response(
            StatusCode::ACCEPTED,
            &status_link(&alias, &s),
        )),
        None => Ok(StatusCode::NO_CONTENT.into_response()),
    }
}

async fn credentials(a: Authenticated, Path(Id { id }): Path<Id>) -> ApiResult {
    let c = a.sh.with(false, |st, _| {
        st.servers.find(&id).map(|s| {
            let user = if s.is_windows() {
                "administrator"
            } else {
                "root"
            };
            json!({"userName": user, "password": s.password})
        })
    });
    ok(&c.ok_or_else(ApiError::not_found)?)
}

async fn server_capabilities(a: Authenticated, Path(Id { id }): Path<Id>) -> ApiResult {
    a.sh.with(false, |st, _| st.servers.find(&id).map(|_| ()))
        .ok_or_else(ApiError::not_found)?;
    ok(&json!({
        "reservedDrivePaths": ["bin", "boot", "dev", "etc", "lib", "proc", "usr", "var"],
        "addingCpuRequiresReboot": false,
        "addingMemoryRequiresReboot": false,
    }))
}

async fn add_public_ip(
    Authenticated { sh, alias }: Authenticated,
    Path(Id { id }): Path<Id>,
    body: Bytes,
) -> ApiResult {
    let spec: PublicIpSpec = parse_body(&body)?;
    let status = sh.with(true, |st, now| st.add_public_ip(&id, &spec, now))?;
    Ok(json_response(
        StatusCode::ACCEPTED,
        &status_link(&alias, &status),
    ))
}

async fn list_public_ips(a: Authenticated, Path(Id { id }): Path<Id>) -> ApiResult {
    let ips = a.sh.with(false, |st, _| {
        st.servers.find(&id).map(|s| {
            s.public_ips
                .iter()
                .filter(|ip| ip.ready)
                .map(|ip| json!({"publicIPAddress": ip.address, "internalIPAddress": ip.internal}))
                .collect::<Vec<_>>()
        })
    });
    ok(&ips.ok_or_else(ApiError::not_found)?)
}

async fn get_public_ip(a: Authenticated, Path(Ip { id, ip }): Path<Ip>) -> ApiResult {
    let spec = a.sh.with(false, |st, _| {
        st.servers.find(&id).and_then(|s| {
            s.public_ips
                .iter()
                .find(|p| p.address == ip && p.ready)
                .map(|p| PublicIpSpec {
                    internal_ip_address: Some(p.internal.clone()),
                    ports: p.spec.ports.clone(),
                    source_restrictions: p.spec.source_restrictions.clone(),
                })
        })
    });
    ok(&spec.ok_or_else(ApiError::not_found)?)
}

async fn update_public_ip(
    Authenticated { sh, alias }: Authenticated,
    Path(Ip { id, ip }): Path<Ip>,
    body: Bytes,
) -> ApiResult {
    let spec: PublicIpSpec = parse_body(&body)?;
    let status = sh.with(true, |st, now| st.update_public_ip(&id, &ip, &spec, now))?;
    Ok(json_response(
        StatusCode::ACCEPTED,
        &status_link(&alias, &status),
    ))
}

async fn delete_public_ip(
    Authenticated { sh, alias }: Authenticated,
    Path(Ip { id, ip }): Path<Ip>,
) -> ApiResult {
    let status = sh.with(true, |st, now| st.delete_public_ip(&id, &ip, now))?;
    Ok(json_response(
        StatusCode::ACCEPTED,
        &status_link(&alias, &status),
    ))
}

// ---- v2: operations and queue -----------------------------------------------------------

async fn server_operation(
    Authenticated { sh, alias }: Authenticated,
    Path(Op { op }): Path<Op>,
    body: Bytes,
) -> ApiResult {
    let canonical = match op.as_str() {
        "poweron" => "powerOn",
        "poweroff" => "powerOff",
        "shutdown" => "shutDown",
        "reboot" => "reboot",
        "reset" => "reset",
        "pause" => "pause",
        "startmaintenance" => "startMaintenance",
        "stopmaintenance" => "stopMaintenance",
        "executepackage" => "executePackage",
        _ => return Err(ApiError::not_found()),
    };
    let results = if canonical == "executePackage" {
        let req: ExecutePackage = parse_body(&body)?;
        sh.with(true, |st, now| {
            st.execute_package(&req.servers, &req.package, now)
        })?
    } else {
        let servers: Vec<String> = parse_body(&body)?;
        if servers.is_empty() {
            return Err(ApiError::bad_request("At least one server id is required."));
        }
        sh.with(true, |st, now| st.power(canonical, &servers, now))
    };
    let items: Vec<QueuedItem> = results
        .into_iter()
        .map(|(server, r)| match r {
            Ok(status) => QueuedItem {
                server: server.to_ascii_lowercase(),
                is_queued: true,
                links: vec![status_link(&alias, &status)],
                error_message: None,
            },
            Err(m) => QueuedItem {
                server: server.to_ascii_lowercase(),
                is_queued: false,
                links: Vec::new(),
                error_message: Some(m),
            },
        })
        .collect();
    ok(&items)
}

async fn op_status(a: Authenticated, Path(Id { id }): Path<Id>) -> ApiResult {
    a.sh.count_poll(&id);
    let status =
        a.sh.with(false, |st, _| st.ops.by_status_id(&id).map(|o| o.status));
    ok(&StatusResponse {
        status: status.ok_or_else(ApiError::not_found)?,
    })
}

// ---- v2: billing ----------------------------------------------------------------------

async fn server_pricing(a: Authenticated, Path(Id { id }): Path<Id>) -> ApiResult {
    let p = a.sh.with(false, |st, _| st.server_pricing(&id));
    ok(&p.ok_or_else(ApiError::not_found)?)
}

async fn server_estimate(a: Authenticated, Path(Id { id }): Path<Id>) -> ApiResult {
    let e = a.sh.with(true, |st, now| st.server_estimate(&id, now));
    ok(&e.ok_or_else(ApiError::not_found)?)
}

async fn invoice(Path(Month { year, month }): Path<Month>, a: Authenticated) -> ApiResult {
    if !(1..=12).contains(&month) {
        return Err(ApiError::bad_request("The month must be between 1 and 12."));
    }
    ok(&a.sh.with(true, |st, now| st.invoice(year, month, now)))
}

// ---- v1 -------------------------------------------------------------------------------

fn v1<T: serde::Serialize>(status_code: i32, message: &str, body: T) -> ApiResult {
    let mut v = serde_json::to_value(body).unwrap_or(json!({}));
    if !v.is_object() {
        v = json!({});
    }
    let obj = v.as_object_mut().expect("object");
    obj.insert("Success".into(), json!(status_code == 0));
    obj.insert("Message".into(), json!(message));
    obj.insert("StatusCode".into(), json!(status_code));
    ok(&v)
}

fn v1_date(t: chrono::DateTime<chrono::Utc>) -> String {
    format!("/Date({})/", t.timestamp_millis())
}

#[derive(serde::Deserialize, Default)]
struct V1Logon {
    #[serde(rename = "APIKey", default)]
    api_key: String,
    #[serde(rename = "Password", default)]
    password: String,
}

async fn v1_logon(State(sh): Sh, body: Bytes) -> ApiResult {
    let req: V1Logon = parse_body(&body)?;
    let Some(session) = sign_in(&sh, &req.api_key, &req.password) else {
        return v1(100, "Invalid API key or password.", json!({}));
    };
    let mut resp = v1(0, "Successfully logged in.", json!({}))?;
    let cookie = format!("{V1_COOKIE}={}; path=/; HttpOnly", session.token);
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(resp)
}

fn field<T: DeserializeOwned>(v: &Value, key: &str) -> Option<T> {
    v.as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .and_then(|(_, v)| match v {
            // Form bodies carry numbers as strings.
            Value::String(s) => serde_json::from_str(s)
                .ok()
                .or_else(|| serde_json::from_value(v.clone()).ok()),
            other => serde_json::from_value(other.clone()).ok(),
        })
}

fn v1_status_name(s: QueueStatus, spaced: bool) -> &'static str {
    match s {
        QueueStatus::NotStarted | QueueStatus::Queued if spaced => "Not Started",
        QueueStatus::NotStarted | QueueStatus::Queued => "NotStarted",
        QueueStatus::Executing | QueueStatus::Running => "Executing",
        QueueStatus::Succeeded => "Succeeded",
        QueueStatus::Failed => "Failed",
        QueueStatus::Resumed => "Resumed",
        QueueStatus::Unknown => "Unknown",
    }
}

async fn v1_call(
    State(sh): Sh,
    headers: HeaderMap,
    Path((area, method)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    if !authorized(&sh, &headers) {
        return v1(
            100,
            "Authentication failed. Please log on first.",
            json!({}),
        );
    }
    let req: Value = parse_body::<Option<Value>>(&body)?.unwrap_or(json!({}));
    match (area.as_str(), method.as_str()) {
        ("blueprint", "getblueprints") => v1_getblueprints(&sh, &req),
        ("blueprint", "getblueprintdetails") => v1_getblueprintdetails(&sh, &req),
        ("blueprint", "getblueprintparameters") => v1_getblueprintparameters(&sh, &req),
        ("blueprint", "deployblueprint") => v1_deployblueprint(&sh, &req),
        ("blueprint", "getdeploymentstatus") | ("blueprint", "getblueprintstatus") => {
            v1_getdeploymentstatus(&sh, &req)
        }
        ("blueprint", "getpackages") => v1_getpackages(&sh, &req),
        ("blueprint", "getpendingpackages") => v1_getpendingpackages(&sh),
        ("blueprint", "publishpackage") => v1_publishpackage(&sh, &req),
        ("queue", "getrequeststatus") => v1_getrequeststatus(&sh, &req),
        ("billing", "getaccountsummary") => v1_getaccountsummary(&sh),
        _ => v1(3, &format!("Unknown method {area}/{method}."), json!({})),
    }
}

/// `Blueprint/GetBlueprints`: the catalog, optionally filtered by a name search.
fn v1_getblueprints(sh: &Arc<Shared>, req: &Value) -> ApiResult {
    let search: String = field(req, "Search").unwrap_or_default();
    let list = sh.with(false, |st, _| {
        st.catalog
            .blueprints
            .values()
            .filter(|b| {
                search.is_empty()
                    || b.definition
                        .metadata
                        .name
                        .to_ascii_lowercase()
                        .contains(&search.to_ascii_lowercase())
            })
            .map(|b| BlueprintSummary {
                id: b.id,
                name: b.definition.metadata.name.clone(),
            })
            .collect::<Vec<_>>()
    });
    v1(0, "Success", json!({ "Blueprints": list }))
}

/// `Blueprint/GetBlueprintDetails`.
fn v1_getblueprintdetails(sh: &Arc<Shared>, req: &Value) -> ApiResult {
    let id: u32 = field(req, "ID").unwrap_or(0);
    let d = sh.with(false, |st, _| {
        st.catalog.blueprints.get(&id).map(|b| {
            let m = &b.definition.metadata;
            BlueprintDetails {
                id,
                name: m.name.clone(),
                author: m.owner.clone(),
                capabilities: Vec::new(),
                description: m.description.clone(),
                status: 1,
                visibility: if m.visibility.eq_ignore_ascii_case("public") {
                    1
                } else {
                    2
                },
            }
        })
    });
    match d {
        Some(d) => v1(0, "Success", json!({ "BlueprintDetails": d })),
        None => v1(5, "Blueprint not found.", json!({})),
    }
}

/// `Blueprint/GetBlueprintParameters`: the build task's system parameters, then every
/// prompted parameter of the blueprint's packages, once each.
fn v1_getblueprintparameters(sh: &Arc<Shared>, req: &Value) -> ApiResult {
    let id: u32 = field(req, "ID").unwrap_or(0);
    let params = sh.with(false, |st, _| {
        let b = st.catalog.blueprints.get(&id)?;
        let mut out: Vec<BlueprintParameter> = [
            ("T3.BuildServerTask.Password", 4),
            ("T3.BuildServerTask.GroupID", 7),
            ("T3.BuildServerTask.Network", 1),
            ("T3.BuildServerTask.PrimaryDNS", 7),
            ("T3.BuildServerTask.SecondaryDNS", 7),
        ]
        .iter()
        .map(|(n, t)| BlueprintParameter {
            name: n.to_string(),
            options: Vec::new(),
            regex: String::new(),
            kind: *t,
        })
        .collect();
        for pid in b.definition.package_ids() {
            if let Some(p) = st.catalog.packages.get(&pid) {
                for mp in p.manifest.parameters.iter().filter(|mp| !mp.is_system()) {
                    if out.iter().any(|o| o.name == mp.variable) {
                        continue;
                    }
                    out.push(BlueprintParameter {
                        name: mp.variable.clone(),
                        options: mp
                            .options
                            .iter()
                            .map(|(n, v)| ParameterOption {
                                name: n.clone(),
                                value: v.clone(),
                            })
                            .collect(),
                        regex: mp.regex.clone().unwrap_or_default(),
                        kind: mp.kind.v1_code(),
                    });
                }
            }
        }
        Some(out)
    });
    match params {
        Some(p) => v1(0, "Success", json!({ "Parameters": p })),
        None => v1(5, "Blueprint not found.", json!({})),
    }
}

/// `Blueprint/DeployBlueprint`.
fn v1_deployblueprint(sh: &Arc<Shared>, req: &Value) -> ApiResult {
    let r: DeployBlueprintRequest = serde_json::from_value(req.clone())
        .map_err(|e| ApiError::bad_request(format!("The request is invalid: {e}")))?;
    match sh.with(true, |st, now| st.deploy_blueprint(&r, now)) {
        Ok(n) => v1(0, "Success", json!({ "RequestID": n })),
        Err((code, m)) => v1(code, &m, json!({})),
    }
}

/// `Blueprint/GetDeploymentStatus` (also answered as `GetBlueprintStatus`).
fn v1_getdeploymentstatus(sh: &Arc<Shared>, req: &Value) -> ApiResult {
    let id: u64 = field(req, "RequestID").unwrap_or(0);
    let status = sh.with(false, |st, now| {
        st.ops.get(&id).map(|op| {
            let step = op
                .plan
                .get(op.cursor.min(op.plan.len().saturating_sub(1)))
                .map(|s| {
                    format!("{:?}", s.action)
                        .split([' ', '{'])
                        .next()
                        .unwrap_or("")
                        .to_string()
                })
                .unwrap_or_default();
            DeploymentStatus {
                request_id: id,
                current_status: v1_status_name(op.status, false).into(),
                description: op.error.clone().unwrap_or_else(|| op.title.clone()),
                percent_complete: op.percent(),
                status_date: v1_date(op.finished.unwrap_or(now)),
                step,
                servers: op
                    .servers()
                    .iter()
                    .filter_map(|s| st.servers.get(s).map(|s| s.name.clone()))
                    .collect(),
            }
        })
    });
    match status {
        Some(s) => v1(0, "Success", s),
        None => v1(5, "Request not found.", json!({})),
    }
}

/// `Blueprint/GetPackages`, filtered by classification and visibility.
fn v1_getpackages(sh: &Arc<Shared>, req: &Value) -> ApiResult {
    let class: Option<i32> = field(req, "Classification");
    let vis: Option<i32> = field(req, "Visibility");
    let list = sh.with(false, |st, _| {
        st.catalog
            .packages
            .values()
            .filter(|p| class.is_none_or(|c| c == p.classification))
            .filter(|p| vis.is_none_or(|v| v == p.visibility || p.classification == 1))
            .map(|p| PackageSummary {
                id: p.manifest.uuid.clone(),
                name: p.manifest.name.clone(),
                classification: p.classification,
            })
            .collect::<Vec<_>>()
    });
    v1(0, "Success", json!({ "Packages": list }))
}

/// `Blueprint/GetPendingPackages`: uploaded, not yet published.
fn v1_getpendingpackages(sh: &Arc<Shared>) -> ApiResult {
    let list = sh.with(false, |st, _| {
        st.catalog
            .pending_packages
            .values()
            .map(|p| PackageSummary {
                id: String::new(),
                name: p.file_name.clone(),
                classification: 0,
            })
            .collect::<Vec<_>>()
    });
    v1(0, "Success", json!({ "Packages": list }))
}

/// `Blueprint/PublishPackage`: publishes an uploaded package and keeps its file for
/// local execution.
fn v1_publishpackage(sh: &Arc<Shared>, req: &Value) -> ApiResult {
    let r: PublishPackageRequest = serde_json::from_value(req.clone())
        .map_err(|e| ApiError::bad_request(format!("The request is invalid: {e}")))?;
    let outcome = sh.with(true, |st, now| {
        let uuid = st
            .catalog
            .pending_packages
            .get(&r.name)
            .map(|p| p.manifest.uuid.to_ascii_lowercase());
        st.publish_package(&r, now).map(|n| (n, uuid))
    });
    match outcome {
        Ok((n, uuid)) => {
            if let Some(uuid) = uuid {
                let from = sh.data_dir.join("pending").join(&r.name);
                let to = sh.data_dir.join("packages").join(format!("{uuid}.zip"));
                if let Err(e) = std::fs::copy(&from, &to) {
                    tracing::warn!(error = %e, "cannot copy the published package file");
                }
            }
            v1(0, "Success", json!({ "RequestID": n }))
        }
        Err((code, m)) => v1(code, &m, json!({})),
    }
}

/// `Queue/GetRequestStatus`.
fn v1_getrequeststatus(sh: &Arc<Shared>, req: &Value) -> ApiResult {
    let id: u64 = field(req, "RequestID").unwrap_or(0);
    let d = sh.with(false, |st, now| {
        st.ops.get(&id).map(|op| RequestDetails {
            request_id: id,
            request_title: op.title.clone(),
            progress_desc: op.error.clone().unwrap_or_default(),
            status_date: v1_date(op.finished.unwrap_or(now)),
            percent_complete: op.percent(),
            current_status: v1_status_name(op.status, true).into(),
            step_number: op.cursor as u32,
        })
    });
    match d {
        Some(d) => v1(0, "Success", json!({ "RequestDetails": d })),
        None => v1(5, "Request not found.", json!({})),
    }
}

/// `Billing/GetAccountSummary`.
fn v1_getaccountsummary(sh: &Arc<Shared>) -> ApiResult {
    let (mtd, hour) = sh.with(true, |st, now| {
        let mtd = st.account_month_total(&super::state::month_key(now), now);
        let hour: f64 = st.servers.values().map(|s| s.hourly()).sum();
        (mtd, hour)
    });
    let now = sh.clock.now();
    v1(
        0,
        "Success",
        json!({
            "AccountAlias": sh.alias,
            "MonthToDateTotal": (mtd * 100.0).round() / 100.0,
            "CurrentHour": (hour * 100000.0).round() / 100000.0,
            "PreviousHour": (hour * 100000.0).round() / 100000.0,
            "MonthlyEstimate": ((mtd + hour * Account::hours_left_in_month(now)) * 100.0).round() / 100.0,
            "OneTimeCharges": 0.0,
        }),
    )
}

// ---- emulator-only catalog endpoints ----------------------------------------------------

async fn upload_package(
    a: Authenticated,
    Query(q): Query<HashMap<String, String>>,
    body: Bytes,
) -> ApiResult {
    let name = q
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("name"))
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    if name.is_empty() || name.contains('/') || name.contains('\\') || name.starts_with('.') {
        return Err(ApiError::bad_request(
            "A plain file name is required (?name=package.zip).",
        ));
    }
    if body.len() > 4 * 1024 * 1024 {
        // The portal's browser upload limit; larger packages went through FTP.
        return Err(ApiError::bad_request("The package is larger than 4 MB."));
    }
    let manifest = certify_blueprint::Manifest::from_zip(&body)
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let dir = a.sh.data_dir.join("pending");
    std::fs::write(dir.join(&name), &body).map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot store the package: {e}"),
        )
    })?;
    let answer = UploadedPackage {
        file_name: name.clone(),
        package_id: manifest.uuid.clone(),
        name: manifest.name.clone(),
    };
    a.sh.with(true, |st, _| st.catalog.add_pending(&name, manifest));
    Ok(json_response(StatusCode::CREATED, &answer))
}

async fn register_blueprint(a: Authenticated, body: Bytes) -> ApiResult {
    let text =
        std::str::from_utf8(&body).map_err(|_| ApiError::bad_request("The body is not UTF-8."))?;
    let def = certify_blueprint::BlueprintDefinition::parse(text)
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let name = def.metadata.name.clone();
    let id =
        a.sh.with(true, |st, _| st.register_blueprint(def))
            .map_err(ApiError::bad_request)?;
    Ok(json_response(
        StatusCode::CREATED,
        &RegisteredBlueprint { id, name },
    ))
}

async fn build_log(a: Authenticated, Path(Id { id }): Path<Id>) -> ApiResult {
    let lines = a.sh.with(false, |st, _| {
        st.servers.find(&id).map(|s| s.build_log.clone())
    });
    ok(&json!({ "lines": lines.ok_or_else(ApiError::not_found)? }))
}

/// **Emulator only**: the account clock, so that a client measures durations (time to
/// value, the watchdog) in account time, whatever the clock scale the emulator was
/// started with.
async fn account_clock(a: Authenticated) -> ApiResult {
    ok(&json!({ "scale": a.sh.clock.scale(), "now": a.sh.clock.now().to_rfc3339() }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_parse_as_json_form_or_double_encoded_json() {
        let j: LoginRequest =
            parse_body(&Bytes::from_static(br#"{"username":"a","password":"b"}"#)).unwrap();
        assert_eq!(j.username, "a");
        let f: LoginRequest =
            parse_body(&Bytes::from_static(b"username=a&password=b%26c")).unwrap();
        assert_eq!(f.password, "b&c");
        let d: Vec<String> = parse_body(&Bytes::from_static(br#""[\"VA1CERTWEB01\"]""#)).unwrap();
        assert_eq!(d, vec!["VA1CERTWEB01"]);
        let e: Vec<String> = parse_body(&Bytes::new()).unwrap();
        assert!(e.is_empty());
        assert!(parse_body::<CreateGroup>(&Bytes::from_static(b"{bad")).is_err());
    }

    #[test]
    fn every_route_is_written_in_lower_case() {
        // Requests are lower-cased before routing, so a route with a capital never matches.
        for (path, _) in routes() {
            assert_eq!(path, path.to_ascii_lowercase());
        }
    }
}
