//! The simulator's HTTP side: a blocking rustls client, result envelopes, the platform's key.

use super::*;

/// A blocking HTTP client with a timeout (rustls with ring, installed once).
pub fn http_client() -> Result<reqwest::blocking::Client, SimError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .map_err(|e| SimError::new(ErrorCode::Internal, format!("cannot set up HTTP: {e}")))
}

/// The QR payload text from a PNG or as given.
pub fn read_qr_text(source: &QrSource) -> Result<String, SimError> {
    match source {
        QrSource::Payload(p) => Ok(p.trim().to_string()),
        QrSource::Png(path) => {
            let bytes = std::fs::read(path).map_err(|e| {
                SimError::new(
                    ErrorCode::InputMalformed,
                    format!("cannot read {}: {e}", path.display()),
                )
            })?;
            Ok(camr::qr::decode_image(&bytes)?)
        }
    }
}

/// `scheme://host[:port]` of a URI.
pub fn origin_of(uri: &str) -> Result<String, SimError> {
    let url = reqwest::Url::parse(uri)
        .map_err(|e| SimError::new(ErrorCode::QrMalformed, format!("`{uri}` is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(SimError::new(
            ErrorCode::QrMalformed,
            format!("`{uri}` is not an http(s) URL"),
        ));
    }
    Ok(url.origin().ascii_serialization())
}

/// Reads a result envelope: `data` on success, the platform's error code otherwise.
fn envelope_data(what: &str, r: reqwest::blocking::Response) -> Result<Value, SimError> {
    let status = r.status();
    let v: Value = r.json().map_err(|e| {
        SimError::new(
            ErrorCode::InputMalformed,
            format!(
                "{what}: the platform did not answer with a result envelope (HTTP {status}): {e}"
            ),
        )
    })?;
    if v.get("success").and_then(Value::as_bool) == Some(true) {
        return Ok(v.get("data").cloned().unwrap_or(Value::Null));
    }
    let code = v
        .get("errorCode")
        .and_then(Value::as_str)
        .and_then(|c| c.parse().ok())
        .unwrap_or(ErrorCode::Internal);
    let msg = v.get("msg").and_then(Value::as_str).unwrap_or_default();
    Err(SimError::new(
        code,
        format!("{what}: the platform refused (HTTP {status}): {msg}"),
    ))
}

/// The simulator's [`camr::app::Transport`]: blocking HTTP with rustls.
#[derive(Debug, Clone)]
pub struct HttpTransport(pub reqwest::blocking::Client);

impl camr::app::Transport for HttpTransport {
    fn get(&self, uri: &str) -> Result<Vec<u8>, AppError> {
        let r = self
            .0
            .get(uri)
            .send()
            .map_err(|e| AppError::Transport(format!("cannot reach {uri}: {e}")))?;
        r.bytes()
            .map(|b| b.to_vec())
            .map_err(|e| AppError::Transport(format!("cannot read {uri}: {e}")))
    }
    fn post_json(&self, uri: &str, body: &[u8]) -> Result<Vec<u8>, AppError> {
        let r = self
            .0
            .post(uri)
            .header("content-type", "application/json")
            .body(body.to_vec())
            .send()
            .map_err(|e| AppError::Transport(format!("cannot reach {uri}: {e}")))?;
        r.bytes()
            .map(|b| b.to_vec())
            .map_err(|e| AppError::Transport(format!("cannot read {uri}: {e}")))
    }
}

fn net(what: &str, e: reqwest::Error) -> SimError {
    SimError::new(
        ErrorCode::Internal,
        format!("{what}: cannot reach the platform: {e}"),
    )
}

/// Development shortcut: the platform's key from `<origin>/api/v1/platform`.
pub fn fetch_platform_key(
    client: &reqwest::blocking::Client,
    origin: &str,
) -> Result<(PublicKey, Value), SimError> {
    let url = format!("{origin}/api/v1/platform");
    let info = envelope_data(
        "platform info",
        client.get(&url).send().map_err(|e| net(&url, e))?,
    )?;
    let spki: camr::protocol::Bytes = info
        .get("publicKeySpki")
        .cloned()
        .and_then(|v| serde_json::from_value(v).ok())
        .ok_or_else(|| {
            SimError::new(
                ErrorCode::KeyMalformed,
                format!("{url} has no base64 `publicKeySpki`"),
            )
        })?;
    let key = PublicKey::from_spki_der(&spki)
        .map_err(|e| SimError::new(e.code(), format!("{url}: {e}")))?;
    Ok((key, info))
}

/// A platform key from a file (SPKI PEM or DER).
pub fn read_platform_key(path: &std::path::Path) -> Result<PublicKey, SimError> {
    let bytes = std::fs::read(path).map_err(|e| {
        SimError::new(
            ErrorCode::InputMalformed,
            format!("cannot read {}: {e}", path.display()),
        )
    })?;
    PublicKey::from_bytes(&bytes)
        .map_err(|e| SimError::new(e.code(), format!("{}: {e}", path.display())))
}

/// The vendor cloud's task list at `url` (`GET /tasks?user=…`), as JSON; a failure is
/// `ADAPTER_UNAVAILABLE` naming `shown` (the cloud or the URL).
pub(crate) fn task_list_at<T: serde::de::DeserializeOwned>(
    client: &reqwest::blocking::Client,
    url: &str,
    shown: &str,
) -> Result<T, SimError> {
    client
        .get(url)
        .send()
        .and_then(reqwest::blocking::Response::error_for_status)
        .and_then(reqwest::blocking::Response::json)
        .map_err(|e| {
            SimError::new(
                ErrorCode::AdapterUnavailable,
                format!("cannot read the task list from {shown}: {e}"),
            )
        })
}
