//! Compose fields with more than one syntax: environment, volumes, depends_on.

use super::{Problem, Spanned};
use crate::syntax::{NodeId, ScalarValue, Shape, Tree};

/// One environment variable, from `- NAME=value` or `NAME: value`.
#[derive(Clone, Debug)]
pub struct EnvVar {
    pub name: Spanned<String>,
    pub value: Option<EnvValue>,
    /// The list item or the map key.
    pub node: NodeId,
}

#[derive(Clone, Debug)]
pub struct EnvValue {
    pub value: String,
    /// The scalar holding the value.
    pub node: NodeId,
    /// Where the value starts inside that scalar's text (after `NAME=`).
    pub offset: usize,
    pub span: crate::span::Span,
    /// The value after compose interpolation, when it holds `$…` and every
    /// variable it needs is known (`--env-file`, `.env`, `--env`).
    pub interpolated: Option<String>,
}

pub(super) fn read_environment(
    tree: &Tree,
    node: NodeId,
    problems: &mut Vec<Problem>,
) -> Vec<EnvVar> {
    let mut vars = Vec::new();
    match tree.shape(node) {
        Shape::Sequence => {
            for item in tree.items(node) {
                let Some(text) = tree
                    .str(*item)
                    .filter(|_| tree.shape(*item) == Shape::Scalar)
                else {
                    problems.push(Problem {
                        span: tree.span(*item),
                        node: *item,
                        message: "an `environment` list item must be a `NAME=value` string".into(),
                    });
                    continue;
                };
                let (name, value) = match text.split_once('=') {
                    Some((name, value)) => (name, Some(value)),
                    None => (text, None),
                };
                vars.push(EnvVar {
                    name: Spanned::new(name.to_owned(), tree.sub_span(*item, 0, name.len()), *item),
                    value: value.map(|value| EnvValue {
                        value: value.to_owned(),
                        node: *item,
                        offset: name.len() + 1,
                        span: tree.sub_span(*item, name.len() + 1, text.len()),
                        interpolated: None,
                    }),
                    node: *item,
                });
            }
        }
        Shape::Mapping => {
            for entry in tree.entries(node) {
                let Some(name) = tree.str(entry.key) else {
                    continue;
                };
                let value = match tree.value(entry.value) {
                    Some(ScalarValue::Null) | None => None,
                    Some(_) => tree.str(entry.value).map(|text| EnvValue {
                        value: text.to_owned(),
                        node: entry.value,
                        offset: 0,
                        span: tree.value_span(entry.value),
                        interpolated: None,
                    }),
                };
                if tree.shape(entry.value) == Shape::Mapping
                    || tree.shape(entry.value) == Shape::Sequence
                {
                    problems.push(Problem {
                        span: tree.span(entry.value),
                        node: entry.value,
                        message: format!("environment variable `{name}` must be a string, number, boolean or null"),
                    });
                }
                vars.push(EnvVar {
                    name: Spanned::new(name.to_owned(), tree.value_span(entry.key), entry.key),
                    value,
                    node: entry.key,
                });
            }
        }
        Shape::Null => {}
        Shape::Scalar => problems.push(Problem {
            span: tree.span(node),
            node,
            message: "`environment` must be a list of `NAME=value` or a mapping".into(),
        }),
    }
    vars
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MountKind {
    /// A host path (`./data`, `/srv/x`, `~/x`).
    Bind,
    /// A named volume.
    Volume,
    /// Only a target: an anonymous volume.
    Anonymous,
    Tmpfs,
    Other,
}

/// One entry of a service's `volumes:`.
#[derive(Clone, Debug)]
pub struct Mount {
    pub node: NodeId,
    pub kind: MountKind,
    pub source: Option<Spanned<String>>,
    pub target: Option<Spanned<String>>,
    pub read_only: bool,
}

fn is_host_path(source: &str) -> bool {
    source.starts_with(['.', '/', '~']) || source.chars().nth(1) == Some(':')
}

pub(super) fn read_mounts(tree: &Tree, node: NodeId, problems: &mut Vec<Problem>) -> Vec<Mount> {
    let mut mounts = Vec::new();
    if tree.shape(node) == Shape::Null {
        return mounts;
    }
    if tree.shape(node) != Shape::Sequence {
        problems.push(Problem {
            span: tree.span(node),
            node,
            message: "`volumes` must be a list".into(),
        });
        return mounts;
    }
    for item in tree.items(node) {
        let item = *item;
        match tree.shape(item) {
            Shape::Scalar => {
                let text = tree.str(item).unwrap_or_default();
                let parts: Vec<&str> = text.split(':').collect();
                let mut offset = 0;
                let mut spans = Vec::new();
                for part in &parts {
                    spans.push(Spanned::new(
                        (*part).to_owned(),
                        tree.sub_span(item, offset, offset + part.len()),
                        item,
                    ));
                    offset += part.len() + 1;
                }
                let (source, target, mode) = match parts.len() {
                    1 => (None, Some(spans.remove(0)), None),
                    2 => {
                        let target = spans.remove(1);
                        (Some(spans.remove(0)), Some(target), None)
                    }
                    3 => {
                        let mode = spans.remove(2);
                        let target = spans.remove(1);
                        (Some(spans.remove(0)), Some(target), Some(mode))
                    }
                    _ => {
                        problems.push(Problem {
                            span: tree.value_span(item),
                            node: item,
                            message: format!("`{text}` is not `[SOURCE:]TARGET[:MODE]`"),
                        });
                        continue;
                    }
                };
                let kind = match &source {
                    None => MountKind::Anonymous,
                    Some(s) if is_host_path(&s.value) => MountKind::Bind,
                    Some(_) => MountKind::Volume,
                };
                let read_only = mode
                    .as_ref()
                    .is_some_and(|m| m.value.split(',').any(|f| f == "ro"));
                mounts.push(Mount {
                    node: item,
                    kind,
                    source,
                    target,
                    read_only,
                });
            }
            Shape::Mapping => {
                let kind = match tree.get_value(item, "type").and_then(|t| tree.str(t)) {
                    Some("bind") => MountKind::Bind,
                    Some("volume") | None => MountKind::Volume,
                    Some("tmpfs") => MountKind::Tmpfs,
                    Some(_) => MountKind::Other,
                };
                let source = super::read_string(tree, item, "source");
                let kind = if kind == MountKind::Volume && source.is_none() {
                    MountKind::Anonymous
                } else {
                    kind
                };
                mounts.push(Mount {
                    node: item,
                    kind,
                    source,
                    target: super::read_string(tree, item, "target"),
                    read_only: super::read_bool(tree, item, "read_only").is_some_and(|b| b.value),
                });
            }
            _ => problems.push(Problem {
                span: tree.span(item),
                node: item,
                message: "a volume must be a `SOURCE:TARGET` string or a mapping".into(),
            }),
        }
    }
    mounts
}

/// One `depends_on` entry.
#[derive(Clone, Debug)]
pub struct DependsOn {
    pub service: Spanned<String>,
    /// `condition:` of the long syntax.
    pub condition: Option<Spanned<String>>,
}

pub(super) fn read_depends_on(
    tree: &Tree,
    node: NodeId,
    problems: &mut Vec<Problem>,
) -> Vec<DependsOn> {
    match tree.shape(node) {
        Shape::Sequence => super::string_items(tree, node)
            .into_iter()
            .map(|service| DependsOn {
                service,
                condition: None,
            })
            .collect(),
        Shape::Mapping => tree
            .entries(node)
            .into_iter()
            .filter_map(|e| {
                let name = tree.str(e.key)?;
                Some(DependsOn {
                    service: Spanned::new(name.to_owned(), tree.value_span(e.key), e.key),
                    condition: super::read_string(tree, e.value, "condition"),
                })
            })
            .collect(),
        Shape::Null => Vec::new(),
        Shape::Scalar => {
            problems.push(Problem {
                span: tree.span(node),
                node,
                message: "`depends_on` must be a list of service names or a mapping".into(),
            });
            Vec::new()
        }
    }
}
