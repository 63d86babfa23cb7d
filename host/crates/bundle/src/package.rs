//! Blueprint packages: a directory or a zip holding a `package.manifest` (XML) and the
//! scripts it runs (`clc-api.md` §5.4).
//!
//! The manifest is read with positions, so a bad parameter is reported at its line, and
//! checked the way the Blueprint Engine would take it: a UUID and a name of at most 100
//! characters, parameters with known types and prompts, regular expressions that compile,
//! defaults that satisfy them, an execution mode and a command whose script is in the
//! package and executable (Linux scripts must be mode 755).

use std::collections::{BTreeMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};

use quick_xml::events::{BytesStart, Event};
use serde::Serialize;

use crate::problem::{Diagnostics, Source};

/// The system parameters the engine fills in itself; a manifest declares them with
/// `Prompt="None"` to receive them.
pub const SYSTEM_PARAMETERS: &[&str] = &[
    "T3.Identity.User",
    "T3.Identity.Account",
    "T3.Server.Name",
    "T3.Server.IPAddress",
    "T3.Server.Password",
    "T3.Datacenter",
];

/// How the package was handed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PackageForm {
    /// A directory; the harness zips it (keeping file modes) to publish it.
    Directory,
    /// A zip, published as it is.
    Zip,
}

/// A package of the bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Package {
    /// The directory or zip, absolute (the bundle root joined with its path).
    pub path: PathBuf,
    /// The path as written in `candidate.toml`, relative to the bundle root.
    pub relative_path: String,
    /// Directory or zip.
    pub form: PackageForm,
    /// `Metadata/UUID`, as written.
    pub uuid: String,
    /// `Metadata/Name`: the name the package is published under.
    pub name: String,
    /// `Metadata/Description`.
    pub description: String,
    /// Parameters, in manifest order.
    pub parameters: Vec<PackageParameter>,
    /// How it runs.
    pub execution: Execution,
    /// The package's files, relative to its root, `/`-separated, sorted.
    pub files: Vec<String>,
}

impl Package {
    /// The parameter with this variable.
    pub fn parameter(&self, variable: &str) -> Option<&PackageParameter> {
        self.parameters.iter().find(|p| p.variable == variable)
    }

    /// Whether `uuid` names this package (case-insensitive, as the engine compares).
    pub fn has_uuid(&self, uuid: &str) -> bool {
        self.uuid.eq_ignore_ascii_case(uuid.trim())
    }
}

/// The type of a package parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ParameterType {
    /// A network of the account.
    Network,
    /// A number.
    Numeric,
    /// One of the options.
    Option,
    /// Several of the options, comma-separated.
    MultiSelect,
    /// A password: a secret.
    Password,
    /// A server of the deployment.
    Server,
    /// An IPv4 address of a server.
    ServerIp,
    /// Free text (the only type with a `Regex`).
    String,
}

impl ParameterType {
    fn parse(s: &str) -> Option<Self> {
        Some(match s.to_ascii_lowercase().as_str() {
            "network" => ParameterType::Network,
            "numeric" => ParameterType::Numeric,
            "option" => ParameterType::Option,
            "multiselect" => ParameterType::MultiSelect,
            "password" => ParameterType::Password,
            "server" => ParameterType::Server,
            "serverip" => ParameterType::ServerIp,
            "string" => ParameterType::String,
            _ => return None,
        })
    }
}

/// When the engine asks for a parameter's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Prompt {
    /// Never: a system parameter the engine fills in.
    None,
    /// When the blueprint is deployed.
    Build,
    /// When the blueprint is designed.
    Design,
    /// Once for the whole blueprint.
    Global,
}

impl Prompt {
    /// Every form the Blueprint Engine took: the four names in any case, and the
    /// booleans older manifests (and the Knowledge Base's own package guide) use,
    /// `false` for a value nobody is asked for.
    fn parse(s: &str) -> Option<Self> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "none" | "false" => Prompt::None,
            "true" => Prompt::Build,
            "build" => Prompt::Build,
            "design" => Prompt::Design,
            "global" => Prompt::Global,
            _ => return None,
        })
    }
}

/// A parameter a package declares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackageParameter {
    /// The label on the deploy form (`Name`).
    pub name: String,
    /// The variable the value is passed as (`Variable`), e.g. `Acme.Port`.
    pub variable: String,
    /// Its type.
    pub kind: ParameterType,
    /// `Hint`.
    pub hint: String,
    /// `Default`, when there is one.
    pub default: Option<String>,
    /// When the engine asks for it.
    pub prompt: Prompt,
    /// `Global`.
    pub global: bool,
    /// `Regex` (String parameters); the engine matches the whole value.
    pub regex: Option<String>,
    /// `Required` (true unless the manifest says otherwise).
    pub required: bool,
    /// `(label, value)` of each `<Option>`.
    pub options: Vec<(String, String)>,
}

impl PackageParameter {
    /// Filled in by the engine (`T3.*` or `Prompt="None"`): nobody provides it.
    pub fn is_system(&self) -> bool {
        self.variable.starts_with("T3.") || self.prompt == Prompt::None
    }

    /// Whether the deployment must provide a value: required, no default, not a system one.
    pub fn needs_value(&self) -> bool {
        self.required && self.default.is_none() && !self.is_system()
    }

    /// Checks a value as the engine would; `Err` says why it is refused.
    pub fn check_value(&self, value: &str) -> Result<(), String> {
        match self.kind {
            ParameterType::Numeric if value.trim().parse::<f64>().is_err() => {
                return Err(format!("{value:?} is not a number"));
            }
            ParameterType::ServerIp if value.parse::<std::net::Ipv4Addr>().is_err() => {
                return Err(format!("{value:?} is not an IPv4 address"));
            }
            ParameterType::Option | ParameterType::MultiSelect if !self.options.is_empty() => {
                let items: Vec<&str> = if self.kind == ParameterType::MultiSelect {
                    value.split(',').map(str::trim).collect()
                } else {
                    vec![value]
                };
                for item in items {
                    if !self.options.iter().any(|(_, v)| v == item) {
                        let values: Vec<&str> =
                            self.options.iter().map(|(_, v)| v.as_str()).collect();
                        return Err(format!(
                            "{item:?} is not one of the options ({})",
                            values.join(", ")
                        ));
                    }
                }
            }
            _ => {}
        }
        if let Some(r) = &self.regex {
            // The engine checks the whole value, not a substring.
            match regex::Regex::new(&format!("^(?:{r})$")) {
                Ok(re) if !re.is_match(value) => {
                    return Err(format!("{value:?} does not match the regex {r}"));
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// The execution mode of a package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ExecutionMode {
    /// Linux, over SSH.
    Ssh,
    /// Windows command line.
    Command,
    /// Windows PowerShell.
    PowerShell,
}

/// How a package runs (`<Execution>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Execution {
    /// `Mode`.
    pub mode: ExecutionMode,
    /// `Command`, with `${Variable}` substitution.
    pub command: String,
    /// `Persistent`.
    pub persistent: bool,
    /// `RebootOnSuccess`.
    pub reboot_on_success: bool,
}

/// Loads the package at `path` (a directory or a zip); `None` when its manifest is not
/// usable (the problems are reported).
pub(crate) fn load(path: &Path, relative: &str, diag: &mut Diagnostics) -> Option<Package> {
    let shown = path.to_path_buf();
    if path.is_dir() {
        let manifest = path.join("package.manifest");
        let text = match crate::load::read_capped(&manifest, MAX_MANIFEST) {
            Ok(t) => t,
            Err(e) => {
                diag.push(
                    crate::Severity::Error,
                    &manifest,
                    0,
                    0,
                    format!("cannot read the package manifest: {e}"),
                    "a package directory holds package.manifest at its root (clc-api.md §5.4)",
                );
                return None;
            }
        };
        let files = list_dir(path);
        let src = Source::new(manifest, text);
        let modes = |f: &str| file_mode(&path.join(f));
        let m = parse_manifest(&src, &files, &modes, diag)?;
        Some(m.into_package(path, relative, PackageForm::Directory, files))
    } else {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => {
                diag.push(
                    crate::Severity::Error,
                    &shown,
                    0,
                    0,
                    format!("cannot read the package: {e}"),
                    "give a package directory or a zip with package.manifest at its root",
                );
                return None;
            }
        };
        let mut archive = match zip::ZipArchive::new(std::io::Cursor::new(bytes)) {
            Ok(a) => a,
            Err(e) => {
                diag.push(
                    crate::Severity::Error,
                    &shown,
                    0,
                    0,
                    format!("the package is neither a directory nor a readable zip: {e}"),
                    "give a package directory or a zip with package.manifest at its root",
                );
                return None;
            }
        };
        let (files, modes) = match zip_entries(&mut archive) {
            Ok(listing) => listing,
            Err(why) => {
                diag.push(
                    crate::Severity::Error,
                    &shown,
                    0,
                    0,
                    format!("the package zip is refused: {why}"),
                    "zip only the package's files; a package holds a manifest and its scripts",
                );
                return None;
            }
        };
        let manifest_path = PathBuf::from(format!("{}!/package.manifest", path.display()));
        let read = archive
            .by_name("package.manifest")
            .map_err(|e| e.to_string())
            .and_then(|f| read_entry(f, MAX_MANIFEST));
        let text = match read {
            Ok(text) => text,
            Err(e) => {
                diag.push(
                    crate::Severity::Error,
                    &shown,
                    0,
                    0,
                    format!("the zip has no readable package.manifest at its root: {e}"),
                    "zip the package's contents, not the directory holding them, so package.manifest is at the root",
                );
                return None;
            }
        };
        let src = Source::new(manifest_path, text);
        let mode_of = |f: &str| modes.get(f).copied().flatten();
        let m = parse_manifest(&src, &files, &mode_of, diag)?;
        Some(m.into_package(path, relative, PackageForm::Zip, files))
    }
}

/// The largest `package.manifest` read.
pub const MAX_MANIFEST: u64 = 256 * 1024;
/// Entries in a package zip.
pub const MAX_ZIP_ENTRIES: usize = 10_000;
/// What a package zip may expand to, all entries together (as declared, and as read).
pub const MAX_ZIP_UNCOMPRESSED: u64 = 64 * 1024 * 1024;
/// How much larger than its compressed size a zip may expand to (beyond 1 MiB).
pub const MAX_ZIP_RATIO: u64 = 100;

/// A zip's file names and modes, after its declared sizes are checked against the caps.
#[allow(clippy::type_complexity, reason = "a private pair")]
fn zip_entries<R: std::io::Read + std::io::Seek>(
    archive: &mut zip::ZipArchive<R>,
) -> Result<(Vec<String>, BTreeMap<String, Option<u32>>), String> {
    if archive.len() > MAX_ZIP_ENTRIES {
        return Err(format!(
            "it has {} entries; the limit is {MAX_ZIP_ENTRIES}",
            archive.len()
        ));
    }
    let mut files = Vec::new();
    let mut modes = BTreeMap::new();
    let (mut expanded, mut compressed) = (0u64, 0u64);
    for i in 0..archive.len() {
        let f = archive.by_index_raw(i).map_err(|e| e.to_string())?;
        expanded = expanded.saturating_add(f.size());
        compressed = compressed.saturating_add(f.compressed_size());
        if !f.is_dir() {
            files.push(f.name().to_string());
            modes.insert(f.name().to_string(), f.unix_mode());
        }
    }
    if expanded > MAX_ZIP_UNCOMPRESSED {
        return Err(format!(
            "it expands to {expanded} bytes; the limit is {MAX_ZIP_UNCOMPRESSED}"
        ));
    }
    if expanded > 1024 * 1024 && expanded / compressed.max(1) > MAX_ZIP_RATIO {
        return Err(format!(
            "it expands {}-fold ({compressed} to {expanded} bytes), like a zip bomb; the limit is {MAX_ZIP_RATIO}",
            expanded / compressed.max(1)
        ));
    }
    files.sort();
    Ok((files, modes))
}

/// Reads one zip entry as UTF-8, at most `cap` bytes whatever its header declares.
fn read_entry(f: impl Read, cap: u64) -> Result<String, String> {
    let mut bytes = Vec::new();
    f.take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > cap {
        return Err(format!("it is larger than the {cap}-byte limit"));
    }
    String::from_utf8(bytes).map_err(|_| "it is not UTF-8".into())
}

/// Every file under `dir`, relative and `/`-separated, sorted.
pub(crate) fn list_dir(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            // The snapshot holds no links; `file_type` would not follow one anyway.
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                walk(root, &p, out);
            } else if let Ok(rel) = p.strip_prefix(root) {
                out.push(
                    rel.components()
                        .map(|c| c.as_os_str().to_string_lossy())
                        .collect::<Vec<_>>()
                        .join("/"),
                );
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

#[cfg(unix)]
fn file_mode(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).ok().map(|m| m.permissions().mode())
}

#[cfg(not(unix))]
fn file_mode(_: &Path) -> Option<u32> {
    None
}

struct Manifest {
    uuid: String,
    name: String,
    description: String,
    parameters: Vec<PackageParameter>,
    execution: Execution,
}

impl Manifest {
    fn into_package(
        self,
        path: &Path,
        relative: &str,
        form: PackageForm,
        files: Vec<String>,
    ) -> Package {
        Package {
            path: path.to_path_buf(),
            relative_path: relative.to_string(),
            form,
            uuid: self.uuid,
            name: self.name,
            description: self.description,
            parameters: self.parameters,
            execution: self.execution,
            files,
        }
    }
}

/// Where things are in the manifest, for problems found after parsing.
#[derive(Default)]
struct Places {
    manifest: usize,
    uuid: Option<usize>,
    name: Option<usize>,
    mode: Option<usize>,
    command: Option<usize>,
    execution: Option<usize>,
}

fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.chars().all(|c| c.is_ascii_hexdigit()))
}

fn parse_manifest(
    src: &Source,
    files: &[String],
    mode_of: &dyn Fn(&str) -> Option<u32>,
    diag: &mut Diagnostics,
) -> Option<Manifest> {
    let text = src.text.trim_start_matches('\u{feff}');
    let bom = src.text.len() - text.len();
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().trim_text(false);
    let mut path: Vec<String> = Vec::new();
    let mut buf = String::new();
    let mut places = Places::default();
    let mut uuid = String::new();
    let mut name = String::new();
    let mut description = String::new();
    let mut mode = String::new();
    let mut command = String::new();
    let mut persistent = false;
    let mut reboot = false;
    let mut parameters: Vec<PackageParameter> = Vec::new();
    let mut seen_vars: HashSet<String> = HashSet::new();
    let mut root_seen = false;
    loop {
        let at = reader.buffer_position() as usize + bom;
        let event = match reader.read_event() {
            Ok(e) => e,
            Err(e) => {
                diag.error(
                    src,
                    reader.error_position() as usize + bom,
                    format!("package.manifest is not well-formed XML: {e}"),
                    "fix the XML (every element closed, attribute values quoted, & written as &amp;)",
                );
                return None;
            }
        };
        // Offset of the first non-blank character of the event (Text events hold the
        // indentation before the next element).
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                let tag = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                let parent = path.last().map(String::as_str).unwrap_or("");
                match (parent, tag.as_str()) {
                    ("", "Manifest") => {
                        root_seen = true;
                        places.manifest = at;
                    }
                    ("", other) => {
                        diag.error(
                            src,
                            at,
                            format!("the root element is <{other}>, not <Manifest>"),
                            "a package.manifest is <Manifest><Metadata>…</Metadata><Parameters>…</Parameters><Execution>…</Execution></Manifest>",
                        );
                        return None;
                    }
                    ("Metadata", "UUID") => places.uuid = Some(at),
                    ("Metadata", "Name") => places.name = Some(at),
                    ("Manifest", "Execution") => places.execution = Some(at),
                    ("Execution", "Mode") => places.mode = Some(at),
                    ("Execution", "Command") => places.command = Some(at),
                    ("Parameters", "Parameter") => {
                        if let Some(p) = parameter(src, at, e, diag) {
                            if !seen_vars.insert(p.variable.clone()) {
                                diag.error(
                                    src,
                                    at,
                                    format!("the variable {} is declared twice", p.variable),
                                    "give each parameter its own Variable",
                                );
                            }
                            parameters.push(p);
                        }
                    }
                    ("Parameter", "Option") => {
                        let a = attributes(src, at, e, diag);
                        if let Some(p) = parameters.last_mut() {
                            let value = a.get("value").cloned().unwrap_or_default();
                            let label = a.get("name").cloned().unwrap_or_else(|| value.clone());
                            p.options.push((label, value));
                        }
                    }
                    _ => {}
                }
                if !empty {
                    path.push(tag);
                    buf.clear();
                }
            }
            Event::Text(t) => buf.push_str(&t.decode().unwrap_or_default()),
            Event::CData(t) => buf.push_str(&t.decode().unwrap_or_default()),
            Event::GeneralRef(r) => {
                if let Ok(Some(c)) = r.resolve_char_ref() {
                    buf.push(c);
                } else {
                    buf.push_str(match r.decode().unwrap_or_default().as_ref() {
                        "amp" => "&",
                        "lt" => "<",
                        "gt" => ">",
                        "quot" => "\"",
                        "apos" => "'",
                        _ => "",
                    });
                }
            }
            Event::End(_) => {
                let leaf = path.pop().unwrap_or_default();
                let parent = path.last().map(String::as_str).unwrap_or("");
                let value = std::mem::take(&mut buf).trim().to_string();
                match (parent, leaf.as_str()) {
                    ("Metadata", "UUID") => uuid = value,
                    ("Metadata", "Name") => name = value,
                    ("Metadata", "Description") => description = value,
                    ("Execution", "Mode") => mode = value,
                    ("Execution", "Command") => command = value,
                    ("Execution", "Persistent") => persistent = truthy(&value),
                    ("Execution", "RebootOnSuccess") => reboot = truthy(&value),
                    _ => {}
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !root_seen {
        diag.error(
            src,
            0,
            "package.manifest has no <Manifest> element",
            "a package.manifest is <Manifest><Metadata>…</Metadata><Parameters>…</Parameters><Execution>…</Execution></Manifest>",
        );
        return None;
    }
    if uuid.is_empty() {
        diag.error(
            src,
            places.uuid.unwrap_or(places.manifest),
            "the package has no Metadata/UUID",
            "add <UUID>…</UUID> to <Metadata> (a new random UUID; change it when the parameter list changes)",
        );
    } else if !is_uuid(&uuid) {
        diag.error(
            src,
            places.uuid.unwrap_or(places.manifest),
            format!("Metadata/UUID {uuid:?} is not a UUID"),
            "use the 8-4-4-4-12 hexadecimal form, e.g. from `uuidgen`",
        );
    }
    if name.is_empty() {
        diag.error(
            src,
            places.name.unwrap_or(places.manifest),
            "the package has no Metadata/Name",
            "add <Name>Install <Product> on Linux</Name> to <Metadata>",
        );
    } else if name.chars().count() > 100 {
        diag.error(
            src,
            places.name.unwrap_or(places.manifest),
            format!(
                "Metadata/Name is {} characters long; the engine allows 100",
                name.chars().count()
            ),
            "shorten the name",
        );
    } else if !naming_convention(&name) {
        diag.warning(
            src,
            places.name.unwrap_or(places.manifest),
            format!("the package name {name:?} does not follow the public naming convention"),
            "name it \"<Verb> <Name> on <Platform>\", e.g. \"Install Acme Status Page on Linux\"",
        );
    }
    let exec_at = places.mode.or(places.execution).unwrap_or(places.manifest);
    let mode = match mode.to_ascii_lowercase().as_str() {
        "ssh" => Some(ExecutionMode::Ssh),
        "command" => Some(ExecutionMode::Command),
        "powershell" => Some(ExecutionMode::PowerShell),
        "" => {
            diag.error(
                src,
                exec_at,
                "the package has no Execution/Mode",
                "add <Mode>Ssh</Mode> (Linux) or <Mode>Command</Mode> / <Mode>PowerShell</Mode> (Windows)",
            );
            None
        }
        other => {
            diag.error(
                src,
                exec_at,
                format!("unknown execution mode {other:?}"),
                "use Ssh (Linux), Command or PowerShell (Windows)",
            );
            None
        }
    };
    let cmd_at = places
        .command
        .or(places.execution)
        .unwrap_or(places.manifest);
    if command.is_empty() {
        diag.error(
            src,
            cmd_at,
            "the package has no Execution/Command",
            "add <Command>install.sh</Command>: the script the engine runs",
        );
    } else if mode == Some(ExecutionMode::Ssh) {
        script_checks(src, cmd_at, &command, files, mode_of, diag);
    }
    // A `${Variable}` in the command must be one the manifest declares.
    for cap in VAR_REF.captures_iter(&command) {
        let v = &cap[1];
        if !parameters.iter().any(|p| p.variable == v) && !SYSTEM_PARAMETERS.contains(&v) {
            diag.error(
                src,
                cmd_at,
                format!("the command uses ${{{v}}}, which the manifest does not declare"),
                "declare the parameter under <Parameters>, or fix the variable's name",
            );
        }
    }
    // Problems in parameters or the script are reported, but the package still takes
    // part in the cross-checks (so its absence does not cause more errors); one without
    // an identity or a way to run cannot.
    let usable = is_uuid(&uuid) && !name.is_empty() && name.chars().count() <= 100;
    if !usable || command.is_empty() {
        return None;
    }
    Some(Manifest {
        uuid,
        name,
        description,
        parameters,
        execution: Execution {
            mode: mode?,
            command,
            persistent,
            reboot_on_success: reboot,
        },
    })
}

static VAR_REF: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(r"\$\{([A-Za-z0-9_.]+)\}").expect("static regex")
});

fn naming_convention(name: &str) -> bool {
    static RE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"(?i)^[A-Za-z]+ .+ on [A-Za-z0-9 ]+").expect("static regex")
    });
    RE.is_match(name)
}

/// The script a Linux package runs must be in the package and executable.
fn script_checks(
    src: &Source,
    at: usize,
    command: &str,
    files: &[String],
    mode_of: &dyn Fn(&str) -> Option<u32>,
    diag: &mut Diagnostics,
) {
    let Some(first) = command.split_whitespace().next() else {
        return;
    };
    // An interpreter (`bash install.sh`) or an absolute path is the author's choice.
    if first.starts_with('/') || first.contains("${") {
        return;
    }
    let script = first.trim_start_matches("./");
    let interpreted = matches!(script, "sh" | "bash" | "python" | "python3" | "perl");
    let script = if interpreted {
        match command.split_whitespace().nth(1) {
            Some(s) => s.trim_start_matches("./"),
            None => return,
        }
    } else {
        script
    };
    if !files.iter().any(|f| f == script) {
        diag.error(
            src,
            at,
            format!("the command runs {script}, which is not in the package"),
            "add the script at the package's root, or fix Execution/Command",
        );
        return;
    }
    if !interpreted
        && let Some(mode) = mode_of(script)
        && mode & 0o111 == 0
    {
        diag.error(
            src,
            at,
            format!(
                "{script} is not executable (mode {:o})",
                mode & 0o777
            ),
            format!("run `chmod 755 {script}`: Linux package scripts must be mode 755, so build zips on Unix"),
        );
    }
}

fn truthy(s: &str) -> bool {
    s.eq_ignore_ascii_case("true") || s == "1"
}

fn attributes(
    src: &Source,
    at: usize,
    e: &BytesStart<'_>,
    diag: &mut Diagnostics,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for a in e.attributes() {
        match a {
            Ok(a) => {
                let key = String::from_utf8_lossy(a.key.local_name().as_ref()).to_ascii_lowercase();
                match a.normalized_value(quick_xml::XmlVersion::Implicit1_0) {
                    Ok(v) => {
                        out.insert(key, v.into_owned());
                    }
                    Err(err) => diag.error(
                        src,
                        at,
                        format!("attribute {key} cannot be read: {err}"),
                        "escape & as &amp; and < as &lt; in attribute values",
                    ),
                }
            }
            Err(err) => diag.error(
                src,
                at,
                format!("malformed attribute: {err}"),
                "write attributes as Name=\"value\"",
            ),
        }
    }
    out
}

fn parameter(
    src: &Source,
    at: usize,
    e: &BytesStart<'_>,
    diag: &mut Diagnostics,
) -> Option<PackageParameter> {
    let a = attributes(src, at, e, diag);
    let get = |k: &str| a.get(k).cloned().unwrap_or_default();
    let variable = get("variable");
    if variable.is_empty() {
        diag.error(
            src,
            at,
            format!("parameter {:?} has no Variable", get("name")),
            "add Variable=\"Product.Setting\": the name the value is passed to the script as",
        );
        return None;
    }
    let kind_raw = a.get("type").cloned().unwrap_or_else(|| "String".into());
    let Some(kind) = ParameterType::parse(&kind_raw) else {
        diag.error(
            src,
            at,
            format!("parameter {variable} has the unknown Type {kind_raw:?}"),
            "use Network, Numeric, Option, MultiSelect, Password, Server, ServerIP or String",
        );
        return None;
    };
    let prompt_raw = a
        .get("prompt")
        .cloned()
        .filter(|p| !p.trim().is_empty())
        .unwrap_or_else(|| "Build".into());
    let Some(prompt) = Prompt::parse(&prompt_raw) else {
        diag.error(
            src,
            at,
            format!("parameter {variable} has the unknown Prompt {prompt_raw:?}"),
            "use None (system parameters; `false` is taken too), Build, Design or Global",
        );
        return None;
    };
    if variable.starts_with("T3.") && prompt != Prompt::None {
        diag.warning(
            src,
            at,
            format!("system parameter {variable} should have Prompt=\"None\""),
            "the engine fills in T3.* parameters; declare them with Prompt=\"None\"",
        );
    }
    let regex = a.get("regex").cloned().filter(|r| !r.is_empty());
    if let Some(r) = &regex
        && let Err(err) = regex::Regex::new(r)
    {
        diag.error(
            src,
            at,
            format!("parameter {variable} has a Regex that does not compile: {err}"),
            "fix the regular expression",
        );
        return None;
    }
    let p = PackageParameter {
        name: get("name"),
        variable,
        kind,
        hint: get("hint"),
        default: a.get("default").cloned().filter(|d| !d.is_empty()),
        prompt,
        global: a.get("global").is_some_and(|v| truthy(v)),
        regex,
        required: a.get("required").is_none_or(|v| truthy(v)),
        options: Vec::new(),
    };
    if p.name.is_empty() && !p.is_system() {
        diag.warning(
            src,
            at,
            format!("parameter {} has no Name", p.variable),
            "add Name=\"…\": the label users see on the deploy form",
        );
    }
    if let Some(d) = &p.default
        && let Err(why) = p.check_value(d)
    {
        diag.error(
            src,
            at,
            format!("the default of parameter {} is refused: {why}", p.variable),
            "make the Default satisfy the parameter's Type and Regex",
        );
    }
    Some(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<Manifest>
  <Metadata>
    <UUID>4a1b6c2e-0000-4000-8000-00000000abcd</UUID>
    <Name>Install Web on Linux</Name>
    <Description>Serves a page &amp; exits</Description>
  </Metadata>
  <Parameters>
    <Parameter Name="Port" Type="Numeric" Variable="Web.Port" Prompt="Build" Default="8080" />
    <Parameter Name="Mode" Type="Option" Variable="Web.Mode" Prompt="Build" Required="false">
      <Option Name="Fast" Value="fast" />
    </Parameter>
    <Parameter Name="Owner" Type="String" Variable="Web.Owner" Prompt="Build" Regex="[a-z]+" />
    <Parameter Name="Address" Type="String" Variable="T3.Server.IPAddress" Prompt="None" />
  </Parameters>
  <Execution>
    <Mode>Ssh</Mode>
    <Command>install.sh</Command>
  </Execution>
</Manifest>"#;

    fn parse(xml: &str, files: &[&str]) -> (Option<Manifest>, Vec<String>) {
        let src = Source::new("p/package.manifest".into(), xml.to_string());
        let mut d = Diagnostics::default();
        let files: Vec<String> = files.iter().map(|s| s.to_string()).collect();
        let m = parse_manifest(&src, &files, &|_| Some(0o755), &mut d);
        (m, d.problems.iter().map(|p| p.to_string()).collect())
    }

    #[test]
    fn parses_a_manifest() {
        let (m, problems) = parse(MANIFEST, &["install.sh", "package.manifest"]);
        assert!(problems.is_empty(), "{problems:?}");
        let m = m.unwrap();
        assert_eq!(m.description, "Serves a page & exits");
        assert_eq!(m.parameters.len(), 4);
        assert_eq!(m.parameters[0].kind, ParameterType::Numeric);
        assert!(!m.parameters[1].required);
        assert_eq!(m.parameters[1].options, [("Fast".into(), "fast".into())]);
        assert!(m.parameters[2].needs_value());
        assert!(m.parameters[3].is_system());
        assert_eq!(m.execution.mode, ExecutionMode::Ssh);
    }

    #[test]
    fn reports_every_problem_at_its_line() {
        let xml = MANIFEST
            .replace("4a1b6c2e-0000-4000-8000-00000000abcd", "not-a-uuid")
            .replace("Default=\"8080\"", "Default=\"eighty\"")
            .replace("Regex=\"[a-z]+\"", "Regex=\"[a-z\"");
        let (m, problems) = parse(&xml, &[]);
        assert!(m.is_none());
        let lines: Vec<&str> = problems
            .iter()
            .map(|p| p.split(": ").next().unwrap())
            .collect();
        assert_eq!(
            lines,
            [
                "p/package.manifest:9:5",
                "p/package.manifest:13:5",
                "p/package.manifest:4:5",
                "p/package.manifest:18:5"
            ],
            "{problems:#?}"
        );
        assert!(problems[0].contains("not a number"));
        assert!(problems[1].contains("does not compile"));
        assert!(problems[2].contains("not a UUID"));
        assert!(problems[3].contains("install.sh, which is not in the package"));
    }

    #[test]
    fn malformed_xml_has_a_position() {
        let (m, problems) = parse("<Manifest>\n  <Metadata>\n</Manifest>", &[]);
        assert!(m.is_none());
        assert!(
            problems[0].starts_with("p/package.manifest:3:"),
            "{problems:?}"
        );
    }

    #[test]
    fn checks_values_like_the_engine() {
        let (m, _) = parse(MANIFEST, &["install.sh"]);
        let m = m.unwrap();
        assert!(m.parameters[0].check_value("8081").is_ok());
        assert!(m.parameters[0].check_value("x").is_err());
        assert!(m.parameters[1].check_value("slow").is_err());
        assert!(m.parameters[2].check_value("bob").is_ok());
        assert!(m.parameters[2].check_value("bob1").is_err());
    }
}
