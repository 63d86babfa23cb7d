//! Knowledge Base articles: parsing, structure and content checks, executable steps.
//!
//! The program requires two KB articles per product — a public, step-by-step guide for end
//! users and an internal one for the provider's support staff — and integrators must be
//! able to build and validate every feature from the documentation alone. This crate checks
//! exactly that:
//!
//! 1. [`Article::read`] parses an article: the `{{{ … }}}` JSON front matter (BOM, CRLF,
//!    one-line, HTML authors, a dozen date formats), then Markdown through pulldown-cmark
//!    (or HTML when `contentIsHTML`), keeping the 1-based line of everything it finds.
//! 2. [`check_article`] (or [`check_docs`] for a bundle's set) runs the structure and
//!    content checks — no deployment needed — and returns one [`CheckResult`] per check,
//!    each with file:line, a stable id, a message and a hint.
//! 3. [`run_article`] runs the article's [`steps`] against the run's deployment and
//!    returns one [`StepResult`] per step plus a verdict on the article.
//!
//! ```no_run
//! use certify_kb::{Article, Bindings, BundleFacts, DocRules, RunContext, RunOptions, StdHttpClient};
//!
//! let article = Article::read("docs/acme-public.md")?;
//! let bundle = BundleFacts { root: Some("docs".into()), ..BundleFacts::default() };
//! let rules = DocRules::default();
//! let report = certify_kb::check_article(&article, article.audience(), Some(&bundle), &rules);
//! for c in report.failures() {
//!     eprintln!("{}:{}: {} {}", c.file.display(), c.line, c.id, c.message);
//! }
//! let mut bindings = Bindings::new();
//! bindings.insert("server.WEB.internal_ip", "10.0.0.5");
//! let ctx = RunContext {
//!     bindings: &bindings,
//!     options: &RunOptions::default(),
//!     rules: &rules,
//!     library: None,
//!     http: &StdHttpClient,
//! };
//! let run = certify_kb::run_article(&article, &ctx)?;
//! println!("{}", run.verdict.message);
//! # Ok::<(), certify_kb::KbError>(())
//! ```
//!
//! The annotation syntax is in [`annotation`], placeholders in [`placeholder`], how
//! blocks become steps in [`steps`], output wildcards in [`matching`], and what isolation
//! running gives in [`run`].

#![warn(missing_docs)]

pub mod annotation;
pub mod article;
pub mod checks;
pub mod front_matter;
pub mod layout;
pub mod matching;
pub mod placeholder;
pub mod run;
pub mod steps;

use std::path::{Path, PathBuf};

pub use article::{Article, Audience};
pub use checks::{
    ArticleReport, BundleFacts, CheckResult, CheckStatus, DocRules, DocSection, check_article,
};
pub use placeholder::Bindings;
pub use run::{
    ArticleRun, BlueprintFacts, BlueprintLibrary, DeploymentOutcome, FailureKind, HttpClient,
    HttpRequest, HttpResponse, ParamFacts, RunContext, RunNetworkHttpClient, RunOptions,
    StdHttpClient, StepResult, StepStatus, run_article,
};
pub use steps::{Step, StepKind};

/// When the harness itself cannot do its job. A failing article is never an `Err`.
#[derive(Debug, thiserror::Error)]
pub enum KbError {
    /// An article or directory could not be read.
    #[error("cannot read {}", path.display())]
    Read {
        /// What was being read.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The throwaway working directory could not be set up.
    #[error("cannot set up a temporary working directory for the steps")]
    TempDir {
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The shell could not be started or waited for.
    #[error("cannot run {}", program.display())]
    Spawn {
        /// The program.
        program: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// The articles under `path`: the file itself, or every `*.md` below a directory (sorted,
/// `README.md` excluded: a bundle's readme is not a KB article).
pub fn find_articles(path: &Path) -> Result<Vec<PathBuf>, KbError> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), KbError> {
        let rd = std::fs::read_dir(dir).map_err(|source| KbError::Read {
            path: dir.to_path_buf(),
            source,
        })?;
        for e in rd {
            let e = e.map_err(|source| KbError::Read {
                path: dir.to_path_buf(),
                source,
            })?;
            let p = e.path();
            // Links are never followed: two links to `.` would otherwise walk forever.
            let Ok(kind) = e.file_type() else { continue };
            if kind.is_dir() {
                walk(&p, out)?;
            } else if kind.is_file()
                && p.extension().is_some_and(|x| x.eq_ignore_ascii_case("md"))
                && !p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().eq_ignore_ascii_case("readme.md"))
            {
                out.push(p);
            }
        }
        Ok(())
    }
    if path.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut out = Vec::new();
    walk(path, &mut out)?;
    out.sort();
    Ok(out)
}

/// The checks on a set of articles (a bundle's docs) plus the set's own checks.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DocsReport {
    /// One report per article.
    pub articles: Vec<ArticleReport>,
    /// `kb.docs.public` and `kb.docs.internal`: the set has one article of each kind.
    pub set_checks: Vec<CheckResult>,
}

impl DocsReport {
    /// True when no check failed.
    pub fn passed(&self) -> bool {
        self.articles.iter().all(ArticleReport::passed)
            && self.set_checks.iter().all(CheckResult::ok)
    }
}

/// Checks every article (audience inferred by [`Article::audience`]) and that the set
/// holds a public and an internal article, as the program requires of a Member product.
pub fn check_docs(
    articles: &[Article],
    bundle: Option<&BundleFacts>,
    rules: &DocRules,
) -> DocsReport {
    let reports: Vec<ArticleReport> = articles
        .iter()
        .map(|a| check_article(a, a.audience(), bundle, rules))
        .collect();
    let anchor = bundle
        .and_then(|b| b.root.clone())
        .or_else(|| {
            articles
                .first()
                .and_then(|a| a.path.parent().map(Path::to_path_buf))
        })
        .unwrap_or_default();
    let set_checks = [(Audience::Public, "kb.docs.public"), (Audience::Internal, "kb.docs.internal")]
        .into_iter()
        .map(|(aud, id)| {
            let found = reports.iter().find(|r| r.audience == aud);
            CheckResult {
                id: id.into(),
                file: found.map_or(anchor.clone(), |r| r.file.clone()),
                line: 1,
                status: if found.is_some() { CheckStatus::Passed } else { CheckStatus::Failed },
                message: match found {
                    // Relative to the bundle: reports leave the machine they were made on.
                    Some(r) => format!(
                        "{aud:?} article: {}",
                        r.file.strip_prefix(&anchor).unwrap_or(&r.file).display()
                    ),
                    None => format!("no {aud:?} article (the program requires a public and an internal one)").to_lowercase(),
                },
                hint: found.is_none().then(|| {
                    "add the missing article; mark the internal one with \"audience\": \"internal\" in its front matter or name it *internal*.md".into()
                }),

                subject: None,
            }
        })
        .collect();
    DocsReport {
        articles: reports,
        set_checks,
    }
}

/// Serialises a `Duration` as whole milliseconds.
pub(crate) mod duration_ms {
    use std::time::Duration;

    pub fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis() as u64)
    }

    pub mod option {
        use std::time::Duration;

        pub fn serialize<S: serde::Serializer>(
            d: &Option<Duration>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match d {
                Some(d) => s.serialize_some(&(d.as_millis() as u64)),
                None => s.serialize_none(),
            }
        }
    }
}
