//! The 40 real KB articles in `shared/corpus/kb`: all parse, and the verdicts make sense.

use std::path::{Path, PathBuf};

use certify_kb::{
    Article, ArticleReport, Audience, BundleFacts, CheckStatus, DocRules, StepKind, check_article,
    find_articles,
};

use crate::corpus_dir;

fn corpus() -> Vec<PathBuf> {
    let all = find_articles(&corpus_dir()).expect("the corpus is readable");
    all.into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n != "SOURCE-NOTE.md"))
        .collect()
}

fn article(rel: &str) -> Article {
    Article::read(corpus_dir().join(rel)).expect("readable")
}

fn report(a: &Article) -> ArticleReport {
    let bundle = BundleFacts {
        root: Some(corpus_dir()),
        ..BundleFacts::default()
    };
    check_article(a, Audience::Public, Some(&bundle), &DocRules::default())
}

fn failed(r: &ArticleReport, id: &str) -> bool {
    r.failures().any(|c| c.id == id)
}

fn passed(r: &ArticleReport, id: &str) -> bool {
    r.checks.iter().any(|c| c.id == id) && !failed(r, id)
}

#[test]
fn all_forty_articles_parse_with_front_matter_title_date_and_author() {
    let files = corpus();
    assert_eq!(files.len(), 40, "{files:#?}");
    for p in &files {
        let a = Article::read(p).unwrap();
        assert!(a.problems.is_empty(), "{}: {:?}", p.display(), a.problems);
        assert!(a.front.title.is_some(), "{}", p.display());
        assert!(
            a.front.date.is_some(),
            "{}: date {:?}",
            p.display(),
            a.front.date_raw
        );
        assert!(
            a.front.author.as_deref().is_some_and(|s| !s.is_empty()),
            "{}",
            p.display()
        );
        assert!(
            !a.front.author.as_deref().unwrap().contains('<'),
            "{}: HTML stripped",
            p.display()
        );
        let r = report(&a);
        for c in &r.checks {
            assert!(
                c.line >= 1 && c.line <= a.text.lines().count().max(1),
                "{}: {c:?}",
                p.display()
            );
        }
        for id in [
            "kb.front-matter",
            "kb.front-matter.title",
            "kb.front-matter.date",
            "kb.front-matter.author",
        ] {
            assert!(passed(&r, id), "{}: {id}", p.display());
        }
    }
}

#[test]
fn a_bitnami_getting_started_guide_is_a_complete_public_article() {
    let a = article(
        "Ecosystem Partners/Marketplace Guides/getting-started-with-abantecart-blueprint.md",
    );
    assert_eq!(a.audience(), Audience::Public);
    assert_eq!(a.front.author.as_deref(), Some("Bitnami"));
    let r = report(&a);
    for id in [
        "kb.public.step-by-step",
        "kb.public.section.description",
        "kb.public.section.audience",
        "kb.public.section.prerequisites",
        "kb.public.section.deployment-steps",
        "kb.public.section.pricing",
        "kb.public.section.faq-support",
        "kb.public.no-internal-content",
        "kb.steps.found",
    ] {
        assert!(
            passed(&r, id),
            "{id}: {:#?}",
            r.checks.iter().filter(|c| c.id == id).collect::<Vec<_>>()
        );
    }
    let pricing = r
        .checks
        .iter()
        .find(|c| c.id == "kb.public.section.pricing")
        .unwrap();
    assert_eq!(pricing.line, 127);
    // The Blueprint Library flow becomes API steps at the lines of the numbered steps.
    let flow: Vec<_> = a.steps.iter().map(|s| (s.line, s.kind.clone())).collect();
    assert_eq!(
        flow[0],
        (
            43,
            StepKind::FindBlueprint {
                name: "Install AbanteCart on Linux".into(),
                search: false
            }
        )
    );
    assert!(flow.contains(&(
        51,
        StepKind::BlueprintParameter {
            blueprint: "Install AbanteCart on Linux".into(),
            name: "Apache Web Server Port".into(),
            value: Some("80".into())
        }
    )));
    assert!(matches!(
        flow[flow.len() - 2],
        (71, StepKind::DeployBlueprint { .. })
    ));
    assert!(matches!(
        flow[flow.len() - 1],
        (75, StepKind::WatchQueue { .. })
    ));
    // Its links to the rest of the Knowledge Base are checked against the
    // KB's layout: each is a known article, though not a file here.
    let links: Vec<(usize, &str)> = r
        .checks
        .iter()
        .filter(|c| c.id == "kb.link")
        .map(|c| (c.line, c.message.as_str()))
        .collect();
    assert_eq!(
        links.iter().map(|(l, _)| *l).collect::<Vec<_>>(),
        [31, 33, 87, 91],
        "{links:#?}"
    );
    assert!(!failed(&r, "kb.link"), "{links:#?}");
    assert!(
        links[2]
            .1
            .ends_with("the Knowledge Base's Servers/creating-a-new-enterprise-cloud-server.md"),
        "{links:#?}"
    );
    // Its logo is in the KB's images, which the index does not list: not
    // checked, with the reason, and never a failure.
    let image = r.checks.iter().find(|c| c.id == "kb.image").unwrap();
    assert_eq!(image.line, 9);
    assert!(
        matches!(&image.status, CheckStatus::Skipped { reason } if reason.contains("images/abantecart-stack-logo.png")),
        "{image:#?}"
    );
}

#[test]
fn engine_articles_without_steps_fail_step_by_step() {
    let a = article("Blueprints/blueprint-package-and-template-maximum-limits.md");
    let r = report(&a);
    assert!(failed(&r, "kb.public.step-by-step"));
    assert!(failed(&r, "kb.steps.found"));
    assert!(failed(&r, "kb.public.section.pricing"));
    // Nothing in it is a credential: "Packages do not share state" is not internal content.
    assert!(passed(&r, "kb.public.no-internal-content"));
}

#[test]
fn the_how_to_article_is_step_by_step_but_not_a_partner_guide() {
    let a = article("Blueprints/how-to-execute-a-blueprint.md");
    let r = report(&a);
    assert!(passed(&r, "kb.public.step-by-step"));
    assert!(failed(&r, "kb.public.section.pricing"));
    assert!(failed(&r, "kb.public.section.audience"));
}

#[test]
fn an_html_article_parses_into_headings_and_links() {
    let a = article("Blueprints/blueprints-script-and-software-package-management.md");
    assert!(a.front.content_is_html);
    assert!(a.problems.is_empty());
    assert!(
        a.headings.iter().any(|h| h.text.contains("Parameter")),
        "{:?}",
        a.headings
    );
    assert!(a.steps.is_empty(), "HTML <pre> blocks are not steps");
    let r = report(&a);
    assert!(failed(&r, "kb.steps.found"));
}

#[test]
fn quirky_files_keep_their_lines() {
    // CRLF line endings.
    let a = article(
        "Ecosystem Partners/Marketplace Guides/getting-started-with-chef-server-blueprint.md",
    );
    assert!(a.text.contains("\r\n"));
    let pricing = a.headings.iter().find(|h| h.text == "Pricing").unwrap();
    assert_eq!(pricing.line, 71);
    assert!(
        matches!(&a.steps[0].kind, StepKind::FindBlueprint { name, search: true } if name == "Chef")
    );
    // Whitespace before `{{{`.
    let a = article(
        "Ecosystem Partners/Marketplace Guides/getting-started-with-docker-trusted-registry-blueprint.md",
    );
    assert_eq!(a.front_line, 2, "the file opens with a blank line");
    assert!(
        a.front
            .title
            .as_deref()
            .unwrap()
            .contains("Docker Trusted Registry")
    );
    // The whole front matter on one line.
    let a = article("Marketplace/Providers/provider-onboarding-checklist.md");
    assert_eq!(
        a.front.title.as_deref(),
        Some("Marketplace Onboarding Checklist")
    );
    let r = report(&a);
    let anchor = r
        .failures()
        .find(|c| c.id == "kb.anchor")
        .expect("the #1 anchor dangles");
    assert_eq!(anchor.line, 55);
}

#[test]
fn a_bom_and_a_crlf_copy_of_a_real_article_give_the_same_lines() {
    let p = corpus_dir()
        .join("Ecosystem Partners/Marketplace Guides/getting-started-with-jenkins-blueprint.md");
    let text = std::fs::read_to_string(&p).unwrap();
    let plain = Article::parse(&p, text.clone());
    let odd = Article::parse(&p, format!("\u{feff}  {}", text.replace('\n', "\r\n")));
    let lines = |a: &Article| a.steps.iter().map(|s| s.line).collect::<Vec<_>>();
    assert!(!lines(&plain).is_empty());
    assert_eq!(lines(&plain), lines(&odd));
    assert_eq!(
        plain.headings.iter().map(|h| h.line).collect::<Vec<_>>(),
        odd.headings.iter().map(|h| h.line).collect::<Vec<_>>()
    );
}

#[test]
fn code_blocks_nested_under_numbered_steps_are_found() {
    // Silver Peak's email template is indented under step 3.
    let a = article(
        "Ecosystem Partners/Marketplace Guides/getting-started-with-silver-peak-partner-template.md",
    );
    let b = a
        .code_blocks
        .iter()
        .find(|b| b.line == 78)
        .expect("the block under step 3");
    assert_eq!(b.step_number, Some(3));
    assert!(b.content.contains("ServiceTasks@ctl.io"));
    let s = a.steps.iter().find(|s| s.line == 78).unwrap();
    assert!(matches!(&s.kind, StepKind::NotExecutable { reason } if reason.contains("untagged")));
}

#[test]
fn a_public_article_with_live_tokens_fails_the_internal_content_check() {
    let a = article("Servers/using-the-api-to-create-and-then-manage-a-server.md");
    let r = report(&a);
    let lines: Vec<_> = r
        .failures()
        .filter(|c| c.id == "kb.public.no-internal-content")
        .map(|c| c.line)
        .collect();
    // The bearer token of the sample login response.
    assert!(lines.contains(&42), "{lines:?}");
}

#[test]
fn verdicts_over_the_corpus_make_sense() {
    let mut complete = Vec::new();
    for p in corpus() {
        let a = Article::read(&p).unwrap();
        let r = report(&a);
        let structural = r
            .failures()
            .filter(|c| !matches!(c.id.as_str(), "kb.image" | "kb.link" | "kb.anchor"))
            .count();
        if structural == 0 {
            complete.push(p.strip_prefix(corpus_dir()).unwrap().to_path_buf());
        }
    }
    // Only partner getting-started guides meet the whole template; no engine or program
    // article does.
    assert!(complete.len() >= 8, "{complete:#?}");
    for p in &complete {
        assert!(
            p.starts_with(Path::new("Ecosystem Partners/Marketplace Guides")),
            "{p:?}"
        );
    }
}
