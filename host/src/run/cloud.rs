//! Cloud actions granted to plugins during a run. Each is limited to the
//! run's own servers, priced and reserved against the monthly credit when it
//! costs anything, journaled before it happens, and torn down with the run.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use certify_blueprint::{PriceList, ServerSize, StorageType};
use certify_clc::model::Server;
use certify_clc::{Client, PowerOp};
use certify_ledger::{Kind, Ledger, Money};
use certify_runtime::capabilities::{
    BoxFuture, CloudActions, CloudError, PowerAction, ServerRequest, ServerView,
};

use super::journaled::RunJournal;

/// The run's cloud actions.
pub struct RunCloud {
    /// The account.
    pub client: Client,
    /// The run's journal: every server a plugin adds and every package it runs is
    /// journaled before the account is asked.
    pub journal: RunJournal,
    /// The ledger (extra servers reserve credit of their own).
    pub ledger: Arc<Mutex<Ledger>>,
    /// The run.
    pub run_id: String,
    /// The account alias.
    pub alias: String,
    /// The data center the run deploys to.
    pub data_center: String,
    /// The run's group.
    pub group_id: String,
    /// The monthly credit.
    pub credit: Money,
    /// Billed hours an added server is reserved for.
    pub hours: u32,
    /// The template of added servers when the plugin names none.
    pub template: String,
    /// The run's servers by name: only these may be acted on.
    pub servers: Arc<Mutex<Vec<Server>>>,
    /// Packages the run published, name → uuid.
    pub packages: Vec<(String, String)>,
    /// How a server is described to plugins.
    pub view: fn(&Server) -> ServerView,
}

impl RunCloud {
    fn server_id(&self, name: &str) -> Result<String, CloudError> {
        self.servers
            .lock()
            .expect("servers lock")
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(name) || s.id.eq_ignore_ascii_case(name))
            .map(|s| s.id.clone())
            .ok_or_else(|| CloudError::NotFound(format!("{name} is not one of this run's servers")))
    }
}

fn failed(e: impl std::fmt::Display) -> CloudError {
    CloudError::Failed(e.to_string())
}

impl CloudActions for RunCloud {
    fn power(&self, server: String, action: PowerAction) -> BoxFuture<'_, Result<(), CloudError>> {
        Box::pin(async move {
            let id = self.server_id(&server)?;
            let op = match action {
                PowerAction::PowerOn => PowerOp::PowerOn,
                PowerAction::PowerOff => PowerOp::PowerOff,
                PowerAction::Reboot => PowerOp::Reboot,
                PowerAction::ShutDown => PowerOp::ShutDown,
            };
            let pending = self
                .client
                .power(op, &[id.as_str()])
                .await
                .map_err(failed)?;
            for p in pending {
                self.client.wait(&p).await.map_err(failed)?;
            }
            Ok(())
        })
    }

    fn run_package(
        &self,
        server: String,
        package: String,
        parameters: Vec<(String, String)>,
    ) -> BoxFuture<'_, Result<(), CloudError>> {
        Box::pin(async move {
            let id = self.server_id(&server)?;
            let uuid = self
                .packages
                .iter()
                .find(|(name, uuid)| {
                    name.eq_ignore_ascii_case(&package) || uuid.eq_ignore_ascii_case(&package)
                })
                .map(|(_, uuid)| uuid.clone())
                .ok_or_else(|| {
                    CloudError::NotFound(format!(
                        "{package} is not one of the candidate's packages"
                    ))
                })?;
            let intent = self
                .journal
                .intend(
                    Kind::PackageRun,
                    &format!("{package} on {server}"),
                    &serde_json::json!({}),
                )
                .map_err(failed)?;
            let package_ref = certify_clc::model::PackageRef {
                package_id: uuid,
                parameters: parameters.into_iter().collect(),
            };
            let pending = self
                .client
                .execute_package(&[id.as_str()], &package_ref)
                .await
                .map_err(failed)?;
            let result = async {
                for p in pending {
                    self.client.wait(&p).await.map_err(failed)?;
                }
                Ok(())
            }
            .await;
            match &result {
                Ok(()) => intent.done(),
                Err(e) => intent.failed(&format!("{e:?}")),
            }
            result
        })
    }

    fn add_server(&self, request: ServerRequest) -> BoxFuture<'_, Result<ServerView, CloudError>> {
        Box::pin(async move {
            let template = request
                .template
                .clone()
                .unwrap_or_else(|| self.template.clone());
            let templates = super::budget::templates(&self.client, &self.data_center).await;
            let size = ServerSize::new(
                request.cpu,
                request.memory_gb,
                super::budget::storage_gb(&templates, &template),
                StorageType::Standard,
                template.clone(),
            );
            let estimate = PriceList::default().estimate_server(&size, self.hours);
            let month_to_date = super::budget::account_month_to_date(&self.client).await;
            let reservation = {
                let mut ledger = self.ledger.lock().expect("ledger lock");
                ledger
                    .reserve(&certify_ledger::ReservationRequest {
                        account: &self.alias,
                        month: certify_ledger::Month::current(),
                        run_id: &self.run_id,
                        description: &format!(
                            "a plugin adds server {} for {} billed hours",
                            request.name, self.hours
                        ),
                        estimate,
                        credit: self.credit,
                        account_month_to_date: month_to_date,
                    })
                    .map_err(failed)?
            };
            let reservation =
                reservation.map_err(|refusal| CloudError::Refused(refusal.to_string()))?;
            let create = certify_clc::model::CreateServer {
                name: request.name.clone(),
                description: Some(format!("certification run {}", self.run_id)),
                group_id: self.group_id.clone(),
                source_server_id: template,
                cpu: Some(request.cpu),
                memory_gb: Some(request.memory_gb),
                kind: Some("standard".into()),
                ..Default::default()
            };
            let created = self
                .journal
                .create(
                    Kind::Server,
                    &request.name,
                    &serde_json::json!({ "group_id": self.group_id }),
                    self.client.create_server(&create),
                )
                .await
                .map_err(failed)?;
            let (intent, queued) = match created {
                Ok(made) => made,
                Err(e) => {
                    let _ = self
                        .ledger
                        .lock()
                        .expect("ledger lock")
                        .release(reservation.id);
                    return Err(failed(e));
                }
            };
            tokio::time::timeout(Duration::from_secs(600), self.client.wait(&queued.pending))
                .await
                .map_err(|_| CloudError::Timeout)?
                .map_err(failed)?;
            let server = match (&queued.id, &queued.uuid) {
                (Some(id), _) => self.client.server(id).await,
                (None, Some(uuid)) => self.client.server_by_uuid(uuid).await,
                (None, None) => {
                    return Err(CloudError::Failed(
                        "the account did not say which server it built".into(),
                    ));
                }
            }
            .map_err(failed)?;
            let _ = intent.created(&server.id);
            self.servers
                .lock()
                .expect("servers lock")
                .push(server.clone());
            Ok((self.view)(&server))
        })
    }
}
