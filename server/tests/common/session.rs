//! The preamble most Docker tests repeated: one test at a time, Docker and
//! the image present, a server on a fresh data dir, a deployment whose
//! objects are removed whatever happens, a wait until it runs, and the
//! closing delete-and-secret checks.

use std::path::Path;
use std::sync::MutexGuard;

use serde_json::Value;

use super::*;

/// A test's server, transcript and data dir; holds [`SERIAL`] (released
/// last, after the server is stopped).
pub(crate) struct Session {
    pub server: Server,
    pub t: Transcript,
    pub dir: tempfile::TempDir,
    _serial: MutexGuard<'static, ()>,
}

/// A deployment of the test: its id, its label, and the guard that removes
/// its labelled objects when dropped (also when the test panics).
pub(crate) struct Deployed {
    pub id: String,
    pub label: String,
    _cleanup: Cleanup,
}

impl Deployed {
    /// Guard the objects of deployment `id`.
    pub(crate) fn new(id: String) -> Deployed {
        let label = format!("org.specstudio.deployment={id}");
        Deployed {
            _cleanup: Cleanup(label.clone()),
            id,
            label,
        }
    }
}

impl Session {
    /// [`Session::start_env`] without extra environment.
    pub(crate) fn start(args: &[&str]) -> Option<Session> {
        Session::start_env(args, &[])
    }

    /// Take the one-test-at-a-time lock, check Docker and the image
    /// (`None`: skipped locally with a loud message; with `CI=true` it
    /// panics instead) and start a server on a fresh data dir with `args`
    /// and `env`.
    pub(crate) fn start_env(args: &[&str], env: &[(&str, &str)]) -> Option<Session> {
        let serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        if !docker_ready() {
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let server = Server::start_env(dir.path(), args, env);
        Some(Session {
            server,
            t: Transcript::default(),
            dir,
            _serial: serial,
        })
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Stop the server (killed, as a crash) and start a new one on the same
    /// data dir.
    pub(crate) fn restart(&mut self, args: &[&str], env: &[(&str, &str)]) {
        self.server.kill();
        self.server = Server::start_env(self.dir.path(), args, env);
    }

    /// Deploy `spec` (the seed's parameters) with `replicas` read replicas.
    pub(crate) async fn deploy(&mut self, spec: &str, replicas: u32) -> Deployed {
        Deployed::new(deploy_spec(&self.server, spec, replicas, &mut self.t).await)
    }

    /// [`Session::deploy`], then wait until it runs with its replicas
    /// healthy: the deployment and its view.
    pub(crate) async fn deploy_running(&mut self, spec: &str, replicas: u32) -> (Deployed, Value) {
        let d = self.deploy(spec, replicas).await;
        let v = self.wait_running(&d.id, replicas as usize).await;
        (d, v)
    }

    /// [`wait_running`] in this session.
    pub(crate) async fn wait_running(&mut self, id: &str, replicas: usize) -> Value {
        wait_running(&self.server, id, replicas, &mut self.t).await
    }

    /// [`wait_spares`] in this session.
    pub(crate) async fn wait_spares(&mut self, id: &str, spares: usize) -> Value {
        wait_spares(&self.server, id, spares, &mut self.t).await
    }

    /// [`patch_params`] in this session.
    pub(crate) async fn patch(&mut self, id: &str, params: Value) {
        patch_params(&self.server, id, params, &mut self.t).await;
    }

    /// Read the event stream for `secs` seconds, recorded in the transcript.
    pub(crate) async fn events(&mut self, id: &str, secs: u64) -> String {
        let events = self.server.events(id, secs).await;
        self.t.add(&events);
        events
    }

    /// The usual end: delete the deployment and see every object go, then
    /// check that no secret appeared in an answer, an event or the log.
    pub(crate) async fn finish(mut self, id: &str) {
        delete_and_check_clean(&self.server, id, &mut self.t).await;
        self.assert_no_secrets();
    }

    /// No secret the server holds appeared in an answer, an event or the
    /// server log.
    pub(crate) fn assert_no_secrets(&mut self) {
        self.t.learn_secrets(&self.server);
        assert_no_secrets("API responses and events", &self.t.0, &self.t.1);
        assert_no_secrets("the server log", &self.server.logs(), &self.t.1);
    }
}
