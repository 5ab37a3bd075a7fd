//! Small building blocks shared by panels.

pub mod cut;
pub mod spark;
pub mod status_cell;
