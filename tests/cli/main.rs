//! The integration tests: they drive the real `certify` binary, with plugins
//! built from source by `certify-fixtures`.

mod docs;
mod example;
mod hostile;
mod isolation;
mod new;
mod plan;
mod recipes;
mod report;
mod run;
mod sandbox;
mod signed;
mod support;
mod team;
