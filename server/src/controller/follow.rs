//! Container output: each serving container's output is followed once,
//! redacted line by line, broadcast as `log` events and, for
//! `omnistrateLogging` stacks, kept on disk ([`crate::logs::LogKeeper`]).

use std::sync::Arc;

use futures_util::StreamExt;
use tracing::warn;

use super::Controller;

impl Controller {
    pub(super) fn follow_logs(
        self: &Arc<Self>,
        deployment: &str,
        container: &str,
        from_start: bool,
        keep: bool,
    ) {
        let Some(engine) = self.engine() else {
            return;
        };
        if !self.with_runtime(deployment, |rt| rt.followed.insert(container.to_owned())) {
            return;
        }
        let since = if from_start {
            0
        } else {
            crate::store::now_ms() / 1000
        };
        let this = self.clone();
        let deployment = deployment.to_owned();
        let container = container.to_owned();
        tokio::spawn(async move {
            let mut stream = engine.logs(&container, since);
            let mut partial = String::new();
            while let Some(item) = stream.next().await {
                let Ok(item) = item else { break };
                partial.push_str(&item);
                while let Some(pos) = partial.find('\n') {
                    let line: String = partial.drain(..=pos).collect();
                    let line = line.trim_end();
                    if !line.is_empty() {
                        let line =
                            format!("[{container}] {}", this.hub.redact_line(&deployment, line));
                        if let (true, Some(logs)) = (keep, &this.logs) {
                            if let Err(e) = logs.append(&deployment, crate::store::now_ms(), &line)
                            {
                                warn!(deployment = %deployment, "keeping a log line failed: {e}");
                            }
                        }
                        this.hub.record(&deployment, "log", line);
                    }
                }
            }
            this.with_runtime(&deployment, |rt| rt.followed.remove(&container));
        });
    }
}
