//! `ecosystem:certify/log`: structured log events into the check's bounded log.

use crate::bindings::{log, types};
use crate::sandbox::State;

impl types::Host for State {}

impl log::Host for State {
    async fn event(
        &mut self,
        level: log::Level,
        message: String,
        fields: Vec<types::Pair>,
    ) -> wasmtime::Result<()> {
        let level = match level {
            log::Level::Trace => "TRACE",
            log::Level::Debug => "DEBUG",
            log::Level::Info => "INFO",
            log::Level::Warn => "WARN",
            log::Level::Error => "ERROR",
        };
        let mut line = format!("{level} {message}");
        for field in fields {
            line.push_str(&format!(" {}={}", field.name, field.value));
        }
        if self.log.push(&line) {
            Ok(())
        } else {
            // Stop the plugin: a plugin that floods its log is not going to
            // produce a verdict worth waiting for.
            Err(wasmtime::format_err!("log limit exceeded"))
        }
    }
}
