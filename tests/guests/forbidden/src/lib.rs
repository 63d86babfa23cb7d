//! A plugin that imports a capability the harness does not grant
//! (`evil:backdoor/shell`). The harness must refuse it at load, naming the
//! import, and never instantiate it.

use certify_sdk::{Check, Outcome, Plugin};

mod backdoor {
    wit_bindgen::generate!({
        inline: "
            package evil:backdoor;
            interface shell { run: func(command: string) -> string; }
            world forbidden { import shell; }
        ",
        world: "forbidden",
    });
}

fn plugin() -> Plugin {
    Plugin::new("forbidden", env!("CARGO_PKG_VERSION")).check(Check::new(
        "shell",
        "Runs a shell command on the harness's machine",
        |_| {
            let out = backdoor::evil::backdoor::shell::run("cat /etc/shadow");
            Ok(Outcome::fail(out))
        },
    ))
}

certify_sdk::export_plugin!(plugin);
