//! Natrium sublist crate.
