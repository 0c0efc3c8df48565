use crate::declare_rule;
use crate::diagnostic::Severity;
use crate::model::keys::did_you_mean;
use crate::rules::{Context, Rule, Sink};

use super::support::{object_label, objects, rename_key};

declare_rule! {
    /// ## What
    /// A key the schema does not know inside an API parameter, its `limits`,
    /// `x-omnistrate-compute`, an `instanceTypes[]` item,
    /// `x-omnistrate-capabilities`, `autoscaling`, `serverlessConfiguration`,
    /// an action hook, `x-omnistrate-load-balancer` (its HTTPS and TCP
    /// balancers and their routes), `x-omnistrate-storage` and its per-cloud
    /// entries, `x-omnistrate-job-config`, `x-omnistrate-service-plan` (its
    /// `deployment` kinds and their account fields, in both spellings the
    /// parser accepts), or a registry of
    /// `x-omnistrate-image-registry-attributes` and its `auth`; inside them
    /// the sidecars, `customDNS`, `backupConfiguration`, `httpReverseProxy`,
    /// `nodeWarmPool`, `scalingMetric`, `scheduleConfig`, the plan's
    /// `pricing`, `metering` and `billingProviders`, and
    /// `x-customer-integrations` / `x-internal-integrations`.
    ///
    /// ## Why
    /// These objects are closed (`additionalProperties: false` in the plan
    /// schema): a misspelt field is either rejected at build time or, worse,
    /// ignored, so `defaultvalue` or `minReplica` never takes effect. A near
    /// miss of a known field is an error with a fix; any other unknown field
    /// is a warning, since the platform adds fields faster than the
    /// published schemas. In the tables we know to be incomplete (sidecars,
    /// custom DNS, schedules, integrations) even a near miss is a warning.
    ///
    /// ## Example
    /// ```yaml
    /// x-omnistrate-api-params:
    ///   - key: numReadReplicas
    ///     type: Float64
    ///     defaultvalue: "1"   # defaultValue
    /// ```
    pub struct UnknownOmnistrateField {
        code: "O003",
        name: "unknown-omnistrate-field",
        severity: Error,
        layer: Omnistrate,
        summary: "Unknown field in an Omnistrate object",
        help: "Check the spelling; these objects accept only their documented fields.",
        fixable: true,
    }
}

impl Rule for UnknownOmnistrateField {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        let tree = ctx.tree;
        for object in objects(ctx) {
            let schema = object.schema;
            for entry in tree.entries(object.node) {
                let Some(key) = tree.str(entry.key) else {
                    continue;
                };
                if schema.field(key).is_some() {
                    continue;
                }
                let current = schema.fields.iter().filter(|f| f.deprecated_by.is_none());
                let suggestion = did_you_mean(key, current.clone().map(|f| f.key))
                    .filter(|s| tree.get(object.node, s).is_none());
                let diagnostic = sink.at(
                    entry.key,
                    format!("unknown field `{key}` in {}", object_label(schema)),
                );
                let list = || {
                    let names: Vec<String> =
                        current.clone().map(|f| format!("`{}`", f.key)).collect();
                    names.join(", ")
                };
                if object.tentative {
                    // Our table may be incomplete here: never more than a warning.
                    diagnostic.severity(Severity::Warning).help(format!(
                        "Fields we know: {}. This table is written from the docs and \
                         published specs; the platform may know others.",
                        list()
                    ));
                } else if schema.fields.len() <= 8 {
                    diagnostic.help(format!("Known fields: {}.", list()));
                }
                match suggestion {
                    Some(suggestion) => {
                        diagnostic.fix(rename_key(
                            tree,
                            entry.key,
                            format!("Did you mean `{suggestion}`?"),
                            suggestion,
                        ));
                    }
                    // Not a near miss: maybe a field newer than our tables.
                    None => {
                        diagnostic.severity(Severity::Warning);
                    }
                }
            }
        }
    }
}
