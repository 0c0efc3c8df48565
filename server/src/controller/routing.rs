//! Routing: every reconcile makes the deployment's endpoint listeners match
//! its stack; a container takes connections once ready (replicas also caught
//! up with their master); one being removed is drained first. The endpoints
//! call back through [`ControllerHooks`] (wake, recheck, events).

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{Controller, ReconcileError};
use crate::plan::{DesiredContainer, DesiredStack};
use crate::proxy::{DeploymentNet, Hooks, PortBook};
use crate::store::Store;

/// The controller as the endpoints see it. Endpoints run on their own
/// threads; the work they ask for is spawned on the server's runtime.
struct ControllerHooks(Arc<Controller>, tokio::runtime::Handle);

impl Hooks for ControllerHooks {
    fn wake(&self, deployment: &str, endpoint: &str) {
        let _main = self.1.enter();
        self.0
            .wake(deployment, &format!("connection on endpoint {endpoint}"));
    }
    fn recheck(&self, deployment: &str, container: &str) {
        let _main = self.1.enter();
        self.0.recheck(deployment, container);
    }
    fn event(&self, deployment: &str, message: &str) {
        self.0.hub.step(deployment, message);
    }
}

/// [`ControllerHooks`] without keeping the controller alive (kernel
/// forwarding lives inside the controller's endpoints).
struct WeakHooks(std::sync::Weak<Controller>, tokio::runtime::Handle);

impl Hooks for WeakHooks {
    fn wake(&self, deployment: &str, endpoint: &str) {
        if let Some(c) = self.0.upgrade() {
            ControllerHooks(c, self.1.clone()).wake(deployment, endpoint);
        }
    }
    fn recheck(&self, deployment: &str, container: &str) {
        if let Some(c) = self.0.upgrade() {
            ControllerHooks(c, self.1.clone()).recheck(deployment, container);
        }
    }
    fn event(&self, deployment: &str, message: &str) {
        if let Some(c) = self.0.upgrade() {
            c.hub.step(deployment, message);
        }
    }
}

/// The store remembers endpoint ports across restarts.
impl PortBook for Store {
    fn port(&self, deployment: &str, endpoint: &str) -> Result<Option<u16>, String> {
        self.endpoint_port(deployment, endpoint)
            .map_err(|e| e.to_string())
    }
    fn set_port(&self, deployment: &str, endpoint: &str, port: u16) -> Result<(), String> {
        self.set_endpoint_port(deployment, endpoint, port)
            .map_err(|e| e.to_string())
    }
}

impl Controller {
    pub(super) async fn sync_endpoints(
        self: &Arc<Self>,
        id: &str,
        stack: &DesiredStack,
    ) -> Result<(), ReconcileError> {
        let hooks = Arc::new(ControllerHooks(
            self.clone(),
            tokio::runtime::Handle::current(),
        ));
        if let Some(kernel) = self.endpoints.kernel() {
            // kernel forwarding asks where a routed container is, and tells
            // about one that stopped answering (held weakly: no cycle)
            let this = Arc::downgrade(self);
            let weak_hooks = Arc::new(WeakHooks(this.clone(), tokio::runtime::Handle::current()));
            kernel.connect(
                weak_hooks,
                Arc::new(move |id: &str, name: &str| {
                    let (this, id, name) = (this.clone(), id.to_owned(), name.to_owned());
                    Box::pin(async move {
                        let this = this.upgrade()?;
                        let stack = this.stack(&id)?;
                        let c = stack.containers.iter().find(|c| c.name == name)?;
                        let port = c.ports.first().copied()?;
                        let ip = this.engine()?.container_address(&name).await.ok()??;
                        Some(std::net::SocketAddrV4::new(ip, port))
                    })
                }),
            );
        }
        self.endpoints
            .sync(id, &stack.endpoint_specs(), &*self.store, hooks)
            .await
            .map_err(ReconcileError::Endpoints)
    }

    /// A ready container takes connections from now on.
    pub(super) fn route(&self, id: &str, c: &DesiredContainer, host_port: Option<u16>) {
        let net = self.endpoints.net(id);
        let before = net.backend(&c.name);
        net.set_backend(&c.name, &c.resource, c.replica, host_port, true);
        if before.is_some_and(|b| b.routable && b.host_port == host_port) {
            return;
        }
        if c.ports.is_empty() {
            return;
        }
        self.hub.step(id, &format!("{} takes connections", c.name));
        let done = self.with_runtime(id, |rt| match rt.scale_started.get(&c.resource) {
            Some(up) if c.replica + 1 >= up.target => rt.scale_started.remove(&c.resource),
            _ => None,
        });
        if let Some(super::ScaleUp {
            decided,
            over_since,
            ..
        }) = done
        {
            let since_over = over_since
                .map(|t| {
                    format!(
                        ", {:.1} s after utilisation crossed the threshold",
                        t.elapsed().as_secs_f64()
                    )
                })
                .unwrap_or_default();
            self.hub.step(
                id,
                &format!(
                    "autoscaling {}: replica {} takes connections {:.1} s after the decision{since_over}",
                    c.resource,
                    c.replica,
                    decided.elapsed().as_secs_f64()
                ),
            );
        }
    }

    /// Stop routing to `container` and wait (bounded) for its clients to end.
    pub(super) async fn drain(&self, id: &str, net: &DeploymentNet, container: &str) {
        let open = net.drain(container);
        if open == 0 {
            return;
        }
        let limit = self.settings.drain_timeout;
        self.hub.step(id, &format!(
                "draining {container}: no new connections; waiting up to {} s for {open} open connection(s)",
                limit.as_secs()
            ),
        );
        let deadline = Instant::now() + limit;
        while net.backend_active(container) > 0 {
            if Instant::now() >= deadline {
                self.hub.step(id, &format!(
                        "draining {container}: {} connection(s) still open after {} s; closing them",
                        net.backend_active(container),
                        limit.as_secs()
                    ),
                );
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.hub.step(id, &format!("drained {container}"));
    }
}
