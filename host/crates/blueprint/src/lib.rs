//! The Blueprint Engine's rules, in one place: what the harness checks before it deploys
//! a candidate's blueprint and what the emulated account enforces when it is deployed
//! are the same code, so the two cannot disagree.
//!
//! - [`manifest`]: `package.manifest` (`clc-api.md` §5.4), read with positions so a
//!   problem is reported at its file:line:column; [`Manifest::parse`] and
//!   [`Manifest::from_zip`] give the same reading as one error, as the engine answers.
//! - [`parameter`]: parameter types and prompts, the reserved `T3.*` names, and the one
//!   validator of a parameter's value ([`check_value`]).
//! - [`blueprint`]: the blueprint definition in the `bpformation` JSON shape (§5.3),
//!   read with positions; [`BlueprintDefinition`] is the same definition as the
//!   account stores it.
//! - [`builtin`]: the packages every account has without publishing them.
//! - [`package_zip`]: zipping a package directory (modes kept), reading a zip within caps.
//! - [`prices`]: the price list (§6) in [`certify_program::Money`].

#![warn(missing_docs)]

pub mod blueprint;
pub mod builtin;
mod definition;
pub mod json_pos;
pub mod manifest;
pub mod package_zip;
pub mod parameter;
pub mod prices;

pub use blueprint::{
    Blueprint, BlueprintServer, PackageRef, PackageTask, ServerTask, parse_blueprint,
};
pub use builtin::{BUILTIN_PACKAGES, BuiltinPackage, LINUX_UPDATE, is_builtin};
pub use definition::{BlueprintDefinition, BlueprintMetadata, BlueprintTask, value_to_string};
pub use manifest::{
    Execution, ExecutionMode, MAX_MANIFEST, Manifest, PackageFiles, is_uuid, parse_manifest,
};
pub use package_zip::{CatalogError, ZipListing, read_entry, unzip_into, zip_dir, zip_entries};
pub use parameter::{
    PackageParameter, ParameterError, ParameterType, Prompt, SYSTEM_PARAMETERS, ValueError,
    check_value, reserved_parameter, shell_name,
};
pub use prices::{PriceList, Resource, ServerSize, StorageType, billed_hours, os_is_licensed};
