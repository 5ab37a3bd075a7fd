//! opsboard's core: everything from the config to the report, with no terminal in it.
//!
//! Layers, lowest first; a module imports only from its own layer or below:
//!
//! - `store` (where files live, logs and documents on disk), `format`, `redact`, `bindings`
//!   (the board's keys as data, which the config checks actions against);
//! - `config`, `metrics` (the Prometheus text format and windows);
//! - `state` (everything the board knows, changed only by events);
//! - `sources` (pollers that send events), `history`, `actions` (audit and runner), `notify`
//!   (what to tell whom, and when);
//! - `collector` (sources → events → one state), `report` (the state as `check --json`,
//!   `/api/state` and `/metrics` give it), `status_page` (the public page's content), `logging`.

pub mod actions;
pub mod bindings;
pub mod collector;
pub mod config;
pub mod format;
pub mod history;
pub mod logging;
pub mod metrics;
pub mod notify;
pub mod redact;
pub mod report;
pub mod sources;
pub mod state;
pub mod status_page;
pub mod store;

#[cfg(test)]
mod layers;
