//! `certify docs check`: the structure and content checks of Knowledge Base
//! articles, without deploying anything.

use std::path::PathBuf;
use std::time::Instant;

use certify_kb::{Article, CheckStatus, DocRules};
use certify_runtime::text::strip_controls;

use crate::cli::DocsCheckArgs;
use crate::report::{self, json, junit};
use crate::{Error, Outcome};

/// Check articles (files or directories of them) and print one line per failure.
pub async fn check(args: DocsCheckArgs) -> Result<Outcome, Error> {
    if let Some(dir) = &args.out {
        report::check_out_dir(dir)?;
    }
    let started_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let clock = Instant::now();
    // A candidate bundle is checked with its own facts: its blueprint and
    // package names, its support contacts, its two articles.
    let mut bundle = None;
    let mut files: Vec<PathBuf> = Vec::new();
    for path in &args.paths {
        if path.join(certify_bundle::CANDIDATE_TOML).is_file() {
            let b = certify_bundle::Bundle::load(path).map_err(|e| Error::Usage(e.to_string()))?;
            files.push(b.kb.public.clone());
            files.push(b.kb.internal.clone());
            bundle = Some(b);
        } else {
            files.extend(certify_kb::find_articles(path).map_err(|e| Error::Other(e.into()))?);
        }
    }
    if files.is_empty() {
        return Err(Error::Usage(format!(
            "no articles (*.md) found in {}",
            args.paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let articles = files
        .iter()
        .map(Article::read)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Error::Other(e.into()))?;
    let facts = bundle.as_ref().map(crate::run::docs_facts);
    let mut docs = certify_kb::check_docs(&articles, facts.as_ref(), &DocRules::default());
    // A bundle's articles were read from its snapshot: name the candidate's files.
    if let Some(b) = &bundle {
        for article in &mut docs.articles {
            article.file = b.snapshot.shown(&article.file);
            for c in &mut article.checks {
                c.file = b.snapshot.shown(&c.file);
            }
        }
    }
    let base = std::env::current_dir().unwrap_or_default();
    for article in &docs.articles {
        let failed = article.failures().count();
        println!(
            "{} {} ({:?}, {} checks, {failed} failed)",
            if failed == 0 { "PASS " } else { "FAIL " },
            report::docs::relative(&article.file, &base),
            article.audience,
            article.checks.len()
        );
        for c in article.failures() {
            // Messages quote the article: no control sequences to the terminal.
            println!(
                "  {}:{}: {} {}",
                report::docs::relative(&c.file, &base),
                c.line,
                c.id,
                strip_controls(&c.message)
            );
            if let Some(hint) = &c.hint {
                println!("    what to do: {}", strip_controls(hint));
            }
        }
    }
    for c in docs
        .set_checks
        .iter()
        .filter(|c| c.status == CheckStatus::Failed)
    {
        println!("FAIL  {}: {}", c.id, strip_controls(&c.message));
    }
    // The report names articles relative to the bundle, or to the directory the given
    // articles share: it leaves the machine, the current directory does not.
    let report_base = match &bundle {
        Some(b) => b.root.clone(),
        None => common_dir(&files),
    };
    let report = report::docs::report(&docs, &report_base, started_at, clock.elapsed());
    if let Some(dir) = &args.out {
        report::write_out_dir(&report, dir)?;
    }
    if let Some(path) = &args.junit {
        report::write_file(path, junit::render(&report)?.as_bytes())?;
    }
    if let Some(path) = &args.json {
        report::write_file(path, json::render(&report)?.as_bytes())?;
    }
    let c = report.counts;
    println!(
        "\n{} articles, {} checks: {} passed, {} failed, {} skipped",
        docs.articles.len(),
        c.tests,
        c.passed,
        c.failures,
        c.skipped
    );
    Ok(if report.passed {
        Outcome::Passed
    } else {
        Outcome::Failed
    })
}

/// The deepest directory that holds every one of `files`.
fn common_dir(files: &[PathBuf]) -> PathBuf {
    let mut common: Option<PathBuf> = None;
    for f in files {
        let dir = f.parent().map(PathBuf::from).unwrap_or_default();
        common = Some(match common {
            None => dir,
            Some(c) => c
                .components()
                .zip(dir.components())
                .take_while(|(a, b)| a == b)
                .map(|(a, _)| a)
                .collect(),
        });
    }
    common.unwrap_or_default()
}
