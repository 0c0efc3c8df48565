//! `GET /api/deployments/{id}/events`: server-sent events, replayed after
//! `Last-Event-ID`, each named after its [`shared::wire::EventKind`].

use std::collections::VecDeque;
use std::convert::Infallible;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::Stream;

use super::get_record;
use crate::api::{AppError, AppState};
use crate::store::Event;

struct EventStream {
    id: String,
    replay: VecDeque<Event>,
    rx: tokio::sync::broadcast::Receiver<Event>,
    last: i64,
    done: bool,
    store: std::sync::Arc<crate::store::Store>,
    shutdown: tokio::sync::watch::Receiver<bool>,
}

fn sse_event(e: &Event) -> SseEvent {
    SseEvent::default()
        .id(e.seq.to_string())
        .event(e.kind.as_str())
        .data(serde_json::to_string(e).unwrap_or_default())
}

/// Server-sent events: progress steps, status changes and container log
/// lines (secrets redacted). Replays stored events after `Last-Event-ID`.
#[utoipa::path(get, path = "/api/deployments/{id}/events", params(("id" = String, Path)),
    responses((status = 200, description = "text/event-stream of events", body = Event, content_type = "text/event-stream"),
        (status = 404, body = crate::api::error::ErrorBody)))]
pub async fn events(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, AppError> {
    get_record(&state, &id)?;
    let rx = state.ctl.hub.subscribe();
    let after = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(0);
    let replay: VecDeque<Event> = state.store().events_after(&id, after)?.into();
    let init = EventStream {
        id,
        replay,
        rx,
        last: after,
        done: false,
        store: state.ctl.store.clone(),
        shutdown: state.shutdown.subscribe(),
    };
    let stream = futures_util::stream::unfold(init, |mut s| async move {
        if s.done {
            return None;
        }
        loop {
            if let Some(e) = s.replay.pop_front() {
                if e.seq <= s.last {
                    continue;
                }
                s.last = e.seq;
                if e.ends_stream() {
                    s.done = true;
                }
                let ev = sse_event(&e);
                return Some((Ok(ev), s));
            }
            if *s.shutdown.borrow() {
                return None;
            }
            let received = tokio::select! {
                r = s.rx.recv() => r,
                _ = s.shutdown.changed() => return None,
            };
            match received {
                Ok(e) if e.deployment_id == s.id && e.seq > s.last => {
                    s.replay.push_back(e);
                }
                Ok(_) => {}
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                    if let Ok(missed) = s.store.events_after(&s.id, s.last) {
                        s.replay.extend(missed);
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}
