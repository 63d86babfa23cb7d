//! The CenturyLink Cloud test account's API: a client and the wire types.
//!
//! Certification drives blueprint deployments against a candidate's test account, which
//! speaks the CLC API v2 plus the legacy v1 Blueprint API. This crate holds the client's
//! side of that conversation and what both sides share; the emulator of a test account
//! (`certify-emulator`) builds on it:
//!
//! - [`Client`]: typed v2/v1 calls with token reuse, bounded retries of idempotent calls,
//!   lookups instead of blind repeats for creates, and polite queue polling; it talks to
//!   the real endpoint or to the emulator alike.
//! - [`model`]: the wire types both sides share; [`codec`]: the small encodings both
//!   sides use.
//!
//! Package manifests, blueprint definitions, parameter validation and the price list are
//! the Blueprint Engine's rules, in `certify-blueprint`, which both sides use.

#![warn(missing_docs)]

pub mod client;
pub mod codec;
pub mod model;
mod secret;

pub use client::{
    Client, ClientBuilder, ClientError, Credentials, LoginInfo, Pending, PollPolicy, PowerOp,
    QueuedServer, RetryPolicy,
};
pub use secret::Secret;
