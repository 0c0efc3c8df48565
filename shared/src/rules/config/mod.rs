//! Rules about the project's own settings (ignore comments).
//!
//! These findings are made by [`crate::config::apply`] after every other rule
//! has run (an ignore is unused only once all findings are known); the rule
//! here carries the registry entry, docs and default severity.

mod unused_ignore;

use super::Rule;

pub use unused_ignore::UnusedIgnore;

pub const RULES: &[&dyn Rule] = &[&UnusedIgnore];
