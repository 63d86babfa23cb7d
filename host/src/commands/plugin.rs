//! `certify plugin inspect` and `certify plugin run`.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use certify_runtime::{Grants, HttpPolicy, sha256_hex};

use crate::build::PluginSource;
use crate::cli::{GlobalArgs, InspectArgs, PluginRunArgs};
use crate::report::plugin::PluginFacts;
use crate::report::terminal::Terminal;
use crate::report::{self, json, junit};
use crate::{Error, Outcome, runner};

/// A plugin's parameters, as `(name, value)`.
type Parameters = Vec<(String, String)>;

/// Read the plugin's `.wasm`, building it first when it is a Cargo project (from a
/// snapshot of the project, never in the project's own directory); for a candidate
/// bundle, its plugin, with the parameters its candidate.toml gives it.
fn read_wasm(global: &GlobalArgs, path: &Path) -> Result<(Vec<u8>, Parameters), Error> {
    let cache_root = crate::services::cache_root(global);
    if path.join(certify_bundle::CANDIDATE_TOML).is_file() {
        let bundle = certify_bundle::Bundle::load(path).map_err(|e| Error::Usage(e.to_string()))?;
        let parameters = bundle
            .plugin
            .parameters
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let bytes = match &bundle.plugin.source {
            certify_bundle::PluginSource::Wasm { path } => std::fs::read(path)
                .map_err(|e| Error::Io(format!("reading the plugin {}", path.display()), e))?,
            certify_bundle::PluginSource::Cargo { dir, .. } => {
                say_building(dir);
                crate::build_copy::build(
                    &bundle.snapshot,
                    dir,
                    &cache_root,
                    build_sandbox().as_ref(),
                )?
                .1
            }
        };
        return Ok((bytes, parameters));
    }
    if path.is_dir() && !path.join("Cargo.toml").is_file() {
        return Err(Error::Usage(format!(
            "{} is a directory, but neither a candidate bundle (no {}) nor a plugin's Cargo project (no Cargo.toml); give one of those or a .wasm file",
            path.display(),
            certify_bundle::CANDIDATE_TOML
        )));
    }
    let bytes = match PluginSource::detect(path) {
        PluginSource::Wasm(wasm) => std::fs::read(&wasm)
            .map_err(|e| Error::Io(format!("reading the plugin {}", wasm.display()), e))?,
        PluginSource::Project(dir) => {
            let snapshot =
                certify_bundle::Snapshot::take(&dir).map_err(|e| Error::Usage(e.to_string()))?;
            let root = snapshot.root().to_path_buf();
            say_building(&dir);
            crate::build_copy::build(&snapshot, &root, &cache_root, build_sandbox().as_ref())?.1
        }
    };
    Ok((bytes, Vec::new()))
}

/// The sandbox a plugin's build runs in: its build scripts are the candidate's code.
/// Where there is none (no bubblewrap, no user namespaces), the build runs as the
/// user, which is said on stderr.
pub(super) fn build_sandbox() -> Option<certify_sandbox::Sandbox> {
    match certify_sandbox::Sandbox::probe() {
        Ok(sandbox) => Some(sandbox),
        Err(why) => {
            eprintln!("warning: building the plugin outside a sandbox: {why}");
            None
        }
    }
}

/// A cold build takes a while (tens of seconds): say what is going on.
fn say_building(dir: &Path) {
    eprintln!(
        "building the plugin {} for wasm32-wasip2 with cargo (a first build takes a while)",
        dir.display()
    );
}

pub async fn inspect(global: &GlobalArgs, args: InspectArgs) -> Result<Outcome, Error> {
    let (wasm, _) = read_wasm(global, &args.wasm)?;
    let runtime = crate::services::runtime(global, None)?;
    let plugin = runtime
        .load(wasm, None)
        .await
        .map_err(|e| Error::Usage(format!("{}: {e}", args.wasm.display())))?;
    let info = plugin.info();
    if args.json {
        let doc = serde_json::json!({
            "file": args.wasm.display().to_string(),
            "sha256": plugin.sha256(),
            "size": plugin.size(),
            "name": info.name,
            "version": info.version,
            "sdk": info.sdk,
            "contract": info.contract,
            "imports": plugin.imports(),
            "checks": info.checks,
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&doc).expect("JSON values serialize")
        );
        return Ok(Outcome::Passed);
    }
    println!("plugin:   {} {}", info.name, info.version);
    println!(
        "file:     {} ({} bytes)",
        args.wasm.display(),
        plugin.size()
    );
    println!("sha256:   {}", plugin.sha256());
    println!("built:    {} (contract {})", info.sdk, info.contract);
    println!("imports:");
    for import in plugin.imports() {
        println!("  {import}");
    }
    println!("checks:");
    for c in &info.checks {
        let mut extras = Vec::new();
        if c.readiness {
            extras.push("readiness".to_string());
        }
        if let Some(t) = c.timeout {
            extras.push(format!("timeout {}ms", t.as_millis()));
        }
        let extras = if extras.is_empty() {
            String::new()
        } else {
            format!(" [{}]", extras.join(", "))
        };
        println!(
            "  {:<28} {:<24} {}{extras}",
            c.id,
            c.criterion.as_str(),
            c.title
        );
    }
    Ok(Outcome::Passed)
}

/// What `certify plugin run` grants the plugin: the bundle's parameters, each
/// overridden by a `--param` of the same name, the `--fact`s, and the `--allow-host`s.
fn grants(args: &PluginRunArgs, bundle_parameters: Vec<(String, String)>) -> Result<Grants, Error> {
    let mut parameters: Vec<(String, String)> = bundle_parameters
        .into_iter()
        .filter(|(k, _)| !args.params.iter().any(|(p, _)| p == k))
        .collect();
    parameters.extend(args.params.iter().cloned());
    let mut http = HttpPolicy::deny_all();
    for host in &args.allow_hosts {
        http = http
            .allow(host)
            .map_err(|e| Error::Usage(format!("--allow-host: {e}")))?;
    }
    Ok(Grants {
        parameters,
        facts: args.facts.clone(),
        http,
        deployment: None,
        cloud: None,
    }
    .normalized())
}

/// Run a plugin's checks and write the report.
pub async fn run(global: &GlobalArgs, args: PluginRunArgs) -> Result<Outcome, Error> {
    if let Some(dir) = &args.out {
        report::check_out_dir(dir)?;
    }
    let (wasm, bundle_parameters) = read_wasm(global, &args.wasm)?;
    let grants = Arc::new(grants(&args, bundle_parameters)?);
    // Instances come from a fixed pool; one slot stays free for loading.
    let concurrency = args
        .concurrency
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
        .clamp(1, certify_runtime::MAX_INSTANCES as usize - 1);
    let runtime = crate::services::runtime(global, Some(&args.limits))?;

    let started_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let clock = Instant::now();
    let mut terminal = Terminal::stdout();
    // The plugin as the user named it, without the machine's directories.
    let file = if args.wasm.is_absolute() {
        args.wasm
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
    } else {
        args.wasm.display().to_string()
    };
    let sha256 = sha256_hex(&wasm);
    let (facts, runs) = match runtime.load(wasm, args.sha256.as_deref()).await {
        Ok(plugin) => {
            let info = plugin.info().clone();
            terminal.note(&format!(
                "{} {} (sha256 {}, {})",
                info.name,
                info.version,
                plugin.sha256(),
                if plugin.from_cache() {
                    "from cache"
                } else {
                    "compiled"
                }
            ));
            let plugin = Arc::new(plugin);
            let runs = runner::run_checks(&plugin, &args.checks, grants, concurrency, |e| {
                terminal.event(&e)
            })
            .await;
            let facts = PluginFacts {
                name: info.name,
                version: Some(info.version),
                sdk: Some(info.sdk),
                contract: Some(info.contract),
                sha256,
                file,
            };
            (facts, runs)
        }
        Err(e) => {
            // A plugin that cannot be loaded is a result, not a harness
            // failure: every requested check (or one `plugin.load` case)
            // becomes an error in the report.
            let message = e.to_string();
            let ids = if args.checks.is_empty() {
                vec![certify_program::case::PLUGIN_LOAD.to_string()]
            } else {
                args.checks.clone()
            };
            let runs: Vec<_> = ids
                .iter()
                .map(|id| {
                    let run = runner::load_failure(id, &message);
                    let check = runner::placeholder_check(id, "The plugin loads");
                    terminal.event(&runner::Event::CheckFinished {
                        check: &check,
                        run: &run,
                    });
                    (check, run)
                })
                .collect();
            let name = args
                .wasm
                .file_stem()
                .map_or("plugin".into(), |s| s.to_string_lossy().into_owned());
            let facts = PluginFacts {
                name,
                version: None,
                sdk: None,
                contract: None,
                sha256,
                file,
            };
            (facts, runs)
        }
    };

    let report_dir = match &args.out {
        Some(dir) => Some(dir.clone()),
        None => args.junit.as_deref().or(args.json.as_deref()).map(|p| {
            p.parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new("."))
                .to_path_buf()
        }),
    };
    let report = report::plugin::report(
        &facts,
        runs,
        started_at,
        clock.elapsed(),
        report_dir.as_deref(),
    )?;
    if let Some(dir) = &args.out {
        report::write_out_dir(&report, dir)?;
    }
    if let Some(path) = &args.junit {
        report::write_file(path, junit::render(&report)?.as_bytes())?;
    }
    if let Some(path) = &args.json {
        report::write_file(path, json::render(&report)?.as_bytes())?;
    }
    let evidence = report
        .suites
        .iter()
        .flat_map(|s| &s.cases)
        .map(|c| c.attachments.len())
        .sum::<usize>();
    if let (Some(dir), true) = (&report_dir, evidence > 0) {
        terminal.note(&format!(
            "evidence: {evidence} file(s) under {}",
            dir.join("evidence").display()
        ));
    }
    terminal.summary(&report);
    Ok(if report.passed {
        Outcome::Passed
    } else {
        Outcome::Failed
    })
}
