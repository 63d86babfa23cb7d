//! The sample candidate plugin.
