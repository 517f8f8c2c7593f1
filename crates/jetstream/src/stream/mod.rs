//! Streams: their configuration, and (in later increments) their state machine over a store.

pub mod check;
pub mod config;
