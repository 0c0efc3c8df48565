//! Swarm secrets of one instance (its passwords, read through the image's
//! `<VAR>_FILE`): created idempotently, removed after their services.

use super::*;

impl SwarmEngine {
    /// Create (or find) the secrets of one instance; their references.
    pub(super) async fn ensure_secrets(
        &self,
        deployment: &str,
        service: &str,
        secrets: &[FileSecret],
    ) -> Result<Vec<TaskSpecContainerSpecSecrets>, EngineError> {
        let mut refs = Vec::new();
        for s in secrets {
            let mut labels = self.labels(base_labels(deployment));
            labels.insert(LABEL_SECRET_OF.into(), service.into());
            let spec = SecretSpec {
                name: Some(s.name.clone()),
                labels: Some(labels.into_iter().collect()),
                data: Some(base64(s.value.as_bytes())),
                ..Default::default()
            };
            let id = match self.manager.create_secret(spec).await {
                Ok(r) => r.id,
                // made by an earlier, interrupted step: same name, same value
                Err(bollard::errors::Error::DockerResponseServerError {
                    status_code: 409, ..
                }) => self
                    .manager
                    .inspect_secret(&s.name)
                    .await?
                    .id
                    .unwrap_or_default(),
                Err(e) => return Err(e.into()),
            };
            refs.push(TaskSpecContainerSpecSecrets {
                file: Some(TaskSpecContainerSpecFile {
                    name: Some(s.name.clone()),
                    uid: Some("0".into()),
                    gid: Some("0".into()),
                    mode: Some(0o400),
                }),
                secret_id: Some(id),
                secret_name: Some(s.name.clone()),
            });
        }
        Ok(refs)
    }

    /// Remove the secrets with these labels (after their services: a
    /// secret in use cannot go; retried briefly while the manager catches up).
    pub(super) async fn remove_secrets(&self, labels: &[(&str, &str)]) {
        let options = ListSecretsOptionsBuilder::default()
            .filters(&Self::filters(labels))
            .build();
        let listed = match self.manager.list_secrets(Some(options)).await {
            Ok(l) => l,
            Err(e) => {
                warn!("swarm secrets not listed: {e}");
                return;
            }
        };
        for secret in listed {
            let Some(id) = secret.id else { continue };
            for tries in 0.. {
                match self.manager.delete_secret(&id).await {
                    Ok(()) => break,
                    Err(e) if not_found(&e) => break,
                    Err(e) if tries >= 20 => {
                        warn!(%id, "swarm secret not removed: {e}");
                        break;
                    }
                    Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
                }
            }
        }
    }
}
