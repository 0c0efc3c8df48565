//! Template resolution against concrete values (pure, no I/O).
//!
//! [`crate::template`] finds references; this module replaces them with
//! values: `$<res>.var.X` from resolved api-params, `$<res>.sys.<path>` from
//! system values the caller knows (a provisioner sets, e.g., the master's
//! network alias as `network.externalClusterServerlessEndpoint.endpointName`).
//! Anything that has no value is reported, so a provisioner can refuse a
//! deployment before it creates anything.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::{Service, Spec};
use crate::params::ResolvedParams;
use crate::template::{self, RefKind, RefScope, TemplateRef};

/// Concrete values per service: api-params and system parameters.
#[derive(Clone, Debug, Default)]
pub struct Values {
    /// (service name, param key) → value.
    vars: BTreeMap<(String, String), String>,
    /// (service name, sys path as written, e.g. `network.x.openPorts[0]`) → value.
    sys: BTreeMap<(String, String), String>,
}

impl Values {
    /// Values holding every resolved api-param.
    pub fn from_params(params: &ResolvedParams) -> Values {
        let mut values = Values::default();
        for p in &params.params {
            values.set_var(&p.service, &p.key, &p.value);
        }
        values
    }

    pub fn set_var(&mut self, service: &str, key: &str, value: &str) {
        self.vars
            .insert((service.to_owned(), key.to_owned()), value.to_owned());
    }

    pub fn set_sys(&mut self, service: &str, path: &str, value: &str) {
        self.sys
            .insert((service.to_owned(), path.to_owned()), value.to_owned());
    }

    pub fn var(&self, service: &str, key: &str) -> Option<&str> {
        self.vars
            .get(&(service.to_owned(), key.to_owned()))
            .map(String::as_str)
    }

    /// A system value; `openPorts[0]` and `openPorts[ 0 ]`-free spellings only.
    pub fn sys(&self, service: &str, path: &str) -> Option<&str> {
        self.sys
            .get(&(service.to_owned(), path.to_owned()))
            .map(String::as_str)
    }
}

/// A reference that could not be given a value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Unresolved {
    /// The service whose value holds the reference.
    pub service: String,
    /// The env var (or field) holding it.
    pub via: String,
    /// The reference as written (`$master.sys.network…`).
    pub reference: String,
    pub message: String,
}

/// Resolve every reference in one value of `service`.
pub fn resolve_str(
    spec: &Spec,
    service: &str,
    via: &str,
    text: &str,
    values: &Values,
) -> Result<String, Vec<Unresolved>> {
    let scan = template::scan(text);
    let mut problems = Vec::new();
    if !scan.unclosed_braces.is_empty() {
        problems.push(Unresolved {
            service: service.to_owned(),
            via: via.to_owned(),
            reference: text.to_owned(),
            message: "`{{` without a closing `}}`".into(),
        });
    }
    let mut out = String::with_capacity(text.len());
    let mut cursor = 0;
    for r in &scan.refs {
        let written = &text[r.start..r.end];
        let value = match lookup(spec, service, r, values) {
            Ok(v) => v,
            Err(message) => {
                problems.push(Unresolved {
                    service: service.to_owned(),
                    via: via.to_owned(),
                    reference: written.to_owned(),
                    message,
                });
                continue;
            }
        };
        let (from, to) = if r.braced {
            braces_around(text, r).unwrap_or((r.start, r.end))
        } else {
            (r.start, r.end)
        };
        if from < cursor {
            // two references inside one `{{ }}`: keep the text, replace the ref only
            out.push_str(&text[cursor..r.start]);
            out.push_str(&value);
            cursor = r.end;
            continue;
        }
        out.push_str(&text[cursor..from]);
        out.push_str(&value);
        cursor = to;
    }
    out.push_str(&text[cursor..]);
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// `{{ ref }}` holding only this reference: the range of the whole braces.
fn braces_around(text: &str, r: &TemplateRef) -> Option<(usize, usize)> {
    let open = text[..r.start].rfind("{{")?;
    if !text[open + 2..r.start].trim().is_empty() {
        return None;
    }
    let close_rel = text[r.end..].find("}}")?;
    if !text[r.end..r.end + close_rel].trim().is_empty() {
        return None;
    }
    Some((open, r.end + close_rel + 2))
}

fn lookup(spec: &Spec, service: &str, r: &TemplateRef, values: &Values) -> Result<String, String> {
    let target = match &r.scope {
        RefScope::This => service.to_owned(),
        RefScope::Resource(key) => match spec.service_by_resource_key(key) {
            Some(s) => s.name.value.clone(),
            None => return Err(format!("no service has the resource key `{key}`")),
        },
    };
    match r.kind {
        RefKind::Var => values
            .var(&target, &r.path)
            .map(str::to_owned)
            .ok_or_else(|| format!("{target} has no value for parameter `{}`", r.path)),
        RefKind::Sys => values
            .sys(&target, &r.path)
            .map(str::to_owned)
            .ok_or_else(|| {
                if template::system_parameter(&r.path).is_some() {
                    format!(
                        "system parameter `{}` of {target} has no meaning in this deployment",
                        r.path
                    )
                } else {
                    format!("`{}` is not a known system parameter", r.path)
                }
            }),
    }
}

/// Resolve a service's `environment`: `(name, value)` in order. Entries
/// without a value (`- NAME`) are left out.
pub fn resolve_environment(
    spec: &Spec,
    service: &Service,
    values: &Values,
) -> Result<Vec<(String, String)>, Vec<Unresolved>> {
    let mut env = Vec::new();
    let mut problems = Vec::new();
    for var in &service.environment {
        let Some(value) = &var.value else { continue };
        match resolve_str(
            spec,
            &service.name.value,
            &var.name.value,
            &value.value,
            values,
        ) {
            Ok(v) => env.push((var.name.value.clone(), v)),
            Err(mut p) => problems.append(&mut p),
        }
    }
    if problems.is_empty() {
        Ok(env)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &str = "services:
  Master:
    image: x
    environment:
      - A=$parameterGroup.var.user
      - B=plain
      - C=url://{{ $parameterGroup.var.user }}:{{ $sys.id }}/x
  Replica:
    image: x
    environment:
      - H=$master.sys.network.externalClusterServerlessEndpoint.endpointName
      - P=$master.sys.network.externalClusterServerlessEndpoint.openPorts[0]
      - Q=$nobody.var.x
      - R=$parameterGroup.var.missing
  ParameterGroup:
    image: omnistrate/noop
";

    fn values() -> Values {
        let mut v = Values::default();
        v.set_var("ParameterGroup", "user", "alice");
        v.set_sys("Master", "id", "d1");
        v.set_sys(
            "Master",
            "network.externalClusterServerlessEndpoint.endpointName",
            "master",
        );
        v.set_sys(
            "Master",
            "network.externalClusterServerlessEndpoint.openPorts[0]",
            "3306",
        );
        v
    }

    #[test]
    fn resolves_vars_sys_and_braces() {
        let a = crate::analyze(SPEC);
        let master = a.spec.service("Master").unwrap();
        let env = resolve_environment(&a.spec, master, &values()).unwrap();
        assert_eq!(
            env,
            vec![
                ("A".into(), "alice".into()),
                ("B".into(), "plain".into()),
                ("C".into(), "url://alice:d1/x".into()),
            ]
        );
    }

    #[test]
    fn reports_what_has_no_value() {
        let a = crate::analyze(SPEC);
        let replica = a.spec.service("Replica").unwrap();
        let err = resolve_environment(&a.spec, replica, &values()).unwrap_err();
        let vias: Vec<&str> = err.iter().map(|u| u.via.as_str()).collect();
        assert_eq!(vias, vec!["Q", "R"]);
        assert!(err[0].message.contains("resource key `nobody`"));
        let ok = resolve_str(
            &a.spec,
            "Replica",
            "P",
            "$master.sys.network.externalClusterServerlessEndpoint.openPorts[0]",
            &values(),
        );
        assert_eq!(ok.unwrap(), "3306");
    }
}
