//! `certify docs check` on real and sample Knowledge Base articles.

use std::path::{Path, PathBuf};

use crate::support::{cases, certify, read_json, run, validate_junit};

fn kb_data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("host/crates/kb/tests/data")
        .join(name)
}

#[test]
fn a_good_article_pair_passes() {
    let out = run(certify().arg("docs").arg("check").arg(kb_data("acme")));
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("2 articles"), "{out:?}");
}

#[test]
fn a_broken_pair_fails_on_exactly_its_faults_at_the_right_lines() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("docs.json");
    let out = run(certify()
        .arg("docs")
        .arg("check")
        .arg(kb_data("acme-broken"))
        .arg("--json")
        .arg(&json));
    assert_eq!(out.code, 1, "{out:?}");
    let report = read_json(&json);
    let failed: Vec<String> = cases(&report)
        .into_iter()
        .filter(|(_, c)| c["verdict"] == "failed")
        .map(|(id, c)| {
            format!(
                "{id} {}",
                c["location"].as_str().unwrap().rsplit('/').next().unwrap()
            )
        })
        .collect();
    assert_eq!(
        failed,
        [
            "kb.internal.support-phone acme-widget-internal.md:26",
            "kb.image.images-acme-logo-v2-png acme-widget-public.md:9",
        ]
    );
}

#[test]
fn every_corpus_article_parses_and_the_report_validates() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/kb");
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("docs.xml");
    let json = dir.path().join("docs.json");
    // The category folders; SOURCE-NOTE.md beside them is not an article.
    let mut categories: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    categories.sort();
    let out = run(certify()
        .arg("docs")
        .arg("check")
        .args(&categories)
        .arg("--junit")
        .arg(&junit)
        .arg("--json")
        .arg(&json));
    // Most of the corpus is not partner guides, so the set fails; but it is read.
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.contains("40 articles"), "{out:?}");
    validate_junit(&std::fs::read_to_string(&junit).unwrap());
    let report = read_json(&json);
    let suites = report["suites"].as_array().unwrap();
    assert_eq!(suites.len(), 41, "one suite per article plus the set");
    // A Bitnami getting-started guide meets the partner template.
    let abantecart = suites
        .iter()
        .find(|s| {
            s["name"]
                .as_str()
                .unwrap()
                .ends_with("getting-started-with-abantecart-blueprint")
        })
        .unwrap();
    let failed: Vec<&str> = abantecart["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["verdict"] == "failed")
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert!(
        !failed.iter().any(|id| id.starts_with("kb.public.section")),
        "{failed:?}"
    );
    assert!(!failed.contains(&"kb.public.step-by-step"), "{failed:?}");
}

/// A bundle's public article linking to the rest of the Knowledge Base, as
/// real articles do: a known KB article passes, an unknown one is left
/// unchecked with the reason, and neither fails the bundle's documentation.
#[test]
fn links_to_the_rest_of_the_knowledge_base_are_not_missing_files() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = crate::run::sample_copy(dir.path());
    let article = bundle.join("kb/public/getting-started-with-acme-status-page-blueprint.md");
    crate::run::edit(
        &article,
        "### Pricing\n",
        "See [Creating a new enterprise cloud server](../../Servers/creating-a-new-enterprise-cloud-server.md) \
         and [the VPN client](../../Network/how-to-configure-a-vpn-that-does-not-exist.md).\n\n### Pricing\n",
    );
    let json = dir.path().join("docs.json");
    let out = run(certify()
        .args(["docs", "check"])
        .arg(&bundle)
        .arg("--json")
        .arg(&json));
    assert_eq!(out.code, 0, "{out:?}");
    let links: Vec<serde_json::Value> = cases(&read_json(&json))
        .into_iter()
        .filter(|(id, _)| id.starts_with("kb.link"))
        .map(|(_, c)| c)
        .collect();
    let known = links
        .iter()
        .find(|c| {
            c.to_string()
                .contains("creating-a-new-enterprise-cloud-server")
        })
        .unwrap();
    assert_eq!(known["verdict"], "passed", "{known}");
    let unknown = links
        .iter()
        .find(|c| c.to_string().contains("does-not-exist"))
        .unwrap();
    assert_eq!(unknown["verdict"], "skipped", "{unknown}");
    assert!(
        unknown["reason"]
            .as_str()
            .unwrap()
            .contains("Network/how-to-configure-a-vpn-that-does-not-exist.md"),
        "{unknown}"
    );
}
