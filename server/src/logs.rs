//! Kept container logs (`omnistrateLogging`): one file per deployment in
//! `<data-dir>/logs/`, already redacted, rotated at a size bound so a chatty
//! container cannot fill the disk: `<id>.log` plus one older `<id>.log.1`.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Bytes per file before it rotates (two files are kept).
pub const DEFAULT_MAX_BYTES: u64 = 1024 * 1024;

pub struct LogKeeper {
    dir: PathBuf,
    max_bytes: u64,
    // one writer at a time: appends and rotations must not interleave
    lock: Mutex<()>,
}

impl LogKeeper {
    pub fn new(dir: &Path, max_bytes: u64) -> std::io::Result<LogKeeper> {
        fs::create_dir_all(dir)?;
        Ok(LogKeeper {
            dir: dir.to_owned(),
            max_bytes: max_bytes.max(1024),
            lock: Mutex::new(()),
        })
    }

    fn path(&self, deployment: &str) -> PathBuf {
        // deployment ids are generated hex; never let one escape the dir
        let safe: String = deployment
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        self.dir.join(format!("{safe}.log"))
    }

    /// Append one (redacted) line.
    pub fn append(&self, deployment: &str, ts_ms: i64, line: &str) -> std::io::Result<()> {
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let path = self.path(deployment);
        if fs::metadata(&path).is_ok_and(|m| m.len() >= self.max_bytes) {
            fs::rename(&path, path.with_extension("log.1"))?;
        }
        let mut f = OpenOptions::new().create(true).append(true).open(&path)?;
        writeln!(f, "{ts_ms} {}", line.replace('\n', " "))
    }

    /// The newest `lines` lines (older file first).
    pub fn tail(&self, deployment: &str, lines: usize) -> std::io::Result<Vec<String>> {
        let path = self.path(deployment);
        let mut out = Vec::new();
        for p in [path.with_extension("log.1"), path] {
            match File::open(&p) {
                Ok(mut f) => {
                    // at most the size bound per file is ever read
                    let len = f.metadata()?.len();
                    let from = len.saturating_sub(self.max_bytes * 2);
                    f.seek(SeekFrom::Start(from))?;
                    let mut text = String::new();
                    f.take(self.max_bytes * 2).read_to_string(&mut text).ok();
                    out.extend(text.lines().map(str::to_owned));
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        let skip = out.len().saturating_sub(lines);
        Ok(out.split_off(skip))
    }

    /// Remove a deleted deployment's logs.
    pub fn remove(&self, deployment: &str) {
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let path = self.path(deployment);
        let _ = fs::remove_file(path.with_extension("log.1"));
        let _ = fs::remove_file(path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotates_within_the_bound_and_tails_across_files() {
        let dir = tempfile::tempdir().unwrap();
        let keeper = LogKeeper::new(dir.path(), 1024).unwrap();
        for i in 0..200 {
            keeper
                .append("abc", 1, &format!("line {i} {}", "x".repeat(20)))
                .unwrap();
        }
        let total: u64 = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().metadata().unwrap().len())
            .sum();
        assert!(total <= 2 * 1024 + 64, "bounded: {total} bytes");
        let tail = keeper.tail("abc", 3).unwrap();
        assert_eq!(tail.len(), 3);
        assert!(tail[2].ends_with(&format!("line 199 {}", "x".repeat(20))));
        keeper.remove("abc");
        assert!(keeper.tail("abc", 3).unwrap().is_empty());
        // a hostile id stays inside the dir
        keeper.append("../../etc/x", 1, "no").unwrap();
        assert!(dir.path().join("etcx.log").exists());
    }
}
