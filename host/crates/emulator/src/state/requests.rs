//! The requests that change the account: validated against the stores, recorded, and
//! queued as operations (creating and deleting groups and servers, power, resizing, public
//! IPs, running packages, publishing packages, registering and deploying blueprints).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use certify_blueprint::{BlueprintDefinition, ParameterError, value_to_string};
use certify_clc::model::{PackageRef, PublicIpSpec};

use super::catalog::PackageRec;
use super::groups::GroupRec;
use super::scheduler::{Action, ServerRef, Step};
use super::servers::{PublicIpRec, ServerRec};
use super::{
    BatchResults, DATA_CENTERS, Refusal, ResolvedPackages, State, TEMPLATES, durations,
    generate_password, new_id,
};

impl State {
    /// Creates a group under `parent`; returns its id.
    pub fn create_group(
        &mut self,
        name: &str,
        description: Option<&str>,
        parent: &str,
        now: DateTime<Utc>,
    ) -> Result<String, Refusal> {
        let p = self.groups.check_new(name, parent)?;
        Ok(self.groups.insert(
            Some(parent),
            name,
            description.unwrap_or(name),
            &p.dc,
            "default",
            now,
        ))
    }

    pub fn delete_group(&mut self, id: &str, now: DateTime<Utc>) -> Result<String, Refusal> {
        let g = self.groups.get(id).ok_or(Refusal::NotFound)?.clone();
        if g.parent.is_none() || g.kind != "default" || g.name == "Default Group" {
            return Err(Refusal::BadRequest(format!(
                "The group '{}' is a system group and cannot be deleted.",
                g.name
            )));
        }
        let n = self.ops.new_op(
            &g.dc,
            "Delete group",
            vec![Step::new(
                Action::DeleteGroup {
                    group: id.to_string(),
                },
                durations::DELETE_SECS,
            )],
            now,
        );
        Ok(self.ops.status_id(n))
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn create_server_record(
        &mut self,
        group: &GroupRec,
        name: &str,
        description: &str,
        template: &str,
        cpu: u32,
        memory_gb: u32,
        password: &str,
        _network_id: Option<String>,
        disks: &[(Option<String>, u32)],
        now: DateTime<Utc>,
    ) -> Result<String, Refusal> {
        let (os_type, storage) = TEMPLATES
            .iter()
            .find(|t| t.0.eq_ignore_ascii_case(template))
            .map(|t| (t.1.to_string(), t.3))
            .or_else(|| {
                self.servers
                    .find(template)
                    .map(|s| (s.os_type.clone(), s.storage_gb))
            })
            .ok_or_else(|| {
                Refusal::field(
                    "body.sourceServerId",
                    "The source server or template does not exist.",
                )
            })?;
        let prefix = format!(
            "{}{}{}",
            group.dc.to_ascii_uppercase(),
            self.account.alias,
            name.to_ascii_uppercase()
        );
        let full = self.servers.next_name(&prefix);
        let id = full.to_ascii_lowercase();
        let uuid = new_id();
        let address = self
            .servers
            .allocate_address(&group.dc, self.local_exec, self.run_network);
        let mut all_disks = vec![("0:0".to_string(), storage, vec!["/".to_string()])];
        let mut storage_gb = storage;
        for (i, (path, size)) in disks.iter().enumerate() {
            all_disks.push((
                format!("0:{}", i + 1),
                *size,
                path.iter().cloned().collect(),
            ));
            storage_gb += size;
        }
        let mut rec = ServerRec {
            id: id.clone(),
            name: full,
            uuid: uuid.clone(),
            description: description.to_string(),
            group_id: group.id.clone(),
            dc: group.dc.clone(),
            template: template.to_ascii_uppercase(),
            os_type,
            cpu,
            memory_gb,
            storage_gb,
            disks: all_disks,
            storage_type: "standard".into(),
            kind: "standard".into(),
            managed_os: false,
            status: "underConstruction".into(),
            power_state: "stopped".into(),
            maintenance: false,
            internal_ip: address,
            public_ips: Vec::new(),
            password: password.to_string(),
            created: now,
            modified: now,
            build_log: Vec::new(),
            billed_until: now,
            charges: BTreeMap::new(),
        };
        rec.log(
            now,
            format!("Server {} queued for build from {template}", rec.name),
        );
        self.servers.insert(rec);
        Ok(id)
    }

    /// Checks a `POST /v2/servers` body field by field, as the real API reports every
    /// invalid field at once; returns the group and the resolved packages.
    fn check_create_server(
        &self,
        req: &certify_clc::model::CreateServer,
    ) -> Result<(GroupRec, ResolvedPackages), Refusal> {
        let mut errors: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut err = |k: &str, m: &str| {
            errors.entry(k.to_string()).or_default().push(m.to_string());
        };
        let name_ok = regex_is_match(r"^[A-Za-z0-9-]{1,8}$", &req.name);
        if req.name.is_empty() {
            err("body.name", "The name field is required.");
        } else if !name_ok {
            err(
                "body.name",
                "The name must be 1 to 8 characters: letters, digits or dashes.",
            );
        } else if self.account.alias.len() + req.name.len() > 10 {
            err(
                "body.name",
                "The account alias and server name together must be at most 10 characters.",
            );
        }
        let group = self.groups.get(&req.group_id).cloned();
        if req.group_id.is_empty() {
            err("body.groupId", "The groupId field is required.");
        } else if group.is_none() {
            err("body.groupId", "The group does not exist.");
        }
        if req.source_server_id.is_empty() {
            err(
                "body.sourceServerId",
                "The sourceServerId field is required.",
            );
        } else if !TEMPLATES
            .iter()
            .any(|t| t.0.eq_ignore_ascii_case(&req.source_server_id))
            && self.servers.find(&req.source_server_id).is_none()
        {
            err(
                "body.sourceServerId",
                "The source server or template does not exist.",
            );
        }
        match req.cpu {
            None => err("body.cpu", "The cpu field is required."),
            Some(c) if !(1..=16).contains(&c) => {
                err("body.cpu", "The cpu must be between 1 and 16.")
            }
            _ => {}
        }
        match req.memory_gb {
            None => err("body.memoryGB", "The memoryGB field is required."),
            Some(m) if !(1..=128).contains(&m) => {
                err("body.memoryGB", "The memoryGB must be between 1 and 128.")
            }
            _ => {}
        }
        match req.kind.as_deref() {
            None | Some("") => err("body.type", "The type field is required."),
            Some(t)
                if !["standard", "hyperscale", "baremetal"]
                    .contains(&t.to_ascii_lowercase().as_str()) =>
            {
                err(
                    "body.type",
                    "The type must be standard, hyperscale or bareMetal.",
                )
            }
            _ => {}
        }
        if let Some(st) = req.storage_type.as_deref()
            && !["standard", "premium", "hyperscale"].contains(&st.to_ascii_lowercase().as_str())
        {
            err(
                "body.storageType",
                "The storageType must be standard, premium or hyperscale.",
            );
        }
        for (i, d) in req.additional_disks.iter().enumerate() {
            if d.size_gb == 0 || d.size_gb > 1024 {
                err(
                    &format!("body.additionalDisks[{i}].sizeGB"),
                    "The sizeGB must be between 1 and 1024.",
                );
            }
        }
        if let (Some(net), Some(g)) = (req.network_id.as_deref(), group.as_ref())
            && !net.is_empty()
            && net != self.network(&g.dc).0
        {
            err(
                "body.networkId",
                "The network does not exist in this data center.",
            );
        }
        let packages = match self.catalog.check_packages(&req.packages, "body.packages") {
            Ok(p) => p,
            Err(Refusal::Invalid(m)) => {
                for (k, v) in m {
                    errors.entry(k).or_default().extend(v);
                }
                Vec::new()
            }
            Err(_) => Vec::new(),
        };
        if !errors.is_empty() {
            return Err(Refusal::Invalid(errors));
        }
        Ok((group.expect("checked"), packages))
    }

    /// `POST /v2/servers`: validates, creates the record, queues the build. Returns
    /// `(short name, uuid, status id)`.
    pub fn create_server(
        &mut self,
        req: &certify_clc::model::CreateServer,
        now: DateTime<Utc>,
    ) -> Result<(String, String, String), Refusal> {
        let (group, packages) = self.check_create_server(req)?;
        let password = req
            .password
            .clone()
            .filter(|p| !p.is_empty())
            .unwrap_or_else(generate_password);
        let disks: Vec<(Option<String>, u32)> = req
            .additional_disks
            .iter()
            .map(|d| (d.path.clone(), d.size_gb))
            .collect();
        let description = req.description.clone().unwrap_or_default();
        let id = self.create_server_record(
            &group,
            &req.name,
            &description,
            &req.source_server_id,
            req.cpu.expect("checked"),
            req.memory_gb.expect("checked"),
            &password,
            req.network_id.clone(),
            &disks,
            now,
        )?;
        {
            let s = self.servers.get_mut(&id).expect("created");
            s.storage_type = req
                .storage_type
                .clone()
                .map(|t| t.to_ascii_lowercase())
                .unwrap_or_else(|| "standard".into());
            s.kind = match req.kind.as_deref().map(str::to_ascii_lowercase).as_deref() {
                Some("hyperscale") => "hyperscale".into(),
                Some("baremetal") => "bareMetal".into(),
                _ => "standard".into(),
            };
            s.managed_os = req.is_managed_os;
        }
        let build_secs = if self.servers[&id].is_windows() {
            durations::BUILD_WINDOWS_SECS
        } else {
            durations::BUILD_LINUX_SECS
        };
        let mut plan = vec![Step::new(Action::Build { server: id.clone() }, build_secs)];
        for (package, params) in packages {
            plan.push(Step::new(
                Action::Package {
                    server: ServerRef::Id(id.clone()),
                    package,
                    params,
                },
                durations::PACKAGE_SECS,
            ));
        }
        let n = self.ops.new_op(&group.dc, "Create server", plan, now);
        let uuid = self.servers[&id].uuid.clone();
        Ok((req.name.clone(), uuid, self.ops.status_id(n)))
    }

    /// `DELETE /v2/servers/{id}`.
    pub fn delete_server(
        &mut self,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<(String, String), Refusal> {
        let s = self.servers.find(key).ok_or(Refusal::NotFound)?.clone();
        if s.status == "queuedForDelete" {
            return Err(Refusal::BadRequest(
                "The server is already queued for deletion.".into(),
            ));
        }
        let srv = self.servers.get_mut(&s.id).expect("found");
        srv.status = "queuedForDelete".into();
        srv.modified = now;
        srv.log(now, "Queued for delete");
        let n = self.ops.new_op(
            &s.dc,
            "Delete server",
            vec![Step::new(
                Action::DeleteServer {
                    server: s.id.clone(),
                },
                durations::DELETE_SECS,
            )],
            now,
        );
        Ok((s.id, self.ops.status_id(n)))
    }

    fn require_active(&self, key: &str) -> Result<ServerRec, Refusal> {
        let s = self.servers.find(key).ok_or(Refusal::NotFound)?;
        if s.status != "active" {
            return Err(Refusal::BadRequest(format!(
                "The server {} is not in a valid state for this operation ({}).",
                s.name, s.status
            )));
        }
        Ok(s.clone())
    }

    /// cpu/memory change: returns the status id.
    pub fn resize(
        &mut self,
        key: &str,
        cpu: Option<u32>,
        memory_gb: Option<u32>,
        now: DateTime<Utc>,
    ) -> Result<String, Refusal> {
        let s = self.require_active(key)?;
        if let Some(c) = cpu
            && !(1..=16).contains(&c)
        {
            return Err(Refusal::field(
                "body.value",
                "The cpu must be between 1 and 16.",
            ));
        }
        if let Some(m) = memory_gb
            && !(1..=128).contains(&m)
        {
            return Err(Refusal::field(
                "body.value",
                "The memory must be between 1 and 128.",
            ));
        }
        let n = self.ops.new_op(
            &s.dc,
            "Change server",
            vec![Step::new(
                Action::Resize {
                    server: s.id.clone(),
                    cpu,
                    memory_gb,
                },
                durations::RESIZE_SECS,
            )],
            now,
        );
        Ok(self.ops.status_id(n))
    }

    /// Power and maintenance operations on a batch; one shared status id. Returns one
    /// `(server, Ok(status id) | Err(message))` per requested server.
    pub fn power(&mut self, op: &str, servers: &[String], now: DateTime<Utc>) -> BatchResults {
        const INVALID: &str = "The operation cannot be queued because the server cannot be found or it is not in a valid state.";
        const ALREADY: &str = "The server already in desired state.";
        let mut queued = Vec::new();
        let mut results: Vec<(String, Result<(), String>)> = Vec::new();
        for key in servers {
            let Some(s) = self.servers.find(key) else {
                results.push((key.clone(), Err(INVALID.into())));
                continue;
            };
            if s.status != "active" {
                results.push((key.clone(), Err(INVALID.into())));
                continue;
            }
            let ps = s.power_state.as_str();
            let outcome = match op {
                "powerOn" if ps == "started" => Err(ALREADY),
                "powerOff" | "shutDown" if ps == "stopped" => Err(ALREADY),
                "shutDown" | "reboot" if ps != "started" => Err(INVALID),
                "pause" if ps == "paused" => Err(ALREADY),
                "pause" if ps == "stopped" => Err(INVALID),
                "reset" if ps == "stopped" => Err(INVALID),
                "startMaintenance" if s.maintenance => Err(ALREADY),
                "stopMaintenance" if !s.maintenance => Err(ALREADY),
                _ => Ok(()),
            };
            match outcome {
                Ok(()) => {
                    queued.push(s.id.clone());
                    results.push((key.clone(), Ok(())));
                }
                Err(m) => results.push((key.clone(), Err(m.into()))),
            }
        }
        let status = if queued.is_empty() {
            String::new()
        } else {
            let dc = self.servers[&queued[0]].dc.clone();
            let n = self.ops.new_op(
                &dc,
                op,
                vec![Step::new(
                    Action::Power {
                        servers: queued,
                        op: op.to_string(),
                    },
                    durations::POWER_SECS,
                )],
                now,
            );
            self.ops.status_id(n)
        };
        results
            .into_iter()
            .map(|(k, r)| (k, r.map(|_| status.clone())))
            .collect()
    }

    /// `executePackage` on a batch: validates the package once, queues one operation per
    /// server sharing... one status id for the batch, like power operations.
    pub fn execute_package(
        &mut self,
        servers: &[String],
        package: &PackageRef,
        now: DateTime<Utc>,
    ) -> Result<BatchResults, Refusal> {
        let resolved = self
            .catalog
            .check_packages(std::slice::from_ref(package), "body.package")?;
        let (package_id, params) = resolved.into_iter().next().expect("one package");
        let mut plan = Vec::new();
        let mut results: Vec<(String, Result<(), String>)> = Vec::new();
        let mut dc = None;
        for key in servers {
            match self.servers.find(key) {
                Some(s) if s.status == "active" => {
                    dc.get_or_insert_with(|| s.dc.clone());
                    plan.push(Step::new(
                        Action::Package {
                            server: ServerRef::Id(s.id.clone()),
                            package: package_id.clone(),
                            params: params.clone(),
                        },
                        durations::PACKAGE_SECS,
                    ));
                    results.push((key.clone(), Ok(())));
                }
                _ => results.push((
                    key.clone(),
                    Err("The operation cannot be queued because the server cannot be found or it is not in a valid state.".into()),
                )),
            }
        }
        let status = match dc {
            Some(dc) => {
                let n = self.ops.new_op(&dc, "Execute package", plan, now);
                self.ops.status_id(n)
            }
            None => String::new(),
        };
        Ok(results
            .into_iter()
            .map(|(k, r)| (k, r.map(|_| status.clone())))
            .collect())
    }

    /// Adds a public IP; returns the status id.
    pub fn add_public_ip(
        &mut self,
        key: &str,
        spec: &PublicIpSpec,
        now: DateTime<Utc>,
    ) -> Result<String, Refusal> {
        let s = self.require_active(key)?;
        check_public_ip_spec(spec)?;
        let internal = spec
            .internal_ip_address
            .clone()
            .unwrap_or_else(|| s.internal_ip.clone());
        if internal != s.internal_ip {
            return Err(Refusal::field(
                "body.internalIPAddress",
                "The internal IP address does not belong to the server.",
            ));
        }
        let address = self.servers.allocate_public();
        let srv = self.servers.get_mut(&s.id).expect("exists");
        srv.public_ips.push(PublicIpRec {
            address: address.clone(),
            internal,
            spec: spec.clone(),
            ready: false,
        });
        let n = self.ops.new_op(
            &s.dc,
            "Add public IP",
            vec![Step::new(
                Action::PublicIpReady {
                    server: ServerRef::Id(s.id.clone()),
                    address,
                },
                durations::PUBLIC_IP_SECS,
            )],
            now,
        );
        Ok(self.ops.status_id(n))
    }

    /// Replaces a public IP's ports and restrictions; returns the status id.
    pub fn update_public_ip(
        &mut self,
        key: &str,
        address: &str,
        spec: &PublicIpSpec,
        now: DateTime<Utc>,
    ) -> Result<String, Refusal> {
        let s = self.require_active(key)?;
        check_public_ip_spec(spec)?;
        let srv = self.servers.get_mut(&s.id).expect("exists");
        let ip = srv
            .public_ips
            .iter_mut()
            .find(|ip| ip.address == address)
            .ok_or(Refusal::NotFound)?;
        ip.spec.ports = spec.ports.clone();
        ip.spec.source_restrictions = spec.source_restrictions.clone();
        let n = self.ops.new_op(
            &s.dc,
            "Update public IP",
            vec![Step::new(Action::Wait, durations::PUBLIC_IP_SECS)],
            now,
        );
        Ok(self.ops.status_id(n))
    }

    /// Removes a public IP; returns the status id.
    pub fn delete_public_ip(
        &mut self,
        key: &str,
        address: &str,
        now: DateTime<Utc>,
    ) -> Result<String, Refusal> {
        let s = self.servers.find(key).ok_or(Refusal::NotFound)?.clone();
        if !s.public_ips.iter().any(|ip| ip.address == address) {
            return Err(Refusal::NotFound);
        }
        let n = self.ops.new_op(
            &s.dc,
            "Remove public IP",
            vec![Step::new(
                Action::PublicIpRemoved {
                    server: s.id.clone(),
                    address: address.to_string(),
                },
                durations::PUBLIC_IP_SECS,
            )],
            now,
        );
        Ok(self.ops.status_id(n))
    }

    /// v1 `PublishPackage`: returns the request number.
    pub fn publish_package(
        &mut self,
        req: &certify_clc::model::PublishPackageRequest,
        now: DateTime<Utc>,
    ) -> Result<u64, (i32, String)> {
        let pending = self
            .catalog
            .pending_packages
            .get(&req.name)
            .cloned()
            .ok_or((
                5,
                format!(
                    "Package {} was not found among the pending packages.",
                    req.name
                ),
            ))?;
        if !(2..=3).contains(&req.classification) {
            return Err((
                1200,
                "Classification must be 2 (Script) or 3 (Software).".into(),
            ));
        }
        if !(1..=3).contains(&req.visibility) {
            return Err((
                1201,
                "Visibility must be 1 (Public), 2 (Private) or 3 (Shared).".into(),
            ));
        }
        let uuid = pending.manifest.uuid.to_ascii_lowercase();
        // The catalog knows the package at once (as "being published"); its file becomes
        // usable when the publish request completes.
        self.catalog.packages.insert(
            uuid,
            PackageRec {
                manifest: pending.manifest.clone(),
                classification: req.classification,
                visibility: req.visibility,
                operating_systems: req.operating_systems.clone(),
                file: None,
            },
        );
        let dc = self.account.primary_dc.clone();
        Ok(self.ops.new_op(
            &dc,
            "Publish package",
            vec![Step::new(
                Action::Publish {
                    file_name: req.name.clone(),
                },
                durations::PUBLISH_SECS,
            )],
            now,
        ))
    }

    /// Registers a blueprint (emulator-only; the real platform uses the portal designer).
    pub fn register_blueprint(&mut self, def: BlueprintDefinition) -> Result<u32, String> {
        let dc = self.account.primary_dc.clone();
        self.catalog.register_blueprint(def, dc)
    }

    /// The step a blueprint's sub-task of a server task becomes: a package run with its
    /// parameters resolved (the sub-task's own values first, then the deployment's), a
    /// disk, a public IP, or a wait for what the emulator does not model.
    fn blueprint_step(
        &self,
        sub: &certify_blueprint::BlueprintTask,
        server: ServerRef,
        given: &BTreeMap<String, String>,
    ) -> Result<Step, (i32, String)> {
        let step = match sub.kind.as_str() {
            "package" => {
                let id = sub.uuid.to_ascii_lowercase();
                let pkg = self
                    .catalog
                    .packages
                    .get(&id)
                    .ok_or((5, format!("Package {} was not found.", sub.uuid)))?;
                let mut values: BTreeMap<String, String> = sub
                    .properties
                    .iter()
                    .map(|(k, v)| (k.clone(), value_to_string(v)))
                    .collect();
                for p in &pkg.manifest.parameters {
                    if let Some(v) = given.get(&p.variable) {
                        values
                            .entry(p.variable.clone())
                            .or_insert_with(|| v.clone());
                    }
                }
                let params = pkg
                    .manifest
                    .resolve_parameters(&values)
                    .map_err(|e: ParameterError| (e.v1_status_code(), e.to_string()))?;
                Step::new(
                    Action::Package {
                        server,
                        package: id,
                        params,
                    },
                    durations::PACKAGE_SECS,
                )
            }
            "disk" => Step::new(
                Action::AddDisk {
                    server,
                    size_gb: sub.size.parse().unwrap_or(10),
                },
                durations::RESIZE_SECS,
            ),
            "add_nat_ip" => Step::new(
                Action::AddNatIp {
                    server,
                    ports: ports_of(&sub.ingress_ports),
                },
                durations::PUBLIC_IP_SECS,
            ),
            "reboot" => Step::new(Action::Wait, durations::POWER_SECS * 3),
            _ => Step::new(Action::Wait, durations::POWER_SECS),
        };
        Ok(step)
    }

    /// v1 `DeployBlueprint`: validates the parameters and queues the plan; returns the
    /// request number.
    pub fn deploy_blueprint(
        &mut self,
        req: &certify_clc::model::DeployBlueprintRequest,
        now: DateTime<Utc>,
    ) -> Result<u64, (i32, String)> {
        let bp = self
            .catalog
            .blueprints
            .get(&req.id)
            .cloned()
            .ok_or((5, format!("Blueprint {} was not found.", req.id)))?;
        let given: BTreeMap<String, String> = bp
            .definition
            .execute
            .iter()
            .map(|(k, v)| (k.clone(), value_to_string(v)))
            .chain(
                req.parameters
                    .iter()
                    .map(|p| (p.name.clone(), p.value.clone())),
            )
            .collect();
        let dc = req
            .location_alias
            .clone()
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| self.account.primary_dc.clone())
            .to_ascii_uppercase();
        if !DATA_CENTERS.iter().any(|(d, _)| *d == dc) {
            return Err((3, format!("Unknown location {dc}.")));
        }
        let password = given
            .get("T3.BuildServerTask.Password")
            .cloned()
            .unwrap_or_default();
        if password.is_empty() {
            return Err((1210, "Password is required".into()));
        }
        let group_id = given
            .get("T3.BuildServerTask.GroupID")
            .cloned()
            .unwrap_or_default();
        if group_id.is_empty() {
            return Err((1210, "GroupID is required".into()));
        }
        match self.groups.get(&group_id) {
            Some(g) if g.dc == dc => {}
            _ => return Err((1211, format!("GroupID {group_id} is not a group in {dc}"))),
        }
        let network_id = given.get("T3.BuildServerTask.Network").cloned();
        let mut plan = Vec::new();
        let mut task_no = 0usize;
        for task in &bp.definition.tasks {
            if task.kind != "server" {
                continue;
            }
            let cpu: u32 = task.cpu.parse().unwrap_or(1);
            let memory_gb: u32 = task.ram.parse().unwrap_or(1);
            let alias: String = task
                .name
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
                .take(6)
                .collect();
            if !TEMPLATES
                .iter()
                .any(|t| t.0.eq_ignore_ascii_case(&task.template))
            {
                return Err((1202, format!("Template {} does not exist.", task.template)));
            }
            plan.push(Step::new(
                Action::BuildTask {
                    task: task_no,
                    alias: if alias.is_empty() {
                        "SRV".into()
                    } else {
                        alias
                    },
                    template: task.template.clone(),
                    cpu,
                    memory_gb,
                    group_id: group_id.clone(),
                    password: password.clone(),
                    network_id: network_id.clone(),
                },
                durations::BUILD_LINUX_SECS,
            ));
            for sub in &task.tasks {
                plan.push(self.blueprint_step(sub, ServerRef::Task(task_no), &given)?);
            }
            task_no += 1;
        }
        let n = self.ops.new_op(
            &dc,
            &format!("Deploy blueprint {}", bp.definition.metadata.name),
            plan,
            now,
        );
        let op = self.ops.get_mut(n).expect("created");
        op.blueprint = Some(bp.id);
        op.task_servers = vec![None; task_no];
        Ok(n)
    }
}

fn ports_of(v: &serde_json::Value) -> Vec<u32> {
    let items: Vec<String> = match v {
        serde_json::Value::Array(a) => a.iter().map(value_to_string).collect(),
        serde_json::Value::String(s) => s.split(',').map(str::to_string).collect(),
        serde_json::Value::Number(n) => vec![n.to_string()],
        _ => Vec::new(),
    };
    items.iter().filter_map(|p| p.trim().parse().ok()).collect()
}

fn check_public_ip_spec(spec: &PublicIpSpec) -> Result<(), Refusal> {
    if spec.ports.is_empty() {
        return Err(Refusal::field(
            "body.ports",
            "At least one port is required.",
        ));
    }
    for (i, p) in spec.ports.iter().enumerate() {
        if !["TCP", "UDP", "ICMP"].contains(&p.protocol.to_ascii_uppercase().as_str()) {
            return Err(Refusal::field(
                &format!("body.ports[{i}].protocol"),
                "The protocol must be TCP, UDP or ICMP.",
            ));
        }
        if p.port > 65535 || p.port_to.is_some_and(|t| t < p.port || t > 65535) {
            return Err(Refusal::field(
                &format!("body.ports[{i}].port"),
                "The port is out of range.",
            ));
        }
    }
    Ok(())
}

fn regex_is_match(pattern: &str, s: &str) -> bool {
    regex::Regex::new(pattern)
        .map(|r| r.is_match(s))
        .unwrap_or(false)
}
