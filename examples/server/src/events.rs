//! Status events: every committed state change of a transaction, for the SSE stream
//! (`GET /api/v1/transactions/{tid}/events`) and webhook delivery.
//!
//! One [`EventBus`] per process (a tokio broadcast channel), the platform's
//! [`camr::store::StateObserver`]: the SDK's store feeds it every committed change — this
//! process's for memory and SQLite, every instance's (`NOTIFY`) for PostgreSQL — so a
//! transaction started on instance A and answered on instance B completes A's SSE stream.
//!
//! Each event names the instance that made the change ([`Event::instance`]); webhooks are
//! delivered only by the instance that made it, so several instances do not deliver twice.

use camr::protocol::{Tid, TransactionState};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

/// Events kept for slow subscribers before they start missing some (they then re-read the
/// state from the store, so a miss delays an SSE update but never loses the outcome).
const CAPACITY: usize = 1024;

/// One committed state change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    /// The transaction.
    pub tid: String,
    /// Its state after the change.
    pub state: TransactionState,
    /// The server instance that committed the change.
    pub instance: String,
}

/// The process-wide broadcast of [`Event`]s.
#[derive(Debug)]
pub struct EventBus {
    sender: broadcast::Sender<Event>,
    instance: String,
}

impl EventBus {
    /// A bus for the server instance `instance`.
    pub fn new(instance: impl Into<String>) -> Self {
        let (sender, _) = broadcast::channel(CAPACITY);
        Self {
            sender,
            instance: instance.into(),
        }
    }

    /// This instance's id.
    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// Publishes an event (no subscriber is fine).
    pub fn publish(&self, event: Event) {
        let _ = self.sender.send(event);
    }

    /// Publishes a change this instance committed.
    pub fn publish_local(&self, tid: &Tid, state: TransactionState) {
        self.publish(Event {
            tid: tid.to_string(),
            state,
            instance: self.instance.clone(),
        });
    }

    /// A new subscription (sees events published from now on).
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.sender.subscribe()
    }
}

/// A random instance id (16 hex digits).
pub fn new_instance_id() -> String {
    let mut b = [0u8; 8];
    if camr::crypto::default_provider()
        .fill_random(&mut b)
        .is_err()
    {
        // Only used to tell instances apart; the process id is a fine fallback.
        return format!("pid{}", std::process::id());
    }
    data_encoding::HEXLOWER.encode(&b)
}

/// The store feeds the bus ([`camr::store::open`]): changes this process committed for
/// memory and SQLite, every instance's `NOTIFY` for PostgreSQL.
impl camr::store::StateObserver for EventBus {
    fn changed(&self, tid: &Tid, state: TransactionState, instance: &str) {
        self.publish(Event {
            tid: tid.to_string(),
            state,
            instance: instance.to_string(),
        });
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use camr::store::StateObserver;

    #[test]
    fn the_store_feeds_the_bus_with_the_instance_that_made_the_change() {
        let bus = EventBus::new("me");
        let mut rx = bus.subscribe();
        let tid = Tid::new(
            &camr::protocol::SystemCode::parse("C1100005553").unwrap(),
            [7; 16],
        );
        bus.changed(&tid, TransactionState::Scanned, "other");
        let e = rx.try_recv().unwrap();
        assert_eq!(e.tid, tid.to_string());
        assert_eq!(e.state, TransactionState::Scanned);
        assert_eq!(e.instance, "other");
    }
}
