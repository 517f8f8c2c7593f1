//! Natrium proto crate.
