//! Wire types of the CLC API, shared by the client (which decodes them) and the emulator
//! (which encodes them), so the two cannot drift apart.
//!
//! Field names follow the real API: camelCase for v2 (`clc-api.md` §2), PascalCase for the
//! v1 Blueprint API (§4.1). Decoding is lenient (`#[serde(default)]`) because real
//! responses omit fields freely, e.g. `details` while a server is being built.

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// Formats a timestamp as the API does: ISO-8601 UTC with whole seconds
/// (`2014-05-16T23:49:25Z`); the Python SDK parses exactly this shape.
pub fn format_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A hypermedia link (`clc-api.md` §1, links framework). GET is implied when `verbs` is absent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Link {
    /// Relation, e.g. `self`, `status`, `group`, `billing`.
    pub rel: String,
    /// Absolute path on the API host, e.g. `/v2/operations/altd/status/va1-12`.
    pub href: String,
    /// Id of the linked entity, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Name of the linked entity, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Allowed HTTP verbs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verbs: Option<Vec<String>>,
}

impl Link {
    /// A link with only `rel` and `href`.
    pub fn new(rel: &str, href: impl Into<String>) -> Self {
        Link {
            rel: rel.to_string(),
            href: href.into(),
            ..Link::default()
        }
    }

    /// Sets the `id`.
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// Sets the `name`.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Sets the `verbs`.
    pub fn with_verbs(mut self, verbs: &[&str]) -> Self {
        self.verbs = Some(verbs.iter().map(|v| v.to_string()).collect());
        self
    }
}

/// Finds the first link with relation `rel`.
pub fn find_link<'a>(links: &'a [Link], rel: &str) -> Option<&'a Link> {
    links.iter().find(|l| l.rel == rel)
}

/// Accepts a number given either as a JSON number or as a string (form-encoded bodies and
/// the Python SDK send numbers as strings).
pub fn lenient_u32<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let v = Value::deserialize(d)?;
    match &v {
        Value::Number(n) => n
            .as_u64()
            .or_else(|| n.as_f64().map(|f| f as u64))
            .map(|n| n as u32)
            .ok_or_else(|| serde::de::Error::custom("expected a whole number")),
        Value::String(s) => s
            .trim()
            .parse()
            .map_err(|_| serde::de::Error::custom("expected a whole number")),
        Value::Null => Ok(0),
        _ => Err(serde::de::Error::custom("expected a whole number")),
    }
}

fn lenient_opt_u32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    let v = Value::deserialize(d)?;
    if v.is_null() {
        return Ok(None);
    }
    lenient_u32(v).map(Some).map_err(serde::de::Error::custom)
}

fn lenient_bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Bool(b) => b,
        Value::String(s) => s.eq_ignore_ascii_case("true"),
        _ => false,
    })
}

fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// `POST /v2/authentication/login` request.
#[derive(Clone, Serialize, Deserialize, Default)]
pub struct LoginRequest {
    /// API user name.
    #[serde(default)]
    pub username: String,
    /// Password; never printed (see the manual `Debug`).
    #[serde(default)]
    pub password: String,
}

impl std::fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginRequest")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// `POST /v2/authentication/login` response.
#[derive(Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct LoginResponse {
    /// The user's name.
    pub user_name: String,
    /// Account alias, e.g. `ALTD`.
    pub account_alias: String,
    /// Primary data center, e.g. `VA1`.
    pub location_alias: String,
    /// Roles, e.g. `AccountAdmin`.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Bearer token (a JWT); never printed.
    pub bearer_token: String,
}

impl std::fmt::Debug for LoginResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginResponse")
            .field("user_name", &self.user_name)
            .field("account_alias", &self.account_alias)
            .field("location_alias", &self.location_alias)
            .field("roles", &self.roles)
            .field("bearer_token", &"<redacted>")
            .finish()
    }
}

/// An API error body: `{"message": ...}`, with `modelState` on validation errors.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    /// Human-readable message.
    #[serde(default)]
    pub message: String,
    /// Field-level validation messages, keyed like `body.name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_state: Option<BTreeMap<String, Vec<String>>>,
}

/// A data center, from `GET /v2/datacenters/{alias}[/{dc}]`.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct DataCenter {
    /// Lower-case id, e.g. `va1`.
    pub id: String,
    /// Display name, e.g. `VA1 - US East (Sterling)`.
    pub name: String,
    /// Links; with `groupLinks=true` the `group` link names the root group.
    #[serde(default)]
    pub links: Vec<Link>,
}

/// A deployable network in [`DeploymentCapabilities`].
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct DeployableNetwork {
    /// Name, e.g. `vlan_733_10.55.233`.
    pub name: String,
    /// Network id to pass as `networkId` on create.
    pub network_id: String,
    /// Always `private` here.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// Owning account alias.
    #[serde(rename = "accountID", default)]
    pub account_id: String,
}

/// A server template in [`DeploymentCapabilities`].
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Template {
    /// Template name, used as `sourceServerId`.
    pub name: String,
    /// OS type, e.g. `centOS6_64Bit`.
    #[serde(default)]
    pub os_type: String,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// Size of the template's disks.
    #[serde(rename = "storageSizeGB", default)]
    pub storage_size_gb: u32,
    /// Capabilities, e.g. `cpuAutoscale`.
    #[serde(default)]
    pub capabilities: Vec<String>,
    /// Reserved drive paths.
    #[serde(default)]
    pub reserved_drive_paths: Vec<String>,
}

/// `GET /v2/datacenters/{alias}/{dc}/deploymentCapabilities`.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentCapabilities {
    /// Whether the DC accepts deployments.
    #[serde(default)]
    pub data_center_enabled: bool,
    /// Whether VM import is available.
    #[serde(rename = "importVMEnabled", default)]
    pub import_vm_enabled: bool,
    /// Whether premium storage is offered.
    #[serde(default)]
    pub supports_premium_storage: bool,
    /// Whether shared load balancers are offered.
    #[serde(default)]
    pub supports_shared_load_balancer: bool,
    /// Whether bare metal is offered.
    #[serde(default)]
    pub supports_bare_metal_servers: bool,
    /// Networks a server can be deployed on.
    #[serde(default)]
    pub deployable_networks: Vec<DeployableNetwork>,
    /// Templates a server can be built from.
    #[serde(default)]
    pub templates: Vec<Template>,
    /// Importable OS types (kept opaque).
    #[serde(rename = "importableOSTypes", default)]
    pub importable_os_types: Vec<Value>,
}

/// Audit information on groups and servers.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ChangeInfo {
    /// Creation time (ISO-8601, whole seconds).
    #[serde(default)]
    pub created_date: String,
    /// Creator.
    #[serde(default)]
    pub created_by: String,
    /// Last modification time.
    #[serde(default)]
    pub modified_date: String,
    /// Last modifier.
    #[serde(default)]
    pub modified_by: String,
}

/// A group, from `GET /v2/groups/{alias}/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    /// Group id.
    pub id: String,
    /// Name, e.g. `Default Group`.
    pub name: String,
    /// Description (never null: the Python SDK lower-cases it).
    #[serde(default, deserialize_with = "null_as_default")]
    pub description: String,
    /// Data center, e.g. `VA1`.
    #[serde(default)]
    pub location_id: String,
    /// `default`, `archive` or `templates`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// `active`.
    #[serde(default)]
    pub status: String,
    /// Number of servers directly in the group.
    #[serde(default)]
    pub servers_count: u32,
    /// Child groups, recursively.
    #[serde(default)]
    pub groups: Vec<Group>,
    /// Links; one `server` link per server in the group.
    #[serde(default)]
    pub links: Vec<Link>,
    /// Audit information.
    #[serde(default)]
    pub change_info: ChangeInfo,
    /// Custom fields (kept opaque).
    #[serde(default)]
    pub custom_fields: Vec<Value>,
    /// Servers, only with `?serverDetail=detailed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub servers: Option<Vec<Server>>,
}

impl Group {
    /// Ids of the servers directly in this group (from its `server` links).
    pub fn server_ids(&self) -> Vec<String> {
        self.links
            .iter()
            .filter(|l| l.rel == "server")
            .filter_map(|l| l.id.clone())
            .collect()
    }

    /// Finds a group by name (case-insensitive) in this group's subtree, itself included.
    pub fn find_by_name(&self, name: &str) -> Option<&Group> {
        if self.name.eq_ignore_ascii_case(name) {
            return Some(self);
        }
        self.groups.iter().find_map(|g| g.find_by_name(name))
    }
}

/// `POST /v2/groups/{alias}` request.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct CreateGroup {
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Parent group id.
    #[serde(default)]
    pub parent_group_id: String,
}

/// A package to run on a server: in create-server `packages` and in `executePackage`.
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PackageRef {
    /// Package UUID.
    pub package_id: String,
    /// Parameter values by variable name.
    #[serde(default, deserialize_with = "null_as_default")]
    pub parameters: BTreeMap<String, String>,
}

/// An additional disk on create.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct DiskSpec {
    /// Mount path (partitioned disks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Size in GB (≤ 1024).
    #[serde(rename = "sizeGB", deserialize_with = "lenient_u32")]
    pub size_gb: u32,
    /// `raw` or `partitioned`.
    #[serde(rename = "type", default)]
    pub kind: String,
}

/// `POST /v2/servers/{alias}` request (`clc-api.md` §2.3). Optional fields accept `null`,
/// as the Python SDK sends them.
#[derive(Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct CreateServer {
    /// 1–8 letters, digits or dashes; becomes `<DC><ALIAS><name><NN>`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Group id.
    #[serde(default, deserialize_with = "null_as_default")]
    pub group_id: String,
    /// Template name or server to clone.
    #[serde(default, deserialize_with = "null_as_default")]
    pub source_server_id: String,
    /// Managed OS.
    #[serde(rename = "isManagedOS", default, deserialize_with = "lenient_bool")]
    pub is_managed_os: bool,
    /// Primary DNS.
    #[serde(
        rename = "primaryDns",
        alias = "primaryDNS",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub primary_dns: Option<String>,
    /// Secondary DNS.
    #[serde(
        rename = "secondaryDns",
        alias = "secondaryDNS",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub secondary_dns: Option<String>,
    /// Network id; auto-chosen when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_id: Option<String>,
    /// Fixed IP address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_address: Option<String>,
    /// Administrator password; generated when absent. Never printed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Number of vCPUs, 1–16.
    #[serde(default, deserialize_with = "lenient_opt_u32")]
    pub cpu: Option<u32>,
    /// Memory in GB, 1–128.
    #[serde(rename = "memoryGB", default, deserialize_with = "lenient_opt_u32")]
    pub memory_gb: Option<u32>,
    /// `standard`, `hyperscale` or `bareMetal`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// `standard`, `premium` or `hyperscale`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_type: Option<String>,
    /// Additional disks.
    #[serde(default, deserialize_with = "null_as_default")]
    pub additional_disks: Vec<DiskSpec>,
    /// Auto-delete time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<String>,
    /// Blueprint packages to run after the build.
    #[serde(default, deserialize_with = "null_as_default")]
    pub packages: Vec<PackageRef>,
    /// Custom fields (kept opaque).
    #[serde(default, deserialize_with = "null_as_default")]
    pub custom_fields: Vec<Value>,
}

impl std::fmt::Debug for CreateServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreateServer")
            .field("name", &self.name)
            .field("description", &self.description)
            .field("group_id", &self.group_id)
            .field("source_server_id", &self.source_server_id)
            .field("cpu", &self.cpu)
            .field("memory_gb", &self.memory_gb)
            .field("kind", &self.kind)
            .field("storage_type", &self.storage_type)
            .field("network_id", &self.network_id)
            .field("packages", &self.packages)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

/// One item of a queued response: create/delete server (a single object) and the batch
/// operations (an array of these).
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct QueuedItem {
    /// Server name (the requested short name on create).
    #[serde(default)]
    pub server: String,
    /// Whether the work was queued.
    #[serde(default)]
    pub is_queued: bool,
    /// `status` link, and on create a `self` link by UUID.
    #[serde(default)]
    pub links: Vec<Link>,
    /// Why the item was not queued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
}

impl QueuedItem {
    /// The queue status id from the `status` link.
    pub fn status_id(&self) -> Option<&str> {
        find_link(&self.links, "status").and_then(|l| l.id.as_deref())
    }
}

/// An IP address of a server.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct IpAddress {
    /// Private address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internal: Option<String>,
    /// Public address NATed to `internal`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public: Option<String>,
}

/// A disk in [`ServerDetails`].
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct DiskInfo {
    /// `0:0`, `0:1`, ...
    pub id: String,
    /// Size in GB.
    #[serde(rename = "sizeGB")]
    pub size_gb: u32,
    /// Mount paths.
    #[serde(default)]
    pub partition_paths: Vec<String>,
}

/// `details` of a server; absent while it is being built.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ServerDetails {
    /// Addresses.
    #[serde(default)]
    pub ip_addresses: Vec<IpAddress>,
    /// Alert policies (kept opaque).
    #[serde(default)]
    pub alert_policies: Vec<Value>,
    /// vCPUs.
    #[serde(default)]
    pub cpu: u32,
    /// Number of disks.
    #[serde(default)]
    pub disk_count: u32,
    /// Host name (the lower-case server name).
    #[serde(default)]
    pub host_name: String,
    /// Maintenance mode.
    #[serde(default)]
    pub in_maintenance_mode: bool,
    /// Memory in MB (the API switches units here).
    #[serde(rename = "memoryMB", default)]
    pub memory_mb: u32,
    /// `started`, `stopped` or `paused`.
    #[serde(default)]
    pub power_state: String,
    /// Total storage in GB.
    #[serde(rename = "storageGB", default)]
    pub storage_gb: u32,
    /// Disks.
    #[serde(default)]
    pub disks: Vec<DiskInfo>,
    /// Partitions (kept opaque).
    #[serde(default)]
    pub partitions: Vec<Value>,
    /// Snapshots (kept opaque).
    #[serde(default)]
    pub snapshots: Vec<Value>,
    /// Custom fields (kept opaque).
    #[serde(default)]
    pub custom_fields: Vec<Value>,
}

/// A server, from `GET /v2/servers/{alias}/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Server {
    /// Lower-case id, e.g. `va1altdweb01`.
    pub id: String,
    /// Upper-case name, e.g. `VA1ALTDWEB01`.
    pub name: String,
    /// Description.
    #[serde(default, deserialize_with = "null_as_default")]
    pub description: String,
    /// Group id.
    #[serde(default)]
    pub group_id: String,
    /// Whether it is a template.
    #[serde(default)]
    pub is_template: bool,
    /// Data center, e.g. `VA1`.
    #[serde(default)]
    pub location_id: String,
    /// OS type, e.g. `centOS6_64Bit`.
    #[serde(default)]
    pub os_type: String,
    /// OS enum, e.g. `centOS6_64Bit`.
    #[serde(default)]
    pub os: String,
    /// `underConstruction`, `active`, `queuedForDelete`, ...
    #[serde(default)]
    pub status: String,
    /// Details; absent while the build runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<ServerDetails>,
    /// `standard`, `hyperscale` or `bareMetal`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// `standard`, `premium` or `hyperscale`.
    #[serde(default)]
    pub storage_type: String,
    /// Audit information.
    #[serde(default)]
    pub change_info: ChangeInfo,
    /// Links (`self`, `group`, `billing`, `publicIPAddress`, ...).
    #[serde(default)]
    pub links: Vec<Link>,
}

impl Server {
    /// The server's private address, once built.
    pub fn internal_ip(&self) -> Option<&str> {
        self.details
            .as_ref()?
            .ip_addresses
            .iter()
            .find_map(|a| a.internal.as_deref())
    }

    /// The server's public addresses.
    pub fn public_ips(&self) -> Vec<String> {
        self.details
            .iter()
            .flat_map(|d| d.ip_addresses.iter())
            .filter_map(|a| a.public.clone())
            .collect()
    }

    /// The power state, once built.
    pub fn power_state(&self) -> Option<&str> {
        self.details.as_ref().map(|d| d.power_state.as_str())
    }
}

/// `PATCH /v2/servers/{alias}/{id}` operation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PatchOp {
    /// Always `set`.
    pub op: String,
    /// `cpu`, `memory`, `description`, `groupId`, ...
    pub member: String,
    /// New value.
    pub value: Value,
}

/// A port rule of a public IP.
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PortRule {
    /// `TCP`, `UDP` or `ICMP`.
    pub protocol: String,
    /// Port.
    #[serde(deserialize_with = "lenient_u32")]
    pub port: u32,
    /// End of a port range.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_opt_u32"
    )]
    pub port_to: Option<u32>,
}

/// A source restriction of a public IP.
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
pub struct SourceRestriction {
    /// CIDR, e.g. `132.200.20.0/24`.
    pub cidr: String,
}

/// Body of `POST /v2/servers/{alias}/{id}/publicIPAddresses` and of the GET/PUT on one IP.
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PublicIpSpec {
    /// Private address to NAT to; the server's first one when absent.
    #[serde(
        rename = "internalIPAddress",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub internal_ip_address: Option<String>,
    /// Open ports.
    #[serde(default)]
    pub ports: Vec<PortRule>,
    /// Allowed sources.
    #[serde(default)]
    pub source_restrictions: Vec<SourceRestriction>,
}

/// Queue status values (`clc-api.md` §2.4 and §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum QueueStatus {
    /// Queued, not running yet.
    NotStarted,
    /// Running.
    Executing,
    /// Done.
    Succeeded,
    /// Failed.
    Failed,
    /// Resumed after manual intervention.
    Resumed,
    /// Tolerated by the Python SDK.
    Queued,
    /// Tolerated by the Python SDK.
    Running,
    /// Anything else.
    #[serde(other)]
    Unknown,
}

impl QueueStatus {
    /// Whether a client should keep polling.
    pub fn is_pending(self) -> bool {
        matches!(
            self,
            QueueStatus::NotStarted
                | QueueStatus::Executing
                | QueueStatus::Resumed
                | QueueStatus::Queued
                | QueueStatus::Running
        )
    }
}

/// `GET /v2/operations/{alias}/status/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StatusResponse {
    /// The status.
    pub status: QueueStatus,
}

/// `POST /v2/operations/{alias}/servers/executePackage` request.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct ExecutePackage {
    /// Server ids.
    pub servers: Vec<String>,
    /// The package and its parameters.
    pub package: PackageRef,
}

/// Billing figures of one server in [`GroupBilling`].
#[derive(Debug, Clone, Copy, Serialize, Deserialize, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ServerBilling {
    /// Template storage cost.
    #[serde(default)]
    pub template_cost: f64,
    /// Archive cost.
    #[serde(default)]
    pub archive_cost: f64,
    /// `monthToDate + currentHour × hours left in the month`.
    #[serde(default)]
    pub monthly_estimate: f64,
    /// Charges so far this month.
    #[serde(default)]
    pub month_to_date: f64,
    /// Current hourly rate.
    #[serde(default)]
    pub current_hour: f64,
}

/// One group in [`GroupBilling`].
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct GroupBillingEntry {
    /// Group name.
    pub name: String,
    /// Servers by lower-case id.
    #[serde(default)]
    pub servers: BTreeMap<String, ServerBilling>,
}

/// `GET /v2/groups/{alias}/{id}/billing`: the group and all its descendants, flattened.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct GroupBilling {
    /// When the figures were computed.
    pub date: String,
    /// Groups by id.
    pub groups: BTreeMap<String, GroupBillingEntry>,
}

impl GroupBilling {
    /// Sum of `monthToDate` over every server listed.
    pub fn month_to_date(&self) -> f64 {
        self.servers().map(|s| s.month_to_date).sum()
    }

    /// Sum of `currentHour` over every server listed.
    pub fn current_hour(&self) -> f64 {
        self.servers().map(|s| s.current_hour).sum()
    }

    /// Sum of `monthlyEstimate` over every server listed.
    pub fn monthly_estimate(&self) -> f64 {
        self.servers().map(|s| s.monthly_estimate).sum()
    }

    fn servers(&self) -> impl Iterator<Item = &ServerBilling> {
        self.groups.values().flat_map(|g| g.servers.values())
    }
}

/// `GET /v2/billing/{alias}/serverPricing/{id}`: hourly unit prices.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ServerPricing {
    /// Per vCPU-hour.
    #[serde(default)]
    pub cpu: f64,
    /// Per GB-hour of memory.
    #[serde(rename = "memoryGB", default)]
    pub memory_gb: f64,
    /// Per GB-hour of storage.
    #[serde(rename = "storageGB", default)]
    pub storage_gb: f64,
    /// Per hour of managed OS (and OS licence).
    #[serde(rename = "managedOS", default)]
    pub managed_os: f64,
}

/// `GET /v2/billing/{alias}/estimate-server/{id}` (body undocumented upstream; mirrors v1
/// `GetServerEstimate`).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ServerEstimate {
    /// Estimate for the whole month.
    pub monthly_estimate: f64,
    /// Charges so far this month.
    pub month_to_date: f64,
    /// Current hourly rate.
    pub current_hour: f64,
    /// Charge of the previous hour.
    pub previous_hour: f64,
}

/// A detail line of an [`InvoiceLineItem`].
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct InvoiceItemDetail {
    /// E.g. the server name.
    pub description: String,
    /// Cost.
    pub cost: f64,
}

/// A line of an [`Invoice`].
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceLineItem {
    /// Quantity.
    pub quantity: u32,
    /// E.g. `Server Group: Default Group - VA1`.
    pub description: String,
    /// Unit cost.
    pub unit_cost: f64,
    /// Total.
    pub item_total: f64,
    /// Data center.
    #[serde(default)]
    pub service_location: String,
    /// Per-server details.
    #[serde(default)]
    pub item_details: Vec<InvoiceItemDetail>,
}

/// `GET /v2/invoice/{alias}/{year}/{month}` ("usage estimates only").
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Invoice {
    /// Invoice id.
    pub id: String,
    /// Terms.
    #[serde(default)]
    pub terms: String,
    /// Company name.
    #[serde(default)]
    pub company_name: String,
    /// Account alias.
    pub account_alias: String,
    /// Pricing account alias.
    #[serde(default)]
    pub pricing_account_alias: String,
    /// Parent account alias.
    #[serde(default)]
    pub parent_account_alias: String,
    /// Billing e-mail.
    #[serde(default)]
    pub billing_contact_email: String,
    /// Total of all lines.
    pub total_amount: f64,
    /// Invoice date.
    #[serde(default)]
    pub invoice_date: String,
    /// Lines.
    #[serde(default)]
    pub line_items: Vec<InvoiceLineItem>,
}

/// The envelope of every v1 response (`clc-api.md` §4.1).
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct V1Envelope {
    /// Whether the call succeeded.
    #[serde(default)]
    pub success: bool,
    /// Message.
    #[serde(default)]
    pub message: String,
    /// 0 ok, 2 unknown error, 3 invalid format, 5 not found, 100 auth failed, 12xx blueprint.
    #[serde(default)]
    pub status_code: i32,
}

/// A name/value pair (v1 deploy parameters).
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct NameValue {
    /// Name (a variable such as `T3.BuildServerTask.Password`).
    pub name: String,
    /// Value.
    pub value: String,
}

/// A blueprint in v1 `GetBlueprints`.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct BlueprintSummary {
    /// Blueprint id.
    #[serde(rename = "ID")]
    pub id: u32,
    /// Name.
    #[serde(rename = "Name")]
    pub name: String,
}

/// v1 `GetBlueprintDetails`.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct BlueprintDetails {
    /// Blueprint id.
    #[serde(rename = "ID")]
    pub id: u32,
    /// Name.
    pub name: String,
    /// Author.
    #[serde(default)]
    pub author: String,
    /// Capabilities.
    #[serde(default)]
    pub capabilities: Vec<String>,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// 1 Active, 3 Deleted, 4 Under Construction.
    #[serde(default)]
    pub status: i32,
    /// 1 Public, 2 Private.
    #[serde(default)]
    pub visibility: i32,
}

/// An option of a [`BlueprintParameter`].
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct ParameterOption {
    /// Label.
    pub name: String,
    /// Value.
    pub value: String,
}

/// A deploy-time parameter of a blueprint (v1 `GetBlueprintParameters`).
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct BlueprintParameter {
    /// Variable name, e.g. `T3.BuildServerTask.Password`.
    pub name: String,
    /// Choices for Option/MultiSelect.
    #[serde(default)]
    pub options: Vec<ParameterOption>,
    /// Validation regex for String.
    #[serde(default)]
    pub regex: String,
    /// 1 Network, 2 Numeric, 3 Option, 4 Password, 5 Server, 6 ServerIP, 7 String, 8 MultiSelect.
    #[serde(rename = "Type", default)]
    pub kind: i32,
}

/// v1 `DeployBlueprint` request.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct DeployBlueprintRequest {
    /// Blueprint id.
    #[serde(rename = "ID")]
    pub id: u32,
    /// Data center.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_alias: Option<String>,
    /// Parameter values.
    #[serde(default)]
    pub parameters: Vec<NameValue>,
}

/// v1 `GetDeploymentStatus` response body.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct DeploymentStatus {
    /// Request id.
    #[serde(rename = "RequestID")]
    pub request_id: u64,
    /// `NotStarted`, `Executing`, `Succeeded`, `Failed`, `Resumed`.
    pub current_status: String,
    /// What is happening.
    #[serde(default)]
    pub description: String,
    /// 0–100.
    #[serde(default)]
    pub percent_complete: u32,
    /// `/Date(ms)/`.
    #[serde(default)]
    pub status_date: String,
    /// Current step.
    #[serde(default)]
    pub step: String,
    /// Names of the servers built so far.
    #[serde(default)]
    pub servers: Vec<String>,
}

impl DeploymentStatus {
    /// Whether the deployment is still running.
    pub fn is_pending(&self) -> bool {
        matches!(
            self.current_status.as_str(),
            "NotStarted" | "Not Started" | "Executing" | "Resumed"
        )
    }
}

/// A package in v1 `GetPackages` / `GetPendingPackages`.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct PackageSummary {
    /// Package UUID (pending packages: empty).
    #[serde(rename = "ID", default)]
    pub id: String,
    /// Name.
    pub name: String,
    /// 1 System, 2 Script, 3 Software (pending: 0).
    #[serde(default)]
    pub classification: i32,
}

/// v1 `PublishPackage` request.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct PublishPackageRequest {
    /// 2 Script or 3 Software.
    pub classification: i32,
    /// The uploaded zip's name, e.g. `install-web.zip`.
    pub name: String,
    /// OS ids.
    #[serde(default)]
    pub operating_systems: Vec<i32>,
    /// 1 Public, 2 Private, 3 Shared.
    pub visibility: i32,
}

/// v1 `Queue/GetRequestStatus` `RequestDetails`.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct RequestDetails {
    /// Request id.
    #[serde(rename = "RequestID")]
    pub request_id: u64,
    /// Title.
    #[serde(default)]
    pub request_title: String,
    /// Progress description.
    #[serde(default)]
    pub progress_desc: String,
    /// `/Date(ms)/`.
    #[serde(default)]
    pub status_date: String,
    /// 0–100.
    #[serde(default)]
    pub percent_complete: u32,
    /// `Not Started`, `Executing`, `Succeeded`, `Failed`, `Resumed`.
    pub current_status: String,
    /// Step number.
    #[serde(default)]
    pub step_number: u32,
}

/// Emulator-only: the answer to a package upload (`POST /emulator/packages/{alias}`).
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct UploadedPackage {
    /// File name under which it waits to be published.
    pub file_name: String,
    /// UUID from its manifest.
    pub package_id: String,
    /// Name from its manifest.
    pub name: String,
}

/// Emulator-only: the answer to a blueprint registration (`POST /emulator/blueprints/{alias}`).
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct RegisteredBlueprint {
    /// v1 blueprint id.
    pub id: u32,
    /// Name.
    pub name: String,
}
