//! AWS sources: Auto Scaling groups and CloudWatch metrics, one task per account and region.
//! With the `aws` cargo feature (on by default) they talk to AWS through the SDK; a build without
//! it leaves the SDK out, and every account in the config says so on the board.

#[cfg(not(feature = "aws"))]
mod absent;
#[cfg(feature = "aws")]
mod sdk;
#[cfg(not(feature = "aws"))]
pub use absent::*;
#[cfg(feature = "aws")]
pub use sdk::*;

use crate::config::aws::CloudWatchQuery;
use crate::state::ServiceKey;

/// What an account, or a backup kept in S3 or RDS, shows in a build without AWS.
pub const NOT_BUILT: &str = "this opsboard was built without AWS support (cargo feature `aws`)";

/// The services whose signals this account's queries feed.
fn fed_services(queries: &[CloudWatchQuery]) -> Vec<ServiceKey> {
    let mut services: Vec<ServiceKey> =
        queries.iter().filter_map(|q| q.feeds.as_ref().map(|(s, _)| ServiceKey::from(s.as_str()))).collect();
    services.sort_unstable();
    services.dedup();
    services
}
