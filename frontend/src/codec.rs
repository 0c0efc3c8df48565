//! Share links: the spec deflated and base64url-encoded into the URL fragment
//! (`#spec=…`), so the text never reaches a server.
//!
//! In the page, inflating is a lazily loaded chunk ([`open_link`]): only a
//! page opened with (or handed) a `#spec=` link fetches it.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// Fragments longer than this go through `POST /api/specs` instead.
pub const MAX_FRAGMENT_BYTES: usize = 8 * 1024;

/// Raw deflate (level 9), then base64url without padding.
pub fn encode(text: &str) -> String {
    let compressed = miniz_oxide::deflate::compress_to_vec(text.as_bytes(), 9);
    URL_SAFE_NO_PAD.encode(compressed)
}

/// The inverse of [`encode`]; `None` for anything that is not a valid link.
pub fn decode(encoded: &str) -> Option<String> {
    let bytes = URL_SAFE_NO_PAD
        .decode(encoded.trim().trim_end_matches('='))
        .ok()?;
    // 16 MiB cap: a link cannot make the page inflate without bound.
    let raw = miniz_oxide::inflate::decompress_to_vec_with_limit(&bytes, 16 << 20).ok()?;
    String::from_utf8(raw).ok()
}

/// The fragment for a text: `spec=<encoded>`.
pub fn fragment(text: &str) -> String {
    format!("spec={}", encode(text))
}

/// The spec held by a fragment (with or without the leading `#`).
pub fn from_fragment(fragment: &str) -> Option<String> {
    link_payload(fragment).and_then(decode)
}

/// The encoded spec of a fragment (`spec=<this>`), not yet decoded.
pub fn link_payload(fragment: &str) -> Option<&str> {
    let fragment = fragment.strip_prefix('#').unwrap_or(fragment);
    fragment
        .split('&')
        .find_map(|part| part.strip_prefix("spec="))
}

/// [`decode`] in its own wasm chunk (base64 and inflate load with the first
/// link the page opens).
#[cfg(feature = "app")]
#[leptos::prelude::lazy]
pub(crate) fn open_link(payload: String) -> Option<String> {
    decode(&payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_exactly() {
        let seed = include_str!("../../examples/serverless-mysql-master-replica.yaml");
        for text in [seed, "", "a: é😀\r\n\tb\n", "x".repeat(100_000).as_str()] {
            assert_eq!(
                from_fragment(&format!("#{}", fragment(text))).as_deref(),
                Some(text)
            );
        }
        // The seed fits in a link.
        assert!(fragment(seed).len() < MAX_FRAGMENT_BYTES);
    }

    #[test]
    fn finds_the_payload_among_other_parts() {
        assert_eq!(link_payload("#a=1&spec=xyz&b=2"), Some("xyz"));
        assert_eq!(link_payload("spec="), Some(""));
        assert_eq!(link_payload("#nothing"), None);
    }

    #[test]
    fn rejects_garbage() {
        assert_eq!(decode("!!!"), None);
        assert_eq!(decode("AAAA"), None);
    }
}
