//! Carries whatever the build script found.
#[unsafe(no_mangle)]
pub static FOUND: &str = env!("FOUND");
