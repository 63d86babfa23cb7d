//! Publishing, deploying, collecting and tearing down, with the journal.
//!
//! Everything a run creates on the account lives in the run's own group
//! (`certify-<run id>`), and is written to the journal before it is
//! created. Teardown works from the journal, not from the run's memory, so
//! the same code tears down after success, failure, Ctrl-C or a panic, and
//! reaps what a killed run left. Teardown is then verified against the
//! account: nothing the journal knows of may still exist.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use certify_bundle::{Bundle, PackageForm, ResolvedParameter};
use certify_clc::model::{DeployBlueprintRequest, NameValue, PublishPackageRequest, Server};
use certify_clc::{Client, ClientError, Pending};
use certify_ledger::{Journal, Kind};

use super::journaled::RunJournal;
use crate::Error;

/// The journal, shared by the run and the plugins' cloud actions.
pub type SharedJournal = Arc<Mutex<Journal>>;

fn journal_error(e: impl std::error::Error + Send + Sync + 'static) -> Error {
    Error::Other(anyhow::Error::new(e).context("writing the run journal"))
}

/// What publishing produced.
#[derive(Debug, Clone)]
pub struct Published {
    /// The blueprint's id in the library.
    pub blueprint_id: u32,
    /// Package name → uuid, in bundle order.
    pub packages: Vec<(String, String)>,
}

/// Upload and publish the bundle's packages, then register the blueprint.
/// Library entries are not billable and stay in the account's library.
pub async fn publish(client: &Client, bundle: &Bundle) -> Result<Published, String> {
    let mut packages = Vec::new();
    for package in &bundle.packages {
        let uploaded = match package.form {
            PackageForm::Directory => client.upload_package_dir(&package.path).await,
            PackageForm::Zip => {
                let bytes = std::fs::read(&package.path)
                    .map_err(|e| format!("reading {}: {e}", package.path.display()))?;
                let name = package
                    .path
                    .file_name()
                    .map_or("package.zip".into(), |n| n.to_string_lossy().into_owned());
                client.upload_package(&name, bytes).await
            }
        }
        .map_err(|e| format!("uploading the package {}: {e}", package.name))?;
        let request = PublishPackageRequest {
            classification: 2,
            name: uploaded.file_name.clone(),
            operating_systems: Vec::new(),
            visibility: 2,
        };
        let pending = client
            .publish_package(&request, &uploaded.package_id)
            .await
            .map_err(|e| format!("publishing the package {}: {e}", package.name))?;
        client
            .wait(&pending)
            .await
            .map_err(|e| format!("publishing the package {}: {e}", package.name))?;
        packages.push((package.name.clone(), uploaded.package_id));
    }
    let definition = std::fs::read_to_string(&bundle.blueprint.path)
        .map_err(|e| format!("reading {}: {e}", bundle.blueprint.path.display()))?;
    let blueprint = client
        .register_blueprint(&definition)
        .await
        .map_err(|e| format!("registering the blueprint {}: {e}", bundle.blueprint.name))?;
    Ok(Published {
        blueprint_id: blueprint.id,
        packages,
    })
}

/// The run's group, journaled before it is created.
pub async fn create_group(
    client: &Client,
    journal: &RunJournal,
    data_center: &str,
) -> Result<String, Error> {
    let run_id = journal.run_id();
    let name = format!("certify-{run_id}");
    let intent = journal
        .intend(
            Kind::Group,
            &name,
            &serde_json::json!({ "data_center": data_center }),
        )
        .map_err(journal_error)?;
    let root = client.root_group_id(data_center).await.map_err(|e| {
        Error::Other(anyhow::Error::new(e).context("finding the data center's root group"))
    })?;
    let group = client
        .create_group(&name, &format!("certification run {run_id}"), &root)
        .await
        .map_err(|e| Error::Other(anyhow::Error::new(e).context("creating the run's group")))?;
    intent.created(&group.id).map_err(journal_error)?;
    Ok(group.id)
}

/// How a deployment ended.
#[derive(Debug, Clone)]
pub struct Deployed {
    /// The v1 request id.
    pub request_id: Option<u64>,
    /// When the deploy was requested.
    pub requested: Instant,
    /// When it finished, either way.
    pub finished: Instant,
    /// `Err` with the account's message when it failed.
    pub result: Result<(), String>,
}

/// Deploy the blueprint into the run's group with the bundle's parameters and
/// follow the queue to the end (or the time limit).
#[allow(
    clippy::too_many_arguments,
    reason = "one call site; the values are all distinct"
)]
pub async fn deploy(
    client: &Client,
    journal: &RunJournal,
    blueprint_id: u32,
    group_id: &str,
    data_center: &str,
    parameters: &[ResolvedParameter],
    build_password: &str,
    limit: Duration,
) -> Result<Deployed, Error> {
    let mut values = vec![
        NameValue {
            name: "T3.BuildServerTask.Password".into(),
            value: build_password.into(),
        },
        NameValue {
            name: "T3.BuildServerTask.GroupID".into(),
            value: group_id.into(),
        },
    ];
    // The bundle was refused if it set a reserved name; this keeps the harness's
    // values authoritative whatever reaches here.
    values.extend(
        parameters
            .iter()
            .filter(|p| !certify_bundle::reserved_parameter(&p.name))
            .map(|p| NameValue {
                name: p.name.clone(),
                value: p.value.clone(),
            }),
    );
    let requested = Instant::now();
    let request = DeployBlueprintRequest {
        id: blueprint_id,
        location_alias: Some(data_center.to_string()),
        parameters: values,
    };
    let created = journal
        .create(
            Kind::BlueprintDeploy,
            &format!("blueprint {blueprint_id}"),
            &serde_json::json!({ "group_id": group_id }),
            client.deploy_blueprint(&request),
        )
        .await
        .map_err(journal_error)?;
    let (intent, pending) = match created {
        Ok(made) => made,
        Err(e) => {
            return Ok(Deployed {
                request_id: None,
                requested,
                finished: Instant::now(),
                result: Err(format!("the deploy request was refused: {e}")),
            });
        }
    };
    let request_id = match &pending {
        Pending::Deployment(n) => Some(*n),
        _ => None,
    };
    if let Some(n) = request_id {
        intent.created(&n.to_string()).map_err(journal_error)?;
    }
    let result = match tokio::time::timeout(limit, client.wait(&pending)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!(
            "the deployment did not finish within {} (the time-to-value limit)",
            crate::run::human(limit)
        )),
    };
    Ok(Deployed {
        request_id,
        requested,
        finished: Instant::now(),
        result,
    })
}

/// The servers in the run's group, each journaled (the group's entry already
/// covers them: reaping a group deletes every server in it).
pub async fn collect(
    client: &Client,
    journal: &RunJournal,
    group_id: &str,
) -> Result<Vec<Server>, Error> {
    let servers = client
        .servers_in_group(group_id)
        .await
        .map_err(|e| Error::Other(anyhow::Error::new(e).context("listing the deployed servers")))?;
    for s in &servers {
        journal
            .intend(
                Kind::Server,
                &s.name,
                &serde_json::json!({ "group_id": group_id }),
            )
            .and_then(|intent| intent.created(&s.id))
            .map_err(journal_error)?;
    }
    Ok(servers)
}

/// What teardown did and found.
#[derive(Debug, Clone, Default)]
pub struct Teardown {
    /// Everything the journal knew of was deleted (or found gone).
    pub complete: bool,
    /// Checked against the account afterwards: nothing of the run is left.
    pub verified: bool,
    /// One line per action.
    pub log: Vec<String>,
    /// What is left, when something is.
    pub leftovers: Vec<String>,
}

/// Delete everything the journal records for `run_id`, newest first, then
/// check the account. Never returns early: a failure is recorded and the
/// rest is still attempted.
pub async fn teardown(client: &Client, journal: &SharedJournal, run_id: &str) -> Teardown {
    let mut out = Teardown::default();
    let leftovers = match journal.lock().expect("journal lock").leftovers(run_id) {
        Ok(l) => l,
        Err(e) => {
            out.log.push(format!("could not read the journal: {e}"));
            return out;
        }
    };
    let mut complete = true;
    for entry in &leftovers {
        let gone = match (&entry.kind, entry.remote_id.as_deref()) {
            (Kind::Server, Some(id)) => delete_server(client, id, &mut out.log).await,
            (Kind::Group, Some(id)) => delete_group(client, id, &mut out.log).await,
            (Kind::Group, None) | (Kind::Server, None) => {
                // Intended but never confirmed: look it up by name.
                match find_group_by_name(client, entry).await {
                    Some(id) => delete_group(client, &id, &mut out.log).await,
                    None => true,
                }
            }
            // Deploy requests, package runs and library entries leave nothing
            // billable once the group and its servers are gone.
            _ => true,
        };
        if gone {
            let _ = journal.lock().expect("journal lock").deleted(entry.id);
        } else {
            complete = false;
            out.leftovers
                .push(format!("{} {}", entry.kind.as_str(), entry.name));
        }
    }
    out.complete = complete;
    out.verified = complete && verify(client, journal, run_id, &mut out).await;
    out
}

/// The teardown that ran out of time: everything the journal still holds is left for
/// `certify cleanup`.
pub fn unfinished_teardown(journal: &SharedJournal, run_id: &str, after: Duration) -> Teardown {
    let leftovers = journal
        .lock()
        .expect("journal lock")
        .leftovers(run_id)
        .map(|l| {
            l.iter()
                .map(|e| format!("{} {}", e.kind.as_str(), e.name))
                .collect()
        })
        .unwrap_or_else(|e| vec![format!("could not read the journal: {e}")]);
    Teardown {
        complete: false,
        verified: false,
        log: vec![format!(
            "the account did not answer within {}: teardown stopped; the journal keeps what is left for `certify cleanup`",
            crate::run::human(after)
        )],
        leftovers,
    }
}

async fn delete_server(client: &Client, id: &str, log: &mut Vec<String>) -> bool {
    match client.delete_server(id).await {
        Ok(pending) => match client.wait(&pending).await {
            Ok(()) => {
                log.push(format!("deleted server {id}"));
                true
            }
            Err(e) => {
                log.push(format!("deleting server {id} failed: {e}"));
                false
            }
        },
        Err(e) if e.is_not_found() => {
            log.push(format!("server {id} was already gone"));
            true
        }
        Err(e) => {
            log.push(format!("deleting server {id} failed: {e}"));
            false
        }
    }
}

async fn delete_group(client: &Client, id: &str, log: &mut Vec<String>) -> bool {
    let servers = match client.servers_in_group(id).await {
        Ok(s) => s,
        Err(e) if e.is_not_found() => {
            log.push(format!("group {id} was already gone"));
            return true;
        }
        Err(e) => {
            log.push(format!("listing group {id} failed: {e}"));
            return false;
        }
    };
    let mut all = true;
    for s in servers {
        all &= delete_server(client, &s.id, log).await;
    }
    if !all {
        return false;
    }
    match client.delete_group(id).await {
        Ok(pending) => match client.wait(&pending).await {
            Ok(()) => {
                log.push(format!("deleted group {id}"));
                true
            }
            Err(e) => {
                log.push(format!("deleting group {id} failed: {e}"));
                false
            }
        },
        Err(e) if e.is_not_found() => true,
        Err(e) => {
            log.push(format!("deleting group {id} failed: {e}"));
            false
        }
    }
}

async fn find_group_by_name(client: &Client, entry: &certify_ledger::Entry) -> Option<String> {
    let dc = entry.details["data_center"].as_str()?;
    let root = client.root_group_id(dc).await.ok()?;
    let group = client.group(&root).await.ok()?;
    group.find_by_name(&entry.name).map(|g| g.id.clone())
}

/// Ask the account about everything the journal ever recorded for the run.
async fn verify(
    client: &Client,
    journal: &SharedJournal,
    run_id: &str,
    out: &mut Teardown,
) -> bool {
    let entries = match journal.lock().expect("journal lock").entries(run_id) {
        Ok(e) => e,
        Err(e) => {
            out.log
                .push(format!("could not read the journal to verify: {e}"));
            return false;
        }
    };
    let mut clean = true;
    for entry in entries {
        let Some(id) = entry.remote_id.as_deref() else {
            continue;
        };
        let still_there = match entry.kind {
            Kind::Server => exists(client.server(id).await),
            Kind::Group => exists(client.group(id).await),
            _ => Ok(false),
        };
        match still_there {
            Ok(false) => {}
            Ok(true) => {
                clean = false;
                out.leftovers.push(format!(
                    "{} {} ({id}) still exists",
                    entry.kind.as_str(),
                    entry.name
                ));
            }
            Err(e) => {
                clean = false;
                out.leftovers.push(format!(
                    "could not check {} {}: {e}",
                    entry.kind.as_str(),
                    entry.name
                ));
            }
        }
    }
    if clean {
        out.log
            .push("verified: nothing of the run is left on the account".into());
    }
    clean
}

fn exists<T>(answer: Result<T, ClientError>) -> Result<bool, ClientError> {
    match answer {
        Ok(_) => Ok(true),
        Err(e) if e.is_not_found() => Ok(false),
        Err(e) => Err(e),
    }
}

/// Whether the journal still holds anything of the run.
pub fn has_leftovers(journal: &SharedJournal, run_id: &str) -> bool {
    journal
        .lock()
        .expect("journal lock")
        .leftovers(run_id)
        .map(|l| !l.is_empty())
        .unwrap_or(true)
}
