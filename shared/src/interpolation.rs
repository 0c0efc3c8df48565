//! Compose variable interpolation: `$VAR`, `${VAR}`, `${VAR:-default}`,
//! `${VAR-default}`, `${VAR:?message}`, `${VAR?message}`, `${VAR:+alt}`,
//! `${VAR+alt}`, nested defaults, and `$$` for a literal `$`.
//!
//! Compose interpolates every value of the file before it reads it, so a value
//! is only judged after interpolation. When the variables are not known (no
//! `--env-file`, no `.env`), an unknown variable is a *hole*: the value is
//! checked only where it does not depend on it (`"${PORT:-80}:80"` is a valid
//! port mapping, and so is `"${HOST_PORT}:80"`).
//!
//! Follows the reference implementation (compose-go `template`): a `$` not
//! followed by `$`, `{` or a name start is kept literally; `${` must be followed
//! by a name and either `}` or one of the six operators.
//!
//! ```
//! use shared::interpolation::{interpolate, Vars};
//! let vars = Vars::known([("PORT", "8080")], true);
//! assert_eq!(interpolate("${PORT:-80}:80", &vars).unwrap().text(), Some("8080:80"));
//! assert!(interpolate("${HOST_PORT}:80", &Vars::unknown()).unwrap().has_holes());
//! assert!(interpolate("${VAR:}", &Vars::unknown()).is_err());
//! ```

use std::collections::BTreeMap;

/// Stands for the value of a variable we do not know. A private-use character:
/// it never appears in a real value, and it makes every number parse fail, so
/// readers treat a part that holds it as "unknown" rather than as wrong.
pub const HOLE: char = '\u{F8FF}';

/// The variables known while checking a spec.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Vars {
    values: BTreeMap<String, String>,
    /// Whether `values` is everything compose would see (the process
    /// environment was read): a missing variable is then unset, not unknown.
    complete: bool,
}

impl Vars {
    /// Nothing is known: every variable is a hole.
    pub fn unknown() -> Self {
        Vars::default()
    }

    pub fn known<K: Into<String>, V: Into<String>>(
        values: impl IntoIterator<Item = (K, V)>,
        complete: bool,
    ) -> Self {
        Vars {
            values: values
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            complete,
        }
    }

    /// Add variables; earlier ones win (compose: the process environment
    /// beats `.env`).
    pub fn add_missing<K: Into<String>, V: Into<String>>(
        &mut self,
        values: impl IntoIterator<Item = (K, V)>,
    ) {
        for (k, v) in values {
            self.values.entry(k.into()).or_insert_with(|| v.into());
        }
    }

    pub fn set_complete(&mut self, complete: bool) {
        self.complete = complete;
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty() && !self.complete
    }

    /// `Some(Some(v))` set, `Some(None)` unset, `None` unknown.
    fn lookup(&self, name: &str) -> Option<Option<&str>> {
        match self.values.get(name) {
            Some(v) => Some(Some(v)),
            None if self.complete => Some(None),
            None => None,
        }
    }
}

/// Read a `.env` file the way compose does: `NAME=value` lines, `#` comments,
/// optional `export `, single or double quotes around the value.
pub fn parse_env_file(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let (name, value) = match line.split_once('=') {
            Some((n, v)) => (n.trim(), v.trim()),
            None => (line, ""),
        };
        if name.is_empty() {
            continue;
        }
        let value = if value.len() >= 2
            && ((value.starts_with('"') && value.ends_with('"'))
                || (value.starts_with('\'') && value.ends_with('\'')))
        {
            value[1..value.len() - 1].to_owned()
        } else {
            // An unquoted value ends at ` #`.
            value
                .split_once(" #")
                .map_or(value, |(v, _)| v.trim_end())
                .to_owned()
        };
        out.push((name.to_owned(), value));
    }
    out
}

/// A malformed interpolation: byte range inside the value and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Malformed {
    pub start: usize,
    pub end: usize,
    pub message: String,
}

/// A `${VAR:?message}` whose variable is unset (compose stops with `message`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Required {
    pub start: usize,
    pub end: usize,
    pub name: String,
    pub message: String,
}

/// The value after interpolation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interpolated {
    /// The text with [`HOLE`] where an unknown variable stands.
    pub value: String,
    /// Required variables that are unset.
    pub missing: Vec<Required>,
}

impl Interpolated {
    pub fn has_holes(&self) -> bool {
        self.value.contains(HOLE)
    }

    /// The final text, when every variable was known.
    pub fn text(&self) -> Option<&str> {
        (!self.has_holes()).then_some(self.value.as_str())
    }
}

/// Whether a value holds anything compose would interpolate or unescape.
pub fn needs_interpolation(value: &str) -> bool {
    let b = value.as_bytes();
    memchr_dollar(b).is_some_and(|i| {
        b[i..]
            .windows(2)
            .any(|w| w[0] == b'$' && (w[1] == b'$' || w[1] == b'{' || is_name_start(w[1])))
    })
}

/// Whether a `$` is left once every `$$` (compose's escaped dollar) is
/// taken out, without building that string.
pub fn has_unescaped_dollar(text: &str) -> bool {
    let b = text.as_bytes();
    let mut i = 0;
    while let Some(at) = memchr_dollar(&b[i..]) {
        let at = i + at;
        if b.get(at + 1) != Some(&b'$') {
            return true;
        }
        i = at + 2;
    }
    false
}

fn memchr_dollar(b: &[u8]) -> Option<usize> {
    b.iter().position(|&c| c == b'$')
}

fn is_name_start(c: u8) -> bool {
    c == b'_' || c.is_ascii_alphabetic()
}

fn is_name_char(c: u8) -> bool {
    c == b'_' || c.is_ascii_alphanumeric()
}

/// Check the syntax of every interpolation in `value`.
pub fn validate(value: &str) -> Result<(), Malformed> {
    interpolate(value, &Vars::unknown()).map(|_| ())
}

/// Interpolate `value` with `vars`.
pub fn interpolate(value: &str, vars: &Vars) -> Result<Interpolated, Malformed> {
    let mut out = Interpolated {
        value: String::with_capacity(value.len()),
        missing: Vec::new(),
    };
    let end = expand(value, 0, value.len(), vars, &mut out, 0)?;
    debug_assert_eq!(end, value.len());
    Ok(out)
}

/// Deepest nesting of `${A:-${B:-…}}` we follow (bounded work on any input).
const MAX_NESTING: usize = 32;

/// Expand `s[from..to]` into `out.value`; returns where it stopped.
fn expand(
    s: &str,
    from: usize,
    to: usize,
    vars: &Vars,
    out: &mut Interpolated,
    depth: usize,
) -> Result<usize, Malformed> {
    let b = s.as_bytes();
    let mut i = from;
    let mut literal_from = from;
    while i < to {
        if b[i] != b'$' {
            i += 1;
            continue;
        }
        out.value.push_str(&s[literal_from..i]);
        let next = b.get(i + 1).copied().filter(|_| i + 1 < to);
        match next {
            Some(b'$') => {
                out.value.push('$');
                i += 2;
            }
            Some(c) if is_name_start(c) => {
                let mut j = i + 2;
                while j < to && is_name_char(b[j]) {
                    j += 1;
                }
                push_var(&s[i + 1..j], vars, out);
                i = j;
            }
            Some(b'{') => {
                i = braced(s, i, to, vars, out, depth)?;
            }
            _ => {
                out.value.push('$');
                i += 1;
            }
        }
        literal_from = i;
    }
    out.value.push_str(&s[literal_from..i.min(to)]);
    Ok(i.min(to))
}

fn push_var(name: &str, vars: &Vars, out: &mut Interpolated) {
    match vars.lookup(name) {
        Some(Some(v)) => out.value.push_str(v),
        Some(None) => {}
        None => out.value.push(HOLE),
    }
}

/// `${…}` starting at `s[at] == '$'`; returns the index after the closing `}`.
fn braced(
    s: &str,
    at: usize,
    to: usize,
    vars: &Vars,
    out: &mut Interpolated,
    depth: usize,
) -> Result<usize, Malformed> {
    let b = s.as_bytes();
    let close = matching_brace(b, at + 2, to);
    let bad = |end: usize, message: String| Malformed {
        start: at,
        end,
        message,
    };
    let Some(close) = close else {
        return Err(bad(to, "`${` is never closed with `}`".into()));
    };
    let token = &s[at..=close];
    if depth >= MAX_NESTING {
        return Err(bad(close + 1, "interpolation nested too deeply".into()));
    }
    let name_from = at + 2;
    let mut j = name_from;
    if j < close && is_name_start(b[j]) {
        j += 1;
        while j < close && is_name_char(b[j]) {
            j += 1;
        }
    }
    let name = &s[name_from..j];
    if name.is_empty() {
        let message = if close == name_from {
            "`${}` names no variable".to_owned()
        } else {
            format!("`{token}`: a variable name starts with a letter or `_`")
        };
        return Err(bad(close + 1, message));
    }
    if j == close {
        push_var(name, vars, out);
        return Ok(close + 1);
    }
    let colon = b[j] == b':';
    let op_at = if colon { j + 1 } else { j };
    let op = if op_at < close { b[op_at] } else { 0 };
    if !matches!(op, b'-' | b'+' | b'?') {
        return Err(bad(
            close + 1,
            format!(
                "`{token}`: after the name write `}}`, or `:-`, `-`, `:?`, `?`, `:+` or `+` and a value"
            ),
        ));
    }
    let arg = (op_at + 1, close);
    let value = vars.lookup(name);
    // Set means "set" for `-`, `?` and `+`; "set and not empty" with a colon.
    let state = value.map(|v| match v {
        Some(v) => !(colon && v.is_empty()),
        None => false,
    });
    match (op, state) {
        (b'-', Some(true)) | (b'?', Some(true)) => push_var(name, vars, out),
        (b'-', Some(false)) | (b'+', Some(true)) => {
            expand(s, arg.0, arg.1, vars, out, depth + 1)?;
        }
        (b'+', Some(false)) => {}
        (b'?', Some(false)) => {
            let mut message = Interpolated {
                value: String::new(),
                missing: Vec::new(),
            };
            expand(s, arg.0, arg.1, vars, &mut message, depth + 1)?;
            out.missing.push(Required {
                start: at,
                end: close + 1,
                name: name.to_owned(),
                message: message.value,
            });
        }
        // Unknown: the value is a hole, but the argument must still be well-formed.
        _ => {
            let mut scratch = Interpolated {
                value: String::new(),
                missing: Vec::new(),
            };
            expand(s, arg.0, arg.1, vars, &mut scratch, depth + 1)?;
            out.value.push(HOLE);
        }
    }
    Ok(close + 1)
}

/// The `}` closing a `${` whose body starts at `from`, counting nested `${`.
fn matching_brace(b: &[u8], from: usize, to: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = from;
    while i < to {
        match b[i] {
            b'$' if b.get(i + 1) == Some(&b'$') => i += 1,
            b'$' if b.get(i + 1) == Some(&b'{') => {
                depth += 1;
                i += 1;
            }
            b'}' if depth == 0 => return Some(i),
            b'}' => depth -= 1,
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(pairs: &[(&str, &str)]) -> Vars {
        Vars::known(pairs.iter().copied(), true)
    }

    fn text(value: &str, vars: &Vars) -> String {
        interpolate(value, vars).unwrap().value
    }

    #[test]
    fn every_form_with_known_variables() {
        let v = known(&[("A", "1"), ("E", "")]);
        assert_eq!(text("$A-${A}", &v), "1-1");
        assert_eq!(text("${A:-x} ${B:-x} ${E:-x} ${E-x}", &v), "1 x x ");
        assert_eq!(text("${A-x} ${B-x}", &v), "1 x");
        assert_eq!(text("${A:+y} ${E:+y} ${E+y} ${B+y}", &v), "y  y ");
        assert_eq!(text("${B:-${C:-${A}}}", &v), "1");
        assert_eq!(text("$$A $${A} a$ $1 $-", &v), "$A ${A} a$ $1 $-");
        assert_eq!(text("$B", &v), "");
    }

    #[test]
    fn required_variables() {
        let v = known(&[("E", "")]);
        let out = interpolate("x${E:?need E}y${F?need F}${E?fine}", &v).unwrap();
        let names: Vec<_> = out.missing.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["E", "F"]);
        assert_eq!(out.missing[0].message, "need E");
        assert_eq!(out.missing[0].start, 1);
    }

    #[test]
    fn unknown_variables_are_holes() {
        let v = Vars::unknown();
        let out = interpolate("${PORT:-80}:80", &v).unwrap();
        assert_eq!(out.value, format!("{HOLE}:80"));
        assert!(out.text().is_none());
        assert_eq!(text("$$X", &v), "$X");
        let partial = Vars::known([("A", "1")], false);
        assert_eq!(text("$A$B", &partial), format!("1{HOLE}"));
    }

    #[test]
    fn malformed_tokens_are_located() {
        for (value, start, end) in [
            ("a ${", 2, 4),
            ("${VAR:}", 0, 7),
            ("${}", 0, 3),
            ("x ${1A} y", 2, 7),
            ("${A%%b}", 0, 7),
            ("${A:-${B:}}", 5, 10),
            ("${A:-${B}", 0, 9),
        ] {
            let err = validate(value).unwrap_err();
            assert_eq!((err.start, err.end), (start, end), "{value}: {err:?}");
        }
        for ok in [
            "${A:-}",
            "${A-}",
            "${A:?}",
            "$",
            "a$",
            "${A:-a}b}",
            "${_x1}",
        ] {
            assert!(validate(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn needs_interpolation_finds_only_real_uses() {
        assert!(needs_interpolation("a$B"));
        assert!(needs_interpolation("$$"));
        assert!(needs_interpolation("${"));
        assert!(!needs_interpolation("a$ b$1"));
        assert!(!needs_interpolation("plain"));
    }

    #[test]
    fn env_files() {
        let vars = parse_env_file("# c\nA=1\nexport B = \"two words\"\nC='x # y'\nD=v # note\nE\n");
        assert_eq!(
            vars,
            [
                ("A", "1"),
                ("B", "two words"),
                ("C", "x # y"),
                ("D", "v"),
                ("E", "")
            ]
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
        );
    }
}
