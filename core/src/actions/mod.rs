//! Actions: rollbacks and other commands run against a service, with a typed confirmation,
//! one at a time per service, a timeout, streamed output and an audit log.

pub mod audit;
pub mod runner;
pub mod template;

use crate::config::schema::ActionConfig;
use indexmap::IndexMap;

/// The configured actions, found by key.
#[derive(Debug, Clone, Default)]
pub struct ActionSpecs {
    pub specs: IndexMap<String, ActionConfig>,
}

impl ActionSpecs {
    pub fn by_key(&self, key: char) -> Option<(&str, &ActionConfig)> {
        self.specs.iter().find(|(_, a)| a.key == key).map(|(n, a)| (n.as_str(), a))
    }
}
