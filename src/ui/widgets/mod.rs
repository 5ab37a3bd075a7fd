//! Small building blocks shared by panels.

pub mod spark;
pub mod status_cell;
