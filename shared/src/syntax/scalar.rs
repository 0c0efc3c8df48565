//! Reading a scalar with the YAML 1.2 core schema.

use super::{Scalar, ScalarStyle};

/// A scalar's typed reading. Quoted scalars are always strings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ScalarValue<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(&'a str),
}

impl<'a> ScalarValue<'a> {
    pub fn of(scalar: &'a Scalar) -> Self {
        if scalar.style != ScalarStyle::Plain || scalar.tagged {
            return ScalarValue::Str(&scalar.value);
        }
        let text = scalar.value.as_str();
        // Most plain scalars are words.
        if text
            .as_bytes()
            .first()
            .is_some_and(|b| !may_start_non_string(*b))
        {
            return ScalarValue::Str(text);
        }
        match text {
            "" | "~" | "null" | "Null" | "NULL" => return ScalarValue::Null,
            "true" | "True" | "TRUE" => return ScalarValue::Bool(true),
            "false" | "False" | "FALSE" => return ScalarValue::Bool(false),
            ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
                return ScalarValue::Float(f64::INFINITY)
            }
            "-.inf" | "-.Inf" | "-.INF" => return ScalarValue::Float(f64::NEG_INFINITY),
            ".nan" | ".NaN" | ".NAN" => return ScalarValue::Float(f64::NAN),
            _ => {}
        }
        if let Some(int) = parse_int(text) {
            return ScalarValue::Int(int);
        }
        if looks_like_float(text) {
            if let Ok(f) = text.parse::<f64>() {
                return ScalarValue::Float(f);
            }
        }
        ScalarValue::Str(text)
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            ScalarValue::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// Numbers as f64 (ints widen).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            ScalarValue::Int(i) => Some(*i as f64),
            ScalarValue::Float(f) => Some(*f),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            ScalarValue::Int(i) => Some(*i),
            ScalarValue::Float(f) if f.fract() == 0.0 && f.is_finite() => Some(*f as i64),
            _ => None,
        }
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            ScalarValue::Null => "null",
            ScalarValue::Bool(_) => "boolean",
            ScalarValue::Int(_) => "integer",
            ScalarValue::Float(_) => "number",
            ScalarValue::Str(_) => "string",
        }
    }
}

/// Whether a plain scalar starting with `byte` may read as a null, a
/// boolean or a number (no other scalar does).
pub(crate) fn may_start_non_string(byte: u8) -> bool {
    matches!(
        byte,
        b'0'..=b'9' | b'.' | b'+' | b'-' | b'~' | b'n' | b'N' | b't' | b'T' | b'f' | b'F'
    )
}

fn parse_int(text: &str) -> Option<i64> {
    let (sign, digits) = match text.as_bytes().first()? {
        b'-' => (-1, &text[1..]),
        b'+' => (1, &text[1..]),
        _ => (1, text),
    };
    if let Some(hex) = digits.strip_prefix("0x") {
        return i64::from_str_radix(hex, 16).ok().map(|v| v * sign);
    }
    if let Some(oct) = digits.strip_prefix("0o") {
        return i64::from_str_radix(oct, 8).ok().map(|v| v * sign);
    }
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<i64>().ok().map(|v| v * sign)
}

fn looks_like_float(text: &str) -> bool {
    let body = text.trim_start_matches(['-', '+']);
    !body.is_empty()
        && body.bytes().any(|b| b.is_ascii_digit())
        && body
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'))
}
