//! Project settings (`specstudio.toml`) and inline ignore comments.
//!
//! The core does no I/O: the CLI finds `specstudio.toml` upward from the spec
//! (or takes `--config`), reads it and passes the parsed [`Config`] in
//! [`crate::Options`]. The same settings and comments apply in the editor.
//!
//! ```toml
//! [rules]
//! C002 = "warning"            # error | warning | info | off
//! literal-password = "off"    # a rule's name works too
//! ```
//!
//! In a spec, `# specstudio-ignore: C005` silences that rule on the next line
//! (or on its own line when it trails a value), and
//! `# specstudio-ignore-file: S001, O003` anywhere silences rules for the whole
//! file. An ignore that silences nothing is itself reported (I001).

use std::collections::BTreeMap;

use crate::diagnostic::{Diagnostic, Severity};
use crate::rules;
use crate::span::Span;

/// What a project sets for one rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleSetting {
    Off,
    Severity(Severity),
}

/// Parsed project settings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Config {
    /// Rule code → setting.
    pub rules: BTreeMap<&'static str, RuleSetting>,
}

/// A problem in `specstudio.toml`, with the byte range it is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub message: String,
    pub span: Option<Span>,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    rules: BTreeMap<toml::Spanned<String>, toml::Spanned<String>>,
}

impl Config {
    /// Parse `specstudio.toml`. Unknown rules and levels are errors: a typo
    /// must not silently leave a rule on.
    pub fn parse(text: &str) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError {
            message: e.message().to_owned(),
            span: e.span().map(|r| Span::new(r.start, r.end)),
        })?;
        let mut config = Config::default();
        for (key, value) in raw.rules {
            let span = |s: std::ops::Range<usize>| Some(Span::new(s.start, s.end));
            let Some(rule) = rules::find(key.get_ref()) else {
                return Err(ConfigError {
                    message: format!("unknown rule `{}`", key.get_ref()),
                    span: span(key.span()),
                });
            };
            let setting = match value.get_ref().to_ascii_lowercase().as_str() {
                "off" | "allow" | "none" => RuleSetting::Off,
                "error" => RuleSetting::Severity(Severity::Error),
                "warning" | "warn" => RuleSetting::Severity(Severity::Warning),
                "info" => RuleSetting::Severity(Severity::Info),
                other => {
                    return Err(ConfigError {
                        message: format!(
                            "`{other}` is not a level: use `error`, `warning`, `info` or `off`"
                        ),
                        span: span(value.span()),
                    })
                }
            };
            config.rules.insert(rule.meta().code, setting);
        }
        Ok(config)
    }

    fn setting(&self, code: &str) -> Option<RuleSetting> {
        self.rules.get(code).copied()
    }
}

/// One `specstudio-ignore` comment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ignore {
    /// The code as written and where (for the unused-ignore warning).
    pub code: String,
    pub span: Span,
    /// `None` for `specstudio-ignore-file`, else the byte range of the line
    /// it silences.
    pub line: Option<Span>,
}

const NEXT_LINE: &str = "specstudio-ignore:";
const WHOLE_FILE: &str = "specstudio-ignore-file:";

/// Find the ignore comments of a spec.
pub fn ignores(text: &str) -> Vec<Ignore> {
    let mut out = Vec::new();
    if !text.contains("specstudio-ignore") {
        return out;
    }
    let lines: Vec<(usize, &str)> = line_offsets(text);
    for (i, &(start, line)) in lines.iter().enumerate() {
        let Some(hash) = comment_start(line) else {
            continue;
        };
        let comment = &line[hash + 1..];
        let body = comment.trim_start();
        let (file, rest) = if let Some(rest) = body.strip_prefix(WHOLE_FILE) {
            (true, rest)
        } else if let Some(rest) = body.strip_prefix(NEXT_LINE) {
            (false, rest)
        } else {
            continue;
        };
        let rest_at = start + hash + 1 + (comment.len() - body.len()) + (body.len() - rest.len());
        let own_line = line[..hash].trim().is_empty();
        let target = if file {
            None
        } else if own_line {
            // The next line with content (comments and blank lines skipped).
            lines[i + 1..]
                .iter()
                .find(|(_, l)| {
                    let t = l.trim();
                    !t.is_empty() && !t.starts_with('#')
                })
                .map(|(s, l)| Span::new(*s, s + l.len()))
        } else {
            Some(Span::new(start, start + line.len()))
        };
        if !file && target.is_none() {
            continue;
        }
        // Codes end at a second `#` or at ` -- reason`.
        let list_end = rest.find(['#']).unwrap_or(rest.len());
        let list = rest[..list_end].split(" --").next().unwrap_or_default();
        let mut offset = 0;
        for part in list.split(',') {
            let code = part.trim();
            let lead = part.len() - part.trim_start().len();
            if !code.is_empty() {
                let at = rest_at + offset + lead;
                out.push(Ignore {
                    code: code.to_owned(),
                    span: Span::new(at, at + code.len()),
                    line: target,
                });
            }
            offset += part.len() + 1;
        }
    }
    out
}

fn line_offsets(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = 0;
    for line in text.split('\n') {
        out.push((start, line.strip_suffix('\r').unwrap_or(line)));
        start += line.len() + 1;
    }
    out
}

/// Where a YAML comment starts on a line (a `#` at the start or after a
/// blank, outside quotes).
fn comment_start(line: &str) -> Option<usize> {
    let bytes = line.as_bytes();
    let mut quote = None;
    for (i, &b) in bytes.iter().enumerate() {
        match (quote, b) {
            (None, b'\'' | b'"') => quote = Some(b),
            (Some(q), _) if b == q => quote = None,
            (None, b'#') if i == 0 || matches!(bytes[i - 1], b' ' | b'\t') => return Some(i),
            _ => {}
        }
    }
    None
}

/// Apply ignore comments and project settings to the rules' findings, and
/// report ignores that silenced nothing (I001, itself subject to settings).
pub fn apply(text: &str, config: &Config, diagnostics: &mut Vec<Diagnostic>) {
    let ignores = ignores(text);
    if !ignores.is_empty() {
        let mut used = vec![false; ignores.len()];
        diagnostics.retain(|d| {
            let code = d.code;
            let name = rules::find(code).map(|r| r.meta().name);
            let mut keep = true;
            for (i, ignore) in ignores.iter().enumerate() {
                let names_it = ignore.code == code || Some(ignore.code.as_str()) == name;
                let covers = match ignore.line {
                    None => true,
                    Some(line) => d.span.start >= line.start && d.span.start <= line.end,
                };
                if names_it && covers {
                    used[i] = true;
                    keep = false;
                }
            }
            keep
        });
        let meta = &rules::config::UnusedIgnore::META;
        for (ignore, used) in ignores.iter().zip(used) {
            if used {
                continue;
            }
            let known = rules::find(&ignore.code).is_some();
            let message = if known {
                let scope = if ignore.line.is_some() {
                    "the next line"
                } else {
                    "this file"
                };
                format!(
                    "`{}` is not reported on {scope}: nothing to ignore",
                    ignore.code
                )
            } else {
                format!("`{}` is not a rule code or name", ignore.code)
            };
            diagnostics.push(Diagnostic {
                code: meta.code,
                severity: meta.severity,
                message,
                help: Some(meta.help.to_owned()),
                span: ignore.span,
                path: String::new(),
                fix: None,
                related: Vec::new(),
            });
        }
    }
    if !config.rules.is_empty() {
        diagnostics.retain_mut(|d| match config.setting(d.code) {
            Some(RuleSetting::Off) => false,
            Some(RuleSetting::Severity(s)) => {
                d.severity = s;
                true
            }
            None => true,
        });
    }
    diagnostics.sort_by(|a, b| {
        (a.span.start, a.span.end, a.code).cmp(&(b.span.start, b.span.end, b.code))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_settings_by_code_and_name() {
        let config = Config::parse(
            "[rules]\nC002 = \"warning\"\nliteral-password = \"off\"\nY009 = \"Error\"\n",
        )
        .unwrap();
        assert_eq!(
            config.setting("C002"),
            Some(RuleSetting::Severity(Severity::Warning))
        );
        assert_eq!(config.setting("S001"), Some(RuleSetting::Off));
        assert_eq!(
            config.setting("Y009"),
            Some(RuleSetting::Severity(Severity::Error))
        );
        assert_eq!(config.setting("C001"), None);
    }

    #[test]
    fn rejects_unknown_rules_levels_and_keys() {
        let text = "[rules]\nC999 = \"off\"\n";
        let err = Config::parse(text).unwrap_err();
        assert!(err.message.contains("C999"), "{err}");
        let span = err.span.unwrap();
        assert_eq!(&text[span.start..span.end], "C999");
        let err = Config::parse("[rules]\nC002 = \"loud\"\n").unwrap_err();
        assert!(err.message.contains("loud"), "{err}");
        assert!(Config::parse("[rulez]\n").is_err());
        assert!(Config::parse("[rules\n").is_err());
    }

    #[test]
    fn finds_ignore_comments() {
        let text = "a: 1\n# specstudio-ignore: C002, O003 -- legacy\n\nb: 2\nc: 3 # specstudio-ignore: C005\n# specstudio-ignore-file: S001\nd: '# specstudio-ignore: C001'\n";
        let found = ignores(text);
        let codes: Vec<_> = found.iter().map(|i| i.code.as_str()).collect();
        assert_eq!(codes, ["C002", "O003", "C005", "S001"]);
        for i in &found {
            assert_eq!(&text[i.span.start..i.span.end], i.code);
        }
        let line = |i: &Ignore| i.line.map(|l| &text[l.start..l.end]);
        assert_eq!(line(&found[0]), Some("b: 2"));
        assert_eq!(line(&found[2]), Some("c: 3 # specstudio-ignore: C005"));
        assert_eq!(line(&found[3]), None);
    }
}
