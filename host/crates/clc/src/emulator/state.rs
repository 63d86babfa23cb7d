//! The emulated account's state and its rules: groups, servers, the queue of operations,
//! the blueprint catalog, and how all of them move forward on the account clock.
//!
//! Everything that takes time is an *operation*: a plan of steps run one after the other,
//! each taking account time (a build, a package, a power change). Steps end through
//! scheduled events, processed lazily whenever the state is touched ([`State::advance`])
//! and by a ticker, so the emulator needs no task per operation and a restarted emulator
//! simply carries on with the events it saved. A step that runs a real process (Local
//! execution) ends when the process does instead; the state only records what to spawn
//! and kill ([`Effects`]) and the caller does it outside the lock.

use std::collections::{BTreeMap, BinaryHeap, HashMap};

use chrono::{DateTime, Datelike, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{PackageRef, PublicIpSpec, QueueStatus};
use certify_blueprint::{BlueprintDefinition, Manifest, ParameterError, value_to_string};
use certify_blueprint::{PriceList, ServerSize};

/// Data centers of the real price list (`clc-api.md` §3): id and display name.
pub(crate) const DATA_CENTERS: &[(&str, &str)] = &[
    ("VA1", "US East (Sterling)"),
    ("NY1", "US East (New York)"),
    ("IL1", "US Central (Chicago)"),
    ("UT1", "US Central (Salt Lake City)"),
    ("UC1", "US West (Santa Clara)"),
    ("WA1", "US West (Seattle)"),
    ("CA1", "Canada (Vancouver)"),
    ("CA2", "Canada (Toronto)"),
    ("CA3", "Canada (Toronto)"),
    ("DE1", "Germany (Frankfurt)"),
    ("GB1", "Great Britain (Portsmouth)"),
    ("GB3", "Great Britain (Slough)"),
    ("SG1", "APAC (Singapore)"),
    ("AU1", "Australia (Sydney)"),
];

/// Templates offered in every data center: name, OS type, description, storage GB.
pub(crate) const TEMPLATES: &[(&str, &str, &str, u32)] = &[
    (
        "CENTOS-6-64-TEMPLATE",
        "centOS6_64Bit",
        "CentOS 6 | 64-bit",
        17,
    ),
    (
        "CENTOS-7-64-TEMPLATE",
        "centOS7_64Bit",
        "CentOS 7 | 64-bit",
        17,
    ),
    (
        "RHEL-7-64-TEMPLATE",
        "redHat7_64Bit",
        "RedHat Enterprise Linux 7 | 64-bit",
        17,
    ),
    (
        "UBUNTU-14-64-TEMPLATE",
        "ubuntu14_64Bit",
        "Ubuntu 14 | 64-bit",
        17,
    ),
    (
        "UBUNTU-16-64-TEMPLATE",
        "ubuntu16_64Bit",
        "Ubuntu 16 | 64-bit",
        17,
    ),
    (
        "DEBIAN-7-64-TEMPLATE",
        "debian7_64Bit",
        "Debian 7 | 64-bit",
        17,
    ),
    (
        "DEBIAN-8-64-TEMPLATE",
        "debian8_64Bit",
        "Debian 8 | 64-bit",
        17,
    ),
    (
        "WIN2012R2DTC-64",
        "windows2012R2DataCenter_64Bit",
        "Windows 2012 R2 Datacenter Edition | 64-bit",
        60,
    ),
    (
        "WIN2008R2STD-64",
        "windows2008R2Standard_64bit",
        "Windows 2008 R2 Standard | 64-bit",
        60,
    ),
];

/// How long things take, in account time.
pub(crate) mod durations {
    /// From queued to executing.
    pub const QUEUE_SECS: i64 = 5;
    /// A Linux server build.
    pub const BUILD_LINUX_SECS: i64 = 180;
    /// A Windows server build.
    pub const BUILD_WINDOWS_SECS: i64 = 360;
    /// A simulated package.
    pub const PACKAGE_SECS: i64 = 60;
    /// Power operations.
    pub const POWER_SECS: i64 = 20;
    /// CPU/memory change.
    pub const RESIZE_SECS: i64 = 60;
    /// Public IP changes.
    pub const PUBLIC_IP_SECS: i64 = 30;
    /// Server or group deletion.
    pub const DELETE_SECS: i64 = 30;
    /// Package publishing.
    pub const PUBLISH_SECS: i64 = 30;
    /// Blueprint Engine: a package's limit.
    pub const PACKAGE_LIMIT_SECS: i64 = 5 * 60;
    /// Blueprint Engine: a blueprint's limit.
    pub const BLUEPRINT_LIMIT_SECS: i64 = 20 * 60;
}

/// The account's identity and credentials.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct AccountInfo {
    pub alias: String,
    pub username: String,
    pub password: String,
    pub company_name: String,
    pub primary_dc: String,
    /// Signs bearer tokens; persisted so tokens survive a restart.
    pub signing_key: String,
}

/// A group.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct GroupRec {
    pub id: String,
    pub name: String,
    pub description: String,
    pub dc: String,
    pub kind: String,
    pub parent: Option<String>,
    pub children: Vec<String>,
    pub created: DateTime<Utc>,
    pub modified: DateTime<Utc>,
}

/// A public IP of a server.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PublicIpRec {
    pub address: String,
    pub internal: String,
    pub spec: PublicIpSpec,
    /// False until the operation that adds it completes.
    pub ready: bool,
}

/// A server.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ServerRec {
    pub id: String,
    pub name: String,
    pub uuid: String,
    pub description: String,
    pub group_id: String,
    pub dc: String,
    pub template: String,
    pub os_type: String,
    pub cpu: u32,
    pub memory_gb: u32,
    pub storage_gb: u32,
    pub disks: Vec<(String, u32, Vec<String>)>,
    pub storage_type: String,
    pub kind: String,
    pub managed_os: bool,
    pub status: String,
    pub power_state: String,
    pub maintenance: bool,
    pub internal_ip: String,
    pub public_ips: Vec<PublicIpRec>,
    pub password: String,
    pub created: DateTime<Utc>,
    pub modified: DateTime<Utc>,
    pub build_log: Vec<String>,
    pub billed_until: DateTime<Utc>,
    /// Charges by month (`YYYY-MM`).
    pub charges: BTreeMap<String, f64>,
}

impl ServerRec {
    pub fn spec(&self) -> ServerSize {
        ServerSize {
            cpu: self.cpu,
            memory_gb: self.memory_gb,
            storage_gb: self.storage_gb,
            storage_type: self.storage_type.parse().unwrap_or_default(),
            os: self.os_type.clone(),
            managed_os: self.managed_os,
            public_ips: self.public_ips.len() as u32,
        }
    }

    pub fn hourly(&self) -> f64 {
        let powered_on = self.power_state != "stopped" || self.status == "underConstruction";
        PriceList::default().hourly_dollars(&self.spec(), powered_on)
    }

    pub fn is_windows(&self) -> bool {
        self.os_type.to_ascii_lowercase().starts_with("windows")
    }

    pub fn log(&mut self, at: DateTime<Utc>, line: impl AsRef<str>) {
        self.build_log.push(format!(
            "{} {}",
            crate::model::format_time(at),
            line.as_ref()
        ));
    }
}

/// Charges of a server that no longer exists, kept for the month's invoice and totals.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ClosedCharge {
    pub month: String,
    pub group_name: String,
    pub dc: String,
    pub server: String,
    pub amount: f64,
}

/// A published package.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PackageRec {
    pub manifest: Manifest,
    /// 1 System, 2 Script, 3 Software.
    pub classification: i32,
    /// 1 Public, 2 Private, 3 Shared.
    pub visibility: i32,
    pub operating_systems: Vec<i32>,
    /// File under `<data>/packages/`, absent for built-in packages.
    pub file: Option<String>,
}

/// A package uploaded but not yet published.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PendingPackage {
    pub file_name: String,
    pub manifest: Manifest,
}

/// A registered blueprint.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct BlueprintRec {
    pub id: u32,
    pub definition: BlueprintDefinition,
    pub dc: String,
}

/// Which server a step acts on.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) enum ServerRef {
    Id(String),
    /// The server built by the n-th server task of the operation's blueprint.
    Task(usize),
}

/// What one step of an operation does.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) enum Action {
    /// Finish building an existing server record.
    Build {
        server: String,
    },
    /// Create and build the server of a blueprint server task.
    BuildTask {
        task: usize,
        alias: String,
        template: String,
        cpu: u32,
        memory_gb: u32,
        group_id: String,
        password: String,
        network_id: Option<String>,
    },
    /// Run a package.
    Package {
        server: ServerRef,
        package: String,
        params: BTreeMap<String, String>,
    },
    Power {
        servers: Vec<String>,
        op: String,
    },
    Resize {
        server: String,
        cpu: Option<u32>,
        memory_gb: Option<u32>,
    },
    PublicIpReady {
        server: ServerRef,
        address: String,
    },
    PublicIpRemoved {
        server: String,
        address: String,
    },
    AddDisk {
        server: ServerRef,
        size_gb: u32,
    },
    /// A blueprint's `add_nat_ip` task: a public IP with these TCP ports.
    AddNatIp {
        server: ServerRef,
        ports: Vec<u32>,
    },
    DeleteServer {
        server: String,
    },
    DeleteGroup {
        group: String,
    },
    Publish {
        file_name: String,
    },
    Wait,
}

/// A step: an action and how long it takes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Step {
    pub action: Action,
    pub secs: i64,
    /// Decided when the step begins: the failure it will end with.
    pub failure: Option<String>,
}

impl Step {
    pub fn new(action: Action, secs: i64) -> Self {
        Step {
            action,
            secs,
            failure: None,
        }
    }
}

/// An operation in the queue.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct OpRec {
    pub n: u64,
    pub dc: String,
    pub title: String,
    pub status: QueueStatus,
    pub requested: DateTime<Utc>,
    pub started: Option<DateTime<Utc>>,
    pub finished: Option<DateTime<Utc>>,
    pub plan: Vec<Step>,
    pub cursor: usize,
    /// Servers built by blueprint server tasks, by task index.
    pub task_servers: Vec<Option<String>>,
    pub blueprint: Option<u32>,
    pub error: Option<String>,
    /// A Local package process is running for the current step.
    pub awaiting_process: bool,
}

impl OpRec {
    pub fn status_id(&self) -> String {
        format!("{}-{}", self.dc.to_ascii_lowercase(), self.n)
    }

    pub fn percent(&self) -> u32 {
        if self.status == QueueStatus::Succeeded {
            return 100;
        }
        if self.plan.is_empty() {
            return 0;
        }
        (self.cursor * 100 / self.plan.len()) as u32
    }

    pub fn servers(&self) -> Vec<String> {
        let mut out: Vec<String> = self.task_servers.iter().flatten().cloned().collect();
        for s in &self.plan {
            if let Action::Build { server } = &s.action
                && !out.contains(server)
            {
                out.push(server.clone());
            }
        }
        out
    }
}

/// A scheduled event: step `step` of operation `op` ends (or, for `step == usize::MAX`, the
/// operation starts).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Scheduled {
    pub at: DateTime<Utc>,
    pub seq: u64,
    pub op: u64,
    pub step: usize,
}

impl Ord for Scheduled {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        // Reversed: BinaryHeap is a max-heap and we want the earliest first.
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

const START: usize = usize::MAX;

/// A package process to start (Local execution), produced under the lock and spawned
/// outside it.
#[derive(Debug, Clone)]
pub(crate) struct SpawnRequest {
    pub op: u64,
    pub step: usize,
    pub server_id: String,
    pub server_name: String,
    pub address: String,
    pub password: String,
    pub alias: String,
    pub dc: String,
    pub username: String,
    pub package_file: String,
    pub manifest: Manifest,
    pub params: BTreeMap<String, String>,
    pub limit: TimeDelta,
}

/// Side effects the caller performs after releasing the lock.
#[derive(Debug, Default)]
pub(crate) struct Effects {
    pub spawns: Vec<SpawnRequest>,
    pub kills: Vec<String>,
}

/// The whole account.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct State {
    pub account: AccountInfo,
    /// Account time when the state was last saved.
    pub account_time: DateTime<Utc>,
    pub next_op: u64,
    pub next_seq: u64,
    pub next_address: u32,
    pub next_public: u32,
    pub next_blueprint: u32,
    pub groups: BTreeMap<String, GroupRec>,
    pub servers: BTreeMap<String, ServerRec>,
    pub name_counters: HashMap<String, u32>,
    pub operations: HashMap<u64, OpRec>,
    pub events: BinaryHeap<Scheduled>,
    pub packages: BTreeMap<String, PackageRec>,
    pub pending_packages: BTreeMap<String, PendingPackage>,
    pub blueprints: BTreeMap<u32, BlueprintRec>,
    pub closed_charges: Vec<ClosedCharge>,
    #[serde(skip)]
    pub by_uuid: HashMap<String, String>,
    #[serde(skip)]
    pub effects: Effects,
    #[serde(skip)]
    pub local_exec: bool,
    /// Local packages run in sandboxes on the run network: addresses are `10.88.x.y`.
    #[serde(skip)]
    pub run_network: bool,
    #[serde(skip)]
    pub faults: std::sync::Arc<super::faults::Faults>,
}

/// Why a request against the state was refused.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Refusal {
    NotFound,
    BadRequest(String),
    Invalid(BTreeMap<String, Vec<String>>),
}

impl Refusal {
    fn field(key: &str, message: impl Into<String>) -> Refusal {
        let mut m = BTreeMap::new();
        m.insert(key.to_string(), vec![message.into()]);
        Refusal::Invalid(m)
    }
}

/// Package UUIDs with their resolved parameters.
type ResolvedPackages = Vec<(String, BTreeMap<String, String>)>;

/// Per requested server: the shared status id, or why it was not queued.
pub(crate) type BatchResults = Vec<(String, Result<String, String>)>;

/// `YYYY-MM` of a time.
pub(crate) fn month_key(t: DateTime<Utc>) -> String {
    format!("{:04}-{:02}", t.year(), t.month())
}

/// Start of the month after `t`.
pub(crate) fn next_month_start(t: DateTime<Utc>) -> DateTime<Utc> {
    let (y, m) = if t.month() == 12 {
        (t.year() + 1, 1)
    } else {
        (t.year(), t.month() + 1)
    };
    chrono::NaiveDate::from_ymd_opt(y, m, 1)
        .expect("valid date")
        .and_hms_opt(0, 0, 0)
        .expect("valid time")
        .and_utc()
}

fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Generates a password meeting CLC's complexity rules.
pub(crate) fn generate_password() -> String {
    let raw = uuid::Uuid::new_v4().simple().to_string();
    format!("Ct{}!9{}", &raw[..10], &raw[10..14].to_ascii_uppercase())
}

impl State {
    /// A fresh account with the root group and its three children in every data center.
    pub fn new(
        alias: &str,
        username: &str,
        password: &str,
        primary_dc: &str,
        now: DateTime<Utc>,
    ) -> State {
        let mut st = State {
            account: AccountInfo {
                alias: alias.to_ascii_uppercase(),
                username: username.to_string(),
                password: password.to_string(),
                company_name: "Certification Test Account".into(),
                primary_dc: primary_dc.to_ascii_uppercase(),
                signing_key: format!("{}{}", new_id(), new_id()),
            },
            account_time: now,
            next_op: 1000,
            next_seq: 0,
            next_address: 0,
            next_public: 0,
            next_blueprint: 1000,
            groups: BTreeMap::new(),
            servers: BTreeMap::new(),
            name_counters: HashMap::new(),
            operations: HashMap::new(),
            events: BinaryHeap::new(),
            packages: BTreeMap::new(),
            pending_packages: BTreeMap::new(),
            blueprints: BTreeMap::new(),
            closed_charges: Vec::new(),
            by_uuid: HashMap::new(),
            effects: Effects::default(),
            local_exec: false,
            run_network: false,
            faults: Default::default(),
        };
        for (dc, _) in DATA_CENTERS {
            let root = st.insert_group(None, &format!("{dc} Hardware"), "", dc, "default", now);
            st.insert_group(Some(&root), "Archive", "Archive", dc, "archive", now);
            st.insert_group(
                Some(&root),
                "Default Group",
                "Default Group",
                dc,
                "default",
                now,
            );
            st.insert_group(Some(&root), "Templates", "Templates", dc, "templates", now);
        }
        st.install_system_packages();
        st
    }

    fn install_system_packages(&mut self) {
        // System tasks (clc-api.md §5.3) and the ubiquitous "Linux Update" script package,
        // so blueprints exported from the real engine resolve their references.
        for builtin in certify_blueprint::BUILTIN_PACKAGES {
            self.packages.insert(
                builtin.uuid.to_string(),
                PackageRec {
                    manifest: builtin.manifest(),
                    classification: builtin.classification(),
                    visibility: 1,
                    operating_systems: Vec::new(),
                    file: None,
                },
            );
        }
    }

    /// Rebuilds the indexes that are not persisted.
    pub fn reindex(&mut self) {
        self.by_uuid = self
            .servers
            .values()
            .map(|s| (s.uuid.clone(), s.id.clone()))
            .collect();
        // A process cannot survive a restart: a step that waited on one has failed.
        let waiting: Vec<u64> = self
            .operations
            .values()
            .filter(|o| o.awaiting_process)
            .map(|o| o.n)
            .collect();
        for n in waiting {
            let now = self.account_time;
            self.finish_step(
                n,
                self.operations[&n].cursor,
                now,
                Err("the emulator restarted while the package was running".into()),
            );
        }
    }

    fn insert_group(
        &mut self,
        parent: Option<&str>,
        name: &str,
        description: &str,
        dc: &str,
        kind: &str,
        now: DateTime<Utc>,
    ) -> String {
        let id = new_id();
        self.groups.insert(
            id.clone(),
            GroupRec {
                id: id.clone(),
                name: name.to_string(),
                description: description.to_string(),
                dc: dc.to_string(),
                kind: kind.to_string(),
                parent: parent.map(str::to_string),
                children: Vec::new(),
                created: now,
                modified: now,
            },
        );
        if let Some(p) = parent
            && let Some(pg) = self.groups.get_mut(p)
        {
            pg.children.push(id.clone());
        }
        id
    }

    pub fn root_group(&self, dc: &str) -> Option<&GroupRec> {
        self.groups
            .values()
            .find(|g| g.parent.is_none() && g.dc.eq_ignore_ascii_case(dc))
    }

    #[cfg(test)]
    pub fn default_group(&self, dc: &str) -> Option<&GroupRec> {
        let root = self.root_group(dc)?;
        root.children
            .iter()
            .filter_map(|c| self.groups.get(c))
            .find(|g| g.name == "Default Group")
    }

    pub fn servers_in_group(&self, group: &str) -> impl Iterator<Item = &ServerRec> {
        let group = group.to_string();
        self.servers.values().filter(move |s| s.group_id == group)
    }

    /// The group and every descendant, depth-first, the group first.
    pub fn subtree(&self, group: &str) -> Vec<&GroupRec> {
        let mut out = Vec::new();
        let mut stack = vec![group.to_string()];
        while let Some(id) = stack.pop() {
            if let Some(g) = self.groups.get(&id) {
                out.push(g);
                stack.extend(g.children.iter().rev().cloned());
            }
        }
        out
    }

    pub fn find_server(&self, key: &str) -> Option<&ServerRec> {
        let key = key.to_ascii_lowercase();
        self.servers
            .get(&key)
            .or_else(|| self.by_uuid.get(&key).and_then(|id| self.servers.get(id)))
    }

    /// A deterministic network id and CIDR per data center.
    pub fn network(&self, dc: &str) -> (String, String, String) {
        let idx = DATA_CENTERS
            .iter()
            .position(|(d, _)| d.eq_ignore_ascii_case(dc))
            .unwrap_or(0);
        // The id only needs to be stable per account and data center.
        let id = hex::encode(
            &<sha2::Sha256 as sha2::Digest>::digest(
                format!("{}/{}", self.account.alias, dc.to_ascii_uppercase()).as_bytes(),
            )[..16],
        );
        let third = 10 + idx;
        let name = format!("vlan_{}_10.{third}.0", 700 + idx);
        (id, name, format!("10.{third}.0.0/16"))
    }

    fn allocate_address(&mut self, dc: &str) -> String {
        let n = self.next_address;
        self.next_address += 1;
        if self.local_exec && self.run_network {
            return certify_sandbox::RunNetwork::address(n % 65_000).to_string();
        }
        if self.local_exec {
            // Each server gets its own loopback address so two servers can both listen
            // on the same port; 127.0.0.x stays for the host itself.
            let b = 1 + (n / (254 * 256)) % 254;
            let c = (n / 254) % 256;
            let d = 1 + n % 254;
            return format!("127.{b}.{c}.{d}");
        }
        let idx = DATA_CENTERS
            .iter()
            .position(|(d, _)| d.eq_ignore_ascii_case(dc))
            .unwrap_or(0);
        format!("10.{}.{}.{}", 10 + idx, (n / 250) % 250, 12 + n % 240)
    }

    fn allocate_public(&mut self) -> String {
        // Documentation ranges (RFC 5737): never routable, never someone else's host.
        let n = self.next_public;
        self.next_public += 1;
        let nets = ["203.0.113", "198.51.100", "192.0.2"];
        format!("{}.{}", nets[(n / 250) as usize % 3], 2 + n % 250)
    }

    fn new_op(&mut self, dc: &str, title: &str, plan: Vec<Step>, now: DateTime<Utc>) -> u64 {
        let n = self.next_op;
        self.next_op += 1;
        self.operations.insert(
            n,
            OpRec {
                n,
                dc: dc.to_ascii_uppercase(),
                title: title.to_string(),
                status: QueueStatus::NotStarted,
                requested: now,
                started: None,
                finished: None,
                plan,
                cursor: 0,
                task_servers: Vec::new(),
                blueprint: None,
                error: None,
                awaiting_process: false,
            },
        );
        self.schedule(n, START, now + TimeDelta::seconds(durations::QUEUE_SECS));
        n
    }

    fn schedule(&mut self, op: u64, step: usize, at: DateTime<Utc>) {
        self.next_seq += 1;
        self.events.push(Scheduled {
            at,
            seq: self.next_seq,
            op,
            step,
        });
    }

    /// When the next event is due, if any.
    pub fn next_event_at(&self) -> Option<DateTime<Utc>> {
        self.events.peek().map(|e| e.at)
    }

    /// Processes every event due by `now`. Returns whether anything changed.
    pub fn advance(&mut self, now: DateTime<Utc>) -> bool {
        let mut changed = false;
        while let Some(ev) = self.events.peek() {
            if ev.at > now {
                break;
            }
            let ev = self.events.pop().expect("peeked");
            changed = true;
            if ev.step == START {
                self.start_op(ev.op, ev.at);
            } else {
                self.finish_step(ev.op, ev.step, ev.at, Ok(()));
            }
        }
        changed
    }

    fn start_op(&mut self, n: u64, at: DateTime<Utc>) {
        let Some(op) = self.operations.get_mut(&n) else {
            return;
        };
        if op.status != QueueStatus::NotStarted {
            return;
        }
        op.status = QueueStatus::Executing;
        op.started = Some(at);
        if op.plan.is_empty() {
            op.status = QueueStatus::Succeeded;
            op.finished = Some(at);
            return;
        }
        self.begin_step(n, at);
    }

    fn resolve(&self, n: u64, r: &ServerRef) -> Option<String> {
        match r {
            ServerRef::Id(id) => Some(id.clone()),
            ServerRef::Task(t) => self.operations.get(&n)?.task_servers.get(*t)?.clone(),
        }
    }

    fn begin_step(&mut self, n: u64, at: DateTime<Utc>) {
        let Some(op) = self.operations.get(&n) else {
            return;
        };
        let cursor = op.cursor;
        let step = op.plan[cursor].clone();
        let mut secs = step.secs;
        let mut failure = None;
        match &step.action {
            Action::Build { server } => {
                if self.faults.build_fails() {
                    failure = Some(format!("Build of {server} failed (injected fault)"));
                }
                if let Some(s) = self.servers.get_mut(server) {
                    s.log(at, "Build started");
                }
            }
            Action::BuildTask {
                task,
                alias,
                template,
                cpu,
                memory_gb,
                group_id,
                password,
                network_id,
            } => {
                let group = self.groups.get(group_id).cloned();
                let created = group.and_then(|g| {
                    self.create_server_record(
                        &g,
                        alias,
                        alias,
                        template,
                        *cpu,
                        *memory_gb,
                        password,
                        network_id.clone(),
                        &[],
                        at,
                    )
                    .ok()
                });
                match created {
                    Some(id) => {
                        let op = self.operations.get_mut(&n).expect("exists");
                        if op.task_servers.len() <= *task {
                            op.task_servers.resize(*task + 1, None);
                        }
                        op.task_servers[*task] = Some(id.clone());
                        let windows = self.servers[&id].is_windows();
                        secs = if windows {
                            durations::BUILD_WINDOWS_SECS
                        } else {
                            durations::BUILD_LINUX_SECS
                        };
                        if self.faults.build_fails() {
                            failure = Some(format!("Build of {id} failed (injected fault)"));
                        }
                        if let Some(s) = self.servers.get_mut(&id) {
                            s.log(at, format!("Blueprint request {n}: build started"));
                        }
                    }
                    None => failure = Some(format!("Cannot build server {alias}")),
                }
            }
            Action::Package {
                server,
                package,
                params,
            } => {
                let server_id = self.resolve(n, server);
                let pkg = self.packages.get(package).cloned();
                match (server_id.and_then(|id| self.servers.get(&id).cloned()), pkg) {
                    (Some(s), Some(p)) => {
                        let m = &p.manifest;
                        let mode_ok = if m.is_linux() {
                            !s.is_windows()
                        } else {
                            s.is_windows()
                        };
                        let title = format!("Package {} ({})", m.name, m.uuid);
                        let mut line = format!("{title} started");
                        if !mode_ok {
                            failure = Some(format!(
                                "{title}: [Error] Exit code: 53 (execution mode {} does not match the server's OS)",
                                m.execution.mode
                            ));
                            secs = 5;
                        } else if self.faults.package_is_slow(&m.name, &m.uuid) {
                            secs = durations::PACKAGE_LIMIT_SECS;
                            failure = Some(format!(
                                "{title} exceeded the maximum package execution time of 5 minutes"
                            ));
                        } else if self.faults.package_fails(&m.name, &m.uuid) {
                            failure = Some(format!("{title} failed: exit code 1 (injected fault)"));
                        } else if self.local_exec && m.is_linux() && p.file.is_some() {
                            line.push_str(" (local process)");
                            let op = self.operations.get_mut(&n).expect("exists");
                            op.awaiting_process = true;
                            self.effects.spawns.push(SpawnRequest {
                                op: n,
                                step: cursor,
                                server_id: s.id.clone(),
                                server_name: s.name.clone(),
                                address: s.internal_ip.clone(),
                                password: s.password.clone(),
                                alias: self.account.alias.clone(),
                                dc: s.dc.clone(),
                                username: self.account.username.clone(),
                                package_file: p.file.clone().unwrap_or_default(),
                                manifest: m.clone(),
                                params: params.clone(),
                                limit: TimeDelta::seconds(durations::PACKAGE_LIMIT_SECS),
                            });
                            if let Some(sm) = self.servers.get_mut(&s.id) {
                                sm.log(at, &line);
                            }
                            return;
                        }
                        if let Some(sm) = self.servers.get_mut(&s.id) {
                            sm.log(at, &line);
                            for (k, v) in params {
                                let shown = if m.parameters.iter().any(|p| {
                                    &p.variable == k
                                        && p.kind == certify_blueprint::ParameterType::Password
                                }) {
                                    "********"
                                } else {
                                    v
                                };
                                sm.log(at, format!("  {k} = {shown}"));
                            }
                        }
                    }
                    (None, _) => failure = Some("The server for the package does not exist".into()),
                    (_, None) => failure = Some(format!("Package {package} does not exist")),
                }
            }
            _ => {}
        }
        let op = self.operations.get_mut(&n).expect("exists");
        op.plan[cursor].failure = failure;
        op.plan[cursor].secs = secs;
        self.schedule(n, cursor, at + TimeDelta::seconds(secs));
    }

    /// Ends step `step` of operation `n` at `at`: applies it, then begins the next step or
    /// finishes the operation. `result` is the outcome of a Local process, `Ok` otherwise.
    pub fn finish_step(
        &mut self,
        n: u64,
        step: usize,
        at: DateTime<Utc>,
        result: Result<(), String>,
    ) {
        let Some(op) = self.operations.get_mut(&n) else {
            return;
        };
        if op.cursor != step || op.status != QueueStatus::Executing {
            return;
        }
        op.awaiting_process = false;
        let failure = result.err().or_else(|| op.plan[step].failure.clone());
        let action = op.plan[step].action.clone();
        let started = op.started.unwrap_or(at);
        let is_blueprint = op.blueprint.is_some();
        match failure {
            None => self.apply(n, &action, at),
            Some(msg) => {
                self.fail_action(n, &action, at, &msg);
                self.finish_op(n, at, Some(msg));
                return;
            }
        }
        let op = self.operations.get_mut(&n).expect("exists");
        op.cursor += 1;
        if is_blueprint && at - started > TimeDelta::seconds(durations::BLUEPRINT_LIMIT_SECS) {
            let msg = "Blueprint exceeded the maximum execution time of 20 minutes".to_string();
            self.finish_op(n, at, Some(msg));
            return;
        }
        if op.cursor >= op.plan.len() {
            self.finish_op(n, at, None);
        } else {
            self.begin_step(n, at);
        }
    }

    fn finish_op(&mut self, n: u64, at: DateTime<Utc>, error: Option<String>) {
        let op = self.operations.get_mut(&n).expect("exists");
        op.finished = Some(at);
        op.status = if error.is_some() {
            QueueStatus::Failed
        } else {
            QueueStatus::Succeeded
        };
        op.error = error.clone();
        let servers = op.servers();
        let title = op.title.clone();
        for id in servers {
            if let Some(s) = self.servers.get_mut(&id) {
                match &error {
                    None => s.log(at, format!("{title}: succeeded")),
                    Some(e) => s.log(at, format!("{title}: failed: {e}")),
                }
            }
        }
    }

    fn apply(&mut self, n: u64, action: &Action, at: DateTime<Utc>) {
        match action {
            Action::Build { server } => {
                if let Some(s) = self.servers.get_mut(server) {
                    s.status = "active".into();
                    s.power_state = "started".into();
                    s.modified = at;
                    s.log(at, "Build complete; server is active and started");
                }
            }
            Action::BuildTask { task, .. } => {
                if let Some(id) = self.resolve(n, &ServerRef::Task(*task))
                    && let Some(s) = self.servers.get_mut(&id)
                {
                    s.status = "active".into();
                    s.power_state = "started".into();
                    s.modified = at;
                    s.log(at, "Build complete; server is active and started");
                }
            }
            Action::Package {
                server, package, ..
            } => {
                if let Some(id) = self.resolve(n, server)
                    && let Some(s) = self.servers.get_mut(&id)
                {
                    s.log(at, format!("Package {package} completed successfully"));
                }
            }
            Action::Power { servers, op } => {
                for id in servers {
                    self.accrue(id, at);
                    if let Some(s) = self.servers.get_mut(id) {
                        match op.as_str() {
                            "powerOn" | "reboot" | "reset" => s.power_state = "started".into(),
                            "powerOff" | "shutDown" => s.power_state = "stopped".into(),
                            "pause" => s.power_state = "paused".into(),
                            "startMaintenance" => s.maintenance = true,
                            "stopMaintenance" => s.maintenance = false,
                            _ => {}
                        }
                        s.modified = at;
                        s.log(at, format!("{op} complete"));
                    }
                }
            }
            Action::Resize {
                server,
                cpu,
                memory_gb,
            } => {
                self.accrue(server, at);
                if let Some(s) = self.servers.get_mut(server) {
                    if let Some(c) = cpu {
                        s.cpu = *c;
                    }
                    if let Some(m) = memory_gb {
                        s.memory_gb = *m;
                    }
                    s.modified = at;
                }
            }
            Action::PublicIpReady { server, address } => {
                if let Some(id) = self.resolve(n, server) {
                    self.accrue(&id, at);
                    if let Some(s) = self.servers.get_mut(&id) {
                        for ip in s.public_ips.iter_mut().filter(|ip| &ip.address == address) {
                            ip.ready = true;
                        }
                    }
                }
            }
            Action::PublicIpRemoved { server, address } => {
                self.accrue(server, at);
                if let Some(s) = self.servers.get_mut(server) {
                    s.public_ips.retain(|ip| &ip.address != address);
                }
            }
            Action::AddDisk { server, size_gb } => {
                if let Some(id) = self.resolve(n, server) {
                    self.accrue(&id, at);
                    if let Some(s) = self.servers.get_mut(&id) {
                        let idx = s.disks.len();
                        s.disks.push((format!("0:{idx}"), *size_gb, Vec::new()));
                        s.storage_gb += size_gb;
                    }
                }
            }
            Action::AddNatIp { server, ports } => {
                if let Some(id) = self.resolve(n, server) {
                    self.accrue(&id, at);
                    let address = self.allocate_public();
                    if let Some(s) = self.servers.get_mut(&id) {
                        let internal = s.internal_ip.clone();
                        s.public_ips.push(PublicIpRec {
                            address: address.clone(),
                            internal: internal.clone(),
                            spec: PublicIpSpec {
                                internal_ip_address: Some(internal),
                                ports: ports
                                    .iter()
                                    .map(|p| crate::model::PortRule {
                                        protocol: "TCP".into(),
                                        port: *p,
                                        port_to: None,
                                    })
                                    .collect(),
                                source_restrictions: Vec::new(),
                            },
                            ready: true,
                        });
                        s.log(at, format!("Public IP {address} added"));
                    }
                }
            }
            Action::DeleteServer { server } => self.remove_server(server, at),
            Action::DeleteGroup { group } => self.remove_group(group, at),
            Action::Publish { file_name } => {
                if let Some(p) = self.pending_packages.remove(file_name)
                    && let Some(rec) = self.packages.get_mut(&p.manifest.uuid.to_ascii_lowercase())
                {
                    rec.file = Some(format!("{}.zip", p.manifest.uuid.to_ascii_lowercase()));
                }
            }
            Action::Wait => {}
        }
    }

    fn fail_action(&mut self, n: u64, action: &Action, at: DateTime<Utc>, msg: &str) {
        let server = match action {
            Action::Build { server } => Some(server.clone()),
            Action::BuildTask { task, .. } => self.resolve(n, &ServerRef::Task(*task)),
            Action::Package { server, .. } => self.resolve(n, server),
            _ => None,
        };
        if let Some(id) = server
            && let Some(s) = self.servers.get_mut(&id)
        {
            s.log(at, format!("ERROR: {msg}"));
            if matches!(action, Action::Build { .. } | Action::BuildTask { .. }) {
                // A failed build leaves a server that never became active; it is billed
                // until someone deletes it, as on the real platform.
                s.status = "underConstruction".into();
                s.power_state = "stopped".into();
            }
        }
        if let Action::Publish { file_name } = action {
            self.pending_packages.remove(file_name);
        }
    }

    /// Accrues a server's charges up to `until`, split at month boundaries.
    pub fn accrue(&mut self, id: &str, until: DateTime<Utc>) {
        let Some(s) = self.servers.get_mut(id) else {
            return;
        };
        let rate = s.hourly();
        let mut from = s.billed_until;
        while from < until {
            let boundary = next_month_start(from).min(until);
            let hours = (boundary - from).num_microseconds().unwrap_or(0) as f64 / 3.6e9;
            *s.charges.entry(month_key(from)).or_default() += rate * hours;
            from = boundary;
        }
        s.billed_until = s.billed_until.max(until);
    }

    fn remove_server(&mut self, id: &str, at: DateTime<Utc>) {
        self.accrue(id, at);
        let Some(s) = self.servers.remove(id) else {
            return;
        };
        self.by_uuid.remove(&s.uuid);
        let group_name = self
            .groups
            .get(&s.group_id)
            .map(|g| g.name.clone())
            .unwrap_or_default();
        for (month, amount) in &s.charges {
            self.closed_charges.push(ClosedCharge {
                month: month.clone(),
                group_name: group_name.clone(),
                dc: s.dc.clone(),
                server: s.name.clone(),
                amount: *amount,
            });
        }
        self.effects.kills.push(s.id.clone());
    }

    fn remove_group(&mut self, id: &str, at: DateTime<Utc>) {
        let ids: Vec<String> = self.subtree(id).iter().map(|g| g.id.clone()).collect();
        let servers: Vec<String> = self
            .servers
            .values()
            .filter(|s| ids.contains(&s.group_id))
            .map(|s| s.id.clone())
            .collect();
        for s in servers {
            self.remove_server(&s, at);
        }
        if let Some(parent) = self.groups.get(id).and_then(|g| g.parent.clone())
            && let Some(p) = self.groups.get_mut(&parent)
        {
            p.children.retain(|c| c != id);
        }
        for g in ids {
            self.groups.remove(&g);
        }
    }

    /// Hours left in the account month at `now`.
    pub fn hours_left_in_month(now: DateTime<Utc>) -> f64 {
        (next_month_start(now) - now).num_seconds() as f64 / 3600.0
    }

    // ---- requests -------------------------------------------------------------------

    pub fn create_group(
        &mut self,
        name: &str,
        description: Option<&str>,
        parent: &str,
        now: DateTime<Utc>,
    ) -> Result<String, Refusal> {
        let mut errors = BTreeMap::new();
        if name.trim().is_empty() {
            errors.insert(
                "body.name".to_string(),
                vec!["The name field is required.".to_string()],
            );
        } else if name.len() > 200 {
            errors.insert(
                "body.name".to_string(),
                vec!["The name is too long.".to_string()],
            );
        }
        let parent_rec = self.groups.get(parent).cloned();
        if parent_rec.is_none() {
            errors.insert(
                "body.parentGroupId".to_string(),
                vec![format!("The parent group '{parent}' does not exist.")],
            );
        }
        if !errors.is_empty() {
            return Err(Refusal::Invalid(errors));
        }
        let p = parent_rec.expect("checked");
        if p.children
            .iter()
            .filter_map(|c| self.groups.get(c))
            .any(|g| g.name.eq_ignore_ascii_case(name))
        {
            return Err(Refusal::BadRequest(format!(
                "A group named '{name}' already exists in '{}'.",
                p.name
            )));
        }
        Ok(self.insert_group(
            Some(parent),
            name,
            description.unwrap_or(name),
            &p.dc,
            "default",
            now,
        ))
    }

    pub fn delete_group(&mut self, id: &str, now: DateTime<Utc>) -> Result<String, Refusal> {
        let g = self.groups.get(id).ok_or(Refusal::NotFound)?.clone();
        if g.parent.is_none() || g.kind != "default" || g.name == "Default Group" {
            return Err(Refusal::BadRequest(format!(
                "The group '{}' is a system group and cannot be deleted.",
                g.name
            )));
        }
        let n = self.new_op(
            &g.dc,
            "Delete group",
            vec![Step::new(
                Action::DeleteGroup {
                    group: id.to_string(),
                },
                durations::DELETE_SECS,
            )],
            now,
        );
        Ok(self.operations[&n].status_id())
    }

    #[allow(clippy::too_many_arguments)]
    fn create_server_record(
        &mut self,
        group: &GroupRec,
        name: &str,
        description: &str,
        template: &str,
        cpu: u32,
        memory_gb: u32,
        password: &str,
        _network_id: Option<String>,
        disks: &[(Option<String>, u32)],
        now: DateTime<Utc>,
    ) -> Result<String, Refusal> {
        let (os_type, storage) = TEMPLATES
            .iter()
            .find(|t| t.0.eq_ignore_ascii_case(template))
            .map(|t| (t.1.to_string(), t.3))
            .or_else(|| {
                self.find_server(template)
                    .map(|s| (s.os_type.clone(), s.storage_gb))
            })
            .ok_or_else(|| {
                Refusal::field(
                    "body.sourceServerId",
                    "The source server or template does not exist.",
                )
            })?;
        let prefix = format!(
            "{}{}{}",
            group.dc.to_ascii_uppercase(),
            self.account.alias,
            name.to_ascii_uppercase()
        );
        let counter = self.name_counters.entry(prefix.clone()).or_insert(0);
        *counter += 1;
        let full = format!("{prefix}{:02}", *counter);
        let id = full.to_ascii_lowercase();
        let uuid = new_id();
        let address = self.allocate_address(&group.dc);
        let mut all_disks = vec![("0:0".to_string(), storage, vec!["/".to_string()])];
        let mut storage_gb = storage;
        for (i, (path, size)) in disks.iter().enumerate() {
            all_disks.push((
                format!("0:{}", i + 1),
                *size,
                path.iter().cloned().collect(),
            ));
            storage_gb += size;
        }
        let mut rec = ServerRec {
            id: id.clone(),
            name: full,
            uuid: uuid.clone(),
            description: description.to_string(),
            group_id: group.id.clone(),
            dc: group.dc.clone(),
            template: template.to_ascii_uppercase(),
            os_type,
            cpu,
            memory_gb,
            storage_gb,
            disks: all_disks,
            storage_type: "standard".into(),
            kind: "standard".into(),
            managed_os: false,
            status: "underConstruction".into(),
            power_state: "stopped".into(),
            maintenance: false,
            internal_ip: address,
            public_ips: Vec::new(),
            password: password.to_string(),
            created: now,
            modified: now,
            build_log: Vec::new(),
            billed_until: now,
            charges: BTreeMap::new(),
        };
        rec.log(
            now,
            format!("Server {} queued for build from {template}", rec.name),
        );
        self.by_uuid.insert(uuid, id.clone());
        self.servers.insert(id.clone(), rec);
        Ok(id)
    }

    /// Validates package references against the catalog and their manifests; returns the
    /// resolved parameters per package.
    fn check_packages(
        &self,
        packages: &[PackageRef],
        key: &str,
    ) -> Result<ResolvedPackages, Refusal> {
        let mut out = Vec::new();
        let mut errors = BTreeMap::new();
        for (i, p) in packages.iter().enumerate() {
            let id = p.package_id.to_ascii_lowercase();
            let field = format!("{key}[{i}]");
            match self.packages.get(&id) {
                None => {
                    errors.insert(
                        format!("{field}.packageId"),
                        vec![format!("The package '{}' does not exist.", p.package_id)],
                    );
                }
                Some(rec) => match rec.manifest.resolve_parameters(&p.parameters) {
                    Ok(params) => out.push((id, params)),
                    Err(e) => {
                        errors.insert(
                            format!("{field}.parameters.{}", e.variable()),
                            vec![e.to_string()],
                        );
                    }
                },
            }
        }
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(Refusal::Invalid(errors))
        }
    }

    /// `POST /v2/servers`: validates, creates the record, queues the build. Returns
    /// `(short name, uuid, status id)`.
    pub fn create_server(
        &mut self,
        req: &crate::model::CreateServer,
        now: DateTime<Utc>,
    ) -> Result<(String, String, String), Refusal> {
        let mut errors: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut err = |k: &str, m: &str| {
            errors.entry(k.to_string()).or_default().push(m.to_string());
        };
        let name_ok = regex_is_match(r"^[A-Za-z0-9-]{1,8}$", &req.name);
        if req.name.is_empty() {
            err("body.name", "The name field is required.");
        } else if !name_ok {
            err(
                "body.name",
                "The name must be 1 to 8 characters: letters, digits or dashes.",
            );
        } else if self.account.alias.len() + req.name.len() > 10 {
            err(
                "body.name",
                "The account alias and server name together must be at most 10 characters.",
            );
        }
        let group = self.groups.get(&req.group_id).cloned();
        if req.group_id.is_empty() {
            err("body.groupId", "The groupId field is required.");
        } else if group.is_none() {
            err("body.groupId", "The group does not exist.");
        }
        if req.source_server_id.is_empty() {
            err(
                "body.sourceServerId",
                "The sourceServerId field is required.",
            );
        } else if !TEMPLATES
            .iter()
            .any(|t| t.0.eq_ignore_ascii_case(&req.source_server_id))
            && self.find_server(&req.source_server_id).is_none()
        {
            err(
                "body.sourceServerId",
                "The source server or template does not exist.",
            );
        }
        match req.cpu {
            None => err("body.cpu", "The cpu field is required."),
            Some(c) if !(1..=16).contains(&c) => {
                err("body.cpu", "The cpu must be between 1 and 16.")
            }
            _ => {}
        }
        match req.memory_gb {
            None => err("body.memoryGB", "The memoryGB field is required."),
            Some(m) if !(1..=128).contains(&m) => {
                err("body.memoryGB", "The memoryGB must be between 1 and 128.")
            }
            _ => {}
        }
        match req.kind.as_deref() {
            None | Some("") => err("body.type", "The type field is required."),
            Some(t)
                if !["standard", "hyperscale", "baremetal"]
                    .contains(&t.to_ascii_lowercase().as_str()) =>
            {
                err(
                    "body.type",
                    "The type must be standard, hyperscale or bareMetal.",
                )
            }
            _ => {}
        }
        if let Some(st) = req.storage_type.as_deref()
            && !["standard", "premium", "hyperscale"].contains(&st.to_ascii_lowercase().as_str())
        {
            err(
                "body.storageType",
                "The storageType must be standard, premium or hyperscale.",
            );
        }
        for (i, d) in req.additional_disks.iter().enumerate() {
            if d.size_gb == 0 || d.size_gb > 1024 {
                err(
                    &format!("body.additionalDisks[{i}].sizeGB"),
                    "The sizeGB must be between 1 and 1024.",
                );
            }
        }
        if let (Some(net), Some(g)) = (req.network_id.as_deref(), group.as_ref())
            && !net.is_empty()
            && net != self.network(&g.dc).0
        {
            err(
                "body.networkId",
                "The network does not exist in this data center.",
            );
        }
        let packages = match self.check_packages(&req.packages, "body.packages") {
            Ok(p) => p,
            Err(Refusal::Invalid(m)) => {
                for (k, v) in m {
                    errors.entry(k).or_default().extend(v);
                }
                Vec::new()
            }
            Err(_) => Vec::new(),
        };
        if !errors.is_empty() {
            return Err(Refusal::Invalid(errors));
        }
        let group = group.expect("checked");
        let password = req
            .password
            .clone()
            .filter(|p| !p.is_empty())
            .unwrap_or_else(generate_password);
        let disks: Vec<(Option<String>, u32)> = req
            .additional_disks
            .iter()
            .map(|d| (d.path.clone(), d.size_gb))
            .collect();
        let description = req.description.clone().unwrap_or_default();
        let id = self.create_server_record(
            &group,
            &req.name,
            &description,
            &req.source_server_id,
            req.cpu.expect("checked"),
            req.memory_gb.expect("checked"),
            &password,
            req.network_id.clone(),
            &disks,
            now,
        )?;
        {
            let s = self.servers.get_mut(&id).expect("created");
            s.storage_type = req
                .storage_type
                .clone()
                .map(|t| t.to_ascii_lowercase())
                .unwrap_or_else(|| "standard".into());
            s.kind = match req.kind.as_deref().map(str::to_ascii_lowercase).as_deref() {
                Some("hyperscale") => "hyperscale".into(),
                Some("baremetal") => "bareMetal".into(),
                _ => "standard".into(),
            };
            s.managed_os = req.is_managed_os;
        }
        let build_secs = if self.servers[&id].is_windows() {
            durations::BUILD_WINDOWS_SECS
        } else {
            durations::BUILD_LINUX_SECS
        };
        let mut plan = vec![Step::new(Action::Build { server: id.clone() }, build_secs)];
        for (package, params) in packages {
            plan.push(Step::new(
                Action::Package {
                    server: ServerRef::Id(id.clone()),
                    package,
                    params,
                },
                durations::PACKAGE_SECS,
            ));
        }
        let n = self.new_op(&group.dc, "Create server", plan, now);
        let uuid = self.servers[&id].uuid.clone();
        Ok((req.name.clone(), uuid, self.operations[&n].status_id()))
    }

    /// `DELETE /v2/servers/{id}`.
    pub fn delete_server(
        &mut self,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<(String, String), Refusal> {
        let s = self.find_server(key).ok_or(Refusal::NotFound)?.clone();
        if s.status == "queuedForDelete" {
            return Err(Refusal::BadRequest(
                "The server is already queued for deletion.".into(),
            ));
        }
        let srv = self.servers.get_mut(&s.id).expect("found");
        srv.status = "queuedForDelete".into();
        srv.modified = now;
        srv.log(now, "Queued for delete");
        let n = self.new_op(
            &s.dc,
            "Delete server",
            vec![Step::new(
                Action::DeleteServer {
                    server: s.id.clone(),
                },
                durations::DELETE_SECS,
            )],
            now,
        );
        Ok((s.id, self.operations[&n].status_id()))
    }

    fn require_active(&self, key: &str) -> Result<ServerRec, Refusal> {
        let s = self.find_server(key).ok_or(Refusal::NotFound)?;
        if s.status != "active" {
            return Err(Refusal::BadRequest(format!(
                "The server {} is not in a valid state for this operation ({}).",
                s.name, s.status
            )));
        }
        Ok(s.clone())
    }

    /// cpu/memory change: returns the status id.
    pub fn resize(
        &mut self,
        key: &str,
        cpu: Option<u32>,
        memory_gb: Option<u32>,
        now: DateTime<Utc>,
    ) -> Result<String, Refusal> {
        let s = self.require_active(key)?;
        if let Some(c) = cpu
            && !(1..=16).contains(&c)
        {
            return Err(Refusal::field(
                "body.value",
                "The cpu must be between 1 and 16.",
            ));
        }
        if let Some(m) = memory_gb
            && !(1..=128).contains(&m)
        {
            return Err(Refusal::field(
                "body.value",
                "The memory must be between 1 and 128.",
            ));
        }
        let n = self.new_op(
            &s.dc,
            "Change server",
            vec![Step::new(
                Action::Resize {
                    server: s.id.clone(),
                    cpu,
                    memory_gb,
                },
                durations::RESIZE_SECS,
            )],
            now,
        );
        Ok(self.operations[&n].status_id())
    }

    /// Power and maintenance operations on a batch; one shared status id. Returns one
    /// `(server, Ok(status id) | Err(message))` per requested server.
    pub fn power(&mut self, op: &str, servers: &[String], now: DateTime<Utc>) -> BatchResults {
        const INVALID: &str = "The operation cannot be queued because the server cannot be found or it is not in a valid state.";
        const ALREADY: &str = "The server already in desired state.";
        let mut queued = Vec::new();
        let mut results: Vec<(String, Result<(), String>)> = Vec::new();
        for key in servers {
            let Some(s) = self.find_server(key) else {
                results.push((key.clone(), Err(INVALID.into())));
                continue;
            };
            if s.status != "active" {
                results.push((key.clone(), Err(INVALID.into())));
                continue;
            }
            let ps = s.power_state.as_str();
            let outcome = match op {
                "powerOn" if ps == "started" => Err(ALREADY),
                "powerOff" | "shutDown" if ps == "stopped" => Err(ALREADY),
                "shutDown" | "reboot" if ps != "started" => Err(INVALID),
                "pause" if ps == "paused" => Err(ALREADY),
                "pause" if ps == "stopped" => Err(INVALID),
                "reset" if ps == "stopped" => Err(INVALID),
                "startMaintenance" if s.maintenance => Err(ALREADY),
                "stopMaintenance" if !s.maintenance => Err(ALREADY),
                _ => Ok(()),
            };
            match outcome {
                Ok(()) => {
                    queued.push(s.id.clone());
                    results.push((key.clone(), Ok(())));
                }
                Err(m) => results.push((key.clone(), Err(m.into()))),
            }
        }
        let status = if queued.is_empty() {
            String::new()
        } else {
            let dc = self.servers[&queued[0]].dc.clone();
            let n = self.new_op(
                &dc,
                op,
                vec![Step::new(
                    Action::Power {
                        servers: queued,
                        op: op.to_string(),
                    },
                    durations::POWER_SECS,
                )],
                now,
            );
            self.operations[&n].status_id()
        };
        results
            .into_iter()
            .map(|(k, r)| (k, r.map(|_| status.clone())))
            .collect()
    }

    /// `executePackage` on a batch: validates the package once, queues one operation per
    /// server sharing... one status id for the batch, like power operations.
    pub fn execute_package(
        &mut self,
        servers: &[String],
        package: &PackageRef,
        now: DateTime<Utc>,
    ) -> Result<BatchResults, Refusal> {
        let resolved = self.check_packages(std::slice::from_ref(package), "body.package")?;
        let (package_id, params) = resolved.into_iter().next().expect("one package");
        let mut plan = Vec::new();
        let mut results: Vec<(String, Result<(), String>)> = Vec::new();
        let mut dc = None;
        for key in servers {
            match self.find_server(key) {
                Some(s) if s.status == "active" => {
                    dc.get_or_insert_with(|| s.dc.clone());
                    plan.push(Step::new(
                        Action::Package {
                            server: ServerRef::Id(s.id.clone()),
                            package: package_id.clone(),
                            params: params.clone(),
                        },
                        durations::PACKAGE_SECS,
                    ));
                    results.push((key.clone(), Ok(())));
                }
                _ => results.push((
                    key.clone(),
                    Err("The operation cannot be queued because the server cannot be found or it is not in a valid state.".into()),
                )),
            }
        }
        let status = match dc {
            Some(dc) => {
                let n = self.new_op(&dc, "Execute package", plan, now);
                self.operations[&n].status_id()
            }
            None => String::new(),
        };
        Ok(results
            .into_iter()
            .map(|(k, r)| (k, r.map(|_| status.clone())))
            .collect())
    }

    /// Adds a public IP; returns the status id.
    pub fn add_public_ip(
        &mut self,
        key: &str,
        spec: &PublicIpSpec,
        now: DateTime<Utc>,
    ) -> Result<String, Refusal> {
        let s = self.require_active(key)?;
        check_public_ip_spec(spec)?;
        let internal = spec
            .internal_ip_address
            .clone()
            .unwrap_or_else(|| s.internal_ip.clone());
        if internal != s.internal_ip {
            return Err(Refusal::field(
                "body.internalIPAddress",
                "The internal IP address does not belong to the server.",
            ));
        }
        let address = self.allocate_public();
        let srv = self.servers.get_mut(&s.id).expect("exists");
        srv.public_ips.push(PublicIpRec {
            address: address.clone(),
            internal,
            spec: spec.clone(),
            ready: false,
        });
        let n = self.new_op(
            &s.dc,
            "Add public IP",
            vec![Step::new(
                Action::PublicIpReady {
                    server: ServerRef::Id(s.id.clone()),
                    address,
                },
                durations::PUBLIC_IP_SECS,
            )],
            now,
        );
        Ok(self.operations[&n].status_id())
    }

    /// Replaces a public IP's ports and restrictions; returns the status id.
    pub fn update_public_ip(
        &mut self,
        key: &str,
        address: &str,
        spec: &PublicIpSpec,
        now: DateTime<Utc>,
    ) -> Result<String, Refusal> {
        let s = self.require_active(key)?;
        check_public_ip_spec(spec)?;
        let srv = self.servers.get_mut(&s.id).expect("exists");
        let ip = srv
            .public_ips
            .iter_mut()
            .find(|ip| ip.address == address)
            .ok_or(Refusal::NotFound)?;
        ip.spec.ports = spec.ports.clone();
        ip.spec.source_restrictions = spec.source_restrictions.clone();
        let n = self.new_op(
            &s.dc,
            "Update public IP",
            vec![Step::new(Action::Wait, durations::PUBLIC_IP_SECS)],
            now,
        );
        Ok(self.operations[&n].status_id())
    }

    /// Removes a public IP; returns the status id.
    pub fn delete_public_ip(
        &mut self,
        key: &str,
        address: &str,
        now: DateTime<Utc>,
    ) -> Result<String, Refusal> {
        let s = self.find_server(key).ok_or(Refusal::NotFound)?.clone();
        if !s.public_ips.iter().any(|ip| ip.address == address) {
            return Err(Refusal::NotFound);
        }
        let n = self.new_op(
            &s.dc,
            "Remove public IP",
            vec![Step::new(
                Action::PublicIpRemoved {
                    server: s.id.clone(),
                    address: address.to_string(),
                },
                durations::PUBLIC_IP_SECS,
            )],
            now,
        );
        Ok(self.operations[&n].status_id())
    }

    /// Looks up an operation by status id (`<dc>-<n>`) or bare number.
    pub fn operation(&self, status_id: &str) -> Option<&OpRec> {
        let n: u64 = status_id.rsplit('-').next()?.parse().ok()?;
        let op = self.operations.get(&n)?;
        match status_id.rsplit_once('-') {
            Some((dc, _)) if !dc.eq_ignore_ascii_case(&op.dc) => None,
            _ => Some(op),
        }
    }

    // ---- blueprint catalog -------------------------------------------------------------

    /// Stores an uploaded package as pending (emulator-only upload; the real platform uses
    /// a browser upload or FTP).
    pub fn add_pending_package(&mut self, file_name: &str, manifest: Manifest) {
        self.pending_packages.insert(
            file_name.to_string(),
            PendingPackage {
                file_name: file_name.to_string(),
                manifest,
            },
        );
    }

    /// v1 `PublishPackage`: returns the request number.
    pub fn publish_package(
        &mut self,
        req: &crate::model::PublishPackageRequest,
        now: DateTime<Utc>,
    ) -> Result<u64, (i32, String)> {
        let pending = self.pending_packages.get(&req.name).cloned().ok_or((
            5,
            format!(
                "Package {} was not found among the pending packages.",
                req.name
            ),
        ))?;
        if !(2..=3).contains(&req.classification) {
            return Err((
                1200,
                "Classification must be 2 (Script) or 3 (Software).".into(),
            ));
        }
        if !(1..=3).contains(&req.visibility) {
            return Err((
                1201,
                "Visibility must be 1 (Public), 2 (Private) or 3 (Shared).".into(),
            ));
        }
        let uuid = pending.manifest.uuid.to_ascii_lowercase();
        // The catalog knows the package at once (as "being published"); its file becomes
        // usable when the publish request completes.
        self.packages.insert(
            uuid,
            PackageRec {
                manifest: pending.manifest.clone(),
                classification: req.classification,
                visibility: req.visibility,
                operating_systems: req.operating_systems.clone(),
                file: None,
            },
        );
        let dc = self.account.primary_dc.clone();
        Ok(self.new_op(
            &dc,
            "Publish package",
            vec![Step::new(
                Action::Publish {
                    file_name: req.name.clone(),
                },
                durations::PUBLISH_SECS,
            )],
            now,
        ))
    }

    /// Registers a blueprint (emulator-only; the real platform uses the portal designer).
    pub fn register_blueprint(&mut self, def: BlueprintDefinition) -> Result<u32, String> {
        for id in def.package_ids() {
            if !self.packages.contains_key(&id) {
                return Err(format!(
                    "The blueprint uses package {id}, which is not published."
                ));
            }
        }
        let id = self.next_blueprint;
        self.next_blueprint += 1;
        let dc = self.account.primary_dc.clone();
        self.blueprints.insert(
            id,
            BlueprintRec {
                id,
                definition: def,
                dc,
            },
        );
        Ok(id)
    }

    /// v1 `DeployBlueprint`: validates the parameters and queues the plan; returns the
    /// request number.
    pub fn deploy_blueprint(
        &mut self,
        req: &crate::model::DeployBlueprintRequest,
        now: DateTime<Utc>,
    ) -> Result<u64, (i32, String)> {
        let bp = self
            .blueprints
            .get(&req.id)
            .cloned()
            .ok_or((5, format!("Blueprint {} was not found.", req.id)))?;
        let given: BTreeMap<String, String> = bp
            .definition
            .execute
            .iter()
            .map(|(k, v)| (k.clone(), value_to_string(v)))
            .chain(
                req.parameters
                    .iter()
                    .map(|p| (p.name.clone(), p.value.clone())),
            )
            .collect();
        let dc = req
            .location_alias
            .clone()
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| self.account.primary_dc.clone())
            .to_ascii_uppercase();
        if !DATA_CENTERS.iter().any(|(d, _)| *d == dc) {
            return Err((3, format!("Unknown location {dc}.")));
        }
        let password = given
            .get("T3.BuildServerTask.Password")
            .cloned()
            .unwrap_or_default();
        if password.is_empty() {
            return Err((1210, "Password is required".into()));
        }
        let group_id = given
            .get("T3.BuildServerTask.GroupID")
            .cloned()
            .unwrap_or_default();
        if group_id.is_empty() {
            return Err((1210, "GroupID is required".into()));
        }
        match self.groups.get(&group_id) {
            Some(g) if g.dc == dc => {}
            _ => return Err((1211, format!("GroupID {group_id} is not a group in {dc}"))),
        }
        let network_id = given.get("T3.BuildServerTask.Network").cloned();
        let mut plan = Vec::new();
        let mut task_no = 0usize;
        for task in &bp.definition.tasks {
            if task.kind != "server" {
                continue;
            }
            let cpu: u32 = task.cpu.parse().unwrap_or(1);
            let memory_gb: u32 = task.ram.parse().unwrap_or(1);
            let alias: String = task
                .name
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
                .take(6)
                .collect();
            if !TEMPLATES
                .iter()
                .any(|t| t.0.eq_ignore_ascii_case(&task.template))
            {
                return Err((1202, format!("Template {} does not exist.", task.template)));
            }
            plan.push(Step::new(
                Action::BuildTask {
                    task: task_no,
                    alias: if alias.is_empty() {
                        "SRV".into()
                    } else {
                        alias
                    },
                    template: task.template.clone(),
                    cpu,
                    memory_gb,
                    group_id: group_id.clone(),
                    password: password.clone(),
                    network_id: network_id.clone(),
                },
                durations::BUILD_LINUX_SECS,
            ));
            for sub in &task.tasks {
                let server = ServerRef::Task(task_no);
                match sub.kind.as_str() {
                    "package" => {
                        let id = sub.uuid.to_ascii_lowercase();
                        let pkg = self
                            .packages
                            .get(&id)
                            .ok_or((5, format!("Package {} was not found.", sub.uuid)))?;
                        let mut values: BTreeMap<String, String> = sub
                            .properties
                            .iter()
                            .map(|(k, v)| (k.clone(), value_to_string(v)))
                            .collect();
                        for p in &pkg.manifest.parameters {
                            if let Some(v) = given.get(&p.variable) {
                                values
                                    .entry(p.variable.clone())
                                    .or_insert_with(|| v.clone());
                            }
                        }
                        let params = pkg
                            .manifest
                            .resolve_parameters(&values)
                            .map_err(|e: ParameterError| (e.v1_status_code(), e.to_string()))?;
                        plan.push(Step::new(
                            Action::Package {
                                server,
                                package: id,
                                params,
                            },
                            durations::PACKAGE_SECS,
                        ));
                    }
                    "disk" => plan.push(Step::new(
                        Action::AddDisk {
                            server,
                            size_gb: sub.size.parse().unwrap_or(10),
                        },
                        durations::RESIZE_SECS,
                    )),
                    "add_nat_ip" => {
                        let ports = ports_of(&sub.ingress_ports);
                        plan.push(Step::new(
                            Action::AddNatIp { server, ports },
                            durations::PUBLIC_IP_SECS,
                        ));
                    }
                    "reboot" => plan.push(Step::new(Action::Wait, durations::POWER_SECS * 3)),
                    _ => plan.push(Step::new(Action::Wait, durations::POWER_SECS)),
                }
            }
            task_no += 1;
        }
        let n = self.new_op(
            &dc,
            &format!("Deploy blueprint {}", bp.definition.metadata.name),
            plan,
            now,
        );
        let op = self.operations.get_mut(&n).expect("created");
        op.blueprint = Some(bp.id);
        op.task_servers = vec![None; task_no];
        Ok(n)
    }
}

fn ports_of(v: &serde_json::Value) -> Vec<u32> {
    let items: Vec<String> = match v {
        serde_json::Value::Array(a) => a.iter().map(value_to_string).collect(),
        serde_json::Value::String(s) => s.split(',').map(str::to_string).collect(),
        serde_json::Value::Number(n) => vec![n.to_string()],
        _ => Vec::new(),
    };
    items.iter().filter_map(|p| p.trim().parse().ok()).collect()
}

fn check_public_ip_spec(spec: &PublicIpSpec) -> Result<(), Refusal> {
    if spec.ports.is_empty() {
        return Err(Refusal::field(
            "body.ports",
            "At least one port is required.",
        ));
    }
    for (i, p) in spec.ports.iter().enumerate() {
        if !["TCP", "UDP", "ICMP"].contains(&p.protocol.to_ascii_uppercase().as_str()) {
            return Err(Refusal::field(
                &format!("body.ports[{i}].protocol"),
                "The protocol must be TCP, UDP or ICMP.",
            ));
        }
        if p.port > 65535 || p.port_to.is_some_and(|t| t < p.port || t > 65535) {
            return Err(Refusal::field(
                &format!("body.ports[{i}].port"),
                "The port is out of range.",
            ));
        }
    }
    Ok(())
}

fn regex_is_match(pattern: &str, s: &str) -> bool {
    regex::Regex::new(pattern)
        .map(|r| r.is_match(s))
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CreateServer;

    fn state() -> (State, DateTime<Utc>) {
        let now = Utc::now();
        (State::new("CERT", "user", "pw", "VA1", now), now)
    }

    fn create(st: &mut State, now: DateTime<Utc>) -> (String, String) {
        let group = st.default_group("VA1").unwrap().id.clone();
        let req = CreateServer {
            name: "web".into(),
            group_id: group,
            source_server_id: "CENTOS-7-64-TEMPLATE".into(),
            cpu: Some(2),
            memory_gb: Some(4),
            kind: Some("standard".into()),
            ..Default::default()
        };
        let (_, uuid, status) = st.create_server(&req, now).unwrap();
        (st.by_uuid[&uuid].clone(), status)
    }

    #[test]
    fn account_starts_with_the_real_group_layout() {
        let (st, _) = state();
        let root = st.root_group("VA1").unwrap();
        assert_eq!(root.name, "VA1 Hardware");
        let names: Vec<_> = root
            .children
            .iter()
            .map(|c| st.groups[c].name.clone())
            .collect();
        assert_eq!(names, ["Archive", "Default Group", "Templates"]);
    }

    #[test]
    fn a_build_takes_account_time_and_names_follow_the_pattern() {
        let (mut st, now) = state();
        let (id, status) = create(&mut st, now);
        assert_eq!(id, "va1certweb01");
        assert!(status.starts_with("va1-"));
        assert_eq!(
            st.operation(&status).unwrap().status,
            QueueStatus::NotStarted
        );
        st.advance(now + TimeDelta::seconds(10));
        assert_eq!(
            st.operation(&status).unwrap().status,
            QueueStatus::Executing
        );
        assert_eq!(st.servers[&id].status, "underConstruction");
        st.advance(now + TimeDelta::minutes(4));
        assert_eq!(
            st.operation(&status).unwrap().status,
            QueueStatus::Succeeded
        );
        assert_eq!(st.servers[&id].status, "active");
        assert_eq!(st.servers[&id].power_state, "started");
        let (second, _) = create(&mut st, now);
        assert_eq!(second, "va1certweb02");
    }

    #[test]
    fn billing_accrues_across_a_month_boundary() {
        let (mut st, _) = state();
        let t0 = chrono::NaiveDate::from_ymd_opt(2026, 1, 31)
            .unwrap()
            .and_hms_opt(23, 0, 0)
            .unwrap()
            .and_utc();
        let (id, _) = create(&mut st, t0);
        st.advance(t0 + TimeDelta::hours(2));
        st.accrue(&id, t0 + TimeDelta::hours(2));
        let s = &st.servers[&id];
        let rate = s.hourly();
        assert!((s.charges["2026-01"] - rate).abs() < 1e-9);
        assert!((s.charges["2026-02"] - rate).abs() < 1e-9);
    }
}
