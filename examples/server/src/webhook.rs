//! Webhook delivery: when a transaction of this instance reaches a final state (verified,
//! rejected, failed, cancelled, expired), `POST` it to the configured URL, signed.
//!
//! The body is JSON, `{"tid", "operation", "state", "result"?, "message"?, "timestamp"}`
//! ([`WebhookPayload`]); `result` is the verified result (as `GET .../result` answers it) for
//! verified transactions except decrypt, whose content keys are handed out only once through
//! the API. Headers:
//!
//! - `X-Camr-Signature: sm2=<base64 DER>`: SM2 with SM3 and signer ID `1234567812345678` by
//!   the platform's QR/request key over the exact body bytes (the public key is
//!   `GET /api/v1/platform`'s `publicKeyPem`); with `signing = "hmac-sm3"`,
//!   `hmac-sm3=<base64>` keyed with the configured secret instead;
//! - `X-Camr-Timestamp`: unix seconds, the same as the body's `timestamp` (which the
//!   signature covers: check it is recent to refuse replays);
//! - `X-Camr-Key-Id`: the platform key id (SM2 signing only);
//! - `X-Camr-Attempt`: 1, 2, ... (the same body on every attempt, so `(tid, state)` dedups).
//!
//! Delivery: at most `queue` deliveries pending at once (more are dropped and counted);
//! each is tried up to `max_attempts` times, again only after a network error, a 5xx or a 429,
//! with exponential back-off from `backoff` (doubling, at most [`MAX_BACKOFF`], times a
//! random factor in [0.5, 1), never less than a 429/503's `Retry-After` up to that cap);
//! any other answer (4xx, 3xx: redirects are not followed) is final. Each attempt is logged.
//!
//! Durable: with an outbox ([`Webhook::with_outbox`], the platform's record store), each
//! delivery is written there (kind `webhook-outbox`, key `tid:state`) before it is tried and
//! marked done after; at start ([`Webhook::resume`]) deliveries a stopped or killed instance
//! left pending are claimed (compare-and-set: one instance each) and delivered, with a fresh
//! timestamp.

use std::sync::Arc;
use std::time::Duration;

use camr::crypto::{CryptoProvider, HashAlgorithm, PrivateKey, SignatureScheme};
use camr::protocol::{Operation, TransactionState};
use camr::store::{RecordStore, StoreError, Versioned};
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;

use crate::ServerError;
use crate::config::Secret;
use crate::metrics::Metrics;

/// Longest wait between two attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// How deliveries are signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signing {
    /// SM2 (or the platform key's own scheme) with the platform's QR/request key.
    Sm2,
    /// HMAC-SM3 with a shared secret.
    HmacSm3(Secret),
}

/// `[webhook]` of the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookConfig {
    /// Where to POST (`http://` or `https://`).
    pub url: String,
    /// How to sign.
    pub signing: Signing,
    /// Attempts per delivery, first one included (at least 1).
    pub max_attempts: u32,
    /// Deliveries pending at most; more are dropped.
    pub queue: usize,
    /// Timeout of one attempt.
    pub timeout: Duration,
    /// Wait before the first retry (doubles each time).
    pub backoff: Duration,
}

impl WebhookConfig {
    /// A configuration for `url` with the defaults: SM2, 8 attempts, 1000 pending, 10 s per
    /// attempt, 1 s first back-off.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            signing: Signing::Sm2,
            max_attempts: 8,
            queue: 1000,
            timeout: Duration::from_secs(10),
            backoff: Duration::from_secs(1),
        }
    }
}

/// The body of a delivery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookPayload {
    /// The transaction.
    pub tid: String,
    /// Its operation.
    pub operation: Operation,
    /// Its final state.
    pub state: TransactionState,
    /// The verified result (not for decrypt).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<serde_json::Value>,
    /// Why it was rejected or failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Unix seconds when the delivery was made (also `X-Camr-Timestamp`).
    pub timestamp: i64,
}

/// The record kind of pending deliveries.
pub const OUTBOX: &str = "webhook-outbox";
/// How long an outbox entry is kept, seconds.
const OUTBOX_KEPT: i64 = 7 * 86_400;
/// A claim older than this is taken over at start (its instance died), seconds.
const CLAIM_EXPIRES: i64 = 600;
/// Entries looked at by one [`Webhook::resume`].
const RESUME_AT_MOST: u32 = 10_000;

/// One delivery in the outbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OutboxEntry {
    payload: WebhookPayload,
    /// Delivered, or given up on.
    done: bool,
    /// Who is delivering it, and since when (unix seconds).
    claimed_by: String,
    claimed_at: i64,
}

fn outbox_key(p: &WebhookPayload) -> String {
    format!(
        "{}:{}",
        p.tid,
        serde_json::to_value(p.state)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    )
}

/// What became of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Attempt {
    Delivered(u16),
    /// Worth another try, after at least this long (a `Retry-After`).
    Retry(String, Option<Duration>),
    Final(String),
}

/// The webhook sender.
#[derive(Debug)]
pub struct Webhook {
    config: WebhookConfig,
    client: reqwest::Client,
    provider: Arc<dyn CryptoProvider>,
    key: PrivateKey,
    key_id: String,
    pending: Arc<Semaphore>,
    metrics: Arc<Metrics>,
    /// Where deliveries wait until done, and this instance's name in claims.
    outbox: Option<(Arc<dyn RecordStore>, String)>,
}

impl Webhook {
    /// A sender signing with `key` (the platform's QR/request key, id `key_id`).
    pub fn new(
        config: WebhookConfig,
        provider: Arc<dyn CryptoProvider>,
        key: PrivateKey,
        key_id: String,
        metrics: Arc<Metrics>,
    ) -> Result<Self, ServerError> {
        // reqwest is built on rustls without a default crypto provider; ring is the one the
        // workspace uses. Installing twice is harmless (the first stays).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("camr-server/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ServerError(format!("webhook: cannot make the HTTP client: {e}")))?;
        Ok(Self {
            pending: Arc::new(Semaphore::new(config.queue.max(1))),
            config,
            client,
            provider,
            key,
            key_id,
            metrics,
            outbox: None,
        })
    }

    /// Keeps deliveries in `records` until they are done, claimed as `instance`.
    pub fn with_outbox(mut self, records: Arc<dyn RecordStore>, instance: &str) -> Self {
        self.outbox = Some((records, instance.to_string()));
        self
    }

    /// Delivers what the outbox holds undone and unclaimed (or claimed by an instance that
    /// stopped answering for [`CLAIM_EXPIRES`]): the deliveries pending when an instance
    /// stopped or was killed. Returns how many were taken up.
    pub async fn resume(self: &Arc<Self>) -> Result<usize, StoreError> {
        let Some((records, instance)) = &self.outbox else {
            return Ok(0);
        };
        let now = camr::qr::unix_now();
        let mut taken = 0;
        for key in records.record_keys(OUTBOX, RESUME_AT_MOST).await? {
            let claimed = Versioned::<OutboxEntry>::update(
                records.as_ref(),
                OUTBOX,
                &key,
                |e| e.payload.timestamp + OUTBOX_KEPT,
                |e| {
                    if e.done || (e.claimed_by != *instance && now - e.claimed_at < CLAIM_EXPIRES) {
                        return Ok::<_, StoreError>(false);
                    }
                    e.claimed_by = instance.clone();
                    e.claimed_at = now;
                    e.payload.timestamp = now;
                    Ok(true)
                },
            )
            .await;
            match claimed {
                Ok(Some((entry, true))) => {
                    taken += 1;
                    self.spawn(entry.payload);
                }
                Ok(_) => {}
                // Another instance claimed it first.
                Err(StoreError::Conflict(_)) => {}
                Err(e) => return Err(e),
            }
        }
        if taken > 0 {
            tracing::info!(taken, "webhook deliveries resumed from the outbox");
        }
        Ok(taken)
    }

    /// The `X-Camr-Signature` value for `body`.
    pub fn signature(&self, body: &[u8]) -> Result<String, ServerError> {
        match &self.config.signing {
            Signing::Sm2 => {
                let algorithm = self.key.public_key().algorithm();
                let sig = self
                    .provider
                    .sign(&self.key, &SignatureScheme::default_for(algorithm), body)
                    .map_err(|e| ServerError(format!("webhook: cannot sign: {e}")))?;
                let prefix = match algorithm {
                    camr::protocol::PublicKeyAlgorithm::Sm2 => "sm2",
                    camr::protocol::PublicKeyAlgorithm::EcdsaP256 => "ecdsa-p256-sha256",
                    camr::protocol::PublicKeyAlgorithm::Rsa => "rsa-sha256",
                };
                Ok(format!("{prefix}={}", data_encoding::BASE64.encode(&sig)))
            }
            Signing::HmacSm3(secret) => {
                let mac = self
                    .provider
                    .hmac(HashAlgorithm::Sm3, secret.expose().as_bytes(), body);
                Ok(format!("hmac-sm3={}", data_encoding::BASE64.encode(&mac)))
            }
        }
    }

    /// Queues a delivery (written to the outbox first, when there is one); drops it (logged,
    /// counted) when `queue` deliveries are pending.
    pub fn enqueue(self: &Arc<Self>, payload: WebhookPayload) {
        let this = self.clone();
        tokio::spawn(async move {
            if let Some((records, instance)) = &this.outbox {
                let entry = OutboxEntry {
                    payload: payload.clone(),
                    done: false,
                    claimed_by: instance.clone(),
                    claimed_at: camr::qr::unix_now(),
                };
                let expires = payload.timestamp + OUTBOX_KEPT;
                match Versioned::create(
                    records.as_ref(),
                    OUTBOX,
                    &outbox_key(&payload),
                    entry,
                    expires,
                )
                .await
                {
                    Ok(_) => {}
                    // Queued already (the same final state announced twice).
                    Err(StoreError::Conflict(_)) => return,
                    Err(e) => {
                        tracing::error!(tid = %payload.tid, "webhook outbox not written (delivering anyway): {e}")
                    }
                }
            }
            this.spawn(payload);
        });
    }

    fn spawn(self: &Arc<Self>, payload: WebhookPayload) {
        let Ok(permit) = self.pending.clone().try_acquire_owned() else {
            tracing::error!(tid = %payload.tid, state = ?payload.state, "webhook queue full: delivery dropped");
            self.metrics.webhook("dropped");
            return;
        };
        let this = self.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let key = outbox_key(&payload);
            this.deliver(payload).await;
            this.mark_done(&key).await;
        });
    }

    /// Marks an outbox entry done (delivered or given up on), kept a day for the record.
    async fn mark_done(&self, key: &str) {
        let Some((records, _)) = &self.outbox else {
            return;
        };
        let done = Versioned::<OutboxEntry>::update(
            records.as_ref(),
            OUTBOX,
            key,
            |_| camr::qr::unix_now() + 86_400,
            |e| {
                e.done = true;
                Ok::<_, StoreError>(())
            },
        )
        .await;
        if let Err(e) = done {
            tracing::warn!(key, "webhook outbox entry not marked done: {e}");
        }
    }

    /// Delivers one payload with retries; returns whether it was delivered.
    pub async fn deliver(&self, payload: WebhookPayload) -> bool {
        let body = match serde_json::to_vec(&payload) {
            Ok(b) => b,
            Err(e) => {
                tracing::error!(tid = %payload.tid, "webhook: cannot encode the body: {e}");
                self.metrics.webhook("failed");
                return false;
            }
        };
        let signature = match self.signature(&body) {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(tid = %payload.tid, "{e}");
                self.metrics.webhook("failed");
                return false;
            }
        };
        let max = self.config.max_attempts.max(1);
        for attempt in 1..=max {
            self.metrics.webhook_attempt();
            let outcome = self
                .attempt(&body, &signature, payload.timestamp, attempt)
                .await;
            match outcome {
                Attempt::Delivered(status) => {
                    tracing::info!(tid = %payload.tid, state = ?payload.state, attempt, status, url = %self.config.url, "webhook delivered");
                    self.metrics.webhook("delivered");
                    return true;
                }
                Attempt::Final(why) => {
                    tracing::warn!(tid = %payload.tid, state = ?payload.state, attempt, url = %self.config.url, "webhook refused, not retried: {why}");
                    break;
                }
                Attempt::Retry(why, _) if attempt == max => {
                    tracing::warn!(tid = %payload.tid, state = ?payload.state, attempt, url = %self.config.url, "webhook failed, no attempts left: {why}");
                }
                Attempt::Retry(why, retry_after) => {
                    let wait = self.backoff(attempt, retry_after);
                    tracing::warn!(tid = %payload.tid, state = ?payload.state, attempt, url = %self.config.url, wait_ms = wait.as_millis() as u64, "webhook attempt failed, retrying: {why}");
                    tokio::time::sleep(wait).await;
                }
            }
        }
        self.metrics.webhook("failed");
        false
    }

    async fn attempt(&self, body: &[u8], signature: &str, timestamp: i64, n: u32) -> Attempt {
        let mut request = self
            .client
            .post(&self.config.url)
            .header("content-type", "application/json")
            .header("x-camr-signature", signature)
            .header("x-camr-timestamp", timestamp.to_string())
            .header("x-camr-attempt", n.to_string())
            .body(body.to_vec());
        if self.config.signing == Signing::Sm2 {
            request = request.header("x-camr-key-id", &self.key_id);
        }
        match request.send().await {
            Err(e) => Attempt::Retry(format!("{e}"), None),
            Ok(r) => {
                let status = r.status();
                if status.is_success() {
                    return Attempt::Delivered(status.as_u16());
                }
                if status.as_u16() == 429 || status.is_server_error() {
                    let retry_after = r
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map(Duration::from_secs);
                    Attempt::Retry(format!("HTTP {status}"), retry_after)
                } else {
                    Attempt::Final(format!("HTTP {status}"))
                }
            }
        }
    }

    /// The wait after failed attempt `n` (1-based).
    fn backoff(&self, n: u32, retry_after: Option<Duration>) -> Duration {
        let base = self
            .config
            .backoff
            .saturating_mul(1u32 << (n - 1).min(20))
            .min(MAX_BACKOFF);
        let mut r = [0u8; 2];
        let _ = self.provider.fill_random(&mut r);
        let jitter = 0.5 + f64::from(u16::from_le_bytes(r)) / f64::from(u16::MAX) / 2.0;
        let wait = base.mul_f64(jitter.min(1.0));
        match retry_after {
            Some(at_least) => wait.max(at_least.min(MAX_BACKOFF)),
            None => wait,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use camr::crypto::{KeyAlgorithm, default_provider};

    fn sender(signing: Signing) -> (Webhook, Arc<dyn CryptoProvider>, PrivateKey) {
        let provider = default_provider();
        let key = provider.generate_key(KeyAlgorithm::Sm2).unwrap();
        let config = WebhookConfig {
            signing,
            ..WebhookConfig::new("http://127.0.0.1:9/hook")
        };
        let w = Webhook::new(
            config,
            provider.clone(),
            key.clone(),
            "K1".into(),
            Arc::new(Metrics::default()),
        )
        .unwrap();
        (w, provider, key)
    }

    #[test]
    fn sm2_and_hmac_sm3_signatures_cover_the_exact_body() {
        let body = br#"{"tid":"x","state":"verified"}"#;
        let (w, provider, key) = sender(Signing::Sm2);
        let header = w.signature(body).unwrap();
        let sig = data_encoding::BASE64
            .decode(header.strip_prefix("sm2=").unwrap().as_bytes())
            .unwrap();
        let scheme = SignatureScheme::sm2();
        assert!(
            provider
                .verify(&key.public_key(), &scheme, body, &sig)
                .is_ok()
        );
        assert!(
            provider
                .verify(&key.public_key(), &scheme, b"{}", &sig)
                .is_err()
        );

        let secret = Secret::new("0123456789abcdef-secret");
        let (w, provider, _) = sender(Signing::HmacSm3(secret.clone()));
        let want = provider.hmac(HashAlgorithm::Sm3, secret.expose().as_bytes(), body);
        assert_eq!(
            w.signature(body).unwrap(),
            format!("hmac-sm3={}", data_encoding::BASE64.encode(&want))
        );
    }

    #[test]
    fn backoff_doubles_with_jitter_up_to_the_cap_and_honours_retry_after() {
        let (w, _, _) = sender(Signing::Sm2);
        for n in 1..=4u32 {
            let d = w.backoff(n, None);
            let base = Duration::from_secs(1) * (1 << (n - 1));
            assert!(d >= base / 2 && d <= base, "{n}: {d:?}");
        }
        assert!(w.backoff(30, None) <= MAX_BACKOFF);
        assert!(w.backoff(1, Some(Duration::from_secs(20))) >= Duration::from_secs(20));
        assert!(w.backoff(1, Some(Duration::from_secs(100_000))) <= MAX_BACKOFF);
    }

    #[tokio::test]
    async fn deliveries_a_stopped_instance_left_pending_are_delivered_once_at_start() {
        let got = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
        let g = got.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |body: String| {
                let g = g.clone();
                async move {
                    g.lock().unwrap().push(body);
                    "ok"
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

        let records: Arc<dyn RecordStore> = Arc::new(camr::store::MemoryStore::new());
        let now = camr::qr::unix_now();
        // Pending from a dead instance; being delivered by a live one; delivered already.
        for (tid, by, at, done) in [
            ("T-dead", "dead", now - 900, false),
            ("T-busy", "other", now - 5, false),
            ("T-done", "dead", now - 900, true),
        ] {
            let e = OutboxEntry {
                payload: WebhookPayload {
                    tid: tid.into(),
                    operation: Operation::Login,
                    state: TransactionState::Verified,
                    result: None,
                    message: None,
                    timestamp: now - 900,
                },
                done,
                claimed_by: by.into(),
                claimed_at: at,
            };
            let key = outbox_key(&e.payload);
            Versioned::create(records.as_ref(), OUTBOX, &key, e, now + 3600)
                .await
                .unwrap();
        }
        let (w, _, _) = sender(Signing::Sm2);
        let w = Arc::new(
            Webhook {
                config: WebhookConfig::new(url),
                ..w
            }
            .with_outbox(records.clone(), "me"),
        );
        assert_eq!(w.resume().await.unwrap(), 1);
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let kept = Versioned::<OutboxEntry>::load(records.as_ref(), OUTBOX, "T-dead:verified")
                .await
                .unwrap()
                .unwrap();
            if kept.value.done {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "not delivered");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let bodies = got.lock().unwrap().clone();
        assert_eq!(bodies.len(), 1, "{bodies:?}");
        let delivered: WebhookPayload = serde_json::from_str(&bodies[0]).unwrap();
        assert_eq!(delivered.tid, "T-dead");
        assert!(delivered.timestamp >= now, "a fresh timestamp");
        // A second start finds nothing left to do.
        assert_eq!(w.resume().await.unwrap(), 0);
    }
}
