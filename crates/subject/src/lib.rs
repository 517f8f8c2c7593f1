//! Natrium subject crate.
