//! The process-wide runtime: one wasmtime `Engine`, one `Linker` holding every
//! capability the host can grant, the epoch ticker that drives check
//! deadlines, the HTTP client plugins' requests go through, and the
//! compiled-artifact cache.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use wasmtime::component::{HasSelf, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::bindings::Plugin as PluginWorld;
use crate::cache::ArtifactCache;
use crate::sandbox::State;

/// How often the epoch ticks. Deadlines are counted in ticks, and a running
/// check yields to the scheduler once per tick so that long checks share the
/// worker threads with the others.
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(10);

/// How many plugin instances can be alive at once in this process. Instances
/// come from a pre-reserved pool (memories, tables, fiber stacks), which makes
/// a fresh instance per check cost microseconds instead of a round of mmaps.
pub const MAX_INSTANCES: u32 = 100;

/// Limits applied to every check (and to `describe` at load time).
#[derive(Debug, Clone)]
pub struct Limits {
    /// Wall-clock limit for one check; a check may ask for less, never more.
    pub check_timeout: Duration,
    /// Wall-clock limit for `describe` and instantiation at load time.
    pub describe_timeout: Duration,
    /// Total bytes of linear memory one check may use, across all memories.
    pub memory: usize,
    /// Elements across all tables.
    pub table_elements: usize,
    /// Bytes of stdout + stderr kept per check; writing more stops the check.
    pub output: usize,
    /// Bytes of log messages kept per check; logging more stops the check.
    pub log: usize,
    /// Bytes of one evidence item.
    pub evidence_item: usize,
    /// Bytes of all evidence of one check.
    pub evidence_total: usize,
    /// Wall-clock limit for one HTTP request made for a plugin.
    pub http_timeout: Duration,
    /// Bytes of one HTTP response body.
    pub http_response: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            check_timeout: Duration::from_secs(60),
            describe_timeout: Duration::from_secs(10),
            memory: 128 << 20,
            table_elements: 100_000,
            output: 64 << 10,
            log: 64 << 10,
            evidence_item: 1 << 20,
            evidence_total: 4 << 20,
            http_timeout: Duration::from_secs(30),
            http_response: 4 << 20,
        }
    }
}

/// How to build a [`Runtime`].
#[derive(Debug, Clone, Default)]
pub struct RuntimeConfig {
    /// Limits for every check.
    pub limits: Limits,
    /// Where compiled plugins are kept between runs; `None` compiles every time.
    pub cache_dir: Option<PathBuf>,
}

/// The plugin host of this process. Build one and share it.
pub struct Runtime {
    pub(crate) engine: Engine,
    pub(crate) linker: Linker<State>,
    pub(crate) limits: Limits,
    pub(crate) cache: Option<ArtifactCache>,
    pub(crate) http: reqwest::Client,
    _ticker: EpochTicker,
}

impl Runtime {
    /// Build the engine, link the capabilities, start the epoch ticker and open the cache.
    pub fn new(config: RuntimeConfig) -> anyhow::Result<Arc<Runtime>> {
        let mut wasm = Config::new();
        wasm.epoch_interruption(true)
            .wasm_component_model(true)
            .max_wasm_stack(512 << 10)
            .wasm_backtrace_max_frames(std::num::NonZeroUsize::new(20));
        let mut pool = PoolingAllocationConfig::default();
        // A std Rust component is one program module plus a few adapter
        // shims: room for several core instances and tables per component.
        pool.total_component_instances(MAX_INSTANCES)
            .total_core_instances(MAX_INSTANCES * 10)
            .total_memories(MAX_INSTANCES * 2)
            .total_tables(MAX_INSTANCES * 10)
            .total_stacks(MAX_INSTANCES)
            .max_memory_size(config.limits.memory);
        wasm.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = Engine::new(&wasm)?;

        let mut linker = Linker::<State>::new(&engine);
        // The WASI interfaces a std Rust guest imports whether it uses them or
        // not. The per-check `WasiCtx` grants none of their power: no
        // preopens, no environment, no sockets, stdio captured.
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        PluginWorld::add_to_linker::<State, HasSelf<State>>(&mut linker, |state| state)?;

        let http = reqwest::Client::builder()
            // A granted server must not be able to send the plugin elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(config.limits.http_timeout)
            .build()?;
        let cache = match config.cache_dir {
            Some(dir) => Some(ArtifactCache::open(dir)?),
            None => None,
        };
        let ticker = EpochTicker::start(&engine);
        Ok(Arc::new(Runtime {
            engine,
            linker,
            limits: config.limits,
            cache,
            http,
            _ticker: ticker,
        }))
    }

    /// The limits every check runs under.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The compiled-artifact cache, if one is configured.
    pub fn cache(&self) -> Option<&ArtifactCache> {
        self.cache.as_ref()
    }
}

/// A thread that advances the engine's epoch every [`EPOCH_TICK`] until the
/// engine is dropped. A plain thread rather than a tokio task: it must keep
/// ticking even when every worker thread is busy running guest code.
struct EpochTicker {
    stop: Arc<std::sync::atomic::AtomicBool>,
}

impl EpochTicker {
    fn start(engine: &Engine) -> EpochTicker {
        let weak = engine.weak();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        std::thread::Builder::new()
            .name("epoch-ticker".into())
            .spawn(move || {
                while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    match weak.upgrade() {
                        Some(engine) => engine.increment_epoch(),
                        None => break,
                    }
                }
            })
            .expect("spawning the epoch ticker thread");
        EpochTicker { stop }
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}
