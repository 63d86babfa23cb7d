//! One check in one fresh `Store`: the store's state, the limits on it, and
//! the translation of everything that can happen into a [`CheckRun`].
//!
//! A store is never reused: after a trap or a timeout a component instance
//! may be left in any state (a lock held, an invariant broken), so every
//! check, and every attempt of a check, gets a new store and instance.
//!
//! Time is bounded twice. Guest code is stopped by epoch interruption: the
//! store's deadline callback traps once the check's deadline has passed (and
//! otherwise yields to the scheduler each tick, so long checks share the
//! worker threads). Epochs cannot interrupt a guest waiting in an async host
//! call (an HTTP request, a WASI sleep), so the whole call is also wrapped in
//! a tokio timeout.

use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmtime::component::ResourceTable;
use wasmtime::{ResourceLimiter, Store, Trap, UpdateDeadline};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::bindings::checks;
use crate::capabilities::Grants;
use crate::engine::{Limits, Runtime};
use crate::outcome::{CheckRun, ErrorKind, Evidence, Measurement, Status};
use crate::text;

/// The data of one store: the WASI context (which grants nothing), the
/// run's grants, and the bookkeeping of the limits.
pub(crate) struct State {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(crate) grants: Arc<Grants>,
    pub(crate) limits: Limits,
    pub(crate) http: reqwest::Client,
    pub(crate) memory: MemoryBudget,
    pub(crate) log: LogBuffer,
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// Counts linear memory and table elements across all of an instance's
/// memories and tables: wasmtime's own `StoreLimits` bounds each memory
/// separately, which a component with several memories could multiply.
pub(crate) struct MemoryBudget {
    limit: usize,
    used: usize,
    table_limit: usize,
    table_used: usize,
    /// The size a refused growth asked for, if any.
    pub(crate) refused: Option<usize>,
}

impl ResourceLimiter for MemoryBudget {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let total = self.used - current.min(self.used) + desired;
        if total > self.limit {
            self.refused = Some(total);
            return Ok(false);
        }
        self.used = total;
        Ok(true)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let total = self.table_used - current.min(self.table_used) + desired;
        if total > self.table_limit {
            return Ok(false);
        }
        self.table_used = total;
        Ok(true)
    }

    // A component is a handful of core instances (the program and the
    // adapter shims); these bound what a malicious one can create.
    fn instances(&self) -> usize {
        64
    }

    fn tables(&self) -> usize {
        64
    }

    fn memories(&self) -> usize {
        16
    }
}

/// The plugin's log events, bounded.
pub(crate) struct LogBuffer {
    pub(crate) text: String,
    limit: usize,
    pub(crate) exceeded: bool,
}

impl LogBuffer {
    /// Append a line; `false` once the limit is reached (a marker is written instead).
    pub(crate) fn push(&mut self, line: &str) -> bool {
        if self.exceeded {
            return false;
        }
        if self.text.len() + line.len() + 1 > self.limit {
            self.exceeded = true;
            self.text.push_str(&format!(
                "[log truncated: the plugin logged more than {} bytes]\n",
                self.limit
            ));
            return false;
        }
        self.text.push_str(line);
        self.text.push('\n');
        true
    }
}

/// A fresh store for one call, with its captured stdio.
pub(crate) fn new_store(
    runtime: &Runtime,
    grants: Arc<Grants>,
    limit: Duration,
) -> (Store<State>, MemoryOutputPipe) {
    let limits = runtime.limits.clone();
    let stdio = MemoryOutputPipe::new(limits.output);
    let wasi = WasiCtx::builder()
        .stdout(stdio.clone())
        .stderr(stdio.clone())
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false)
        .build();
    let mut table = ResourceTable::new();
    table.set_max_capacity(1_000);
    let state = State {
        wasi,
        table,
        grants,
        http: runtime.http.clone(),
        memory: MemoryBudget {
            limit: limits.memory,
            used: 0,
            table_limit: limits.table_elements,
            table_used: 0,
            refused: None,
        },
        log: LogBuffer {
            text: String::new(),
            limit: limits.log,
            exceeded: false,
        },
        limits,
    };
    let mut store = Store::new(&runtime.engine, state);
    store.limiter(|s| &mut s.memory);
    store.set_max_component_handles(1_000);
    let deadline = Instant::now() + limit;
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(move |_| {
        if Instant::now() >= deadline {
            Ok(UpdateDeadline::Interrupt)
        } else {
            Ok(UpdateDeadline::Yield(1))
        }
    });
    (store, stdio)
}

/// The outer bound around a call: the guest deadline plus a little, so that
/// a guest running code is stopped by its epoch deadline (the precise
/// reason) and only a guest stuck in a host call is stopped by this.
pub(crate) fn outer_limit(limit: Duration) -> Duration {
    limit + Duration::from_millis(250)
}

/// Run `check_id` on a fresh instance from `pre`.
pub(crate) async fn run_check(
    runtime: &Runtime,
    pre: &crate::bindings::PluginPre<State>,
    grants: Arc<Grants>,
    check_id: &str,
    attempt: u32,
    limit: Duration,
) -> CheckRun {
    let started = Instant::now();
    let (mut store, stdio) = new_store(runtime, grants, limit);
    let context = checks::CheckContext {
        check_id: check_id.to_string(),
        attempt,
    };
    let call = async {
        let instance = pre
            .instantiate_async(&mut store)
            .await
            .map_err(|e| (true, e))?;
        instance
            .ecosystem_certify_checks()
            .call_run_check(&mut store, &context)
            .await
            .map_err(|e| (false, e))
    };
    let result = tokio::time::timeout(outer_limit(limit), call).await;
    let state = store.data();
    let status = match result {
        Err(_elapsed) => Status::error(
            ErrorKind::Timeout,
            format!(
                "the check exceeded its time limit of {} while waiting in a host call",
                human(limit)
            ),
        ),
        Ok(Err((instantiating, e))) => classify_trap(&e, state, &stdio, limit, instantiating),
        Ok(Ok(Err(message))) => Status::error(ErrorKind::CheckError, message),
        Ok(Ok(Ok(result))) => return accept(check_id, attempt, result, state, &stdio, started),
    };
    CheckRun {
        check_id: check_id.to_string(),
        attempt,
        status,
        evidence: Vec::new(),
        measurements: Vec::new(),
        log: text::strip_controls(&state.log.text),
        stdio: text::strip_controls(&stdio_text(&stdio, state.limits.output)),
        duration: started.elapsed(),
    }
}

/// Turn a trap (or any error out of wasmtime) into the reason for the report.
/// The limits we enforce ourselves are recorded in the state, which is more
/// reliable than reading wasmtime's messages.
pub(crate) fn classify_trap(
    e: &wasmtime::Error,
    state: &State,
    stdio: &MemoryOutputPipe,
    limit: Duration,
    instantiating: bool,
) -> Status {
    if state.log.exceeded {
        return Status::error(
            ErrorKind::OutputLimit,
            format!(
                "the plugin logged more than the limit of {} bytes",
                state.limits.log
            ),
        );
    }
    if stdio.contents().len() >= state.limits.output {
        return Status::error(
            ErrorKind::OutputLimit,
            format!(
                "the plugin wrote more than the limit of {} bytes to stdout/stderr",
                state.limits.output
            ),
        );
    }
    if let Some(asked) = state.memory.refused {
        return Status::error(
            ErrorKind::MemoryLimit,
            format!(
                "the plugin tried to use {} of memory; the limit is {}",
                bytes(asked),
                bytes(state.limits.memory)
            ),
        );
    }
    match e.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => Status::error(
            ErrorKind::Timeout,
            format!("the check exceeded its time limit of {}", human(limit)),
        ),
        Some(Trap::StackOverflow) => Status::error(
            ErrorKind::StackOverflow,
            "the plugin overflowed its stack (unbounded recursion?)",
        ),
        Some(Trap::UnreachableCodeReached) => match panic_message(&stdio.contents()) {
            Some(message) => {
                Status::error(ErrorKind::Panic, format!("the plugin panicked: {message}"))
            }
            None => Status::error(
                ErrorKind::Trap,
                "the plugin trapped: wasm `unreachable` instruction executed",
            ),
        },
        Some(trap) => Status::error(ErrorKind::Trap, format!("the plugin trapped: {trap}")),
        None if instantiating => Status::error(
            ErrorKind::Instantiation,
            format!("could not instantiate the plugin: {e:#}"),
        ),
        None => Status::error(ErrorKind::Trap, format!("the plugin failed: {e:#}")),
    }
}

/// Check what the plugin returned against the limits and the contract.
fn accept(
    check_id: &str,
    attempt: u32,
    result: checks::CheckResult,
    state: &State,
    stdio: &MemoryOutputPipe,
    started: Instant,
) -> CheckRun {
    let limits = &state.limits;
    // Everything the plugin returned is bounded and stripped of control sequences
    // before anything else sees it (crate::text).
    let mut status = match &result.outcome {
        checks::Outcome::Pass => Status::Passed,
        checks::Outcome::Fail(message) => Status::Failed {
            message: text::message(message),
        },
        checks::Outcome::Skipped(reason) => Status::Skipped {
            reason: text::message(reason),
        },
    };
    let mut notes = String::new();
    if result.evidence.len() > text::MAX_EVIDENCE_ITEMS {
        notes.push_str(&format!(
            "[{} evidence items dropped: the limit is {} a check]\n",
            result.evidence.len() - text::MAX_EVIDENCE_ITEMS,
            text::MAX_EVIDENCE_ITEMS
        ));
    }
    if result.measurements.len() > text::MAX_MEASUREMENTS {
        notes.push_str(&format!(
            "[{} measurements dropped: the limit is {} a check]\n",
            result.measurements.len() - text::MAX_MEASUREMENTS,
            text::MAX_MEASUREMENTS
        ));
    }
    let mut result = result;
    result.evidence.truncate(text::MAX_EVIDENCE_ITEMS);
    result.measurements.truncate(text::MAX_MEASUREMENTS);
    let mut total = 0usize;
    for e in &result.evidence {
        total += e.data.len();
        if e.data.len() > limits.evidence_item || total > limits.evidence_total {
            status = Status::error(
                ErrorKind::EvidenceLimit,
                format!(
                    "evidence `{}` is {}; the limits are {} per item and {} per check",
                    e.name,
                    bytes(e.data.len()),
                    bytes(limits.evidence_item),
                    bytes(limits.evidence_total)
                ),
            );
            break;
        }
        if e.name.trim().is_empty() || e.media_type.trim().is_empty() {
            status = Status::error(
                ErrorKind::MalformedResult,
                "evidence must have a name and a media type",
            );
            break;
        }
    }
    for (i, m) in result.measurements.iter().enumerate() {
        if m.name.trim().is_empty() || !m.value.is_finite() {
            status = Status::error(
                ErrorKind::MalformedResult,
                format!(
                    "measurement #{} must have a name and a finite value (got name {:?}, value {})",
                    i + 1,
                    m.name,
                    m.value
                ),
            );
            break;
        }
    }
    let keep = !matches!(status, Status::Error { .. });
    CheckRun {
        check_id: check_id.to_string(),
        attempt,
        status,
        evidence: if keep {
            result
                .evidence
                .into_iter()
                .map(|e| Evidence {
                    name: text::path_segment(&e.name),
                    media_type: text::label(&e.media_type),
                    data: e.data,
                })
                .collect()
        } else {
            Vec::new()
        },
        measurements: if keep {
            result
                .measurements
                .into_iter()
                .map(|m| Measurement {
                    name: text::label(&m.name),
                    value: m.value,
                    unit: text::label(&m.unit),
                })
                .collect()
        } else {
            Vec::new()
        },
        log: text::strip_controls(&state.log.text) + &notes,
        stdio: text::strip_controls(&stdio_text(stdio, limits.output)),
        duration: started.elapsed(),
    }
}

/// The captured stdout/stderr, with a marker when it hit the limit.
fn stdio_text(stdio: &MemoryOutputPipe, limit: usize) -> String {
    let contents = stdio.contents();
    let mut text = String::from_utf8_lossy(&contents).into_owned();
    if contents.len() >= limit {
        text.push_str(&format!(
            "\n[output truncated: the plugin wrote more than {limit} bytes]\n"
        ));
    }
    text
}

/// The message of a Rust panic, from what the standard library printed to stderr.
fn panic_message(stdio: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(stdio);
    let at = text.find("panicked at")?;
    let rest = &text[at..];
    let mut lines = rest.lines();
    let location = lines
        .next()?
        .trim_start_matches("panicked at")
        .trim()
        .trim_end_matches(':');
    let message: Vec<&str> = lines.take_while(|l| !l.starts_with("note:")).collect();
    Some(format!("{} (at {location})", message.join(" ").trim()))
}

pub(crate) fn human(d: Duration) -> String {
    if d.as_millis().is_multiple_of(1000) {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

pub(crate) fn bytes(n: usize) -> String {
    if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        format!("{} MiB", n >> 20)
    } else if n >= 1 << 20 {
        format!("{:.1} MiB", n as f64 / (1 << 20) as f64)
    } else if n >= 1 << 10 {
        format!("{} KiB", n >> 10)
    } else {
        format!("{n} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_is_counted_across_memories() {
        let mut budget = MemoryBudget {
            limit: 100,
            used: 0,
            table_limit: 10,
            table_used: 0,
            refused: None,
        };
        assert!(budget.memory_growing(0, 60, None).unwrap());
        assert!(budget.memory_growing(0, 30, None).unwrap());
        // A second memory growing past the total is refused, though alone it fits.
        assert!(!budget.memory_growing(30, 50, None).unwrap());
        assert_eq!(budget.refused, Some(110));
    }

    #[test]
    fn panic_messages_are_extracted() {
        let stderr = b"thread '<unnamed>' panicked at src/lib.rs:80:13:\nthe plugin lost its temper\nnote: run with `RUST_BACKTRACE=1`\n";
        assert_eq!(
            panic_message(stderr).unwrap(),
            "the plugin lost its temper (at src/lib.rs:80:13)"
        );
        assert_eq!(panic_message(b"hello"), None);
    }

    #[test]
    fn log_is_bounded_with_a_marker() {
        let mut log = LogBuffer {
            text: String::new(),
            limit: 20,
            exceeded: false,
        };
        assert!(log.push("INFO one"));
        assert!(!log.push("INFO two three four"));
        assert!(log.exceeded);
        assert!(log.text.contains("[log truncated"));
        assert!(!log.push("more"));
    }
}
