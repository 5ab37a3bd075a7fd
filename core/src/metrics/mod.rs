//! Prometheus metrics: exposition parsing, signal extraction, counter rates and histogram quantiles.

pub mod exposition;
pub mod extract;
pub mod host;
pub mod quantile;
pub mod window;

pub use extract::{Counts, MetricNames, extract};
pub use window::{Window, window};
