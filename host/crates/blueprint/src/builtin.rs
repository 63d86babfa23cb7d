//! The packages every account has without publishing them: the system tasks
//! (`clc-api.md` §5.3) and the ubiquitous "Linux Update" script package. A blueprint may
//! use them, a bundle need not ship them, and the emulated account installs them so
//! blueprints exported from the real engine resolve their references.

use crate::manifest::{Execution, ExecutionMode, Manifest};

/// A package every account has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuiltinPackage {
    /// Its UUID, lower-case.
    pub uuid: &'static str,
    /// Its name.
    pub name: &'static str,
    /// A system task (the engine's own), rather than a script package.
    pub system: bool,
}

/// The UUID of the built-in "Linux Update" package, which the program's best practices
/// want in every Linux blueprint (new servers must be patched).
pub const LINUX_UPDATE: &str = "77ab3844-579d-4c8d-8955-c69a94a2ba1a";

/// Every built-in package.
pub const BUILTIN_PACKAGES: &[BuiltinPackage] = &[
    BuiltinPackage {
        uuid: "22460210-b682-4138-93fd-1a95c5e4e039",
        name: "Add Disk",
        system: true,
    },
    BuiltinPackage {
        uuid: "9a851f50-c676-4c11-b4c8-a0a7241c1060",
        name: "Add IP Address",
        system: true,
    },
    BuiltinPackage {
        uuid: "c000d327-3543-4d9e-ac43-e8fbce4620ab",
        name: "Add Mapped IP Address",
        system: true,
    },
    BuiltinPackage {
        uuid: "5b949945-6981-4a81-bbcc-4ddd3d394b8d",
        name: "Reboot Server",
        system: true,
    },
    BuiltinPackage {
        uuid: LINUX_UPDATE,
        name: "Linux Update",
        system: false,
    },
];

/// Whether `uuid` names a built-in package (case-insensitive, as the engine compares).
pub fn is_builtin(uuid: &str) -> bool {
    BUILTIN_PACKAGES
        .iter()
        .any(|p| p.uuid.eq_ignore_ascii_case(uuid.trim()))
}

impl BuiltinPackage {
    /// The v1 API's classification: 1 System, 2 Script.
    pub fn classification(&self) -> i32 {
        if self.system { 1 } else { 2 }
    }

    /// The manifest the account holds for it: no parameters, nothing to run.
    pub fn manifest(&self) -> Manifest {
        Manifest {
            uuid: self.uuid.to_string(),
            name: self.name.to_string(),
            description: format!("{} (built in)", self.name),
            parameters: Vec::new(),
            execution: Execution {
                mode: ExecutionMode::Ssh,
                command: "true".into(),
                persistent: false,
                reboot_on_success: false,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_system_tasks_and_linux_update_are_built_in() {
        assert!(is_builtin("77AB3844-579D-4C8D-8955-C69A94A2BA1A"));
        assert!(is_builtin(" 22460210-b682-4138-93fd-1a95c5e4e039"));
        assert!(!is_builtin("4a1b6c2e-0000-4000-8000-00000000abcd"));
        let update = BUILTIN_PACKAGES.iter().find(|p| p.uuid == LINUX_UPDATE);
        assert_eq!(update.unwrap().classification(), 2);
        assert_eq!(
            BUILTIN_PACKAGES[0].manifest().description,
            "Add Disk (built in)"
        );
    }
}
