//! The MySQL/MariaDB client of readiness pings, `SHOW SLAVE STATUS` and the
//! end-to-end tests: a thin, timeout-bounded face over the `mysql_async`
//! driver (text protocol, no pool, TCP only) that returns text result sets.
//!
//! It replaced a hand-written protocol client; the build-time cost of the
//! driver is measured in server/README.md ("MySQL client").

use std::time::Duration;

use mysql_async::prelude::Queryable;
use mysql_async::{OptsBuilder, Row, Value};

#[derive(Debug, thiserror::Error)]
pub enum MysqlError {
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("server error {code}: {message}")]
    Server { code: u16, message: String },
    #[error("protocol: {0}")]
    Protocol(String),
    #[error("timed out")]
    Timeout,
}

impl MysqlError {
    pub fn code(&self) -> Option<u16> {
        match self {
            MysqlError::Server { code, .. } => Some(*code),
            _ => None,
        }
    }
}

impl From<mysql_async::Error> for MysqlError {
    fn from(e: mysql_async::Error) -> Self {
        match e {
            mysql_async::Error::Server(e) => MysqlError::Server {
                code: e.code,
                message: e.message,
            },
            mysql_async::Error::Io(mysql_async::IoError::Io(e)) => MysqlError::Io(e),
            other => MysqlError::Protocol(other.to_string()),
        }
    }
}

/// A result set: column names and rows (NULL as `None`).
#[derive(Clone, Debug, Default)]
pub struct ResultSet {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Option<String>>>,
    pub affected_rows: u64,
}

impl ResultSet {
    /// The value of a named column in row `row`.
    pub fn get(&self, row: usize, column: &str) -> Option<&str> {
        let idx = self.columns.iter().position(|c| c == column)?;
        self.rows.get(row)?.get(idx)?.as_deref()
    }
}

pub struct Conn {
    inner: mysql_async::Conn,
}

/// A text-protocol value as the caller reads it (the text protocol sends
/// every non-NULL value as bytes).
fn text(v: Value) -> Option<String> {
    match v {
        Value::NULL => None,
        Value::Bytes(b) => Some(String::from_utf8_lossy(&b).into_owned()),
        other => Some(other.as_sql(true).trim_matches('\'').to_owned()),
    }
}

impl Conn {
    /// Connect and authenticate, all within `timeout`.
    pub async fn connect(
        host: &str,
        port: u16,
        user: &str,
        password: &str,
        database: Option<&str>,
        timeout: Duration,
    ) -> Result<Conn, MysqlError> {
        let opts = OptsBuilder::default()
            .ip_or_hostname(host)
            .tcp_port(port)
            .user(Some(user))
            .pass((!password.is_empty()).then_some(password))
            .db_name(database)
            // Stay on the published TCP port: never switch to the server's
            // Unix socket (it lives inside the container).
            .prefer_socket(false)
            .stmt_cache_size(0);
        let inner = tokio::time::timeout(timeout, mysql_async::Conn::new(opts))
            .await
            .map_err(|_| MysqlError::Timeout)??;
        Ok(Conn { inner })
    }

    /// Run one statement; a result set when it has one.
    pub async fn query(&mut self, sql: &str) -> Result<ResultSet, MysqlError> {
        let mut result = self.inner.query_iter(sql).await?;
        let columns = result
            .columns_ref()
            .iter()
            .map(|c| c.name_str().into_owned())
            .collect();
        let rows: Vec<Row> = result.collect().await?;
        let affected_rows = result.affected_rows();
        result.drop_result().await?;
        Ok(ResultSet {
            columns,
            rows: rows
                .into_iter()
                .map(|r| r.unwrap().into_iter().map(text).collect())
                .collect(),
            affected_rows,
        })
    }

    /// Say goodbye (`COM_QUIT`) so the server does not log an aborted connection.
    pub async fn close(self) {
        let _ = tokio::time::timeout(Duration::from_secs(1), self.inner.disconnect()).await;
    }

    /// `query` bounded by a timeout.
    pub async fn query_timeout(
        &mut self,
        sql: &str,
        timeout: Duration,
    ) -> Result<ResultSet, MysqlError> {
        tokio::time::timeout(timeout, self.query(sql))
            .await
            .map_err(|_| MysqlError::Timeout)?
    }
}

/// Replication threads of one replica.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct ReplicationHealth {
    pub io_running: bool,
    pub sql_running: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seconds_behind_master: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

impl ReplicationHealth {
    pub fn healthy(&self) -> bool {
        self.io_running && self.sql_running
    }
}

/// `SHOW SLAVE STATUS` on a replica; `None` when replication is not configured.
pub async fn replication_status(conn: &mut Conn) -> Result<Option<ReplicationHealth>, MysqlError> {
    let set = conn
        .query_timeout("SHOW SLAVE STATUS", Duration::from_secs(5))
        .await?;
    if set.rows.is_empty() {
        return Ok(None);
    }
    let err = [set.get(0, "Last_IO_Error"), set.get(0, "Last_SQL_Error")]
        .into_iter()
        .flatten()
        .find(|e| !e.is_empty())
        .map(str::to_owned);
    Ok(Some(ReplicationHealth {
        io_running: set.get(0, "Slave_IO_Running") == Some("Yes"),
        sql_running: set.get(0, "Slave_SQL_Running") == Some("Yes"),
        seconds_behind_master: set
            .get(0, "Seconds_Behind_Master")
            .and_then(|s| s.parse().ok()),
        last_error: err,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_silent_server_times_out_and_a_closed_port_is_an_io_error() {
        // accepts but never sends the handshake
        let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = silent.local_addr().unwrap().port();
        let err = Conn::connect(
            "127.0.0.1",
            port,
            "u",
            "p",
            None,
            Duration::from_millis(300),
        )
        .await
        .err()
        .expect("no handshake, no connection");
        assert!(matches!(err, MysqlError::Timeout), "{err}");
        drop(silent);
        let err = Conn::connect("127.0.0.1", port, "u", "p", None, Duration::from_secs(5))
            .await
            .err()
            .expect("nothing listens");
        assert!(matches!(err, MysqlError::Io(_)), "{err:?}");
        assert_eq!(err.code(), None);
    }

    #[test]
    fn server_errors_keep_their_code_and_text_values_read_as_strings() {
        let e = MysqlError::from(mysql_async::Error::Server(mysql_async::ServerError {
            code: 1290,
            message: "read-only".into(),
            state: "HY000".into(),
        }));
        assert_eq!(e.code(), Some(1290));
        assert_eq!(text(Value::NULL), None);
        assert_eq!(text(Value::Bytes(b"Yes".to_vec())).as_deref(), Some("Yes"));
        assert_eq!(text(Value::Int(7)).as_deref(), Some("7"));
    }
}
