//! Compose's units, read once for the validator (C024) and the server's
//! planner: Go durations (`1m30s`) and Docker byte sizes (`512m`).

/// Go's `time.ParseDuration` in nanoseconds: an optional sign, then one or
/// more decimal numbers each with a unit (`ns`, `us`/`µs`, `ms`, `s`, `m`,
/// `h`); `0` alone needs none. `None` for anything else or out of range.
pub fn parse_duration(s: &str) -> Option<i64> {
    let (sign, s) = match s.strip_prefix('-') {
        Some(rest) => (-1.0, rest),
        None => (1.0, s.strip_prefix('+').unwrap_or(s)),
    };
    if s == "0" {
        return Some(0);
    }
    if s.is_empty() {
        return None;
    }
    let mut rest = s;
    let mut total = 0f64;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number = &rest[..digits];
        if number.is_empty() || number == "." || number.matches('.').count() > 1 {
            return None;
        }
        let n: f64 = number.parse().ok()?;
        rest = &rest[digits..];
        let (unit, scale) = [
            ("ns", 1.0),
            ("us", 1e3),
            ("µs", 1e3),
            ("μs", 1e3),
            ("ms", 1e6),
            ("s", 1e9),
            ("m", 60e9),
            ("h", 3600e9),
        ]
        .into_iter()
        .filter(|(u, _)| rest.starts_with(u))
        .max_by_key(|(u, _)| u.len())?;
        rest = &rest[unit.len()..];
        total += n * scale;
    }
    (total < 9e18).then_some((sign * total) as i64)
}

/// Docker's `RAMInBytes`: a number, an optional space, then `b`, `k`, `m`,
/// `g`, `t` or `p` with an optional `i` and `b` (powers of 1024); `-1`
/// (unlimited swap) too. `None` for anything else or out of range.
pub fn parse_bytes(s: &str) -> Option<i64> {
    if s == "-1" {
        return Some(-1);
    }
    let digits = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (number, unit) = s.split_at(digits);
    if number.is_empty() || number.starts_with('.') || number.ends_with('.') {
        return None;
    }
    let n: f64 = number.parse().ok()?;
    let unit = unit.strip_prefix(' ').unwrap_or(unit).to_ascii_lowercase();
    let (prefix, rest) = match unit.chars().next() {
        Some(c @ ('k' | 'm' | 'g' | 't' | 'p')) => (Some(c), &unit[1..]),
        _ => (None, unit.as_str()),
    };
    let rest = match prefix {
        Some(_) => rest.strip_prefix('i').unwrap_or(rest),
        None => rest,
    };
    if !(rest.is_empty() || rest == "b") {
        return None;
    }
    let power = match prefix {
        None => 0,
        Some('k') => 1,
        Some('m') => 2,
        Some('g') => 3,
        Some('t') => 4,
        _ => 5,
    };
    let v = n * 1024f64.powi(power);
    (v < 9e18).then_some(v as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_follow_go() {
        for ok in [
            "0",
            "30s",
            "1m30s",
            "1.5h",
            "500ms",
            "10us",
            "-1s",
            "2h45m0.5s",
        ] {
            assert!(parse_duration(ok).is_some(), "{ok}");
        }
        for bad in ["", "10", "10 s", "s", "1.2.3s", "10sec", "1d", ".s"] {
            assert!(parse_duration(bad).is_none(), "{bad}");
        }
        assert_eq!(parse_duration("1m30s"), Some(90_000_000_000));
        assert_eq!(parse_duration("250ms"), Some(250_000_000));
    }

    #[test]
    fn sizes_follow_docker() {
        for ok in ["512m", "1gb", "1GiB", "1024", "64 m", "0.5g", "-1", "10b"] {
            assert!(parse_bytes(ok).is_some(), "{ok}");
        }
        for bad in ["", "m", "1x", "1 gigabyte", "1.g", "--1", "1kk"] {
            assert!(parse_bytes(bad).is_none(), "{bad}");
        }
        assert_eq!(parse_bytes("512m"), Some(512 << 20));
        assert_eq!(parse_bytes("1GB"), Some(1 << 30));
    }
}
