//! The typed view of a spec: compose services plus their `x-omnistrate-*` parts.
//!
//! The model never fails: it reads what is well-formed, records what is not as
//! [`Problem`]s with spans for the rules to report, and keeps node ids so rules
//! can point at keys and values.

mod command;
mod compose;
pub mod compose_keys;
mod extends;
pub mod inner_keys;
pub mod keys;
mod omnistrate;
mod ports;

pub use command::Command;
pub use compose::{DependsOn, EnvVar, Mount, MountKind};
pub use omnistrate::{
    parses_as_number, ApiParam, Autoscaling, Capabilities, Compute, InstanceType, Integration,
    Limits, ParamType, Serverless,
};
pub use ports::{Port, PortRange};

use std::collections::HashMap;

use crate::interpolation::Vars;
use crate::span::Span;
use crate::syntax::{NodeId, ScalarValue, Seg, Shape, Tree};
use crate::template::{self, TemplateRef};

/// A value with the node it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
    pub node: NodeId,
}

impl<T> Spanned<T> {
    pub fn new(value: T, span: Span, node: NodeId) -> Self {
        Spanned { value, span, node }
    }
}

/// Something malformed the model noticed while reading a field.
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    pub span: Span,
    pub node: NodeId,
    pub message: String,
}

#[derive(Clone, Debug)]
pub struct Spec {
    /// The root mapping (absent when the document is empty or not a mapping).
    pub root: Option<NodeId>,
    pub version: Option<Spanned<String>>,
    pub services_node: Option<NodeId>,
    pub services: Vec<Service>,
    /// Top-level `networks:` names.
    pub networks: Vec<Spanned<String>>,
    /// Top-level `volumes:` names.
    pub volumes: Vec<Spanned<String>>,
    /// Top-level `secrets:` / `configs:` names.
    pub secrets: Vec<Spanned<String>>,
    pub configs: Vec<Spanned<String>>,
    /// `x-omnistrate-integrations` items.
    pub integrations: Vec<Integration>,
    /// Keys of the top-level `x-customer-integrations` mapping (`logs`,
    /// `metrics`).
    pub customer_integrations: Vec<Spanned<String>>,
    /// Every template reference in a service, in source order.
    pub templates: Vec<TemplateUse>,
    /// `{{` openers with no `}}` in service values: (scalar node, span of `{{`).
    pub unclosed_braces: Vec<(NodeId, Span)>,
    /// The top-level `include:` node: services, networks and volumes may come
    /// from files we do not read, so references to unknown names are unknowable.
    pub include: Option<NodeId>,
    /// Service name → index (first wins), for constant-time lookups.
    by_name: HashMap<String, usize>,
    /// Resource key (`master`) → index.
    by_resource_key: HashMap<String, usize>,
    /// Some service inherited items through `extends` (see `extends.rs`).
    extends_merged: bool,
}

#[derive(Clone, Debug)]
pub struct Service {
    pub name: Spanned<String>,
    /// The service's mapping (may be a null node for `Name:` with no body).
    pub node: NodeId,
    pub image: Option<Spanned<String>>,
    pub build: Option<NodeId>,
    pub ports: Vec<Port>,
    pub volumes: Vec<Mount>,
    pub environment: Vec<EnvVar>,
    pub depends_on: Vec<DependsOn>,
    pub networks: Vec<Spanned<String>>,
    pub api_params_node: Option<NodeId>,
    pub api_params: Vec<ApiParam>,
    pub compute: Option<Compute>,
    pub capabilities: Option<Capabilities>,
    /// Fields of the wrong shape (`ports: 3306`), reported by a rule.
    pub problems: Vec<Problem>,
    /// `extends:` (string or mapping), when present.
    pub extends: Option<Extends>,
    /// `command:` in either form (absent, null or malformed: `None`).
    pub command: Option<Command>,
    /// `entrypoint:` in either form.
    pub entrypoint: Option<Command>,
    /// The nodes of the same-file bases merged into this model, nearest
    /// first (only in [`Spec::with_extends_merged`]'s model; empty otherwise).
    pub merged_bases: Vec<NodeId>,
}

/// `extends: base` or `extends: {service: base, file: other.yaml}`.
#[derive(Clone, Debug)]
pub struct Extends {
    pub node: NodeId,
    pub service: Option<Spanned<String>>,
    /// Set when the base lives in another file (the CLI may read it; the
    /// core does no I/O, so its content is unknown here).
    pub file: Option<Spanned<String>>,
}

impl Service {
    /// The value of one of the service's keys, or else of a merged base's
    /// (for keys the model does not read itself, such as `env_file`).
    pub fn key_value(&self, tree: &Tree, key: &str) -> Option<NodeId> {
        std::iter::once(self.node)
            .chain(self.merged_bases.iter().copied())
            .find_map(|node| tree.get_value(node, key))
    }

    /// Resource key used in templates (`Master` → `master`).
    pub fn resource_key(&self) -> String {
        template::resource_key(&self.name.value)
    }

    /// A passive resource (`omnistrate/noop`): holds params, runs nothing.
    pub fn is_passive(&self) -> bool {
        self.image
            .as_ref()
            .is_some_and(|image| is_noop_image(&image.value))
    }

    pub fn param(&self, key: &str) -> Option<&ApiParam> {
        self.api_params
            .iter()
            .find(|p| p.key.as_ref().is_some_and(|k| k.value == key))
    }

    pub fn env(&self, name: &str) -> Option<&EnvVar> {
        self.environment.iter().find(|e| e.name.value == name)
    }

    /// The literal value of an env var, when it has one without templates.
    pub fn env_literal(&self, name: &str) -> Option<&str> {
        self.env(name)
            .and_then(|e| e.value.as_ref())
            .filter(|v| template::scan(&v.value).is_empty())
            .map(|v| v.value.as_str())
    }

    /// Container ports declared in `ports:` (targets).
    pub fn container_ports(&self) -> impl Iterator<Item = u32> + '_ {
        self.ports
            .iter()
            .filter_map(|p| p.target)
            .flat_map(|r| r.start..=r.end)
    }
}

pub fn is_noop_image(image: &str) -> bool {
    let base = image.split('@').next().unwrap_or(image);
    let name = match base.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => name,
        _ => base,
    };
    matches!(name, "omnistrate/noop" | "docker.io/omnistrate/noop")
}

/// Where a template reference was written.
#[derive(Clone, Debug)]
pub struct TemplateUse {
    /// Index into [`Spec::services`].
    pub service: usize,
    /// The env var or field that holds it (graph edge label).
    pub via: String,
    /// The scalar node holding the value.
    pub node: NodeId,
    pub reference: TemplateRef,
    /// Source span of the reference token.
    pub span: Span,
    /// Source span of `<resource>` in `$<resource>.…`.
    pub resource_span: Option<Span>,
    /// Whether the value is bare and shares its string with other text.
    pub concatenated: bool,
}

impl Spec {
    /// Whether an integration is on: named in `x-omnistrate-integrations`
    /// (`omnistrateLogging`) or a key of `x-customer-integrations` (`logs`).
    pub fn integration_enabled(&self, omnistrate: &str, customer: &str) -> bool {
        self.integrations.iter().any(|i| i.name.value == omnistrate)
            || self
                .customer_integrations
                .iter()
                .any(|i| i.value == customer)
    }

    pub fn service(&self, name: &str) -> Option<&Service> {
        self.service_index(name).map(|i| &self.services[i])
    }

    pub fn service_index(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    /// The service a resource key names (`master` → `Master`).
    pub fn service_by_resource_key(&self, key: &str) -> Option<&Service> {
        self.by_resource_key.get(key).map(|i| &self.services[*i])
    }

    /// Read the model from a tree, with no interpolation variables known.
    pub fn read(tree: &Tree) -> Spec {
        Spec::read_with(tree, &Vars::unknown())
    }

    /// Read the model, judging interpolated values with `vars`.
    pub fn read_with(tree: &Tree, vars: &Vars) -> Spec {
        let mut spec = Spec {
            root: None,
            version: None,
            services_node: None,
            services: Vec::new(),
            networks: Vec::new(),
            volumes: Vec::new(),
            secrets: Vec::new(),
            configs: Vec::new(),
            integrations: Vec::new(),
            customer_integrations: Vec::new(),
            templates: Vec::new(),
            unclosed_braces: Vec::new(),
            include: None,
            by_name: HashMap::new(),
            by_resource_key: HashMap::new(),
            extends_merged: false,
        };
        let Some(root) = tree.root.filter(|r| tree.shape(*r) == Shape::Mapping) else {
            return spec;
        };
        spec.root = Some(root);
        spec.version = read_string(tree, root, "version");
        spec.include = tree
            .get_value(root, "include")
            .filter(|n| tree.shape(*n) != Shape::Null);
        spec.networks = mapping_keys(tree, tree.get_value(root, "networks"));
        spec.volumes = mapping_keys(tree, tree.get_value(root, "volumes"));
        spec.secrets = mapping_keys(tree, tree.get_value(root, "secrets"));
        spec.configs = mapping_keys(tree, tree.get_value(root, "configs"));
        if let Some(node) = tree.get_value(root, "x-omnistrate-integrations") {
            spec.integrations = omnistrate::read_integrations(tree, node);
        }
        spec.customer_integrations =
            mapping_keys(tree, tree.get_value(root, "x-customer-integrations"));
        if let Some(services) = tree.get_value(root, "services") {
            spec.services_node = Some(services);
            for entry in tree.entries(services) {
                let Some(name) = tree.str(entry.key) else {
                    continue;
                };
                let name = Spanned::new(name.to_owned(), tree.value_span(entry.key), entry.key);
                spec.services
                    .push(read_service(tree, name, entry.value, vars));
            }
        }
        for (index, service) in spec.services.iter().enumerate() {
            spec.by_name
                .entry(service.name.value.clone())
                .or_insert(index);
            spec.by_resource_key
                .entry(service.resource_key())
                .or_insert(index);
        }
        for index in 0..spec.services.len() {
            let found = collect_templates(tree, &spec.services[index], index);
            spec.templates.extend(found.uses);
            spec.unclosed_braces.extend(found.unclosed);
        }
        spec
    }
}

fn read_service(tree: &Tree, name: Spanned<String>, node: NodeId, vars: &Vars) -> Service {
    let mut service = Service {
        name,
        node,
        image: read_string(tree, node, "image"),
        build: tree.get_value(node, "build"),
        ports: Vec::new(),
        volumes: Vec::new(),
        environment: Vec::new(),
        depends_on: Vec::new(),
        networks: Vec::new(),
        api_params_node: tree.get_value(node, "x-omnistrate-api-params"),
        api_params: Vec::new(),
        compute: None,
        capabilities: None,
        problems: Vec::new(),
        extends: tree
            .get_value(node, "extends")
            .and_then(|n| read_extends(tree, n)),
        merged_bases: Vec::new(),
        command: tree
            .get_value(node, "command")
            .and_then(|n| command::read_command(tree, n)),
        entrypoint: tree
            .get_value(node, "entrypoint")
            .and_then(|n| command::read_command(tree, n)),
    };
    let mut problems = Vec::new();
    if let Some(ports) = tree.get_value(node, "ports") {
        service.ports = ports::read_ports(tree, ports, vars, &mut problems);
    }
    if let Some(volumes) = tree.get_value(node, "volumes") {
        service.volumes = compose::read_mounts(tree, volumes, &mut problems);
    }
    if let Some(env) = tree.get_value(node, "environment") {
        service.environment = compose::read_environment(tree, env, &mut problems);
        if !vars.is_empty() {
            for value in service
                .environment
                .iter_mut()
                .filter_map(|e| e.value.as_mut())
            {
                if crate::interpolation::needs_interpolation(&value.value) {
                    value.interpolated = crate::interpolation::interpolate(&value.value, vars)
                        .ok()
                        .filter(|v| !v.has_holes())
                        .map(|v| v.value);
                }
            }
        }
    }
    if let Some(deps) = tree.get_value(node, "depends_on") {
        service.depends_on = compose::read_depends_on(tree, deps, &mut problems);
    }
    if let Some(networks) = tree.get_value(node, "networks") {
        service.networks = match tree.shape(networks) {
            Shape::Sequence => string_items(tree, networks),
            Shape::Mapping => mapping_keys(tree, Some(networks)),
            _ => Vec::new(),
        };
    }
    if let Some(params) = service.api_params_node {
        service.api_params = omnistrate::read_api_params(tree, params, &mut problems);
    }
    if let Some(compute) = tree.get_value(node, "x-omnistrate-compute") {
        service.compute = Some(omnistrate::read_compute(tree, compute));
    }
    if let Some(capabilities) = tree.get_value(node, "x-omnistrate-capabilities") {
        service.capabilities = Some(omnistrate::read_capabilities(tree, capabilities));
    }
    service.problems = problems;
    service
}

fn read_extends(tree: &Tree, node: NodeId) -> Option<Extends> {
    match tree.shape(node) {
        Shape::Scalar => Some(Extends {
            node,
            service: tree
                .str(node)
                .map(|s| Spanned::new(s.to_owned(), tree.value_span(node), node)),
            file: None,
        }),
        Shape::Mapping => Some(Extends {
            node,
            service: read_string(tree, node, "service"),
            file: read_string(tree, node, "file"),
        }),
        _ => None,
    }
}

impl Spec {
    /// The chain of same-file bases of a service (`extends` followed), without
    /// the service itself. Stops at a cycle, an unknown name or a `file:` base.
    pub fn extends_chain(&self, index: usize) -> ExtendsChain {
        let mut chain = ExtendsChain::default();
        let mut current = index;
        let mut seen = vec![index];
        while let Some(extends) = &self.services[current].extends {
            if extends.file.is_some() {
                chain.external = true;
                break;
            }
            let Some(name) = &extends.service else {
                break;
            };
            match self.service_index(&name.value) {
                Some(next) if seen.contains(&next) => {
                    chain.cycle = true;
                    break;
                }
                Some(next) => {
                    chain.bases.push(next);
                    seen.push(next);
                    current = next;
                }
                None => {
                    chain.unknown = Some(name.clone());
                    break;
                }
            }
        }
        chain
    }
}

/// What following `extends` found.
#[derive(Clone, Debug, Default)]
pub struct ExtendsChain {
    /// Indexes of the bases, nearest first.
    pub bases: Vec<usize>,
    /// The chain ends in a base from another file.
    pub external: bool,
    /// The chain comes back to a service already in it.
    pub cycle: bool,
    /// A base name that no service of this file has.
    pub unknown: Option<Spanned<String>>,
}

impl ExtendsChain {
    /// Whether the merged service may hold keys we cannot see.
    pub fn incomplete(&self) -> bool {
        self.external || self.cycle || self.unknown.is_some()
    }
}

/// A scalar read as text (numbers and booleans as written).
pub(crate) fn read_string(tree: &Tree, map: NodeId, key: &str) -> Option<Spanned<String>> {
    let node = tree.get_value(map, key)?;
    let text = tree.str(node)?;
    if tree.shape(node) == Shape::Null {
        return None;
    }
    Some(Spanned::new(text.to_owned(), tree.value_span(node), node))
}

pub(crate) fn read_bool(tree: &Tree, map: NodeId, key: &str) -> Option<Spanned<bool>> {
    let node = tree.get_value(map, key)?;
    let value = tree.value(node)?.as_bool()?;
    Some(Spanned::new(value, tree.span(node), node))
}

pub(crate) fn read_number(tree: &Tree, map: NodeId, key: &str) -> Option<Spanned<f64>> {
    let node = tree.get_value(map, key)?;
    let value = match tree.value(node)? {
        ScalarValue::Str(s) => s.trim().parse::<f64>().ok()?,
        other => other.as_f64()?,
    };
    Some(Spanned::new(value, tree.span(node), node))
}

pub(crate) fn string_items(tree: &Tree, seq: NodeId) -> Vec<Spanned<String>> {
    tree.items(seq)
        .iter()
        .filter_map(|item| {
            let text = tree.str(*item)?;
            Some(Spanned::new(text.to_owned(), tree.value_span(*item), *item))
        })
        .collect()
}

pub(crate) fn mapping_keys(tree: &Tree, map: Option<NodeId>) -> Vec<Spanned<String>> {
    let Some(map) = map else {
        return Vec::new();
    };
    tree.entries(map)
        .into_iter()
        .filter_map(|e| {
            let text = tree.str(e.key)?;
            Some(Spanned::new(text.to_owned(), tree.value_span(e.key), e.key))
        })
        .collect()
}

/// The key node of the entry a value node sits under.
pub fn key_of(tree: &Tree, value: NodeId) -> Option<NodeId> {
    match tree.node(value).seg {
        Seg::Key(key) => Some(key),
        _ => None,
    }
}

#[derive(Default)]
struct Found {
    uses: Vec<TemplateUse>,
    unclosed: Vec<(NodeId, Span)>,
}

/// Walk every scalar value of a service and collect its template references.
fn collect_templates(tree: &Tree, service: &Service, index: usize) -> Found {
    let mut found = Found::default();
    let env_node = tree
        .get_value(service.node, "environment")
        .map(|n| tree.resolve(n));
    for env in &service.environment {
        let Some(value) = &env.value else { continue };
        push_uses(
            tree,
            &mut found,
            index,
            &env.name.value,
            value.node,
            value.offset,
            &value.value,
        );
    }
    let mut stack: Vec<(NodeId, String, usize)> = vec![(service.node, String::new(), 0)];
    while let Some((node, via, depth)) = stack.pop() {
        let node = tree.resolve(node);
        if Some(node) == env_node || depth > crate::syntax::MAX_DEPTH {
            continue;
        }
        match tree.shape(node) {
            Shape::Mapping => {
                for entry in tree.entries(node).into_iter().rev() {
                    let key = tree.str(entry.key).unwrap_or_default();
                    // Descriptions are prose for people, not templates.
                    if key == "description" {
                        continue;
                    }
                    stack.push((entry.value, key.to_owned(), depth + 1));
                }
            }
            Shape::Sequence => {
                for item in tree.items(node).iter().rev() {
                    stack.push((*item, via.clone(), depth + 1));
                }
            }
            Shape::Scalar => {
                if let Some(text) = tree.str(node) {
                    push_uses(tree, &mut found, index, &via, node, 0, text);
                }
            }
            Shape::Null => {}
        }
    }
    found.uses.sort_by_key(|u| u.span.start);
    found.unclosed.sort_by_key(|(_, span)| span.start);
    found
}

fn push_uses(
    tree: &Tree,
    found: &mut Found,
    service: usize,
    via: &str,
    node: NodeId,
    offset: usize,
    text: &str,
) {
    let scan = template::scan(text);
    for at in &scan.unclosed_braces {
        found
            .unclosed
            .push((node, tree.sub_span(node, offset + at, offset + at + 2)));
    }
    for (i, reference) in scan.refs.into_iter().enumerate() {
        let span = tree.sub_span(node, offset + reference.start, offset + reference.end);
        let resource_span = reference
            .resource_range
            .map(|(from, to)| tree.sub_span(node, offset + from, offset + to));
        found.uses.push(TemplateUse {
            service,
            via: via.to_owned(),
            node,
            concatenated: scan.concatenated.contains(&i),
            reference,
            span,
            resource_span,
        });
    }
}
