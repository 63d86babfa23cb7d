//! The integration tests: they drive the real `certify` binary, with plugins
//! built from source by `certify-fixtures`.

mod docs;
mod example;
mod hostile;
mod recipes;
mod report;
mod run;
mod sandbox;
mod support;
