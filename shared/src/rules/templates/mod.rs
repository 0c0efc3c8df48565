//! Template-reference and resource-link rules.

use super::Rule;

pub const RULES: &[&dyn Rule] = &[];
