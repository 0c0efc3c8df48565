//! Secrets written where the password-named-variable rule (S001) does not
//! look: command-line flags (`--password=…`, `-p…` for MySQL clients), URLs
//! with credentials (`mysql://user:pw@host`), and password-named labels.
//! Pure string scanning: byte ranges inside one value; the rules (S003–S005)
//! and the masking of stored specs turn them into spans.

use crate::params::looks_like_password;

/// Whether a value is a template (resolved from params, not a literal).
pub fn is_template(value: &str) -> bool {
    value.contains('$') || value.contains("{{")
}

/// Byte ranges of the passwords in `scheme://user:password@host` URLs.
pub fn url_passwords(s: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = s[from..].find("://") {
        let start = from + i + 3;
        let end = s[start..]
            .find(|c: char| {
                c == '/' || c == '?' || c == '#' || c.is_whitespace() || c == '"' || c == '\''
            })
            .map_or(s.len(), |e| start + e);
        let authority = &s[start..end];
        if let Some(at) = authority.rfind('@') {
            if let Some(colon) = authority[..at].find(':') {
                let (a, b) = (start + colon + 1, start + at);
                if b > a && !is_template(&s[a..b]) {
                    out.push((a, b));
                }
            }
        }
        from = end.max(start);
    }
    out
}

/// Whether a flag name (without dashes) names a secret.
fn secret_flag(name: &str) -> bool {
    looks_like_password(name) && !name.contains("file")
}

/// Byte ranges of secrets passed as flags in the words of a command.
/// `words` are (text, offset of the word in its value) pairs, in order; a
/// `-pVALUE` is a password for MySQL/MariaDB clients only.
pub fn flag_passwords(words: &[(&str, usize)]) -> Vec<(usize, usize)> {
    let mysql = words.iter().any(|(w, _)| {
        let w = w.to_ascii_lowercase();
        w.contains("mysql") || w.contains("mariadb")
    });
    let mut out = Vec::new();
    for (i, (w, off)) in words.iter().enumerate() {
        if let Some(flag) = w.strip_prefix("--") {
            match flag.split_once('=') {
                Some((name, value))
                    if secret_flag(name) && !value.is_empty() && !is_template(value) =>
                {
                    let a = off + 2 + name.len() + 1;
                    out.push((a, off + w.len()));
                }
                None if secret_flag(flag) => {
                    if let Some((next, noff)) = words.get(i + 1) {
                        if !next.starts_with('-') && !next.is_empty() && !is_template(next) {
                            out.push((*noff, noff + next.len()));
                        }
                    }
                }
                _ => {}
            }
        } else if mysql {
            if let Some(value) = w.strip_prefix("-p") {
                if !value.is_empty() && !is_template(value) {
                    out.push((off + 2, off + w.len()));
                }
            }
        }
    }
    out
}

/// Whitespace-separated words of a string with their byte offsets.
pub fn words(s: &str) -> Vec<(&str, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in s.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(st)) => {
                out.push((&s[st..i], st));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(st) = start {
        out.push((&s[st..], st));
    }
    // quotes around a word are not part of the value
    out.into_iter()
        .map(|(w, o)| {
            let t = w.trim_matches(['"', '\'']);
            let lead = w.len() - w.trim_start_matches(['"', '\'']).len();
            (t, o + lead)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_flags_and_templates() {
        let s = "mysql://app:s3cret@db:3306/x and http://u:{{ $var.p }}@h";
        let r = url_passwords(s);
        assert_eq!(r.len(), 1);
        assert_eq!(&s[r[0].0..r[0].1], "s3cret");
        let cmd = "mysqladmin -uroot -phunter2 --password=abc --token xyz --port 3306";
        let found: Vec<&str> = flag_passwords(&words(cmd))
            .iter()
            .map(|(a, b)| &cmd[*a..*b])
            .collect();
        assert_eq!(found, ["hunter2", "abc", "xyz"]);
        // `-p` of a non-MySQL command is a port, not a password
        let nginx = "server -p8080 --password-file=/run/s";
        assert!(flag_passwords(&words(nginx)).is_empty());
        assert!(flag_passwords(&words("mysql --password=$var.pw")).is_empty());
    }
}
