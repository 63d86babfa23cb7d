//! Integration tests of `certify-kb`: the real KB corpus, a sample public + internal pair
//! (and a broken copy of it), and the step runner.

mod acme;
mod corpus;
mod fuzz;
mod runner;

use std::path::PathBuf;

/// `shared/corpus/kb` of the steering repo, beside the workspace.
pub fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../../shared/corpus/kb")
}

/// `tests/data` of this crate.
pub fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}
