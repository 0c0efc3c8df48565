//! Relays: the loopback listeners the proxy reaches a swarm instance through,
//! each forwarding to the task's host-mode port on its node (re-pointed when the task moves).

use super::*;

/// A loopback listener forwarding to an instance port on its node.
pub(super) struct Relay {
    port: u16,
    target: Arc<Mutex<Option<SocketAddr>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SwarmEngine {
    /// The loopback port of the relay for (service, port), created on first
    /// use and pointed at `target`.
    pub(super) async fn relay(
        &self,
        service: &str,
        port: u16,
        target: SocketAddr,
    ) -> Result<u16, EngineError> {
        let key = (service.to_owned(), port);
        if let Some(r) = self
            .relays
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            *r.target.lock().unwrap_or_else(|e| e.into_inner()) = Some(target);
            return Ok(r.port);
        }
        let listener = TcpListener::bind((RELAY_HOST, 0))
            .await
            .map_err(|e| EngineError::Other(format!("relay for {service}: {e}")))?;
        let local = listener
            .local_addr()
            .map_err(|e| EngineError::Other(format!("relay for {service}: {e}")))?
            .port();
        let shared = Arc::new(Mutex::new(Some(target)));
        let to = shared.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let Some(dest) = *to.lock().unwrap_or_else(|e| e.into_inner()) else {
                    continue;
                };
                tokio::spawn(async move {
                    let upstream =
                        tokio::time::timeout(Duration::from_secs(5), TcpStream::connect(dest))
                            .await;
                    if let Ok(Ok(mut up)) = upstream {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut up).await;
                    } else {
                        debug!(%dest, "relay: node port refused");
                    }
                });
            }
        });
        let mut relays = self.relays.lock().unwrap_or_else(|e| e.into_inner());
        let r = relays.entry(key).or_insert(Relay {
            port: local,
            target: shared,
            task,
        });
        Ok(r.port)
    }

    pub(super) fn drop_relays(&self, service: &str) {
        self.relays
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|(s, _), _| s != service);
    }
}
