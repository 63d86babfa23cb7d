//! `package.manifest` (`clc-api.md` §5.4): the XML at the root of a package that names
//! it, declares its parameters and says how it runs.
//!
//! [`parse_manifest`] reads it with positions, so every problem is reported at its line,
//! and checks it the way the Blueprint Engine takes it: a UUID and a name of at most 100
//! characters, parameters with known types and prompts, regular expressions that compile,
//! defaults that satisfy them, no `T3.*` names but the system parameters, an execution
//! mode and a command whose script is in the package and executable (Linux scripts must
//! be mode 755). [`Manifest::parse`] and [`Manifest::from_zip`] are the same reading for
//! the emulated account, which answers with the first error.

use std::collections::{BTreeMap, HashSet};
use std::io::Cursor;
use std::path::PathBuf;

use certify_diag::{Diagnostics, Source};
use quick_xml::events::{BytesStart, Event};
use serde::{Deserialize, Serialize};

use crate::package_zip::{CatalogError, read_entry, zip_entries};
use crate::parameter::{
    PackageParameter, ParameterError, ParameterType, Prompt, SYSTEM_PARAMETERS, reserved_parameter,
};

/// The largest `package.manifest` read.
pub const MAX_MANIFEST: u64 = 256 * 1024;

/// The execution mode of a package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExecutionMode {
    /// Linux, over SSH.
    Ssh,
    /// Windows command line.
    Command,
    /// Windows PowerShell.
    PowerShell,
}

impl std::fmt::Display for ExecutionMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ExecutionMode::Ssh => "Ssh",
            ExecutionMode::Command => "Command",
            ExecutionMode::PowerShell => "PowerShell",
        })
    }
}

/// How a package runs (`<Execution>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

/// A package's manifest, as read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
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
}

/// The files of the package a manifest is read from, for the checks of its script.
pub struct PackageFiles<'a> {
    /// The package's files, relative to its root, `/`-separated.
    pub names: &'a [String],
    /// The Unix mode of a file, when known.
    pub mode_of: &'a dyn Fn(&str) -> Option<u32>,
}

impl Manifest {
    /// Reads manifest XML as the engine does; the first error is the answer.
    pub fn parse(xml: &str) -> Result<Manifest, CatalogError> {
        let src = Source::new(PathBuf::from("package.manifest"), xml.to_string());
        let mut diag = Diagnostics::default();
        let manifest = parse_manifest(&src, None, &mut diag);
        match (diag.first_error(), manifest) {
            (Some(p), _) => Err(CatalogError::Manifest(format!(
                "line {}: {}",
                p.line, p.message
            ))),
            (None, Some(m)) => Ok(m),
            (None, None) => Err(CatalogError::Manifest("it cannot be read".into())),
        }
    }

    /// Reads the manifest of a package zip (the zip within the caps of
    /// [`crate::package_zip`], the manifest at most [`MAX_MANIFEST`] bytes).
    pub fn from_zip(bytes: &[u8]) -> Result<Manifest, CatalogError> {
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes))?;
        let listing = zip_entries(&mut archive).map_err(CatalogError::Refused)?;
        if !listing.files.iter().any(|f| f == "package.manifest") {
            return Err(CatalogError::NoManifest);
        }
        let xml = read_entry(archive.by_name("package.manifest")?, MAX_MANIFEST).map_err(|e| {
            CatalogError::Io {
                context: "reading package.manifest".into(),
                source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
            }
        })?;
        Manifest::parse(&xml)
    }

    /// Whether the package is meant for Linux (`Ssh` mode).
    pub fn is_linux(&self) -> bool {
        self.execution.mode == ExecutionMode::Ssh
    }

    /// The parameter with this variable.
    pub fn parameter(&self, variable: &str) -> Option<&PackageParameter> {
        self.parameters.iter().find(|p| p.variable == variable)
    }

    /// Validates a deploy's parameter values against the declarations, filling in
    /// defaults. Returns the effective values of every non-system parameter, by variable.
    pub fn resolve_parameters(
        &self,
        given: &BTreeMap<String, String>,
    ) -> Result<BTreeMap<String, String>, ParameterError> {
        crate::parameter::resolve(&self.parameters, given)
    }
}

/// Whether `s` is a UUID in the 8-4-4-4-12 hexadecimal form.
pub fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.chars().all(|c| c.is_ascii_hexdigit()))
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

/// What the XML says, before it is checked as a whole.
#[derive(Default)]
struct Draft {
    places: Places,
    root_seen: bool,
    uuid: String,
    name: String,
    description: String,
    mode: String,
    command: String,
    persistent: bool,
    reboot: bool,
    parameters: Vec<PackageParameter>,
    seen_vars: HashSet<String>,
}

/// Reads and checks a manifest; every problem goes to `diag`. `files` are the package's
/// files when they are known (the script the command runs is then checked). `None`
/// when the manifest is not usable: no identity or no way to run.
pub fn parse_manifest(
    src: &Source,
    files: Option<&PackageFiles<'_>>,
    diag: &mut Diagnostics,
) -> Option<Manifest> {
    let d = read_xml(src, diag)?;
    if !d.root_seen {
        diag.error(
            src,
            0,
            "package.manifest has no <Manifest> element",
            "a package.manifest is <Manifest><Metadata>…</Metadata><Parameters>…</Parameters><Execution>…</Execution></Manifest>",
        );
        return None;
    }
    check_metadata(src, &d, diag);
    let mode = check_execution(src, &d, files, diag);
    // Problems in parameters or the script are reported, but the package still takes
    // part in the cross-checks (so its absence does not cause more errors); one without
    // an identity or a way to run cannot.
    let usable = is_uuid(&d.uuid) && !d.name.is_empty() && d.name.chars().count() <= 100;
    if !usable || d.command.is_empty() {
        return None;
    }
    Some(Manifest {
        uuid: d.uuid,
        name: d.name,
        description: d.description,
        parameters: d.parameters,
        execution: Execution {
            mode: mode?,
            command: d.command,
            persistent: d.persistent,
            reboot_on_success: d.reboot,
        },
    })
}

/// Walks the XML, recording values, positions and parameters.
fn read_xml(src: &Source, diag: &mut Diagnostics) -> Option<Draft> {
    let text = src.text.trim_start_matches('\u{feff}');
    let bom = src.text.len() - text.len();
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().trim_text(false);
    let mut path: Vec<String> = Vec::new();
    let mut buf = String::new();
    let mut d = Draft::default();
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
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let tag = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                let parent = path.last().map(String::as_str).unwrap_or("");
                if !d.element(src, at, parent, &tag, e, diag) {
                    return None;
                }
                if matches!(event, Event::Start(_)) {
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
                d.value(parent, &leaf, std::mem::take(&mut buf).trim().to_string());
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Some(d)
}

impl Draft {
    /// An element starts at `at`; `false` when the manifest cannot be read further.
    fn element(
        &mut self,
        src: &Source,
        at: usize,
        parent: &str,
        tag: &str,
        e: &BytesStart<'_>,
        diag: &mut Diagnostics,
    ) -> bool {
        match (parent, tag) {
            ("", "Manifest") => {
                self.root_seen = true;
                self.places.manifest = at;
            }
            ("", other) => {
                diag.error(
                    src,
                    at,
                    format!("the root element is <{other}>, not <Manifest>"),
                    "a package.manifest is <Manifest><Metadata>…</Metadata><Parameters>…</Parameters><Execution>…</Execution></Manifest>",
                );
                return false;
            }
            ("Metadata", "UUID") => self.places.uuid = Some(at),
            ("Metadata", "Name") => self.places.name = Some(at),
            ("Manifest", "Execution") => self.places.execution = Some(at),
            ("Execution", "Mode") => self.places.mode = Some(at),
            ("Execution", "Command") => self.places.command = Some(at),
            ("Parameters", "Parameter") => {
                if let Some(p) = parameter(src, at, e, diag) {
                    if !self.seen_vars.insert(p.variable.clone()) {
                        diag.error(
                            src,
                            at,
                            format!("the variable {} is declared twice", p.variable),
                            "give each parameter its own Variable",
                        );
                    }
                    self.parameters.push(p);
                }
            }
            ("Parameter", "Option") => {
                let a = attributes(src, at, e, diag);
                if let Some(p) = self.parameters.last_mut() {
                    let value = a.get("value").cloned().unwrap_or_default();
                    let label = a.get("name").cloned().unwrap_or_else(|| value.clone());
                    p.options.push((label, value));
                }
            }
            _ => {}
        }
        true
    }

    /// The text of an element that ends.
    fn value(&mut self, parent: &str, leaf: &str, value: String) {
        match (parent, leaf) {
            ("Metadata", "UUID") => self.uuid = value,
            ("Metadata", "Name") => self.name = value,
            ("Metadata", "Description") => self.description = value,
            ("Execution", "Mode") => self.mode = value,
            ("Execution", "Command") => self.command = value,
            ("Execution", "Persistent") => self.persistent = truthy(&value),
            ("Execution", "RebootOnSuccess") => self.reboot = truthy(&value),
            _ => {}
        }
    }
}

/// The package's identity: a UUID and a name the engine takes.
fn check_metadata(src: &Source, d: &Draft, diag: &mut Diagnostics) {
    let uuid_at = d.places.uuid.unwrap_or(d.places.manifest);
    let (message, hint) = if d.uuid.is_empty() {
        (
            "the package has no Metadata/UUID".to_string(),
            "add <UUID>…</UUID> to <Metadata> (a new random UUID; change it when the parameter list changes)",
        )
    } else {
        (
            format!("Metadata/UUID {:?} is not a UUID", d.uuid),
            "use the 8-4-4-4-12 hexadecimal form, e.g. from `uuidgen`",
        )
    };
    if !is_uuid(&d.uuid) {
        diag.error(src, uuid_at, message, hint);
    }
    let name_at = d.places.name.unwrap_or(d.places.manifest);
    let name = &d.name;
    let length = name.chars().count();
    if name.is_empty() {
        let hint = "add <Name>Install <Product> on Linux</Name> to <Metadata>";
        diag.error(src, name_at, "the package has no Metadata/Name", hint);
    } else if length > 100 {
        let message = format!("Metadata/Name is {length} characters long; the engine allows 100");
        diag.error(src, name_at, message, "shorten the name");
    } else if !naming_convention(name) {
        diag.warning(
            src,
            name_at,
            format!("the package name {name:?} does not follow the public naming convention"),
            "name it \"<Verb> <Name> on <Platform>\", e.g. \"Install Acme Status Page on Linux\"",
        );
    }
}

/// The execution mode and the command (with its script, when the files are known).
fn check_execution(
    src: &Source,
    d: &Draft,
    files: Option<&PackageFiles<'_>>,
    diag: &mut Diagnostics,
) -> Option<ExecutionMode> {
    let places = &d.places;
    let exec_at = places.mode.or(places.execution).unwrap_or(places.manifest);
    let mode = match d.mode.to_ascii_lowercase().as_str() {
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
    let command = &d.command;
    if command.is_empty() {
        diag.error(
            src,
            cmd_at,
            "the package has no Execution/Command",
            "add <Command>install.sh</Command>: the script the engine runs",
        );
    } else if mode == Some(ExecutionMode::Ssh)
        && let Some(files) = files
    {
        script_checks(src, cmd_at, command, files, diag);
    }
    // A `${Variable}` in the command must be one the manifest declares.
    for cap in VAR_REF.captures_iter(command) {
        let v = &cap[1];
        if !d.parameters.iter().any(|p| p.variable == v) && !SYSTEM_PARAMETERS.contains(&v) {
            diag.error(
                src,
                cmd_at,
                format!("the command uses ${{{v}}}, which the manifest does not declare"),
                "declare the parameter under <Parameters>, or fix the variable's name",
            );
        }
    }
    mode
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
    package: &PackageFiles<'_>,
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
    if !package.names.iter().any(|f| f == script) {
        diag.error(
            src,
            at,
            format!("the command runs {script}, which is not in the package"),
            "add the script at the package's root, or fix Execution/Command",
        );
        return;
    }
    if !interpreted
        && let Some(mode) = (package.mode_of)(script)
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
    if reserved_parameter(&variable) && !SYSTEM_PARAMETERS.contains(&variable.as_str()) {
        diag.error(
            src,
            at,
            format!(
                "parameter {variable} has a name the platform reserves; of the T3.* names, a manifest may declare only the system parameters ({})",
                SYSTEM_PARAMETERS.join(", ")
            ),
            "rename it (e.g. Product.Setting), or declare one of the system parameters with Prompt=\"None\"",
        );
        return None;
    }
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
        && let Err(err) = regex::Regex::new(&format!("^(?:{r})$"))
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
pub(crate) mod tests {
    use super::*;

    /// The bundle loader's example: positions are asserted against its lines.
    const BUNDLE_MANIFEST: &str = r#"<?xml version="1.0" encoding="utf-8"?>
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

    /// The emulated account's example.
    pub(crate) const MANIFEST: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<Manifest>
  <Metadata><UUID>4a1b6c2e-0000-4000-8000-00000000abcd</UUID>
    <Name>Install Web on Linux</Name><Description>Serves a page &amp; exits</Description></Metadata>
  <Parameters>
    <Parameter Name="Port" Hint="port" Type="Numeric" Variable="WEB_PORT" Prompt="Build" Default="8080" />
    <Parameter Name="Mode" Type="Option" Variable="MODE" Prompt="Build" Required="false">
      <Option Name="Fast" Value="fast" /><Option Name="Safe" Value="safe" />
    </Parameter>
    <Parameter Name="Owner" Type="String" Variable="OWNER" Prompt="Build" Regex="[a-z]+" />
    <Parameter Name="Server" Type="String" Variable="T3.Server.Name" Prompt="None" />
  </Parameters>
  <Execution><Mode>Ssh</Mode><Command>install.sh</Command>
    <Persistent>false</Persistent><RebootOnSuccess>false</RebootOnSuccess></Execution>
</Manifest>"#;

    fn parse(xml: &str, files: &[&str]) -> (Option<Manifest>, Vec<String>) {
        let src = Source::new("p/package.manifest".into(), xml.to_string());
        let mut d = Diagnostics::default();
        let names: Vec<String> = files.iter().map(|s| s.to_string()).collect();
        let files = PackageFiles {
            names: &names,
            mode_of: &|_| Some(0o755),
        };
        let m = parse_manifest(&src, Some(&files), &mut d);
        (m, d.problems.iter().map(|p| p.to_string()).collect())
    }

    #[test]
    fn parses_a_manifest() {
        let (m, problems) = parse(BUNDLE_MANIFEST, &["install.sh", "package.manifest"]);
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
        let xml = BUNDLE_MANIFEST
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
        let (m, _) = parse(BUNDLE_MANIFEST, &["install.sh"]);
        let m = m.unwrap();
        assert!(m.parameters[0].check_value("8081").is_ok());
        assert!(m.parameters[0].check_value("x").is_err());
        assert!(m.parameters[1].check_value("slow").is_err());
        assert!(
            m.parameters[1].check_value("Fast").is_err(),
            "options are exact"
        );
        assert!(m.parameters[2].check_value("bob").is_ok());
        assert!(m.parameters[2].check_value("bob1").is_err());
    }

    #[test]
    fn system_parameters_may_be_declared_with_prompt_false() {
        let xml = BUNDLE_MANIFEST.replace(
            "<Parameters>\n",
            "<Parameters>\n    <Parameter Name=\"User\" Type=\"String\" Variable=\"T3.Identity.User\" Prompt=\"false\" />\n",
        );
        let (m, problems) = parse(&xml, &["install.sh"]);
        assert!(problems.is_empty(), "{problems:?}");
        let m = m.unwrap();
        let user = m.parameter("T3.Identity.User").unwrap();
        assert_eq!(user.prompt, Prompt::None);
        assert!(user.is_system() && !user.needs_value());
        // The emulated account takes it too.
        assert!(Manifest::parse(&xml).is_ok());
    }

    #[test]
    fn other_t3_names_are_refused_at_their_line() {
        let xml = BUNDLE_MANIFEST.replace(
            "<Parameters>\n",
            "<Parameters>\n    <Parameter Name=\"Group\" Type=\"String\" Variable=\"T3.BuildServerTask.GroupID\" Prompt=\"None\" />\n",
        );
        let (_, problems) = parse(&xml, &["install.sh"]);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].starts_with("p/package.manifest:9:5: error: parameter T3.BuildServerTask.GroupID has a name the platform reserves"),
            "{problems:?}"
        );
        let err = Manifest::parse(&xml).unwrap_err().to_string();
        assert!(err.contains("line 9") && err.contains("reserves"), "{err}");
    }

    #[test]
    fn a_bad_regex_is_an_error_of_the_manifest_everywhere() {
        let xml = BUNDLE_MANIFEST.replace("Regex=\"[a-z]+\"", "Regex=\"([a-z]\"");
        let (_, problems) = parse(&xml, &["install.sh"]);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].starts_with("p/package.manifest:13:5: error: parameter Web.Owner has a Regex that does not compile"),
            "{problems:?}"
        );
        let err = Manifest::parse(&xml).unwrap_err().to_string();
        assert!(
            err.contains("line 13") && err.contains("does not compile"),
            "{err}"
        );
    }

    #[test]
    fn the_account_reads_the_same_manifest() {
        let m = Manifest::parse(MANIFEST).unwrap();
        assert_eq!(m.uuid, "4a1b6c2e-0000-4000-8000-00000000abcd");
        assert_eq!(m.description, "Serves a page & exits");
        assert_eq!(m.parameters.len(), 4);
        assert_eq!(m.parameters[1].options.len(), 2);
        assert!(!m.parameters[1].required);
        assert!(m.parameters[3].is_system());
        assert!(m.is_linux());
        assert_eq!(m.execution.command, "install.sh");
        // Without the package's files, the script is not looked for.
        assert!(Manifest::parse(&MANIFEST.replace("install.sh", "setup.sh")).is_ok());
        assert!(Manifest::parse("<Manifest/>").is_err());
    }

    #[test]
    fn validates_parameters() {
        let m = Manifest::parse(MANIFEST).unwrap();
        let given = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>()
        };
        let ok = m.resolve_parameters(&given(&[("OWNER", "bob")])).unwrap();
        assert_eq!(ok["WEB_PORT"], "8080");
        assert!(matches!(
            m.resolve_parameters(&given(&[])),
            Err(ParameterError::Missing { .. })
        ));
        assert!(matches!(
            m.resolve_parameters(&given(&[("OWNER", "Bob1")])),
            Err(ParameterError::Invalid { .. })
        ));
        assert!(matches!(
            m.resolve_parameters(&given(&[("OWNER", "bob"), ("WEB_PORT", "x")])),
            Err(ParameterError::WrongType { .. })
        ));
        assert!(matches!(
            m.resolve_parameters(&given(&[("OWNER", "bob"), ("MODE", "slow")])),
            Err(ParameterError::Invalid { .. })
        ));
    }
}
