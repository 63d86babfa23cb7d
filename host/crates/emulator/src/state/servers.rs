//! The servers store: every server record, the index from uuid to id, the counters that
//! name servers and hand out their addresses, and each server's charges as they accrue on
//! the account clock.

use std::collections::{BTreeMap, HashMap};
use std::ops::Deref;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use certify_blueprint::{PriceList, ServerSize};
use certify_clc::model::PublicIpSpec;

use super::{DATA_CENTERS, month_key, next_month_start};

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
            certify_clc::model::format_time(at),
            line.as_ref()
        ));
    }
}

/// Every server by id (its lower-cased name). Reads go through the map; adding and
/// removing go through the store, which keeps the uuid index in step.
#[derive(Debug, Clone, Default)]
pub(crate) struct Servers {
    pub(super) map: BTreeMap<String, ServerRec>,
    /// uuid → id; rebuilt on load, not persisted.
    pub(super) by_uuid: HashMap<String, String>,
    /// The last number given to each name prefix (`<DC><ALIAS><NAME>`).
    pub(super) name_counters: HashMap<String, u32>,
    pub(super) next_address: u32,
    pub(super) next_public: u32,
}

impl Deref for Servers {
    type Target = BTreeMap<String, ServerRec>;

    fn deref(&self) -> &Self::Target {
        &self.map
    }
}

impl Servers {
    pub fn get_mut(&mut self, id: &str) -> Option<&mut ServerRec> {
        self.map.get_mut(id)
    }

    /// Rebuilds the uuid index after a load.
    pub fn reindex(&mut self) {
        self.by_uuid = self
            .map
            .values()
            .map(|s| (s.uuid.clone(), s.id.clone()))
            .collect();
    }

    pub fn find(&self, key: &str) -> Option<&ServerRec> {
        let key = key.to_ascii_lowercase();
        self.map
            .get(&key)
            .or_else(|| self.by_uuid.get(&key).and_then(|id| self.map.get(id)))
    }

    pub fn in_group(&self, group: &str) -> impl Iterator<Item = &ServerRec> {
        let group = group.to_string();
        self.map.values().filter(move |s| s.group_id == group)
    }

    /// The next full name for a prefix: `<prefix>01`, `<prefix>02`, …
    pub fn next_name(&mut self, prefix: &str) -> String {
        let counter = self.name_counters.entry(prefix.to_string()).or_insert(0);
        *counter += 1;
        format!("{prefix}{:02}", *counter)
    }

    pub fn insert(&mut self, rec: ServerRec) {
        self.by_uuid.insert(rec.uuid.clone(), rec.id.clone());
        self.map.insert(rec.id.clone(), rec);
    }

    pub fn remove(&mut self, id: &str) -> Option<ServerRec> {
        let s = self.map.remove(id)?;
        self.by_uuid.remove(&s.uuid);
        Some(s)
    }

    /// A server's internal address: one of the data center's network, or with Local
    /// execution its own loopback address (or one on the run network).
    pub fn allocate_address(&mut self, dc: &str, local_exec: bool, run_network: bool) -> String {
        let n = self.next_address;
        self.next_address += 1;
        if local_exec && run_network {
            return certify_sandbox::RunNetwork::address(n % 65_000).to_string();
        }
        if local_exec {
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

    pub fn allocate_public(&mut self) -> String {
        // Documentation ranges (RFC 5737): never routable, never someone else's host.
        let n = self.next_public;
        self.next_public += 1;
        let nets = ["203.0.113", "198.51.100", "192.0.2"];
        format!("{}.{}", nets[(n / 250) as usize % 3], 2 + n % 250)
    }

    /// Accrues a server's charges up to `until`, split at month boundaries.
    pub fn accrue(&mut self, id: &str, until: DateTime<Utc>) {
        let Some(s) = self.map.get_mut(id) else {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_are_found_by_id_or_uuid_until_removed() {
        let now = Utc::now();
        let mut servers = Servers::default();
        let name = servers.next_name("VA1CERTWEB");
        assert_eq!(name, "VA1CERTWEB01");
        assert_eq!(servers.next_name("VA1CERTWEB"), "VA1CERTWEB02");
        let rec: ServerRec = serde_json::from_value(serde_json::json!({
            "id": "va1certweb01", "name": name, "uuid": "abc", "description": "",
            "group_id": "g", "dc": "VA1", "template": "CENTOS-7-64-TEMPLATE",
            "os_type": "centOS7_64Bit", "cpu": 1, "memory_gb": 1, "storage_gb": 17,
            "disks": [], "storage_type": "standard", "kind": "standard", "managed_os": false,
            "status": "active", "power_state": "started", "maintenance": false,
            "internal_ip": "10.10.0.12", "public_ips": [], "password": "p",
            "created": now, "modified": now, "build_log": [], "billed_until": now,
            "charges": {},
        }))
        .unwrap();
        servers.insert(rec);
        assert_eq!(servers.find("ABC").unwrap().id, "va1certweb01");
        assert_eq!(servers.find("VA1CERTWEB01").unwrap().uuid, "abc");
        servers.remove("va1certweb01");
        assert!(servers.find("abc").is_none());
    }
}
