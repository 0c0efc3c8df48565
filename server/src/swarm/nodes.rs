//! What the swarm says about its nodes and tasks, and the per-node checks.
//!
//! Services, tasks and nodes are the manager's; images, containers, volumes,
//! logs and stats are each node daemon's, so the engine also holds one
//! connection per node ([`NodeEndpoint`]): there is no registry, and an image
//! missing on a node would leave a task pending forever with no clear error.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use axum::http::StatusCode;
use bollard::models::{NodeSpecRoleEnum, NodeState, ServiceSpec, TaskState};
use bollard::query_parameters::{
    InspectServiceOptions, ListNodesOptions, ListTasksOptions, UpdateServiceOptions,
};
use bollard::Docker;

use super::ZONE_LABEL;

#[derive(Debug, thiserror::Error)]
pub enum SwarmError {
    /// No registry: images are loaded on every node beforehand.
    #[error(
        "image `{image}` is not on swarm node `{node}`: load it there \
         (docker save | docker load) before deploying"
    )]
    ImageMissing { node: String, image: String },
    #[error("swarm node `{node}` is unreachable: {reason}")]
    NodeUnreachable { node: String, reason: String },
    #[error("swarm engine: {0}")]
    Docker(#[from] bollard::errors::Error),
    #[error("swarm engine: {0}")]
    Other(String),
}

impl SwarmError {
    /// The HTTP status the API answers with: a missing image is the user's
    /// to fix (422), a node or manager that does not answer is not (503/502).
    pub fn status(&self) -> StatusCode {
        match self {
            SwarmError::ImageMissing { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            SwarmError::NodeUnreachable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            SwarmError::Docker(_) | SwarmError::Other(_) => StatusCode::BAD_GATEWAY,
        }
    }
}

/// How the server reaches one node's daemon (`unix:///run/swarm-node2.sock`,
/// `tcp://10.0.0.12:2375`), keyed by the node's hostname.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeEndpoint {
    pub hostname: String,
    pub docker_host: String,
}

/// Connect to a daemon (a manager or one node) and agree on the API version
/// (the engine here speaks 1.41).
pub async fn connect(docker_host: &str) -> Result<Docker, SwarmError> {
    let docker = if docker_host.starts_with("unix://") || docker_host.starts_with('/') {
        Docker::connect_with_unix(docker_host, 30, bollard::API_DEFAULT_VERSION)?
    } else if docker_host.starts_with("tcp://") || docker_host.starts_with("http://") {
        Docker::connect_with_http(docker_host, 30, bollard::API_DEFAULT_VERSION)?
    } else {
        return Err(SwarmError::Other(format!(
            "unsupported docker host `{docker_host}` (use unix:// or tcp://)"
        )));
    };
    tokio::time::timeout(Duration::from_secs(5), docker.negotiate_version())
        .await
        .map_err(|_| SwarmError::Other(format!("{docker_host} did not answer within 5 s")))?
        .map_err(SwarmError::from)
}

/// One node as the manager sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SwarmNode {
    pub id: String,
    pub hostname: String,
    pub ready: bool,
    pub manager: bool,
    /// The address other nodes (and the server) reach it at: where its
    /// host-mode published ports answer.
    pub addr: String,
    pub zone: Option<String>,
}

/// Every node, sorted by hostname.
pub async fn list_nodes(manager: &Docker) -> Result<Vec<SwarmNode>, SwarmError> {
    let mut nodes: Vec<SwarmNode> = manager
        .list_nodes(None::<ListNodesOptions>)
        .await?
        .into_iter()
        .map(|n| {
            let labels = n.spec.as_ref().and_then(|s| s.labels.clone());
            SwarmNode {
                id: n.id.unwrap_or_default(),
                hostname: n.description.and_then(|d| d.hostname).unwrap_or_default(),
                ready: n.status.as_ref().and_then(|s| s.state) == Some(NodeState::READY),
                manager: n.spec.as_ref().and_then(|s| s.role) == Some(NodeSpecRoleEnum::MANAGER),
                addr: n.status.and_then(|s| s.addr).unwrap_or_default(),
                zone: labels.and_then(|mut l| l.remove(ZONE_LABEL)),
            }
        })
        .collect();
    nodes.sort_by(|a, b| a.hostname.cmp(&b.hostname));
    Ok(nodes)
}

/// Where a service's running task is, and on which node ports its container
/// ports are published (host mode).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskPlacement {
    pub task_id: String,
    pub node_id: String,
    /// Container port → published port on the node.
    pub host_ports: BTreeMap<u16, u16>,
}

/// The task of `service` that is running now, if any.
pub async fn running_task(
    manager: &Docker,
    service: &str,
) -> Result<Option<TaskPlacement>, SwarmError> {
    let filters = HashMap::from([
        ("service".to_owned(), vec![service.to_owned()]),
        ("desired-state".to_owned(), vec!["running".to_owned()]),
    ]);
    let tasks = manager
        .list_tasks(Some(ListTasksOptions {
            filters: Some(filters),
        }))
        .await?;
    Ok(tasks.into_iter().find_map(|t| {
        let status = t.status?;
        if status.state != Some(TaskState::RUNNING) {
            return None;
        }
        // host-mode ports are listed (twice, cosmetic) in the port status
        let host_ports = status
            .port_status
            .and_then(|p| p.ports)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|p| {
                let target = u16::try_from(p.target_port?).ok()?;
                let published = u16::try_from(p.published_port?).ok()?;
                Some((target, published))
            })
            .collect();
        Some(TaskPlacement {
            task_id: t.id?,
            node_id: t.node_id?,
            host_ports,
        })
    }))
}

/// A service's spec and the version a change to it must name.
async fn current_spec(manager: &Docker, name: &str) -> Result<(i32, ServiceSpec), SwarmError> {
    let current = manager
        .inspect_service(name, None::<InspectServiceOptions>)
        .await?;
    let version = current
        .version
        .and_then(|v| v.index)
        .and_then(|i| i32::try_from(i).ok())
        .ok_or_else(|| SwarmError::Other(format!("service `{name}` has no usable version")))?;
    Ok((version, current.spec.unwrap_or_default()))
}

/// Replace a service's spec (scale to 0 or 1, pin it to its node). The
/// manager wants the version the change is based on: a concurrent change is
/// refused, never silently overwritten.
pub async fn update_service(
    manager: &Docker,
    name: &str,
    spec: ServiceSpec,
) -> Result<(), SwarmError> {
    let (version, _) = current_spec(manager, name).await?;
    manager
        .update_service(
            name,
            spec,
            UpdateServiceOptions {
                version,
                ..Default::default()
            },
            None,
        )
        .await?;
    Ok(())
}

/// Change a service's current spec with `change` (`false`: nothing to
/// change) and write it back. Two writers (a scale and a pin) may race: the
/// manager refuses the older one ("update out of sequence"), and the change
/// is applied again to the spec as it is now (a few times, then the error).
pub async fn change_service(
    manager: &Docker,
    name: &str,
    change: impl Fn(&mut ServiceSpec) -> bool,
) -> Result<(), SwarmError> {
    let mut tries = 0;
    loop {
        let (version, mut spec) = current_spec(manager, name).await?;
        if !change(&mut spec) {
            return Ok(());
        }
        let options = UpdateServiceOptions {
            version,
            ..Default::default()
        };
        match manager.update_service(name, spec, options, None).await {
            Ok(_) => return Ok(()),
            Err(e) if tries < 4 && e.to_string().contains("out of sequence") => {
                tries += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// `Ok` when `image` is on every node; else the first node (in the given
/// order) that lacks it or does not answer, by name.
pub async fn check_image(nodes: &[(String, Docker)], image: &str) -> Result<(), SwarmError> {
    for (hostname, docker) in nodes {
        let found = tokio::time::timeout(Duration::from_secs(5), docker.inspect_image(image))
            .await
            .map_err(|_| SwarmError::NodeUnreachable {
                node: hostname.clone(),
                reason: "no answer within 5 s".into(),
            })?;
        match found {
            Ok(_) => {}
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => {
                return Err(SwarmError::ImageMissing {
                    node: hostname.clone(),
                    image: image.to_owned(),
                })
            }
            Err(e) => {
                return Err(SwarmError::NodeUnreachable {
                    node: hostname.clone(),
                    reason: e.to_string(),
                })
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_image_is_a_422_naming_the_node() {
        let e = SwarmError::ImageMissing {
            node: "swarm-node2".into(),
            image: "specstudio/mysql:local".into(),
        };
        assert_eq!(e.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let text = e.to_string();
        assert!(text.contains("`swarm-node2`") && text.contains("specstudio/mysql:local"));
        let down = SwarmError::NodeUnreachable {
            node: "swarm-node3".into(),
            reason: "connection refused".into(),
        };
        assert_eq!(down.status(), StatusCode::SERVICE_UNAVAILABLE);
    }
}
