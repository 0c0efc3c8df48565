//! Runtime rules: what the specstudio server can run on Docker (image
//! references, the applied/refused verdict of each compose key, the
//! server's own label namespace). Codes `C100`–`C129`.

mod invalid_image_reference;
mod refused_compose_key;
mod reserved_label;

use super::Rule;

pub use invalid_image_reference::InvalidImageReference;
pub use refused_compose_key::RefusedComposeKey;
pub use reserved_label::ReservedLabel;

pub const RULES: &[&dyn Rule] = &[&InvalidImageReference, &RefusedComposeKey, &ReservedLabel];
