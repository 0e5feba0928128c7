//! The cases. Each returns `Ok(detail)` (PASS) or `Err(detail)` (FAIL).

use std::io::Write;
use std::net::TcpListener;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use camr::app::Wallet;
use camr::pki::Certificate;
use camr::protocol::{ErrorCode, Evidence, Operation, Response, UsageRecord};
use camr::store::TransactionStore;
use camr_plugin_host::{HostConfig, PluginError, PluginHost, sha256_hex};
use serde::Serialize;

use crate::config::{KitConfig, substitute};
use crate::world::{Which, World, evidence_of};

#[path = "cases_billing.rs"]
mod cases_billing;
#[path = "cases_delegation.rs"]
mod cases_delegation;
#[path = "cases_push.rs"]
mod cases_push;

/// One row of the report.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// The case.
    pub case: String,
    /// `PASS` or `FAIL`.
    pub result: &'static str,
    /// What happened.
    pub detail: String,
    /// How long it took, ms.
    pub ms: u64,
}

/// The whole report (`--report`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub adapter: String,
    pub sha256: Option<String>,
    pub ca_org_type: Option<String>,
    pub passed: usize,
    pub failed: usize,
    pub cases: Vec<Row>,
}

impl Report {
    fn push(&mut self, case: &str, started: Instant, outcome: Result<String, String>) {
        let ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let (result, detail) = match outcome {
            Ok(d) => ("PASS", d),
            Err(d) => ("FAIL", d),
        };
        if result == "PASS" {
            self.passed += 1;
        } else {
            self.failed += 1;
        }
        self.cases.push(Row {
            case: case.to_string(),
            result,
            detail,
            ms,
        });
    }

    /// Runs one case, containing a panic of the kit itself.
    fn case(&mut self, case: &str, f: impl FnOnce() -> Result<String, String>) {
        let started = Instant::now();
        let outcome = match catch_unwind(AssertUnwindSafe(f)) {
            Ok(o) => o,
            Err(p) => Err(format!(
                "the kit panicked: {}",
                camr_plugin_host_panic_text(p.as_ref())
            )),
        };
        self.push(case, started, outcome);
    }

    /// The text table.
    pub fn table(&self) -> String {
        let w = self
            .cases
            .iter()
            .map(|r| r.case.chars().count())
            .max()
            .unwrap_or(4)
            .max(4);
        let mut out = format!("{:<w$}  {:<6} {:>7}  detail\n", "case", "result", "ms");
        for r in &self.cases {
            let detail: String = r.detail.chars().take(160).collect();
            out.push_str(&format!(
                "{:<w$}  {:<6} {:>7}  {}\n",
                r.case, r.result, r.ms, detail
            ));
        }
        out.push_str(&format!(
            "\n{} passed, {} failed{}\n",
            self.passed,
            self.failed,
            if self.failed == 0 {
                ""
            } else {
                " — the adapter does NOT conform"
            }
        ));
        out
    }
}

fn camr_plugin_host_panic_text(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-text payload".into()
    }
}

/// Codes that mean "the input is bad" (they do not count toward the vendor's breaker).
const BAD_INPUT: [ErrorCode; 2] = [ErrorCode::InputMalformed, ErrorCode::CertMalformed];
/// Codes a failing vendor endpoint may produce.
const ENDPOINT_CODES: [ErrorCode; 3] = [
    ErrorCode::AdapterTimeout,
    ErrorCode::AdapterUnavailable,
    ErrorCode::AdapterFailed,
];

/// One outbound call of the endpoint cases: `None` when it succeeded.
type OutboundCall<'a> = Box<dyn Fn() -> Option<PluginError> + 'a>;

struct Kit<'a> {
    host: PluginHost,
    vendor: String,
    config: &'a KitConfig,
    world: World,
    adapter_config: serde_json::Value,
}

impl Kit<'_> {
    /// The vendor's raw answer for `evidence`: camr's evidence JSON, or the encoder's output.
    fn encode(&self, evidence: &Evidence) -> Result<Vec<u8>, String> {
        let json = serde_json::to_vec(evidence).map_err(|e| e.to_string())?;
        let Some(cmd) = &self.config.encoder else {
            return Ok(json);
        };
        let (program, args) = cmd.split_first().ok_or("`encoder` is empty")?;
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run the encoder {program}: {e}"))?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin
                .write_all(&json)
                .map_err(|e| format!("encoder stdin: {e}"))?;
        }
        let out = child
            .wait_with_output()
            .map_err(|e| format!("encoder: {e}"))?;
        if !out.status.success() {
            return Err(format!("the encoder failed ({})", out.status));
        }
        Ok(out.stdout)
    }

    /// App answer → vendor format → adapter → rebuilt response.
    fn through_adapter(&self, op: Operation, mut response: Response) -> Result<Response, String> {
        let raw = self.encode(&evidence_of(&response)?)?;
        let decoded = self
            .host
            .decode_evidence(&self.vendor, op, &raw)
            .map_err(|e| {
                format!(
                    "decode_evidence refused the app's real answer: {}: {e}",
                    e.code().as_str()
                )
            })?;
        response.evidence = Some(decoded);
        Ok(response)
    }

    /// A full round trip of `op` on `which` platform with `wallet`; `tamper` edits the
    /// evidence before it is encoded. Returns the ceremony's verdict.
    fn round_trip(
        &self,
        which: Which,
        op: Operation,
        wallet: &Wallet,
        tamper: impl FnOnce(&mut Evidence),
    ) -> Result<(crate::world::Scanned, Result<(), ErrorCode>), String> {
        let s = self.world.scan(which, op)?;
        let mut response = self
            .world
            .app
            .approve(wallet, &s.signed, &s.request, &[])
            .map_err(|e| format!("the app cannot answer: {e}"))?;
        if let Some(ev) = response.evidence.as_mut() {
            tamper(ev);
        }
        let response = self.through_adapter(op, response)?;
        let verdict = self
            .world
            .block_on(
                self.world
                    .platform(which)
                    .answer(&s.started.transaction.tid, &response),
            )
            .map(|_| ())
            .map_err(|e| e.code());
        Ok((s, verdict))
    }

    fn expect_refusal(
        &self,
        verdict: Result<(), ErrorCode>,
        allowed: &[ErrorCode],
    ) -> Result<String, String> {
        match verdict {
            Ok(()) => Err("the ceremony ACCEPTED it".into()),
            Err(c) if allowed.contains(&c) => Ok(format!("refused: {}", c.as_str())),
            Err(c) => Err(format!(
                "refused with {} instead of {}",
                c.as_str(),
                allowed
                    .iter()
                    .map(|c| c.as_str())
                    .collect::<Vec<_>>()
                    .join("/")
            )),
        }
    }

    /// Decodes bad input: must be a bad-input error, quickly, never a panic or a hang.
    fn bad_input(&self, op: Operation, raw: &[u8], limit: Duration) -> Result<String, String> {
        let t = Instant::now();
        let r = self.host.decode_evidence(&self.vendor, op, raw);
        let took = t.elapsed();
        let out = match r {
            Ok(_) => Err("decode_evidence accepted it and returned evidence".into()),
            Err(e) => {
                let text = e.to_string();
                if matches!(e, PluginError::Panicked { .. }) || text.contains("panicked") {
                    Err(format!("the adapter panicked: {text}"))
                } else if e.code() == ErrorCode::AdapterTimeout {
                    Err(format!("the adapter hung: {text}"))
                } else if BAD_INPUT.contains(&e.code()) {
                    Ok(format!("{}: {}", e.code().as_str(), truncate(&text, 100)))
                } else {
                    Err(format!(
                        "{} instead of INPUT_MALFORMED/CERT_MALFORMED: {text}",
                        e.code().as_str()
                    ))
                }
            }
        }?;
        if took > limit {
            return Err(format!("took {took:?}, more than {limit:?}"));
        }
        self.host
            .probe(&self.vendor)
            .map_err(|e| format!("the adapter no longer answers after that: {e}"))?;
        Ok(out)
    }

    fn configure_with(&self, extra: serde_json::Value) -> Result<(), String> {
        let mut cfg = self.adapter_config.clone();
        if let (Some(o), Some(x)) = (cfg.as_object_mut(), extra.as_object()) {
            for (k, v) in x {
                o.insert(k.clone(), v.clone());
            }
        }
        self.host
            .configure(&self.vendor, &cfg.to_string())
            .map_err(|e| format!("configure refused: {e}"))
    }

    /// `list_seals` for the kit's wallet, with the vendor's configuration: every seal passes
    /// `SealInfo::check` (the host checks it too), belongs to the wallet's signing certificate
    /// and has its own code (one kind per code). An adapter that does not offer the call
    /// answers `ADAPTER_UNAVAILABLE`, which passes.
    fn seals(&self) -> Result<String, String> {
        let subject = self.world.wallet.sign_cert.subject();
        let seals = match self.host.list_seals(&self.vendor, &subject) {
            Ok(seals) => seals,
            Err(e @ PluginError::Adapter { .. }) if e.code() == ErrorCode::AdapterUnavailable => {
                return Ok(format!("not offered: {}", truncate(&e.to_string(), 100)));
            }
            Err(e) => return Err(format!("{}: {e}", e.code().as_str())),
        };
        let mut kinds: std::collections::BTreeMap<&str, camr::protocol::SealKind> =
            std::collections::BTreeMap::new();
        for seal in &seals {
            seal.check()
                .map_err(|e| format!("seal `{}`: {e}", seal.code))?;
            if !seal.cert_sn.eq_ignore_ascii_case(&subject.cert_sn) {
                return Err(format!(
                    "seal `{}` names certificate {}, not the wallet's {}",
                    seal.code, seal.cert_sn, subject.cert_sn
                ));
            }
            if let Some(first) = kinds.insert(&seal.code, seal.kind) {
                return Err(format!(
                    "the code `{}` is given twice ({} and {})",
                    seal.code,
                    first.as_str(),
                    seal.kind.as_str()
                ));
            }
        }
        let listed: Vec<String> = seals
            .iter()
            .map(|s| format!("{} {}", s.kind.label_zh(), s.code))
            .collect();
        Ok(format!("{} seals: {}", seals.len(), listed.join(", ")))
    }

    /// Every outbound call against a vendor endpoint at `url`.
    fn endpoint(&self, url: &str, usage: Option<&UsageRecord>) -> Result<String, String> {
        let timeout_ms = self.config.endpoint_timeout_ms.unwrap_or(500);
        self.configure_with(serde_json::json!({ "cloudUrl": url, "timeoutMs": timeout_ms }))?;
        let deadline = self.host.config().deadline_for(&self.vendor);
        let subject = self.world.wallet.sign_cert.subject();
        let leaf = self.world.wallet.sign_cert.der().to_vec();
        let user = serde_json::json!({ "name": subject.name, "certSn": subject.cert_sn });
        let request = serde_json::json!({ "operation": "signature", "note": "camr-tck" });
        let mut seen = Vec::new();
        let calls: Vec<(&str, OutboundCall<'_>)> = vec![
            (
                "fetch_encryption_cert",
                Box::new(|| {
                    self.host
                        .fetch_encryption_cert(&self.vendor, &subject)
                        .err()
                }),
            ),
            (
                "cert_status",
                Box::new(|| self.host.cert_status(&self.vendor, &leaf).err()),
            ),
            (
                "push_task",
                Box::new(|| self.host.push_task(&self.vendor, &user, &request).err()),
            ),
            (
                "poll_task",
                Box::new(|| self.host.poll_task(&self.vendor, "tck-task-1").err()),
            ),
            (
                "report_usage",
                Box::new(|| usage.and_then(|u| self.host.report_usage(&self.vendor, u).err())),
            ),
            (
                "list_seals",
                Box::new(|| self.host.list_seals(&self.vendor, &subject).err()),
            ),
        ];
        let mut failure = None;
        for (name, call) in &calls {
            if *name == "report_usage" && usage.is_none() {
                continue;
            }
            let t = Instant::now();
            let r = call();
            let took = t.elapsed();
            match r {
                None => {
                    failure = failure.or(Some(format!("{name} succeeded against a dead endpoint")))
                }
                Some(PluginError::Timeout { .. }) => failure = failure.or(Some(format!(
                    "{name} ignored timeoutMs={timeout_ms}: the host's {deadline:?} deadline cut it"
                ))),
                Some(e) if ENDPOINT_CODES.contains(&e.code()) => {
                    if took > deadline {
                        failure = failure.or(Some(format!("{name} took {took:?}")));
                    }
                    seen.push(format!("{name}={}", e.code().as_str()));
                }
                Some(e) => {
                    failure = failure.or(Some(format!(
                        "{name}: unexpected {}: {e}",
                        e.code().as_str()
                    )))
                }
            }
        }
        self.host
            .probe(&self.vendor)
            .map_err(|e| format!("the adapter no longer answers: {e}"))?;
        self.configure_with(serde_json::json!({}))?;
        match failure {
            Some(f) => Err(f),
            None => Ok(seen.join(", ")),
        }
    }
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

fn parse_info(host: &PluginHost, vendor: &str) -> Result<(String, Vec<Operation>), String> {
    let info = host.info(vendor).ok_or("the host has no info")?;
    let code_ok = !info.ca_org_type.is_empty()
        && info.ca_org_type.len() <= 32
        && info
            .ca_org_type
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if !code_ok {
        return Err(format!(
            "vendor code `{}` is not 1-32 of A-Z 0-9 _ -",
            info.ca_org_type
        ));
    }
    if info.vendor_name.trim().is_empty() || info.adapter_version.trim().is_empty() {
        return Err("vendorName and adapterVersion must not be empty".into());
    }
    let mut ops = Vec::new();
    for o in &info.operations {
        let op: Operation = o.parse().map_err(|_| format!("unknown operation `{o}`"))?;
        if ops.contains(&op) {
            return Err(format!("operation `{o}` listed twice"));
        }
        ops.push(op);
    }
    if ops.is_empty() {
        return Err("no operations".into());
    }
    if info.algorithms.is_empty()
        || !info
            .algorithms
            .iter()
            .all(|a| ["SM2", "RSA", "ECDSA_P256"].contains(&a.as_str()))
    {
        return Err(format!(
            "algorithms {:?} must be a non-empty subset of SM2, RSA, ECDSA_P256",
            info.algorithms
        ));
    }
    Ok((
        format!(
            "{} \"{}\" {}; operations {}; algorithms {}",
            info.ca_org_type,
            info.vendor_name,
            info.adapter_version,
            info.operations.join(","),
            info.algorithms.join(",")
        ),
        ops,
    ))
}

/// Runs every case against the adapter at `path`.
pub fn run(path: &Path, config: &KitConfig) -> Report {
    let mut report = Report {
        adapter: path.display().to_string(),
        sha256: std::fs::read(path).ok().map(|b| sha256_hex(&b)),
        ca_org_type: None,
        passed: 0,
        failed: 0,
        cases: Vec::new(),
    };
    let deadline = Duration::from_millis(config.deadline_ms.unwrap_or(5_000));
    let mut host = PluginHost::new(HostConfig {
        default_deadline: deadline,
        // The kit wants to see every answer of the adapter itself, not the breaker's.
        breaker_threshold: u32::MAX,
        breaker_cooldown: Duration::from_millis(10),
        ..HostConfig::default()
    });
    let t = Instant::now();
    let loaded = host
        .load_file(path)
        .map_err(|e| format!("{}: {e}", e.code().as_str()));
    let vendor = match loaded {
        Ok(v) => {
            report.push(
                "load",
                t,
                Ok(format!("loaded {v} through PluginHost::load_file")),
            );
            v
        }
        Err(e) => {
            report.push("load", t, Err(e));
            return report;
        }
    };
    report.ca_org_type = Some(vendor.clone());

    let mut ops = Vec::new();
    report.case("info", || {
        let (detail, o) = parse_info(&host, &vendor)?;
        host.probe(&vendor)
            .map_err(|e| format!("info through the host failed: {e}"))?;
        let h = host.health();
        if !h
            .iter()
            .any(|h| h.ca_org_type == vendor && h.sha256.is_some())
        {
            return Err("health() does not list the adapter with its hash".into());
        }
        ops = o;
        Ok(detail)
    });
    if ops.is_empty() {
        return report;
    }

    let t = Instant::now();
    let world = match World::new(config, &vendor) {
        Ok(w) => w,
        Err(e) => {
            report.push("setup", t, Err(e));
            return report;
        }
    };
    let adapter_config = substitute(&config.adapter_config, &world.vars());
    let kit = Kit {
        host,
        vendor,
        config,
        world,
        adapter_config,
    };

    report.case("configure", || {
        kit.configure_with(serde_json::json!({}))?;
        Ok(format!(
            "accepted {}",
            truncate(&kit.adapter_config.to_string(), 120)
        ))
    });

    let wallet = kit.world.wallet.clone();
    for op in Operation::ALL {
        if !ops.contains(&op) {
            continue;
        }
        report.case(&format!("round-trip {op}"), || {
            let (s, verdict) = kit.round_trip(Which::Normal, op, &wallet, |_| {})?;
            verdict.map_err(|c| {
                format!("the ceremony refused the decoded evidence: {}", c.as_str())
            })?;
            kit.world.finish(Which::Normal, op, &s)
        });
    }
    let op = if ops.contains(&Operation::Login) {
        Operation::Login
    } else {
        ops[0]
    };

    if let Some(dir) = &config.evidence_dir {
        report.case("recorded evidence", || recorded(&kit, dir, &ops));
    }

    // Malformed input.
    let real_raw = kit
        .world
        .scan(Which::Normal, op)
        .and_then(|s| {
            kit.world
                .app
                .approve(&wallet, &s.signed, &s.request, &[])
                .map_err(|e| e.to_string())
        })
        .and_then(|r| evidence_of(&r))
        .and_then(|e| kit.encode(&e));
    let quick = Duration::from_secs(2);
    report.case("malformed: garbage", || {
        kit.bad_input(op, b"\x00\xffnot a vendor answer\x13\x37", quick)
    });
    report.case("malformed: truncated", || {
        let raw = real_raw.clone()?;
        kit.bad_input(op, &raw[..raw.len() / 2], quick)
    });
    report.case("malformed: wrong types", || {
        kit.bad_input(
            op,
            br#"{"algorithm":5,"certificateChain":"AAAA","signatures":{"x":true}}"#,
            quick,
        )
    });
    report.case("malformed: bad certificate", || {
        kit.bad_input(
            op,
            br#"{"algorithm":"SM2","certificateChain":["MIIBAAAA"],"signatures":[{"itemId":"request","signatureValue":"AAAA"}]}"#,
            quick,
        )
    });
    report.case("empty input", || kit.bad_input(op, b"", quick));
    report.case("10 MB input", || {
        let mut big = b"{\"algorithm\":\"SM2\",\"certificateChain\":[\"".to_vec();
        big.resize(10 * 1024 * 1024, b'A');
        kit.bad_input(op, &big, quick)
    });

    // The core's refusals, with evidence that went through the adapter.
    report.case("other transaction", || {
        let a = kit.world.scan(Which::Normal, op)?;
        let b = kit.world.scan(Which::Normal, op)?;
        let answer_a = kit
            .world
            .app
            .approve(&wallet, &a.signed, &a.request, &[])
            .map_err(|e| e.to_string())?;
        let moved = kit.through_adapter(op, answer_a)?;
        let tid_b = &b.started.transaction.tid;
        let p = kit.world.platform(Which::Normal);
        let plain = kit
            .world
            .block_on(p.answer(tid_b, &moved))
            .map(|_| ())
            .map_err(|e| e.code());
        let allowed = [
            ErrorCode::TidMismatch,
            ErrorCode::RequestHashMismatch,
            ErrorCode::SignatureInvalid,
        ];
        let first = kit.expect_refusal(plain, &allowed)?;
        let mut rewritten = moved.clone();
        rewritten.tid = tid_b.clone();
        rewritten.request_hash =
            camr::ceremony::request_hash(kit.world.provider.as_ref(), &b.signed.request);
        let second = kit
            .world
            .block_on(p.answer(tid_b, &rewritten))
            .map(|_| ())
            .map_err(|e| e.code());
        let second = kit.expect_refusal(second, &[ErrorCode::SignatureInvalid])?;
        Ok(format!("as is: {first}; tid and hash rewritten: {second}"))
    });
    report.case("tampered signature", || {
        let (_, verdict) = match kit.round_trip(Which::Normal, op, &wallet, |ev| {
            if let Some(s) = ev.signatures.first_mut()
                && let Some(b) = s.signature_value.0.last_mut()
            {
                *b ^= 0x01;
            }
        }) {
            Ok(v) => v,
            // The adapter refusing a tampered answer is also no false success.
            Err(e) if e.contains("INPUT_MALFORMED") => {
                return Ok(format!("refused by the adapter: {e}"));
            }
            Err(e) => return Err(e),
        };
        kit.expect_refusal(verdict, &[ErrorCode::SignatureInvalid])
    });
    report.case("wrong certificate usage", || {
        let swapped = kit.world.swapped_wallet();
        let (_, verdict) = kit.round_trip(Which::Normal, op, &swapped, |_| {})?;
        kit.expect_refusal(verdict, &[ErrorCode::CertWrongUsage])
    });
    report.case("expired certificate", || {
        let (_, verdict) = kit.round_trip(Which::Late, op, &wallet, |_| {})?;
        kit.expect_refusal(verdict, &[ErrorCode::CertExpired])
    });
    report.case("revoked certificate", || {
        let revoked = kit.world.revoked_wallet.clone();
        let (_, verdict) = kit.round_trip(Which::WithCrl, op, &revoked, |_| {})?;
        kit.expect_refusal(verdict, &[ErrorCode::CertRevoked])
    });

    // The user's seals (印章), from the vendor as configured.
    report.case("list_seals", || kit.seals());

    // Vendor endpoints that hang or are down.
    let usage = kit
        .world
        .block_on(kit.world.store.usage())
        .ok()
        .and_then(|u| u.into_iter().next());
    report.case("slow vendor endpoint", || {
        let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        // Connections complete in the kernel's backlog; nobody ever answers.
        let r = kit.endpoint(&format!("http://{addr}"), usage.as_ref());
        drop(listener);
        r
    });
    report.case("failing vendor endpoint", || {
        let addr = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?;
        // The listener is dropped: the port is closed.
        kit.endpoint(&format!("http://{addr}"), usage.as_ref())
    });

    report.case("failing usage report does not block the operation", || {
        cases_billing::failing_usage_report(&kit, op)
    });
    report.case("push task then poll", || cases_push::push_then_poll(&kit));
    report.case("delegation out of scope", || {
        cases_delegation::delegation_out_of_scope(&kit)
    });
    report.case("alive", || {
        kit.host.probe(&kit.vendor).map_err(|e| e.to_string())?;
        let h = kit.host.health();
        let h = h
            .iter()
            .find(|h| h.ca_org_type == kit.vendor)
            .ok_or("no health")?;
        Ok(format!(
            "calls {}, failures {}, timeouts {}, panics {}, threads {}",
            h.calls, h.failures, h.timeouts, h.panics, h.worker_threads
        ))
    });
    report
}

/// Pre-recorded vendor answers: `<operation>.raw`, optionally `<operation>.expected.json`.
fn recorded(kit: &Kit<'_>, dir: &Path, ops: &[Operation]) -> Result<String, String> {
    let mut done = Vec::new();
    for op in ops {
        let raw_path = dir.join(format!("{op}.raw"));
        let Ok(raw) = std::fs::read(&raw_path) else {
            continue;
        };
        let ev = kit
            .host
            .decode_evidence(&kit.vendor, *op, &raw)
            .map_err(|e| format!("{}: {e}", raw_path.display()))?;
        for der in &ev.certificate_chain {
            Certificate::from_der(der).map_err(|e| {
                format!("{}: a certificate does not decode: {e}", raw_path.display())
            })?;
        }
        let expected_path = dir.join(format!("{op}.expected.json"));
        if let Ok(text) = std::fs::read_to_string(&expected_path) {
            let expected: Evidence = serde_json::from_str(&text)
                .map_err(|e| format!("{}: {e}", expected_path.display()))?;
            if expected != ev {
                return Err(format!(
                    "{}: decoded evidence differs from {}",
                    raw_path.display(),
                    expected_path.display()
                ));
            }
        }
        done.push(op.as_str());
    }
    if done.is_empty() {
        return Err(format!("no <operation>.raw files in {}", dir.display()));
    }
    Ok(format!("decoded {}", done.join(", ")))
}
