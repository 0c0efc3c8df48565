//! A tiny MySQL/MariaDB protocol client: handshake with
//! `mysql_native_password`, text queries, text result sets.
//!
//! Enough for readiness pings, `SHOW SLAVE STATUS` and the end-to-end tests,
//! at a fraction of the build cost of a full driver. No TLS, no prepared
//! statements, no multi-packet (≥ 16 MiB) payloads.

use std::time::Duration;

use sha1::{Digest, Sha1};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

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
    stream: TcpStream,
    seq: u8,
}

const CLIENT_LONG_PASSWORD: u32 = 1;
const CLIENT_CONNECT_WITH_DB: u32 = 8;
const CLIENT_PROTOCOL_41: u32 = 0x200;
const CLIENT_TRANSACTIONS: u32 = 0x2000;
const CLIENT_SECURE_CONNECTION: u32 = 0x8000;
const CLIENT_MULTI_RESULTS: u32 = 0x20000;
const CLIENT_PLUGIN_AUTH: u32 = 0x80000;

fn native_password(password: &str, scramble: &[u8]) -> Vec<u8> {
    if password.is_empty() {
        return Vec::new();
    }
    let stage1 = Sha1::digest(password.as_bytes());
    let stage2 = Sha1::digest(stage1);
    let mut h = Sha1::new();
    h.update(scramble);
    h.update(stage2);
    let mix = h.finalize();
    stage1.iter().zip(mix.iter()).map(|(a, b)| a ^ b).collect()
}

fn err_packet(p: &[u8]) -> MysqlError {
    if p.len() < 3 {
        return MysqlError::Protocol("short error packet".into());
    }
    let code = u16::from_le_bytes([p[1], p[2]]);
    let mut msg = &p[3..];
    if msg.first() == Some(&b'#') && msg.len() >= 6 {
        msg = &msg[6..];
    }
    MysqlError::Server {
        code,
        message: String::from_utf8_lossy(msg).into_owned(),
    }
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }
    fn bytes(&mut self, n: usize) -> Result<&'a [u8], MysqlError> {
        if self.pos + n > self.buf.len() {
            return Err(MysqlError::Protocol("packet too short".into()));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, MysqlError> {
        Ok(self.bytes(1)?[0])
    }
    fn nul_str(&mut self) -> Result<&'a [u8], MysqlError> {
        let rest = &self.buf[self.pos..];
        let end = rest.iter().position(|b| *b == 0).unwrap_or(rest.len());
        self.pos += (end + 1).min(rest.len());
        Ok(&rest[..end])
    }
    fn lenenc(&mut self) -> Result<Option<u64>, MysqlError> {
        let first = self.u8()?;
        Ok(match first {
            0xfb => None,
            0xfc => {
                let b = self.bytes(2)?;
                Some(u16::from_le_bytes([b[0], b[1]]) as u64)
            }
            0xfd => {
                let b = self.bytes(3)?;
                Some(u32::from_le_bytes([b[0], b[1], b[2], 0]) as u64)
            }
            0xfe => {
                let b = self.bytes(8)?;
                Some(u64::from_le_bytes(b.try_into().expect("8 bytes")))
            }
            n => Some(n as u64),
        })
    }
    fn lenenc_str(&mut self) -> Result<Option<&'a [u8]>, MysqlError> {
        match self.lenenc()? {
            None => Ok(None),
            Some(n) => Ok(Some(self.bytes(n as usize)?)),
        }
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
        tokio::time::timeout(
            timeout,
            Self::connect_inner(host, port, user, password, database),
        )
        .await
        .map_err(|_| MysqlError::Timeout)?
    }

    async fn connect_inner(
        host: &str,
        port: u16,
        user: &str,
        password: &str,
        database: Option<&str>,
    ) -> Result<Conn, MysqlError> {
        let stream = TcpStream::connect((host, port)).await?;
        stream.set_nodelay(true).ok();
        let mut conn = Conn { stream, seq: 0 };
        let hello = conn.read_packet().await?;
        if hello.first() == Some(&0xff) {
            return Err(err_packet(&hello));
        }
        let mut r = Reader::new(&hello);
        let proto = r.u8()?;
        if proto != 10 {
            return Err(MysqlError::Protocol(format!("handshake v{proto}")));
        }
        r.nul_str()?; // server version
        r.bytes(4)?; // connection id
        let mut scramble = r.bytes(8)?.to_vec();
        r.bytes(1)?;
        let cap_lo = u16::from_le_bytes(r.bytes(2)?.try_into().expect("2")) as u32;
        r.bytes(1)?; // charset
        r.bytes(2)?; // status
        let cap_hi = u16::from_le_bytes(r.bytes(2)?.try_into().expect("2")) as u32;
        let caps = cap_lo | (cap_hi << 16);
        let auth_len = r.u8()? as usize;
        r.bytes(10)?;
        if caps & CLIENT_SECURE_CONNECTION != 0 {
            let n = auth_len.saturating_sub(8).max(13);
            let part2 = r.bytes(n.min(hello.len() - r.pos))?;
            scramble.extend_from_slice(&part2[..part2.len().min(12)]);
        }
        let plugin = if caps & CLIENT_PLUGIN_AUTH != 0 {
            String::from_utf8_lossy(r.nul_str()?).into_owned()
        } else {
            "mysql_native_password".into()
        };
        let auth = if plugin == "mysql_native_password" {
            native_password(password, &scramble)
        } else {
            Vec::new()
        };
        let mut flags = CLIENT_LONG_PASSWORD
            | CLIENT_PROTOCOL_41
            | CLIENT_TRANSACTIONS
            | CLIENT_SECURE_CONNECTION
            | CLIENT_MULTI_RESULTS
            | CLIENT_PLUGIN_AUTH;
        if database.is_some() {
            flags |= CLIENT_CONNECT_WITH_DB;
        }
        let mut out = Vec::with_capacity(128);
        out.extend_from_slice(&flags.to_le_bytes());
        out.extend_from_slice(&(16u32 * 1024 * 1024).to_le_bytes());
        out.push(45); // utf8mb4_general_ci
        out.extend_from_slice(&[0u8; 23]);
        out.extend_from_slice(user.as_bytes());
        out.push(0);
        out.push(auth.len() as u8);
        out.extend_from_slice(&auth);
        if let Some(db) = database {
            out.extend_from_slice(db.as_bytes());
            out.push(0);
        }
        out.extend_from_slice(b"mysql_native_password\0");
        conn.write_packet(&out).await?;
        loop {
            let resp = conn.read_packet().await?;
            match resp.first() {
                Some(0x00) => return Ok(conn),
                Some(0xff) => return Err(err_packet(&resp)),
                Some(0xfe) => {
                    // auth switch request
                    let mut r = Reader::new(&resp[1..]);
                    let plugin = String::from_utf8_lossy(r.nul_str()?).into_owned();
                    if plugin != "mysql_native_password" {
                        return Err(MysqlError::Protocol(format!(
                            "unsupported auth plugin {plugin}"
                        )));
                    }
                    let data = &resp[1 + r.pos..];
                    let data = &data[..data.len().min(20)];
                    let auth = native_password(password, data);
                    conn.write_packet(&auth).await?;
                }
                _ => return Err(MysqlError::Protocol("unexpected auth reply".into())),
            }
        }
    }

    async fn read_packet(&mut self) -> Result<Vec<u8>, MysqlError> {
        let mut header = [0u8; 4];
        self.stream.read_exact(&mut header).await?;
        let len = u32::from_le_bytes([header[0], header[1], header[2], 0]) as usize;
        self.seq = header[3].wrapping_add(1);
        let mut buf = vec![0u8; len];
        self.stream.read_exact(&mut buf).await?;
        Ok(buf)
    }

    async fn write_packet(&mut self, payload: &[u8]) -> Result<(), MysqlError> {
        let len = payload.len() as u32;
        let mut out = Vec::with_capacity(payload.len() + 4);
        out.extend_from_slice(&len.to_le_bytes()[..3]);
        out.push(self.seq);
        out.extend_from_slice(payload);
        self.seq = self.seq.wrapping_add(1);
        self.stream.write_all(&out).await?;
        Ok(())
    }

    /// Run one statement; a result set when it has one.
    pub async fn query(&mut self, sql: &str) -> Result<ResultSet, MysqlError> {
        self.seq = 0;
        let mut payload = Vec::with_capacity(sql.len() + 1);
        payload.push(0x03);
        payload.extend_from_slice(sql.as_bytes());
        self.write_packet(&payload).await?;
        let first = self.read_packet().await?;
        match first.first() {
            Some(0x00) => {
                let mut r = Reader::new(&first[1..]);
                let affected = r.lenenc()?.unwrap_or(0);
                return Ok(ResultSet {
                    affected_rows: affected,
                    ..Default::default()
                });
            }
            Some(0xff) => return Err(err_packet(&first)),
            _ => {}
        }
        let ncols = Reader::new(&first).lenenc()?.unwrap_or(0) as usize;
        let mut set = ResultSet::default();
        for _ in 0..ncols {
            let def = self.read_packet().await?;
            let mut r = Reader::new(&def);
            for _ in 0..4 {
                r.lenenc_str()?; // catalog, schema, table, org_table
            }
            let name = r.lenenc_str()?.unwrap_or_default();
            set.columns.push(String::from_utf8_lossy(name).into_owned());
        }
        let eof = self.read_packet().await?;
        if eof.first() != Some(&0xfe) {
            return Err(MysqlError::Protocol("expected EOF after columns".into()));
        }
        loop {
            let row = self.read_packet().await?;
            match row.first() {
                Some(0xfe) if row.len() < 9 => break,
                Some(0xff) => return Err(err_packet(&row)),
                _ => {}
            }
            let mut r = Reader::new(&row);
            let mut values = Vec::with_capacity(ncols);
            for _ in 0..ncols {
                values.push(
                    r.lenenc_str()?
                        .map(|v| String::from_utf8_lossy(v).into_owned()),
                );
            }
            set.rows.push(values);
        }
        Ok(set)
    }

    /// Say goodbye (`COM_QUIT`) so the server does not log an aborted connection.
    pub async fn close(mut self) {
        self.seq = 0;
        let _ = tokio::time::timeout(Duration::from_secs(1), self.write_packet(&[0x01])).await;
        let _ = self.stream.shutdown().await;
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
