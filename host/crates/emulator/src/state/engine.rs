//! How operations move forward: each step begins (deciding how long it takes and how it
//! will end), then ends at its scheduled account time or when its Local process exits,
//! and applies its effect on servers, groups and the catalog.

use chrono::{DateTime, TimeDelta, Utc};

use certify_clc::model::{PublicIpSpec, QueueStatus};

use super::scheduler::{Action, START, ServerRef};
use super::servers::PublicIpRec;
use super::{SpawnRequest, State, durations};
use crate::billing::ClosedCharge;

impl State {
    /// Processes every event due by `now`. Returns whether anything changed.
    pub fn advance(&mut self, now: DateTime<Utc>) -> bool {
        let mut changed = false;
        while let Some(ev) = self.ops.pop_due(now) {
            changed = true;
            if ev.step == START {
                self.start_op(ev.op, ev.at);
            } else {
                self.finish_step(ev.op, ev.step, ev.at, Ok(()));
            }
        }
        changed
    }

    fn start_op(&mut self, n: u64, at: DateTime<Utc>) {
        let Some(op) = self.ops.get_mut(n) else {
            return;
        };
        if op.status != QueueStatus::NotStarted {
            return;
        }
        op.status = QueueStatus::Executing;
        op.started = Some(at);
        if op.plan.is_empty() {
            op.status = QueueStatus::Succeeded;
            op.finished = Some(at);
            return;
        }
        self.begin_step(n, at);
    }

    fn begin_step(&mut self, n: u64, at: DateTime<Utc>) {
        let Some(op) = self.ops.get(&n) else {
            return;
        };
        let cursor = op.cursor;
        let step = op.plan[cursor].clone();
        let mut secs = step.secs;
        let mut failure = None;
        match &step.action {
            Action::Build { server } => {
                if self.faults.build_fails() {
                    failure = Some(format!("Build of {server} failed (injected fault)"));
                }
                if let Some(s) = self.servers.get_mut(server) {
                    s.log(at, "Build started");
                }
            }
            Action::BuildTask {
                task,
                alias,
                template,
                cpu,
                memory_gb,
                group_id,
                password,
                network_id,
            } => {
                let group = self.groups.get(group_id).cloned();
                let created = group.and_then(|g| {
                    self.create_server_record(
                        &g,
                        alias,
                        alias,
                        template,
                        *cpu,
                        *memory_gb,
                        password,
                        network_id.clone(),
                        &[],
                        at,
                    )
                    .ok()
                });
                match created {
                    Some(id) => {
                        let op = self.ops.get_mut(n).expect("exists");
                        if op.task_servers.len() <= *task {
                            op.task_servers.resize(*task + 1, None);
                        }
                        op.task_servers[*task] = Some(id.clone());
                        let windows = self.servers[&id].is_windows();
                        secs = if windows {
                            durations::BUILD_WINDOWS_SECS
                        } else {
                            durations::BUILD_LINUX_SECS
                        };
                        if self.faults.build_fails() {
                            failure = Some(format!("Build of {id} failed (injected fault)"));
                        }
                        if let Some(s) = self.servers.get_mut(&id) {
                            s.log(at, format!("Blueprint request {n}: build started"));
                        }
                    }
                    None => failure = Some(format!("Cannot build server {alias}")),
                }
            }
            Action::Package {
                server,
                package,
                params,
            } => {
                let server_id = self.ops.resolve(n, server);
                let pkg = self.catalog.packages.get(package).cloned();
                match (server_id.and_then(|id| self.servers.get(&id).cloned()), pkg) {
                    (Some(s), Some(p)) => {
                        let m = &p.manifest;
                        let mode_ok = if m.is_linux() {
                            !s.is_windows()
                        } else {
                            s.is_windows()
                        };
                        let title = format!("Package {} ({})", m.name, m.uuid);
                        let mut line = format!("{title} started");
                        if !mode_ok {
                            failure = Some(format!(
                                "{title}: [Error] Exit code: 53 (execution mode {} does not match the server's OS)",
                                m.execution.mode
                            ));
                            secs = 5;
                        } else if self.faults.package_is_slow(&m.name, &m.uuid) {
                            secs = durations::PACKAGE_LIMIT_SECS;
                            failure = Some(format!(
                                "{title} exceeded the maximum package execution time of 5 minutes"
                            ));
                        } else if self.faults.package_fails(&m.name, &m.uuid) {
                            failure = Some(format!("{title} failed: exit code 1 (injected fault)"));
                        } else if self.local_exec && m.is_linux() && p.file.is_some() {
                            line.push_str(" (local process)");
                            let op = self.ops.get_mut(n).expect("exists");
                            op.awaiting_process = true;
                            self.effects.spawns.push(SpawnRequest {
                                op: n,
                                step: cursor,
                                server_id: s.id.clone(),
                                server_name: s.name.clone(),
                                address: s.internal_ip.clone(),
                                password: s.password.clone(),
                                alias: self.account.alias.clone(),
                                dc: s.dc.clone(),
                                username: self.account.username.clone(),
                                package_file: p.file.clone().unwrap_or_default(),
                                manifest: m.clone(),
                                params: params.clone(),
                                limit: TimeDelta::seconds(durations::PACKAGE_LIMIT_SECS),
                            });
                            if let Some(sm) = self.servers.get_mut(&s.id) {
                                sm.log(at, &line);
                            }
                            return;
                        }
                        if let Some(sm) = self.servers.get_mut(&s.id) {
                            sm.log(at, &line);
                            for (k, v) in params {
                                let shown = if m.parameters.iter().any(|p| {
                                    &p.variable == k
                                        && p.kind == certify_blueprint::ParameterType::Password
                                }) {
                                    "********"
                                } else {
                                    v
                                };
                                sm.log(at, format!("  {k} = {shown}"));
                            }
                        }
                    }
                    (None, _) => failure = Some("The server for the package does not exist".into()),
                    (_, None) => failure = Some(format!("Package {package} does not exist")),
                }
            }
            _ => {}
        }
        let op = self.ops.get_mut(n).expect("exists");
        op.plan[cursor].failure = failure;
        op.plan[cursor].secs = secs;
        self.ops.schedule(n, cursor, at + TimeDelta::seconds(secs));
    }

    /// Ends step `step` of operation `n` at `at`: applies it, then begins the next step or
    /// finishes the operation. `result` is the outcome of a Local process, `Ok` otherwise.
    pub fn finish_step(
        &mut self,
        n: u64,
        step: usize,
        at: DateTime<Utc>,
        result: Result<(), String>,
    ) {
        let Some(op) = self.ops.get_mut(n) else {
            return;
        };
        if op.cursor != step || op.status != QueueStatus::Executing {
            return;
        }
        op.awaiting_process = false;
        let failure = result.err().or_else(|| op.plan[step].failure.clone());
        let action = op.plan[step].action.clone();
        let started = op.started.unwrap_or(at);
        let is_blueprint = op.blueprint.is_some();
        match failure {
            None => self.apply(n, &action, at),
            Some(msg) => {
                self.fail_action(n, &action, at, &msg);
                self.finish_op(n, at, Some(msg));
                return;
            }
        }
        let op = self.ops.get_mut(n).expect("exists");
        op.cursor += 1;
        if is_blueprint && at - started > TimeDelta::seconds(durations::BLUEPRINT_LIMIT_SECS) {
            let msg = "Blueprint exceeded the maximum execution time of 20 minutes".to_string();
            self.finish_op(n, at, Some(msg));
            return;
        }
        if op.cursor >= op.plan.len() {
            self.finish_op(n, at, None);
        } else {
            self.begin_step(n, at);
        }
    }

    fn finish_op(&mut self, n: u64, at: DateTime<Utc>, error: Option<String>) {
        let op = self.ops.get_mut(n).expect("exists");
        op.finished = Some(at);
        op.status = if error.is_some() {
            QueueStatus::Failed
        } else {
            QueueStatus::Succeeded
        };
        op.error = error.clone();
        let servers = op.servers();
        let title = op.title.clone();
        for id in servers {
            if let Some(s) = self.servers.get_mut(&id) {
                match &error {
                    None => s.log(at, format!("{title}: succeeded")),
                    Some(e) => s.log(at, format!("{title}: failed: {e}")),
                }
            }
        }
    }

    fn apply(&mut self, n: u64, action: &Action, at: DateTime<Utc>) {
        match action {
            Action::Build { server } => {
                if let Some(s) = self.servers.get_mut(server) {
                    s.status = "active".into();
                    s.power_state = "started".into();
                    s.modified = at;
                    s.log(at, "Build complete; server is active and started");
                }
            }
            Action::BuildTask { task, .. } => {
                if let Some(id) = self.ops.resolve(n, &ServerRef::Task(*task))
                    && let Some(s) = self.servers.get_mut(&id)
                {
                    s.status = "active".into();
                    s.power_state = "started".into();
                    s.modified = at;
                    s.log(at, "Build complete; server is active and started");
                }
            }
            Action::Package {
                server, package, ..
            } => {
                if let Some(id) = self.ops.resolve(n, server)
                    && let Some(s) = self.servers.get_mut(&id)
                {
                    s.log(at, format!("Package {package} completed successfully"));
                }
            }
            Action::Power { servers, op } => {
                for id in servers {
                    self.servers.accrue(id, at);
                    if let Some(s) = self.servers.get_mut(id) {
                        match op.as_str() {
                            "powerOn" | "reboot" | "reset" => s.power_state = "started".into(),
                            "powerOff" | "shutDown" => s.power_state = "stopped".into(),
                            "pause" => s.power_state = "paused".into(),
                            "startMaintenance" => s.maintenance = true,
                            "stopMaintenance" => s.maintenance = false,
                            _ => {}
                        }
                        s.modified = at;
                        s.log(at, format!("{op} complete"));
                    }
                }
            }
            Action::Resize {
                server,
                cpu,
                memory_gb,
            } => {
                self.servers.accrue(server, at);
                if let Some(s) = self.servers.get_mut(server) {
                    if let Some(c) = cpu {
                        s.cpu = *c;
                    }
                    if let Some(m) = memory_gb {
                        s.memory_gb = *m;
                    }
                    s.modified = at;
                }
            }
            Action::PublicIpReady { server, address } => {
                if let Some(id) = self.ops.resolve(n, server) {
                    self.servers.accrue(&id, at);
                    if let Some(s) = self.servers.get_mut(&id) {
                        for ip in s.public_ips.iter_mut().filter(|ip| &ip.address == address) {
                            ip.ready = true;
                        }
                    }
                }
            }
            Action::PublicIpRemoved { server, address } => {
                self.servers.accrue(server, at);
                if let Some(s) = self.servers.get_mut(server) {
                    s.public_ips.retain(|ip| &ip.address != address);
                }
            }
            Action::AddDisk { server, size_gb } => {
                if let Some(id) = self.ops.resolve(n, server) {
                    self.servers.accrue(&id, at);
                    if let Some(s) = self.servers.get_mut(&id) {
                        let idx = s.disks.len();
                        s.disks.push((format!("0:{idx}"), *size_gb, Vec::new()));
                        s.storage_gb += size_gb;
                    }
                }
            }
            Action::AddNatIp { server, ports } => {
                if let Some(id) = self.ops.resolve(n, server) {
                    self.servers.accrue(&id, at);
                    let address = self.servers.allocate_public();
                    if let Some(s) = self.servers.get_mut(&id) {
                        let internal = s.internal_ip.clone();
                        s.public_ips.push(PublicIpRec {
                            address: address.clone(),
                            internal: internal.clone(),
                            spec: PublicIpSpec {
                                internal_ip_address: Some(internal),
                                ports: ports
                                    .iter()
                                    .map(|p| certify_clc::model::PortRule {
                                        protocol: "TCP".into(),
                                        port: *p,
                                        port_to: None,
                                    })
                                    .collect(),
                                source_restrictions: Vec::new(),
                            },
                            ready: true,
                        });
                        s.log(at, format!("Public IP {address} added"));
                    }
                }
            }
            Action::DeleteServer { server } => self.remove_server(server, at),
            Action::DeleteGroup { group } => self.remove_group(group, at),
            Action::Publish { file_name } => {
                if let Some(p) = self.catalog.pending_packages.remove(file_name)
                    && let Some(rec) = self
                        .catalog
                        .packages
                        .get_mut(&p.manifest.uuid.to_ascii_lowercase())
                {
                    rec.file = Some(format!("{}.zip", p.manifest.uuid.to_ascii_lowercase()));
                }
            }
            Action::Wait => {}
        }
    }

    fn fail_action(&mut self, n: u64, action: &Action, at: DateTime<Utc>, msg: &str) {
        let server = match action {
            Action::Build { server } => Some(server.clone()),
            Action::BuildTask { task, .. } => self.ops.resolve(n, &ServerRef::Task(*task)),
            Action::Package { server, .. } => self.ops.resolve(n, server),
            _ => None,
        };
        if let Some(id) = server
            && let Some(s) = self.servers.get_mut(&id)
        {
            s.log(at, format!("ERROR: {msg}"));
            if matches!(action, Action::Build { .. } | Action::BuildTask { .. }) {
                // A failed build leaves a server that never became active; it is billed
                // until someone deletes it, as on the real platform.
                s.status = "underConstruction".into();
                s.power_state = "stopped".into();
            }
        }
        if let Action::Publish { file_name } = action {
            self.catalog.pending_packages.remove(file_name);
        }
    }

    fn remove_server(&mut self, id: &str, at: DateTime<Utc>) {
        self.servers.accrue(id, at);
        let Some(s) = self.servers.remove(id) else {
            return;
        };
        let group_name = self
            .groups
            .get(&s.group_id)
            .map(|g| g.name.clone())
            .unwrap_or_default();
        for (month, amount) in &s.charges {
            self.billing.closed_charges.push(ClosedCharge {
                month: month.clone(),
                group_name: group_name.clone(),
                dc: s.dc.clone(),
                server: s.name.clone(),
                amount: *amount,
            });
        }
        self.effects.kills.push(s.id.clone());
    }

    fn remove_group(&mut self, id: &str, at: DateTime<Utc>) {
        let ids: Vec<String> = self
            .groups
            .subtree(id)
            .iter()
            .map(|g| g.id.clone())
            .collect();
        let servers: Vec<String> = self
            .servers
            .values()
            .filter(|s| ids.contains(&s.group_id))
            .map(|s| s.id.clone())
            .collect();
        for s in servers {
            self.remove_server(&s, at);
        }
        self.groups.remove_subtree(id);
    }
}
