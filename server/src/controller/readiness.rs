//! Readiness, in one place: a started container is ready when it runs and
//! answers its probe (a SQL `SELECT 1`, a TCP connect, or nothing to probe)
//! through its published port; a MySQL replica also when replication runs
//! and it caught up with its master. Waits are bounded and end early when a
//! newer request supersedes the step.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use super::{Controller, ReconcileError};
use crate::docker::Engine;
use crate::mysql::{self, Conn, ReplicationHealth};
use crate::plan::{DesiredContainer, DesiredStack, Probe};

type Result<T> = std::result::Result<T, ReconcileError>;

/// One try of a wait ([`Controller::retry`]).
pub(super) enum Try<T> {
    Done(T),
    /// Not yet, and why (reported if the wait times out).
    NotYet(String),
    /// Failed for good: stop waiting.
    Fail(String),
}

/// Why a wait ended without its result.
pub(super) enum WaitError {
    Failed(String),
    Superseded,
    /// The limit passed; the last reason it was not done yet.
    TimedOut(String),
}

impl WaitError {
    /// The step's error, with `timeout` wording a timed-out wait.
    pub(super) fn timed_out(self, timeout: impl FnOnce(&str) -> String) -> ReconcileError {
        match self {
            WaitError::Failed(e) => ReconcileError::NotReady(e),
            WaitError::Superseded => ReconcileError::Superseded,
            WaitError::TimedOut(last) => ReconcileError::NotReady(timeout(&last)),
        }
    }
}

impl Controller {
    /// Run `attempt` every `every` until it is done or fails for good, the
    /// step is superseded by a newer request, or `limit` passes.
    pub(super) async fn retry<T, F>(
        &self,
        id: &str,
        gen: u64,
        limit: Duration,
        every: Duration,
        mut attempt: impl FnMut() -> F,
    ) -> std::result::Result<T, WaitError>
    where
        F: std::future::Future<Output = Try<T>>,
    {
        let deadline = Instant::now() + limit;
        loop {
            if self.superseded(id, gen) {
                return Err(WaitError::Superseded);
            }
            let last = match attempt().await {
                Try::Done(v) => return Ok(v),
                Try::Fail(e) => return Err(WaitError::Failed(e)),
                Try::NotYet(why) => why,
            };
            if Instant::now() >= deadline {
                return Err(WaitError::TimedOut(last));
            }
            tokio::time::sleep(every).await;
        }
    }

    /// Wait until `c` runs and answers its probe; its published host port
    /// (`None`: it publishes none).
    pub(super) async fn wait_ready(
        &self,
        id: &str,
        gen: u64,
        engine: &dyn Engine,
        c: &DesiredContainer,
        host: &str,
    ) -> Result<Option<u16>> {
        // the published port, once known (0: not yet)
        let host_port = AtomicU32::new(0);
        let cached = &host_port;
        let limit = self.timeouts.ready;
        self.retry(
            id,
            gen,
            limit,
            Duration::from_millis(50),
            move || async move {
                match engine.container_state(&c.name).await {
                    Ok(None) => return Try::Fail(format!("{} vanished while starting", c.name)),
                    Ok(Some((state, code))) if state.gone_for_good(true) => {
                        let tail = engine.tail(&c.name, 8).await.join(" | ");
                        return Try::Fail(format!(
                            "{} exited (code {}) before it was ready; last output: {}",
                            c.name,
                            code.unwrap_or(-1),
                            tail
                        ));
                    }
                    Ok(Some(_)) | Err(_) => {}
                }
                match self.probe_once(engine, c, host, cached).await {
                    Ok(()) => Try::Done(()),
                    Err(e) => Try::NotYet(e),
                }
            },
        )
        .await
        .map_err(|e| {
            e.timed_out(|last| {
                format!(
                    "{} was not ready within {} s (last error: {last})",
                    c.name,
                    limit.as_secs()
                )
            })
        })?;
        let how = match c.probe {
            Probe::Mysql { .. } => "SQL ping",
            Probe::Tcp => "TCP connect",
            Probe::None => "running",
        };
        self.hub.step(id, &format!("{} ready ({how})", c.name));
        Ok(u16::try_from(host_port.load(Ordering::Relaxed))
            .ok()
            .filter(|p| *p != 0))
    }

    /// While waking: route MySQL server `c` as soon as it sends its
    /// handshake on its backend leg (its shared socket, else its published
    /// port), as the thaw does, so held clients go through without waiting
    /// for the SQL ping's next poll. A wake starts kept data: `mysqld`
    /// greets only once it serves (a first initialisation runs a private,
    /// socket-only server first). Returns without routing when the container
    /// stops or vanishes, the step is superseded or the readiness limit
    /// passes: the SQL ping that follows reports why.
    pub(super) async fn route_on_greeting(
        &self,
        id: &str,
        gen: u64,
        engine: &dyn Engine,
        c: &DesiredContainer,
    ) {
        let Some(port) = c.ports.first() else {
            return;
        };
        let limit = self.timeouts.ready;
        let deadline = Instant::now() + limit;
        let alive = || async {
            matches!(engine.container_state(&c.name).await,
                Ok(Some((state, _))) if !state.gone_for_good(true))
        };
        let host_port = loop {
            if self.superseded(id, gen) || Instant::now() >= deadline || !alive().await {
                return;
            }
            if let Some(p) = engine
                .host_ports(&c.name)
                .await
                .ok()
                .and_then(|p| p.get(port).copied())
            {
                break p;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        // the greeting, unless the container stops first
        let stopped = async {
            loop {
                tokio::time::sleep(Duration::from_millis(250)).await;
                if self.superseded(id, gen) || !alive().await {
                    return;
                }
            }
        };
        let greeted = self.endpoints.backend_answers(
            &c.name,
            host_port,
            true,
            deadline.saturating_duration_since(Instant::now()),
        );
        tokio::select! {
            answered = greeted => {
                if answered && !self.superseded(id, gen) {
                    self.route(id, c, Some(host_port));
                }
            }
            () = stopped => {}
        }
    }

    /// One probe of `c` through its first published port (cached in
    /// `cached_port` once known).
    pub(super) async fn probe_once(
        &self,
        engine: &dyn Engine,
        c: &DesiredContainer,
        host: &str,
        cached_port: &AtomicU32,
    ) -> std::result::Result<(), String> {
        let port = match c.ports.first() {
            None => return Ok(()),
            Some(p) => *p,
        };
        let host_port = match cached_port.load(Ordering::Relaxed) {
            p @ 1.. => p as u16,
            0 => {
                let ports = engine
                    .host_ports(&c.name)
                    .await
                    .map_err(|e| e.to_string())?;
                let p = *ports
                    .get(&port)
                    .ok_or_else(|| format!("port {port} of {} is not published yet", c.name))?;
                cached_port.store(u32::from(p), Ordering::Relaxed);
                p
            }
        };
        match &c.probe {
            Probe::None => Ok(()),
            Probe::Tcp => tokio::time::timeout(
                Duration::from_secs(2),
                tokio::net::TcpStream::connect((host, host_port)),
            )
            .await
            .map_err(|_| "connect timed out".to_string())?
            .map(|_| ())
            .map_err(|e| e.to_string()),
            Probe::Mysql { user, password, .. } => {
                let mut conn = Conn::connect(
                    host,
                    host_port,
                    user,
                    password,
                    None,
                    Duration::from_secs(3),
                )
                .await
                .map_err(|e| e.to_string())?;
                let r = conn.query_timeout("SELECT 1", Duration::from_secs(3)).await;
                conn.close().await;
                r.map(|_| ()).map_err(|e| e.to_string())
            }
        }
    }

    /// Wait until replication runs on replica `c`.
    pub(super) async fn wait_replication(
        &self,
        id: &str,
        gen: u64,
        engine: &dyn Engine,
        c: &DesiredContainer,
        host: &str,
    ) -> Result<()> {
        let limit = self.timeouts.replication;
        let h = self
            .retry(
                id,
                gen,
                limit,
                Duration::from_millis(50),
                move || async move {
                    match self.replication_of(engine, c, host).await {
                        Ok(Some(h)) if h.healthy() => Try::Done(h),
                        Ok(Some(h)) => Try::NotYet(format!(
                            "io={} sql={}{}",
                            h.io_running,
                            h.sql_running,
                            h.last_error.map(|e| format!(" ({e})")).unwrap_or_default()
                        )),
                        Ok(None) => Try::NotYet("replication is not configured".into()),
                        Err(e) => Try::NotYet(e),
                    }
                },
            )
            .await
            .map_err(|e| {
                e.timed_out(|last| {
                    format!(
                        "replication on {} was not running within {} s (last: {last})",
                        c.name,
                        limit.as_secs()
                    )
                })
            })?;
        self.record_replication(id, &c.name, Ok(Some(h.clone())));
        self.hub.step(
            id,
            &format!(
                "replication verified on {} (Slave_IO_Running=Yes, Slave_SQL_Running=Yes, Seconds_Behind_Master={})",
                c.name,
                h.seconds_behind_master
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| "NULL".into())
            ),
        );
        Ok(())
    }

    /// `SHOW SLAVE STATUS` of a replica container through its published port.
    pub async fn replication_of(
        &self,
        engine: &dyn Engine,
        c: &DesiredContainer,
        host: &str,
    ) -> std::result::Result<Option<ReplicationHealth>, String> {
        if !matches!(c.probe, Probe::Mysql { .. }) {
            return Ok(None);
        }
        let mut conn = self.probe_conn(engine, c, host).await?;
        let r = mysql::replication_status(&mut conn).await;
        conn.close().await;
        r.map_err(|e| e.to_string())
    }

    /// A connection to `c`'s first port, published on `host`, as its probe
    /// (root) user.
    pub(super) async fn probe_conn(
        &self,
        engine: &dyn Engine,
        c: &DesiredContainer,
        host: &str,
    ) -> std::result::Result<Conn, String> {
        let Probe::Mysql { user, password, .. } = &c.probe else {
            return Err(format!("{} does not speak MySQL", c.name));
        };
        let port = *c.ports.first().ok_or("no port")?;
        let ports = engine
            .host_ports(&c.name)
            .await
            .map_err(|e| e.to_string())?;
        let host_port = *ports.get(&port).ok_or("port not published")?;
        Conn::connect(
            host,
            host_port,
            user,
            password,
            None,
            Duration::from_secs(3),
        )
        .await
        .map_err(|e| e.to_string())
    }

    /// A replica takes reads only once it has applied everything its master
    /// had written when it started: MariaDB's `MASTER_GTID_WAIT` up to the
    /// master's `gtid_binlog_pos`; elsewhere `Seconds_Behind_Master = 0`.
    pub(super) async fn wait_caught_up(
        &self,
        id: &str,
        gen: u64,
        engine: &dyn Engine,
        stack: &DesiredStack,
        c: &DesiredContainer,
        host: &str,
    ) -> Result<()> {
        if !matches!(c.probe, Probe::Mysql { .. }) {
            return Ok(());
        }
        let master_host = c
            .env
            .iter()
            .find(|(k, _)| k == "MYSQL_MASTER_HOST")
            .map(|(_, v)| v.as_str());
        let master = stack
            .containers
            .iter()
            .find(|m| master_host.is_some_and(|h| m.aliases.iter().any(|a| a == h)));
        let position = match master {
            Some(m) => self.gtid_position(engine, m, host).await.ok(),
            None => None,
        };
        let position = position.filter(|p| !p.is_empty());
        let limit = self.timeouts.replication;
        let position = &position;
        self.retry(
            id,
            gen,
            limit,
            Duration::from_millis(100),
            move || async move {
                let caught_up = async {
                    let mut conn = self.probe_conn(engine, c, host).await?;
                    let done = match position {
                        Some(pos) => {
                            let sql = format!(
                                "SELECT MASTER_GTID_WAIT('{}', 5) AS w",
                                pos.replace(['\'', '\\'], "")
                            );
                            let set = conn
                                .query_timeout(&sql, Duration::from_secs(8))
                                .await
                                .map_err(|e| e.to_string())?;
                            set.get(0, "w") == Some("0")
                        }
                        None => {
                            let h = mysql::replication_status(&mut conn)
                                .await
                                .map_err(|e| e.to_string())?;
                            h.is_some_and(|h| h.healthy() && h.seconds_behind_master == Some(0))
                        }
                    };
                    conn.close().await;
                    Ok::<bool, String>(done)
                };
                match caught_up.await {
                    Ok(true) => Try::Done(()),
                    Ok(false) => Try::NotYet("still applying the master's changes".into()),
                    Err(e) => Try::NotYet(e),
                }
            },
        )
        .await
        .map_err(|e| {
            e.timed_out(|last| {
                format!(
                    "{} did not catch up with its master within {} s ({last})",
                    c.name,
                    limit.as_secs()
                )
            })
        })?;
        let what = match &position {
            Some(p) => format!("GTID {p}"),
            None => "Seconds_Behind_Master=0".into(),
        };
        self.hub.step(
            id,
            &format!("{} caught up with its master ({what})", c.name),
        );
        Ok(())
    }

    /// The master's binlog GTID position (MariaDB); empty when it has none.
    async fn gtid_position(
        &self,
        engine: &dyn Engine,
        master: &DesiredContainer,
        host: &str,
    ) -> std::result::Result<String, String> {
        let mut conn = self.probe_conn(engine, master, host).await?;
        let set = conn
            .query_timeout(
                "SELECT @@GLOBAL.gtid_binlog_pos AS p",
                Duration::from_secs(3),
            )
            .await
            .map_err(|e| e.to_string());
        conn.close().await;
        Ok(set?.get(0, "p").unwrap_or("").to_owned())
    }
}
