//! opsboard: a terminal ops dashboard for fleets of web services.

pub mod actions;
pub mod app;
pub mod bindings;
pub mod check;
pub mod collector;
pub mod config;
pub mod demo;
pub mod format;
pub mod history;
pub mod input;
pub mod keymap;
pub mod logging;
pub mod metrics;
pub mod notify;
pub mod redact;
pub mod serve;
pub mod snapshot;
pub mod sources;
pub mod state;
pub mod store;
pub mod terminal;
pub mod ui;
