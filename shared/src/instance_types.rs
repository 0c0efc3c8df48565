//! Instance types a deployment understands, and what each one means here.
//!
//! On one Docker host an instance type becomes a CPU and memory limit of the
//! container. The deploy form suggests and checks these names as the user
//! types; the server applies them: one table for both.

use crate::model::Service;

#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct InstanceType {
    pub name: &'static str,
    pub cloud: &'static str,
    pub vcpus: f64,
    pub memory_mib: u64,
}

const fn t(name: &'static str, cloud: &'static str, vcpus: f64, memory_mib: u64) -> InstanceType {
    InstanceType {
        name,
        cloud,
        vcpus,
        memory_mib,
    }
}

/// The known instance types (AWS and GCP general-purpose sizes).
pub const INSTANCE_TYPES: &[InstanceType] = &[
    t("t3.micro", "aws", 2.0, 1024),
    t("t3.small", "aws", 2.0, 2048),
    t("t3.medium", "aws", 2.0, 4096),
    t("t3.large", "aws", 2.0, 8192),
    t("t3.xlarge", "aws", 4.0, 16384),
    t("m5.large", "aws", 2.0, 8192),
    t("m5.xlarge", "aws", 4.0, 16384),
    t("r5.large", "aws", 2.0, 16384),
    t("e2-small", "gcp", 2.0, 2048),
    t("e2-medium", "gcp", 2.0, 4096),
    t("e2-standard-2", "gcp", 2.0, 8192),
    t("e2-standard-4", "gcp", 4.0, 16384),
    t("n2-standard-2", "gcp", 2.0, 8192),
    t("n2-standard-4", "gcp", 4.0, 16384),
];

pub fn lookup(name: &str) -> Option<&'static InstanceType> {
    INSTANCE_TYPES.iter().find(|t| t.name == name)
}

/// A known instance type, or a message naming the known ones.
pub fn check(name: &str) -> Result<&'static InstanceType, String> {
    lookup(name).ok_or_else(|| {
        let known: Vec<&str> = INSTANCE_TYPES.iter().map(|t| t.name).collect();
        let hint = crate::model::keys::did_you_mean(name, known.iter().copied())
            .map(|k| format!(" (did you mean `{k}`?)"))
            .unwrap_or_default();
        format!(
            "unknown instance type `{name}`{hint}; known: {}",
            known.join(", ")
        )
    })
}

/// Keys of the api-params of `service` that choose its instance type.
pub fn params_of(service: &Service) -> impl Iterator<Item = &str> {
    service
        .compute
        .iter()
        .flat_map(|c| c.instance_types.iter())
        .filter_map(|t| t.api_param.as_ref().map(|p| p.value.as_str()))
}

/// The instance types offered for `service`: those of the clouds its
/// `instanceTypes` list (all when it names none of ours, or `all`).
pub fn offered_for(service: &Service) -> Vec<&'static InstanceType> {
    let clouds: Vec<&str> = service
        .compute
        .iter()
        .flat_map(|c| c.instance_types.iter())
        .filter_map(|t| t.cloud_provider.as_ref().map(|c| c.value.as_str()))
        .collect();
    let filtered: Vec<&'static InstanceType> = INSTANCE_TYPES
        .iter()
        .filter(|t| clouds.contains(&t.cloud) || clouds.contains(&"all"))
        .collect();
    if filtered.is_empty() {
        INSTANCE_TYPES.iter().collect()
    } else {
        filtered
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issue_names_these_types() {
        for name in [
            "t3.small",
            "t3.medium",
            "t3.large",
            "m5.large",
            "e2-medium",
            "e2-standard-2",
            "n2-standard-2",
        ] {
            assert!(lookup(name).is_some(), "{name}");
        }
        let message = check("t3.smal").unwrap_err();
        assert!(message.contains("did you mean `t3.small`"), "{message}");
    }

    #[test]
    fn the_seed_offers_aws_and_gcp_types_for_its_params() {
        let seed = include_str!("../../examples/serverless-mysql-master-replica.yaml");
        let analysis = crate::analyze(seed);
        let master = analysis.spec.service("Master").unwrap();
        assert_eq!(
            params_of(master).collect::<Vec<_>>(),
            vec!["masterInstanceType", "masterInstanceType"]
        );
        assert_eq!(offered_for(master).len(), INSTANCE_TYPES.len());
    }
}
