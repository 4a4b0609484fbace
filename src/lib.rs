//! connect-blocklist: call blocking for Amazon Connect.
//!
//! The `bootstrap` Lambda and the `blocklist` CLI share everything here:
//! caller-ID normalization ([`phone`]), event parsing ([`event`]), the pure
//! block decision ([`decision`]), the answer map ([`answer`]), storage
//! ([`store`]) and the handler that ties them together ([`checker`]).

pub mod admin;
pub mod answer;
pub mod aws;
pub mod checker;
pub mod cli;
pub mod config;
pub mod decision;
pub mod embedded_flow;
pub mod entry;
pub mod entrypoint;
pub mod event;
pub mod flow;
pub mod logging;
pub mod metrics;
pub mod phone;
pub mod report;
pub mod rules;
pub mod snapshot;
pub mod store;
pub mod when;
pub mod wire;
