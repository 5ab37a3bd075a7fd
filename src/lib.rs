//! opsboard: a terminal ops dashboard for fleets of web services.
//!
//! This crate holds the screens and the commands; `opsboard-core` holds everything they show,
//! re-exported here under the same names.

pub use opsboard_core::{
    actions, bindings, collector, config, format, history, logging, metrics, notify, redact, report, sources, state,
    status_page, store,
};

pub mod app;
pub mod attach;
pub mod check;
pub mod demo;
pub mod input;
pub mod keymap;
pub mod serve;
pub mod snapshot;
pub mod terminal;
pub mod ui;
