//! Typed v2 calls: data centers, groups, servers, power operations, packages, public IPs,
//! billing and invoices (`clc-api.md` §2), plus the emulator-only catalog uploads.

use std::path::Path;

use reqwest::Method;
use serde_json::{Value, json};

use super::{Body, Client, ClientError, Pending, Retry};
use crate::model::*;

/// A power or maintenance operation (`POST /v2/operations/{alias}/servers/{op}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PowerOp {
    /// Power on.
    PowerOn,
    /// Hard power off.
    PowerOff,
    /// Graceful shutdown.
    ShutDown,
    /// Reboot.
    Reboot,
    /// Hard reset.
    Reset,
    /// Pause.
    Pause,
    /// Enter maintenance mode.
    StartMaintenance,
    /// Leave maintenance mode.
    StopMaintenance,
}

impl PowerOp {
    /// The path segment.
    pub fn as_str(self) -> &'static str {
        match self {
            PowerOp::PowerOn => "powerOn",
            PowerOp::PowerOff => "powerOff",
            PowerOp::ShutDown => "shutDown",
            PowerOp::Reboot => "reboot",
            PowerOp::Reset => "reset",
            PowerOp::Pause => "pause",
            PowerOp::StartMaintenance => "startMaintenance",
            PowerOp::StopMaintenance => "stopMaintenance",
        }
    }
}

/// A server creation the API accepted.
#[derive(Debug, Clone)]
pub struct QueuedServer {
    /// The requested short name.
    pub requested_name: String,
    /// The server's UUID, when the create answer was received.
    pub uuid: Option<String>,
    /// The server's id, when it was found by lookup after an ambiguous failure.
    pub id: Option<String>,
    /// What to wait on: the build's queue status, or the server itself.
    pub pending: Pending,
}

/// The description tag a create uses to find its own server after an ambiguous failure.
fn create_tag(client: &Client) -> String {
    format!(
        "certify-{:08x}",
        crate::codec::mix(client.next_seq() ^ super::unix_now()) as u32
    )
}

impl Client {
    fn v2(&self, alias: &str, rest: &str) -> String {
        format!("/v2/{rest}/{alias}")
    }

    // ---- data centers ------------------------------------------------------------------

    /// `GET /v2/datacenters/{alias}`.
    pub async fn data_centers(&self) -> Result<Vec<DataCenter>, ClientError> {
        let alias = self.alias().await?;
        self.call_json(
            Method::GET,
            &self.v2(&alias, "datacenters"),
            Body::None,
            Retry::Idempotent,
        )
        .await
    }

    /// `GET /v2/datacenters/{alias}/{dc}?groupLinks=true`.
    pub async fn data_center(&self, dc: &str) -> Result<DataCenter, ClientError> {
        let alias = self.alias().await?;
        let path = format!("/v2/datacenters/{alias}/{dc}?groupLinks=true");
        self.call_json(Method::GET, &path, Body::None, Retry::Idempotent)
            .await
    }

    /// The id of a data center's root group ("<DC> Hardware").
    pub async fn root_group_id(&self, dc: &str) -> Result<String, ClientError> {
        let d = self.data_center(dc).await?;
        find_link(&d.links, "group")
            .and_then(|l| l.id.clone())
            .ok_or_else(|| ClientError::Decode {
                method: "GET".into(),
                path: format!("/v2/datacenters/{dc}"),
                detail: "no group link".into(),
            })
    }

    /// `GET /v2/datacenters/{alias}/{dc}/deploymentCapabilities`: templates and networks.
    pub async fn deployment_capabilities(
        &self,
        dc: &str,
    ) -> Result<DeploymentCapabilities, ClientError> {
        let alias = self.alias().await?;
        let path = format!("/v2/datacenters/{alias}/{dc}/deploymentCapabilities");
        self.call_json(Method::GET, &path, Body::None, Retry::Idempotent)
            .await
    }

    // ---- groups ------------------------------------------------------------------------

    /// `GET /v2/groups/{alias}/{id}`.
    pub async fn group(&self, id: &str) -> Result<Group, ClientError> {
        let alias = self.alias().await?;
        self.call_json(
            Method::GET,
            &format!("/v2/groups/{alias}/{id}"),
            Body::None,
            Retry::Idempotent,
        )
        .await
    }

    /// `GET /v2/groups/{alias}/{id}?serverDetail=detailed`: the group with its servers.
    pub async fn group_with_servers(&self, id: &str) -> Result<Group, ClientError> {
        let alias = self.alias().await?;
        let path = format!("/v2/groups/{alias}/{id}?serverDetail=detailed");
        self.call_json(Method::GET, &path, Body::None, Retry::Idempotent)
            .await
    }

    /// `POST /v2/groups/{alias}`. After an ambiguous failure the parent is searched for a
    /// group of that name before anything is re-sent.
    pub async fn create_group(
        &self,
        name: &str,
        description: &str,
        parent_id: &str,
    ) -> Result<Group, ClientError> {
        let alias = self.alias().await?;
        let body = serde_json::to_value(CreateGroup {
            name: name.to_string(),
            description: Some(description.to_string()),
            parent_group_id: parent_id.to_string(),
        })
        .expect("serializable");
        let path = self.v2(&alias, "groups");
        let attempts = self.inner.retry.max_attempts.max(1);
        let mut last = None;
        for attempt in 1..=attempts {
            match self
                .call_json::<Group>(Method::POST, &path, Body::Json(body.clone()), Retry::Once)
                .await
            {
                Ok(g) => return Ok(g),
                Err(e) if e.is_transient() => {
                    let parent = self.group(parent_id).await?;
                    if let Some(g) = parent.groups.iter().find(|g| g.name == name) {
                        return Ok(g.clone());
                    }
                    last = Some(e);
                    self.backoff(attempt).await;
                }
                Err(e) => return Err(e),
            }
        }
        Err(ambiguous("create group", last))
    }

    /// `DELETE /v2/groups/{alias}/{id}` (deletes its servers too).
    pub async fn delete_group(&self, id: &str) -> Result<Pending, ClientError> {
        let alias = self.alias().await?;
        let link: Link = self
            .call_json(
                Method::DELETE,
                &format!("/v2/groups/{alias}/{id}"),
                Body::None,
                Retry::Idempotent,
            )
            .await?;
        Ok(Pending::from_link(&link))
    }

    // ---- servers -----------------------------------------------------------------------

    /// `POST /v2/servers/{alias}`. Never blindly repeated: the request carries a tag in
    /// its description (one is added when the description is empty), and after an
    /// ambiguous failure (5xx, dropped connection) the group is searched for a server with
    /// that name prefix and description before the create is re-sent.
    pub async fn create_server(&self, request: &CreateServer) -> Result<QueuedServer, ClientError> {
        let alias = self.alias().await?;
        let mut req = request.clone();
        if req.description.as_deref().unwrap_or("").is_empty() {
            req.description = Some(create_tag(self));
        }
        if req.kind.is_none() {
            req.kind = Some("standard".into());
        }
        let body = serde_json::to_value(&req).expect("serializable");
        let path = self.v2(&alias, "servers");
        let attempts = self.inner.retry.max_attempts.max(1);
        let mut last = None;
        for attempt in 1..=attempts {
            match self
                .call_json::<QueuedItem>(Method::POST, &path, Body::Json(body.clone()), Retry::Once)
                .await
            {
                Ok(item) => {
                    if !item.is_queued {
                        return Err(ClientError::ItemFailed {
                            server: req.name.clone(),
                            message: item.error_message.unwrap_or_else(|| "not queued".into()),
                        });
                    }
                    let uuid = find_link(&item.links, "self").and_then(|l| l.id.clone());
                    let pending = match item.status_id() {
                        Some(s) => Pending::Queue(s.to_string()),
                        None => Pending::ServerBuilt(uuid.clone().unwrap_or_default()),
                    };
                    return Ok(QueuedServer {
                        requested_name: req.name.clone(),
                        uuid,
                        id: None,
                        pending,
                    });
                }
                Err(e) if e.is_transient() => {
                    if let Some(id) = self.find_created_server(&req).await? {
                        return Ok(QueuedServer {
                            requested_name: req.name.clone(),
                            uuid: None,
                            id: Some(id.clone()),
                            pending: Pending::ServerBuilt(id),
                        });
                    }
                    last = Some(e);
                    self.backoff(attempt).await;
                }
                Err(e) => return Err(e),
            }
        }
        Err(ambiguous("create server", last))
    }

    async fn find_created_server(&self, req: &CreateServer) -> Result<Option<String>, ClientError> {
        let group = self.group_with_servers(&req.group_id).await?;
        let alias = self.alias().await?.to_ascii_uppercase();
        let infix = format!("{alias}{}", req.name.to_ascii_uppercase());
        Ok(group
            .servers
            .unwrap_or_default()
            .into_iter()
            .find(|s| {
                s.name.len() > infix.len() + 3
                    && s.name[3..].starts_with(&infix)
                    && Some(&s.description) == req.description.as_ref()
            })
            .map(|s| s.id))
    }

    /// `GET /v2/servers/{alias}/{id}`.
    pub async fn server(&self, id: &str) -> Result<Server, ClientError> {
        let alias = self.alias().await?;
        self.call_json(
            Method::GET,
            &format!("/v2/servers/{alias}/{id}"),
            Body::None,
            Retry::Idempotent,
        )
        .await
    }

    /// `GET /v2/servers/{alias}/{uuid}?uuid=true`.
    pub async fn server_by_uuid(&self, uuid: &str) -> Result<Server, ClientError> {
        let alias = self.alias().await?;
        let path = format!("/v2/servers/{alias}/{uuid}?uuid=true");
        self.call_json(Method::GET, &path, Body::None, Retry::Idempotent)
            .await
    }

    /// Every server in a group and its descendants.
    pub async fn servers_in_group(&self, group_id: &str) -> Result<Vec<Server>, ClientError> {
        fn walk(g: &Group, out: &mut Vec<Server>) {
            out.extend(g.servers.clone().unwrap_or_default());
            for c in &g.groups {
                walk(c, out);
            }
        }
        let g = self.group_with_servers(group_id).await?;
        let mut out = Vec::new();
        walk(&g, &mut out);
        Ok(out)
    }

    /// `DELETE /v2/servers/{alias}/{id}`. A server already queued for deletion (for
    /// instance by a retried request whose first answer was lost) is not an error: the
    /// returned [`Pending`] then waits for the server to disappear.
    pub async fn delete_server(&self, id: &str) -> Result<Pending, ClientError> {
        let alias = self.alias().await?;
        let path = format!("/v2/servers/{alias}/{id}");
        match self
            .call_json::<QueuedItem>(Method::DELETE, &path, Body::None, Retry::Idempotent)
            .await
        {
            Ok(item) => Ok(item
                .status_id()
                .map(|s| Pending::Queue(s.to_string()))
                .unwrap_or_else(|| Pending::ServerDeleted(id.to_string()))),
            Err(e) if e.status() == Some(400) => match self.server(id).await {
                Ok(s) if s.status == "queuedForDelete" => {
                    Ok(Pending::ServerDeleted(id.to_string()))
                }
                Err(nf) if nf.is_not_found() => Ok(Pending::Done),
                _ => Err(e),
            },
            Err(e) => Err(e),
        }
    }

    /// `PATCH /v2/servers/{alias}/{id}` setting cpu and/or memory.
    pub async fn set_cpu_memory(
        &self,
        id: &str,
        cpu: Option<u32>,
        memory_gb: Option<u32>,
    ) -> Result<Pending, ClientError> {
        let alias = self.alias().await?;
        let mut ops = Vec::new();
        if let Some(c) = cpu {
            ops.push(json!({"op": "set", "member": "cpu", "value": c}));
        }
        if let Some(m) = memory_gb {
            ops.push(json!({"op": "set", "member": "memory", "value": m}));
        }
        let path = format!("/v2/servers/{alias}/{id}");
        let (status, bytes) = self
            .call(
                Method::PATCH,
                &path,
                Body::Json(Value::Array(ops)),
                Retry::Idempotent,
            )
            .await?;
        if status == reqwest::StatusCode::NO_CONTENT || bytes.is_empty() {
            return Ok(Pending::Done);
        }
        let link: Link = super::decode("PATCH", &path, &bytes)?;
        Ok(Pending::from_link(&link))
    }

    /// `GET /v2/servers/{alias}/{id}/credentials`.
    pub async fn server_credentials(&self, id: &str) -> Result<super::Credentials, ClientError> {
        let alias = self.alias().await?;
        let v: Value = self
            .call_json(
                Method::GET,
                &format!("/v2/servers/{alias}/{id}/credentials"),
                Body::None,
                Retry::Idempotent,
            )
            .await?;
        Ok(super::Credentials::new(
            v["userName"].as_str().unwrap_or_default(),
            v["password"].as_str().unwrap_or_default(),
        ))
    }

    // ---- operations --------------------------------------------------------------------

    async fn batch(
        &self,
        op: &str,
        body: Value,
        retry: Retry,
    ) -> Result<Vec<QueuedItem>, ClientError> {
        let alias = self.alias().await?;
        let path = format!("/v2/operations/{alias}/servers/{op}");
        self.call_json(Method::POST, &path, Body::Json(body), retry)
            .await
    }

    /// A power operation on servers. Safe to repeat (a server already in the desired
    /// state is answered "already in desired state", which counts as done). Returns what
    /// to wait on; any other per-item `errorMessage` is an [`ClientError::ItemFailed`].
    pub async fn power(&self, op: PowerOp, servers: &[&str]) -> Result<Vec<Pending>, ClientError> {
        let items = self
            .batch(op.as_str(), json!(servers), Retry::Idempotent)
            .await?;
        items_to_pending(items)
    }

    /// `executePackage` on servers. Not repeated after an ambiguous failure (running a
    /// package twice is not harmless, and nothing in the API says whether it ran).
    pub async fn execute_package(
        &self,
        servers: &[&str],
        package: &PackageRef,
    ) -> Result<Vec<Pending>, ClientError> {
        let body = serde_json::to_value(ExecutePackage {
            servers: servers.iter().map(|s| s.to_string()).collect(),
            package: package.clone(),
        })
        .expect("serializable");
        match self.batch("executePackage", body, Retry::Once).await {
            Ok(items) => items_to_pending(items),
            Err(e) if e.is_transient() => Err(ambiguous("execute package", Some(e))),
            Err(e) => Err(e),
        }
    }

    // ---- public IPs --------------------------------------------------------------------

    /// `POST /v2/servers/{alias}/{id}/publicIPAddresses`. After an ambiguous failure the
    /// server is searched for a new public IP with the same ports before re-sending.
    pub async fn add_public_ip(
        &self,
        server: &str,
        spec: &PublicIpSpec,
    ) -> Result<Pending, ClientError> {
        let alias = self.alias().await?;
        let before = self.server(server).await?.public_ips();
        let path = format!("/v2/servers/{alias}/{server}/publicIPAddresses");
        let body = serde_json::to_value(spec).expect("serializable");
        let attempts = self.inner.retry.max_attempts.max(1);
        let mut last = None;
        for attempt in 1..=attempts {
            match self
                .call_json::<Link>(Method::POST, &path, Body::Json(body.clone()), Retry::Once)
                .await
            {
                Ok(link) => return Ok(Pending::from_link(&link)),
                Err(e) if e.is_transient() => {
                    let now = self.server(server).await?.public_ips();
                    for ip in now.iter().filter(|ip| !before.contains(ip)) {
                        if let Ok(found) = self.public_ip(server, ip).await
                            && found.ports == spec.ports
                        {
                            return Ok(Pending::Done);
                        }
                    }
                    last = Some(e);
                    self.backoff(attempt).await;
                }
                Err(e) => return Err(e),
            }
        }
        Err(ambiguous("add public IP", last))
    }

    /// `GET /v2/servers/{alias}/{id}/publicIPAddresses/{ip}`.
    pub async fn public_ip(&self, server: &str, ip: &str) -> Result<PublicIpSpec, ClientError> {
        let alias = self.alias().await?;
        let path = format!("/v2/servers/{alias}/{server}/publicIPAddresses/{ip}");
        self.call_json(Method::GET, &path, Body::None, Retry::Idempotent)
            .await
    }

    /// `DELETE /v2/servers/{alias}/{id}/publicIPAddresses/{ip}`.
    pub async fn delete_public_ip(&self, server: &str, ip: &str) -> Result<Pending, ClientError> {
        let alias = self.alias().await?;
        let path = format!("/v2/servers/{alias}/{server}/publicIPAddresses/{ip}");
        match self
            .call_json::<Link>(Method::DELETE, &path, Body::None, Retry::Idempotent)
            .await
        {
            Ok(link) => Ok(Pending::from_link(&link)),
            // Gone already (a retried delete whose first answer was lost).
            Err(e) if e.is_not_found() => Ok(Pending::Done),
            Err(e) => Err(e),
        }
    }

    // ---- billing -----------------------------------------------------------------------

    /// `GET /v2/groups/{alias}/{id}/billing`.
    pub async fn group_billing(&self, group_id: &str) -> Result<GroupBilling, ClientError> {
        let alias = self.alias().await?;
        let path = format!("/v2/groups/{alias}/{group_id}/billing");
        self.call_json(Method::GET, &path, Body::None, Retry::Idempotent)
            .await
    }

    /// `GET /v2/billing/{alias}/serverPricing/{id}`: hourly unit prices.
    pub async fn server_pricing(&self, id: &str) -> Result<ServerPricing, ClientError> {
        let alias = self.alias().await?;
        let path = format!("/v2/billing/{alias}/serverPricing/{id}");
        self.call_json(Method::GET, &path, Body::None, Retry::Idempotent)
            .await
    }

    /// `GET /v2/billing/{alias}/estimate-server/{id}`.
    pub async fn server_estimate(&self, id: &str) -> Result<ServerEstimate, ClientError> {
        let alias = self.alias().await?;
        let path = format!("/v2/billing/{alias}/estimate-server/{id}");
        self.call_json(Method::GET, &path, Body::None, Retry::Idempotent)
            .await
    }

    /// `GET /v2/invoice/{alias}/{year}/{month}`.
    pub async fn invoice(&self, year: i32, month: u32) -> Result<Invoice, ClientError> {
        let alias = self.alias().await?;
        let path = format!("/v2/invoice/{alias}/{year}/{month}");
        self.call_json(Method::GET, &path, Body::None, Retry::Idempotent)
            .await
    }

    // ---- emulator-only -------------------------------------------------------------------

    /// **Emulator only** (`POST /emulator/packages/{alias}`): uploads a package zip so it
    /// waits to be published, like the portal upload or FTP on the real platform (which
    /// have no API). Publish it with [`Client::publish_package`].
    pub async fn upload_package(
        &self,
        file_name: &str,
        zip: Vec<u8>,
    ) -> Result<UploadedPackage, ClientError> {
        let alias = self.alias().await?;
        let name: String = form_urlencoded_component(file_name);
        let path = format!("/emulator/packages/{alias}?name={name}");
        self.call_json(
            Method::POST,
            &path,
            Body::Bytes(zip, "application/zip"),
            Retry::Idempotent,
        )
        .await
    }

    /// **Emulator only**: zips a package directory (with its `package.manifest`) and
    /// uploads it as `<dir name>.zip`.
    pub async fn upload_package_dir(&self, dir: &Path) -> Result<UploadedPackage, ClientError> {
        let zip = certify_blueprint::zip_dir(dir)?;
        let name = format!(
            "{}.zip",
            dir.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "package".into())
        );
        self.upload_package(&name, zip).await
    }

    /// **Emulator only** (`POST /emulator/blueprints/{alias}`): registers a blueprint from
    /// its `bpformation` JSON definition, as the portal designer does on the real platform.
    /// Returns its v1 id.
    pub async fn register_blueprint(
        &self,
        definition_json: &str,
    ) -> Result<RegisteredBlueprint, ClientError> {
        let alias = self.alias().await?;
        let v: Value = serde_json::from_str(definition_json).map_err(|e| ClientError::Decode {
            method: "POST".into(),
            path: "/emulator/blueprints".into(),
            detail: format!("the definition is not JSON: {e}"),
        })?;
        self.call_json(
            Method::POST,
            &format!("/emulator/blueprints/{alias}"),
            Body::Json(v),
            Retry::Once,
        )
        .await
    }

    /// How many times faster than real time the account's clock runs: what an emulator
    /// says (`GET /emulator/clock/{alias}`), else 1 — a real account lives in real time
    /// and has no such endpoint.
    pub async fn clock_scale(&self) -> Result<f64, ClientError> {
        let alias = self.alias().await?;
        let answer: Result<Value, ClientError> = self
            .call_json(
                Method::GET,
                &format!("/emulator/clock/{alias}"),
                Body::None,
                Retry::Idempotent,
            )
            .await;
        match answer {
            Ok(v) => v
                .get("scale")
                .and_then(Value::as_f64)
                .filter(|s| s.is_finite() && *s > 0.0)
                .ok_or_else(|| ClientError::Decode {
                    method: "GET".into(),
                    path: "/emulator/clock".into(),
                    detail: format!("no positive `scale` in {v}"),
                }),
            Err(ClientError::Api { status: 404, .. }) => Ok(1.0),
            Err(e) => Err(e),
        }
    }

    /// **Emulator only**: a server's build log (package output in Local mode).
    pub async fn build_log(&self, server: &str) -> Result<Vec<String>, ClientError> {
        let alias = self.alias().await?;
        let v: Value = self
            .call_json(
                Method::GET,
                &format!("/emulator/servers/{alias}/{server}/buildLog"),
                Body::None,
                Retry::Idempotent,
            )
            .await?;
        Ok(v["lines"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|l| l.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default())
    }
}

fn form_urlencoded_component(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn ambiguous(what: &str, last: Option<ClientError>) -> ClientError {
    ClientError::Ambiguous {
        what: what.to_string(),
        detail: last
            .map(|e| e.to_string())
            .unwrap_or_else(|| "no answer".into()),
    }
}

fn items_to_pending(items: Vec<QueuedItem>) -> Result<Vec<Pending>, ClientError> {
    let mut out = Vec::new();
    for item in items {
        if item.is_queued {
            if let Some(s) = item.status_id() {
                out.push(Pending::Queue(s.to_string()));
            }
        } else {
            let msg = item.error_message.unwrap_or_default();
            if msg != "The server already in desired state." {
                return Err(ClientError::ItemFailed {
                    server: item.server,
                    message: msg,
                });
            }
        }
    }
    out.dedup();
    Ok(out)
}
