//! Fault injection for the emulator: what can go wrong, parsed from a one-line spec, and
//! reproducible from a seed.
//!
//! # Syntax
//!
//! A comma-separated list of `key=value` items (whitespace around items is ignored):
//!
//! | item | meaning |
//! |---|---|
//! | `seed=42` | seed of every random decision (default 0) |
//! | `5xx=0.2` | answer this share of API requests with `500 {"message":"An error has occurred."}`, before doing anything |
//! | `5xx.CLASS=0.5` | the same for one endpoint class (overrides `5xx`) |
//! | `latency=50ms` / `latency=10ms..200ms` | add a fixed or uniformly random delay to every request |
//! | `drop=0.05` | do the work, then close the connection without answering (the client cannot tell whether it happened) |
//! | `drop.CLASS=0.1` | the same for one endpoint class (overrides `drop`) |
//! | `fail-build=0.1` | this share of server builds fail |
//! | `fail-package=NAME` | the package with this name or UUID fails (exit code 1); repeatable |
//! | `slow-package=NAME` | the package runs past the Blueprint Engine's 5-minute limit and is stopped; repeatable |
//!
//! Endpoint classes: `login`, `datacenters`, `groups`, `create` (create server), `servers`
//! (every other `/v2/servers` call), `operations` (power operations, execute package),
//! `status` (queue status), `billing` (billing, pricing, invoice), `blueprint` (the v1 API).
//! Emulator-only endpoints (`/emulator/...`) are never faulted.
//!
//! Every decision is drawn from `hash(seed, class, n)` where `n` counts the requests of that
//! class, so a client that sends the same requests in the same order sees the same faults.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use certify_clc::codec::mix;

/// A class of endpoints that faults can target separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EndpointClass {
    /// v2 login and v1 logon.
    Login,
    /// Data centers and deployment capabilities.
    DataCenters,
    /// Groups.
    Groups,
    /// `POST /v2/servers/{alias}`.
    Create,
    /// Every other `/v2/servers` call.
    Servers,
    /// Power operations and execute package.
    Operations,
    /// Queue status.
    Status,
    /// Billing, pricing and invoices.
    Billing,
    /// The v1 Blueprint and Queue API.
    Blueprint,
}

impl EndpointClass {
    const ALL: [EndpointClass; 9] = [
        EndpointClass::Login,
        EndpointClass::DataCenters,
        EndpointClass::Groups,
        EndpointClass::Create,
        EndpointClass::Servers,
        EndpointClass::Operations,
        EndpointClass::Status,
        EndpointClass::Billing,
        EndpointClass::Blueprint,
    ];

    /// The name used in fault specs.
    pub fn name(self) -> &'static str {
        match self {
            EndpointClass::Login => "login",
            EndpointClass::DataCenters => "datacenters",
            EndpointClass::Groups => "groups",
            EndpointClass::Create => "create",
            EndpointClass::Servers => "servers",
            EndpointClass::Operations => "operations",
            EndpointClass::Status => "status",
            EndpointClass::Billing => "billing",
            EndpointClass::Blueprint => "blueprint",
        }
    }

    fn index(self) -> usize {
        self as usize
    }

    /// Classifies a request; `None` for emulator-only and unknown paths (never faulted).
    pub fn classify(method: &str, path: &str) -> Option<EndpointClass> {
        let p = path.to_ascii_lowercase();
        let segments: Vec<&str> = p.trim_matches('/').split('/').collect();
        match segments.as_slice() {
            ["v2", "authentication", ..] | ["rest", "auth", ..] => Some(EndpointClass::Login),
            ["rest", ..] => Some(EndpointClass::Blueprint),
            ["v2", "datacenters", ..] | ["v2-experimental", "networks", ..] => {
                Some(EndpointClass::DataCenters)
            }
            ["v2", "groups", _, _, "billing"] | ["v2", "billing", ..] | ["v2", "invoice", ..] => {
                Some(EndpointClass::Billing)
            }
            ["v2", "groups", ..] => Some(EndpointClass::Groups),
            ["v2", "servers", _] if method.eq_ignore_ascii_case("POST") => {
                Some(EndpointClass::Create)
            }
            ["v2", "servers", ..] => Some(EndpointClass::Servers),
            ["v2", "operations", _, "status", ..] => Some(EndpointClass::Status),
            ["v2", "operations", ..] => Some(EndpointClass::Operations),
            ["v2", "accounts", ..] => Some(EndpointClass::Login),
            _ => None,
        }
    }
}

impl FromStr for EndpointClass {
    type Err = FaultSpecError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EndpointClass::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| FaultSpecError::UnknownClass(s.to_string()))
    }
}

/// Why a fault spec could not be parsed.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum FaultSpecError {
    /// An item is not `key=value`.
    #[error("fault spec item `{0}` is not key=value")]
    NotKeyValue(String),
    /// An unknown key.
    #[error(
        "unknown fault `{0}` (expected seed, 5xx, latency, drop, fail-build, fail-package or slow-package)"
    )]
    UnknownKey(String),
    /// An unknown endpoint class after `5xx.` or `drop.`.
    #[error(
        "unknown endpoint class `{0}` (expected login, datacenters, groups, create, servers, operations, status, billing or blueprint)"
    )]
    UnknownClass(String),
    /// A probability outside 0..=1 or not a number.
    #[error("`{0}` is not a probability between 0 and 1")]
    BadProbability(String),
    /// A duration that does not parse.
    #[error("`{0}` is not a duration like 50ms, 2s or 10ms..200ms")]
    BadDuration(String),
    /// A seed that is not a whole number.
    #[error("`{0}` is not a whole-number seed")]
    BadSeed(String),
}

/// What can go wrong in the emulated account. See the module docs for the syntax.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FaultSpec {
    /// Seed of every random decision.
    pub seed: u64,
    /// Share of requests answered 500, for every class without its own rate.
    pub error_rate: f64,
    /// Per-class 500 rates.
    pub class_error_rates: BTreeMap<EndpointClass, f64>,
    /// Added latency, `(min, max)`.
    pub latency: Option<(Duration, Duration)>,
    /// Share of requests whose connection is dropped after the work is done.
    pub drop_rate: f64,
    /// Per-class drop rates.
    pub class_drop_rates: BTreeMap<EndpointClass, f64>,
    /// Share of server builds that fail.
    pub build_failure_rate: f64,
    /// Packages (name or UUID, case-insensitive) that fail.
    pub failing_packages: Vec<String>,
    /// Packages (name or UUID) that overrun the 5-minute limit.
    pub slow_packages: Vec<String>,
}

impl FaultSpec {
    /// No faults at all.
    pub fn none() -> Self {
        FaultSpec::default()
    }

    /// Parses the spec syntax described in the module docs; the empty string means no faults.
    pub fn parse(spec: &str) -> Result<Self, FaultSpecError> {
        let mut out = FaultSpec::default();
        for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (key, value) = item
                .split_once('=')
                .ok_or_else(|| FaultSpecError::NotKeyValue(item.to_string()))?;
            let (key, value) = (key.trim().to_ascii_lowercase(), value.trim());
            match key.as_str() {
                "seed" => {
                    out.seed = value
                        .parse()
                        .map_err(|_| FaultSpecError::BadSeed(value.to_string()))?
                }
                "5xx" => out.error_rate = probability(value)?,
                "drop" => out.drop_rate = probability(value)?,
                "latency" => out.latency = Some(latency(value)?),
                "fail-build" => out.build_failure_rate = probability(value)?,
                "fail-package" => out.failing_packages.push(value.to_string()),
                "slow-package" => out.slow_packages.push(value.to_string()),
                other => {
                    if let Some(class) = other.strip_prefix("5xx.") {
                        out.class_error_rates
                            .insert(class.parse()?, probability(value)?);
                    } else if let Some(class) = other.strip_prefix("drop.") {
                        out.class_drop_rates
                            .insert(class.parse()?, probability(value)?);
                    } else {
                        return Err(FaultSpecError::UnknownKey(other.to_string()));
                    }
                }
            }
        }
        Ok(out)
    }

    /// Whether the spec injects anything at all.
    pub fn is_empty(&self) -> bool {
        *self
            == FaultSpec {
                seed: self.seed,
                ..FaultSpec::default()
            }
    }

    fn error_rate_for(&self, class: EndpointClass) -> f64 {
        *self
            .class_error_rates
            .get(&class)
            .unwrap_or(&self.error_rate)
    }

    fn drop_rate_for(&self, class: EndpointClass) -> f64 {
        *self.class_drop_rates.get(&class).unwrap_or(&self.drop_rate)
    }

    fn matches(list: &[String], name: &str, uuid: &str) -> bool {
        list.iter()
            .any(|p| p.eq_ignore_ascii_case(name) || p.eq_ignore_ascii_case(uuid))
    }
}

impl FromStr for FaultSpec {
    type Err = FaultSpecError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        FaultSpec::parse(s)
    }
}

impl fmt::Display for FaultSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut items = vec![format!("seed={}", self.seed)];
        if self.error_rate > 0.0 {
            items.push(format!("5xx={}", self.error_rate));
        }
        for (c, r) in &self.class_error_rates {
            items.push(format!("5xx.{}={r}", c.name()));
        }
        if let Some((lo, hi)) = self.latency {
            items.push(format!(
                "latency={}ms..{}ms",
                lo.as_millis(),
                hi.as_millis()
            ));
        }
        if self.drop_rate > 0.0 {
            items.push(format!("drop={}", self.drop_rate));
        }
        for (c, r) in &self.class_drop_rates {
            items.push(format!("drop.{}={r}", c.name()));
        }
        if self.build_failure_rate > 0.0 {
            items.push(format!("fail-build={}", self.build_failure_rate));
        }
        for p in &self.failing_packages {
            items.push(format!("fail-package={p}"));
        }
        for p in &self.slow_packages {
            items.push(format!("slow-package={p}"));
        }
        f.write_str(&items.join(","))
    }
}

fn probability(s: &str) -> Result<f64, FaultSpecError> {
    match s.parse::<f64>() {
        Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
        _ => Err(FaultSpecError::BadProbability(s.to_string())),
    }
}

fn duration(s: &str) -> Result<Duration, FaultSpecError> {
    let bad = || FaultSpecError::BadDuration(s.to_string());
    let (num, scale) = if let Some(n) = s.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1000.0)
    } else {
        (s, 1.0)
    };
    let v: f64 = num.trim().parse().map_err(|_| bad())?;
    if !(0.0..=600_000.0).contains(&(v * scale)) {
        return Err(bad());
    }
    Ok(Duration::from_micros((v * scale * 1000.0) as u64))
}

fn latency(s: &str) -> Result<(Duration, Duration), FaultSpecError> {
    match s.split_once("..") {
        Some((lo, hi)) => {
            let (lo, hi) = (duration(lo)?, duration(hi)?);
            if lo > hi {
                return Err(FaultSpecError::BadDuration(s.to_string()));
            }
            Ok((lo, hi))
        }
        None => {
            let d = duration(s)?;
            Ok((d, d))
        }
    }
}

fn unit(x: u64) -> f64 {
    (x >> 11) as f64 / (1u64 << 53) as f64
}

/// What the fault layer decided for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RequestFaults {
    /// Delay before handling.
    pub delay: Duration,
    /// Answer 500 instead of handling.
    pub error: bool,
    /// Handle, then drop the connection.
    pub drop: bool,
}

/// A [`FaultSpec`] plus the counters that make its decisions reproducible.
#[derive(Debug, Default)]
pub struct Faults {
    spec: FaultSpec,
    counters: [AtomicU64; 9],
    builds: AtomicU64,
    injected: AtomicU64,
}

impl Faults {
    /// Wraps a spec.
    pub fn new(spec: FaultSpec) -> Self {
        Faults {
            spec,
            ..Faults::default()
        }
    }

    /// The spec.
    pub fn spec(&self) -> &FaultSpec {
        &self.spec
    }

    /// Decides the faults of the next request of `class`.
    pub fn for_request(&self, class: EndpointClass) -> RequestFaults {
        let n = self.counters[class.index()].fetch_add(1, Ordering::Relaxed);
        let base = mix(self.spec.seed ^ mix(class.index() as u64 + 1) ^ mix(n.wrapping_add(7)));
        let delay = match self.spec.latency {
            Some((lo, hi)) if hi > lo => {
                let span = (hi - lo).as_micros() as f64;
                lo + Duration::from_micros((unit(mix(base ^ 1)) * span) as u64)
            }
            Some((lo, _)) => lo,
            None => Duration::ZERO,
        };
        let error = unit(mix(base ^ 2)) < self.spec.error_rate_for(class);
        let drop = !error && unit(mix(base ^ 3)) < self.spec.drop_rate_for(class);
        if error || drop {
            self.injected.fetch_add(1, Ordering::Relaxed);
        }
        RequestFaults { delay, error, drop }
    }

    /// How many 500s and dropped connections were injected so far.
    pub fn injected(&self) -> u64 {
        self.injected.load(Ordering::Relaxed)
    }

    /// Decides whether the next server build fails.
    pub fn build_fails(&self) -> bool {
        if self.spec.build_failure_rate <= 0.0 {
            return false;
        }
        let n = self.builds.fetch_add(1, Ordering::Relaxed);
        unit(mix(self.spec.seed ^ mix(0xB011D ^ n))) < self.spec.build_failure_rate
    }

    /// Whether this package is set to fail.
    pub fn package_fails(&self, name: &str, uuid: &str) -> bool {
        FaultSpec::matches(&self.spec.failing_packages, name, uuid)
    }

    /// Whether this package is set to overrun its time limit.
    pub fn package_is_slow(&self, name: &str, uuid: &str) -> bool {
        FaultSpec::matches(&self.spec.slow_packages, name, uuid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_syntax() {
        let spec = FaultSpec::parse(
            "5xx=0.2, latency=10ms..50ms,drop=0.05,fail-package=Install Web,seed=42,5xx.create=0.5,drop.status=0,fail-build=0.1,slow-package=abc",
        )
        .unwrap();
        assert_eq!(spec.seed, 42);
        assert_eq!(spec.error_rate, 0.2);
        assert_eq!(spec.class_error_rates[&EndpointClass::Create], 0.5);
        assert_eq!(spec.class_drop_rates[&EndpointClass::Status], 0.0);
        assert_eq!(
            spec.latency,
            Some((Duration::from_millis(10), Duration::from_millis(50)))
        );
        assert_eq!(spec.failing_packages, vec!["Install Web".to_string()]);
        assert_eq!(spec.slow_packages, vec!["abc".to_string()]);
        assert_eq!(spec.build_failure_rate, 0.1);
        assert_eq!(FaultSpec::parse(&spec.to_string()).unwrap(), spec);
        assert!(FaultSpec::parse("").unwrap().is_empty());
    }

    #[test]
    fn rejects_bad_specs() {
        assert!(matches!(
            FaultSpec::parse("5xx=2"),
            Err(FaultSpecError::BadProbability(_))
        ));
        assert!(matches!(
            FaultSpec::parse("explode=1"),
            Err(FaultSpecError::UnknownKey(_))
        ));
        assert!(matches!(
            FaultSpec::parse("5xx.nowhere=0.1"),
            Err(FaultSpecError::UnknownClass(_))
        ));
        assert!(matches!(
            FaultSpec::parse("latency=fast"),
            Err(FaultSpecError::BadDuration(_))
        ));
        assert!(matches!(
            FaultSpec::parse("seed"),
            Err(FaultSpecError::NotKeyValue(_))
        ));
    }

    #[test]
    fn decisions_are_reproducible_from_the_seed() {
        let spec = FaultSpec::parse("5xx=0.3,drop=0.2,seed=7").unwrap();
        let run = || {
            let f = Faults::new(spec.clone());
            (0..200)
                .map(|_| f.for_request(EndpointClass::Servers))
                .collect::<Vec<_>>()
        };
        let (a, b) = (run(), run());
        assert_eq!(a, b);
        let errors = a.iter().filter(|d| d.error).count();
        assert!((30..90).contains(&errors), "{errors} errors out of 200");
    }

    #[test]
    fn classifies_paths() {
        use EndpointClass::*;
        let c = EndpointClass::classify;
        assert_eq!(c("POST", "/v2/servers/ALTD"), Some(Create));
        assert_eq!(c("GET", "/v2/servers/altd/va1altdweb01"), Some(Servers));
        assert_eq!(c("GET", "/v2/operations/altd/status/va1-1"), Some(Status));
        assert_eq!(
            c("POST", "/v2/operations/altd/servers/powerOn"),
            Some(Operations)
        );
        assert_eq!(c("GET", "/v2/groups/altd/abc/billing"), Some(Billing));
        assert_eq!(
            c("POST", "/REST/Blueprint/DeployBlueprint/JSON"),
            Some(Blueprint)
        );
        assert_eq!(c("POST", "/emulator/packages/altd"), None);
    }
}
