//! The CenturyLink Cloud test account: an API client and an embedded emulator.
//!
//! Certification drives blueprint deployments against a candidate's test account, which
//! speaks the CLC API v2 plus the legacy v1 Blueprint API. This crate holds both sides of
//! that conversation:
//!
//! - [`Client`]: typed v2/v1 calls with token reuse, bounded retries of idempotent calls,
//!   lookups instead of blind repeats for creates, and polite queue polling; it talks to
//!   the real endpoint or to the emulator alike.
//! - [`emulator`]: an HTTP emulator of a test account (axum), faithful enough for the
//!   official Python SDK, with an account clock, billing at the real price list, a
//!   blueprint catalog, simulated or local package execution, fault injection and
//!   persistence.
//! - [`model`]: the wire types both share.
//!
//! Package manifests, blueprint definitions, parameter validation and the price list are
//! the Blueprint Engine's rules, in `certify-blueprint`, which both sides use.

#![warn(missing_docs)]

pub mod client;
pub mod emulator;
pub mod model;
mod secret;

pub use client::{
    Client, ClientBuilder, ClientError, Credentials, LoginInfo, Pending, PollPolicy, PowerOp,
    QueuedServer, RetryPolicy,
};
pub use secret::Secret;

pub(crate) fn emulator_b64url_decode(s: &str) -> Option<Vec<u8>> {
    emulator::auth_b64url_decode(s)
}
