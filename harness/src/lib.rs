//! What the tests and benchmarks put around the real `bootstrap` binary:
//! a local Lambda Runtime API that hands it events and collects its answers
//! ([`runtime_api`]), and a loopback proxy in front of the local DynamoDB
//! server that injects faults ([`fault_proxy`]); the Connect events the
//! tests, benchmarks and the programs in `src/bin` send ([`connect_event`]);
//! and percentiles ([`stats`]).

pub mod connect_event;
pub mod fault_proxy;
pub mod runtime_api;
pub mod stats;
