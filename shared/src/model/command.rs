//! `command:` and `entrypoint:` in both compose forms (and, in `mod.rs`, the
//! integrations), for the rules and the server's planner, which can then read
//! the model instead of the raw tree.
//!
//! ```
//! use shared::model::Command;
//! let spec = "x-customer-integrations:\n  logs: {}\nservices:\n  web:\n    image: nginx\n    entrypoint: [\"/bin/sh\", \"-c\"]\n    command: nginx -g 'daemon off;'\n";
//! let analysis = shared::analyze(spec);
//! let web = analysis.spec.service("web").unwrap();
//! let Some(Command::Exec { args, .. }) = &web.entrypoint else { panic!() };
//! assert_eq!(args.iter().map(|a| a.value.as_str()).collect::<Vec<_>>(), ["/bin/sh", "-c"]);
//! assert_eq!(web.command.as_ref().unwrap().shell(), Some("nginx -g 'daemon off;'"));
//! // The integrations the planner asks about, in either spelling.
//! assert!(analysis.spec.integration_enabled("omnistrateLogging", "logs"));
//! assert!(!analysis.spec.integration_enabled("omnistrateMetrics", "metrics"));
//! ```

use super::Spanned;
use crate::syntax::{NodeId, Shape, Tree};

/// A `command:` or `entrypoint:` as written.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// The string form (`command: nginx -g 'daemon off;'`): compose splits it
    /// into words as a shell would, without running a shell.
    Shell(Spanned<String>),
    /// The list form (`command: ["nginx", "-g", "daemon off;"]`): each item
    /// is one argument; a null item reads as an empty one.
    Exec {
        node: NodeId,
        args: Vec<Spanned<String>>,
    },
}

impl Command {
    /// The string of the string form.
    pub fn shell(&self) -> Option<&str> {
        match self {
            Command::Shell(text) => Some(&text.value),
            Command::Exec { .. } => None,
        }
    }

    /// The arguments of the list form.
    pub fn exec_args(&self) -> Option<Vec<&str>> {
        match self {
            Command::Shell(_) => None,
            Command::Exec { args, .. } => Some(args.iter().map(|a| a.value.as_str()).collect()),
        }
    }

    /// The node the value was read from.
    pub fn node(&self) -> NodeId {
        match self {
            Command::Shell(text) => text.node,
            Command::Exec { node, .. } => *node,
        }
    }
}

/// Read `command:` / `entrypoint:`; `None` when absent, null, or of a shape
/// compose refuses (a mapping, a list holding a list or a mapping: the
/// wrong-shape rule reports those).
pub(super) fn read_command(tree: &Tree, node: NodeId) -> Option<Command> {
    match tree.shape(node) {
        Shape::Scalar => Some(Command::Shell(Spanned::new(
            tree.str(node)?.to_owned(),
            tree.value_span(node),
            node,
        ))),
        Shape::Sequence => {
            let args = tree
                .items(node)
                .iter()
                .map(|item| {
                    let text = match tree.shape(*item) {
                        Shape::Scalar => tree.str(*item)?,
                        Shape::Null => "",
                        _ => return None,
                    };
                    Some(Spanned::new(text.to_owned(), tree.value_span(*item), *item))
                })
                .collect::<Option<Vec<_>>>()?;
            Some(Command::Exec { node, args })
        }
        Shape::Null | Shape::Mapping => None,
    }
}
