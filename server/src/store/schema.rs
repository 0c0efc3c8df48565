//! The database schema, versioned by `PRAGMA user_version`: an ordered list
//! of migrations, each run once, in a transaction with the version bump.
//!
//! Version 0 is every database written before the schema was versioned:
//! it may hold any prefix of the history below, so the first migrations are
//! written to be harmless on a database that already has their change.
//! Add a change as a new entry at the end; never edit a released one.

use rusqlite::Connection;

use super::{Result, StoreError};

/// One step of the schema's history.
struct Migration {
    /// What it changes (for the log).
    what: &'static str,
    apply: fn(&rusqlite::Transaction<'_>) -> rusqlite::Result<()>,
}

/// The schema's history; the database's `user_version` counts how many ran.
const MIGRATIONS: &[Migration] = &[
    Migration {
        what: "specs, deployments, events, endpoints, volumes and scale tables",
        apply: |tx| {
            tx.execute_batch(
                "CREATE TABLE IF NOT EXISTS specs(
                    id TEXT PRIMARY KEY, text TEXT NOT NULL, created_at INTEGER NOT NULL);
                 CREATE TABLE IF NOT EXISTS deployments(
                    id TEXT PRIMARY KEY, spec_id TEXT NOT NULL, params TEXT NOT NULL,
                    desired TEXT NOT NULL, status TEXT NOT NULL, message TEXT,
                    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
                 CREATE TABLE IF NOT EXISTS events(
                    seq INTEGER PRIMARY KEY AUTOINCREMENT, deployment_id TEXT NOT NULL,
                    ts INTEGER NOT NULL, kind TEXT NOT NULL, message TEXT NOT NULL);
                 CREATE INDEX IF NOT EXISTS events_by_deployment ON events(deployment_id, seq);
                 CREATE TABLE IF NOT EXISTS endpoints(
                    deployment_id TEXT NOT NULL, name TEXT NOT NULL, port INTEGER NOT NULL,
                    PRIMARY KEY(deployment_id, name));
                 CREATE TABLE IF NOT EXISTS volumes(
                    deployment_id TEXT NOT NULL, name TEXT NOT NULL,
                    PRIMARY KEY(deployment_id, name));
                 CREATE TABLE IF NOT EXISTS scale(
                    deployment_id TEXT NOT NULL, service TEXT NOT NULL, replicas INTEGER NOT NULL,
                    PRIMARY KEY(deployment_id, service));",
            )
        },
    },
    Migration {
        what: "specs.report: the stored lint report of a spec (computed once)",
        apply: |tx| add_column(tx, "specs", "report", "TEXT"),
    },
    Migration {
        what: "specs.public_text: the text as shown (secrets masked)",
        apply: |tx| add_column(tx, "specs", "public_text", "TEXT"),
    },
    Migration {
        what: "retired_volumes: volumes a scale-down is removing (its intent, kept across a crash)",
        apply: |tx| {
            tx.execute_batch(
                "CREATE TABLE IF NOT EXISTS retired_volumes(
                    deployment_id TEXT NOT NULL, name TEXT NOT NULL,
                    PRIMARY KEY(deployment_id, name));",
            )
        },
    },
];

/// The schema version this server writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// `ALTER TABLE … ADD COLUMN` unless an unversioned database has it already.
fn add_column(
    tx: &rusqlite::Transaction<'_>,
    table: &str,
    column: &str,
    ty: &str,
) -> rusqlite::Result<()> {
    let has: bool = tx
        .prepare("SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2")?
        .exists([table, column])?;
    if !has {
        tx.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {column} {ty}"))?;
    }
    Ok(())
}

pub(super) fn version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.pragma_query_value(None, "user_version", |r| r.get(0))
}

/// The database's version, or [`StoreError::TooNew`] (checked before
/// anything, even the journal mode, is written).
pub(super) fn refuse_newer(conn: &Connection) -> Result<i64> {
    let found = version(conn)?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            found,
            known: SCHEMA_VERSION,
        });
    }
    Ok(found)
}

/// Bring the database to [`SCHEMA_VERSION`], keeping its data. A database
/// from a newer server is refused, untouched.
pub(super) fn migrate(conn: &Connection) -> Result<()> {
    let found = refuse_newer(conn)?;
    for (i, m) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let to = i as i64 + 1;
        // the unchecked transaction: `conn` is shared, not `&mut`
        let tx = conn.unchecked_transaction()?;
        (m.apply)(&tx)?;
        tx.pragma_update(None, "user_version", to)?;
        tx.commit()?;
        if found > 0 || to == SCHEMA_VERSION {
            tracing::debug!(version = to, "database schema: {}", m.what);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Status, Store};

    /// The DDL of each earlier version, as the servers of that time wrote it.
    const V1: &str = "CREATE TABLE specs(
            id TEXT PRIMARY KEY, text TEXT NOT NULL, created_at INTEGER NOT NULL);
         CREATE TABLE deployments(
            id TEXT PRIMARY KEY, spec_id TEXT NOT NULL, params TEXT NOT NULL,
            desired TEXT NOT NULL, status TEXT NOT NULL, message TEXT,
            created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
         CREATE TABLE events(
            seq INTEGER PRIMARY KEY AUTOINCREMENT, deployment_id TEXT NOT NULL,
            ts INTEGER NOT NULL, kind TEXT NOT NULL, message TEXT NOT NULL);
         CREATE INDEX events_by_deployment ON events(deployment_id, seq);
         CREATE TABLE endpoints(
            deployment_id TEXT NOT NULL, name TEXT NOT NULL, port INTEGER NOT NULL,
            PRIMARY KEY(deployment_id, name));
         CREATE TABLE volumes(
            deployment_id TEXT NOT NULL, name TEXT NOT NULL, PRIMARY KEY(deployment_id, name));
         CREATE TABLE scale(
            deployment_id TEXT NOT NULL, service TEXT NOT NULL, replicas INTEGER NOT NULL,
            PRIMARY KEY(deployment_id, service));";
    const V2: &str = "ALTER TABLE specs ADD COLUMN report TEXT;";
    const V3: &str = "ALTER TABLE specs ADD COLUMN public_text TEXT;";

    /// A database at `version`: the DDL of the versions up to it, stamped
    /// with `stamp` (0 for the databases written before versioning), with a
    /// spec, a deployment, an event, an endpoint port, a data volume and an
    /// autoscaler count in it.
    fn old_database(path: &std::path::Path, version: usize, stamp: i64) {
        let conn = Connection::open(path).unwrap();
        for ddl in [V1, V2, V3].iter().take(version) {
            conn.execute_batch(ddl).unwrap();
        }
        conn.execute_batch(
            "INSERT INTO specs(id, text, created_at) VALUES ('s1', 'services: {}', 1);
             INSERT INTO deployments VALUES ('d1', 's1', '[]', 'running', 'running', NULL, 1, 2);
             INSERT INTO events(deployment_id, ts, kind, message) VALUES ('d1', 3, 'step', 'kept');
             INSERT INTO endpoints VALUES ('d1', 'Master', 40001);
             INSERT INTO volumes VALUES ('d1', 'd1-master-data');
             INSERT INTO scale VALUES ('d1', 'replica', 3);",
        )
        .unwrap();
        conn.pragma_update(None, "user_version", stamp).unwrap();
    }

    #[test]
    fn the_history_ends_at_the_current_schema() {
        assert_eq!(SCHEMA_VERSION, 4);
        let store = Store::in_memory().unwrap();
        assert_eq!(version(&store.conn()).unwrap(), SCHEMA_VERSION);
    }

    #[test]
    fn every_earlier_version_migrates_with_its_data_kept() {
        let dir = tempfile::tempdir().unwrap();
        // (DDL versions present, user_version stamped): versioned databases
        // at 1 and 2, and unversioned ones holding any prefix of the history
        let cases = [(1, 1), (2, 2), (1, 0), (2, 0), (3, 0)];
        for (ddl, stamp) in cases {
            let path = dir.path().join(format!("v{ddl}-{stamp}.db"));
            old_database(&path, ddl, stamp);
            let store = Store::open(&path).unwrap_or_else(|e| panic!("{ddl}/{stamp}: {e}"));
            assert_eq!(version(&store.conn()).unwrap(), SCHEMA_VERSION);
            let d = store
                .get_deployment("d1")
                .unwrap()
                .expect("deployment kept");
            assert_eq!((d.status, d.updated_at), (Status::Running, 2));
            assert_eq!(
                store.get_spec("s1").unwrap().as_deref(),
                Some("services: {}")
            );
            let events = store.events_after("d1", 0).unwrap();
            assert_eq!(events.len(), 1, "{ddl}/{stamp}");
            assert_eq!(events[0].message, "kept");
            assert_eq!(store.endpoint_port("d1", "Master").unwrap(), Some(40001));
            assert_eq!(store.data_volumes("d1").unwrap().len(), 1);
            assert_eq!(store.replica_overrides("d1").unwrap()["replica"], 3);
            store.retire_volumes("d1", &["v"]).unwrap();
            assert_eq!(store.retired_volumes("d1").unwrap().len(), 1);
            // the new columns work
            store.set_spec_report("s1", "public", "{}").unwrap();
            assert_eq!(
                store.get_public_spec("s1").unwrap(),
                Some(Some(("public".into(), "{}".into())))
            );
            drop(store);
            // opening again is a no-op
            let again = Store::open(&path).unwrap();
            assert_eq!(
                again.get_public_spec("s1").unwrap().unwrap().unwrap().0,
                "public"
            );
        }
    }

    #[test]
    fn a_database_from_a_newer_server_is_refused_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new.db");
        old_database(&path, 3, SCHEMA_VERSION + 1);
        let err = Store::open(&path).err().expect("refused");
        assert!(matches!(err, StoreError::TooNew { .. }), "{err}");
        let conn = Connection::open(&path).unwrap();
        assert_eq!(version(&conn).unwrap(), SCHEMA_VERSION + 1);
        let mode: String = conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "delete", "the journal mode was not switched");
        let n: i64 = conn
            .query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1);
    }
}
