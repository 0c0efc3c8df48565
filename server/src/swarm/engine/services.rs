//! The manager's side of the swarm: one single-task service per instance —
//! its state, task and container, pinning to its node, scaling, zones.

use super::*;

impl SwarmEngine {
    /// Delete one service (`Ok` when gone already) and drop its relays.
    pub(super) async fn delete_service(&self, name: &str) -> Result<(), EngineError> {
        self.drop_relays(name);
        self.pinned
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(name);
        match self.manager.delete_service(name).await {
            Ok(()) => Ok(()),
            Err(e) if not_found(&e) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Add `node.id==<node>` to a running service's constraints (once):
    /// its data is in that node's local volume, so a rescheduled task must
    /// never start elsewhere, empty. Only the placement changes, and the
    /// node satisfies it, so the swarm keeps the running task.
    pub(super) async fn pin(&self, name: &str, node_id: &str) {
        if self
            .pinned
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(name)
        {
            return;
        }
        let pinned = nodes::change_service(&self.manager, name, |spec| {
            let constraints = spec
                .task_template
                .get_or_insert_with(Default::default)
                .placement
                .get_or_insert_with(Default::default)
                .constraints
                .get_or_insert_with(Vec::new);
            if constraints.iter().any(|c| c.starts_with("node.id==")) {
                return false;
            }
            constraints.insert(0, format!("node.id=={node_id}"));
            true
        })
        .await;
        if let Err(e) = pinned {
            warn!(service = %name, "not pinned to its node yet: {e}");
            return;
        }
        debug!(service = %name, node = %node_id, "pinned to its node");
        self.pinned
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name.to_owned());
    }

    pub(super) fn labels(&self, mut l: BTreeMap<String, String>) -> BTreeMap<String, String> {
        l.insert(LABEL_INSTANCE.into(), self.instance.clone());
        l
    }

    pub(super) fn filters(labels: &[(&str, &str)]) -> HashMap<String, Vec<String>> {
        HashMap::from([(
            "label".to_owned(),
            labels.iter().map(|(k, v)| format!("{k}={v}")).collect(),
        )])
    }

    /// Services by label, each with its observation.
    pub(super) async fn observe_services(
        &self,
        labels: &[(&str, &str)],
    ) -> Result<Vec<(String, ObservedContainer)>, EngineError> {
        let services = self
            .manager
            .list_services(Some(ListServicesOptions {
                filters: Some(Self::filters(labels)),
                status: None,
            }))
            .await?;
        let listed: Option<Vec<SwarmNode>> = list_nodes(&self.manager).await.ok();
        let mut out = Vec::new();
        for s in services {
            let Some(spec) = s.spec else { continue };
            let name = spec.name.clone().unwrap_or_default();
            let l = spec.labels.clone().unwrap_or_default();
            let state = self.service_state(&name).await?;
            let ports = match state {
                Some((ContainerState::Running, _)) => self.host_ports(&name).await?,
                _ => BTreeMap::new(),
            };
            let node = match (&state, &listed) {
                (Some((ContainerState::Running, _)), Some(listed)) => {
                    let task = running_task(&self.manager, &name).await.map_err(other)?;
                    task.and_then(|t| listed.iter().find(|n| n.id == t.node_id).cloned())
                }
                _ => None,
            };
            out.push((
                l.get(LABEL_DEPLOYMENT).cloned().unwrap_or_default(),
                ObservedContainer {
                    id: name.clone(),
                    name,
                    resource: l.get(LABEL_RESOURCE).cloned().unwrap_or_default(),
                    replica: l
                        .get(LABEL_REPLICA)
                        .and_then(|r| r.parse().ok())
                        .unwrap_or(0),
                    state: state
                        .map_or(ContainerState::Unknown, |s| s.0)
                        .as_str()
                        .into(),
                    config_hash: l.get(LABEL_CONFIG).cloned().unwrap_or_default(),
                    ports,
                    zone: node.as_ref().and_then(|n| n.zone.clone()),
                    node: node.map(|n| n.hostname),
                },
            ));
        }
        Ok(out)
    }

    /// Replicas 1 (start) or 0 (stop); the service, its pin and its volume stay.
    pub(super) async fn scale(&self, name: &str, replicas: i64) -> Result<(), EngineError> {
        let changed = nodes::change_service(&self.manager, name, |spec| {
            let now = spec
                .mode
                .as_ref()
                .and_then(|m| m.replicated.as_ref())
                .and_then(|r| r.replicas);
            if now == Some(replicas) {
                return false;
            }
            spec.mode = Some(ServiceSpecMode {
                replicated: Some(ServiceSpecModeReplicated {
                    replicas: Some(replicas),
                }),
                ..Default::default()
            });
            true
        })
        .await;
        match changed {
            Err(SwarmError::Docker(e)) if not_found(&e) && replicas == 0 => Ok(()),
            other_result => other_result.map_err(other),
        }
    }

    /// A service's state: its running task, else its newest task's state
    /// (and exit code); `Exited` when scaled to 0; `None` when gone.
    pub(super) async fn service_state(
        &self,
        name: &str,
    ) -> Result<Option<(ContainerState, Option<i64>)>, EngineError> {
        let service = match self
            .manager
            .inspect_service(name, None::<InspectServiceOptions>)
            .await
        {
            Ok(s) => s,
            Err(e) if not_found(&e) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let replicas = service
            .spec
            .and_then(|s| s.mode)
            .and_then(|m| m.replicated)
            .and_then(|r| r.replicas)
            .unwrap_or(1);
        let mut tasks = self.tasks(name).await?;
        tasks.sort_by_key(|t| std::cmp::Reverse(t.updated_at.clone()));
        if tasks.iter().any(|t| {
            t.status.as_ref().and_then(|s| s.state) == Some(TaskState::RUNNING)
                && t.desired_state == Some(TaskState::RUNNING)
        }) {
            return Ok(Some((ContainerState::Running, None)));
        }
        if replicas == 0 {
            return Ok(Some((ContainerState::Exited, Some(0))));
        }
        let newest = tasks.first().and_then(|t| t.status.clone());
        let state = newest.as_ref().and_then(|s| s.state);
        let code = newest
            .and_then(|s| s.container_status)
            .and_then(|c| c.exit_code);
        Ok(Some(match state {
            Some(TaskState::FAILED | TaskState::REJECTED | TaskState::COMPLETE) => {
                (ContainerState::Exited, code)
            }
            Some(TaskState::SHUTDOWN | TaskState::ORPHANED) => (ContainerState::Dead, code),
            _ => (ContainerState::Created, None),
        }))
    }

    pub(super) async fn tasks(
        &self,
        service: &str,
    ) -> Result<Vec<bollard::models::Task>, EngineError> {
        Ok(self
            .manager
            .list_tasks(Some(ListTasksOptions {
                filters: Some(HashMap::from([(
                    "service".to_owned(),
                    vec![service.to_owned()],
                )])),
            }))
            .await?)
    }

    /// The running task's container and the daemon of its node.
    pub(super) async fn task_container(
        &self,
        service: &str,
    ) -> Result<Option<(Docker, String)>, EngineError> {
        Ok(self
            .task_container_on(service)
            .await?
            .map(|(_, d, id)| (d, id)))
    }

    /// The running task's node (hostname), the node's daemon and the
    /// task's container.
    pub(super) async fn task_container_on(
        &self,
        service: &str,
    ) -> Result<Option<(String, Docker, String)>, EngineError> {
        let Some(node_id) = running_task(&self.manager, service)
            .await
            .map_err(other)?
            .map(|t| t.node_id)
        else {
            return Ok(None);
        };
        let container = self.tasks(service).await?.into_iter().find_map(|t| {
            (t.node_id.as_deref() == Some(&node_id)
                && t.status.as_ref()?.state == Some(TaskState::RUNNING))
            .then(|| t.status?.container_status?.container_id)
            .flatten()
        });
        let nodes = list_nodes(&self.manager).await.map_err(other)?;
        let Some(hostname) = nodes
            .into_iter()
            .find(|n| n.id == node_id)
            .map(|n| n.hostname)
        else {
            return Ok(None);
        };
        let daemon = self
            .nodes
            .iter()
            .find(|(h, _)| *h == hostname)
            .map(|(_, d)| d.clone());
        Ok(daemon.zip(container).map(|(d, id)| (hostname, d, id)))
    }

    /// With `enableMultiZone` anywhere in the stack, every instance gets a
    /// zone of the ready nodes, spread over the whole deployment (the
    /// planner spreads per service, so a master and the first replica
    /// would share a zone): running instances first, then warm spares.
    pub(super) async fn zone_for(
        &self,
        stack: &DesiredStack,
        c: &DesiredContainer,
    ) -> Result<Option<String>, EngineError> {
        if stack.containers.iter().all(|x| x.zone.is_none()) {
            return Ok(None);
        }
        let mut zones: Vec<String> = list_nodes(&self.manager)
            .await
            .map_err(other)?
            .into_iter()
            .filter(|n| n.ready)
            .filter_map(|n| n.zone)
            .collect();
        zones.sort();
        zones.dedup();
        if zones.is_empty() {
            return Ok(c.zone.clone());
        }
        let order: Vec<&DesiredContainer> = stack
            .containers
            .iter()
            .filter(|x| !x.spare)
            .chain(stack.containers.iter().filter(|x| x.spare))
            .collect();
        let index = order.iter().position(|x| x.name == c.name).unwrap_or(0);
        let spread = spread_zones(order.len(), &zones);
        if let Some(note) = spread.note {
            debug!(deployment = %stack.deployment, "{note}");
            self.notes
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .entry(stack.deployment.clone())
                .or_default()
                .insert(note);
        }
        Ok(spread.zones.get(index).cloned())
    }
}
