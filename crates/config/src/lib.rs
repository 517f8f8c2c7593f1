//! Natrium config crate.
