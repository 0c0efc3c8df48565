//! A POSIX-shell-like word splitter for string `command`/`entrypoint` values.

#[allow(unused_imports)]
use super::*;

/// Split a compose string `command`/`entrypoint` into words like a shell
/// (compose does the same): blanks separate words, quotes and backslashes
/// group. A `{{ … }}` template is never split.
pub fn split_words(text: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err("has an unclosed single quote".into()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => word.push(c),
                            Some(c) => {
                                word.push('\\');
                                word.push(c);
                            }
                            None => return Err("has an unclosed double quote".into()),
                        },
                        Some(c) => word.push(c),
                        None => return Err("has an unclosed double quote".into()),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(c) = chars.next() {
                    word.push(c);
                }
            }
            '{' if chars.peek() == Some(&'{') => {
                in_word = true;
                word.push_str("{{");
                chars.next();
                let mut closed = false;
                while let Some(c) = chars.next() {
                    word.push(c);
                    if c == '}' && chars.peek() == Some(&'}') {
                        word.push('}');
                        chars.next();
                        closed = true;
                        break;
                    }
                }
                if !closed {
                    return Err("has `{{` without a closing `}}`".into());
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}
