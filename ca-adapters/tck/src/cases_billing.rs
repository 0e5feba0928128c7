//! Kit case: a failing usage report (per-use billing, 按量扣费) does not block the user's
//! operation. The vendor's billing endpoint is made to fail twice — the port closed, then a
//! server answering `503` — and each time:
//!
//! * the operation itself (the app's answer through `decode_evidence`, verified by the core)
//!   still succeeds: decoding must not depend on the vendor's billing;
//! * `report_usage` fails quickly, with an endpoint code (`ADAPTER_UNAVAILABLE`,
//!   `ADAPTER_TIMEOUT` or `ADAPTER_FAILED`), never a panic or a hang — so the platform can log
//!   it and go on;
//! * the adapter still answers afterwards.
//!
//! The adapter's own configuration is restored at the end. An adapter that does not report
//! usage at all (`ADAPTER_UNAVAILABLE` for `report_usage` by design) passes as well.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

use camr::protocol::{ErrorCode, Operation};
use camr::store::TransactionStore;

use super::{ENDPOINT_CODES, Kit, Which};

/// A server on 127.0.0.1 that answers every request with `503` (a billing outage) until the
/// returned listener address is no longer used; the thread ends with the test process.
fn outage_server() -> Result<String, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
            // Read the request head and its body, then answer.
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            loop {
                match stream.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
                let text = String::from_utf8_lossy(&buf);
                if let Some(end) = text.find("\r\n\r\n") {
                    let length = text[..end]
                        .lines()
                        .find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.eq_ignore_ascii_case("content-length")
                                .then(|| v.trim().parse::<usize>().ok())?
                        })
                        .unwrap_or(0);
                    if buf.len() >= end + 4 + length {
                        break;
                    }
                }
            }
            let body = r#"{"error":"billing service down"}"#;
            let _ = write!(
                stream,
                "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    Ok(format!("http://{addr}"))
}

/// The case.
pub(super) fn failing_usage_report(kit: &Kit<'_>, op: Operation) -> Result<String, String> {
    let closed = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?;
    let outages = [
        ("port closed", format!("http://{closed}")),
        ("503", outage_server()?),
    ];
    let timeout_ms = kit.config.endpoint_timeout_ms.unwrap_or(500);
    let deadline = kit.host.config().deadline_for(&kit.vendor);
    let mut seen = Vec::new();
    let result = (|| {
        for (what, url) in &outages {
            kit.configure_with(serde_json::json!({ "cloudUrl": url, "timeoutMs": timeout_ms }))?;
            let wallet = kit.world.wallet.clone();
            let (_, verdict) = kit.round_trip(Which::Normal, op, &wallet, |_| {})?;
            verdict.map_err(|c| {
                format!(
                    "with billing down ({what}) the operation was refused: {}",
                    c.as_str()
                )
            })?;
            let usage = kit
                .world
                .block_on(kit.world.store.usage())
                .map_err(|e| e.to_string())?
                .into_iter()
                .last()
                .ok_or("the verified operation left no usage record")?;
            let t = Instant::now();
            let reported = kit.host.report_usage(&kit.vendor, &usage);
            let took = t.elapsed();
            match reported {
                Ok(()) => {
                    return Err(format!(
                        "report_usage claimed success with billing down ({what})"
                    ));
                }
                Err(e) if ENDPOINT_CODES.contains(&e.code()) => {
                    if took > deadline + Duration::from_millis(500) {
                        return Err(format!(
                            "report_usage took {took:?} with billing down ({what})"
                        ));
                    }
                    seen.push(format!("{what}: {}", e.code().as_str()));
                }
                Err(e) if e.code() == ErrorCode::AdapterTimeout => {
                    seen.push(format!("{what}: ADAPTER_TIMEOUT"));
                }
                Err(e) => {
                    return Err(format!(
                        "report_usage with billing down ({what}) gave {} instead of an endpoint code: {e}",
                        e.code().as_str()
                    ));
                }
            }
            kit.host
                .probe(&kit.vendor)
                .map_err(|e| format!("the adapter no longer answers after that: {e}"))?;
        }
        Ok(())
    })();
    // The adapter's own configuration back, whatever happened.
    kit.configure_with(serde_json::json!({}))?;
    result?;
    Ok(format!(
        "{op} verified with billing down; report_usage {}",
        seen.join(", ")
    ))
}
