//! Compose rules: the spec as a compose file (keys, shapes, names, references).

mod broken_extends;
mod broken_include;
mod depends_on_cycle;
mod duplicate_mount_target;
mod external_resource_conflict;
mod invalid_develop_watch;
mod invalid_device_request;
mod invalid_interpolation;
mod invalid_mount;
mod invalid_port;
mod invalid_service_name;
mod invalid_value;
mod missing_image;
mod nested;
mod network_mode_with_networks;
mod no_services;
mod non_string_key;
mod required_variable_unset;
mod root_not_mapping;
pub(crate) mod scan;
mod support;
mod undeclared_network;
mod undeclared_volume;
mod unknown_depends_on;
mod unknown_nested_key;
mod unknown_root_key;
mod unknown_service_key;
mod wrong_shape;

use super::Rule;

pub use broken_extends::BrokenExtends;
pub use broken_include::BrokenInclude;
pub use depends_on_cycle::DependsOnCycle;
pub use duplicate_mount_target::DuplicateMountTarget;
pub use external_resource_conflict::ExternalResourceConflict;
pub use invalid_develop_watch::InvalidDevelopWatch;
pub use invalid_device_request::InvalidDeviceRequest;
pub use invalid_interpolation::InvalidInterpolation;
pub use invalid_mount::InvalidMount;
pub use invalid_port::InvalidPort;
pub use invalid_service_name::InvalidServiceName;
pub use invalid_value::InvalidComposeValue;
pub use missing_image::MissingImage;
pub use network_mode_with_networks::NetworkModeWithNetworks;
pub use no_services::NoServices;
pub use non_string_key::NonStringKey;
pub use required_variable_unset::RequiredVariableUnset;
pub use root_not_mapping::RootNotMapping;
pub use undeclared_network::UndeclaredNetwork;
pub use undeclared_volume::UndeclaredVolume;
pub use unknown_depends_on::UnknownDependsOn;
pub use unknown_nested_key::UnknownNestedKey;
pub use unknown_root_key::UnknownRootKey;
pub use unknown_service_key::UnknownServiceKey;
pub use wrong_shape::WrongShape;

pub const RULES: &[&dyn Rule] = &[
    &UnknownRootKey,
    &UnknownServiceKey,
    &InvalidServiceName,
    &MissingImage,
    &InvalidPort,
    &UnknownDependsOn,
    &UndeclaredVolume,
    &UndeclaredNetwork,
    &DuplicateMountTarget,
    &DependsOnCycle,
    &WrongShape,
    &NoServices,
    &RootNotMapping,
    &InvalidInterpolation,
    &RequiredVariableUnset,
    &BrokenExtends,
    &BrokenInclude,
    &NetworkModeWithNetworks,
    &ExternalResourceConflict,
    &InvalidMount,
    &InvalidDevelopWatch,
    &InvalidDeviceRequest,
    &NonStringKey,
    &UnknownNestedKey,
    &InvalidComposeValue,
];
