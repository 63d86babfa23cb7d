//! The naming scheme of suites, classes and test ids, one for report.json and JUnit.
//!
//! - A **suite** is named by one token of lower-case letters, digits and `-`:
//!   `certification`, `bundle`, `budget`, `blueprint`, `teardown`,
//!   `plugin-<criterion>`, `docs` (the set of articles), `docs-<article>` (an
//!   article's structure) and `docs-steps-<article>` (its steps), where `<article>` is
//!   the article's path in the bundle without `kb/` and `.md`, as a slug
//!   (`public-getting-started`).
//! - A case's **classname** is its suite's name: no dots, so viewers that split a
//!   classname at its last dot into package and class (Jenkins) show it whole, and
//!   no paths.
//! - A case's **id** (the JUnit test name) says what is checked, not where:
//!   `bundle.valid`, `status.api`, `kb.bundle.names.acme-status-page`,
//!   `step.curl-http-server-web-internal-ip-8080-health`. It is unique within its
//!   suite (a repeat gets `-2`, `-3`, … in order of appearance) and does not change
//!   when lines are added above it; the line is in the case's `location` and message.

use std::collections::HashMap;

use super::model::Case;

/// At most this many characters of a slug: ids stay readable in a viewer's column.
const SLUG_MAX: usize = 60;

/// Lower-case ASCII letters and digits, everything else one `-`, trimmed and bounded.
pub fn slug(text: &str) -> String {
    bounded_slug(text, SLUG_MAX)
}

fn bounded_slug(text: &str, max: usize) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
        if out.len() >= max {
            break;
        }
    }
    let trimmed = out.trim_end_matches('-');
    if trimmed.is_empty() {
        "x".to_string()
    } else {
        trimmed.to_string()
    }
}

/// The `<article>` part of a docs suite's name: the path relative to the bundle,
/// without a leading `kb/` and the `.md`, as a slug.
pub fn article(relative_path: &str) -> String {
    let p = relative_path.strip_prefix("kb/").unwrap_or(relative_path);
    let p = p.strip_suffix(".md").unwrap_or(p);
    // Longer than a check's slug: two articles must not share a suite.
    bounded_slug(p, 4 * SLUG_MAX)
}

/// Make the ids of one suite's cases unique: the second case with an id becomes
/// `id-2`, the third `id-3`, … (skipping any that is taken).
pub fn make_unique(cases: &mut [Case]) {
    let mut taken: HashMap<String, usize> = HashMap::new();
    for case in cases.iter() {
        *taken.entry(case.id.clone()).or_default() += 1;
    }
    let mut seen: HashMap<String, usize> = HashMap::new();
    for case in cases.iter_mut() {
        let n = seen.entry(case.id.clone()).or_default();
        *n += 1;
        if *n == 1 {
            continue;
        }
        let mut k = *n;
        let mut id = format!("{}-{k}", case.id);
        while taken.contains_key(&id) {
            k += 1;
            id = format!("{}-{k}", case.id);
        }
        taken.insert(id.clone(), 1);
        case.id = id;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::model::Verdict;

    fn case(id: &str) -> Case {
        Case::new(id, "docs", "", Verdict::Passed)
    }

    #[test]
    fn slugs_have_no_dots_slashes_or_spaces() {
        assert_eq!(
            slug("kb/public/Getting Started.md"),
            "kb-public-getting-started-md"
        );
        assert_eq!(slug("  ..//  "), "x");
        assert_eq!(slug(&"a".repeat(500)).len(), SLUG_MAX);
        assert_eq!(
            article("kb/public/getting-started-with-acme.md"),
            "public-getting-started-with-acme"
        );
    }

    #[test]
    fn repeated_ids_are_numbered_in_order_and_never_collide() {
        let mut cases = vec![
            case("kb.link"),
            case("kb.link-2"),
            case("kb.link"),
            case("a"),
        ];
        make_unique(&mut cases);
        let ids: Vec<&str> = cases.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["kb.link", "kb.link-2", "kb.link-3", "a"]);
    }
}
