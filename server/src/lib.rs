//! specstudio's server crate: the `specstudio` binary's subcommands.
//!
//! - `lint` and `graph` ([`cli`]) render what `shared` finds.
//! - `serve` ([`serve`]) runs the HTTP API ([`api`]) and provisions real Docker
//!   stacks: [`plan`] plans a desired stack from a spec and params,
//!   [`docker`] holds the engine trait and its Docker implementation,
//!   [`controller`] reconciles one toward the
//!   other, [`store`] keeps state in SQLite, [`mysql`] is the tiny client
//!   used for readiness and replication probes.
//! - `lsp` ([`lsp`]) is the language server: `shared::ide` over stdio.
//! - Around running containers: [`proxy`] owns the stable TCP endpoints
//!   (wake-on-connect, balancing, draining), the controller's serverless and
//!   autoscaling loops put deployments to sleep, wake them and scale them
//!   ([`autoscale`] decides), [`logs`] keeps container logs.

pub mod api;
pub mod autoscale;
pub mod cli;
pub mod controller;
pub mod docker;
pub mod forward;
pub mod http;
pub mod lint;
pub mod logs;
pub mod lsp;
pub mod mysql;
pub mod plan;
pub mod proxy;
pub mod redaction;
pub mod runtime_opts;
pub mod serve;
pub mod store;
pub mod swarm;
