//! Limits on anonymous spec storage (`POST /api/specs` needs no token, for
//! share links): a per-client rate, a total storage cap with eviction of old
//! specs no deployment uses, and a switch to require the token instead.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

/// Spec storage settings.
#[derive(Debug)]
pub struct SpecQuota {
    /// Whether `POST /api/specs` works without the token.
    pub anonymous: bool,
    /// Total bytes of stored specs (text + report) before old unreferenced
    /// ones are evicted.
    pub max_total_bytes: u64,
    /// Specs one client may store per minute (a burst of this many, then
    /// one every `60 / per_minute` s).
    pub per_minute: u32,
    buckets: Mutex<HashMap<IpAddr, (f64, Instant)>>,
}

impl Default for SpecQuota {
    fn default() -> Self {
        SpecQuota::new(true, 256 * 1024 * 1024, 20)
    }
}

/// Clients remembered at most; full buckets are forgotten first.
const MAX_CLIENTS: usize = 10_000;

impl SpecQuota {
    pub fn new(anonymous: bool, max_total_bytes: u64, per_minute: u32) -> SpecQuota {
        SpecQuota {
            anonymous,
            max_total_bytes,
            per_minute: per_minute.max(1),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Take one store from `client`'s bucket; `Err(wait)` when empty.
    pub fn take(&self, client: Option<IpAddr>) -> Result<(), Duration> {
        let client = client.unwrap_or(IpAddr::from([0, 0, 0, 0]));
        let cap = f64::from(self.per_minute);
        let per_sec = cap / 60.0;
        let now = Instant::now();
        let mut b = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if b.len() >= MAX_CLIENTS && !b.contains_key(&client) {
            b.retain(|_, (tokens, at)| *tokens + at.elapsed().as_secs_f64() * per_sec < cap);
            if b.len() >= MAX_CLIENTS {
                return Err(Duration::from_secs(60));
            }
        }
        let (tokens, at) = b.entry(client).or_insert((cap, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * per_sec).min(cap);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - *tokens) / per_sec))
        }
    }
}

/// The client's IP address (from the accepted connection), when known.
pub struct ClientIp(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_client_gets_a_burst_then_a_steady_rate() {
        let q = SpecQuota::new(true, 0, 3);
        let a = Some(IpAddr::from([10, 0, 0, 1]));
        let b = Some(IpAddr::from([10, 0, 0, 2]));
        for _ in 0..3 {
            assert!(q.take(a).is_ok());
        }
        let wait = q.take(a).unwrap_err();
        assert!(
            wait > Duration::from_secs(15) && wait <= Duration::from_secs(20),
            "{wait:?}"
        );
        assert!(q.take(b).is_ok(), "another client has its own bucket");
    }
}
