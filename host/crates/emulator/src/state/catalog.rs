//! The catalog store: the published packages (the built-in system packages among them),
//! the packages uploaded and waiting to be published, and the registered blueprints.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use certify_blueprint::{BlueprintDefinition, Manifest};
use certify_clc::model::PackageRef;

use super::{Refusal, ResolvedPackages};

/// A published package.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PackageRec {
    pub manifest: Manifest,
    /// 1 System, 2 Script, 3 Software.
    pub classification: i32,
    /// 1 Public, 2 Private, 3 Shared.
    pub visibility: i32,
    pub operating_systems: Vec<i32>,
    /// File under `<data>/packages/`, absent for built-in packages.
    pub file: Option<String>,
}

/// A package uploaded but not yet published.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PendingPackage {
    pub file_name: String,
    pub manifest: Manifest,
}

/// A registered blueprint.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct BlueprintRec {
    pub id: u32,
    pub definition: BlueprintDefinition,
    pub dc: String,
}

/// Packages and blueprints; blueprint ids start at 1000.
#[derive(Debug, Clone)]
pub(crate) struct Catalog {
    /// Published packages by lower-cased uuid.
    pub packages: BTreeMap<String, PackageRec>,
    /// Uploaded packages by file name.
    pub pending_packages: BTreeMap<String, PendingPackage>,
    pub blueprints: BTreeMap<u32, BlueprintRec>,
    pub(super) next_blueprint: u32,
}

impl Catalog {
    /// A catalog holding only the built-in packages.
    pub fn with_system_packages() -> Self {
        let mut catalog = Catalog {
            packages: BTreeMap::new(),
            pending_packages: BTreeMap::new(),
            blueprints: BTreeMap::new(),
            next_blueprint: 1000,
        };
        catalog.install_system_packages();
        catalog
    }

    fn install_system_packages(&mut self) {
        // System tasks (clc-api.md §5.3) and the ubiquitous "Linux Update" script package,
        // so blueprints exported from the real engine resolve their references.
        for builtin in certify_blueprint::BUILTIN_PACKAGES {
            self.packages.insert(
                builtin.uuid.to_string(),
                PackageRec {
                    manifest: builtin.manifest(),
                    classification: builtin.classification(),
                    visibility: 1,
                    operating_systems: Vec::new(),
                    file: None,
                },
            );
        }
    }

    /// Validates package references against the catalog and their manifests; returns the
    /// resolved parameters per package.
    pub fn check_packages(
        &self,
        packages: &[PackageRef],
        key: &str,
    ) -> Result<ResolvedPackages, Refusal> {
        let mut out = Vec::new();
        let mut errors = BTreeMap::new();
        for (i, p) in packages.iter().enumerate() {
            let id = p.package_id.to_ascii_lowercase();
            let field = format!("{key}[{i}]");
            match self.packages.get(&id) {
                None => {
                    errors.insert(
                        format!("{field}.packageId"),
                        vec![format!("The package '{}' does not exist.", p.package_id)],
                    );
                }
                Some(rec) => match rec.manifest.resolve_parameters(&p.parameters) {
                    Ok(params) => out.push((id, params)),
                    Err(e) => {
                        errors.insert(
                            format!("{field}.parameters.{}", e.variable()),
                            vec![e.to_string()],
                        );
                    }
                },
            }
        }
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(Refusal::Invalid(errors))
        }
    }

    /// Stores an uploaded package as pending (emulator-only upload; the real platform uses
    /// a browser upload or FTP).
    pub fn add_pending(&mut self, file_name: &str, manifest: Manifest) {
        self.pending_packages.insert(
            file_name.to_string(),
            PendingPackage {
                file_name: file_name.to_string(),
                manifest,
            },
        );
    }

    /// Registers a blueprint (emulator-only; the real platform uses the portal designer).
    pub fn register_blueprint(
        &mut self,
        def: BlueprintDefinition,
        dc: String,
    ) -> Result<u32, String> {
        for id in def.package_ids() {
            if !self.packages.contains_key(&id) {
                return Err(format!(
                    "The blueprint uses package {id}, which is not published."
                ));
            }
        }
        let id = self.next_blueprint;
        self.next_blueprint += 1;
        self.blueprints.insert(
            id,
            BlueprintRec {
                id,
                definition: def,
                dc,
            },
        );
        Ok(id)
    }
}
