//! Durable state in SQLite (`<data-dir>/specstudio.db`): specs, deployments
//! (desired params including secrets — stored, never returned) and events.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use shared::params::{ResolvedParam, ResolvedParams, Source};

mod schema;
pub use schema::SCHEMA_VERSION;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Sql(#[from] rusqlite::Error),
    /// The database was written by a newer server (a schema version this
    /// one does not know): it is left untouched.
    #[error("the database schema is version {found}, newer than this server knows ({known}); run a newer specstudio")]
    TooNew { found: i64, known: i64 },
    /// The database file was removed or replaced under the running server:
    /// writes would go to an unlinked file and be lost, so they are refused.
    #[error("the database file {0} vanished or was replaced while the server ran; writes are refused until the server is restarted")]
    Lost(String),
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// Events kept per deployment: inserting one more deletes the oldest, in the
/// same transaction, so a chatty container cannot grow the database without
/// bound. (`Last-Event-ID` replays what is left.)
pub const MAX_EVENTS_PER_DEPLOYMENT: i64 = 2_000;

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// What the user wants for a deployment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Desired {
    Running,
    /// Asleep: stopped after being idle (serverless auto-stop); a client
    /// connecting to an endpoint wakes it.
    Stopped,
    /// Frozen after a short idleness (`--idle-pause-after`): containers
    /// paused, memory kept; a client connecting to an endpoint thaws it.
    Paused,
    Deleted,
}

/// The status last reached by reconciliation (the wire type: stored and
/// sent by the same names).
pub use shared::wire::Status;

#[derive(Serialize, Deserialize)]
struct StoredParam {
    service: String,
    key: String,
    value: String,
    secret: bool,
    modifiable: bool,
    source: String,
}

fn params_to_json(p: &ResolvedParams) -> String {
    let v: Vec<StoredParam> = p
        .params
        .iter()
        .map(|p| StoredParam {
            service: p.service.clone(),
            key: p.key.clone(),
            value: p.value.clone(),
            secret: p.secret,
            modifiable: p.modifiable,
            source: match p.source {
                Source::Given => "given",
                Source::Default => "default",
                Source::Generated => "generated",
            }
            .into(),
        })
        .collect();
    serde_json::to_string(&v).expect("params serialize")
}

fn params_from_json(s: &str) -> ResolvedParams {
    let v: Vec<StoredParam> = serde_json::from_str(s).unwrap_or_default();
    ResolvedParams {
        params: v
            .into_iter()
            .map(|p| ResolvedParam {
                service: p.service,
                key: p.key,
                value: p.value,
                secret: p.secret,
                modifiable: p.modifiable,
                source: match p.source.as_str() {
                    "given" => Source::Given,
                    "generated" => Source::Generated,
                    _ => Source::Default,
                },
            })
            .collect(),
    }
}

#[derive(Clone, Debug)]
pub struct DeploymentRecord {
    pub id: String,
    pub spec_id: String,
    pub params: ResolvedParams,
    pub desired: Desired,
    pub status: Status,
    pub message: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A stored deployment event (the wire type of the event stream).
pub use shared::wire::{Event, EventKind};

/// The kind of a stored event. Kinds are written by name (`EventHub::emit`);
/// a name outside [`EventKind`] (none is emitted: see the test
/// `every_emitted_event_kind_is_an_event_kind`) reads as a step.
fn kind_of(name: &str) -> EventKind {
    EventKind::from_name(name).unwrap_or(EventKind::Step)
}

pub struct Store {
    conn: Mutex<Connection>,
    /// The database file and its identity (device, inode) when opened.
    file: Option<(std::path::PathBuf, FileId)>,
    lost: std::sync::atomic::AtomicBool,
}

/// A file's identity: (device, inode) on Unix; on other systems only
/// whether it exists.
type FileId = (u64, u64);

fn file_id(path: &Path) -> Option<FileId> {
    let meta = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Some((meta.dev(), meta.ino()))
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        Some((0, 0))
    }
}

impl Store {
    pub fn open(path: &Path) -> Result<Store> {
        let conn = Connection::open(path)?;
        let mut store = Self::init(conn)?;
        let id = file_id(path).ok_or_else(|| StoreError::Lost(path.display().to_string()))?;
        store.file = Some((path.to_owned(), id));
        Ok(store)
    }

    pub fn in_memory() -> Result<Store> {
        Self::init(Connection::open_in_memory()?)
    }

    /// Whether the database file is still the one opened. The first time it
    /// is not (removed, or replaced by another file), this logs an error and
    /// every later write is refused with [`StoreError::Lost`].
    pub fn check_file(&self) -> Result<()> {
        use std::sync::atomic::Ordering;
        let Some((path, id)) = &self.file else {
            return Ok(());
        };
        let lost = || StoreError::Lost(path.display().to_string());
        if self.lost.load(Ordering::Relaxed) {
            return Err(lost());
        }
        if file_id(path) == Some(*id) {
            return Ok(());
        }
        if !self.lost.swap(true, Ordering::Relaxed) {
            tracing::error!(
                path = %path.display(),
                "the database file vanished or was replaced while the server ran: \
                 refusing every write and failing /healthz; nothing is removed from Docker. \
                 Restore the file and restart the server"
            );
        }
        Err(lost())
    }

    /// `true` once the database file was found removed or replaced.
    pub fn is_lost(&self) -> bool {
        self.check_file().is_err()
    }

    /// The connection for a write: refused once the file is lost.
    fn writer(&self) -> Result<std::sync::MutexGuard<'_, Connection>> {
        self.check_file()?;
        Ok(self.conn())
    }

    fn init(conn: Connection) -> Result<Store> {
        schema::refuse_newer(&conn)?;
        conn.pragma_update(None, "journal_mode", "WAL").ok();
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        schema::migrate(&conn)?;
        // events of deployments whose deletion completed (a late log line
        // can arrive after the record is gone)
        conn.execute(
            "DELETE FROM events WHERE deployment_id NOT IN (SELECT id FROM deployments)",
            [],
        )?;
        Ok(Store {
            conn: Mutex::new(conn),
            file: None,
            lost: Default::default(),
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn put_spec(&self, id: &str, text: &str) -> Result<()> {
        self.writer()?.execute(
            "INSERT OR IGNORE INTO specs(id, text, created_at) VALUES (?1, ?2, ?3)",
            params![id, text, now_ms()],
        )?;
        Ok(())
    }

    /// Store a spec within `max_total` bytes of stored specs (text and
    /// report): the oldest specs no deployment uses are evicted to make room.
    /// `Ok(evicted)`, or `Err(None)` when even eviction cannot make room.
    pub fn put_spec_bounded(
        &self,
        id: &str,
        text: &str,
        max_total: u64,
    ) -> std::result::Result<usize, Option<StoreError>> {
        let mut conn = self.writer().map_err(Some)?;
        let tx = conn.transaction().map_err(|e| Some(e.into()))?;
        let run = |tx: &rusqlite::Transaction<'_>| -> Result<Option<usize>> {
            let exists: bool = tx
                .prepare("SELECT 1 FROM specs WHERE id = ?1")?
                .exists([id])?;
            if exists {
                return Ok(Some(0));
            }
            let total: i64 = tx.query_row(
                "SELECT COALESCE(SUM(LENGTH(CAST(text AS BLOB)) + COALESCE(LENGTH(CAST(report AS BLOB)), 0)), 0) FROM specs",
                [],
                |r| r.get(0),
            )?;
            let need = (total as u64 + text.len() as u64).saturating_sub(max_total);
            let mut freed = 0u64;
            let mut victims = Vec::new();
            if need > 0 {
                let mut stmt = tx.prepare(
                    "SELECT id, LENGTH(CAST(text AS BLOB)) + COALESCE(LENGTH(CAST(report AS BLOB)), 0)
                     FROM specs WHERE id NOT IN (SELECT spec_id FROM deployments)
                     ORDER BY created_at, rowid",
                )?;
                let mut rows = stmt.query([])?;
                while let Some(r) = rows.next()? {
                    if freed >= need {
                        break;
                    }
                    victims.push(r.get::<_, String>(0)?);
                    freed += r.get::<_, i64>(1)? as u64;
                }
            }
            if freed < need {
                return Ok(None);
            }
            for v in &victims {
                tx.execute("DELETE FROM specs WHERE id = ?1", [v])?;
            }
            tx.execute(
                "INSERT INTO specs(id, text, created_at) VALUES (?1, ?2, ?3)",
                params![id, text, now_ms()],
            )?;
            Ok(Some(victims.len()))
        };
        match run(&tx).map_err(Some)? {
            Some(n) => {
                tx.commit().map_err(|e| Some(e.into()))?;
                Ok(n)
            }
            None => Err(None),
        }
    }

    /// Store a spec's public text (secrets masked) and its lint report
    /// (computed once).
    pub fn set_spec_report(&self, id: &str, public_text: &str, report: &str) -> Result<()> {
        self.writer()?.execute(
            "UPDATE specs SET public_text = ?2, report = ?3 WHERE id = ?1",
            params![id, public_text, report],
        )?;
        Ok(())
    }

    /// A stored spec's public text and lint report: `None` for an unknown
    /// spec, `Some(None)` until they are computed.
    pub fn get_public_spec(&self, id: &str) -> Result<Option<Option<(String, String)>>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT public_text, report FROM specs WHERE id = ?1",
                [id],
                |r| {
                    let t: Option<String> = r.get(0)?;
                    let rep: Option<String> = r.get(1)?;
                    Ok(t.zip(rep))
                },
            )
            .optional()?)
    }

    pub fn get_spec(&self, id: &str) -> Result<Option<String>> {
        Ok(self
            .conn()
            .query_row("SELECT text FROM specs WHERE id = ?1", [id], |r| r.get(0))
            .optional()?)
    }

    pub fn insert_deployment(&self, rec: &DeploymentRecord) -> Result<()> {
        self.writer()?.execute(
            "INSERT INTO deployments(id, spec_id, params, desired, status, message, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                rec.id,
                rec.spec_id,
                params_to_json(&rec.params),
                desired_str(rec.desired),
                rec.status.as_str(),
                rec.message,
                rec.created_at,
                rec.updated_at
            ],
        )?;
        Ok(())
    }

    fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<DeploymentRecord> {
        let params: String = r.get(2)?;
        let desired: String = r.get(3)?;
        let status: String = r.get(4)?;
        Ok(DeploymentRecord {
            id: r.get(0)?,
            spec_id: r.get(1)?,
            params: params_from_json(&params),
            desired: match desired.as_str() {
                "deleted" => Desired::Deleted,
                "stopped" => Desired::Stopped,
                "paused" => Desired::Paused,
                _ => Desired::Running,
            },
            status: Status::parse(&status),
            message: r.get(5)?,
            created_at: r.get(6)?,
            updated_at: r.get(7)?,
        })
    }

    pub fn get_deployment(&self, id: &str) -> Result<Option<DeploymentRecord>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT id, spec_id, params, desired, status, message, created_at, updated_at
                 FROM deployments WHERE id = ?1",
                [id],
                Self::row,
            )
            .optional()?)
    }

    pub fn list_deployments(&self) -> Result<Vec<DeploymentRecord>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, spec_id, params, desired, status, message, created_at, updated_at
             FROM deployments ORDER BY created_at",
        )?;
        let rows = stmt.query_map([], Self::row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    pub fn set_status(&self, id: &str, status: Status, message: Option<&str>) -> Result<()> {
        self.writer()?.execute(
            "UPDATE deployments SET status = ?2, message = ?3, updated_at = ?4 WHERE id = ?1",
            params![id, status.as_str(), message, now_ms()],
        )?;
        Ok(())
    }

    /// Store `status` only while the desired state is still `desired` (one
    /// statement: a request that changed it meanwhile wins); `false` when
    /// it had changed.
    pub fn set_status_while_desired(
        &self,
        id: &str,
        status: Status,
        desired: Desired,
    ) -> Result<bool> {
        let changed = self.writer()?.execute(
            "UPDATE deployments SET status = ?2, message = NULL, updated_at = ?3 WHERE id = ?1 AND desired = ?4",
            params![id, status.as_str(), now_ms(), desired_str(desired)],
        )?;
        Ok(changed > 0)
    }

    pub fn set_params(&self, id: &str, params: &ResolvedParams) -> Result<()> {
        self.writer()?.execute(
            "UPDATE deployments SET params = ?2, updated_at = ?3 WHERE id = ?1",
            params![id, params_to_json(params), now_ms()],
        )?;
        Ok(())
    }

    pub fn set_desired(&self, id: &str, desired: Desired) -> Result<()> {
        self.writer()?.execute(
            "UPDATE deployments SET desired = ?2, updated_at = ?3 WHERE id = ?1",
            params![id, desired_str(desired), now_ms()],
        )?;
        Ok(())
    }

    /// Remove a deployment's record and its events (one transaction): called
    /// once its deletion completed.
    pub fn delete_deployment(&self, id: &str) -> Result<()> {
        let mut conn = self.writer()?;
        let tx = conn.transaction()?;
        tx.execute("DELETE FROM deployments WHERE id = ?1", [id])?;
        tx.execute("DELETE FROM events WHERE deployment_id = ?1", [id])?;
        tx.execute("DELETE FROM endpoints WHERE deployment_id = ?1", [id])?;
        tx.execute("DELETE FROM scale WHERE deployment_id = ?1", [id])?;
        tx.execute("DELETE FROM volumes WHERE deployment_id = ?1", [id])?;
        tx.execute("DELETE FROM retired_volumes WHERE deployment_id = ?1", [id])?;
        tx.commit()?;
        Ok(())
    }

    /// The host port an endpoint of the deployment last listened on.
    pub fn endpoint_port(&self, id: &str, name: &str) -> Result<Option<u16>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT port FROM endpoints WHERE deployment_id = ?1 AND name = ?2",
                [id, name],
                |r| r.get::<_, i64>(0),
            )
            .optional()?
            .and_then(|p| u16::try_from(p).ok()))
    }

    pub fn set_endpoint_port(&self, id: &str, name: &str, port: u16) -> Result<()> {
        self.writer()?.execute(
            "INSERT INTO endpoints(deployment_id, name, port) VALUES (?1, ?2, ?3)
             ON CONFLICT(deployment_id, name) DO UPDATE SET port = excluded.port",
            params![id, name, port],
        )?;
        Ok(())
    }

    /// Remember that these volumes hold initialised data (their container
    /// was ready once): one that vanishes later is lost data, not a volume
    /// still to create.
    pub fn add_data_volumes(&self, id: &str, names: &[&str]) -> Result<()> {
        let mut conn = self.writer()?;
        let tx = conn.transaction()?;
        for n in names {
            tx.execute(
                "INSERT OR IGNORE INTO volumes(deployment_id, name) VALUES (?1, ?2)",
                params![id, n],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Forget a data volume (removed on purpose, or re-seeded).
    pub fn forget_data_volume(&self, id: &str, name: &str) -> Result<()> {
        self.writer()?.execute(
            "DELETE FROM volumes WHERE deployment_id = ?1 AND name = ?2",
            params![id, name],
        )?;
        Ok(())
    }

    /// The volumes of a deployment known to hold initialised data.
    pub fn data_volumes(&self, id: &str) -> Result<std::collections::BTreeSet<String>> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT name FROM volumes WHERE deployment_id = ?1")?;
        let rows = stmt.query_map([id], |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Mark volumes as being removed by a scale-down, before anything is
    /// removed: the intent survives a crash between a replica's container
    /// and its volume (`controller::diff::stale_volumes`).
    pub fn retire_volumes(&self, id: &str, names: &[&str]) -> Result<()> {
        let mut conn = self.writer()?;
        let tx = conn.transaction()?;
        for n in names {
            tx.execute(
                "INSERT OR IGNORE INTO retired_volumes(deployment_id, name) VALUES (?1, ?2)",
                params![id, n],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Drop a volume's retired mark (removed, or kept after all).
    pub fn unretire_volume(&self, id: &str, name: &str) -> Result<()> {
        self.writer()?.execute(
            "DELETE FROM retired_volumes WHERE deployment_id = ?1 AND name = ?2",
            params![id, name],
        )?;
        Ok(())
    }

    /// The volumes of a deployment marked retired.
    pub fn retired_volumes(&self, id: &str) -> Result<std::collections::BTreeSet<String>> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT name FROM retired_volumes WHERE deployment_id = ?1")?;
        let rows = stmt.query_map([id], |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Replica counts the autoscaler set, by service.
    pub fn replica_overrides(&self, id: &str) -> Result<BTreeMap<String, u32>> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare("SELECT service, replicas FROM scale WHERE deployment_id = ?1")?;
        let rows = stmt.query_map([id], |r| Ok((r.get::<_, String>(0)?, r.get::<_, u32>(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<BTreeMap<_, _>>>()?)
    }

    pub fn set_replica_override(&self, id: &str, service: &str, replicas: u32) -> Result<()> {
        self.writer()?.execute(
            "INSERT INTO scale(deployment_id, service, replicas) VALUES (?1, ?2, ?3)
             ON CONFLICT(deployment_id, service) DO UPDATE SET replicas = excluded.replicas",
            params![id, service, replicas],
        )?;
        Ok(())
    }

    /// Forget the autoscaler's counts (an explicit replica count wins).
    pub fn clear_replica_overrides(&self, id: &str) -> Result<()> {
        self.writer()?
            .execute("DELETE FROM scale WHERE deployment_id = ?1", [id])?;
        Ok(())
    }

    /// Store an event; the deployment keeps its newest
    /// [`MAX_EVENTS_PER_DEPLOYMENT`] events.
    pub fn add_event(&self, deployment: &str, kind: &str, message: &str) -> Result<Event> {
        self.add_event_bounded(deployment, kind, message, MAX_EVENTS_PER_DEPLOYMENT)
    }

    /// [`Store::add_event`] keeping at most `keep` events of the deployment.
    pub fn add_event_bounded(
        &self,
        deployment: &str,
        kind: &str,
        message: &str,
        keep: i64,
    ) -> Result<Event> {
        let ts = now_ms();
        let mut conn = self.writer()?;
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO events(deployment_id, ts, kind, message) VALUES (?1, ?2, ?3, ?4)",
            params![deployment, ts, kind, message],
        )?;
        let seq = tx.last_insert_rowid();
        // the oldest beyond `keep` (an index range on (deployment_id, seq))
        tx.execute(
            "DELETE FROM events WHERE deployment_id = ?1 AND seq <= (
                SELECT seq FROM events WHERE deployment_id = ?1
                ORDER BY seq DESC LIMIT 1 OFFSET ?2)",
            params![deployment, keep.max(1)],
        )?;
        tx.commit()?;
        Ok(Event {
            seq,
            deployment_id: deployment.to_owned(),
            ts,
            kind: kind_of(kind),
            message: message.to_owned(),
        })
    }

    /// How many events a deployment has stored.
    pub fn event_count(&self, deployment: &str) -> Result<i64> {
        Ok(self.conn().query_row(
            "SELECT COUNT(*) FROM events WHERE deployment_id = ?1",
            [deployment],
            |r| r.get(0),
        )?)
    }

    pub fn events_after(&self, deployment: &str, after: i64) -> Result<Vec<Event>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT seq, deployment_id, ts, kind, message FROM events
             WHERE deployment_id = ?1 AND seq > ?2 ORDER BY seq",
        )?;
        let rows = stmt.query_map(params![deployment, after], |r| {
            Ok(Event {
                seq: r.get(0)?,
                deployment_id: r.get(1)?,
                ts: r.get(2)?,
                kind: kind_of(&r.get::<_, String>(3)?),
                message: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }
}

fn desired_str(d: Desired) -> &'static str {
    match d {
        Desired::Running => "running",
        Desired::Stopped => "stopped",
        Desired::Paused => "paused",
        Desired::Deleted => "deleted",
    }
}

#[cfg(test)]
mod tests;
