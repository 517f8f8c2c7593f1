//! Natrium store crate.
