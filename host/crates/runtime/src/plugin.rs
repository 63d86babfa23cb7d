//! Loading a plugin: digest, compile (or read back from the cache), refuse
//! imports the host does not grant, pre-instantiate, and ask the plugin to
//! describe itself. A loaded [`Plugin`] runs checks, each in a fresh store.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use sha2::{Digest, Sha256};
use wasmtime::component::Component;

pub use certify_program::Criterion;

use crate::bindings::{PluginPre as WorldPre, types};
use crate::cache::CacheOutcome;
use crate::capabilities::Grants;
use crate::engine::Runtime;
use crate::outcome::{CheckRun, ErrorKind, Status};
use crate::sandbox::{self, State, classify_trap, human, new_store, outer_limit};

/// A check, as the plugin describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckInfo {
    /// Stable id, unique within the plugin.
    pub id: String,
    /// One line for humans.
    pub title: String,
    /// The criterion it serves.
    pub criterion: Criterion,
    /// What it verifies.
    pub description: String,
    /// What to do when it fails.
    pub remediation: Option<String>,
    /// The limit the plugin asks for (the host may cap it).
    #[serde(serialize_with = "millis")]
    pub timeout: Option<Duration>,
    /// Whether this is the readiness check.
    pub readiness: bool,
}

fn millis<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_some(&(d.as_millis() as u64)),
        None => s.serialize_none(),
    }
}

/// What a plugin says about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PluginInfo {
    /// Name.
    pub name: String,
    /// Version.
    pub version: String,
    /// SDK it was built with.
    pub sdk: String,
    /// Contract version it was built against.
    pub contract: String,
    /// Its checks, in the plugin's order.
    pub checks: Vec<CheckInfo>,
}

/// Why a plugin could not be loaded. Every message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The pinned digest does not match.
    #[error(
        "the plugin's sha256 is {actual}, but {expected} was pinned; refusing it (hand in the pinned build or update the pin)"
    )]
    DigestMismatch {
        /// The pinned digest.
        expected: String,
        /// The plugin's digest.
        actual: String,
    },
    /// A precompiled artifact was handed in.
    #[error(
        "this is a precompiled wasmtime artifact; hand in the plugin's .wasm component instead"
    )]
    Precompiled,
    /// Not a valid component.
    #[error(
        "not a valid WebAssembly component ({0}); build the plugin with `cargo build --release --target wasm32-wasip2`"
    )]
    Invalid(String),
    /// The plugin imports something the host does not grant.
    #[error(
        "the plugin imports `{import}`, which the harness does not grant; plugins may import only {granted}"
    )]
    ForbiddenImport {
        /// The import.
        import: String,
        /// What is granted.
        granted: String,
    },
    /// The imports did not match what the host provides.
    #[error("the plugin's imports do not match this harness's contract: {0}")]
    Link(String),
    /// `describe` failed.
    #[error("the plugin failed while describing itself: {0}")]
    Describe(String),
    /// The description breaks the contract.
    #[error("the plugin's description is invalid: {0}")]
    InvalidInfo(String),
}

/// The interfaces a plugin may import: the contract's own, and the WASI
/// interfaces a std guest imports (linked, but granting nothing).
const GRANTED_PREFIXES: &[&str] = &[
    "ecosystem:certify/",
    "wasi:io/",
    "wasi:clocks/",
    "wasi:random/",
    "wasi:cli/",
    "wasi:filesystem/",
    "wasi:sockets/",
];

/// The sha256 of some bytes, as lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A loaded plugin, ready to run checks.
pub struct Plugin {
    runtime: Arc<Runtime>,
    pre: WorldPre<State>,
    info: PluginInfo,
    sha256: String,
    size: usize,
    imports: Vec<String>,
    from_cache: bool,
    load_time: Duration,
}

impl Runtime {
    /// Load a plugin from its `.wasm` bytes. `expected_sha256`, when given,
    /// pins the plugin: any other build is refused.
    pub async fn load(
        self: &Arc<Self>,
        wasm: Vec<u8>,
        expected_sha256: Option<&str>,
    ) -> Result<Plugin, LoadError> {
        let started = Instant::now();
        let sha256 = sha256_hex(&wasm);
        if let Some(expected) = expected_sha256
            && !expected.eq_ignore_ascii_case(&sha256)
        {
            return Err(LoadError::DigestMismatch {
                expected: expected.to_ascii_lowercase(),
                actual: sha256,
            });
        }
        if wasmtime::Engine::detect_precompiled(&wasm).is_some() {
            return Err(LoadError::Precompiled);
        }
        let size = wasm.len();
        let runtime = self.clone();
        let digest = sha256.clone();
        // Compilation is CPU-bound for a hundred milliseconds or more: keep it
        // off the async worker threads.
        let (component, outcome) = tokio::task::spawn_blocking(move || match &runtime.cache {
            Some(cache) => cache.component(&runtime.engine, &wasm, &digest),
            None => Component::from_binary(&runtime.engine, &wasm)
                .map(|c| (c, CacheOutcome::Compiled))
                .map_err(anyhow::Error::from),
        })
        .await
        .map_err(|e| LoadError::Invalid(e.to_string()))?
        .map_err(|e| LoadError::Invalid(format!("{e:#}")))?;

        let imports = imports_of(&component, &self.engine);
        if let Some(import) = imports
            .iter()
            .find(|i| !GRANTED_PREFIXES.iter().any(|p| i.starts_with(p)))
        {
            return Err(LoadError::ForbiddenImport {
                import: import.clone(),
                granted: "ecosystem:certify/{log,run,http,deployment,cloud} and the WASI 0.2 interfaces (which grant no files, environment or sockets)".to_string(),
            });
        }
        let pre = self
            .linker
            .instantiate_pre(&component)
            .and_then(WorldPre::new)
            .map_err(|e| LoadError::Link(format!("{e:#}")))?;
        let info = describe(self, &pre).await?;
        validate(&info)?;
        Ok(Plugin {
            runtime: self.clone(),
            pre,
            info,
            sha256,
            size,
            imports,
            from_cache: outcome == CacheOutcome::Hit,
            load_time: started.elapsed(),
        })
    }
}

fn imports_of(component: &Component, engine: &wasmtime::Engine) -> Vec<String> {
    let mut imports: Vec<String> = component
        .component_type()
        .imports(engine)
        .map(|(name, _)| name.to_string())
        .collect();
    imports.sort();
    imports
}

async fn describe(runtime: &Arc<Runtime>, pre: &WorldPre<State>) -> Result<PluginInfo, LoadError> {
    let limit = runtime.limits.describe_timeout;
    let (mut store, stdio) = new_store(runtime, Arc::new(Grants::default()), limit);
    let call = async {
        let instance = pre
            .instantiate_async(&mut store)
            .await
            .map_err(|e| (true, e))?;
        instance
            .ecosystem_certify_checks()
            .call_describe(&mut store)
            .await
            .map_err(|e| (false, e))
    };
    let info = match tokio::time::timeout(outer_limit(limit), call).await {
        Ok(Ok(info)) => info,
        Ok(Err((instantiating, e))) => {
            let status = classify_trap(&e, store.data(), &stdio, limit, instantiating);
            let Status::Error { message, .. } = status else {
                unreachable!("classify_trap always returns an error")
            };
            return Err(LoadError::Describe(message));
        }
        Err(_) => {
            return Err(LoadError::Describe(format!(
                "no answer within {}",
                human(limit)
            )));
        }
    };
    Ok(PluginInfo {
        name: info.name,
        version: info.version,
        sdk: info.sdk,
        contract: info.contract,
        checks: info
            .checks
            .into_iter()
            .map(|c| CheckInfo {
                id: c.id,
                title: c.title,
                criterion: match c.criterion {
                    types::Criterion::PerformsAsAdvertised => Criterion::PerformsAsAdvertised,
                    types::Criterion::Documentation => Criterion::Documentation,
                    types::Criterion::BlueprintIntegration => Criterion::BlueprintIntegration,
                    types::Criterion::BusinessValue => Criterion::BusinessValue,
                },
                description: c.description,
                remediation: c.remediation,
                timeout: c.timeout_ms.map(|ms| Duration::from_millis(ms.into())),
                readiness: c.readiness,
            })
            .collect(),
    })
}

fn validate(info: &PluginInfo) -> Result<(), LoadError> {
    let bad = |m: String| Err(LoadError::InvalidInfo(m));
    if info.name.trim().is_empty() {
        return bad("the plugin has no name".into());
    }
    let compatible = info
        .contract
        .rsplit_once('.')
        .is_some_and(|(major_minor, _)| {
            crate::CONTRACT_VERSION.rsplit_once('.').map(|(m, _)| m) == Some(major_minor)
        });
    if !compatible {
        return bad(format!(
            "it was built against contract {}, and this harness implements {}; rebuild it with a matching certify-sdk",
            info.contract,
            crate::CONTRACT_VERSION
        ));
    }
    if info.checks.is_empty() {
        return bad("it declares no checks".into());
    }
    let mut seen = std::collections::BTreeSet::new();
    for check in &info.checks {
        let valid_id = !check.id.is_empty()
            && check
                .id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
        if !valid_id {
            return bad(format!(
                "check id {:?} must be non-empty and use only letters, digits, `.`, `-` and `_`",
                check.id
            ));
        }
        if !seen.insert(check.id.as_str()) {
            return bad(format!("check id `{}` is declared twice", check.id));
        }
        if check.title.trim().is_empty() {
            return bad(format!("check `{}` has no title", check.id));
        }
    }
    Ok(())
}

impl Plugin {
    /// What the plugin says about itself.
    pub fn info(&self) -> &PluginInfo {
        &self.info
    }

    /// The sha256 of the plugin's `.wasm`, lower-case hex.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// Size of the `.wasm` in bytes.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Everything the component imports, sorted.
    pub fn imports(&self) -> &[String] {
        &self.imports
    }

    /// Whether the compiled code came from the cache.
    pub fn from_cache(&self) -> bool {
        self.from_cache
    }

    /// How long loading took (compile or cache read, link, describe).
    pub fn load_time(&self) -> Duration {
        self.load_time
    }

    /// The time limit for a check: what the check asks for, capped at the host's limit.
    pub fn time_limit(&self, check_id: &str) -> Duration {
        let host = self.runtime.limits.check_timeout;
        self.info
            .checks
            .iter()
            .find(|c| c.id == check_id)
            .and_then(|c| c.timeout)
            .map_or(host, |t| t.min(host))
    }

    /// Run one check in a fresh store. Never fails: whatever happens is in the
    /// returned [`CheckRun`].
    pub async fn run_check(&self, check_id: &str, attempt: u32, grants: Arc<Grants>) -> CheckRun {
        if !self.info.checks.iter().any(|c| c.id == check_id) {
            return CheckRun {
                check_id: check_id.to_string(),
                attempt,
                status: Status::error(
                    ErrorKind::UnknownCheck,
                    format!(
                        "the plugin has no check `{check_id}` (it has: {})",
                        self.info
                            .checks
                            .iter()
                            .map(|c| c.id.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ),
                evidence: Vec::new(),
                measurements: Vec::new(),
                log: String::new(),
                stdio: String::new(),
                duration: Duration::ZERO,
            };
        }
        let limit = self.time_limit(check_id);
        sandbox::run_check(&self.runtime, &self.pre, grants, check_id, attempt, limit).await
    }
}
