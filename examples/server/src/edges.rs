//! The HTTP edge of the server: how connections are served (slow clients cut off) and who the
//! client is (the TCP peer, or behind a trusted reverse proxy the address it forwards).
//!
//! `axum::serve` gives hyper no timer, so a client that sends its request headers one byte a
//! second (slowloris) holds a connection and a task forever. [`serve`] runs hyper's HTTP/1
//! connections itself with a timer: the whole header block must arrive within
//! `header_read_timeout_secs` (hyper's `header_read_timeout`; also the longest idle time of a
//! kept-alive connection between requests), and every request body is wrapped so that a pause
//! of `body_read_timeout_secs` without a byte fails its read (tower-http's `TimeoutBody`), on
//! every route — the streamed uploads and the event stream included, which the request timeout
//! does not cover.

use std::net::{IpAddr, SocketAddr};
use std::pin::pin;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Request};
use hyper::body::{Incoming, SizeHint};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt;
use tower_http::timeout::TimeoutBody;

/// The default for the header block of a request (and a kept-alive connection's idle time).
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The default longest pause inside a request body.
pub const DEFAULT_BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// The header a trusted reverse proxy appends the client's address to.
pub const FORWARDED_FOR: &str = "x-forwarded-for";

/// How connections are served and clients told apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EdgeConfig {
    /// `header_read_timeout_secs`: the whole header block within this, or the connection is
    /// closed.
    pub header_read_timeout: Duration,
    /// `body_read_timeout_secs`: the longest pause between two pieces of a request body.
    pub body_read_timeout: Duration,
    /// `trusted_proxies`: reverse proxies whose `X-Forwarded-For` names the client; empty:
    /// the client is the TCP peer, whatever the headers say.
    pub trusted_proxies: Vec<IpNet>,
}

impl Default for EdgeConfig {
    fn default() -> Self {
        Self {
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            body_read_timeout: DEFAULT_BODY_READ_TIMEOUT,
            trusted_proxies: Vec::new(),
        }
    }
}

/// An address block, `10.0.0.0/8`, `fd00::/8` or one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    /// Parses `ADDR` or `ADDR/PREFIX`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let (a, p) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = a
            .parse()
            .map_err(|_| format!("`{}` is not an IP address or block", clip(s)))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("`{}`: the prefix must be 0–{max}", clip(s)))?,
        };
        Ok(Self { addr, prefix })
    }

    /// Whether `ip` is inside (an IPv4-mapped IPv6 address counts as its IPv4 address).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (ip, self.addr) {
            (IpAddr::V4(a), IpAddr::V4(b)) => {
                same_prefix(u32::from(a).into(), u32::from(b).into(), 32, self.prefix)
            }
            (IpAddr::V6(a), IpAddr::V6(b)) => same_prefix(a.into(), b.into(), 128, self.prefix),
            _ => false,
        }
    }
}

/// Whether the top `prefix` of `width` bits of `a` and `b` agree.
fn same_prefix(a: u128, b: u128, width: u32, prefix: u8) -> bool {
    let low = width.saturating_sub(u32::from(prefix));
    a.checked_shr(low).unwrap_or(0) == b.checked_shr(low).unwrap_or(0)
}

fn clip(s: &str) -> String {
    s.chars().take(60).collect()
}

/// The client of a request from `peer`: `peer` itself, unless `peer` is a trusted proxy and
/// the request carries `X-Forwarded-For`; then the nearest address in it that is not a
/// trusted proxy (read from the right, since a client can write anything on the left). An
/// unreadable header or one of trusted proxies only gives the last readable address, else the
/// peer.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|n| n.contains(ip));
    if trusted.is_empty() || !is_trusted(peer) {
        return peer;
    }
    let mut client = peer;
    // Several headers are one list, in order.
    let hops: Vec<&str> = headers
        .get_all(FORWARDED_FOR)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    for hop in hops.iter().rev() {
        let Ok(ip) = hop.trim().parse::<IpAddr>() else {
            // A port or garbage: stop at what can be trusted so far.
            return client;
        };
        client = ip;
        if !is_trusted(ip) {
            return ip;
        }
    }
    client
}

/// Serves `app` on `listener` until `shutdown` completes, then lets in-flight requests finish.
/// Each request carries `ConnectInfo<SocketAddr>` of its connection.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    edges: &EdgeConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Dropping `signal_rx` tells the accept loop and every connection to stop.
    let (signal_tx, signal_rx) = watch::channel(());
    tokio::spawn(async move {
        shutdown.await;
        drop(signal_rx);
    });
    // Each connection holds a `close_rx`; all dropped: every connection is done.
    let (close_tx, close_rx) = watch::channel(());
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = signal_tx.closed() => break,
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let body_timeout = edges.body_read_timeout;
        let service = hyper::service::service_fn(move |req: Request<Incoming>| {
            let mut req = req.map(|b| Body::new(ReadTimeout::new(body_timeout, b)));
            req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
            app.clone().oneshot(req)
        });
        let header_timeout = edges.header_read_timeout;
        let signal_tx = signal_tx.clone();
        let close_rx = close_rx.clone();
        tokio::spawn(async move {
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout);
            let mut conn = pin!(builder.serve_connection(TokioIo::new(stream), service));
            let mut stop = pin!(signal_tx.closed());
            let mut stopping = false;
            loop {
                tokio::select! {
                    served = conn.as_mut() => {
                        if let Err(e) = served {
                            tracing::debug!(%peer, "connection closed: {e}");
                        }
                        break;
                    }
                    () = &mut stop, if !stopping => {
                        stopping = true;
                        conn.as_mut().graceful_shutdown();
                    }
                }
            }
            drop(close_rx);
        });
    }
    drop(close_rx);
    drop(listener);
    close_tx.closed().await;
    Ok(())
}

/// A request body whose every read must make progress within the body read timeout
/// (tower-http's `TimeoutBody`), which keeps the body's size hint: `TimeoutBody` drops it, and
/// the upload routes refuse an oversized declared length from that hint before reading
/// (`files::Upload`; attack test `finding8_uploads_have_per_route_limits_…`).
struct ReadTimeout {
    inner: std::pin::Pin<Box<TimeoutBody<Incoming>>>,
    /// The hint of the body as it arrived, and what has been read since.
    hint: SizeHint,
    read: u64,
}

impl ReadTimeout {
    fn new(timeout: Duration, body: Incoming) -> Self {
        let hint = hyper::body::Body::size_hint(&body);
        Self {
            inner: Box::pin(TimeoutBody::new(timeout, body)),
            hint,
            read: 0,
        }
    }
}

impl hyper::body::Body for ReadTimeout {
    type Data = hyper::body::Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        let polled = self.inner.as_mut().poll_frame(cx);
        if let std::task::Poll::Ready(Some(Ok(frame))) = &polled
            && let Some(data) = frame.data_ref()
        {
            self.read = self
                .read
                .saturating_add(u64::try_from(data.len()).unwrap_or(u64::MAX));
        }
        polled
    }

    fn size_hint(&self) -> SizeHint {
        let mut h = SizeHint::new();
        if let Some(upper) = self.hint.upper() {
            h.set_upper(upper.saturating_sub(self.read));
        }
        let lower = self.hint.lower().saturating_sub(self.read);
        h.set_lower(h.upper().map_or(lower, |u| lower.min(u)));
        h
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn address_blocks_hold_what_they_say() {
        let n = IpNet::parse("10.1.0.0/16").unwrap();
        assert!(n.contains(ip("10.1.200.3")));
        assert!(n.contains(ip("::ffff:10.1.0.9")));
        assert!(!n.contains(ip("10.2.0.1")));
        assert!(!n.contains(ip("fd00::1")));
        let one = IpNet::parse("192.168.1.7").unwrap();
        assert!(one.contains(ip("192.168.1.7")) && !one.contains(ip("192.168.1.8")));
        let v6 = IpNet::parse("fd00::/8").unwrap();
        assert!(v6.contains(ip("fd12::3")) && !v6.contains(ip("fe80::1")));
        assert!(IpNet::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        for bad in ["", "10.0.0.0/33", "fd00::/129", "proxy", "10.0.0.0/x"] {
            assert!(IpNet::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_forwarded_client_counts_only_behind_a_trusted_proxy() {
        let mut h = HeaderMap::new();
        h.insert(FORWARDED_FOR, "6.6.6.6, 203.0.113.9".parse().unwrap());
        let proxies = [IpNet::parse("10.0.0.0/8").unwrap()];
        // No trusted proxies configured: the header is ignored.
        assert_eq!(client_ip(ip("10.0.0.2"), &h, &[]), ip("10.0.0.2"));
        // A peer that is no trusted proxy cannot name another client.
        assert_eq!(
            client_ip(ip("198.51.100.1"), &h, &proxies),
            ip("198.51.100.1")
        );
        // Behind the proxy: the rightmost address the proxy saw, not what the client wrote.
        assert_eq!(client_ip(ip("10.0.0.2"), &h, &proxies), ip("203.0.113.9"));
        // Two proxies in a row.
        h.insert(
            FORWARDED_FOR,
            "6.6.6.6, 203.0.113.9, 10.0.0.7".parse().unwrap(),
        );
        assert_eq!(client_ip(ip("10.0.0.2"), &h, &proxies), ip("203.0.113.9"));
        // No header or garbage: the proxy (or the last address that could be read).
        assert_eq!(
            client_ip(ip("10.0.0.2"), &HeaderMap::new(), &proxies),
            ip("10.0.0.2")
        );
        h.insert(FORWARDED_FOR, "203.0.113.9, junk".parse().unwrap());
        assert_eq!(client_ip(ip("10.0.0.2"), &h, &proxies), ip("10.0.0.2"));
    }
}
