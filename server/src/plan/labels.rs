//! Docker labels on every object of a deployment (how the server finds its own).

#[allow(unused_imports)]
use super::*;

pub const LABEL_MANAGED_BY: &str = "org.specstudio.managed-by";
pub const LABEL_DEPLOYMENT: &str = "org.specstudio.deployment";
pub const LABEL_RESOURCE: &str = "org.specstudio.resource";
pub const LABEL_REPLICA: &str = "org.specstudio.replica";
pub const LABEL_CONFIG: &str = "org.specstudio.config-hash";
/// The (simulated) zone of a replica of an `enableMultiZone` service.
pub const LABEL_ZONE: &str = "org.specstudio.zone";
/// Which server (data dir) owns an object: orphan clean-up only touches its own.
pub const LABEL_INSTANCE: &str = "org.specstudio.instance";
pub const MANAGED_BY: &str = "specstudio";

pub fn base_labels(deployment: &str) -> BTreeMap<String, String> {
    let mut l = BTreeMap::new();
    l.insert(LABEL_MANAGED_BY.into(), MANAGED_BY.into());
    l.insert(LABEL_DEPLOYMENT.into(), deployment.into());
    l
}
