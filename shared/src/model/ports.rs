//! `ports:` in short (`[IP:][HOST:]CONTAINER[/PROTO]`) and long syntax.

use super::{Problem, Spanned};
use crate::interpolation::{self, Vars, HOLE};
use crate::span::Span;
use crate::syntax::{NodeId, ScalarValue, Shape, Tree};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortRange {
    pub start: u32,
    pub end: u32,
}

/// One `ports:` entry. `errors` hold what is malformed (bad syntax, out of range).
#[derive(Clone, Debug)]
pub struct Port {
    pub node: NodeId,
    pub target: Option<PortRange>,
    pub target_span: Span,
    pub published: Option<PortRange>,
    pub host_ip: Option<String>,
    pub protocol: Option<Spanned<String>>,
    pub errors: Vec<Problem>,
}

pub(super) fn read_ports(
    tree: &Tree,
    node: NodeId,
    vars: &Vars,
    problems: &mut Vec<Problem>,
) -> Vec<Port> {
    match tree.shape(node) {
        Shape::Sequence => tree
            .items(node)
            .iter()
            .map(|item| read_port(tree, *item, vars))
            .collect(),
        Shape::Null => Vec::new(),
        _ => {
            problems.push(Problem {
                span: tree.span(node),
                node,
                message: "`ports` must be a list".into(),
            });
            Vec::new()
        }
    }
}

fn read_port(tree: &Tree, node: NodeId, vars: &Vars) -> Port {
    let mut port = Port {
        node,
        target: None,
        target_span: tree.value_span(node),
        published: None,
        host_ip: None,
        protocol: None,
        errors: Vec::new(),
    };
    match tree.shape(node) {
        Shape::Scalar => {
            let text = tree.str(node).unwrap_or_default();
            match interpolated(text, vars) {
                Value::Plain => read_short(tree, node, text, true, &mut port),
                Value::Interpolated(text) => read_short(tree, node, &text, false, &mut port),
                Value::Malformed => {}
            }
        }
        Shape::Mapping => read_long(tree, node, vars, &mut port),
        _ => port.errors.push(Problem {
            span: tree.span(node),
            node,
            message: "a port must be a string like `\"8080:80\"` or a mapping with `target`".into(),
        }),
    }
    port
}

/// What a value reads as once compose has interpolated it.
enum Value {
    /// Nothing to interpolate: offsets inside the text are source offsets.
    Plain,
    /// Interpolated (holes stand for unknown variables).
    Interpolated(String),
    /// Malformed interpolation: reported by its own rule, not judged here.
    Malformed,
}

fn interpolated(text: &str, vars: &Vars) -> Value {
    if !interpolation::needs_interpolation(text) {
        return Value::Plain;
    }
    match interpolation::interpolate(text, vars) {
        Ok(value) => Value::Interpolated(value.value),
        Err(_) => Value::Malformed,
    }
}

fn holed(part: &str) -> bool {
    part.contains(HOLE)
}

/// `located`: offsets in `text` are offsets in the source scalar (no
/// interpolation happened); otherwise problems are reported on the whole value.
fn read_short(tree: &Tree, node: NodeId, text: &str, located: bool, port: &mut Port) {
    let error = |port: &mut Port, from: usize, to: usize, message: String| {
        let span = if located {
            tree.sub_span(node, from, to)
        } else {
            tree.value_span(node)
        };
        port.errors.push(Problem {
            span,
            node,
            message,
        });
    };
    let sub_span = |from: usize, to: usize| {
        if located {
            tree.sub_span(node, from, to)
        } else {
            tree.value_span(node)
        }
    };
    if !located && text.chars().all(|c| c == HOLE) {
        return;
    }
    let (body, protocol) = match text.rsplit_once('/') {
        Some((body, proto)) => (body, Some(proto)),
        None => (text, None),
    };
    if let Some(proto) = protocol {
        let at = body.len() + 1;
        port.protocol = Some(Spanned::new(
            proto.to_owned(),
            sub_span(at, text.len()),
            node,
        ));
        if !holed(proto) && !matches!(proto, "tcp" | "udp" | "sctp") {
            error(
                port,
                at,
                text.len(),
                format!("unknown protocol `{proto}` (use `tcp`, `udp` or `sctp`)"),
            );
        }
    }
    // An IPv6 host address is bracketed: `[::1]:8080:80`.
    let (host_ip, rest, rest_at) = if let Some(stripped) = body.strip_prefix('[') {
        match stripped.split_once("]:") {
            Some((ip, rest)) => (Some(ip.to_owned()), rest, ip.len() + 3),
            None => {
                error(
                    port,
                    0,
                    body.len(),
                    format!("`{text}`: unclosed `[` in host address"),
                );
                return;
            }
        }
    } else {
        (None, body, 0)
    };
    let parts: Vec<&str> = rest.split(':').collect();
    let (ip, published, target) = match parts.as_slice() {
        [target] => (None, None, (*target, rest_at)),
        [published, target] => (
            None,
            Some((*published, rest_at)),
            (*target, rest_at + published.len() + 1),
        ),
        [ip, published, target] => (
            Some(*ip),
            Some((*published, rest_at + ip.len() + 1)),
            (*target, rest_at + ip.len() + published.len() + 2),
        ),
        _ if holed(text) => return,
        _ => {
            error(
                port,
                0,
                text.len(),
                format!("`{text}` is not `[HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL]`"),
            );
            return;
        }
    };
    port.host_ip = host_ip.or(ip.map(str::to_owned));
    port.target_span = sub_span(target.1, target.1 + target.0.len());
    if !holed(target.0) {
        match parse_range(target.0) {
            Ok(range) => port.target = Some(range),
            Err(message) => error(port, target.1, target.1 + target.0.len(), message),
        }
    }
    if let Some((published, at)) = published {
        if !published.is_empty() && !holed(published) {
            match parse_range(published) {
                Ok(range) => port.published = Some(range),
                Err(message) => error(port, at, at + published.len(), message),
            }
        }
    }
}

fn read_long(tree: &Tree, node: NodeId, vars: &Vars, port: &mut Port) {
    match tree.get_value(node, "target") {
        None => port.errors.push(Problem {
            span: tree.span(node),
            node,
            message: "a long-syntax port needs `target`".into(),
        }),
        Some(target) => {
            port.target_span = tree.value_span(target);
            match port_number(tree, target, vars) {
                Ok(None) => {}
                Ok(Some(range)) => port.target = Some(range),
                Err(message) => port.errors.push(Problem {
                    span: tree.value_span(target),
                    node: target,
                    message,
                }),
            }
        }
    }
    if let Some(published) = tree.get_value(node, "published") {
        match port_number(tree, published, vars) {
            Ok(None) => {}
            Ok(Some(range)) => port.published = Some(range),
            Err(message) => port.errors.push(Problem {
                span: tree.value_span(published),
                node: published,
                message,
            }),
        }
    }
    port.host_ip = tree
        .get_value(node, "host_ip")
        .and_then(|n| tree.str(n))
        .map(str::to_owned);
    port.protocol = super::read_string(tree, node, "protocol");
    if let Some(proto) = &port.protocol {
        let known = match interpolated(&proto.value, vars) {
            Value::Plain => Some(proto.value.clone()),
            Value::Interpolated(v) if !holed(&v) => Some(v),
            _ => None,
        };
        if known.is_some_and(|p| !matches!(p.as_str(), "tcp" | "udp" | "sctp")) {
            port.errors.push(Problem {
                span: proto.span,
                node: proto.node,
                message: format!(
                    "unknown protocol `{}` (use `tcp`, `udp` or `sctp`)",
                    proto.value
                ),
            });
        }
    }
}

/// `Ok(None)`: the value depends on a variable we do not know (or its
/// interpolation is malformed, which another rule reports).
fn port_number(tree: &Tree, node: NodeId, vars: &Vars) -> Result<Option<PortRange>, String> {
    match tree.value(node) {
        Some(ScalarValue::Int(n)) => check_port(n).map(|p| Some(PortRange { start: p, end: p })),
        Some(ScalarValue::Str(s)) => match interpolated(s, vars) {
            Value::Plain => parse_range(s).map(Some),
            Value::Interpolated(v) if holed(&v) => Ok(None),
            Value::Interpolated(v) => parse_range(&v).map(Some),
            Value::Malformed => Ok(None),
        },
        _ => Err("a port must be a number between 1 and 65535".into()),
    }
}

fn check_port(n: i64) -> Result<u32, String> {
    if (1..=65535).contains(&n) {
        Ok(n as u32)
    } else {
        Err(format!("port {n} is out of range (1–65535)"))
    }
}

/// `80` or `3000-3005`.
pub(super) fn parse_range(text: &str) -> Result<PortRange, String> {
    let one = |s: &str| -> Result<u32, String> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("`{text}` is not a port number"));
        }
        match s.parse::<i64>() {
            Ok(n) => check_port(n),
            Err(_) => Err(format!("port {s} is out of range (1–65535)")),
        }
    };
    match text.split_once('-') {
        Some((a, b)) => {
            let (start, end) = (one(a)?, one(b)?);
            if start > end {
                return Err(format!("port range `{text}` ends before it starts"));
            }
            Ok(PortRange { start, end })
        }
        None => one(text).map(|p| PortRange { start: p, end: p }),
    }
}
