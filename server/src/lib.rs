//! specstudio's server crate: the `specstudio` binary's subcommands.
//!
//! - `lint` and `graph` ([`cli`]) render what `shared` finds.
//! - `serve` ([`serve`]) runs the HTTP API ([`api`]) and provisions real Docker
//!   stacks: [`deploy`] plans a desired stack from a spec and params,
//!   [`provision`] talks to Docker, [`controller`] reconciles one toward the
//!   other, [`store`] keeps state in SQLite, [`mysql`] is the tiny client
//!   used for readiness and replication probes.

pub mod api;
pub mod cli;
pub mod controller;
pub mod deploy;
pub mod mysql;
pub mod provision;
pub mod serve;
pub mod store;
