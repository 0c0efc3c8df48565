//! Redaction beyond the literal value: a secret's common encodings, and a
//! secret split over the boundary of two log lines.

/// Fragments shorter than this at a line's edge are not masked (too likely
/// to be ordinary text).
const MIN_EDGE: usize = 4;

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The forms a secret takes in logs besides itself: base64 (the stable
/// middle of its encoding at each of the three byte alignments, so it is
/// found inside a longer encoded blob such as `user:password`), and
/// percent-encoding (upper- and lower-case hex).
pub fn encodings(secret: &str) -> Vec<String> {
    let mut out = Vec::new();
    let bytes = secret.as_bytes();
    for offset in 0..3usize {
        let mut padded = vec![0u8; offset];
        padded.extend_from_slice(bytes);
        let enc = base64(&padded);
        // characters that mix in the padding bytes or the `=` tail vary
        let skip = if offset == 0 { 0 } else { 4 };
        let tail = if padded.len() % 3 == 0 { 0 } else { 4 };
        if enc.len() > skip + tail {
            let core = &enc[skip..enc.len() - tail];
            if core.len() >= 8 {
                out.push(core.to_owned());
            }
        }
    }
    let mut upper = String::new();
    for b in bytes {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            upper.push(*b as char);
        } else {
            upper.push_str(&format!("%{b:02X}"));
        }
    }
    if upper != secret {
        let lower: String = {
            let mut s = String::new();
            let mut chars = upper.chars().peekable();
            while let Some(c) = chars.next() {
                s.push(c);
                if c == '%' {
                    for _ in 0..2 {
                        if let Some(h) = chars.next() {
                            s.push(h.to_ascii_lowercase());
                        }
                    }
                }
            }
            s
        };
        out.push(lower);
        out.push(upper);
    }
    out.retain(|e| e.len() >= 3 && e != secret);
    out.sort();
    out.dedup();
    out
}

/// Mask, at the end of `line`, the longest start of a secret, and at its
/// start the longest end of one (at least [`MIN_EDGE`] bytes).
pub fn mask_line_edges(line: &str, secrets: &[String]) -> String {
    let mut head = 0usize; // bytes to mask at the start
    let mut tail = 0usize; // bytes to mask at the end
    for s in secrets {
        let n = s.len();
        for k in (MIN_EDGE..n).rev() {
            if k > tail && s.is_char_boundary(k) && line.ends_with(&s[..k]) {
                tail = k;
                break;
            }
        }
        for k in (MIN_EDGE..n).rev() {
            if k > head && s.is_char_boundary(n - k) && line.starts_with(&s[n - k..]) {
                head = k;
                break;
            }
        }
    }
    if head == 0 && tail == 0 {
        return line.to_owned();
    }
    let end = line.len().saturating_sub(tail).max(head);
    let mut out = String::new();
    if head > 0 {
        out.push_str("***");
    }
    out.push_str(&line[head.min(end)..end]);
    if tail > 0 && end < line.len() {
        out.push_str("***");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_standard_alphabet() {
        assert_eq!(base64(b"user:pass"), "dXNlcjpwYXNz");
        assert_eq!(base64(b"ab"), "YWI=");
    }

    #[test]
    fn encoded_secrets_are_found_inside_longer_text() {
        let secret = "S3cr3t-pa55word!";
        let enc = encodings(secret);
        for blob in [
            base64(format!("root:{secret}").as_bytes()),
            base64(format!("x{secret}y").as_bytes()),
            base64(format!("xy{secret}").as_bytes()),
            base64(secret.as_bytes()),
        ] {
            assert!(
                enc.iter().any(|e| blob.contains(e.as_str())),
                "{blob} {enc:?}"
            );
        }
        assert!(enc.contains(&"S3cr3t-pa55word%21".to_owned()));
    }

    #[test]
    fn a_secret_split_over_two_lines_shows_in_neither() {
        let secrets = vec!["hunter2-long-secret".to_owned()];
        let a = mask_line_edges("connecting with password hunter2-lo", &secrets);
        let b = mask_line_edges("ng-secret and user app", &secrets);
        assert_eq!(a, "connecting with password ***");
        assert_eq!(b, "*** and user app");
        assert_eq!(mask_line_edges("nothing here", &secrets), "nothing here");
        // short fragments are left alone
        assert_eq!(mask_line_edges("abc hun", &secrets), "abc hun");
    }
}
