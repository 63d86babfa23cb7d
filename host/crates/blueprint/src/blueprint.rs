//! The blueprint definition: JSON in the `bpformation` shape (`clc-api.md` §5.3).
//!
//! ```json
//! {"metadata": {"name": "Install Acme Status Page on Linux", "version": "2.3.1", ...},
//!  "execute": {"Acme.Port": "8080"},
//!  "tasks": [{"type": "server", "name": "WEB", "cpu": "1", "ram": "2",
//!             "template": "UBUNTU-16-64-TEMPLATE",
//!             "tasks": [{"type": "package", "uuid": "…", "name": "Linux Update"},
//!                       {"type": "package", "uuid": "…", "name": "Install …",
//!                        "properties": {"Acme.AdminEmail": "ops@example.com"}}]}]}
//! ```
//!
//! Top-level tasks are servers; a server's tasks are `package`, `disk` (`size` in GB),
//! `add_ip`, `add_nat_ip` (`ingress_ports`, `"80, 443"` or `[80, 443]`) and `reboot`.
//! Numbers may be written as numbers or strings, as bpformation exports them. Keys the
//! harness does not use (`id`, `uuid` of a server, `description`) are allowed.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;
use serde_json::Value;

use certify_diag::{Diagnostics, Severity, Source};

use crate::builtin::LINUX_UPDATE;
use crate::json_pos::{JsonPositions, segment};

/// The blueprint of the bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Blueprint {
    /// The JSON file, absolute.
    pub path: PathBuf,
    /// `metadata.name`: the name it is published and found under.
    pub name: String,
    /// `metadata.version`.
    pub version: String,
    /// `metadata.owner`.
    pub owner: String,
    /// `metadata.visibility` (`public`, `private` or `shared`; `private` when absent).
    pub visibility: String,
    /// `metadata.description`.
    pub description: String,
    /// `execute`: default values of deploy-time parameters, by variable.
    pub execute: BTreeMap<String, String>,
    /// The servers it builds, in order.
    pub servers: Vec<BlueprintServer>,
}

impl Blueprint {
    /// Every package task, with the server it runs on.
    pub fn package_tasks(&self) -> impl Iterator<Item = (&BlueprintServer, &PackageTask)> {
        self.servers.iter().flat_map(|s| {
            s.tasks.iter().filter_map(move |t| match t {
                ServerTask::Package(p) => Some((s, p)),
                _ => None,
            })
        })
    }
}

/// A server the blueprint builds (a `server` task).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BlueprintServer {
    /// Its alias in the blueprint (≤ 6 characters), e.g. `WEB`: the `server.WEB.*`
    /// placeholders of the KB articles and the plugin's `role` refer to it.
    pub name: String,
    /// `description`.
    pub description: String,
    /// Virtual CPUs.
    pub cpu: u32,
    /// Memory in GB.
    pub memory_gb: u32,
    /// Template, e.g. `UBUNTU-16-64-TEMPLATE`.
    pub template: String,
    /// Its tasks, in order.
    pub tasks: Vec<ServerTask>,
}

impl BlueprintServer {
    /// GB of storage added by `disk` tasks (the template's own disk comes on top).
    pub fn additional_storage_gb(&self) -> u32 {
        self.tasks
            .iter()
            .map(|t| match t {
                ServerTask::Disk { size_gb } => *size_gb,
                _ => 0,
            })
            .sum()
    }

    /// The ports of the public IP the blueprint opens on this server, if it opens one.
    pub fn public_ip_ports(&self) -> Option<&[u16]> {
        self.tasks.iter().find_map(|t| match t {
            ServerTask::AddNatIp { ports } => Some(ports.as_slice()),
            _ => None,
        })
    }
}

/// A task run on a server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerTask {
    /// Run a package.
    Package(PackageTask),
    /// Add a disk.
    Disk {
        /// Its size in GB.
        size_gb: u32,
    },
    /// Add a private IP address.
    AddIp,
    /// Add a public (NAT) IP address with these ports open.
    AddNatIp {
        /// Open ports.
        ports: Vec<u16>,
    },
    /// Reboot the server.
    Reboot,
}

/// A `package` task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackageTask {
    /// The package's UUID, as written.
    pub uuid: String,
    /// The name the task gives (informational in bpformation exports).
    pub name: String,
    /// Design-time parameter values, by variable.
    pub properties: BTreeMap<String, String>,
    /// What the UUID refers to; set when the bundle is loaded.
    pub package: PackageRef,
    /// JSON pointer of the task in the blueprint file (for problems found later).
    #[serde(skip)]
    pub pointer: String,
}

/// What a package task runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PackageRef {
    /// The bundle's package at this index of its packages.
    Bundle(usize),
    /// A package every account has ([`crate::BUILTIN_PACKAGES`]).
    Builtin,
    /// Nothing known (the bundle did not load cleanly).
    Unresolved,
}

/// Parses and checks the blueprint's JSON; every problem goes to `diag`, each at its
/// place (the positions come back for problems found later). `None` when it is not
/// usable.
pub fn parse_blueprint(
    src: &Source,
    path: PathBuf,
    diag: &mut Diagnostics,
) -> Option<(Blueprint, JsonPositions)> {
    // Bounded before it is parsed: the file is at most 1 MiB (load.rs) and nests at
    // most MAX_DEPTH deep.
    if crate::json_pos::depth(&src.text) > crate::json_pos::MAX_DEPTH {
        diag.push(
            Severity::Error,
            &src.file,
            0,
            0,
            format!(
                "the blueprint nests deeper than {} levels",
                crate::json_pos::MAX_DEPTH
            ),
            "a blueprint is a few levels deep: metadata, execute, tasks and their tasks",
        );
        return None;
    }
    let value: Value = match serde_json::from_str(&src.text) {
        Ok(v) => v,
        Err(e) => {
            // serde_json's message ends with " at line L column C"; the position is ours.
            let msg = e.to_string();
            let msg = msg
                .rsplit_once(" at line ")
                .map_or(msg.as_str(), |(m, _)| m)
                .to_string();
            diag.push(
                Severity::Error,
                &src.file,
                e.line(),
                e.column(),
                format!("the blueprint is not valid JSON: {msg}"),
                "fix the JSON syntax (a missing comma or quote, or a trailing comma, is the usual cause)",
            );
            return None;
        }
    };
    let pos = JsonPositions::scan(&src.text);
    let mut c = Checker {
        src,
        pos: &pos,
        diag,
    };
    let bp = c.blueprint(&value, path);
    Some((bp?, pos))
}

struct Checker<'a> {
    src: &'a Source,
    pos: &'a JsonPositions,
    diag: &'a mut Diagnostics,
}

impl Checker<'_> {
    fn error(&mut self, ptr: &str, message: impl Into<String>, hint: impl Into<String>) {
        let at = self.pos.of(ptr);
        self.diag.error(self.src, at, message, hint);
    }

    fn warning(&mut self, ptr: &str, message: impl Into<String>, hint: impl Into<String>) {
        let at = self.pos.of(ptr);
        self.diag.warning(self.src, at, message, hint);
    }

    /// A scalar as the engine reads it: strings as they are, numbers and booleans as text.
    fn scalar(&mut self, v: &Value, ptr: &str, what: &str) -> Option<String> {
        match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Null => Some(String::new()),
            _ => {
                self.error(
                    ptr,
                    format!("{what} must be a string or a number"),
                    "write the value as a JSON string",
                );
                None
            }
        }
    }

    fn number(&mut self, v: Option<&Value>, ptr: &str, what: &str, range: (u32, u32)) -> u32 {
        let text = match v {
            None => {
                self.error(
                    ptr,
                    format!("{what} is missing"),
                    format!(
                        "add \"{}\": \"{}\"",
                        ptr.rsplit('/').next().unwrap_or(""),
                        range.0
                    ),
                );
                return 0;
            }
            Some(v) => match self.scalar(v, ptr, what) {
                Some(t) => t,
                None => return 0,
            },
        };
        match text.trim().parse::<u32>() {
            Ok(n) if (range.0..=range.1).contains(&n) => n,
            _ => {
                self.error(
                    ptr,
                    format!(
                        "{what} is {text:?}; it must be a whole number from {} to {}",
                        range.0, range.1
                    ),
                    "write it as a number, e.g. \"2\"",
                );
                0
            }
        }
    }

    fn blueprint(&mut self, v: &Value, path: PathBuf) -> Option<Blueprint> {
        let Some(root) = v.as_object() else {
            self.error(
                "",
                "the blueprint must be a JSON object",
                "write {\"metadata\": {…}, \"execute\": {…}, \"tasks\": […]} (bpformation's shape)",
            );
            return None;
        };
        let mut bp = Blueprint {
            path,
            name: String::new(),
            version: String::new(),
            owner: String::new(),
            visibility: "private".into(),
            description: String::new(),
            execute: BTreeMap::new(),
            servers: Vec::new(),
        };
        match root.get("metadata").and_then(Value::as_object) {
            None => self.error(
                "/metadata",
                "the blueprint has no \"metadata\" object",
                "add \"metadata\": {\"name\": \"Install <Product> on Linux\", \"version\": \"1.0\", \"owner\": \"<company>\", \"visibility\": \"private\", \"description\": \"…\"}",
            ),
            Some(m) => {
                let text = |k: &str| m.get(k).and_then(Value::as_str).map(str::to_string);
                match text("name") {
                    Some(n) if !n.trim().is_empty() => bp.name = n,
                    _ => self.error(
                        "/metadata/name",
                        "metadata.name is missing or empty",
                        "add \"name\": the blueprint's published name, e.g. \"Install Acme Status Page on Linux\"",
                    ),
                }
                match m.get("version") {
                    Some(v) => {
                        bp.version = self
                            .scalar(v, "/metadata/version", "metadata.version")
                            .unwrap_or_default()
                    }
                    None => self.error(
                        "/metadata",
                        "metadata.version is missing",
                        "add \"version\": \"1.0\"",
                    ),
                }
                bp.owner = text("owner").unwrap_or_default();
                bp.description = text("description").unwrap_or_default();
                if let Some(vis) = text("visibility") {
                    let l = vis.to_ascii_lowercase();
                    if ["public", "private", "shared"].contains(&l.as_str()) {
                        bp.visibility = l;
                    } else {
                        self.error(
                            "/metadata/visibility",
                            format!("unknown visibility {vis:?}"),
                            "use \"public\", \"private\" or \"shared\"",
                        );
                    }
                }
            }
        }
        match root.get("execute") {
            None => {}
            Some(Value::Object(e)) => {
                for (k, v) in e {
                    let ptr = format!("/execute/{}", segment(k));
                    if let Some(s) = self.scalar(v, &ptr, &format!("execute.{k}")) {
                        bp.execute.insert(k.clone(), s);
                    }
                }
            }
            Some(_) => self.error(
                "/execute",
                "\"execute\" must be an object of parameter values",
                "write \"execute\": {\"Variable\": \"value\"}",
            ),
        }
        let tasks = match root.get("tasks") {
            Some(Value::Array(t)) => t.as_slice(),
            Some(_) => {
                self.error(
                    "/tasks",
                    "\"tasks\" must be an array",
                    "write \"tasks\": [{\"type\": \"server\", …}]",
                );
                &[]
            }
            None => {
                self.error(
                    "",
                    "the blueprint has no \"tasks\"",
                    "add \"tasks\": [{\"type\": \"server\", \"name\": \"WEB\", \"cpu\": \"1\", \"ram\": \"2\", \"template\": \"UBUNTU-16-64-TEMPLATE\", \"tasks\": […]}]",
                );
                &[]
            }
        };
        let mut names: BTreeMap<String, String> = BTreeMap::new();
        for (i, t) in tasks.iter().enumerate() {
            let ptr = format!("/tasks/{i}");
            let kind = t.get("type").and_then(Value::as_str).unwrap_or("");
            if kind != "server" {
                self.error(
                    &ptr,
                    format!("top-level task {i} has type {kind:?}; the harness deploys server tasks"),
                    "make it {\"type\": \"server\", …}, and put packages, disks and IPs in a server's \"tasks\"",
                );
                continue;
            }
            if let Some(s) = self.server(t, &ptr) {
                let key = s.name.to_ascii_uppercase();
                if let Some(first) = names.insert(key, ptr.clone()) {
                    self.error(
                        &format!("{ptr}/name"),
                        format!("two servers are named {:?} (the other is {first})", s.name),
                        "give each server its own name: articles and plugins find servers by it",
                    );
                }
                bp.servers.push(s);
            }
        }
        if bp.servers.is_empty() && !tasks.is_empty() {
            self.error(
                "/tasks",
                "the blueprint builds no server",
                "add a task {\"type\": \"server\", …}",
            );
        } else if tasks.is_empty() && root.get("tasks").is_some() {
            self.error(
                "/tasks",
                "the blueprint has no tasks",
                "add a server task: a blueprint that builds nothing cannot be certified",
            );
        }
        if !bp.servers.is_empty()
            && !bp
                .package_tasks()
                .any(|(_, p)| p.uuid.eq_ignore_ascii_case(LINUX_UPDATE))
        {
            self.warning(
                "/tasks/0",
                "no server runs the \"Linux Update\" package",
                format!("add {{\"type\": \"package\", \"uuid\": \"{LINUX_UPDATE}\", \"name\": \"Linux Update\"}} first: public blueprints must patch new servers"),
            );
        }
        Some(bp)
    }

    fn server(&mut self, t: &Value, ptr: &str) -> Option<BlueprintServer> {
        let name = t
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let valid_name = !name.is_empty()
            && name.chars().count() <= 6
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !valid_name {
            self.error(
                &format!("{ptr}/name"),
                format!("server name {name:?} is not 1 to 6 letters, digits or '-'"),
                "the engine builds server names from a 6-character alias; use e.g. \"WEB\"",
            );
        }
        let cpu = self.number(t.get("cpu"), &format!("{ptr}/cpu"), "cpu", (1, 16));
        let memory_gb = self.number(t.get("ram"), &format!("{ptr}/ram"), "ram (GB)", (1, 128));
        let template = t
            .get("template")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if template.trim().is_empty() {
            self.error(
                &format!("{ptr}/template"),
                format!("server {name:?} has no template"),
                "add \"template\": e.g. \"UBUNTU-16-64-TEMPLATE\"",
            );
        }
        let mut tasks = Vec::new();
        match t.get("tasks") {
            None => {}
            Some(Value::Array(sub)) => {
                for (j, s) in sub.iter().enumerate() {
                    if let Some(task) = self.server_task(s, &format!("{ptr}/tasks/{j}")) {
                        tasks.push(task);
                    }
                }
            }
            Some(_) => self.error(
                &format!("{ptr}/tasks"),
                format!("the tasks of server {name:?} must be an array"),
                "write \"tasks\": [{\"type\": \"package\", …}]",
            ),
        }
        Some(BlueprintServer {
            name,
            description: t
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            cpu,
            memory_gb,
            template,
            tasks,
        })
    }

    fn server_task(&mut self, t: &Value, ptr: &str) -> Option<ServerTask> {
        let kind = t.get("type").and_then(Value::as_str).unwrap_or("");
        Some(match kind {
            "package" => {
                let uuid = t
                    .get("uuid")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .trim()
                    .to_string();
                if uuid.is_empty() {
                    self.error(
                        ptr,
                        "a package task has no \"uuid\"",
                        "add \"uuid\": the Metadata/UUID of the package's manifest",
                    );
                    return None;
                }
                let mut properties = BTreeMap::new();
                match t.get("properties") {
                    None => {}
                    Some(Value::Object(p)) => {
                        for (k, v) in p {
                            let pp = format!("{ptr}/properties/{}", segment(k));
                            if let Some(s) = self.scalar(v, &pp, &format!("property {k}")) {
                                properties.insert(k.clone(), s);
                            }
                        }
                    }
                    Some(_) => self.error(
                        &format!("{ptr}/properties"),
                        "\"properties\" must be an object of parameter values",
                        "write \"properties\": {\"Variable\": \"value\"}",
                    ),
                }
                ServerTask::Package(PackageTask {
                    uuid,
                    name: t
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                    properties,
                    package: PackageRef::Unresolved,
                    pointer: ptr.to_string(),
                })
            }
            "disk" => ServerTask::Disk {
                size_gb: self.number(
                    t.get("size"),
                    &format!("{ptr}/size"),
                    "disk size (GB)",
                    (1, 1024),
                ),
            },
            "add_ip" => ServerTask::AddIp,
            "add_nat_ip" => ServerTask::AddNatIp {
                ports: self.ports(t.get("ingress_ports"), &format!("{ptr}/ingress_ports")),
            },
            "reboot" => ServerTask::Reboot,
            other => {
                self.error(
                    &format!("{ptr}/type"),
                    format!("unknown server task type {other:?}"),
                    "use package, disk, add_ip, add_nat_ip or reboot",
                );
                return None;
            }
        })
    }

    fn ports(&mut self, v: Option<&Value>, ptr: &str) -> Vec<u16> {
        let items: Vec<String> = match v {
            None | Some(Value::Null) => return Vec::new(),
            Some(Value::String(s)) => s.split(',').map(|p| p.trim().to_string()).collect(),
            Some(Value::Array(a)) => a
                .iter()
                .map(|p| match p {
                    Value::String(s) => s.trim().to_string(),
                    other => other.to_string(),
                })
                .collect(),
            Some(Value::Number(n)) => vec![n.to_string()],
            Some(_) => vec![String::from("?")],
        };
        let mut ports = Vec::new();
        for p in items.iter().filter(|p| !p.is_empty()) {
            match p.parse::<u16>() {
                Ok(n) if n > 0 => ports.push(n),
                _ => self.error(
                    ptr,
                    format!("ingress port {p:?} is not a port number"),
                    "list ports as \"80, 443\" or [80, 443]",
                ),
            }
        }
        ports
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(json: &str) -> (Option<Blueprint>, Vec<String>) {
        let src = Source::new("b/blueprint.json".into(), json.to_string());
        let mut d = Diagnostics::default();
        let bp = parse_blueprint(&src, "b/blueprint.json".into(), &mut d).map(|(b, _)| b);
        (bp, d.problems.iter().map(|p| p.to_string()).collect())
    }

    #[test]
    fn reads_the_bpformation_shape() {
        let (bp, problems) = check(
            r#"{"metadata":{"name":"Install X on Linux","version":1.0,"owner":"me"},
"execute":{"X.Port":8080},
"tasks":[{"type":"server","name":"WEB","cpu":1,"ram":"2","template":"UBUNTU-16-64-TEMPLATE","uuid":"x","id":"y",
  "tasks":[{"type":"package","uuid":"77ab3844-579d-4c8d-8955-c69a94a2ba1a","name":"Linux Update"},
           {"type":"disk","size":"20"},{"type":"add_nat_ip","ingress_ports":"80, 443"}]}]}"#,
        );
        assert!(problems.is_empty(), "{problems:?}");
        let bp = bp.unwrap();
        assert_eq!(bp.version, "1.0");
        assert_eq!(bp.execute["X.Port"], "8080");
        assert_eq!(bp.servers[0].cpu, 1);
        assert_eq!(bp.servers[0].memory_gb, 2);
        assert_eq!(bp.servers[0].additional_storage_gb(), 20);
        assert_eq!(bp.servers[0].public_ip_ports(), Some(&[80u16, 443][..]));
        assert_eq!(bp.package_tasks().count(), 1);
    }

    #[test]
    fn collects_every_structural_problem_with_its_line() {
        let (_, problems) = check(
            "{\"metadata\":{\"version\":\"1\"},\n\"tasks\":[{\"type\":\"server\",\"name\":\"WEBSERVER\",\n\"cpu\":\"many\",\"ram\":\"2\",\"template\":\"T\",\n\"tasks\":[{\"type\":\"teleport\"}]}]}",
        );
        let at: Vec<&str> = problems
            .iter()
            .map(|p| p.split(": ").next().unwrap())
            .collect();
        assert_eq!(
            at,
            [
                "b/blueprint.json:1:13",
                "b/blueprint.json:2:34",
                "b/blueprint.json:3:7",
                "b/blueprint.json:4:18",
                "b/blueprint.json:2:10"
            ],
            "{problems:#?}"
        );
    }

    #[test]
    fn syntax_errors_carry_serde_json_positions() {
        let (bp, problems) = check("{\n  \"metadata\": {\"name\": \"x\",}\n}");
        assert!(bp.is_none());
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].starts_with("b/blueprint.json:2:"),
            "{problems:?}"
        );
        assert!(!problems[0].contains(" at line "), "{problems:?}");
    }
}
