//! The price list (`clc-api.md` §6): what the harness prices a chargeable action at
//! before it happens, so the ledger can reserve it, and what the emulated account bills.
//!
//! The figures default to the public CLC price list (unchanged since 2016); an account
//! can have its own, so [`PriceList`] is a plain struct the harness fills from the account
//! when it knows better. Estimates round *up* to the micro-dollar: the reservation must
//! cover the charge, never fall a fraction short of it. The emulated account accrues
//! charges by the second, in dollars as its API reports them; [`PriceList::hourly_dollars`]
//! is that view of the same list.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use certify_program::Money;

/// Unit prices of the test account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceList {
    /// Per vCPU-hour.
    pub cpu_hour: Money,
    /// Per GB-hour of memory.
    pub memory_gb_hour: Money,
    /// Per GB-month of standard block storage (allocated, not used).
    pub standard_storage_gb_month: Money,
    /// Per GB-month of premium block storage.
    pub premium_storage_gb_month: Money,
    /// Per GB-hour of hyperscale storage.
    pub hyperscale_storage_gb_hour: Money,
    /// Per hour of a Windows or Red Hat licence; CentOS, Debian and Ubuntu are free.
    pub os_licence_hour: Money,
    /// Per hour of managed OS.
    pub managed_os_hour: Money,
    /// Per public IP per month.
    pub public_ip_month: Money,
    /// Hours a monthly price is spread over; the price estimator counts 720.
    pub hours_per_month: u32,
}

impl Default for PriceList {
    /// The public list price (`PriceEstimator:public/prices/*.json`).
    fn default() -> PriceList {
        PriceList {
            cpu_hour: Money::from_cents(1),
            memory_gb_hour: Money::from_micros(15_000),
            standard_storage_gb_month: Money::from_cents(12),
            premium_storage_gb_month: Money::from_cents(12),
            hyperscale_storage_gb_hour: Money::from_micros(500),
            os_licence_hour: Money::from_cents(4),
            managed_os_hour: Money::from_cents(21),
            public_ip_month: Money::from_dollars(2),
            hours_per_month: 720,
        }
    }
}

/// Block storage types a server can have.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StorageType {
    /// Standard block storage (priced per GB-month).
    #[default]
    Standard,
    /// Premium block storage (priced per GB-month).
    Premium,
    /// Hyperscale storage (priced per GB-hour).
    Hyperscale,
}

impl fmt::Display for StorageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StorageType::Standard => "standard",
            StorageType::Premium => "premium",
            StorageType::Hyperscale => "hyperscale",
        })
    }
}

/// Why a text is not a storage type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a storage type: use standard, premium or hyperscale")]
pub struct StorageTypeError(String);

impl FromStr for StorageType {
    type Err = StorageTypeError;

    fn from_str(s: &str) -> Result<StorageType, StorageTypeError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "standard" => Ok(StorageType::Standard),
            "premium" => Ok(StorageType::Premium),
            "hyperscale" => Ok(StorageType::Hyperscale),
            _ => Err(StorageTypeError(s.to_owned())),
        }
    }
}

/// What a server is made of, as far as its price goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerSize {
    /// vCPUs.
    pub cpu: u32,
    /// Memory in GB.
    pub memory_gb: u32,
    /// All its disks together, in GB.
    pub storage_gb: u32,
    /// The storage type of those disks.
    pub storage_type: StorageType,
    /// The OS type or template name (`windows2012R2DataCenter_64Bit`, `RHEL-7-64-TEMPLATE`,
    /// `ubuntu-14-64`); decides whether a licence is charged.
    pub os: String,
    /// Managed OS.
    pub managed_os: bool,
    /// Public IPs attached to it.
    pub public_ips: u32,
}

impl ServerSize {
    /// An unmanaged server without public IPs.
    pub fn new(
        cpu: u32,
        memory_gb: u32,
        storage_gb: u32,
        storage_type: StorageType,
        os: impl Into<String>,
    ) -> ServerSize {
        ServerSize {
            cpu,
            memory_gb,
            storage_gb,
            storage_type,
            os: os.into(),
            managed_os: false,
            public_ips: 0,
        }
    }
}

/// What a line of a server's price is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resource {
    /// Virtual CPUs.
    Cpu,
    /// Memory.
    Memory,
    /// Block storage.
    Storage,
    /// A Windows or Red Hat licence.
    OsLicence,
    /// Managed OS.
    ManagedOs,
    /// Public IP addresses.
    PublicIps,
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Resource::Cpu => "CPU",
            Resource::Memory => "memory",
            Resource::Storage => "storage",
            Resource::OsLicence => "OS licence",
            Resource::ManagedOs => "managed OS",
            Resource::PublicIps => "public IPs",
        })
    }
}

/// Whether an OS type carries a licence charge: Windows and Red Hat do.
pub fn os_is_licensed(os: &str) -> bool {
    let os = os.trim().to_ascii_lowercase();
    ["win", "redhat", "red hat", "rhel"]
        .iter()
        .any(|prefix| os.starts_with(prefix))
}

/// Hours billed for something that exists for `duration`: every started hour counts,
/// and anything that exists at all is billed at least one hour.
pub fn billed_hours(duration: Duration) -> u32 {
    const HOUR: u64 = 3600;
    let secs = duration.as_secs() + u64::from(duration.subsec_nanos() > 0);
    let hours = secs.div_ceil(HOUR).max(1);
    u32::try_from(hours).unwrap_or(u32::MAX)
}

/// A price as a fraction: `per_hour + per_month / hours_per_month` micro-dollars an hour,
/// kept apart until the end so monthly items are divided once, not per item.
#[derive(Default)]
struct Rate {
    per_hour: i128,
    per_month: i128,
}

impl Rate {
    fn hourly(&mut self, price: Money, quantity: u32) {
        self.per_hour += i128::from(price.micros()) * i128::from(quantity);
    }

    fn monthly(&mut self, price: Money, quantity: u32) {
        self.per_month += i128::from(price.micros()) * i128::from(quantity);
    }

    /// The charge for `hours`, rounded up to the micro-dollar.
    fn over(&self, hours: u32, hours_per_month: u32) -> Money {
        let per_month_hours = i128::from(hours_per_month.max(1));
        let numerator = (self.per_hour * per_month_hours + self.per_month) * i128::from(hours);
        let micros = numerator.div_euclid(per_month_hours)
            + i128::from(numerator.rem_euclid(per_month_hours) != 0);
        Money::from_micros(i64::try_from(micros).unwrap_or(i64::MAX))
    }
}

impl PriceList {
    fn server_rate(&self, server: &ServerSize) -> Rate {
        let mut rate = Rate::default();
        rate.hourly(self.cpu_hour, server.cpu);
        rate.hourly(self.memory_gb_hour, server.memory_gb);
        match server.storage_type {
            StorageType::Standard => {
                rate.monthly(self.standard_storage_gb_month, server.storage_gb)
            }
            StorageType::Premium => rate.monthly(self.premium_storage_gb_month, server.storage_gb),
            StorageType::Hyperscale => {
                rate.hourly(self.hyperscale_storage_gb_hour, server.storage_gb)
            }
        }
        if os_is_licensed(&server.os) {
            rate.hourly(self.os_licence_hour, 1);
        }
        if server.managed_os {
            rate.hourly(self.managed_os_hour, 1);
        }
        rate.monthly(self.public_ip_month, server.public_ips);
        rate
    }

    /// What one server costs for `hours` billed hours (see [`billed_hours`]), its public
    /// IPs included, rounded up to the micro-dollar.
    pub fn estimate_server(&self, server: &ServerSize, hours: u32) -> Money {
        self.server_rate(server).over(hours, self.hours_per_month)
    }

    /// What one server costs for `hours`, item by item: vCPUs, memory,
    /// storage, OS licence, managed OS, public IPs (items that cost nothing
    /// are left out). Each item is rounded up on its own, so the items can add
    /// up to a few micro-dollars more than [`PriceList::estimate_server`],
    /// which prices the server as a whole and is what a run reserves.
    pub fn breakdown(&self, server: &ServerSize, hours: u32) -> Vec<(Resource, Money)> {
        let item = |f: &dyn Fn(&mut Rate)| {
            let mut rate = Rate::default();
            f(&mut rate);
            rate.over(hours, self.hours_per_month)
        };
        let storage = match server.storage_type {
            StorageType::Standard => {
                item(&|r| r.monthly(self.standard_storage_gb_month, server.storage_gb))
            }
            StorageType::Premium => {
                item(&|r| r.monthly(self.premium_storage_gb_month, server.storage_gb))
            }
            StorageType::Hyperscale => {
                item(&|r| r.hourly(self.hyperscale_storage_gb_hour, server.storage_gb))
            }
        };
        let lines = [
            (
                Resource::Cpu,
                item(&|r| r.hourly(self.cpu_hour, server.cpu)),
            ),
            (
                Resource::Memory,
                item(&|r| r.hourly(self.memory_gb_hour, server.memory_gb)),
            ),
            (Resource::Storage, storage),
            (
                Resource::OsLicence,
                item(&|r| r.hourly(self.os_licence_hour, u32::from(os_is_licensed(&server.os)))),
            ),
            (
                Resource::ManagedOs,
                item(&|r| r.hourly(self.managed_os_hour, u32::from(server.managed_os))),
            ),
            (
                Resource::PublicIps,
                item(&|r| r.monthly(self.public_ip_month, server.public_ips)),
            ),
        ];
        lines
            .into_iter()
            .filter(|(_, cost)| *cost != Money::ZERO)
            .collect()
    }

    /// What one server costs an hour, rounded up to the micro-dollar.
    pub fn server_hourly(&self, server: &ServerSize) -> Money {
        self.estimate_server(server, 1)
    }

    /// What a server costs an hour in dollars, unrounded, as the emulated account accrues
    /// it; a stopped server pays for its storage and public IPs only.
    pub fn hourly_dollars(&self, server: &ServerSize, powered_on: bool) -> f64 {
        let per_month = f64::from(self.hours_per_month.max(1));
        let storage =
            f64::from(server.storage_gb) * self.storage_gb_hour_dollars(server.storage_type);
        let ips = f64::from(server.public_ips) * self.public_ip_month.as_dollars_f64() / per_month;
        if !powered_on {
            return storage + ips;
        }
        let compute = f64::from(server.cpu) * self.cpu_hour.as_dollars_f64()
            + f64::from(server.memory_gb) * self.memory_gb_hour.as_dollars_f64();
        let managed = if server.managed_os {
            self.managed_os_hour.as_dollars_f64()
        } else {
            0.0
        };
        compute + storage + ips + self.os_licence_hour_dollars(&server.os) + managed
    }

    /// Dollars a GB of storage of this type costs an hour.
    pub fn storage_gb_hour_dollars(&self, storage: StorageType) -> f64 {
        let per_month = f64::from(self.hours_per_month.max(1));
        match storage {
            StorageType::Standard => self.standard_storage_gb_month.as_dollars_f64() / per_month,
            StorageType::Premium => self.premium_storage_gb_month.as_dollars_f64() / per_month,
            StorageType::Hyperscale => self.hyperscale_storage_gb_hour.as_dollars_f64(),
        }
    }

    /// Dollars an hour of this OS's licence costs (nothing for a free one).
    pub fn os_licence_hour_dollars(&self, os: &str) -> f64 {
        if os_is_licensed(os) {
            self.os_licence_hour.as_dollars_f64()
        } else {
            0.0
        }
    }

    /// What `count` public IPs cost for `hours` billed hours, rounded up.
    pub fn estimate_public_ips(&self, count: u32, hours: u32) -> Money {
        let mut rate = Rate::default();
        rate.monthly(self.public_ip_month, count);
        rate.over(hours, self.hours_per_month)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worked_example_from_the_price_list() {
        // clc-api.md §6: 2 vCPU + 4 GB + 60 GB standard on Windows is $0.13/h, $93.60 a month.
        let prices = PriceList::default();
        let server = ServerSize::new(
            2,
            4,
            60,
            StorageType::Standard,
            "windows2012R2DataCenter_64Bit",
        );
        assert_eq!(prices.server_hourly(&server), Money::from_cents(13));
        assert_eq!(
            prices.estimate_server(&server, 720),
            Money::from_cents(9_360)
        );
    }

    #[test]
    fn linux_is_free_and_red_hat_is_not() {
        let prices = PriceList::default();
        let ubuntu = ServerSize::new(1, 1, 0, StorageType::Standard, "ubuntu-14-64");
        assert_eq!(prices.server_hourly(&ubuntu), Money::from_micros(25_000));
        let rhel = ServerSize {
            os: "RHEL-7-64-TEMPLATE".into(),
            ..ubuntu.clone()
        };
        assert_eq!(prices.server_hourly(&rhel), Money::from_micros(65_000));
        assert!(os_is_licensed("redHat6_64Bit"));
        assert!(!os_is_licensed("centOS6_64Bit"));
    }

    #[test]
    fn monthly_items_round_up_never_down() {
        let prices = PriceList::default();
        // 17 GB standard for one hour: 17 × 0.12 / 720 = $0.0028333… → 2,834 micro-dollars.
        let disk_only = ServerSize::new(0, 0, 17, StorageType::Standard, "centOS6_64Bit");
        assert_eq!(
            prices.estimate_server(&disk_only, 1),
            Money::from_micros(2_834)
        );
        // Over the whole month the fractions add up exactly: $2.04.
        assert_eq!(
            prices.estimate_server(&disk_only, 720),
            Money::from_cents(204)
        );
        // A public IP: $2/720 an hour, $2 a month.
        assert_eq!(prices.estimate_public_ips(1, 1), Money::from_micros(2_778));
        assert_eq!(prices.estimate_public_ips(3, 720), Money::from_dollars(6));
    }

    #[test]
    fn extras_are_priced() {
        let prices = PriceList::default();
        let mut server = ServerSize::new(1, 2, 0, StorageType::Hyperscale, "ubuntu");
        server.storage_gb = 100;
        server.managed_os = true;
        server.public_ips = 1;
        // 0.01 + 0.03 + 100 × 0.0005 + 0.21 = $0.30/h, plus $2/720 for the IP.
        assert_eq!(
            prices.estimate_server(&server, 720),
            Money::from_dollars(216 + 2)
        );
    }

    #[test]
    fn the_breakdown_names_each_resource_and_covers_the_whole() {
        let prices = PriceList::default();
        let mut server = ServerSize::new(2, 4, 60, StorageType::Standard, "RHEL-7-64-TEMPLATE");
        server.public_ips = 1;
        let lines = prices.breakdown(&server, 3);
        let names: Vec<Resource> = lines.iter().map(|(r, _)| *r).collect();
        assert_eq!(
            names,
            [
                Resource::Cpu,
                Resource::Memory,
                Resource::Storage,
                Resource::OsLicence,
                Resource::PublicIps
            ]
        );
        assert_eq!(lines[0].1, Money::from_cents(6), "2 vCPU × 3 h × $0.01");
        assert_eq!(lines[3].1, Money::from_cents(12), "3 h of licence");
        let sum = lines.iter().fold(Money::ZERO, |a, (_, m)| a + *m);
        let whole = prices.estimate_server(&server, 3);
        assert!(
            sum >= whole && sum - whole < Money::from_micros(10),
            "{sum} vs {whole}"
        );
        // Ubuntu has no licence line.
        server.os = "UBUNTU-16-64-TEMPLATE".into();
        assert!(
            prices
                .breakdown(&server, 3)
                .iter()
                .all(|(r, _)| *r != Resource::OsLicence)
        );
    }

    #[test]
    fn the_account_s_own_prices_replace_the_list() {
        let prices = PriceList {
            cpu_hour: Money::from_cents(2),
            ..PriceList::default()
        };
        let server = ServerSize::new(4, 0, 0, StorageType::Standard, "ubuntu");
        assert_eq!(prices.estimate_server(&server, 10), Money::from_cents(80));
    }

    #[test]
    fn every_started_hour_is_billed_and_at_least_one() {
        assert_eq!(billed_hours(Duration::ZERO), 1);
        assert_eq!(billed_hours(Duration::from_secs(1)), 1);
        assert_eq!(billed_hours(Duration::from_secs(3600)), 1);
        assert_eq!(billed_hours(Duration::from_millis(3_600_001)), 2);
        assert_eq!(
            billed_hours(Duration::from_secs(20 * 60)),
            1,
            "a blueprint's 20 minutes"
        );
        assert_eq!(billed_hours(Duration::from_secs(3 * 3600 - 1)), 3);
    }

    #[test]
    fn the_account_s_dollars_are_the_list_s() {
        let prices = PriceList::default();
        // clc-api.md §6: 2 vCPU + 4 GB + 60 GB standard on Windows ≈ $0.13/h.
        let windows = ServerSize::new(
            2,
            4,
            60,
            StorageType::Standard,
            "windows2012R2DataCenter_64Bit",
        );
        let hourly = prices.hourly_dollars(&windows, true);
        assert!((hourly - 0.13).abs() < 1e-9);
        assert!((hourly * 720.0 - 93.6).abs() < 1e-6);
        // A stopped server pays storage and public IPs only.
        let mut stopped = ServerSize::new(4, 8, 72, StorageType::Standard, "centOS6_64Bit");
        stopped.public_ips = 1;
        let expected = 72.0 * 0.12 / 720.0 + 2.0 / 720.0;
        assert!((prices.hourly_dollars(&stopped, false) - expected).abs() < 1e-12);
        assert_eq!(
            prices.storage_gb_hour_dollars(StorageType::Hyperscale),
            0.0005
        );
        assert_eq!(prices.os_licence_hour_dollars("ubuntu-14-64"), 0.0);
        assert_eq!(prices.cpu_hour.as_dollars_f64(), 0.01);
        assert_eq!(prices.memory_gb_hour.as_dollars_f64(), 0.015);
        assert_eq!(prices.managed_os_hour.as_dollars_f64(), 0.21);
    }

    #[test]
    fn storage_types_parse() {
        assert_eq!("Premium".parse::<StorageType>(), Ok(StorageType::Premium));
        assert!("ssd".parse::<StorageType>().is_err());
        assert_eq!(StorageType::Hyperscale.to_string(), "hyperscale");
    }
}
