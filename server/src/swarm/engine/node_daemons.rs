//! The node daemons' side of the swarm: which nodes answer, the task containers
//! and volumes on them, and the bounded wait for removed tasks' containers.

use super::*;

impl SwarmEngine {
    /// The daemons of the nodes the manager reports ready (all of them
    /// when the manager cannot say): a down node is skipped, not waited for.
    pub(super) async fn ready_daemons(&self) -> Vec<(String, Docker)> {
        let Ok(listed) = list_nodes(&self.manager).await else {
            return self.nodes.clone();
        };
        self.nodes
            .iter()
            .filter(|(h, _)| listed.iter().any(|n| &n.hostname == h && n.ready))
            .cloned()
            .collect()
    }

    /// Task containers with `label` on the given nodes: (daemon, id).
    pub(super) async fn node_containers(
        daemons: &[(String, Docker)],
        label: &str,
    ) -> Vec<(Docker, String)> {
        let lists = daemons.iter().map(|(node, d)| async move {
            let found = d
                .list_containers(Some(ListContainersOptions {
                    all: true,
                    filters: Some(HashMap::from([(
                        "label".to_owned(),
                        vec![label.to_owned()],
                    )])),
                    ..Default::default()
                }))
                .await;
            match found {
                Ok(list) => list
                    .into_iter()
                    .filter_map(|c| Some((d.clone(), c.id?)))
                    .collect(),
                Err(e) => {
                    warn!(%node, "swarm node containers not listed: {e}");
                    Vec::new()
                }
            }
        });
        futures_util::future::join_all(lists)
            .await
            .into_iter()
            .flatten()
            .collect()
    }

    /// After service removals: wait (bounded) until no container with
    /// `label` is left on a ready node. After `grace` what is left is
    /// force-removed (the removal was asked for; a slow stop must not keep
    /// its volume busy); after `grace` + [`CONTAINERS_GONE`] the wait ends.
    pub(super) async fn wait_containers_gone(&self, label: &str, grace: Duration) {
        let daemons = self.ready_daemons().await;
        let started = Instant::now();
        loop {
            let left = Self::node_containers(&daemons, label).await;
            if left.is_empty() {
                return;
            }
            if started.elapsed() >= grace + CONTAINERS_GONE {
                warn!(%label, "{} task container(s) still on the nodes", left.len());
                return;
            }
            if started.elapsed() >= grace {
                for (d, id) in left {
                    let force = RemoveContainerOptions {
                        force: true,
                        ..Default::default()
                    };
                    // "removal already in progress" included: listed again
                    if let Err(e) = d.remove_container(&id, Some(force)).await {
                        debug!(%id, "task container not removed yet: {e}");
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Networks (manager) and volumes (every node) by label, with their
    /// deployment label.
    pub(super) async fn observe_storage(
        &self,
        labels: &[(&str, &str)],
    ) -> Result<(Vec<(String, String)>, Vec<(String, String)>), EngineError> {
        let networks = self
            .manager
            .list_networks(Some(bollard::query_parameters::ListNetworksOptions {
                filters: Some(Self::filters(labels)),
            }))
            .await?
            .into_iter()
            .filter_map(|n| {
                let dep = n.labels?.get(LABEL_DEPLOYMENT)?.clone();
                Some((dep, n.name?))
            })
            .collect();
        let mut volumes = Vec::new();
        for (node, d) in &self.ready_daemons().await {
            let found = d
                .list_volumes(Some(ListVolumesOptions {
                    filters: Some(Self::filters(labels)),
                }))
                .await;
            match found {
                Ok(r) => {
                    for v in r.volumes.unwrap_or_default() {
                        if let Some(dep) = v.labels.get(LABEL_DEPLOYMENT) {
                            volumes.push((dep.clone(), v.name));
                        }
                    }
                }
                Err(e) => warn!(%node, "swarm node volumes not listed: {e}"),
            }
        }
        Ok((networks, volumes))
    }
}
