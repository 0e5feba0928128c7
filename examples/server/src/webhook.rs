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

use std::sync::Arc;
use std::time::Duration;

use camr::crypto::{CryptoProvider, HashAlgorithm, PrivateKey, SignatureScheme};
use camr::protocol::{Operation, TransactionState};
use serde::Serialize;
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
#[derive(Debug, Clone, PartialEq, Serialize)]
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
        })
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

    /// Queues a delivery; drops it (logged, counted) when `queue` deliveries are pending.
    pub fn enqueue(self: &Arc<Self>, payload: WebhookPayload) {
        let Ok(permit) = self.pending.clone().try_acquire_owned() else {
            tracing::error!(tid = %payload.tid, state = ?payload.state, "webhook queue full: delivery dropped");
            self.metrics.webhook("dropped");
            return;
        };
        let this = self.clone();
        tokio::spawn(async move {
            let _permit = permit;
            this.deliver(payload).await;
        });
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
}
