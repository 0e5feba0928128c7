//! The server's edges over real HTTP on loopback (issue 21 items 3 and 4): a slow client is
//! cut off while others are served, `/interlink/` is rate-limited, the client address comes
//! from `X-Forwarded-For` only behind a configured trusted proxy, and the audit log's head is
//! signed into a checkpoint at intervals and on shutdown.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use camr::store::{AuditCheckpoint, MemoryStore, TransactionStore, verify_audit_against};
use camr_server::edges::IpNet;
use common::{assert_error, start_configured};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Reads what the server sends until it closes the connection (or `limit` passes).
async fn read_to_close(tcp: &mut tokio::net::TcpStream, limit: Duration) -> Option<String> {
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.checked_duration_since(Instant::now())?;
        match tokio::time::timeout(left, tcp.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(String::from_utf8_lossy(&got).into_owned()),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_sending_headers_one_byte_a_second_is_cut_off_while_others_are_served() {
    let h = start_configured(|c, _| c.edges.header_read_timeout = Duration::from_secs(2)).await;
    let addr = h.base.trim_start_matches("http://").to_string();
    let started = Instant::now();
    let mut slow = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let (mut rd, mut wr) = slow.split();
    let request = format!(
        "GET /api/v1/platform HTTP/1.1\r\nhost: {addr}\r\nx-padding: {}\r\n\r\n",
        "a".repeat(40)
    );
    // Writes one byte a second until the server hangs up (or 12 s: never cut off).
    let writer = async {
        for b in request.as_bytes() {
            if wr.write_all(&[*b]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
            if started.elapsed() > Duration::from_secs(12) {
                break;
            }
        }
    };
    let reader = async {
        let mut buf = [0u8; 256];
        let mut got = Vec::new();
        loop {
            match rd.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
        (
            started.elapsed(),
            String::from_utf8_lossy(&got).into_owned(),
        )
    };
    // Meanwhile other clients are served, each at once.
    let others = async {
        let mut served = 0;
        while started.elapsed() < Duration::from_millis(2500) {
            let t = Instant::now();
            let (status, _) = h.get("/api/v1/platform").await;
            assert_eq!(status, 200);
            assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
            served += 1;
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        served
    };
    // Never cut off: the reader would wait for ever; 15 s is the verdict.
    let reader = async {
        tokio::time::timeout(Duration::from_secs(15), reader)
            .await
            .unwrap_or_else(|_| panic!("the slow client was never cut off"))
    };
    let ((cut_after, answer), served, ()) = tokio::join!(reader, others, async {
        tokio::select! { () = writer => {}, () = tokio::time::sleep(Duration::from_secs(13)) => {} }
    });
    assert!(served >= 5, "{served}");
    assert!(
        cut_after >= Duration::from_millis(1500) && cut_after < Duration::from_secs(5),
        "cut off after {cut_after:?}; answer {answer:?}"
    );
    // Never an answer to the half-sent request: a 408 at most.
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_body_that_stalls_is_cut_off_after_the_body_read_timeout() {
    let h = start_configured(|c, _| {
        c.edges.body_read_timeout = Duration::from_secs(1);
        c.request_timeout = Duration::from_secs(60);
    })
    .await;
    let addr = h.base.trim_start_matches("http://").to_string();
    let mut tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /api/v1/transactions HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{{\"operation\":"
    );
    let t = Instant::now();
    tcp.write_all(head.as_bytes()).await.unwrap();
    let answer = read_to_close(&mut tcp, Duration::from_secs(10)).await;
    let took = t.elapsed();
    let answer = answer.unwrap_or_else(|| panic!("still open after {took:?}"));
    assert!(took < Duration::from_secs(5), "{took:?}: {answer}");
    assert!(!answer.starts_with("HTTP/1.1 2"), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interlink_routes_are_rate_limited_per_client() {
    let h = start_configured(|c, _| {
        c.interlink_rate_limit.per_minute = 6;
        c.interlink_rate_limit.burst = 3;
    })
    .await;
    let path = "/interlink/sweepcodeController/getEncryptKey";
    for _ in 0..3 {
        let (status, v) = h.get(path).await;
        assert_eq!(status, 200, "{v}");
    }
    let r = h
        .client
        .get(format!("{}{path}", h.base))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    assert!(r.headers().contains_key("retry-after"));
    let v: Value = r.json().await.unwrap();
    assert_error(status, &v, 429, "RATE_LIMITED");
    // The other interlink routes share the bucket; the rest of the API does not.
    let (status, _) = h
        .get("/interlink/sweepcodeController/getScanInfo?tId=x")
        .await;
    assert_eq!(status, 429);
    let (status, _) = h.get("/api/v1/platform").await;
    assert_eq!(status, 200);
}

/// Three interlink calls "from" `clients` (X-Forwarded-For), burst 2: the statuses.
async fn calls_as(h: &common::Harness, clients: [&str; 3]) -> Vec<u16> {
    let mut out = Vec::new();
    for c in clients {
        let r = h
            .client
            .get(format!(
                "{}/interlink/sweepcodeController/getEncryptKey",
                h.base
            ))
            .header("x-forwarded-for", c)
            .send()
            .await
            .unwrap();
        out.push(r.status().as_u16());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn x_forwarded_for_is_ignored_without_trusted_proxies() {
    let h = start_configured(|c, _| {
        c.interlink_rate_limit.per_minute = 1;
        c.interlink_rate_limit.burst = 2;
    })
    .await;
    // Every call is the TCP peer, whatever the header claims: the third is refused.
    let statuses = calls_as(&h, ["198.51.100.1", "198.51.100.2", "198.51.100.3"]).await;
    assert_eq!(statuses, [200, 200, 429]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_bucket() {
    let h = start_configured(|c, _| {
        c.interlink_rate_limit.per_minute = 1;
        c.interlink_rate_limit.burst = 2;
        c.edges.trusted_proxies = vec![IpNet::parse("127.0.0.0/8").unwrap()];
    })
    .await;
    let statuses = calls_as(&h, ["198.51.100.1", "198.51.100.2", "198.51.100.3"]).await;
    assert_eq!(statuses, [200, 200, 200]);
    // The same client three times; a client writing a fake address on the left is still
    // itself (the proxy appends the real one).
    let statuses = calls_as(&h, ["203.0.113.5", "6.6.6.6, 203.0.113.5", "203.0.113.5"]).await;
    assert_eq!(statuses, [200, 200, 429]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_signs_audit_checkpoints_at_intervals_and_on_shutdown() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut config = camr_server::ServerConfig::demo(data.clone(), addr);
    config.audit_checkpoint = Some(Duration::from_millis(300));
    let state = camr_server::build_state(&config).await.unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(camr_server::serve(listener, state.clone(), async {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::new();
    let start = |op: &'static str| {
        client
            .post(format!("http://{addr}/api/v1/transactions"))
            .json(&json!({"operation": op}))
            .send()
    };
    assert_eq!(start("login").await.unwrap().status().as_u16(), 200);
    let file = data.join(camr_server::audit_anchor::CHECKPOINT_FILE);
    let read = || AuditCheckpoint::from_json(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let platform_key =
        camr::crypto::PublicKey::from_bytes(&std::fs::read(data.join("platform-pub.pem")).unwrap())
            .unwrap();
    let provider = camr::crypto::default_provider();
    // On the timer.
    let t = Instant::now();
    loop {
        if file.exists() && read().seq >= 1 {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "no checkpoint written"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let c = read();
    c.verify_signature(provider.as_ref(), Some(&platform_key))
        .unwrap();
    assert_eq!(c.system_code.as_str(), "C1100005553");
    // On shutdown: the head after the last request.
    for _ in 0..3 {
        assert_eq!(start("login").await.unwrap().status().as_u16(), 200);
    }
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
    let last = read();
    let log = state.store.audit().await.unwrap();
    assert_eq!(last.seq, log.len() as u64);
    assert!(last.seq >= c.seq + 3, "{} {}", last.seq, c.seq);
    last.verify_signature(provider.as_ref(), Some(&platform_key))
        .unwrap();
    assert_eq!(verify_audit_against(&log, &last).unwrap(), last.seq);
}

#[tokio::test]
async fn a_head_behind_the_last_checkpoint_is_not_signed_and_the_evidence_stays() {
    let dir = tempfile::tempdir().unwrap();
    let provider = camr::crypto::default_provider();
    let key = provider
        .generate_key(camr::crypto::KeyAlgorithm::Sm2)
        .unwrap();
    let code = camr::protocol::SystemCode::parse("C1100005553").unwrap();
    let anchor = camr_server::audit_anchor::Anchor::new(
        provider.clone(),
        key,
        code.clone(),
        dir.path(),
        None,
    );
    let store = MemoryStore::new();
    for i in 1..=4 {
        store.append_audit(i, None, "started", "").await.unwrap();
    }
    let c = anchor.write(&store).await.unwrap();
    assert_eq!(c.seq, 4);
    let kept = std::fs::read_to_string(anchor.path()).unwrap();
    // Nothing new: the same checkpoint, the file untouched.
    assert_eq!(anchor.write(&store).await.unwrap(), c);
    store.tamper_audit(|log| log.truncate(2));
    let e = anchor.write(&store).await.unwrap_err();
    assert!(e.contains("behind the last checkpoint"), "{e}");
    assert_eq!(std::fs::read_to_string(anchor.path()).unwrap(), kept);
    // A restarted server reads the file and still refuses.
    let provider2 = camr::crypto::default_provider();
    let again = camr_server::audit_anchor::Anchor::new(
        provider2.clone(),
        provider2
            .generate_key(camr::crypto::KeyAlgorithm::Sm2)
            .unwrap(),
        code,
        dir.path(),
        None,
    );
    assert!(again.write(&store).await.is_err());
}

#[test]
fn the_edge_settings_come_from_the_file_and_the_environment() {
    use camr_server::config::{Flags, resolve};
    let c = resolve(None, &[], &Flags::default()).unwrap();
    assert_eq!(c.edges.header_read_timeout, Duration::from_secs(10));
    assert_eq!(c.edges.body_read_timeout, Duration::from_secs(30));
    assert!(c.edges.trusted_proxies.is_empty());
    assert_eq!(c.audit_checkpoint, Some(Duration::from_secs(300)));
    assert_eq!(
        (
            c.interlink_rate_limit.per_minute,
            c.interlink_rate_limit.burst
        ),
        (600, 120)
    );

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("camr.toml");
    std::fs::write(
        &path,
        "header_read_timeout_secs = 3\ntrusted_proxies = [\"10.0.0.0/8\"]\naudit_checkpoint_secs = 0\n[rate_limit]\ninterlink_burst = 7\n",
    )
    .unwrap();
    let env = [
        (
            "CAMR_SERVER_BODY_READ_TIMEOUT_SECS".to_string(),
            "4".to_string(),
        ),
        (
            "CAMR_SERVER_TRUSTED_PROXIES".to_string(),
            "192.0.2.1, fd00::/8".to_string(),
        ),
    ];
    let c = resolve(Some(&path), &env, &Flags::default()).unwrap();
    assert_eq!(c.edges.header_read_timeout, Duration::from_secs(3));
    assert_eq!(c.edges.body_read_timeout, Duration::from_secs(4));
    assert_eq!(
        c.edges.trusted_proxies,
        [
            IpNet::parse("192.0.2.1").unwrap(),
            IpNet::parse("fd00::/8").unwrap()
        ]
    );
    assert_eq!(c.audit_checkpoint, None);
    assert_eq!(
        (
            c.interlink_rate_limit.per_minute,
            c.interlink_rate_limit.burst
        ),
        (600, 7)
    );

    std::fs::write(&path, "trusted_proxies = [\"the-proxy\"]\n").unwrap();
    let e = resolve(Some(&path), &[], &Flags::default())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("trusted_proxies") && e.contains("the-proxy"),
        "{e}"
    );
    std::fs::write(&path, "header_read_timeout_secs = 0\n").unwrap();
    assert!(resolve(Some(&path), &[], &Flags::default()).is_err());
}
