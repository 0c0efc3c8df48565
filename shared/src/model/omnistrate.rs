//! The `x-omnistrate-*` parts the seed uses, modelled field by field.

use super::{read_bool, read_number, read_string, string_items, Problem, Spanned};
use crate::syntax::{NodeId, ScalarValue, Shape, Tree};

/// API parameter types (reference §2). Parsed case-insensitively.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum ParamType {
    Boolean,
    String,
    Password,
    Secret,
    Resource,
    Json,
    Any,
    Bytes,
    Int,
    Int32,
    Int64,
    Uint,
    Uint32,
    Uint64,
    Float32,
    Float64,
}

impl ParamType {
    pub const ALL: [ParamType; 16] = [
        ParamType::Boolean,
        ParamType::String,
        ParamType::Password,
        ParamType::Secret,
        ParamType::Resource,
        ParamType::Json,
        ParamType::Any,
        ParamType::Bytes,
        ParamType::Int,
        ParamType::Int32,
        ParamType::Int64,
        ParamType::Uint,
        ParamType::Uint32,
        ParamType::Uint64,
        ParamType::Float32,
        ParamType::Float64,
    ];

    /// The canonical (Capitalised) spelling.
    pub fn name(self) -> &'static str {
        match self {
            ParamType::Boolean => "Boolean",
            ParamType::String => "String",
            ParamType::Password => "Password",
            ParamType::Secret => "Secret",
            ParamType::Resource => "Resource",
            ParamType::Json => "Json",
            ParamType::Any => "Any",
            ParamType::Bytes => "Bytes",
            ParamType::Int => "Int",
            ParamType::Int32 => "Int32",
            ParamType::Int64 => "Int64",
            ParamType::Uint => "Uint",
            ParamType::Uint32 => "Uint32",
            ParamType::Uint64 => "Uint64",
            ParamType::Float32 => "Float32",
            ParamType::Float64 => "Float64",
        }
    }

    pub fn parse(text: &str) -> Option<ParamType> {
        ParamType::ALL
            .into_iter()
            .find(|t| t.name().eq_ignore_ascii_case(text))
    }

    /// Whether `text` is a spelling the platform documents (lower-case or
    /// Capitalised, plus the REST examples' `JSON`).
    pub fn is_canonical_spelling(text: &str) -> bool {
        ParamType::parse(text).is_some_and(|t| {
            let name = t.name();
            text == name || text == name.to_ascii_lowercase() || text == "JSON"
        })
    }

    pub fn is_numeric(self) -> bool {
        self.is_integer() || matches!(self, ParamType::Float32 | ParamType::Float64)
    }

    pub fn is_integer(self) -> bool {
        matches!(
            self,
            ParamType::Int
                | ParamType::Int32
                | ParamType::Int64
                | ParamType::Uint
                | ParamType::Uint32
                | ParamType::Uint64
        )
    }

    pub fn is_secret(self) -> bool {
        matches!(self, ParamType::Password | ParamType::Secret)
    }
}

#[derive(Clone, Debug, Default)]
pub struct Limits {
    pub node: Option<NodeId>,
    pub min: Option<Spanned<f64>>,
    pub max: Option<Spanned<f64>>,
    pub min_length: Option<Spanned<f64>>,
    pub max_length: Option<Spanned<f64>>,
}

/// One `x-omnistrate-api-params` item.
#[derive(Clone, Debug)]
pub struct ApiParam {
    pub node: NodeId,
    pub key: Option<Spanned<String>>,
    pub name: Option<Spanned<String>>,
    pub description: Option<Spanned<String>>,
    /// `type` as written.
    pub type_name: Option<Spanned<String>>,
    pub param_type: Option<ParamType>,
    pub required: Option<Spanned<bool>>,
    pub modifiable: Option<Spanned<bool>>,
    pub export: Option<Spanned<bool>>,
    /// `defaultValue` as text (the platform stores it as a string).
    pub default_value: Option<Spanned<String>>,
    pub limits: Option<Limits>,
    pub options: Option<Vec<Spanned<String>>>,
    pub options_node: Option<NodeId>,
    pub labeled_options: Option<NodeId>,
    pub regex: Option<Spanned<String>>,
    pub dependent_resource_key: Option<Spanned<String>>,
    pub parameter_dependency_map: Option<NodeId>,
}

impl ApiParam {
    pub fn key_str(&self) -> Option<&str> {
        self.key.as_ref().map(|k| k.value.as_str())
    }

    pub fn is_required(&self) -> bool {
        self.required.as_ref().is_some_and(|r| r.value)
    }

    /// `export` defaults to true when not written.
    pub fn is_exported(&self) -> bool {
        self.export.as_ref().is_none_or(|e| e.value)
    }

    pub fn is_modifiable(&self) -> bool {
        self.modifiable.as_ref().is_some_and(|m| m.value)
    }

    /// A param whose value must stay hidden: a password/secret type or `export: false`.
    pub fn is_secret(&self) -> bool {
        self.param_type.is_some_and(ParamType::is_secret) || !self.is_exported()
    }
}

pub(super) fn read_api_params(
    tree: &Tree,
    node: NodeId,
    problems: &mut Vec<Problem>,
) -> Vec<ApiParam> {
    match tree.shape(node) {
        Shape::Sequence => {}
        Shape::Null => return Vec::new(),
        _ => {
            problems.push(Problem {
                span: tree.span(node),
                node,
                message: "`x-omnistrate-api-params` must be a list of parameters".into(),
            });
            return Vec::new();
        }
    }
    let mut params = Vec::new();
    for item in tree.items(node) {
        let item = *item;
        if tree.shape(item) != Shape::Mapping {
            problems.push(Problem {
                span: tree.span(item),
                node: item,
                message: "an API parameter must be a mapping with `key`, `name`, `type`…".into(),
            });
            continue;
        }
        let type_name = read_string(tree, item, "type");
        let options_node = tree.get_value(item, "options");
        params.push(ApiParam {
            node: item,
            key: read_string(tree, item, "key"),
            name: read_string(tree, item, "name"),
            description: read_string(tree, item, "description"),
            param_type: type_name.as_ref().and_then(|t| ParamType::parse(&t.value)),
            type_name,
            required: read_bool(tree, item, "required"),
            modifiable: read_bool(tree, item, "modifiable"),
            export: read_bool(tree, item, "export"),
            default_value: read_string(tree, item, "defaultValue"),
            limits: tree.get_value(item, "limits").map(|l| Limits {
                node: Some(l),
                min: read_number(tree, l, "min"),
                max: read_number(tree, l, "max"),
                min_length: read_number(tree, l, "minLength"),
                max_length: read_number(tree, l, "maxLength"),
            }),
            options: options_node.map(|o| string_items(tree, o)),
            options_node,
            labeled_options: tree.get_value(item, "labeledOptions"),
            regex: read_string(tree, item, "regex"),
            dependent_resource_key: read_string(tree, item, "dependentResourceKey"),
            parameter_dependency_map: tree.get_value(item, "parameterDependencyMap"),
        });
    }
    params
}

#[derive(Clone, Debug)]
pub struct InstanceType {
    pub node: NodeId,
    pub cloud_provider: Option<Spanned<String>>,
    pub name: Option<Spanned<String>>,
    pub api_param: Option<Spanned<String>>,
}

#[derive(Clone, Debug)]
pub struct Compute {
    pub node: NodeId,
    pub instance_types: Vec<InstanceType>,
    pub replica_count: Option<Spanned<f64>>,
    pub replica_count_api_param: Option<Spanned<String>>,
    /// The key as written when it was the non-canonical `replicaCountApiParam`.
    pub replica_count_api_param_alias: Option<NodeId>,
}

pub(super) fn read_compute(tree: &Tree, node: NodeId) -> Compute {
    let instance_types = tree
        .get_value(node, "instanceTypes")
        .map(|list| {
            tree.items(list)
                .iter()
                .filter(|i| tree.shape(**i) == Shape::Mapping)
                .map(|item| InstanceType {
                    node: *item,
                    cloud_provider: read_string(tree, *item, "cloudProvider"),
                    name: read_string(tree, *item, "name"),
                    api_param: read_string(tree, *item, "apiParam"),
                })
                .collect()
        })
        .unwrap_or_default();
    let canonical = read_string(tree, node, "replicaCountAPIParam");
    let alias = read_string(tree, node, "replicaCountApiParam");
    Compute {
        node,
        instance_types,
        replica_count: read_number(tree, node, "replicaCount"),
        replica_count_api_param_alias: if canonical.is_none() {
            alias.as_ref().and_then(|a| super::key_of(tree, a.node))
        } else {
            None
        },
        replica_count_api_param: canonical.or(alias),
    }
}

#[derive(Clone, Debug)]
pub struct Autoscaling {
    pub node: NodeId,
    pub min_replicas: Option<Spanned<f64>>,
    pub max_replicas: Option<Spanned<f64>>,
    pub idle_minutes_before_scaling_down: Option<Spanned<f64>>,
    pub idle_threshold: Option<Spanned<f64>>,
    pub over_utilized_minutes_before_scaling_up: Option<Spanned<f64>>,
    pub over_utilized_threshold: Option<Spanned<f64>>,
}

impl Autoscaling {
    /// Defaults from the SDK's `AutoscalingPolicy` (reference §1.5).
    pub fn idle_threshold_or_default(&self) -> f64 {
        self.idle_threshold.as_ref().map_or(20.0, |v| v.value)
    }
    pub fn idle_minutes_or_default(&self) -> f64 {
        self.idle_minutes_before_scaling_down
            .as_ref()
            .map_or(5.0, |v| v.value)
    }
    pub fn over_threshold_or_default(&self) -> f64 {
        self.over_utilized_threshold
            .as_ref()
            .map_or(80.0, |v| v.value)
    }
    pub fn over_minutes_or_default(&self) -> f64 {
        self.over_utilized_minutes_before_scaling_up
            .as_ref()
            .map_or(5.0, |v| v.value)
    }
}

#[derive(Clone, Debug)]
pub struct Serverless {
    pub node: NodeId,
    pub target_port: Option<Spanned<f64>>,
    pub enable_auto_stop: Option<Spanned<bool>>,
    pub minimum_nodes_in_pool: Option<Spanned<f64>>,
}

#[derive(Clone, Debug)]
pub struct Capabilities {
    pub node: NodeId,
    pub enable_multi_zone: Option<Spanned<bool>>,
    /// `enableEndpointPerReplica`, or the seed's `endpointPerReplica`.
    pub enable_endpoint_per_replica: Option<Spanned<bool>>,
    /// The key node when the deprecated `endpointPerReplica` spelling was used.
    pub endpoint_per_replica_alias: Option<NodeId>,
    pub autoscaling: Option<Autoscaling>,
    pub serverless: Option<Serverless>,
}

pub(super) fn read_capabilities(tree: &Tree, node: NodeId) -> Capabilities {
    let canonical = read_bool(tree, node, "enableEndpointPerReplica");
    let alias_key = tree.get(node, "endpointPerReplica").map(|e| e.key);
    Capabilities {
        node,
        enable_multi_zone: read_bool(tree, node, "enableMultiZone"),
        endpoint_per_replica_alias: alias_key,
        enable_endpoint_per_replica: canonical
            .or_else(|| read_bool(tree, node, "endpointPerReplica")),
        autoscaling: tree
            .get_value(node, "autoscaling")
            .filter(|n| tree.shape(*n) == Shape::Mapping)
            .map(|a| Autoscaling {
                node: a,
                min_replicas: read_number(tree, a, "minReplicas"),
                max_replicas: read_number(tree, a, "maxReplicas"),
                idle_minutes_before_scaling_down: read_number(
                    tree,
                    a,
                    "idleMinutesBeforeScalingDown",
                ),
                idle_threshold: read_number(tree, a, "idleThreshold"),
                over_utilized_minutes_before_scaling_up: read_number(
                    tree,
                    a,
                    "overUtilizedMinutesBeforeScalingUp",
                ),
                over_utilized_threshold: read_number(tree, a, "overUtilizedThreshold"),
            }),
        serverless: tree
            .get_value(node, "serverlessConfiguration")
            .filter(|n| tree.shape(*n) == Shape::Mapping)
            .map(|s| Serverless {
                node: s,
                target_port: read_number(tree, s, "targetPort"),
                enable_auto_stop: read_bool(tree, s, "enableAutoStop"),
                minimum_nodes_in_pool: read_number(tree, s, "minimumNodesInPool"),
            }),
    }
}

/// One `x-omnistrate-integrations` item: `omnistrateLogging` or `{omnistrateMetrics: {...}}`.
#[derive(Clone, Debug)]
pub struct Integration {
    pub name: Spanned<String>,
    pub config: Option<NodeId>,
}

pub(super) fn read_integrations(tree: &Tree, node: NodeId) -> Vec<Integration> {
    tree.items(node)
        .iter()
        .filter_map(|item| match tree.shape(*item) {
            Shape::Scalar => Some(Integration {
                name: Spanned::new(tree.str(*item)?.to_owned(), tree.value_span(*item), *item),
                config: None,
            }),
            Shape::Mapping => {
                let entry = *tree.own_entries(*item).first()?;
                Some(Integration {
                    name: Spanned::new(
                        tree.str(entry.key)?.to_owned(),
                        tree.value_span(entry.key),
                        entry.key,
                    ),
                    config: Some(entry.value),
                })
            }
            _ => None,
        })
        .collect()
}

/// Whether a scalar's text reads as a number (ints, floats, numeric strings).
pub fn parses_as_number(tree: &Tree, node: NodeId) -> bool {
    match tree.value(node) {
        Some(ScalarValue::Int(_)) | Some(ScalarValue::Float(_)) => true,
        Some(ScalarValue::Str(s)) => s.trim().parse::<f64>().is_ok(),
        _ => false,
    }
}
