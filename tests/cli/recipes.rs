//! The CI recipes in `docs/ci/` and the team recipes in `docs/team/` (CI matrices and
//! Kubernetes Jobs, which cannot run here) call `certify` commands and flags that exist.

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
    check_recipes(&["docs/ci/github-actions.yml", "docs/ci/gitlab-ci.yml"], 3);
}

#[test]
fn the_team_recipes_use_real_commands_and_flags() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/team");
    let mut recipes: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| format!("docs/team/{}", e.file_name().to_string_lossy()))
        .collect();
    recipes.sort();
    assert!(recipes.len() >= 3, "{recipes:?}");
    check_recipes(&recipes.iter().map(String::as_str).collect::<Vec<_>>(), 1);
    // The guide's own examples too (indented lines of its code blocks).
    check_recipes(&["docs/team.md"], 3);
}

/// Every `certify` line of each recipe (at least `min` of them) names a real command, and
/// every flag it passes is in that command's `--help`.
fn check_recipes(recipes: &[&str], min: usize) {
    for &recipe in recipes {
        let text =
            std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(recipe)).unwrap();
        let lines = commands(&text);
        assert!(lines.len() >= min, "{recipe}: {lines:?}");
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
