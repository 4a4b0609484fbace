//! connect-blocklist: call blocking for Amazon Connect.
//!
//! The `bootstrap` Lambda, the `report` Lambda and the `blocklist` CLI share
//! everything here. The read path, per call: [`event`] finds the caller ID,
//! [`phone`] normalizes it, [`checker`] looks it up through a
//! [`store::BlocklistStore`] within one deadline (rules from [`snapshot`],
//! indexed by [`rules`]), [`decision`] decides as a pure function, and
//! [`answer`] is the flat map Connect gets. The write side: [`admin`] reads,
//! plans ([`admin::plan`], pure) and writes each change with its audit record
//! through an [`admin::store::AdminStore`]; [`cli`] is its command line.
//!
//! - [`admin`]: admin operations, their storage seam, import/export, publishing, reports
//! - [`answer`]: the answer map and its wire values
//! - [`aws`]: the DynamoDB client
//! - [`checker`]: the Lambda's handler
//! - [`cli`]: the `blocklist` command line (dispatch, arguments, output)
//! - [`config`]: settings from the environment
//! - [`console`]: `blocklist serve`, the local supervisor console
//! - [`decision`]: the pure block decision and the policy
//! - [`embedded_flow`]: the no-Lambda flow of `render-flow`
//! - [`entry`]: entries, their kinds and tables
//! - [`entrypoint`]: init, the Runtime API loop and `--event` files for the function binaries
//! - [`event`]: the Connect event, tolerantly read
//! - [`flow`]: the flow-language validator
//! - [`identity`]: the caller's AWS identity, for the audit trail
//! - [`json_repair`]: valid JSON that serde_json refuses, made readable
//! - [`limits`]: how much text an entry may hold, and item sizes as DynamoDB counts them
//! - [`logging`]: JSON logs
//! - [`metrics`]: EMF metrics lines
//! - [`phone`]: caller-ID normalization and masking
//! - [`report`]: the report function's handler
//! - [`rules`]: prefix rules and allow entries, indexed
//! - [`snapshot`]: the published rules' format
//! - [`store`]: the Lambda's storage seam, DynamoDB and in-memory stores, the item format
//! - [`when`]: times and expiry specs
//! - [`wire`]: enum ↔ wire-string names

pub mod admin;
pub mod answer;
pub mod aws;
pub mod checker;
pub mod cli;
pub mod config;
pub mod console;
pub mod decision;
pub mod embedded_flow;
pub mod entry;
pub mod entrypoint;
pub mod event;
pub mod flow;
pub mod identity;
pub mod json_repair;
pub mod limits;
pub mod logging;
pub mod metrics;
pub mod phone;
pub mod report;
pub mod rules;
pub mod snapshot;
pub mod store;
pub mod when;
pub mod wire;
