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
//!
//! [`State`] composes one store per concern, each with its own module: [`Groups`],
//! [`Servers`], the operations [`Scheduler`], the [`Catalog`] and the billing store
//! ([`Billing`]). The requests that span stores are in `requests`, and how steps begin,
//! end and apply in `engine`. `state.json` stays one flat object ([`Persisted`]).

mod catalog;
mod engine;
mod groups;
mod requests;
mod scheduler;
mod servers;

use std::borrow::Cow;
use std::collections::{BTreeMap, BinaryHeap, HashMap};

use chrono::{DateTime, Datelike, TimeDelta, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use certify_blueprint::Manifest;

use crate::billing::{Billing, ClosedCharge};
pub(crate) use catalog::{BlueprintRec, Catalog, PackageRec, PendingPackage};
pub(crate) use groups::{GroupRec, Groups};
pub(crate) use scheduler::{OpRec, Scheduled, Scheduler};
pub(crate) use servers::{ServerRec, Servers};

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

/// The whole account: the stores, and what the running emulator adds to them.
#[derive(Debug)]
pub(crate) struct State {
    pub account: AccountInfo,
    pub groups: Groups,
    pub servers: Servers,
    pub ops: Scheduler,
    pub catalog: Catalog,
    pub billing: Billing,
    /// What the caller must do once it releases the lock.
    pub effects: Effects,
    pub local_exec: bool,
    /// Local packages run in sandboxes on the run network: addresses are `10.88.x.y`.
    pub run_network: bool,
    pub faults: std::sync::Arc<super::faults::Faults>,
}

/// `state.json`: every store's persistent part, side by side in one object (the stores
/// borrow into it to save and are taken out of it on load).
#[derive(Serialize, Deserialize)]
struct Persisted<'a> {
    account: Cow<'a, AccountInfo>,
    /// Account time when the state was last saved.
    account_time: DateTime<Utc>,
    next_op: u64,
    next_seq: u64,
    next_address: u32,
    next_public: u32,
    next_blueprint: u32,
    groups: Cow<'a, Groups>,
    servers: Cow<'a, BTreeMap<String, ServerRec>>,
    name_counters: Cow<'a, HashMap<String, u32>>,
    operations: Cow<'a, HashMap<u64, OpRec>>,
    events: Cow<'a, BinaryHeap<Scheduled>>,
    packages: Cow<'a, BTreeMap<String, PackageRec>>,
    pending_packages: Cow<'a, BTreeMap<String, PendingPackage>>,
    blueprints: Cow<'a, BTreeMap<u32, BlueprintRec>>,
    closed_charges: Cow<'a, [ClosedCharge]>,
}

impl Serialize for State {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Persisted {
            account: Cow::Borrowed(&self.account),
            account_time: self.ops.account_time,
            next_op: self.ops.next_op,
            next_seq: self.ops.next_seq,
            next_address: self.servers.next_address,
            next_public: self.servers.next_public,
            next_blueprint: self.catalog.next_blueprint,
            groups: Cow::Borrowed(&self.groups),
            servers: Cow::Borrowed(&self.servers.map),
            name_counters: Cow::Borrowed(&self.servers.name_counters),
            operations: Cow::Borrowed(&self.ops.operations),
            events: Cow::Borrowed(&self.ops.events),
            packages: Cow::Borrowed(&self.catalog.packages),
            pending_packages: Cow::Borrowed(&self.catalog.pending_packages),
            blueprints: Cow::Borrowed(&self.catalog.blueprints),
            closed_charges: Cow::Borrowed(self.billing.closed_charges.as_slice()),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for State {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let p = Persisted::deserialize(deserializer)?;
        Ok(State {
            account: p.account.into_owned(),
            groups: p.groups.into_owned(),
            servers: Servers {
                map: p.servers.into_owned(),
                by_uuid: HashMap::new(),
                name_counters: p.name_counters.into_owned(),
                next_address: p.next_address,
                next_public: p.next_public,
            },
            ops: Scheduler {
                account_time: p.account_time,
                next_op: p.next_op,
                next_seq: p.next_seq,
                operations: p.operations.into_owned(),
                events: p.events.into_owned(),
            },
            catalog: Catalog {
                packages: p.packages.into_owned(),
                pending_packages: p.pending_packages.into_owned(),
                blueprints: p.blueprints.into_owned(),
                next_blueprint: p.next_blueprint,
            },
            billing: Billing {
                closed_charges: p.closed_charges.into_owned(),
            },
            effects: Effects::default(),
            local_exec: false,
            run_network: false,
            faults: Default::default(),
        })
    }
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
            groups: Groups::default(),
            servers: Servers::default(),
            ops: Scheduler::new(now),
            catalog: Catalog::with_system_packages(),
            billing: Billing::default(),
            effects: Effects::default(),
            local_exec: false,
            run_network: false,
            faults: Default::default(),
        };
        for (dc, _) in DATA_CENTERS {
            let root = st
                .groups
                .insert(None, &format!("{dc} Hardware"), "", dc, "default", now);
            st.groups
                .insert(Some(&root), "Archive", "Archive", dc, "archive", now);
            st.groups.insert(
                Some(&root),
                "Default Group",
                "Default Group",
                dc,
                "default",
                now,
            );
            st.groups
                .insert(Some(&root), "Templates", "Templates", dc, "templates", now);
        }
        st
    }

    /// Rebuilds the indexes that are not persisted.
    pub fn reindex(&mut self) {
        self.servers.reindex();
        // A process cannot survive a restart: a step that waited on one has failed.
        let waiting: Vec<u64> = self
            .ops
            .values()
            .filter(|o| o.awaiting_process)
            .map(|o| o.n)
            .collect();
        for n in waiting {
            let now = self.ops.account_time;
            self.finish_step(
                n,
                self.ops[&n].cursor,
                now,
                Err("the emulator restarted while the package was running".into()),
            );
        }
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

    /// Hours left in the account month at `now`.
    pub fn hours_left_in_month(now: DateTime<Utc>) -> f64 {
        (next_month_start(now) - now).num_seconds() as f64 / 3600.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use certify_clc::model::{CreateServer, QueueStatus};

    fn state() -> (State, DateTime<Utc>) {
        let now = Utc::now();
        (State::new("CERT", "user", "pw", "VA1", now), now)
    }

    fn create(st: &mut State, now: DateTime<Utc>) -> (String, String) {
        let group = st.groups.default_group("VA1").unwrap().id.clone();
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
        (st.servers.by_uuid[&uuid].clone(), status)
    }

    #[test]
    fn account_starts_with_the_real_group_layout() {
        let (st, _) = state();
        let root = st.groups.root("VA1").unwrap();
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
            st.ops.by_status_id(&status).unwrap().status,
            QueueStatus::NotStarted
        );
        st.advance(now + TimeDelta::seconds(10));
        assert_eq!(
            st.ops.by_status_id(&status).unwrap().status,
            QueueStatus::Executing
        );
        assert_eq!(st.servers[&id].status, "underConstruction");
        st.advance(now + TimeDelta::minutes(4));
        assert_eq!(
            st.ops.by_status_id(&status).unwrap().status,
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
        st.servers.accrue(&id, t0 + TimeDelta::hours(2));
        let s = &st.servers[&id];
        let rate = s.hourly();
        assert!((s.charges["2026-01"] - rate).abs() < 1e-9);
        assert!((s.charges["2026-02"] - rate).abs() < 1e-9);
    }

    #[test]
    fn state_json_keeps_its_flat_layout_across_a_round_trip() {
        let (mut st, now) = state();
        create(&mut st, now);
        let saved = serde_json::to_value(&st).unwrap();
        let keys: Vec<&str> = saved
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        let mut expected = vec![
            "account",
            "account_time",
            "next_op",
            "next_seq",
            "next_address",
            "next_public",
            "next_blueprint",
            "groups",
            "servers",
            "name_counters",
            "operations",
            "events",
            "packages",
            "pending_packages",
            "blueprints",
            "closed_charges",
        ];
        let mut keys = keys;
        keys.sort();
        expected.sort();
        assert_eq!(keys, expected);
        let mut loaded: State = serde_json::from_value(saved.clone()).unwrap();
        loaded.reindex();
        assert_eq!(serde_json::to_value(&loaded).unwrap(), saved);
        assert_eq!(
            loaded
                .servers
                .find(&st.servers["va1certweb01"].uuid)
                .unwrap()
                .id,
            "va1certweb01"
        );
    }
}
