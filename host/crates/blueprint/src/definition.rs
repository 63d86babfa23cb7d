//! A blueprint definition as the emulated account stores and deploys it: the
//! `bpformation` JSON shape (`clc-api.md` §5.3) kept close to the wire, with values as
//! JSON. It is checked by the same reading as a bundle's blueprint
//! ([`crate::parse_blueprint`]), so the account refuses what the bundle loader refuses.

use std::collections::BTreeMap;
use std::path::PathBuf;

use certify_diag::{Diagnostics, Source};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::package_zip::CatalogError;

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
    /// Parses and checks a definition; the first error is the answer.
    pub fn parse(json: &str) -> Result<BlueprintDefinition, CatalogError> {
        let src = Source::new(PathBuf::from("blueprint.json"), json.to_string());
        let mut diag = Diagnostics::default();
        let checked = crate::parse_blueprint(&src, src.file.clone(), &mut diag);
        if let Some(p) = diag.first_error() {
            return Err(CatalogError::Blueprint(format!(
                "line {}: {}",
                p.line, p.message
            )));
        }
        if checked.is_none() {
            return Err(CatalogError::Blueprint("it cannot be read".into()));
        }
        serde_json::from_str(json).map_err(|e| CatalogError::Blueprint(e.to_string()))
    }

    /// Every package UUID the blueprint uses, lower-case.
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
    Ok(value_to_string(&Value::deserialize(d)?))
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
mod tests {
    use super::*;

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

    #[test]
    fn the_account_refuses_what_the_bundle_loader_refuses() {
        let err = BlueprintDefinition::parse(
            "{\"metadata\":{\"name\":\"Web\",\"version\":\"1\"},\n\"tasks\":[{\"type\":\"server\",\"name\":\"WEBSERVER\",\"cpu\":\"1\",\"ram\":\"2\",\"template\":\"T\"}]}",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("line 2") && err.contains("WEBSERVER"), "{err}");
    }
}
