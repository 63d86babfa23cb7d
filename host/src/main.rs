//! The `certify` command. Parsing, running and exit codes live in the library.

use clap::Parser as _;

fn main() -> std::process::ExitCode {
    certify::main(certify::cli::Cli::parse())
}
