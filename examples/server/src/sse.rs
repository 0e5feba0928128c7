//! `GET /api/v1/transactions/{tid}/events`: the transaction's status as Server-Sent Events.
//!
//! The stream sends the current state at once, then one `state` event per change (the whole
//! [`camr::protocol::Transaction`] as JSON), and ends after a final state (verified, rejected,
//! failed, expired, cancelled). Changes come from the [`crate::events::EventBus`] (this
//! instance's, or every instance's with PostgreSQL); besides, the state is re-read every
//! [`RECHECK`] so expiry shows without anyone polling and a missed event only delays an
//! update. Comments keep idle proxies from closing the connection.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use camr::protocol::{Tid, Transaction};
use futures_util::stream::{self, Stream};
use tokio::sync::broadcast::{self, error::RecvError};

use crate::AppState;
use crate::api::ApiError;

/// How often the state is re-read while no event arrives.
pub const RECHECK: Duration = Duration::from_secs(2);

/// The event stream of one transaction (an error envelope when the tid is bad or unknown).
pub async fn transaction_events(
    State(s): State<Arc<AppState>>,
    Path(tid): Path<String>,
) -> Result<Response, ApiError> {
    let tid = crate::api::parse_tid(&tid)?;
    // Subscribe before reading, so no change between the read and the subscription is lost.
    let rx = s.events.subscribe();
    let first = s.platform.status(&tid).await?;
    let stream = status_stream(s, tid, rx, first);
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response())
}

struct Cursor {
    state: Arc<AppState>,
    tid: Tid,
    rx: broadcast::Receiver<crate::events::Event>,
    /// The first event, not sent yet.
    pending: Option<Transaction>,
    last: Option<camr::protocol::TransactionState>,
    done: bool,
}

fn to_event(tx: &Transaction) -> SseEvent {
    let data = serde_json::to_string(tx).unwrap_or_else(|_| "{}".into());
    SseEvent::default().event("state").data(data)
}

fn status_stream(
    state: Arc<AppState>,
    tid: Tid,
    rx: broadcast::Receiver<crate::events::Event>,
    first: Transaction,
) -> impl Stream<Item = Result<SseEvent, std::convert::Infallible>> {
    let cursor = Cursor {
        state,
        tid,
        rx,
        pending: Some(first),
        last: None,
        done: false,
    };
    stream::unfold(cursor, |mut c| async move {
        if c.done {
            return None;
        }
        loop {
            let tx = match c.pending.take() {
                Some(tx) => tx,
                None => {
                    let wait = tokio::time::timeout(RECHECK, c.rx.recv()).await;
                    match wait {
                        Ok(Ok(ev)) if ev.tid != c.tid.as_str() => continue,
                        Ok(Err(RecvError::Closed)) => {
                            c.done = true;
                            return Some((Ok(SseEvent::default().event("end").data("")), c));
                        }
                        // Our event, a lag (events missed) or the re-check tick: re-read.
                        Ok(Ok(_)) | Ok(Err(RecvError::Lagged(_))) | Err(_) => {}
                    }
                    match c.state.platform.status(&c.tid).await {
                        Ok(tx) => tx,
                        Err(e) => {
                            c.done = true;
                            let body =
                                camr::protocol::ApiResult::<()>::error(e.code(), e.to_string());
                            let data = serde_json::to_string(&body).unwrap_or_default();
                            return Some((Ok(SseEvent::default().event("error").data(data)), c));
                        }
                    }
                }
            };
            if c.last == Some(tx.state) {
                continue;
            }
            c.last = Some(tx.state);
            c.done = tx.state.is_terminal();
            return Some((Ok(to_event(&tx)), c));
        }
    })
}
