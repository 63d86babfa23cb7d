//! A plugin that misbehaves on purpose: its check id picks the behaviour.
//! The harness's tests run it to prove that every way a plugin can go wrong
//! ends as the right `error` testcase while the well-behaved checks in the
//! same run still pass. Every check id here has a test in `tests/cli`.

use std::time::Duration;

use certify_sdk::{Check, Context, Criterion, Outcome, Plugin};

/// The behaviours, by check id; `tests/cli` has a test for each.
pub const BEHAVIOURS: &[&str] = &[
    "well.pass",
    "well.fail",
    "well.skip",
    "well.http",
    "infinite-loop",
    "memory-bomb",
    "deep-recursion",
    "trap",
    "panic",
    "log-flood",
    "stdout-flood",
    "oversized-evidence",
    "malformed-result",
    "http-not-granted",
    "host-call-hangs",
    "huge-message",
    "evidence-flood",
    "measurement-flood",
    "ansi-message",
    "log-field-flood",
];

fn plugin() -> Plugin {
    let short = Duration::from_secs(2);
    Plugin::new("misbehaving", env!("CARGO_PKG_VERSION"))
        .check(Check::new("well.pass", "Passes", |ctx| {
            // Colour codes and a CDATA terminator, as real command output has:
            // the report must still be well-formed XML.
            ctx.info("\u{1b}[32mall good\u{1b}[0m ]]> <done/> & \u{0}");
            ctx.measure("answer", 42.0, "count");
            Ok(Outcome::Pass)
        }))
        .check(
            Check::new(
                "well.fail",
                "Fails like a product that does not work",
                |_| Ok(Outcome::fail("the widget returned 3, expected 4")),
            )
            .criterion(Criterion::BusinessValue)
            .remediation("Make the widget return 4."),
        )
        .check(
            Check::new("well.skip", "Does not apply", |_| {
                Ok(Outcome::skipped("no load balancer in this blueprint"))
            })
            .criterion(Criterion::BlueprintIntegration),
        )
        .check(Check::new(
            "well.http",
            "Reaches a granted address",
            |ctx| {
                let url = ctx.require_parameter("url")?;
                let response = ctx.http().get(url).send()?;
                Ok(Outcome::expect(
                    response.status() == 200,
                    format!("status {}", response.status()),
                ))
            },
        ))
        .check(Check::new("infinite-loop", "Never returns", infinite_loop).timeout(short))
        .check(Check::new(
            "memory-bomb",
            "Allocates without bound",
            memory_bomb,
        ))
        .check(Check::new(
            "deep-recursion",
            "Recurses without bound",
            |_| Ok(Outcome::expect(recurse(1) == 0, "unreachable")),
        ))
        .check(Check::new(
            "trap",
            "Executes an unreachable instruction",
            |_| trap(),
        ))
        .check(Check::new("panic", "Panics", |_| {
            panic!("the plugin lost its temper")
        }))
        .check(Check::new("log-flood", "Logs without bound", |ctx| {
            loop {
                ctx.info("la la la la la la la la la la la la la la la la la la la la la la");
            }
        }))
        .check(Check::new("stdout-flood", "Prints without bound", |_| {
            loop {
                println!("la la la la la la la la la la la la la la la la la la la la la la");
            }
        }))
        .check(Check::new(
            "oversized-evidence",
            "Attaches 8 MiB of evidence",
            |ctx| {
                ctx.evidence("dump.bin", "application/octet-stream", vec![7u8; 8 << 20]);
                Ok(Outcome::Pass)
            },
        ))
        .check(Check::new(
            "malformed-result",
            "Returns a measurement with no name and no value",
            |ctx| {
                ctx.measure("", f64::NAN, "");
                Ok(Outcome::Pass)
            },
        ))
        .check(Check::new(
            "http-not-granted",
            "Calls an address the run does not grant",
            |ctx| {
                ctx.http().get("http://203.0.113.9/steal").send()?;
                Ok(Outcome::Pass)
            },
        ))
        .check(
            Check::new(
                "host-call-hangs",
                "Waits in a host call that never answers",
                |_| {
                    // Sleeping is a WASI poll inside the host: epoch interruption
                    // cannot stop it, only the host's wall-clock limit can.
                    std::thread::sleep(Duration::from_secs(3600));
                    Ok(Outcome::Pass)
                },
            )
            .timeout(short),
        )
        .check(Check::new(
            "huge-message",
            "Fails with a 24 MB message",
            |_| Ok(Outcome::fail("x".repeat(24 << 20))),
        ))
        .check(Check::new(
            "evidence-flood",
            "Attaches 100,000 one-byte evidence items",
            |ctx| {
                for i in 0..100_000 {
                    ctx.evidence(format!("../item-{i}"), "text/plain", vec![b'x']);
                }
                Ok(Outcome::Pass)
            },
        ))
        .check(Check::new(
            "measurement-flood",
            "Reports 200,000 measurements",
            |ctx| {
                for i in 0..200_000 {
                    ctx.measure(format!("m{i}"), f64::from(i), "count");
                }
                Ok(Outcome::Pass)
            },
        ))
        .check(Check::new(
            "log-field-flood",
            "Logs one short message with a 1 MiB field",
            |ctx| {
                let big = "f".repeat(1 << 20);
                ctx.log(certify_sdk::Level::Info, "ok", &[("payload", big.as_str())]);
                Ok(Outcome::Pass)
            },
        ))
        .check(Check::new(
            "ansi-message",
            "Fails with terminal control sequences in its message",
            |_| {
                Ok(Outcome::fail(
                    "\u{1b}[2J\u{1b}[31mthe widget\u{1b}]0;pwned\u{7} is down\u{0}\u{8}",
                ))
            },
        ))
}

fn infinite_loop(ctx: &mut Context) -> certify_sdk::Result<Outcome> {
    let mut x: u64 = ctx.attempt().into();
    loop {
        x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
    }
}

fn memory_bomb(_: &mut Context) -> certify_sdk::Result<Outcome> {
    let mut hoard: Vec<Vec<u8>> = Vec::new();
    loop {
        hoard.push(std::hint::black_box(vec![1u8; 1 << 20]));
    }
}

/// Non-tail recursion on wasm locals: the wasm stack, not the shadow stack
/// in linear memory, is what overflows.
fn recurse(depth: u64) -> u64 {
    if std::hint::black_box(depth) == u64::MAX {
        return 0;
    }
    let below = recurse(depth + 1);
    below.rotate_left((depth % 63) as u32) ^ depth
}

fn trap() -> certify_sdk::Result<Outcome> {
    #[cfg(target_arch = "wasm32")]
    core::arch::wasm32::unreachable();
    #[cfg(not(target_arch = "wasm32"))]
    std::process::abort();
}

certify_sdk::export_plugin!(plugin);
