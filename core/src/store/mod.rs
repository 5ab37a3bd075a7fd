//! Everything the board keeps on disk, written one way: append-only logs (the audit trail,
//! deploy history), whole documents (silences), and one embedded database for error budgets'
//! counts (`budgets`). Nothing else in the crate opens a file to
//! write; a crash at any point leaves each file either as it was or with its new content, and a
//! torn line at most, which reading skips.

pub mod budgets;
mod dir;
pub mod document;
pub mod log;
pub mod print;

pub use dir::{data_dir, override_data_dir};
