//! The CI recipes in `docs/ci/` call `certify` commands and flags that exist.

use std::path::Path;

use crate::support::{certify, run};

/// Every `certify ...` command line in a recipe.
fn commands(recipe: &str) -> Vec<Vec<String>> {
    recipe
        .lines()
        .map(|l| {
            l.trim()
                .trim_start_matches("- ")
                .trim_start_matches("run: ")
                .trim()
        })
        .filter(|l| l.starts_with("certify "))
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .collect()
}

#[test]
fn the_ci_recipes_use_real_commands_and_flags() {
    for recipe in ["docs/ci/github-actions.yml", "docs/ci/gitlab-ci.yml"] {
        let text =
            std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(recipe)).unwrap();
        let lines = commands(&text);
        assert!(lines.len() >= 3, "{recipe}: {lines:?}");
        for line in lines {
            // The subcommand path: the words before the first argument or flag.
            let path: Vec<&str> = line[1..]
                .iter()
                .take_while(|w| {
                    !w.starts_with('-') && !w.contains('/') && !w.contains('.') && !w.contains('$')
                })
                .map(String::as_str)
                .collect();
            let help = run(certify().args(&path).arg("--help"));
            assert_eq!(
                help.code,
                0,
                "{recipe}: `certify {}` is not a command: {help:?}",
                path.join(" ")
            );
            for flag in line.iter().filter(|w| w.starts_with("--")) {
                assert!(
                    help.stdout.contains(flag.as_str()),
                    "{recipe}: `certify {}` has no {flag}",
                    path.join(" ")
                );
            }
        }
    }
}
