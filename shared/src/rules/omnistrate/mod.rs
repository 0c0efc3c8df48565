//! Omnistrate rules: the `x-omnistrate-*` extensions, API parameters,
//! compute and capabilities (reference §1, §2).

mod support;

mod autoscaling_replica_bounds;
mod autoscaling_threshold_range;
mod default_value_mismatch;
mod deprecated_key;
mod duplicate_param_key;
mod field_not_for_type;
mod field_type;
mod instance_type_name_or_api_param;
mod limits_min_greater_than_max;
mod optional_param_without_default;
mod options_and_labeled_options;
mod param_key_pattern;
mod param_missing_field;
mod param_type_spelling;
mod passive_resource_workload;
mod replica_count_param_not_numeric;
mod resource_param_without_dependent_key;
mod serverless_target_port;
mod unknown_api_param_reference;
mod unknown_cloud_provider;
mod unknown_dependent_resource;
mod unknown_extension;
mod unknown_field;
mod unknown_load_balancer_resource;
mod unknown_param_type;

use super::Rule;

pub use autoscaling_replica_bounds::AutoscalingReplicaBounds;
pub use autoscaling_threshold_range::AutoscalingThresholdRange;
pub use default_value_mismatch::DefaultValueMismatch;
pub use deprecated_key::DeprecatedKey;
pub use duplicate_param_key::DuplicateApiParamKey;
pub use field_not_for_type::FieldNotForType;
pub use field_type::OmnistrateFieldType;
pub use instance_type_name_or_api_param::InstanceTypeNameOrApiParam;
pub use limits_min_greater_than_max::LimitsMinGreaterThanMax;
pub use optional_param_without_default::OptionalParamWithoutDefault;
pub use options_and_labeled_options::OptionsAndLabeledOptions;
pub use param_key_pattern::ApiParamKeyPattern;
pub use param_missing_field::ApiParamMissingField;
pub use param_type_spelling::ParamTypeSpelling;
pub use passive_resource_workload::PassiveResourceWorkload;
pub use replica_count_param_not_numeric::ReplicaCountParamNotNumeric;
pub use resource_param_without_dependent_key::ResourceParamWithoutDependentKey;
pub use serverless_target_port::ServerlessTargetPort;
pub use unknown_api_param_reference::UnknownApiParamReference;
pub use unknown_cloud_provider::UnknownCloudProvider;
pub use unknown_dependent_resource::UnknownDependentResource;
pub use unknown_extension::UnknownOmnistrateExtension;
pub use unknown_field::UnknownOmnistrateField;
pub use unknown_load_balancer_resource::UnknownLoadBalancerResource;
pub use unknown_param_type::UnknownParamType;

pub const RULES: &[&dyn Rule] = &[
    &UnknownOmnistrateExtension,
    &DeprecatedKey,
    &UnknownOmnistrateField,
    &OmnistrateFieldType,
    &ApiParamKeyPattern,
    &ApiParamMissingField,
    &DuplicateApiParamKey,
    &UnknownParamType,
    &ParamTypeSpelling,
    &OptionalParamWithoutDefault,
    &DefaultValueMismatch,
    &LimitsMinGreaterThanMax,
    &ResourceParamWithoutDependentKey,
    &UnknownDependentResource,
    &UnknownApiParamReference,
    &ReplicaCountParamNotNumeric,
    &UnknownCloudProvider,
    &InstanceTypeNameOrApiParam,
    &AutoscalingReplicaBounds,
    &AutoscalingThresholdRange,
    &ServerlessTargetPort,
    &OptionsAndLabeledOptions,
    &PassiveResourceWorkload,
    &FieldNotForType,
    &UnknownLoadBalancerResource,
];
