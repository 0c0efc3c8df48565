use crate::declare_rule;
use crate::diagnostic::Fix;
use crate::model::keys::{self, ObjectSchema};
use crate::rules::{Context, Rule, Sink};
use crate::span::Span;
use crate::syntax::{Entry, NodeId, Shape, Tree};

use super::support::{objects, rename_key};

declare_rule! {
    /// ## What
    /// A key the platform has renamed or replaced:
    /// `x-omnistrate-integrations` (→ `x-customer-integrations`),
    /// `x-omnistrate-my-account` / `-byoa` / `-hosted` (→ `deployment` in
    /// `x-omnistrate-service-plan`), `x-omnistrate-action-hooks`
    /// (→ `x-omnistrate-actionhooks`), `endpointPerReplica`
    /// (→ `enableEndpointPerReplica`) and `replicaCountApiParam`
    /// (→ `replicaCountAPIParam`).
    ///
    /// ## Why
    /// Old spellings still appear in the docs' examples but the schema and
    /// `omnistrate-ctl` only know the new ones; a key the parser ignores
    /// silently turns a capability off.
    ///
    /// A rename is offered when the new key is not already set.
    /// `x-omnistrate-integrations` is rewritten to `x-customer-integrations`
    /// only when it lists nothing but `omnistrateLogging` (→ `logs`) and
    /// `omnistrateMetrics` (→ `metrics`); metering and custom metric
    /// configurations must be moved by hand.
    ///
    /// ## Example
    /// ```yaml
    /// x-omnistrate-capabilities:
    ///   endpointPerReplica: true   # enableEndpointPerReplica: true
    /// ```
    pub struct DeprecatedKey {
        code: "O002",
        name: "deprecated-key",
        severity: Warning,
        layer: Omnistrate,
        summary: "A deprecated Omnistrate key",
        help: "Use the current key instead.",
        fixable: true,
    }
}

const INTEGRATIONS: &str = "x-omnistrate-integrations";
const CUSTOMER_INTEGRATIONS: &str = "x-customer-integrations";
/// Replaced by `x-omnistrate-service-plan.deployment`: a move, not a rename.
const ACCOUNT_KEYS: [&str; 3] = [
    "x-omnistrate-my-account",
    "x-omnistrate-byoa",
    "x-omnistrate-hosted",
];

impl Rule for DeprecatedKey {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        let tree = ctx.tree;
        let Some(root) = ctx.spec.root else { return };
        check_object(ctx, &keys::ROOT, root, sink);
        for service in &ctx.spec.services {
            check_object(ctx, &keys::SERVICE, service.node, sink);
            // Not in the table: a spelling of the docs' prose the CLI aliases.
            if let Some(entry) = tree.get(service.node, "x-omnistrate-action-hooks") {
                rename(tree, service.node, entry, "x-omnistrate-actionhooks", sink);
            }
        }
        for object in objects(ctx) {
            check_object(ctx, object.schema, object.node, sink);
        }
    }
}

fn check_object(ctx: &Context, schema: &'static ObjectSchema, map: NodeId, sink: &mut Sink) {
    let tree = ctx.tree;
    for entry in tree.entries(map) {
        let Some(key) = tree.str(entry.key) else {
            continue;
        };
        let Some(by) = schema.field(key).and_then(|f| f.deprecated_by) else {
            continue;
        };
        if key == INTEGRATIONS {
            integrations(ctx, map, entry, sink);
        } else if ACCOUNT_KEYS.contains(&key) {
            sink.at(
                entry.key,
                format!("`{key}` is deprecated; use `deployment` in `{by}`"),
            )
            .help(format!(
                "Describe the account under `{by}.deployment` (`hostedDeployment` or `byoaDeployment`) and remove `{key}`."
            ));
        } else {
            rename(tree, map, entry, by, sink);
        }
    }
}

/// A plain rename, unless the new key is already there.
fn rename(tree: &Tree, map: NodeId, entry: Entry, to: &str, sink: &mut Sink) {
    let key = tree.str(entry.key).unwrap_or_default();
    if tree.get(map, to).is_some() {
        sink.at(
            entry.key,
            format!("`{key}` is deprecated and `{to}` is also set"),
        )
        .help(format!(
            "Remove `{key}`; `{to}` is the key the platform reads."
        ));
        return;
    }
    sink.at(entry.key, format!("`{key}` is deprecated; use `{to}`"))
        .help(format!(
            "Rename it to `{to}`, the spelling the schema and `omnistrate-ctl` know."
        ))
        .fix(rename_key(
            tree,
            entry.key,
            format!("Rename `{key}` to `{to}`"),
            to,
        ));
}

fn integrations(ctx: &Context, root: NodeId, entry: Entry, sink: &mut Sink) {
    let fix = integrations_fix(ctx, root, entry);
    let diagnostic = sink.at(
        entry.key,
        format!("`{INTEGRATIONS}` is deprecated; use `{CUSTOMER_INTEGRATIONS}`"),
    );
    match fix {
        Some(fix) => {
            diagnostic.help(format!(
                "Replace it with `{CUSTOMER_INTEGRATIONS}` and its `logs` / `metrics` entries."
            ));
            diagnostic.fix(fix);
        }
        None => {
            diagnostic.help(format!(
                "Move each integration to `{CUSTOMER_INTEGRATIONS}` (`logs`, `metrics`, `licensing`) by hand; metering and custom metric settings have no one-to-one equivalent."
            ));
        }
    }
}

/// Rewrite `x-omnistrate-integrations: [omnistrateLogging, omnistrateMetrics]`
/// (block or flow) to a block mapping under `x-customer-integrations`.
fn integrations_fix(ctx: &Context, root: NodeId, entry: Entry) -> Option<Fix> {
    let tree = ctx.tree;
    let text = ctx.text;
    if tree.get(root, CUSTOMER_INTEGRATIONS).is_some() {
        return None;
    }
    let value = entry.value;
    // An alias or anchor may be shared with other places: leave it alone.
    if tree.resolve(value) != value || tree.shape(value) != Shape::Sequence {
        return None;
    }
    let mut wanted: Vec<&str> = Vec::new();
    for item in tree.items(value) {
        if tree.shape(*item) != Shape::Scalar {
            return None;
        }
        let name = match tree.str(*item)? {
            "omnistrateLogging" => "logs",
            "omnistrateMetrics" => "metrics",
            _ => return None,
        };
        if !wanted.contains(&name) {
            wanted.push(name);
        }
    }
    let start = tree.span(entry.key).start;
    let end = tree.span(value).end.max(tree.span(entry.key).end);
    // Only the names, quotes and list punctuation may be replaced: a comment,
    // anchor or tag in between would be lost.
    let written = &text[tree.span(entry.key).end..end];
    let rest = written
        .replace("omnistrateLogging", "")
        .replace("omnistrateMetrics", "");
    if !rest
        .chars()
        .all(|c| c.is_whitespace() || matches!(c, '-' | ',' | '[' | ']' | ':' | '"' | '\''))
    {
        return None;
    }
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let indent = &text[line_start..start];
    if !indent.chars().all(|c| c == ' ') {
        return None;
    }
    let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let step = item_indent(text, tree, value, indent.len()).unwrap_or(2);
    let child = " ".repeat(indent.len() + step);
    let mut replacement = format!("{CUSTOMER_INTEGRATIONS}:");
    if wanted.is_empty() {
        replacement.push_str(" {}");
    }
    for name in wanted {
        replacement.push_str(&format!("{newline}{child}{name}: {{}}"));
    }
    Some(Fix {
        title: format!("Replace with `{CUSTOMER_INTEGRATIONS}`"),
        edits: vec![crate::diagnostic::TextEdit {
            span: Span::new(start, end),
            replacement,
        }],
    })
}

/// How far the block list's items are indented past the key, so the new
/// mapping follows the file's style.
fn item_indent(text: &str, tree: &Tree, seq: NodeId, key_column: usize) -> Option<usize> {
    let dash = tree.span(seq).start;
    let line_start = text[..dash].rfind('\n').map_or(0, |i| i + 1);
    let before = &text[line_start..dash];
    if !before.chars().all(|c| c == ' ') {
        return None;
    }
    before.len().checked_sub(key_column).filter(|d| *d > 0)
}
