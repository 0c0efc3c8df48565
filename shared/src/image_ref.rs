//! Docker image references (`[registry[:port]/]path[:tag][@digest]`), checked
//! the way the engine's reference grammar does, so a bad one is a located
//! lint error and a `422`, never a Docker error at deploy time.

/// Why `reference` is not a valid image reference (`Ok` when it is).
pub fn check(reference: &str) -> Result<(), String> {
    let r = reference;
    if r.is_empty() {
        return Err("the image reference is empty".into());
    }
    if let Some(c) = r.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "an image reference has no {}",
            if c == ' ' {
                "spaces".to_owned()
            } else {
                format!("{c:?}")
            }
        ));
    }
    let (name_tag, digest) = match r.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (r, None),
    };
    if let Some(d) = digest {
        check_digest(d)?;
    }
    // a tag follows the last `:` after the last `/` (a registry port is before it)
    let last_slash = name_tag.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match name_tag[last_slash..].rfind(':') {
        Some(i) => (
            &name_tag[..last_slash + i],
            Some(&name_tag[last_slash + i + 1..]),
        ),
        None => (name_tag, None),
    };
    if let Some(t) = tag {
        check_tag(t)?;
    }
    if name.len() > 255 {
        return Err("the repository name is longer than 255 characters".into());
    }
    let mut parts: Vec<&str> = name.split('/').collect();
    if parts.len() > 1 && is_registry(parts[0]) {
        check_registry(parts[0])?;
        parts.remove(0);
    }
    for p in parts {
        check_path_component(p)?;
    }
    Ok(())
}

/// The first component names a registry when it has a `.` or a `:`, is
/// `localhost`, or has an upper-case letter (paths never do).
fn is_registry(c: &str) -> bool {
    c.contains('.')
        || c.contains(':')
        || c == "localhost"
        || c.chars().any(|c| c.is_ascii_uppercase())
}

fn check_registry(c: &str) -> Result<(), String> {
    let (host, port) = match c.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || c.starts_with('[') => (h, Some(p)),
        _ => (c, None),
    };
    if let Some(p) = port {
        if p.is_empty() || p.len() > 5 || !p.chars().all(|c| c.is_ascii_digit()) {
            return Err(format!("registry port `{p}` is not a number"));
        }
    }
    let ok = if let Some(v6) = host.strip_prefix('[') {
        v6.strip_suffix(']')
            .is_some_and(|a| !a.is_empty() && a.chars().all(|c| c.is_ascii_hexdigit() || c == ':'))
    } else {
        !host.is_empty()
            && host.split('.').all(|l| {
                !l.is_empty()
                    && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                    && !l.starts_with('-')
                    && !l.ends_with('-')
            })
    };
    if ok {
        Ok(())
    } else {
        Err(format!("registry `{c}` is not a host name"))
    }
}

/// `[a-z0-9]+` separated by `.`, `_`, `__` or `-`s.
fn check_path_component(p: &str) -> Result<(), String> {
    if p.is_empty() {
        return Err("the repository path has an empty component".into());
    }
    if p.chars().any(|c| c.is_ascii_uppercase()) {
        return Err(format!("repository names are lower case (`{p}`)"));
    }
    let bytes = p.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
        return Err(format!(
            "a repository path component starts and ends with a letter or digit (`{p}`)"
        ));
    }
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if alnum(b) {
            i += 1;
            continue;
        }
        // a separator: `.`, `_`, `__` or one or more `-`
        let start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let sep = &p[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.chars().all(|c| c == '-');
        if !ok {
            return Err(format!(
                "`{sep}` is not allowed in a repository name (`{p}`)"
            ));
        }
    }
    Ok(())
}

/// `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
fn check_tag(t: &str) -> Result<(), String> {
    let first_ok = t
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    if !first_ok
        || t.len() > 128
        || !t
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
    {
        return Err(format!(
            "tag `{t}` is not valid (letters, digits, `_`, `.`, `-`; at most 128; not starting with `.` or `-`)"
        ));
    }
    Ok(())
}

/// `algorithm:hex`; `sha256` takes exactly 64 lower-case hex digits.
fn check_digest(d: &str) -> Result<(), String> {
    let Some((alg, hex)) = d.split_once(':') else {
        return Err(format!("digest `{d}` has no `algorithm:` prefix"));
    };
    let alg_ok = alg.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && alg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '_' | '-'));
    if !alg_ok {
        return Err(format!("digest algorithm `{alg}` is not valid"));
    }
    let hex_ok = hex.len() >= 32 && hex.chars().all(|c| c.is_ascii_hexdigit());
    let sha_ok = alg != "sha256"
        || (hex.len() == 64
            && hex
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)));
    if !hex_ok || !sha_ok {
        return Err(format!(
            "digest `{d}` is not valid (`sha256:` and 64 hex digits)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn valid_references() {
        for r in [
            "nginx",
            "nginx:1.25",
            "docker.io/bitnami/mysql:8.0",
            "specstudio/mysql:local",
            "localhost:5000/a/b_c__d.e-f--g:tag_1.2-x",
            "Registry.Example.com/x/y",
            "[::1]:5000/img",
            "omnistrate/noop",
            "busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "a/b:c@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ] {
            assert_eq!(check(r), Ok(()), "{r}");
        }
    }

    #[test]
    fn invalid_references_say_why() {
        for (r, why) in [
            ("UPPER/Case:1", "lower case"),
            ("bad image", "spaces"),
            ("x@sha256:zz", "digest"),
            ("", "empty"),
            ("nginx:", "tag"),
            ("nginx:-x", "tag"),
            ("a//b", "empty component"),
            ("-a", "starts and ends"),
            ("a...b", "not allowed"),
            ("host:99x/img", "port"),
            ("img\n", "'\\n'"),
        ] {
            let e = check(r).expect_err(r);
            assert!(e.contains(why), "{r}: {e}");
        }
    }
}
