//! The OpenAPI document, generated from the handlers and the wire types of
//! `shared::wire` (`utoipa`): the page reads the same types.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use shared::wire;

use super::{deployments, recovery};

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        // an empty body is a spec too (an empty one: its report says so)
        if let Some(body) = openapi
            .paths
            .paths
            .get_mut("/api/validate")
            .and_then(|p| p.post.as_mut())
            .and_then(|op| op.request_body.as_mut())
        {
            body.required = Some(utoipa::openapi::Required::False);
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "specstudio API", description = "Validate, store and deploy Omnistrate-style specs on a local Docker engine."),
    paths(
        super::healthz,
        super::metrics,
        super::validate,
        super::create_spec,
        super::get_spec,
        deployments::create,
        deployments::view::list,
        deployments::view::get_one,
        deployments::patch,
        deployments::delete,
        deployments::events::events,
        deployments::logs::logs,
        recovery::list,
        recovery::remove,
        recovery::reseed,
    ),
    components(schemas(
        wire::ErrorBody,
        wire::ErrorDetail,
        wire::Health,
        wire::SpecCreated,
        wire::StoredSpec,
        wire::LintDiagnostic,
        wire::LintSummary,
        wire::CreateDeployment,
        wire::PatchDeployment,
        wire::Accepted,
        wire::DeploymentView,
        wire::DeploymentSummary,
        wire::ContainerView,
        wire::Endpoint,
        wire::ReplicationView,
        wire::ServerlessView,
        wire::AutoscalingView,
        wire::EndpointKind,
        wire::Status,
        wire::Event,
        wire::EventKind,
        wire::Orphan,
    )),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

/// OpenAPI links: how the id an operation answers with is used by the
/// next (clients, and schemathesis' stateful phase, follow them): as the
/// `{id}` of a path, or (`Body`) as the `specId` of a deployment. The event
/// stream is left out: it never ends, so it is no step of a sequence.
/// `(path, method, status, [(link name, target operationId, how)])`.
type LinksFrom = (
    &'static str,
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str, Via)],
);

const LINKS: &[LinksFrom] = &[
    (
        "/api/deployments",
        "post",
        "202",
        &[
            ("GetDeployment", "get_one", Via::Path),
            ("PatchDeployment", "patch", Via::Path),
            ("DeleteDeployment", "delete", Via::Path),
            ("DeploymentLogs", "logs", Via::Path),
        ],
    ),
    (
        "/api/specs",
        "post",
        "201",
        &[
            ("GetSpec", "get_spec", Via::Path),
            ("DeploySpec", "create", Via::SpecId),
        ],
    ),
];

#[derive(Clone, Copy)]
enum Via {
    Path,
    SpecId,
}

/// The document as JSON, with [`LINKS`] (written here: utoipa 5.5 writes
/// a `Link`'s fields in snake case, which OpenAPI readers refuse).
pub fn document() -> serde_json::Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    for (path, method, status, links) in LINKS {
        let Some(response) = doc
            .pointer_mut(&format!(
                "/paths/{}/{method}/responses/{status}",
                path.replace('/', "~1")
            ))
            .and_then(|r| r.as_object_mut())
        else {
            continue;
        };
        let links: serde_json::Map<String, serde_json::Value> = links
            .iter()
            .map(|(name, operation, via)| {
                let link = match via {
                    Via::Path => serde_json::json!({
                        "operationId": operation,
                        "parameters": { "id": "$response.body#/id" },
                        "description": format!("`id` of this answer as `{{id}}` of `{operation}`"),
                    }),
                    Via::SpecId => serde_json::json!({
                        "operationId": operation,
                        "requestBody": { "specId": "$response.body#/id", "params": {} },
                        "description": "deploy the stored spec: `id` of this answer as `specId`",
                    }),
                };
                ((*name).to_owned(), link)
            })
            .collect();
        response.insert("links".into(), links.into());
    }
    doc
}

/// `GET /api/openapi.json`
pub async fn serve() -> Json<serde_json::Value> {
    Json(document())
}

#[cfg(test)]
mod tests {
    /// Every link names an operation of the document by its `operationId`
    /// (written in camel case: OpenAPI readers refuse `operation_id`).
    #[test]
    fn links_name_operations_of_the_document() {
        let doc = super::document();
        let mut ids = Vec::new();
        for item in doc["paths"].as_object().unwrap().values() {
            for op in item.as_object().unwrap().values() {
                if let Some(id) = op["operationId"].as_str() {
                    ids.push(id.to_owned());
                }
            }
        }
        let mut seen = 0;
        for (path, method, status, links) in super::LINKS {
            let response = &doc["paths"][path][method]["responses"][status];
            for (name, operation, _) in *links {
                let link = &response["links"][name];
                assert_eq!(link["operationId"], *operation, "{path} {name}: {link}");
                assert!(link.get("operation_id").is_none());
                assert_eq!(
                    ids.iter().filter(|i| i == operation).count(),
                    1,
                    "`{operation}` names one operation"
                );
                seen += 1;
            }
        }
        assert_eq!(seen, 6);
        assert_eq!(
            doc["paths"]["/api/specs"]["post"]["responses"]["201"]["links"]["DeploySpec"]
                ["requestBody"]["specId"],
            "$response.body#/id"
        );
    }
}
