//! Template-reference and resource-link rules.

mod dependency_cycle;
mod reference_without_link;
mod support;
mod template_concatenation;
mod unclosed_template_braces;
mod unknown_parameter;
mod unknown_resource_parameter;
mod unknown_resource_reference;
mod unknown_system_parameter;

use super::Rule;

pub use dependency_cycle::DependencyCycle;
pub use reference_without_link::ReferenceWithoutLink;
pub use template_concatenation::TemplateConcatenation;
pub use unclosed_template_braces::UnclosedTemplateBraces;
pub use unknown_parameter::UnknownParameter;
pub use unknown_resource_parameter::UnknownResourceParameter;
pub use unknown_resource_reference::UnknownResourceReference;
pub use unknown_system_parameter::UnknownSystemParameter;

pub const RULES: &[&dyn Rule] = &[
    &UnknownResourceReference,
    &UnknownResourceParameter,
    &UnknownParameter,
    &UnknownSystemParameter,
    &TemplateConcatenation,
    &UnclosedTemplateBraces,
    &DependencyCycle,
    &ReferenceWithoutLink,
];
