//! The documentation side of a run: the KB articles' structure checks with
//! the bundle's facts, and their steps executed against the run's
//! deployment, with placeholders bound from it.

use std::path::PathBuf;

use certify_bundle::{Bundle, ResolvedParameter};
use certify_clc::model::Server;
use certify_kb::{
    Article, ArticleRun, Bindings, BlueprintFacts, BlueprintLibrary, BundleFacts,
    DeploymentOutcome, DocRules, DocsReport, KbError, ParamFacts, RunContext, RunOptions,
    StdHttpClient,
};

/// The bundle's facts the documentation checks compare articles with.
pub fn bundle_facts(bundle: &Bundle) -> BundleFacts {
    BundleFacts {
        root: Some(bundle.root.clone()),
        blueprint_name: Some(bundle.blueprint.name.clone()),
        package_names: bundle.packages.iter().map(|p| p.name.clone()).collect(),
        support_email: Some(bundle.support.email.clone()),
        support_phone: Some(bundle.support.phone.clone()),
        internal_only: bundle.internal_only(),
    }
}

/// Read both articles and run the structure and content checks.
pub fn check(bundle: &Bundle, rules: &DocRules) -> Result<(Vec<Article>, DocsReport), KbError> {
    let articles = vec![
        Article::read(&bundle.kb.public)?,
        Article::read(&bundle.kb.internal)?,
    ];
    let report = certify_kb::check_docs(&articles, Some(&bundle_facts(bundle)), rules);
    Ok((articles, report))
}

/// Placeholder values from the deployment: `server.<ROLE>.*`, `account.*`,
/// `param.*` (plain deployment parameters) and `secret.*` (masked in output).
pub fn bindings(
    servers: &[(String, Server)],
    alias: &str,
    data_center: &str,
    parameters: &[ResolvedParameter],
) -> Bindings {
    let mut b = Bindings::new();
    b.insert("account.alias", alias);
    b.insert("account.datacenter", data_center);
    for (role, s) in servers {
        b.insert(format!("server.{role}.name"), s.name.clone());
        if let Some(ip) = s.internal_ip() {
            b.insert(format!("server.{role}.internal_ip"), ip);
        }
        if let Some(ip) = s.public_ips().first() {
            b.insert(format!("server.{role}.public_ip"), ip.clone());
        }
    }
    for p in parameters {
        if p.secret {
            b.insert_secret(format!("secret.{}", p.name), p.value.clone());
        } else {
            b.insert(format!("param.{}", p.name), p.value.clone());
        }
    }
    b
}

/// What the run knows of the Blueprint Library and of its own deployment.
pub struct Library {
    /// The published blueprint.
    pub blueprint: BlueprintFacts,
    /// What became of the run's deployment of it.
    pub outcome: DeploymentOutcome,
}

impl BlueprintLibrary for Library {
    fn find(&self, name: &str) -> Option<BlueprintFacts> {
        self.blueprint
            .name
            .eq_ignore_ascii_case(name.trim())
            .then(|| self.blueprint.clone())
    }

    fn search(&self, keyword: &str) -> Vec<BlueprintFacts> {
        let keyword = keyword.trim().to_lowercase();
        if !keyword.is_empty() && self.blueprint.name.to_lowercase().contains(&keyword) {
            vec![self.blueprint.clone()]
        } else {
            Vec::new()
        }
    }

    fn deployment(&self, blueprint: &str) -> DeploymentOutcome {
        if self.blueprint.name.eq_ignore_ascii_case(blueprint.trim()) {
            self.outcome.clone()
        } else {
            DeploymentOutcome::NotDeployed
        }
    }
}

/// The library's view of a blueprint's deploy form, from the v1 API's
/// parameters. The API names parameters by variable (`Acme.Port`); the form a
/// reader follows labels them as the package manifest does (`HTTP Port`), so
/// each is known under both.
pub fn blueprint_facts(
    bundle: &Bundle,
    parameters: &[certify_clc::model::BlueprintParameter],
) -> BlueprintFacts {
    let mut facts = Vec::new();
    for p in parameters {
        let fact = ParamFacts {
            name: p.name.clone(),
            kind: certify_blueprint::ParameterType::from_v1_code(p.kind),
            required: true,
            regex: (!p.regex.is_empty()).then(|| p.regex.clone()),
            options: p.options.iter().map(|o| o.value.clone()).collect(),
        };
        let label = bundle
            .packages
            .iter()
            .find_map(|pkg| pkg.parameter(&p.name))
            .map(|m| m.name.clone())
            .filter(|label| !label.eq_ignore_ascii_case(&p.name));
        if let Some(label) = label {
            facts.push(ParamFacts {
                name: label,
                ..fact.clone()
            });
        }
        facts.push(fact);
    }
    BlueprintFacts {
        name: bundle.blueprint.name.clone(),
        parameters: facts,
    }
}

/// Run both articles' steps (blocking: call from `spawn_blocking`).
pub fn run_steps(
    articles: &[Article],
    bindings: &Bindings,
    rules: &DocRules,
    library: &Library,
    isolation: Option<&crate::services::isolation::Isolation>,
) -> Vec<(PathBuf, Result<ArticleRun, String>)> {
    let options = RunOptions {
        sandbox: isolation.map(|i| (i.sandbox.clone(), i.network.clone())),
        ..RunOptions::default()
    };
    let http: Box<dyn certify_kb::HttpClient> = match isolation.and_then(|i| i.network.clone()) {
        Some(network) => Box::new(certify_kb::RunNetworkHttpClient(network)),
        None => Box::new(StdHttpClient),
    };
    articles
        .iter()
        .map(|article| {
            let ctx = RunContext {
                bindings,
                options: &options,
                rules,
                library: Some(library),
                http: http.as_ref(),
            };
            (
                article.path.clone(),
                certify_kb::run_article(article, &ctx).map_err(|e| e.to_string()),
            )
        })
        .collect()
}
