//! `ports:` in short (`[IP:][HOST:]CONTAINER[/PROTO]`) and long syntax.

use super::{Problem, Spanned};
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

pub(super) fn read_ports(tree: &Tree, node: NodeId, problems: &mut Vec<Problem>) -> Vec<Port> {
    match tree.shape(node) {
        Shape::Sequence => tree
            .items(node)
            .iter()
            .map(|item| read_port(tree, *item))
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

fn read_port(tree: &Tree, node: NodeId) -> Port {
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
            read_short(tree, node, text, &mut port);
        }
        Shape::Mapping => read_long(tree, node, &mut port),
        _ => port.errors.push(Problem {
            span: tree.span(node),
            node,
            message: "a port must be a string like `\"8080:80\"` or a mapping with `target`".into(),
        }),
    }
    port
}

fn read_short(tree: &Tree, node: NodeId, text: &str, port: &mut Port) {
    let error = |port: &mut Port, from: usize, to: usize, message: String| {
        port.errors.push(Problem {
            span: tree.sub_span(node, from, to),
            node,
            message,
        });
    };
    let (body, protocol) = match text.rsplit_once('/') {
        Some((body, proto)) => (body, Some(proto)),
        None => (text, None),
    };
    if let Some(proto) = protocol {
        let at = body.len() + 1;
        port.protocol = Some(Spanned::new(
            proto.to_owned(),
            tree.sub_span(node, at, text.len()),
            node,
        ));
        if !matches!(proto, "tcp" | "udp" | "sctp") {
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
    port.target_span = tree.sub_span(node, target.1, target.1 + target.0.len());
    match parse_range(target.0) {
        Ok(range) => port.target = Some(range),
        Err(message) => error(port, target.1, target.1 + target.0.len(), message),
    }
    if let Some((published, at)) = published {
        if !published.is_empty() {
            match parse_range(published) {
                Ok(range) => port.published = Some(range),
                Err(message) => error(port, at, at + published.len(), message),
            }
        }
    }
}

fn read_long(tree: &Tree, node: NodeId, port: &mut Port) {
    match tree.get_value(node, "target") {
        None => port.errors.push(Problem {
            span: tree.span(node),
            node,
            message: "a long-syntax port needs `target`".into(),
        }),
        Some(target) => {
            port.target_span = tree.value_span(target);
            match port_number(tree, target) {
                Ok(range) => port.target = Some(range),
                Err(message) => port.errors.push(Problem {
                    span: tree.value_span(target),
                    node: target,
                    message,
                }),
            }
        }
    }
    if let Some(published) = tree.get_value(node, "published") {
        match port_number(tree, published) {
            Ok(range) => port.published = Some(range),
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
        if !matches!(proto.value.as_str(), "tcp" | "udp" | "sctp") {
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

fn port_number(tree: &Tree, node: NodeId) -> Result<PortRange, String> {
    match tree.value(node) {
        Some(ScalarValue::Int(n)) => check_port(n).map(|p| PortRange { start: p, end: p }),
        Some(ScalarValue::Str(s)) => parse_range(s),
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
pub fn parse_range(text: &str) -> Result<PortRange, String> {
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
