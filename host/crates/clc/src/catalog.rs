//! Blueprint Engine artefacts: package manifests and zips (`clc-api.md` §5.4), blueprint
//! definitions in the `bpformation` JSON shape (§5.3), and the validation of package
//! parameters against a manifest.
//!
//! Shared by the emulator (which publishes, validates and runs them) and the client (which
//! zips a package directory before uploading it), and usable by the harness to check a
//! candidate's submission before anything is deployed.

use std::collections::BTreeMap;
use std::io::{Cursor, Read, Write};
use std::path::Path;

use quick_xml::events::{BytesStart, Event};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Why a package or blueprint could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The zip is unreadable.
    #[error("package is not a readable zip: {0}")]
    Zip(#[from] zip::result::ZipError),
    /// No `package.manifest` in the zip or directory.
    #[error("package has no package.manifest at its root")]
    NoManifest,
    /// The manifest is not well-formed or misses required parts.
    #[error("package.manifest is invalid: {0}")]
    Manifest(String),
    /// A blueprint definition that does not parse.
    #[error("blueprint definition is invalid: {0}")]
    Blueprint(String),
    /// File-system error while reading or extracting.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The error.
        source: std::io::Error,
    },
}

/// A parameter declared in a package manifest.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct ManifestParameter {
    /// Label.
    pub name: String,
    /// `String`, `Numeric`, `Option`, `MultiSelect`, `Password`, `Network`, `Server`, `ServerIP`.
    pub kind: String,
    /// Variable the value is passed as.
    pub variable: String,
    /// Hint.
    pub hint: String,
    /// Default value.
    pub default: Option<String>,
    /// `None`, `Build`, `Design` or `Global`.
    pub prompt: String,
    /// Global parameter.
    pub global: bool,
    /// Validation regex (String only).
    pub regex: Option<String>,
    /// Required (default true).
    pub required: bool,
    /// Options `(name, value)` for Option/MultiSelect.
    pub options: Vec<(String, String)>,
}

impl ManifestParameter {
    /// Whether this is one of the system parameters the engine fills in (`T3.*`, or any
    /// parameter with `Prompt="None"`).
    pub fn is_system(&self) -> bool {
        self.variable.starts_with("T3.") || self.prompt.eq_ignore_ascii_case("none")
    }
}

/// How a package runs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Execution {
    /// `Ssh` (Linux), `Command` or `PowerShell` (Windows).
    pub mode: String,
    /// Command line, with `${Variable}` substitution.
    pub command: String,
    /// Persistent.
    pub persistent: bool,
    /// Reboot after success.
    pub reboot_on_success: bool,
}

/// A parsed `package.manifest`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Manifest {
    /// Package UUID.
    pub uuid: String,
    /// Name (≤ 100 characters).
    pub name: String,
    /// Description.
    pub description: String,
    /// Parameters in declaration order.
    pub parameters: Vec<ManifestParameter>,
    /// Execution.
    pub execution: Execution,
}

impl Manifest {
    /// Parses manifest XML.
    pub fn parse(xml: &str) -> Result<Manifest, CatalogError> {
        let bad = |e: &dyn std::fmt::Display| CatalogError::Manifest(e.to_string());
        let mut reader = quick_xml::Reader::from_str(xml.trim_start_matches('\u{feff}'));
        reader.config_mut().trim_text(false);
        let mut m = Manifest::default();
        let mut path: Vec<String> = Vec::new();
        let mut text = String::new();
        loop {
            match reader.read_event().map_err(|e| bad(&e))? {
                Event::Start(e) => {
                    let name = tag_name(&e);
                    handle_element(&mut m, &path, &name, &e)?;
                    path.push(name);
                    text.clear();
                }
                Event::Empty(e) => {
                    let name = tag_name(&e);
                    handle_element(&mut m, &path, &name, &e)?;
                }
                Event::Text(t) => text.push_str(&t.decode().map_err(|e| bad(&e))?),
                Event::CData(t) => text.push_str(&t.decode().map_err(|e| bad(&e))?),
                Event::GeneralRef(r) => {
                    if let Ok(Some(c)) = r.resolve_char_ref() {
                        text.push(c);
                    } else {
                        let name = r.decode().map_err(|e| bad(&e))?;
                        text.push_str(match name.as_ref() {
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
                    let value = std::mem::take(&mut text).trim().to_string();
                    match (parent, leaf.as_str()) {
                        ("Metadata", "UUID") => m.uuid = value,
                        ("Metadata", "Name") => m.name = value,
                        ("Metadata", "Description") => m.description = value,
                        ("Execution", "Mode") => m.execution.mode = value,
                        ("Execution", "Command") => m.execution.command = value,
                        ("Execution", "Persistent") => m.execution.persistent = truthy(&value),
                        ("Execution", "RebootOnSuccess") => {
                            m.execution.reboot_on_success = truthy(&value)
                        }
                        _ => {}
                    }
                }
                Event::Eof => break,
                _ => {}
            }
        }
        if m.uuid.is_empty() {
            return Err(CatalogError::Manifest("Metadata/UUID is missing".into()));
        }
        if m.name.is_empty() {
            return Err(CatalogError::Manifest("Metadata/Name is missing".into()));
        }
        if m.name.chars().count() > 100 {
            return Err(CatalogError::Manifest(
                "Metadata/Name is longer than 100 characters".into(),
            ));
        }
        if m.execution.command.is_empty() {
            return Err(CatalogError::Manifest(
                "Execution/Command is missing".into(),
            ));
        }
        for p in &m.parameters {
            if let Some(r) = &p.regex {
                regex::Regex::new(r).map_err(|e| {
                    CatalogError::Manifest(format!("parameter {} has a bad Regex: {e}", p.variable))
                })?;
            }
        }
        Ok(m)
    }

    /// Reads the manifest of a package zip.
    pub fn from_zip(bytes: &[u8]) -> Result<Manifest, CatalogError> {
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes))?;
        let name = (0..archive.len())
            .filter_map(|i| archive.name_for_index(i).map(str::to_string))
            .find(|n| n == "package.manifest")
            .ok_or(CatalogError::NoManifest)?;
        // At most 256 KiB, whatever the entry's header declares: a manifest is small,
        // and a compressed one must not expand without bound.
        const MAX_MANIFEST: u64 = 256 * 1024;
        let mut xml = String::new();
        archive
            .by_name(&name)?
            .take(MAX_MANIFEST + 1)
            .read_to_string(&mut xml)
            .map_err(|source| CatalogError::Io {
                context: "reading package.manifest".into(),
                source,
            })?;
        if xml.len() as u64 > MAX_MANIFEST {
            return Err(CatalogError::Io {
                context: "reading package.manifest".into(),
                source: std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("it is larger than {MAX_MANIFEST} bytes"),
                ),
            });
        }
        Manifest::parse(&xml)
    }

    /// Whether the package is meant for Linux (`Ssh` mode).
    pub fn is_linux(&self) -> bool {
        self.execution.mode.eq_ignore_ascii_case("ssh")
    }

    /// Validates parameter values against the declarations, filling in defaults. Returns the
    /// effective values of every non-system parameter, by variable.
    pub fn resolve_parameters(
        &self,
        given: &BTreeMap<String, String>,
    ) -> Result<BTreeMap<String, String>, ParameterError> {
        let mut out = BTreeMap::new();
        for p in self.parameters.iter().filter(|p| !p.is_system()) {
            let value = given
                .get(&p.variable)
                .cloned()
                .or_else(|| p.default.clone())
                .unwrap_or_default();
            if value.is_empty() {
                if p.required {
                    return Err(ParameterError::Missing {
                        variable: p.variable.clone(),
                    });
                }
                out.insert(p.variable.clone(), value);
                continue;
            }
            check_value(p, &value)?;
            out.insert(p.variable.clone(), value);
        }
        Ok(out)
    }
}

fn truthy(s: &str) -> bool {
    s.eq_ignore_ascii_case("true") || s == "1"
}

fn tag_name(e: &BytesStart<'_>) -> String {
    String::from_utf8_lossy(e.local_name().as_ref()).into_owned()
}

fn attributes(e: &BytesStart<'_>) -> Result<BTreeMap<String, String>, CatalogError> {
    let mut out = BTreeMap::new();
    for a in e.attributes() {
        let a = a.map_err(|e| CatalogError::Manifest(e.to_string()))?;
        let key = String::from_utf8_lossy(a.key.local_name().as_ref()).to_ascii_lowercase();
        let value = a
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| CatalogError::Manifest(e.to_string()))?;
        out.insert(key, value.into_owned());
    }
    Ok(out)
}

fn handle_element(
    m: &mut Manifest,
    path: &[String],
    name: &str,
    e: &BytesStart<'_>,
) -> Result<(), CatalogError> {
    let parent = path.last().map(String::as_str).unwrap_or("");
    match (parent, name) {
        ("Parameters", "Parameter") => {
            let a = attributes(e)?;
            let get = |k: &str| a.get(k).cloned().unwrap_or_default();
            let variable = get("variable");
            if variable.is_empty() {
                return Err(CatalogError::Manifest(format!(
                    "parameter {:?} has no Variable",
                    get("name")
                )));
            }
            m.parameters.push(ManifestParameter {
                name: get("name"),
                kind: a.get("type").cloned().unwrap_or_else(|| "String".into()),
                variable,
                hint: get("hint"),
                default: a.get("default").cloned().filter(|d| !d.is_empty()),
                prompt: a.get("prompt").cloned().unwrap_or_else(|| "Build".into()),
                global: a.get("global").map(|v| truthy(v)).unwrap_or(false),
                regex: a.get("regex").cloned().filter(|r| !r.is_empty()),
                required: a.get("required").map(|v| truthy(v)).unwrap_or(true),
                options: Vec::new(),
            });
        }
        ("Parameter", "Option") => {
            let a = attributes(e)?;
            if let Some(p) = m.parameters.last_mut() {
                let value = a.get("value").cloned().unwrap_or_default();
                let label = a.get("name").cloned().unwrap_or_else(|| value.clone());
                p.options.push((label, value));
            }
        }
        _ => {}
    }
    Ok(())
}

/// A parameter value that the manifest does not accept.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum ParameterError {
    /// A required parameter has no value and no default.
    #[error("Parameter '{variable}' is required.")]
    Missing {
        /// Variable.
        variable: String,
    },
    /// The value does not match the parameter's type.
    #[error("Parameter '{variable}' must be of type {kind}.")]
    WrongType {
        /// Variable.
        variable: String,
        /// Declared type.
        kind: String,
    },
    /// The value does not match the regex or is not among the options.
    #[error("Parameter '{variable}' has an invalid value: {reason}")]
    Invalid {
        /// Variable.
        variable: String,
        /// Why.
        reason: String,
    },
}

impl ParameterError {
    /// The variable concerned.
    pub fn variable(&self) -> &str {
        match self {
            ParameterError::Missing { variable }
            | ParameterError::WrongType { variable, .. }
            | ParameterError::Invalid { variable, .. } => variable,
        }
    }

    /// The v1 Blueprint status code: 1210 missing, 1211 invalid value, 1212 invalid type.
    pub fn v1_status_code(&self) -> i32 {
        match self {
            ParameterError::Missing { .. } => 1210,
            ParameterError::Invalid { .. } => 1211,
            ParameterError::WrongType { .. } => 1212,
        }
    }
}

fn check_value(p: &ManifestParameter, value: &str) -> Result<(), ParameterError> {
    let invalid = |reason: String| ParameterError::Invalid {
        variable: p.variable.clone(),
        reason,
    };
    let wrong_type = || ParameterError::WrongType {
        variable: p.variable.clone(),
        kind: p.kind.clone(),
    };
    let known = |v: &str| p.options.is_empty() || p.options.iter().any(|(_, o)| o == v);
    match p.kind.to_ascii_lowercase().as_str() {
        "numeric" if value.trim().parse::<f64>().is_err() => return Err(wrong_type()),
        "option" if !known(value) => {
            return Err(invalid(format!("'{value}' is not one of the options")));
        }
        "multiselect" => {
            if let Some(item) = value.split(',').map(str::trim).find(|i| !known(i)) {
                return Err(invalid(format!("'{item}' is not one of the options")));
            }
        }
        "serverip" if value.parse::<std::net::Ipv4Addr>().is_err() => return Err(wrong_type()),
        _ => {}
    }
    if let Some(r) = &p.regex {
        // The engine checks the whole value, not a substring.
        let anchored = format!("^(?:{r})$");
        match regex::Regex::new(&anchored) {
            Ok(re) if re.is_match(value) => {}
            Ok(_) => return Err(invalid(format!("does not match {r}"))),
            Err(e) => return Err(invalid(format!("bad regex: {e}"))),
        }
    }
    Ok(())
}

/// Zips a package directory (which must hold `package.manifest`), keeping Unix modes so
/// scripts stay executable, as the Blueprint Engine requires.
pub fn zip_dir(dir: &Path) -> Result<Vec<u8>, CatalogError> {
    if !dir.join("package.manifest").is_file() {
        return Err(CatalogError::NoManifest);
    }
    let io = |context: String| move |source| CatalogError::Io { context, source };
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let mut stack = vec![dir.to_path_buf()];
    let mut files = Vec::new();
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).map_err(io(format!("reading {}", d.display())))? {
            let entry = entry.map_err(io(format!("reading {}", d.display())))?;
            let path = entry.path();
            // Never follow a link: a package must not ship what it points at.
            let kind = entry
                .file_type()
                .map_err(io(format!("reading {}", path.display())))?;
            if kind.is_dir() {
                stack.push(path);
            } else if kind.is_file() {
                files.push(path);
            } else {
                return Err(CatalogError::Io {
                    context: format!("zipping {}", path.display()),
                    source: std::io::Error::new(
                        std::io::ErrorKind::InvalidInput,
                        "not a regular file (links are never followed)",
                    ),
                });
            }
        }
    }
    files.sort();
    for path in files {
        let rel = path
            .strip_prefix(dir)
            .expect("walked under dir")
            .to_string_lossy()
            .replace('\\', "/");
        let meta =
            std::fs::symlink_metadata(&path).map_err(io(format!("reading {}", path.display())))?;
        #[cfg(unix)]
        let mode = std::os::unix::fs::PermissionsExt::mode(&meta.permissions());
        #[cfg(not(unix))]
        let mode = if meta.permissions().readonly() {
            0o444
        } else {
            0o644
        };
        let options = zip::write::SimpleFileOptions::default().unix_permissions(mode & 0o7777);
        writer.start_file(rel, options)?;
        let bytes = std::fs::read(&path).map_err(io(format!("reading {}", path.display())))?;
        writer
            .write_all(&bytes)
            .map_err(io(format!("zipping {}", path.display())))?;
    }
    Ok(writer.finish()?.into_inner())
}

/// Extracts a package zip into `dir`, keeping Unix modes.
pub fn unzip_into(bytes: &[u8], dir: &Path) -> Result<(), CatalogError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))?;
    archive.extract(dir)?;
    Ok(())
}

/// Blueprint metadata (`bpformation` shape).
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
pub struct BlueprintMetadata {
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Owner (author).
    #[serde(default)]
    pub owner: String,
    /// Version.
    #[serde(default, deserialize_with = "stringish")]
    pub version: String,
    /// `public`, `private` or `shared`.
    #[serde(default)]
    pub visibility: String,
    /// Description.
    #[serde(default)]
    pub description: String,
}

/// A task of a blueprint (`bpformation` shape): `server` with nested tasks, `package`,
/// `disk`, `add_ip`, `add_nat_ip`, `reboot`.
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
pub struct BlueprintTask {
    /// Task type.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// Server alias (server tasks) or package name (package tasks).
    #[serde(default)]
    pub name: String,
    /// vCPUs (server tasks).
    #[serde(default, deserialize_with = "stringish")]
    pub cpu: String,
    /// Memory in GB (server tasks).
    #[serde(default, deserialize_with = "stringish")]
    pub ram: String,
    /// Template name (server tasks).
    #[serde(default)]
    pub template: String,
    /// Package UUID (package tasks).
    #[serde(default)]
    pub uuid: String,
    /// Design-time parameter values (package tasks).
    #[serde(default)]
    pub properties: BTreeMap<String, Value>,
    /// Nested tasks (server tasks).
    #[serde(default)]
    pub tasks: Vec<BlueprintTask>,
    /// Disk size in GB (disk tasks).
    #[serde(default, deserialize_with = "stringish")]
    pub size: String,
    /// Open ports (add_nat_ip tasks), e.g. `"80, 443"` or `[80, 443]`.
    #[serde(default)]
    pub ingress_ports: Value,
}

/// A blueprint definition in the `bpformation` JSON shape (`clc-api.md` §5.3).
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
pub struct BlueprintDefinition {
    /// Metadata.
    #[serde(default)]
    pub metadata: BlueprintMetadata,
    /// Default values of deploy-time parameters, by variable.
    #[serde(default)]
    pub execute: BTreeMap<String, Value>,
    /// Tasks, in order.
    #[serde(default)]
    pub tasks: Vec<BlueprintTask>,
}

impl BlueprintDefinition {
    /// Parses and checks a definition.
    pub fn parse(json: &str) -> Result<BlueprintDefinition, CatalogError> {
        let def: BlueprintDefinition =
            serde_json::from_str(json).map_err(|e| CatalogError::Blueprint(e.to_string()))?;
        def.check()?;
        Ok(def)
    }

    /// Checks the structure: a name, and at least one server task with cpu, ram and template.
    pub fn check(&self) -> Result<(), CatalogError> {
        let bad = |m: String| Err(CatalogError::Blueprint(m));
        if self.metadata.name.trim().is_empty() {
            return bad("metadata.name is missing".into());
        }
        if !self.tasks.iter().any(|t| t.kind == "server") {
            return bad("the blueprint builds no server (no task of type \"server\")".into());
        }
        for t in self.tasks.iter().filter(|t| t.kind == "server") {
            if t.template.is_empty() {
                return bad(format!("server task {:?} has no template", t.name));
            }
            if t.cpu.parse::<u32>().is_err() || t.ram.parse::<u32>().is_err() {
                return bad(format!(
                    "server task {:?} needs numeric cpu and ram",
                    t.name
                ));
            }
        }
        Ok(())
    }

    /// Every package UUID the blueprint uses.
    pub fn package_ids(&self) -> Vec<String> {
        fn walk(tasks: &[BlueprintTask], out: &mut Vec<String>) {
            for t in tasks {
                if t.kind == "package" {
                    out.push(t.uuid.to_ascii_lowercase());
                }
                walk(&t.tasks, out);
            }
        }
        let mut out = Vec::new();
        walk(&self.tasks, &mut out);
        out
    }
}

fn stringish<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => s,
        Value::Null => String::new(),
        other => other.to_string(),
    })
}

/// Renders a JSON value as a parameter string.
pub fn value_to_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) const MANIFEST: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<Manifest>
  <Metadata>
    <UUID>4a1b6c2e-0000-4000-8000-00000000abcd</UUID>
    <Name>Install Web on Linux</Name>
    <Description>Serves a page &amp; exits</Description>
  </Metadata>
  <Parameters>
    <Parameter Name="Port" Hint="port" Type="Numeric" Variable="WEB_PORT" Prompt="Build" Default="8080" />
    <Parameter Name="Mode" Type="Option" Variable="MODE" Prompt="Build" Required="false">
      <Option Name="Fast" Value="fast" />
      <Option Name="Safe" Value="safe" />
    </Parameter>
    <Parameter Name="Owner" Type="String" Variable="OWNER" Prompt="Build" Regex="[a-z]+" />
    <Parameter Name="Server" Type="String" Variable="T3.Server.Name" Prompt="None" />
  </Parameters>
  <Execution>
    <Mode>Ssh</Mode>
    <Command>install.sh</Command>
    <Persistent>false</Persistent>
    <RebootOnSuccess>false</RebootOnSuccess>
  </Execution>
</Manifest>"#;

    #[test]
    fn parses_a_manifest() {
        let m = Manifest::parse(MANIFEST).unwrap();
        assert_eq!(m.uuid, "4a1b6c2e-0000-4000-8000-00000000abcd");
        assert_eq!(m.description, "Serves a page & exits");
        assert_eq!(m.parameters.len(), 4);
        assert_eq!(m.parameters[1].options.len(), 2);
        assert!(!m.parameters[1].required);
        assert!(m.parameters[3].is_system());
        assert!(m.is_linux());
        assert_eq!(m.execution.command, "install.sh");
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

    #[cfg(unix)]
    #[test]
    fn a_link_in_a_package_dir_is_refused_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let secret = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(secret.path(), "CANARY").unwrap();
        std::fs::write(dir.path().join("package.manifest"), MANIFEST).unwrap();
        std::os::unix::fs::symlink(secret.path(), dir.path().join("id_rsa")).unwrap();
        let err = zip_dir(dir.path()).unwrap_err().to_string();
        assert!(err.contains("id_rsa"), "{err}");
    }

    #[test]
    fn zips_and_reads_back_a_package_dir() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("package.manifest"), MANIFEST).unwrap();
        std::fs::write(dir.path().join("install.sh"), "#!/bin/sh\necho hi\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(
                dir.path().join("install.sh"),
                std::fs::Permissions::from_mode(0o755),
            )
            .unwrap();
        }
        let zip = zip_dir(dir.path()).unwrap();
        assert_eq!(
            Manifest::from_zip(&zip).unwrap().name,
            "Install Web on Linux"
        );
        let out = tempfile::tempdir().unwrap();
        unzip_into(&zip, out.path()).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(out.path().join("install.sh"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o111, 0o111);
        }
    }

    #[test]
    fn parses_a_bpformation_blueprint() {
        let json = r#"{"metadata":{"name":"Web","owner":"me","version":"1.0","visibility":"private","description":"d"},
            "execute":{},
            "tasks":[{"type":"server","name":"WEB","cpu":1,"ram":"2","template":"CENTOS-6-64-TEMPLATE",
                      "tasks":[{"type":"package","uuid":"4A1B6C2E-0000-4000-8000-00000000ABCD","name":"Install Web","properties":{"OWNER":"bob"}}]}]}"#;
        let bp = BlueprintDefinition::parse(json).unwrap();
        assert_eq!(bp.tasks[0].cpu, "1");
        assert_eq!(
            bp.package_ids(),
            vec!["4a1b6c2e-0000-4000-8000-00000000abcd".to_string()]
        );
        assert!(BlueprintDefinition::parse(r#"{"metadata":{"name":"x"},"tasks":[]}"#).is_err());
    }
}
