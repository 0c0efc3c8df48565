use crate::declare_rule;
use crate::model::keys::{did_you_mean, CLOUD_PROVIDERS};
use crate::model::{string_items, Spanned};
use crate::rules::{Context, Rule, Sink};

use super::support::replace_text;

declare_rule! {
    /// ## What
    /// An `instanceTypes[].cloudProvider`, or an item of an API parameter's
    /// `scope.cloudProviders`, that is not one of `aws azure gcp oci nebius
    /// generic private byoc-onprem all` (lower-case, as the schema's enum).
    ///
    /// ## Why
    /// The instance type (or parameter) is tied to a cloud the platform does
    /// not know, so it never applies: deployments on the intended cloud get
    /// no instance type.
    ///
    /// ## Example
    /// ```yaml
    /// instanceTypes:
    ///   - cloudProvider: amazon   # aws
    ///     apiParam: instanceType
    /// ```
    pub struct UnknownCloudProvider {
        code: "O022",
        name: "unknown-cloud-provider",
        severity: Error,
        layer: Omnistrate,
        summary: "Unknown cloud provider",
        help: "Use one of: aws, azure, gcp, oci, nebius, generic, private, byoc-onprem, all.",
        fixable: true,
    }
}

/// What people call the clouds when they do not use the schema's names.
fn alias(lowered: &str) -> Option<&'static str> {
    Some(match lowered {
        "amazon" | "ec2" | "amazon-web-services" => "aws",
        "google" | "gce" | "google-cloud" => "gcp",
        "microsoft" | "az" => "azure",
        "oracle" => "oci",
        _ => return None,
    })
}

impl Rule for UnknownCloudProvider {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        let tree = ctx.tree;
        let mut values: Vec<Spanned<String>> = Vec::new();
        for service in &ctx.spec.services {
            if let Some(compute) = &service.compute {
                values.extend(
                    compute
                        .instance_types
                        .iter()
                        .filter_map(|i| i.cloud_provider.clone()),
                );
            }
            for param in &service.api_params {
                let list = tree
                    .get_value(param.node, "scope")
                    .and_then(|scope| tree.get_value(scope, "cloudProviders"));
                if let Some(list) = list {
                    values.extend(string_items(tree, list));
                }
            }
        }
        for value in values {
            let text = value.value.as_str();
            if CLOUD_PROVIDERS.contains(&text) {
                continue;
            }
            let lowered = text.to_ascii_lowercase();
            let suggestion =
                alias(&lowered).or_else(|| did_you_mean(text, CLOUD_PROVIDERS.iter().copied()));
            let diagnostic = sink.at(value.node, format!("unknown cloud provider `{text}`"));
            if let Some(suggestion) = suggestion {
                diagnostic.fix(replace_text(
                    tree,
                    value.node,
                    format!("Did you mean `{suggestion}`?"),
                    suggestion,
                ));
            }
        }
    }
}
