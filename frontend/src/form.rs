//! The deploy form's model: the spec's api-params grouped by service, with the
//! same value checks the server runs (`shared::params`).

use std::collections::BTreeMap;

use shared::model::{ApiParam, ParamType, Spec};
use shared::{instance_types, params};

/// How a field is edited.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InputKind {
    Text,
    /// Free text with suggestions (instance types).
    Suggest(Vec<String>),
    Number,
    Password,
    Checkbox,
    Select(Vec<String>),
}

/// One form field (one api-param key; a key several services declare is one
/// field, listed under the first of them).
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    pub key: String,
    pub label: String,
    pub help: Option<String>,
    pub required: bool,
    pub default: Option<String>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub kind: InputKind,
    /// Other services the same key applies to.
    pub also: Vec<String>,
    /// Left empty, the server generates it (password-type params).
    pub generated_when_empty: bool,
    /// The value names an instance type (checked against the known table).
    pub instance_type: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    pub service: String,
    pub fields: Vec<Field>,
    /// `Resource` params wired by the deployment itself: (key, target service).
    pub links: Vec<(String, String)>,
}

/// Build the form from a spec.
pub fn groups(spec: &Spec) -> Vec<Group> {
    let mut seen: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut out: Vec<Group> = Vec::new();
    for service in &spec.services {
        let mut group = Group {
            service: service.name.value.clone(),
            fields: Vec::new(),
            links: Vec::new(),
        };
        for param in &service.api_params {
            let Some(key) = param.key_str() else { continue };
            if !params::is_user_param(param) {
                let target = param
                    .dependent_resource_key
                    .as_ref()
                    .map(|d| d.value.clone())
                    .unwrap_or_default();
                group.links.push((key.to_owned(), target));
                continue;
            }
            if let Some((g, f)) = seen.get(key) {
                out[*g].fields[*f].also.push(service.name.value.clone());
                continue;
            }
            seen.insert(key.to_owned(), (out.len(), group.fields.len()));
            let mut field = field(param, key);
            if instance_types::params_of(service).any(|p| p == key) {
                field.instance_type = true;
                if field.kind == InputKind::Text {
                    let offered = instance_types::offered_for(service);
                    field.kind =
                        InputKind::Suggest(offered.iter().map(|t| t.name.to_owned()).collect());
                }
            }
            group.fields.push(field);
        }
        if !group.fields.is_empty() || !group.links.is_empty() {
            out.push(group);
        }
    }
    out
}

fn field(param: &ApiParam, key: &str) -> Field {
    let ty = param.param_type;
    let options: Vec<String> = param
        .options
        .as_ref()
        .map(|o| o.iter().map(|s| s.value.clone()).collect())
        .unwrap_or_default();
    let kind = if !options.is_empty() {
        InputKind::Select(options)
    } else if param.is_secret() {
        InputKind::Password
    } else if ty == Some(ParamType::Boolean) {
        InputKind::Checkbox
    } else if ty.is_some_and(ParamType::is_numeric) {
        InputKind::Number
    } else {
        InputKind::Text
    };
    let limits = param.limits.as_ref();
    Field {
        key: key.to_owned(),
        label: param
            .name
            .as_ref()
            .map(|n| n.value.clone())
            .unwrap_or_else(|| key.to_owned()),
        help: param.description.as_ref().map(|d| d.value.clone()),
        required: param.is_required(),
        default: param.default_value.as_ref().map(|d| d.value.clone()),
        min: limits.and_then(|l| l.min.as_ref().map(|m| m.value)),
        max: limits.and_then(|l| l.max.as_ref().map(|m| m.value)),
        kind,
        also: Vec::new(),
        generated_when_empty: ty.is_some_and(ParamType::is_secret)
            || (param.is_required() && !param.is_exported() && params::looks_like_password(key)),
        instance_type: false,
    }
}

/// Check one field's value with the server's rules, for every service declaring it.
pub fn check(spec: &Spec, field: &Field, value: &str) -> Result<(), String> {
    if value.is_empty() {
        if field.required && field.default.is_none() && !field.generated_when_empty {
            return Err("required".into());
        }
        return Ok(());
    }
    for service in &spec.services {
        if let Some(param) = service.param(&field.key) {
            params::check_value(param, value)?;
        }
    }
    // where the value goes (a MySQL user or database name, a password)
    params::check_usage(spec, &field.key, value)?;
    if field.instance_type {
        instance_types::check(value)?;
    }
    Ok(())
}

/// The flat `params` map sent to `POST /api/deployments` (empty values left out,
/// so defaults and generated secrets apply).
pub fn payload(values: &BTreeMap<String, String>) -> BTreeMap<String, serde_json::Value> {
    values
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_form_groups_params_and_wires_resources() {
        let seed = include_str!("../../examples/serverless-mysql-master-replica.yaml");
        let spec = shared::analyze(seed).spec;
        let groups = groups(&spec);
        let names: Vec<&str> = groups.iter().map(|g| g.service.as_str()).collect();
        assert_eq!(names, ["Master", "Replica", "ParameterGroup"]);
        let all: Vec<&Field> = groups.iter().flat_map(|g| &g.fields).collect();
        assert!(all
            .iter()
            .all(|f| f.key != "parameterGroupId" && f.key != "masterInstanceId"));
        assert!(groups[1]
            .links
            .contains(&("masterInstanceId".into(), "Master".into())));
        let replicas = all.iter().find(|f| f.key == "numReadReplicas").unwrap();
        assert_eq!(
            (replicas.min, replicas.max, replicas.kind.clone()),
            (Some(1.0), Some(10.0), InputKind::Number)
        );
        assert_eq!(replicas.default.as_deref(), Some("1"));
        let root = all.iter().find(|f| f.key == "mysqlRootPassword").unwrap();
        assert_eq!(root.kind, InputKind::Password);
        assert!(check(&spec, replicas, "11").is_err());
        assert!(check(&spec, replicas, "abc").is_err());
        assert!(check(&spec, replicas, "3").is_ok());
        let user = all.iter().find(|f| f.key == "mysqlUsername").unwrap();
        assert_eq!(check(&spec, user, ""), Err("required".into()));
        // the server's usage checks: MySQL user names
        assert!(check(&spec, user, "root").unwrap_err().contains("root"));
        assert!(check(&spec, user, "app\nuser").is_err());
        assert!(check(&spec, user, &"u".repeat(1000)).is_err());
        assert!(check(&spec, user, "appuser").is_ok());
    }

    #[test]
    fn instance_types_are_suggested_and_checked_like_the_server() {
        let seed = include_str!("../../examples/serverless-mysql-master-replica.yaml");
        let spec = shared::analyze(seed).spec;
        let groups = groups(&spec);
        let master = groups[0]
            .fields
            .iter()
            .find(|f| f.key == "masterInstanceType")
            .unwrap();
        assert!(master.instance_type);
        match &master.kind {
            InputKind::Suggest(names) => assert!(
                names.iter().any(|n| n == "t3.small") && names.iter().any(|n| n == "e2-medium")
            ),
            other => panic!("expected suggestions, got {other:?}"),
        }
        assert!(check(&spec, master, "t3.small").is_ok());
        let error = check(&spec, master, "t3.smal").unwrap_err();
        assert!(error.contains("did you mean `t3.small`"), "{error}");
    }
}
