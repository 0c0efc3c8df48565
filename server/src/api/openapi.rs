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
        deployments::list,
        deployments::get_one,
        deployments::patch,
        deployments::delete,
        deployments::events,
        deployments::logs,
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

/// `GET /api/openapi.json`
pub async fn serve() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
