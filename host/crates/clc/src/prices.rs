//! The CLC price list (`clc-api.md` §6, from `PriceEstimator:public/prices/*.json`, identical
//! across data centers) and the hourly rate of a server computed from it.
//!
//! The emulator bills with these figures, and the harness uses the same functions to price
//! an action before it happens (the budget gate), so both sides agree by construction.

/// Hours in a billing month, as the price estimator counts them.
pub const HOURS_PER_MONTH: f64 = 720.0;
/// Per vCPU-hour.
pub const CPU_HOUR: f64 = 0.01;
/// Per GB-hour of memory.
pub const MEMORY_GB_HOUR: f64 = 0.015;
/// Per GB-month of standard or premium block storage (allocated).
pub const STORAGE_GB_MONTH: f64 = 0.12;
/// Per GB-hour of hyperscale storage.
pub const HYPERSCALE_GB_HOUR: f64 = 0.0005;
/// Per GB-hour of archived storage.
pub const ARCHIVE_GB_HOUR: f64 = 0.0001;
/// Per public IP per month.
pub const PUBLIC_IP_MONTH: f64 = 2.0;
/// Windows or Red Hat licence, per hour; CentOS, Debian and Ubuntu are free.
pub const OS_LICENSE_HOUR: f64 = 0.04;
/// Managed OS, per hour.
pub const MANAGED_OS_HOUR: f64 = 0.21;
/// Shared load balancer, per hour.
pub const SHARED_LOAD_BALANCER_HOUR: f64 = 0.04;
/// Internet egress, per GB.
pub const BANDWIDTH_GB: f64 = 0.05;

/// What a server is made of, for pricing.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerSpec {
    /// vCPUs.
    pub cpu: u32,
    /// Memory in GB.
    pub memory_gb: u32,
    /// Total storage in GB (template disks plus additional disks).
    pub storage_gb: u32,
    /// `standard`, `premium` or `hyperscale`.
    pub storage_type: String,
    /// OS type as in templates, e.g. `centOS6_64Bit`, `windows2012R2DataCenter_64Bit`.
    pub os_type: String,
    /// Managed OS.
    pub managed_os: bool,
    /// Public IPs attached.
    pub public_ips: u32,
    /// Whether the server is powered on; a stopped server is charged for storage and
    /// public IPs only.
    pub powered_on: bool,
}

/// Storage price per GB-hour for a storage type.
pub fn storage_gb_hour(storage_type: &str) -> f64 {
    if storage_type.eq_ignore_ascii_case("hyperscale") {
        HYPERSCALE_GB_HOUR
    } else {
        STORAGE_GB_MONTH / HOURS_PER_MONTH
    }
}

/// OS licence per hour: Windows and Red Hat are charged, Linux distributions are free.
pub fn os_license_hour(os_type: &str) -> f64 {
    let os = os_type.to_ascii_lowercase();
    if os.starts_with("windows") || os.starts_with("redhat") || os.starts_with("rhel") {
        OS_LICENSE_HOUR
    } else {
        0.0
    }
}

/// Hourly price of a server with this spec.
pub fn hourly(spec: &ServerSpec) -> f64 {
    let storage = f64::from(spec.storage_gb) * storage_gb_hour(&spec.storage_type);
    let ips = f64::from(spec.public_ips) * PUBLIC_IP_MONTH / HOURS_PER_MONTH;
    if !spec.powered_on {
        return storage + ips;
    }
    let compute = f64::from(spec.cpu) * CPU_HOUR + f64::from(spec.memory_gb) * MEMORY_GB_HOUR;
    let managed = if spec.managed_os {
        MANAGED_OS_HOUR
    } else {
        0.0
    };
    compute + storage + ips + os_license_hour(&spec.os_type) + managed
}

/// Price of running a server with this spec for a whole month.
pub fn monthly(spec: &ServerSpec) -> f64 {
    hourly(spec) * HOURS_PER_MONTH
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_example_from_the_reference() {
        // clc-api.md §6: 2 vCPU + 4 GB + 60 GB standard on Windows ≈ $0.13/h.
        let spec = ServerSpec {
            cpu: 2,
            memory_gb: 4,
            storage_gb: 60,
            storage_type: "standard".into(),
            os_type: "windows2012R2DataCenter_64Bit".into(),
            managed_os: false,
            public_ips: 0,
            powered_on: true,
        };
        assert!((hourly(&spec) - 0.13).abs() < 1e-9);
        assert!((monthly(&spec) - 93.6).abs() < 1e-6);
    }

    #[test]
    fn stopped_server_pays_storage_only() {
        let spec = ServerSpec {
            cpu: 4,
            memory_gb: 8,
            storage_gb: 72,
            storage_type: "standard".into(),
            os_type: "centOS6_64Bit".into(),
            managed_os: false,
            public_ips: 1,
            powered_on: false,
        };
        let expected = 72.0 * 0.12 / 720.0 + 2.0 / 720.0;
        assert!((hourly(&spec) - expected).abs() < 1e-12);
    }
}
