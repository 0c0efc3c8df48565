//! The built UI (`dist/`), light on the wire: brotli or gzip files written
//! beside each asset by `cargo run -p xtask -- build-ui` are served when the
//! client accepts them; content-hashed names (`style.<16 hex>.css`) and the
//! versioned Monaco directory (`/vs-0.57.0/…`) are `immutable` for a year;
//! everything else (`index.html`, the SPA routes) is revalidated on each use
//! (`no-cache` + `Last-Modified`, so a reload costs a `304`).

use std::path::Path;

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;
use tower_http::services::{ServeDir, ServeFile};

/// `Cache-Control` for a request path.
pub fn cache_control(path: &str) -> &'static str {
    if is_versioned(path) {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    }
}

/// A content-hashed file name (`name.<16 hex>.ext`) or a file under a
/// versioned Monaco directory (`/vs-<digits…>/`).
fn is_versioned(path: &str) -> bool {
    let versioned_dir = path
        .strip_prefix("/vs-")
        .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()) && rest.contains('/'));
    let file = path.rsplit('/').next().unwrap_or("");
    let hashed = file
        .split('.')
        .any(|part| part.len() == 16 && part.bytes().all(|b| b.is_ascii_hexdigit()));
    versioned_dir || hashed
}

async fn caching(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let mut response = next.run(request).await;
    if response.status().is_success() || response.status().as_u16() == 304 {
        let headers = response.headers_mut();
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(cache_control(&path)),
        );
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    response
}

/// Serve `dir` (SPA routes fall back to `index.html`), precompressed and cached.
pub fn router(dir: &Path) -> Router {
    let index = ServeFile::new(dir.join("index.html"))
        .precompressed_br()
        .precompressed_gzip();
    let files = ServeDir::new(dir)
        .precompressed_br()
        .precompressed_gzip()
        .fallback(index);
    Router::new()
        .fallback_service(files)
        .layer(middleware::from_fn(caching))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::StatusCode;
    use tower::ServiceExt;

    #[test]
    fn hashed_and_versioned_paths_are_immutable_the_rest_revalidates() {
        for path in [
            "/pkg/specstudio_frontend.600e7bbcf4e318ae.js",
            "/style.5fdc7279fe474376.css",
            "/vs-0.57.0/loader.js",
        ] {
            assert!(cache_control(path).contains("immutable"), "{path}");
        }
        for path in [
            "/",
            "/index.html",
            "/s/abc",
            "/style.css",
            "/vs/loader.js",
            "/vs-x/a.js",
        ] {
            assert_eq!(cache_control(path), "no-cache", "{path}");
        }
    }

    fn dist() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        std::fs::write(p.join("index.html"), "<!doctype html>index").unwrap();
        std::fs::write(p.join("index.html.gz"), b"gz-index").unwrap();
        std::fs::write(p.join("app.0123456789abcdef.js"), "plain js").unwrap();
        std::fs::write(p.join("app.0123456789abcdef.js.br"), b"br-js").unwrap();
        std::fs::write(p.join("app.0123456789abcdef.js.gz"), b"gz-js").unwrap();
        dir
    }

    async fn get(router: &Router, path: &str, accept: Option<&str>) -> (StatusCode, Response) {
        let mut request = Request::builder().uri(path);
        if let Some(a) = accept {
            request = request.header(header::ACCEPT_ENCODING, a);
        }
        let response = router
            .clone()
            .oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap();
        (response.status(), response)
    }

    async fn body(response: Response) -> Vec<u8> {
        axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap()
            .to_vec()
    }

    #[tokio::test]
    async fn serves_brotli_or_gzip_when_accepted_with_cache_headers() {
        let dir = dist();
        let router = router(dir.path());
        let path = "/app.0123456789abcdef.js";
        let (s, r) = get(&router, path, Some("gzip, deflate, br")).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(r.headers()[header::CONTENT_ENCODING], "br");
        assert!(r.headers()[header::CACHE_CONTROL]
            .to_str()
            .unwrap()
            .contains("immutable"));
        assert_eq!(r.headers()[header::VARY], "accept-encoding");
        assert_eq!(body(r).await, b"br-js");
        let (_, r) = get(&router, path, Some("gzip")).await;
        assert_eq!(r.headers()[header::CONTENT_ENCODING], "gzip");
        assert_eq!(body(r).await, b"gz-js");
        let (_, r) = get(&router, path, None).await;
        assert!(r.headers().get(header::CONTENT_ENCODING).is_none());
        assert_eq!(body(r).await, b"plain js");
    }

    #[tokio::test]
    async fn spa_routes_get_index_html_revalidated() {
        let dir = dist();
        let router = router(dir.path());
        let (s, r) = get(&router, "/s/abc123", Some("gzip")).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(r.headers()[header::CACHE_CONTROL], "no-cache");
        assert_eq!(r.headers()[header::CONTENT_ENCODING], "gzip");
        assert_eq!(body(r).await, b"gz-index");
        let (_, r) = get(&router, "/", None).await;
        let modified = r.headers()[header::LAST_MODIFIED].clone();
        assert_eq!(body(r).await, b"<!doctype html>index");
        // A revalidation costs a 304 with no body.
        let response = router
            .clone()
            .oneshot(
                Request::builder()
                    .uri("/")
                    .header(header::IF_MODIFIED_SINCE, modified)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
    }
}
