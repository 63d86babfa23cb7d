//! `certify plan`: what `certify run` would do with a bundle, without touching
//! any account.
//!
//! The plan loads the bundle as a run does (every problem at once), lists
//! what would be deployed (servers, packages, parameters with secrets
//! masked), prices the blueprint with the same code and billed hours a run
//! reserves, against the credit the local ledger says is left, runs the
//! documentation's structure checks, and builds and loads the plugin to list
//! its checks. The only difference from the estimate a run reserves is where
//! the templates' storage sizes come from: the embedded emulator's template
//! list here, the account's when a run starts (they agree for the emulator).

use std::path::Path;
use std::time::Duration;

use certify_bundle::{Bundle, LoadError, ParameterValue, SecretSource, Severity};
use certify_kb::{CheckStatus, DocsReport};
use certify_ledger::{Ledger, Money, Month};
use serde_json::{Value, json};

use crate::cli::{GlobalArgs, PlanArgs};
use crate::run::budget::{self, Estimate};
use crate::{Error, Outcome};

/// What masks a secret's value.
const MASK: &str = "********";

/// The credit side of the plan.
struct Credit {
    /// The month's credit, from the integrator's tier and the suite, as a run applies it.
    credit: Money,
    /// Where the credit comes from, for the reader.
    credit_source: String,
    month_to_date: Money,
    reserved: Money,
    /// Where month-to-date comes from, for the reader.
    source: String,
}

impl Credit {
    fn remaining(&self) -> Money {
        self.credit - self.month_to_date - self.reserved
    }

    /// By how much the estimate would exceed the credit, by the ledger's rule.
    fn shortfall(&self, estimate: Money) -> Option<Money> {
        certify_ledger::shortfall(self.credit, self.month_to_date, self.reserved, estimate)
    }
}

/// Run `certify plan`.
pub async fn plan(global: &GlobalArgs, args: PlanArgs) -> Result<Outcome, Error> {
    let suite =
        certify_suite::Suite::resolve(&args.suite).map_err(|e| Error::Usage(e.to_string()))?;
    let bundle = match Bundle::load(&args.bundle) {
        Ok(b) => b,
        Err(LoadError::Invalid { root, problems }) => {
            return invalid(&root, &problems, args.json);
        }
        Err(e) => return Err(Error::Usage(e.to_string())),
    };
    let time_limit = Duration::from_secs(u64::from(suite.run_time_limit_minutes) * 60);
    let estimate = budget::estimate_with(
        &certify_emulator::templates(),
        &bundle,
        &certify_blueprint::PriceList::default(),
        time_limit,
    );
    let policy = crate::run::policy::Policy::new(&suite, args.tier, None, &bundle);
    let credit = credit(&args, &policy)?;
    let rules = suite.docs.clone();
    let docs = crate::run::docs_check(&bundle, &rules).map_err(|e| e.to_string());
    let plugin = load_plugin(global, &bundle).await;

    let mut blockers = Vec::new();
    if let Some(short) = credit.shortfall(estimate.total) {
        blockers.push(format!(
            "the run would be refused: its estimate {} plus month-to-date {} and open reservations {} exceeds the {} monthly credit by {}",
            estimate.total,
            credit.month_to_date,
            credit.reserved,
            credit.credit,
            short.ceil_to_cent()
        ));
    }
    // Secrets the integrator supplies (`certify run --secret NAME=VARIABLE`) are not
    // known to the plan: it names them so they can be given to the run.
    let doc = document(
        &bundle, &suite, &estimate, &credit, &docs, &plugin, &blockers,
    );
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&doc).expect("JSON values serialize")
        );
    } else {
        print_text(&doc);
    }
    Ok(if blockers.is_empty() {
        Outcome::Passed
    } else {
        Outcome::Failed
    })
}

/// A bundle with errors: every problem, and no run.
fn invalid(
    root: &Path,
    problems: &[certify_bundle::Problem],
    as_json: bool,
) -> Result<Outcome, Error> {
    if as_json {
        let doc = json!({
            "bundle": root.display().to_string(),
            "ready": false,
            "blockers": ["the bundle has errors"],
            "problems": problems,
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&doc).expect("JSON values serialize")
        );
    } else {
        let errors = problems
            .iter()
            .filter(|p| p.severity == Severity::Error)
            .count();
        println!(
            "{}: the bundle has {errors} error(s); a run would stop before anything is created",
            root.display()
        );
        for p in problems {
            println!("{p}");
        }
    }
    Ok(Outcome::Failed)
}

/// The month's credit as a run would apply it, and what the local ledger says is used of
/// it.
fn credit(args: &PlanArgs, policy: &crate::run::policy::Policy) -> Result<Credit, Error> {
    let credit = policy.credit;
    let credit_source = policy.credit_source.clone();
    let db = crate::services::state_db(args.state.as_ref())?;
    // Opening the ledger would create it: a plan only reads one that exists.
    if !db.is_file() {
        return Ok(Credit {
            credit,
            credit_source,
            month_to_date: Money::ZERO,
            reserved: Money::ZERO,
            source: format!(
                "no local ledger at {}: month-to-date taken as $0.00; the account's own billing is read when a run starts",
                db.display()
            ),
        });
    }
    let mut ledger = Ledger::open(&db)
        .map_err(|e| Error::Other(anyhow::Error::new(e).context("opening the credit ledger")))?;
    let summary = ledger
        .summary(&args.account, Month::current(), credit, Money::ZERO)
        .map_err(|e| Error::Other(anyhow::Error::new(e).context("reading the ledger")))?;
    Ok(Credit {
        credit,
        credit_source,
        month_to_date: summary.month_to_date,
        reserved: summary.open_reservations,
        source: format!(
            "the local ledger {} for account {} ({} UTC); a run also reads the account's own billing and takes the larger",
            db.display(),
            args.account,
            summary.month
        ),
    })
}

/// Build and load the plugin, for its checks; the error when it cannot be.
async fn load_plugin(
    global: &GlobalArgs,
    bundle: &Bundle,
) -> Result<certify_runtime::PluginInfo, String> {
    // As a run builds it: from the bundle's snapshot, in the sandbox.
    let bytes = match &bundle.plugin.source {
        certify_bundle::PluginSource::Wasm { path } => {
            std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))?
        }
        certify_bundle::PluginSource::Cargo { dir, .. } => {
            crate::build_copy::build(
                &bundle.snapshot,
                dir,
                &crate::services::cache_root(global),
                super::plugin::build_sandbox().as_ref(),
            )
            .map_err(|e| e.to_string())?
            .1
        }
    };
    let runtime = crate::services::runtime(global, None).map_err(|e| e.to_string())?;
    let plugin = runtime.load(bytes, None).await.map_err(|e| e.to_string())?;
    Ok(plugin.info().clone())
}

/// What would be deployed: servers, packages, parameters (secrets masked).
fn deployment(bundle: &Bundle, estimate: &Estimate) -> Value {
    let servers: Vec<Value> = bundle
        .blueprint
        .servers
        .iter()
        .zip(&estimate.servers)
        .map(|(s, e)| {
            json!({
                "name": s.name,
                "description": s.description,
                "cpu": s.cpu,
                "memory_gb": s.memory_gb,
                "template": s.template,
                "storage_gb": e.size.storage_gb,
                "public_ip_ports": s.public_ip_ports(),
                "packages": bundle.blueprint.package_tasks()
                    .filter(|(srv, _)| srv.name == s.name)
                    .map(|(_, t)| bundle.package_of(t).map_or_else(|| t.name.clone(), |p| p.name.clone()))
                    .collect::<Vec<_>>(),
            })
        })
        .collect();
    let packages: Vec<Value> = bundle
        .packages
        .iter()
        .map(|p| {
            json!({
                "name": p.name,
                "path": p.relative_path,
                "parameters": p.parameters.iter().map(|q| q.variable.clone()).collect::<Vec<_>>(),
            })
        })
        .collect();
    let parameters: Vec<Value> = bundle
        .deploy
        .parameters
        .iter()
        .map(|p| {
            let (value, source) = match &p.value {
                ParameterValue::Plain(v) => (v.clone(), "candidate.toml".to_string()),
                ParameterValue::Secret(SecretSource::Literal(_)) => {
                    (MASK.into(), "candidate.toml (secret)".into())
                }
                ParameterValue::Secret(SecretSource::Integrator) => (
                    MASK.into(),
                    "the integrator (`certify run --secret NAME=VARIABLE`)".into(),
                ),
                ParameterValue::Secret(SecretSource::Generate) => {
                    (MASK.into(), "generated for each run".into())
                }
            };
            json!({ "name": p.name, "value": value, "secret": p.is_secret(), "source": source })
        })
        .collect();
    json!({
        "blueprint": bundle.blueprint.name,
        "data_center": bundle.deploy.data_center,
        "servers": servers,
        "packages": packages,
        "parameters": parameters,
    })
}

/// The documentation checks and steps, and the plugin's checks, as JSON.
fn checks(
    bundle: &Bundle,
    docs: &Result<(Vec<certify_kb::Article>, DocsReport), String>,
    plugin: &Result<certify_runtime::PluginInfo, String>,
) -> (Value, Value) {
    let base = bundle.root.clone();
    let rel = |p: &Path| crate::report::docs::relative(p, &base);
    let docs_json = match docs {
        Ok((articles, report)) => json!({
            "passed": report.passed(),
            "articles": report.articles.iter().map(|a| json!({
                "file": rel(&a.file),
                "audience": format!("{:?}", a.audience).to_lowercase(),
                "checks": a.checks.len(),
                "failed": a.failures().map(|c| json!({
                    "id": c.id, "line": c.line, "message": c.message, "hint": c.hint,
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "set_checks": report.set_checks.iter().filter(|c| c.status == CheckStatus::Failed)
                .map(|c| json!({"id": c.id, "message": c.message})).collect::<Vec<_>>(),
            "steps": articles.iter().flat_map(|a| a.steps.iter().map(move |s| json!({
                "article": rel(&a.path),
                "line": s.line,
                "step": s.label(),
                "skip": s.skip,
            }))).collect::<Vec<_>>(),
        }),
        Err(e) => json!({ "passed": false, "error": e }),
    };
    let plugin_json = match plugin {
        Ok(info) => json!({
            "name": info.name,
            "version": info.version,
            "checks": info.checks.iter().map(|c| json!({
                "id": c.id, "title": c.title, "criterion": c.criterion.as_str(), "readiness": c.readiness,
            })).collect::<Vec<_>>(),
        }),
        Err(e) => json!({ "error": e }),
    };
    (docs_json, plugin_json)
}

/// The plan as JSON: what `--json` prints and the text is written from.
fn document(
    bundle: &Bundle,
    suite: &certify_suite::Suite,
    estimate: &Estimate,
    credit: &Credit,
    docs: &Result<(Vec<certify_kb::Article>, DocsReport), String>,
    plugin: &Result<certify_runtime::PluginInfo, String>,
    blockers: &[String],
) -> Value {
    let (docs_json, plugin_json) = checks(bundle, docs, plugin);
    let cost_servers: Vec<Value> = estimate
        .servers
        .iter()
        .map(|s| {
            json!({
                "name": s.name,
                "cost": s.cost.to_string(),
                "cost_exact": format!("{:#}", s.cost),
                "cost_micros": s.cost.micros(),
                "items": s.items.iter().map(|(r, m)| json!({
                    "resource": r, "label": r.to_string(), "cost": m.to_string(), "cost_exact": format!("{m:#}"), "cost_micros": m.micros(),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let shortfall = credit.shortfall(estimate.total);
    json!({
        "bundle": bundle.root.display().to_string(),
        "candidate": {
            "company": bundle.candidate.company,
            "product": bundle.candidate.product,
            "version": bundle.candidate.version,
            "tier": bundle.candidate.tier.to_string(),
        },
        "suite": suite.label(),
        "ready": blockers.is_empty(),
        "blockers": blockers,
        "problems": bundle.warnings,
        "deployment": deployment(bundle, estimate),
        "cost": {
            "hours": estimate.hours,
            "run_time_limit_minutes": suite.run_time_limit_minutes,
            "servers": cost_servers,
            "estimate": estimate.total.to_string(),
            "estimate_exact": format!("{:#}", estimate.total),
            "estimate_micros": estimate.total.micros(),
            "credit": credit.credit.to_string(),
            "credit_source": credit.credit_source,
            "month_to_date": credit.month_to_date.to_string(),
            "open_reservations": credit.reserved.to_string(),
            "remaining": credit.remaining().to_string(),
            "month_to_date_source": credit.source,
            "fits": shortfall.is_none(),
            "shortfall": shortfall.map(|s| s.ceil_to_cent().to_string()),
            "storage_from": "the embedded emulator's templates",
        },
        "docs": docs_json,
        "plugin": plugin_json,
    })
}

/// The plan for a terminal, from its JSON.
fn print_text(doc: &Value) {
    let s = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_string);
    let c = &doc["candidate"];
    println!(
        "plan: {} {} by {} ({} tier) against the {} suite",
        s(&c["product"]),
        s(&c["version"]),
        s(&c["company"]),
        s(&c["tier"]),
        s(&doc["suite"])
    );
    for p in doc["problems"].as_array().into_iter().flatten() {
        println!(
            "warning: {}:{}: {}",
            s(&p["file"]),
            p["line"],
            s(&p["message"])
        );
    }
    let d = &doc["deployment"];
    println!("\nwould deploy the blueprint \"{}\":", s(&d["blueprint"]));
    for srv in d["servers"].as_array().into_iter().flatten() {
        let packages: Vec<String> = srv["packages"]
            .as_array()
            .into_iter()
            .flatten()
            .map(s)
            .collect();
        println!(
            "  server {}: {} vCPU, {} GB memory, {} GB storage, {}{}; packages: {}",
            s(&srv["name"]),
            srv["cpu"],
            srv["memory_gb"],
            srv["storage_gb"],
            s(&srv["template"]),
            if srv["public_ip_ports"].is_null() {
                ""
            } else {
                ", a public IP"
            },
            if packages.is_empty() {
                "none".into()
            } else {
                packages.join(", ")
            }
        );
    }
    for p in d["parameters"].as_array().into_iter().flatten() {
        println!(
            "  parameter {} = {} ({})",
            s(&p["name"]),
            s(&p["value"]),
            s(&p["source"])
        );
    }
    let cost = &doc["cost"];
    println!(
        "\ncost for {} billed hour(s) (the suite's {} min run time limit, every started hour billed):",
        cost["hours"], cost["run_time_limit_minutes"]
    );
    for srv in cost["servers"].as_array().into_iter().flatten() {
        let items: Vec<String> = srv["items"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|i| format!("{} {}", s(&i["label"]), s(&i["cost_exact"])))
            .collect();
        println!(
            "  server {}: {} ({})",
            s(&srv["name"]),
            s(&srv["cost_exact"]),
            items.join(", ")
        );
    }
    println!(
        "  estimate to reserve      {} ({})",
        s(&cost["estimate"]),
        s(&cost["estimate_exact"])
    );
    println!(
        "  monthly credit           {} ({})",
        s(&cost["credit"]),
        s(&cost["credit_source"])
    );
    println!("  month-to-date            {}", s(&cost["month_to_date"]));
    println!(
        "  open reservations        {}",
        s(&cost["open_reservations"])
    );
    println!("  remaining before the run {}", s(&cost["remaining"]));
    println!("  ({})", s(&cost["month_to_date_source"]));
    match cost["shortfall"].as_str() {
        Some(short) => println!("  DOES NOT FIT: short by {short}"),
        None => println!("  fits"),
    }
    print_checks(doc);
}

/// The documentation checks and steps, the plugin's checks, the verdict.
fn print_checks(doc: &Value) {
    let s = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_string);
    let docs = &doc["docs"];
    println!("\ndocumentation checks:");
    if let Some(e) = docs["error"].as_str() {
        println!("  could not check the articles: {e}");
    }
    for a in docs["articles"].as_array().into_iter().flatten() {
        let failed = a["failed"].as_array().map_or(0, Vec::len);
        println!(
            "  {} {} ({}, {} checks, {failed} failed)",
            if failed == 0 { "PASS" } else { "FAIL" },
            s(&a["file"]),
            s(&a["audience"]),
            a["checks"]
        );
        for f in a["failed"].as_array().into_iter().flatten() {
            println!(
                "    line {}: {} {}",
                f["line"],
                s(&f["id"]),
                s(&f["message"])
            );
        }
    }
    for f in docs["set_checks"].as_array().into_iter().flatten() {
        println!("  FAIL {}: {}", s(&f["id"]), s(&f["message"]));
    }
    let steps = docs["steps"].as_array().map_or(&[][..], Vec::as_slice);
    println!("\ndocumentation steps that would run ({}):", steps.len());
    for st in steps {
        println!(
            "  {}:{}  {}{}",
            s(&st["article"]),
            st["line"],
            s(&st["step"]),
            st["skip"]
                .as_str()
                .map_or_else(String::new, |r| format!("  [skipped: {r}]"))
        );
    }
    let plugin = &doc["plugin"];
    match plugin["error"].as_str() {
        Some(e) => println!("\nplugin: could not be loaded, so the run could not certify:\n  {e}"),
        None => {
            println!(
                "\nplugin checks that would run ({} {}):",
                s(&plugin["name"]),
                s(&plugin["version"])
            );
            for c in plugin["checks"].as_array().into_iter().flatten() {
                println!(
                    "  {:<28} {:<24} {}{}",
                    s(&c["id"]),
                    s(&c["criterion"]),
                    s(&c["title"]),
                    if c["readiness"] == true {
                        " [readiness]"
                    } else {
                        ""
                    }
                );
            }
        }
    }
    println!();
    let blockers = doc["blockers"].as_array().map_or(&[][..], Vec::as_slice);
    if blockers.is_empty() {
        println!("a run could start: nothing was created and no account was contacted");
    } else {
        for b in blockers {
            println!("REFUSED: {}", s(b));
        }
    }
}
