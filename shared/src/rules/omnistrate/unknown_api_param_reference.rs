use crate::declare_rule;
use crate::model::keys::did_you_mean;
use crate::model::{read_string, Spanned};
use crate::rules::{Context, Rule, Sink};

use super::support::{param_keys, replace_text};

declare_rule! {
    /// ## What
    /// An `x-omnistrate-compute` reference to an API parameter that the same
    /// service does not declare: `instanceTypes[].apiParam`,
    /// `replicaCountAPIParam` (or its `replicaCountApiParam` spelling), and
    /// the schema's `minReplicasAPIParam`, `maxReplicasAPIParam`,
    /// `cpuAPIParam` and `memoryAPIParam`.
    ///
    /// ## Why
    /// The platform reads the value of that parameter of this resource; a
    /// parameter of another service (or none) leaves the instance type or
    /// replica count undefined.
    ///
    /// ## Example
    /// ```yaml
    /// x-omnistrate-compute:
    ///   replicaCountAPIParam: numReplicas   # declared key is numReadReplicas
    /// ```
    pub struct UnknownApiParamReference {
        code: "O020",
        name: "unknown-api-param-reference",
        severity: Error,
        layer: Omnistrate,
        summary: "A compute field names an API parameter the service does not declare",
        help: "Name an API parameter declared in this service's `x-omnistrate-api-params`.",
        fixable: true,
    }
}

const TWINS: [&str; 4] = [
    "minReplicasAPIParam",
    "maxReplicasAPIParam",
    "cpuAPIParam",
    "memoryAPIParam",
];

impl Rule for UnknownApiParamReference {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        for service in &ctx.spec.services {
            let Some(compute) = &service.compute else {
                continue;
            };
            let mut refs: Vec<(&str, Spanned<String>)> = Vec::new();
            for instance in &compute.instance_types {
                if let Some(r) = &instance.api_param {
                    refs.push(("apiParam", r.clone()));
                }
            }
            if let Some(r) = &compute.replica_count_api_param {
                refs.push(("replicaCountAPIParam", r.clone()));
            }
            for twin in TWINS {
                if let Some(r) = read_string(ctx.tree, compute.node, twin) {
                    refs.push((twin, r));
                }
            }
            for (field, reference) in refs {
                let key = reference.value.as_str();
                if service.param(key).is_some() {
                    continue;
                }
                let elsewhere = ctx
                    .spec
                    .services
                    .iter()
                    .find(|s| s.name.value != service.name.value && s.param(key).is_some());
                let diagnostic = sink.at(
                    reference.node,
                    format!("`{}` has no API parameter `{key}`", service.name.value),
                );
                if let Some(other) = elsewhere {
                    diagnostic.help(format!(
                        "`{key}` is declared on `{}`; `{field}` must name a parameter of this service, so declare it here too.",
                        other.name.value
                    ));
                }
                if let Some(suggestion) = did_you_mean(key, param_keys(service)) {
                    diagnostic.fix(replace_text(
                        ctx.tree,
                        reference.node,
                        format!("Did you mean `{suggestion}`?"),
                        suggestion,
                    ));
                }
            }
        }
    }
}
