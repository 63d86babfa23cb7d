//! A plugin with 1,000 checks that do nothing but pass: the benchmark's
//! measure of the harness's own per-check cost.

use certify_sdk::{Check, Outcome, Plugin};

fn plugin() -> Plugin {
    (0..1000).fold(Plugin::new("trivial", env!("CARGO_PKG_VERSION")), |p, i| {
        p.check(Check::new(
            format!("trivial.{i:04}"),
            "Passes at once",
            |_| Ok(Outcome::Pass),
        ))
    })
}

certify_sdk::export_plugin!(plugin);
