//! Secrets outside password-named variables (`S003`–`S005`): in command
//! flags, in URLs, in labels. Shared with the masking of stored specs.

mod credentials_in_url;
mod password_in_command;
mod secret_label;

use super::{Rule, Sink};
use crate::diagnostic::Fix;
use crate::model::Service;
use crate::span::Span;
use crate::syntax::{NodeId, Shape, Tree};

pub use credentials_in_url::CredentialsInUrl;
pub use password_in_command::PasswordInCommand;
pub use secret_label::SecretLabel;

pub const RULES: &[&dyn Rule] = &[&PasswordInCommand, &CredentialsInUrl, &SecretLabel];

/// The codes of these rules (masked in stored specs).
pub const CODES: &[&str] = &["S003", "S004", "S005"];

/// String scalars of a service key: the scalar itself, or a list's items.
pub(crate) fn strings_of(tree: &Tree, service: &Service, key: &str) -> Vec<NodeId> {
    let Some(n) = tree.get_value(service.node, key) else {
        return Vec::new();
    };
    match tree.shape(n) {
        Shape::Sequence => tree
            .items(n)
            .iter()
            .copied()
            .filter(|i| tree.str(*i).is_some())
            .collect(),
        Shape::Scalar => vec![n],
        _ => Vec::new(),
    }
}

/// Label (key node, value node) pairs of a service, map or `k=v` list form
/// (in list form both are the item).
/// A service's labels: (key, value node, where the value starts in a
/// `key=value` list item).
pub(crate) fn labels_of<'t>(
    tree: &'t Tree,
    service: &Service,
) -> Vec<(&'t str, NodeId, Option<usize>)> {
    let Some(n) = tree.get_value(service.node, "labels") else {
        return Vec::new();
    };
    match tree.shape(n) {
        Shape::Mapping => tree
            .entries(n)
            .into_iter()
            .filter_map(|e| Some((tree.str(e.key)?, e.value, None)))
            .collect(),
        Shape::Sequence => tree
            .items(n)
            .iter()
            .filter_map(|i| {
                let s = tree.str(*i)?;
                let (k, _) = s.split_once('=')?;
                Some((k, *i, Some(k.len() + 1)))
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Report a secret written in clear at `span` (`len` bytes of the value as
/// read). The fix replaces it with a secret api-param reference, offered only
/// when the span covers exactly those bytes (no escapes in between).
pub(crate) fn report_clear_secret(
    sink: &mut Sink,
    span: Span,
    len: usize,
    node: NodeId,
    message: String,
) {
    let exact = span.end - span.start == len;
    let d = sink.at_span(span, Some(node), message);
    if exact {
        d.fix(Fix::replace(
            "Reference a secret api-param instead",
            span,
            "$var.password",
        ));
    }
}
