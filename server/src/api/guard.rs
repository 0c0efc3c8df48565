//! Browser-facing guards: the `Host` allow-list (DNS rebinding against a
//! loopback server) and a strict same-origin policy (no CORS grant; a
//! request carrying a foreign `Origin` is refused, which also stops
//! cross-site form posts that need no preflight).

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{AppError, AppState};

/// Host names the server answers to.
#[derive(Clone, Debug)]
pub struct HostPolicy {
    hosts: Vec<String>,
}

impl Default for HostPolicy {
    fn default() -> Self {
        HostPolicy {
            hosts: ["localhost", "127.0.0.1", "::1"]
                .iter()
                .map(|h| (*h).to_owned())
                .collect(),
        }
    }
}

impl HostPolicy {
    /// The loopback names plus the host of each public URL
    /// (`https://studio.example.com`, `http://10.0.0.5:8080`).
    pub fn with_public_urls(urls: &[String]) -> Result<HostPolicy, String> {
        let mut p = HostPolicy::default();
        for u in urls {
            let host = url_host(u).ok_or_else(|| {
                format!("--public-url `{u}` is not an http(s) URL with a host name")
            })?;
            if !p.hosts.contains(&host) {
                p.hosts.push(host);
            }
        }
        Ok(p)
    }

    pub fn hosts(&self) -> &[String] {
        &self.hosts
    }

    /// Whether a `Host` header value (`name[:port]`, `[v6]:port`) is ours.
    pub fn allows(&self, host_header: &str) -> bool {
        host_name(host_header).is_some_and(|h| self.hosts.contains(&h))
    }
}

/// The lower-cased host name of a `Host` value, without the port.
fn host_name(v: &str) -> Option<String> {
    let v = v.trim();
    let name = if let Some(rest) = v.strip_prefix('[') {
        rest.split_once(']')?.0
    } else {
        match v.rsplit_once(':') {
            Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
            _ => v,
        }
    };
    (!name.is_empty()).then(|| name.trim_end_matches('.').to_ascii_lowercase())
}

/// The host of an `http(s)://host[:port][/…]` URL (also an `Origin`).
fn url_host(u: &str) -> Option<String> {
    let rest = u
        .strip_prefix("https://")
        .or_else(|| u.strip_prefix("http://"))?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    host_name(authority)
}

/// Refuse requests for another host, and cross-origin browser requests.
pub async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let policy = &state.hosts;
    // HTTP/1.1 requires `Host`; a request without one cannot come from a
    // browser (in-process tests send none)
    if let Some(host) = req.headers().get(header::HOST) {
        let ok = host.to_str().is_ok_and(|h| policy.allows(h));
        if !ok {
            return AppError::MisdirectedHost(format!(
                "this server does not answer to that Host; it serves {} (add a name with --public-url)",
                policy.hosts().join(", ")
            ))
            .into_response();
        }
    }
    if let Some(origin) = req.headers().get(header::ORIGIN) {
        let ok = origin
            .to_str()
            .ok()
            .and_then(url_host)
            .is_some_and(|h| policy.hosts.contains(&h));
        if !ok {
            return AppError::Forbidden(
                "cross-origin requests are refused (same-origin policy)".into(),
            )
            .into_response();
        }
    }
    let mut resp = next.run(req).await;
    resp.headers_mut()
        .insert(header::VARY, header::HeaderValue::from_static("Origin"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_values_are_matched_by_name_without_port() {
        let p =
            HostPolicy::with_public_urls(&["https://Studio.Example.com:8443/x".into()]).unwrap();
        for ok in [
            "localhost",
            "localhost:8080",
            "127.0.0.1:1",
            "[::1]:8080",
            "studio.example.com",
            "STUDIO.example.com.:443",
        ] {
            assert!(p.allows(ok), "{ok}");
        }
        for bad in [
            "evil.com",
            "127.0.0.1.evil.com:80",
            "",
            "[::2]:80",
            "localhost.evil",
        ] {
            assert!(!p.allows(bad), "{bad}");
        }
        assert!(HostPolicy::with_public_urls(&["ftp://x".into()]).is_err());
        assert_eq!(url_host("http://user:pw@a.b:1/p").as_deref(), Some("a.b"));
    }
}
