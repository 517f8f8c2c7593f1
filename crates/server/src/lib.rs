//! Natrium server crate.
