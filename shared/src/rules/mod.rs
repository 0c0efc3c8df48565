//! The rule registry: one rule per file, grouped by layer, each with a stable code.
//!
//! Codes are stable forever: `Y` YAML, `C` compose, `O` Omnistrate, `T`
//! templates and links, `M` MySQL replication, `S` secrets hygiene, `I`
//! project settings and ignore comments. A retired
//! rule keeps its number unused.

pub mod compose;
pub mod config;
pub mod exposed;
pub mod mysql;
pub mod omnistrate;
pub mod runtime;
pub mod secrets;
pub mod templates;
pub mod yaml;

use serde::Serialize;

use crate::diagnostic::{Diagnostic, Fix, Related, Severity};
use crate::graph::Graph;
use crate::limits::{Admit, Limits, Overflow};
use crate::model::Spec;
use crate::span::Span;
use crate::syntax::{NodeId, Tree, YamlProblem};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Layer {
    Yaml,
    Compose,
    Omnistrate,
    Templates,
    Mysql,
    Secrets,
    /// Project settings and ignore comments.
    Config,
}

/// What a rule is, for the registry, `--list-rules`, SARIF and editor hovers.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct RuleMeta {
    pub code: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    pub layer: Layer,
    /// One line: what the rule reports; `""` without the `docs` feature
    /// (read it through [`crate::docs::summary`]).
    pub summary: &'static str,
    /// Default help shown under each diagnostic.
    pub help: &'static str,
    /// Whether the rule offers a mechanical fix.
    pub fixable: bool,
    /// The rule's doc comment (what / why / example), as Markdown; `""` in a
    /// build without the `docs` feature (read it through [`crate::docs::rule`]).
    pub docs: &'static str,
}

/// Everything a rule may look at. Rules run even when the YAML could not be
/// read; the tree and model are then empty.
pub struct Context<'a> {
    pub text: &'a str,
    pub tree: &'a Tree,
    pub spec: &'a Spec,
    pub graph: &'a Graph,
    pub yaml_problems: &'a [YamlProblem],
    /// Interpolation variables known to the caller.
    pub vars: &'a crate::interpolation::Vars,
    /// What the files named in `include` / `extends.file` define, when given.
    pub external: &'a crate::external::External,
    /// The nested compose objects with their tables, found once for the
    /// rules that walk them (C011, C023, C024).
    pub(crate) nested: std::cell::OnceCell<
        Vec<(
            &'static crate::model::keys::ObjectSchema,
            crate::syntax::NodeId,
        )>,
    >,
    /// Names already judged by [`crate::params::looks_like_password`]: specs
    /// repeat the same environment and label names in every service.
    pub(crate) secret_names: std::cell::RefCell<std::collections::HashMap<&'a str, bool>>,
    /// Indexes of the services that run a MySQL-compatible server.
    pub(crate) mysql_services: std::cell::OnceCell<Vec<usize>>,
}

impl<'a> Context<'a> {
    /// [`crate::params::looks_like_password`], remembered per name for this analysis.
    pub(crate) fn looks_like_password(&self, name: &'a str) -> bool {
        if let Some(known) = self.secret_names.borrow().get(name) {
            return *known;
        }
        let secret = crate::params::looks_like_password(name);
        self.secret_names.borrow_mut().insert(name, secret);
        secret
    }
}

impl Context<'_> {
    /// Whether a name may come from an `include`d file: `false` when there is
    /// no `include`, or every included file was given and none defines it.
    pub fn maybe_included(&self, kind: IncludedKind, name: &str) -> bool {
        if self.spec.include.is_none() {
            return false;
        }
        match &self.external.included {
            None => true,
            Some(included) => match kind {
                IncludedKind::Service => included.services.contains(name),
                IncludedKind::Network => included.networks.contains(name),
                IncludedKind::Volume => included.volumes.contains(name),
            },
        }
    }

    /// Whether the spec uses Omnistrate extensions at all (plain compose files
    /// run on one host; Omnistrate resources each get their own).
    pub fn is_omnistrate(&self) -> bool {
        let root_has = self.spec.root.is_some_and(|root| {
            self.tree.entries(root).iter().any(|e| {
                self.tree.str(e.key).is_some_and(|k| {
                    k.starts_with("x-omnistrate-")
                        || k.starts_with("x-customer-")
                        || k.starts_with("x-internal-")
                })
            })
        });
        root_has
            || self.spec.services.iter().any(|s| {
                self.tree.entries(s.node).iter().any(|e| {
                    self.tree
                        .str(e.key)
                        .is_some_and(|k| k.starts_with("x-omnistrate-"))
                })
            })
    }
}

/// What an `include`d file may define.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IncludedKind {
    Service,
    Network,
    Volume,
}

/// A rule's metadata; implemented by [`declare_rule!`].
pub trait Described {
    fn rule_meta(&self) -> &'static RuleMeta;
}

pub trait Rule: Described + Sync {
    fn check(&self, ctx: &Context, sink: &mut Sink);

    fn meta(&self) -> &'static RuleMeta {
        self.rule_meta()
    }
}

/// Collects one rule's diagnostics, stamping its code and severity.
pub struct Sink<'a> {
    meta: &'static RuleMeta,
    tree: &'a Tree,
    out: &'a mut Vec<Diagnostic>,
    /// Once `out` is full, diagnostics are only counted here.
    overflow: Option<&'a mut Overflow>,
}

impl<'a> Sink<'a> {
    pub fn new(meta: &'static RuleMeta, tree: &'a Tree, out: &'a mut Vec<Diagnostic>) -> Self {
        Sink {
            meta,
            tree,
            out,
            overflow: None,
        }
    }

    /// A sink that keeps diagnostics while `out` has room under the cap and
    /// counts the rest in `overflow`.
    pub fn capped(
        meta: &'static RuleMeta,
        tree: &'a Tree,
        out: &'a mut Vec<Diagnostic>,
        overflow: &'a mut Overflow,
    ) -> Self {
        Sink {
            meta,
            tree,
            out,
            overflow: Some(overflow),
        }
    }

    /// Report on a node: its value span (the text itself, inside quotes).
    pub fn at(&mut self, node: NodeId, message: impl Into<String>) -> &mut Diagnostic {
        let span = self.tree.value_span(node);
        self.at_span(span, Some(node), message)
    }

    /// Report on an exact span; `node` gives the JSON path.
    pub fn at_span(
        &mut self,
        span: Span,
        node: Option<NodeId>,
        message: impl Into<String>,
    ) -> &mut Diagnostic {
        let tree = self.tree;
        let path_of = |node: Option<NodeId>| node.map(|n| tree.path(n)).unwrap_or_default();
        let admit = match self.overflow.as_deref_mut() {
            Some(overflow) => overflow.admit(self.out, self.meta.code, span),
            None => Admit::Push,
        };
        if admit == Admit::LeaveOut {
            let overflow = self
                .overflow
                .as_deref_mut()
                .expect("only a capped sink leaves out");
            let path = overflow.is_first(span).then(|| path_of(node));
            let d = overflow.leave_out(self.meta.code, self.meta.severity, span, path);
            d.message = message.into();
            return d;
        }
        let diagnostic = Diagnostic {
            code: self.meta.code,
            severity: self.meta.severity,
            message: message.into(),
            help: (!self.meta.help.is_empty()).then(|| self.meta.help.to_owned()),
            span,
            path: path_of(node),
            fix: None,
            related: Vec::new(),
        };
        match (admit, self.overflow.as_deref_mut()) {
            (Admit::Replace(i), Some(overflow)) => {
                let old = std::mem::replace(&mut self.out[i], diagnostic);
                overflow.count(old.severity, old.span, Some(old.path));
                &mut self.out[i]
            }
            _ => {
                self.out.push(diagnostic);
                self.out.last_mut().expect("just pushed")
            }
        }
    }
}

/// Builder-style additions to a reported diagnostic.
impl Diagnostic {
    pub fn help(&mut self, help: impl Into<String>) -> &mut Self {
        self.help = Some(help.into());
        self
    }

    pub fn fix(&mut self, fix: Fix) -> &mut Self {
        self.fix = Some(fix);
        self
    }

    pub fn related(&mut self, span: Span, message: impl Into<String>) -> &mut Self {
        self.related.push(Related {
            span,
            message: message.into(),
        });
        self
    }

    pub fn severity(&mut self, severity: Severity) -> &mut Self {
        self.severity = severity;
        self
    }
}

/// Declare a rule struct with its metadata; the doc comment becomes its docs.
#[macro_export]
macro_rules! declare_rule {
    (
        $(#[doc = $doc:literal])*
        $vis:vis struct $name:ident {
            code: $code:literal,
            name: $rule_name:literal,
            severity: $severity:ident,
            layer: $layer:ident,
            summary: $summary:literal,
            help: $help:literal,
            fixable: $fixable:literal $(,)?
        }
    ) => {
        $(#[doc = $doc])*
        $vis struct $name;

        impl $name {
            pub const META: $crate::rules::RuleMeta = $crate::rules::RuleMeta {
                code: $code,
                name: $rule_name,
                severity: $crate::diagnostic::Severity::$severity,
                layer: $crate::rules::Layer::$layer,
                summary: $crate::docs::gate($summary),
                help: $help,
                fixable: $fixable,
                docs: $crate::docs::gate(concat!($($doc, "\n"),*)),
            };
        }

        impl $crate::rules::Described for $name {
            fn rule_meta(&self) -> &'static $crate::rules::RuleMeta {
                &Self::META
            }
        }
    };
}

/// Every rule, in code order within each layer.
pub fn all() -> impl Iterator<Item = &'static dyn Rule> {
    yaml::RULES
        .iter()
        .chain(compose::RULES)
        .chain(omnistrate::RULES)
        .chain(templates::RULES)
        .chain(mysql::RULES)
        .chain(secrets::RULES)
        .chain(config::RULES)
        .chain(runtime::RULES)
        .chain(exposed::RULES)
        .copied()
}

/// Look a rule up by code (`C003`) or name (`unknown-service-key`).
pub fn find(code_or_name: &str) -> Option<&'static dyn Rule> {
    all().find(|r| r.meta().code == code_or_name || r.meta().name == code_or_name)
}

/// The rule docs with the doc comment's leading spaces removed.
pub fn docs_markdown(meta: &RuleMeta) -> String {
    crate::docs::rule(meta)
        .lines()
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Run every rule.
pub fn run(ctx: &Context) -> Vec<Diagnostic> {
    run_limited(ctx, &Limits::NONE).0
}

/// Run every rule within `limits`: the diagnostics kept, what the cap left
/// out, and whether [`Limits::stop`] cut the run short (its error included).
pub fn run_limited(ctx: &Context, limits: &Limits) -> (Vec<Diagnostic>, Option<Overflow>) {
    let mut out = Vec::new();
    let mut overflow = limits
        .max_diagnostics
        .map(|max| Overflow::new(max).silencing(ctx.text));
    for rule in all() {
        if limits.stop.is_some_and(|stop| stop()) {
            out.push(crate::limits::stopped_before(rule.meta().code));
            break;
        }
        let mut sink = match overflow.as_mut() {
            Some(o) => Sink::capped(rule.meta(), ctx.tree, &mut out, o),
            None => Sink::new(rule.meta(), ctx.tree, &mut out),
        };
        rule.check(ctx, &mut sink);
    }
    sort_and_dedup(&mut out);
    if ctx.spec.extends_merged() {
        once_per_token(ctx, &mut out);
    }
    (out, overflow)
}

fn sort_and_dedup(out: &mut Vec<Diagnostic>) {
    out.sort_by(|a, b| (a.span.start, a.span.end, a.code).cmp(&(b.span.start, b.span.end, b.code)));
    out.dedup_by(|a, b| a.code == b.code && a.span == b.span && a.message == b.message);
}

/// With `extends` merged, a base's token is judged for the base and again
/// for each service that inherits it: keep one finding per rule and token,
/// the one that names the service where the token is written.
fn once_per_token(ctx: &Context, out: &mut Vec<Diagnostic>) {
    let mut kept: Vec<Diagnostic> = Vec::with_capacity(out.len());
    let mut group: Vec<Diagnostic> = Vec::new();
    let flush = |group: &mut Vec<Diagnostic>, kept: &mut Vec<Diagnostic>| {
        if group.len() > 1 {
            let span = group[0].span;
            let owner = ctx.spec.services.iter().find(|s| {
                let node = ctx.tree.span(ctx.tree.resolve(s.node));
                node.start <= span.start && span.end <= node.end
            });
            let best = owner
                .and_then(|s| {
                    let named = format!("`{}`", s.name.value);
                    group.iter().position(|d| d.message.contains(&named))
                })
                .unwrap_or(0);
            kept.push(group.swap_remove(best));
            group.clear();
        } else {
            kept.append(group);
        }
    };
    for d in out.drain(..) {
        if group
            .first()
            .is_some_and(|g| g.code != d.code || g.span != d.span)
        {
            flush(&mut group, &mut kept);
        }
        group.push(d);
    }
    flush(&mut group, &mut kept);
    *out = kept;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_names_are_unique_and_documented() {
        let rules: Vec<_> = all().collect();
        for (i, a) in rules.iter().enumerate() {
            let meta = a.meta();
            assert!(!meta.docs.trim().is_empty(), "{} has no docs", meta.code);
            assert!(
                meta.docs.contains("## What"),
                "{} docs lack `## What`",
                meta.code
            );
            assert!(
                meta.docs.contains("## Why"),
                "{} docs lack `## Why`",
                meta.code
            );
            assert!(
                meta.docs.contains("## Example"),
                "{} docs lack `## Example`",
                meta.code
            );
            for b in &rules[i + 1..] {
                assert_ne!(meta.code, b.meta().code);
                assert_ne!(meta.name, b.meta().name);
            }
        }
    }
}
