//! SKELETON — the simulated coordination service shared by the ZooKeeper and etcd recipes.

use crate::scenario::FieldError;

/// The `[service]` table as written.
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawService {}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ServiceConfig {}

impl RawService {
    pub fn validate(&self) -> Result<ServiceConfig, FieldError> {
        Ok(ServiceConfig {})
    }
}
