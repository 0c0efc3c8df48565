//! Passwords as swarm secrets: a password in a service's env would be
//! readable by anyone who can inspect the service on the manager. The MySQL
//! image reads every variable from `<VAR>_FILE` too
//! (`images/mysql/entrypoint.sh`), so each password becomes a secret mounted
//! at `/run/secrets/<name>` and the env carries only `<VAR>_FILE`.
//!
//! Pure: [`file_secrets`] decides, the engine creates the secrets (labelled
//! with the deployment and the instance) and references them by id.
//!
//! ```
//! use specstudio::swarm::secrets::file_secrets;
//! let mut env = vec![
//!     ("MYSQL_PASSWORD".to_owned(), "s3cret".to_owned()),
//!     ("MYSQL_USER".to_owned(), "app".to_owned()),
//! ];
//! let s = file_secrets("ss-1-master-0", &mut env);
//! assert_eq!(s.len(), 1);
//! assert_eq!(env[0], ("MYSQL_PASSWORD_FILE".to_owned(), format!("/run/secrets/{}", s[0].name)));
//! assert_eq!(env[1].1, "app");
//! ```

use sha2::{Digest, Sha256};

/// Variables the image reads from `<VAR>_FILE` that hold passwords.
pub const FILE_VARS: &[&str] = &[
    "MYSQL_ROOT_PASSWORD",
    "MYSQL_PASSWORD",
    "MYSQL_REPLICATION_PASSWORD",
    "MYSQL_MASTER_ROOT_PASSWORD",
];

/// Where swarm mounts a secret referenced by a relative file name.
pub const SECRETS_DIR: &str = "/run/secrets";

/// One password moved out of the env.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileSecret {
    /// The secret's name (and file name): the instance and a digest of the
    /// variable and value, so a changed password is a new secret (swarm
    /// secrets are immutable).
    pub name: String,
    pub value: String,
}

/// Move the passwords of `env` (the variables in [`FILE_VARS`], non-empty)
/// into secrets of `service`, leaving `<VAR>_FILE=/run/secrets/<name>`.
pub fn file_secrets(service: &str, env: &mut [(String, String)]) -> Vec<FileSecret> {
    let mut out = Vec::new();
    for (key, value) in env.iter_mut() {
        if value.is_empty() || !FILE_VARS.contains(&key.as_str()) {
            continue;
        }
        let mut h = Sha256::new();
        h.update(key.as_bytes());
        h.update([0]);
        h.update(value.as_bytes());
        let digest: String = h.finalize()[..6]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        // secret names: at most 64 characters
        let prefix: String = service.chars().take(50).collect();
        let name = format!("{prefix}-{digest}");
        out.push(FileSecret {
            name: name.clone(),
            value: std::mem::take(value),
        });
        *key = format!("{key}_FILE");
        *value = format!("{SECRETS_DIR}/{name}");
    }
    out
}

/// Standard base64 with padding (the Engine API's `SecretSpec.Data`).
pub fn base64(data: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_known_non_empty_passwords_become_secrets() {
        let mut env: Vec<(String, String)> = [
            ("MYSQL_ROOT_PASSWORD", "root-pw"),
            ("MYSQL_REPLICATION_PASSWORD", ""),
            ("API_PASSWORD", "not-a-file-var"),
            ("MYSQL_DATABASE", "appdb"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let s = file_secrets(&"x".repeat(80), &mut env);
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].value, "root-pw");
        assert!(s[0].name.len() <= 64, "{}", s[0].name);
        assert_eq!(env[0].0, "MYSQL_ROOT_PASSWORD_FILE");
        assert!(!env.iter().any(|(_, v)| v == "root-pw"));
        assert_eq!(env[1], ("MYSQL_REPLICATION_PASSWORD".into(), String::new()));
        assert_eq!(env[2].1, "not-a-file-var");
        // same value, same name; another value, another secret
        let mut again = vec![("MYSQL_ROOT_PASSWORD".to_owned(), "root-pw".to_owned())];
        assert_eq!(file_secrets(&"x".repeat(80), &mut again)[0].name, s[0].name);
        let mut other = vec![("MYSQL_ROOT_PASSWORD".to_owned(), "changed".to_owned())];
        assert_ne!(file_secrets(&"x".repeat(80), &mut other)[0].name, s[0].name);
    }

    #[test]
    fn base64_as_rfc_4648() {
        for (raw, enc) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(raw.as_bytes()), enc);
        }
    }
}
