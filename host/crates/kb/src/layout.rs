//! The Knowledge Base around a bundle's articles: which KB paths are known to
//! exist, so that a link leaving the bundle (`../../Servers/….md`, as real
//! articles link to the rest of the KB) can be checked against the KB's
//! layout instead of the bundle's files.
//!
//! The index (`kb_index.txt`) lists only paths known to exist; see its header
//! for where they come from. A link to a path it does not list is left
//! unchecked (reported as skipped with the reason), never failed: the index
//! is a sample of the KB, not all of it.

use std::collections::HashSet;
use std::path::{Component, Path};
use std::sync::LazyLock;

/// Where a partner's getting-started guide is published in the KB, and so
/// where a bundle's articles' relative links start from.
pub const PARTNER_GUIDES: &str = "Ecosystem Partners/Marketplace Guides";

static INDEX: LazyLock<Index> = LazyLock::new(|| Index::parse(include_str!("kb_index.txt")));

/// Known articles and the folders that hold them.
struct Index {
    articles: HashSet<&'static str>,
    folders: HashSet<String>,
}

impl Index {
    fn parse(text: &'static str) -> Index {
        let articles: HashSet<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect();
        let folders = articles
            .iter()
            .flat_map(|a| {
                a.match_indices('/')
                    .map(|(i, _)| a[..i].to_string())
                    .collect::<Vec<_>>()
            })
            .collect();
        Index { articles, folders }
    }
}

/// Whether `path` (`Servers/creating-a-new-enterprise-cloud-server.md`, or a
/// folder such as `Blueprints`) is known to exist in the KB.
pub fn is_known(path: &str) -> bool {
    let path = path.trim_end_matches('/');
    INDEX.articles.contains(path) || INDEX.folders.contains(path)
}

/// The KB folder an article in `dir` lives in: the longest tail of `dir`
/// that is a known KB folder (an article checked in a copy of the KB), else
/// where partner guides are published.
pub fn home_of(dir: &Path) -> String {
    let names: Vec<String> = dir
        .components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    (1..=names.len().min(4))
        .rev()
        .map(|n| names[names.len() - n..].join("/"))
        .find(|tail| INDEX.folders.contains(tail))
        .unwrap_or_else(|| PARTNER_GUIDES.to_string())
}

/// `link` (relative, `/`-separated, decoded) followed from an article in the
/// KB folder `home`: its KB path, or `None` when it climbs above the KB root.
pub fn resolve(home: &str, link: &str) -> Option<String> {
    let mut parts: Vec<&str> = home.split('/').filter(|s| !s.is_empty()).collect();
    for part in link.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_holds_the_corpus_and_its_link_targets() {
        assert!(is_known(
            "Servers/creating-a-new-enterprise-cloud-server.md"
        ));
        assert!(is_known(
            "Ecosystem Partners/Marketplace Guides/getting-started-with-gitlab-blueprint.md"
        ));
        assert!(is_known("Support/how-do-i-report-a-support-issue.md"));
        assert!(is_known("Blueprints"));
        assert!(is_known("Ecosystem Partners/Marketplace Guides/"));
        assert!(!is_known("Servers/no-such-article.md"));
        assert!(!is_known("Servers/creating-a-new-enterprise-cloud-server"));
        assert!(!is_known("# The sample corpus."));
        assert!(INDEX.articles.len() >= 60, "{}", INDEX.articles.len());
    }

    #[test]
    fn links_resolve_from_the_article_s_folder() {
        assert_eq!(
            resolve(PARTNER_GUIDES, "../../Servers/x.md").as_deref(),
            Some("Servers/x.md")
        );
        assert_eq!(
            resolve(PARTNER_GUIDES, "../Partner Integration Resources/y.md").as_deref(),
            Some("Ecosystem Partners/Partner Integration Resources/y.md")
        );
        assert_eq!(resolve(PARTNER_GUIDES, "../../../etc/passwd"), None);
        assert_eq!(
            resolve("Blueprints", "./../Network/z.md").as_deref(),
            Some("Network/z.md")
        );
    }

    #[test]
    fn an_article_s_home_is_its_kb_folder_or_the_partner_guides() {
        assert_eq!(
            home_of(Path::new(
                "/x/corpus/kb/Ecosystem Partners/Marketplace Guides"
            )),
            PARTNER_GUIDES
        );
        assert_eq!(home_of(Path::new("/x/corpus/kb/Blueprints")), "Blueprints");
        assert_eq!(home_of(Path::new("/work/acme/kb/public")), PARTNER_GUIDES);
        assert_eq!(home_of(Path::new("")), PARTNER_GUIDES);
    }
}
