//! The outbound calls every camr vendor cloud answers alike: the routes of `softca-cloud`
//! (`GET /enc-cert`, `GET /crl`, `POST /tasks`, `GET /tasks/{id}`, `POST /usage`,
//! `GET /seals`), which the vendor cloud simulators reuse. Each function is what an adapter's
//! `AdapterImpl` method does when its vendor does not differ; inputs from the platform are
//! checked here (`INPUT_MALFORMED`, `CERT_MALFORMED`), answers from the cloud too
//! (`ADAPTER_FAILED` naming the vendor).

use camr::pki::Certificate;
use camr::protocol::{Evidence, Operation, UsageRecord};
use camr_plugin_abi::{AdapterError, CertStatus, codes};

use std::sync::Arc;

use crate::{Cloud, status_from_crl, url_component};

/// How a call gets the configured cloud — after its inputs are checked, so bad input is
/// `INPUT_MALFORMED` even while no cloud is configured (`|| self.cloud()` in an adapter).
pub trait GetCloud: FnOnce() -> Result<Arc<Cloud>, AdapterError> {}
impl<F: FnOnce() -> Result<Arc<Cloud>, AdapterError>> GetCloud for F {}

fn malformed(what: &str, e: impl std::fmt::Display) -> AdapterError {
    AdapterError::malformed(format!("{what} ({e})"))
}

/// A text field of the subject JSON the host hands over (`camr::pki::Subject`, camelCase);
/// `None` when absent or empty.
pub fn subject_field(subject_json: &str, key: &str) -> Result<Option<String>, AdapterError> {
    let subject: serde_json::Value =
        serde_json::from_str(subject_json).map_err(|e| malformed("bad subject", e))?;
    Ok(subject
        .get(key)
        .and_then(serde_json::Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string))
}

/// The query naming the holder: `serial=HEX` (the signing certificate's `certSn`), else
/// `name=NAME`.
pub fn holder_query(subject_json: &str) -> Result<String, AdapterError> {
    if let Some(serial) = subject_field(subject_json, "certSn")? {
        Ok(format!("serial={}", url_component(&serial)))
    } else if let Some(name) = subject_field(subject_json, "name")? {
        Ok(format!("name={}", url_component(&name)))
    } else {
        Err(AdapterError::malformed(
            "the subject names neither `certSn` nor `name`",
        ))
    }
}

/// How a vendor's wire format names the parts of its answer, for the sentences of
/// [`check_evidence`] (e.g. NETCA: the chain is "of the block", a signature a "signerInfo").
#[derive(Debug, Clone, Copy)]
pub struct EvidenceNames<'a> {
    /// What carries the answer, for "… carries no certificate" (`the evidence`).
    pub container: &'a str,
    /// After "certificate {i}" (`of the chain`).
    pub chain: &'a str,
    /// The encryption certificate (`the encryption certificate`).
    pub encryption_certificate: &'a str,
    /// After "a `{op}` answer needs" (`signatures`).
    pub signatures: &'a str,
    /// One signature, after "the" (`signature`).
    pub signature: &'a str,
}

/// The checks every decoded answer passes before the adapter hands it to the core, for `op`:
/// at least one certificate, every certificate and
/// the encryption certificate decode (`CERT_MALFORMED`), signatures for every operation but
/// `encrypt`, none empty (`INPUT_MALFORMED`). The core verifies everything else.
pub fn check_evidence(
    op: Operation,
    evidence: &Evidence,
    names: EvidenceNames<'_>,
) -> Result<(), AdapterError> {
    if evidence.certificate_chain.is_empty() {
        return Err(AdapterError::malformed(format!(
            "{} carries no certificate",
            names.container
        )));
    }
    for (i, der) in evidence.certificate_chain.iter().enumerate() {
        Certificate::from_der(der).map_err(|e| {
            AdapterError::new(
                codes::CERT_MALFORMED,
                format!("certificate {i} {} does not decode ({e})", names.chain),
            )
        })?;
    }
    if let Some(enc) = &evidence.encryption_certificate {
        Certificate::from_der(enc).map_err(|e| {
            AdapterError::new(
                codes::CERT_MALFORMED,
                format!("{} does not decode ({e})", names.encryption_certificate),
            )
        })?;
    }
    if op != Operation::Encrypt && evidence.signatures.is_empty() {
        return Err(AdapterError::malformed(format!(
            "a `{op}` answer needs {}",
            names.signatures
        )));
    }
    if let Some(s) = evidence
        .signatures
        .iter()
        .find(|s| s.signature_value.is_empty())
    {
        return Err(AdapterError::malformed(format!(
            "the {} of `{}` is empty",
            names.signature, s.item_id
        )));
    }
    Ok(())
}

/// camr evidence as the JSON `decode_evidence` returns.
pub fn evidence_json(evidence: &Evidence) -> Result<String, AdapterError> {
    serde_json::to_string(evidence)
        .map_err(|e| AdapterError::failed(format!("cannot encode evidence ({e})")))
}

/// `GET /enc-cert?serial=|name=`: the holder's encryption certificate (DER), checked to
/// decode.
pub fn fetch_encryption_cert(
    cloud: impl GetCloud,
    subject_json: &str,
) -> Result<Vec<u8>, AdapterError> {
    let query = holder_query(subject_json)?;
    let cloud = cloud()?;
    let der = cloud.get("fetch_encryption_cert", &format!("/enc-cert?{query}"))?;
    Certificate::from_der(&der).map_err(|e| {
        AdapterError::failed(format!(
            "the {} cloud's encryption certificate does not decode ({e})",
            cloud.vendor()
        ))
    })?;
    Ok(der)
}

/// `GET /crl` and `GET /ca.cer`: the certificate's status in the vendor's CRL, checked against
/// the vendor's issuing CA certificate ([`status_from_crl`]).
pub fn cert_status(cloud: impl GetCloud, cert_der: &[u8]) -> Result<CertStatus, AdapterError> {
    Certificate::from_der(cert_der).map_err(|e| {
        AdapterError::new(
            codes::CERT_MALFORMED,
            format!("the certificate does not decode ({e})"),
        )
    })?;
    let cloud = cloud()?;
    let crl = cloud.get("cert_status", "/crl")?;
    let issuer = cloud.get("cert_status", "/ca.cer")?;
    status_from_crl(cert_der, &crl, &issuer, camr::qr::unix_now())
}

/// `POST /tasks {"user", "request"}` → the task's id (the handle for [`poll_task`]).
pub fn push_task(
    cloud: impl GetCloud,
    user_json: &str,
    request_json: &str,
) -> Result<String, AdapterError> {
    let user: serde_json::Value =
        serde_json::from_str(user_json).map_err(|e| malformed("bad user", e))?;
    if !user.is_object() {
        return Err(AdapterError::malformed("the user is not a JSON object"));
    }
    let request: serde_json::Value =
        serde_json::from_str(request_json).map_err(|e| malformed("bad request", e))?;
    let body = serde_json::json!({ "user": user, "request": request });
    let cloud = cloud()?;
    let answer: serde_json::Value =
        Cloud::json("push_task", &cloud.post_json("push_task", "/tasks", &body)?)?;
    answer
        .get("id")
        .and_then(serde_json::Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| {
            AdapterError::failed(format!(
                "push_task: the {} cloud's answer has no task id",
                cloud.vendor()
            ))
        })
}

/// `GET /tasks/{handle}`: the task as the cloud has it (JSON).
pub fn poll_task(cloud: impl GetCloud, handle: &str) -> Result<String, AdapterError> {
    if handle.is_empty() || handle.len() > 128 {
        return Err(AdapterError::malformed("bad task handle"));
    }
    let cloud = cloud()?;
    let answer: serde_json::Value = Cloud::json(
        "poll_task",
        &cloud.get("poll_task", &format!("/tasks/{}", url_component(handle)))?,
    )?;
    Ok(answer.to_string())
}

/// `POST {path}` (`/usage`, or a vendor's own billing route): one use (JSON of
/// `camr::protocol::UsageRecord`) for the vendor's bill.
pub fn report_usage(
    cloud: impl GetCloud,
    path: &str,
    record_json: &str,
) -> Result<(), AdapterError> {
    let record: UsageRecord =
        serde_json::from_str(record_json).map_err(|e| malformed("bad usage record", e))?;
    cloud()?
        .post_json("report_usage", path, &record)
        .map(|_| ())
}

/// `GET {path}?serial=HEX` (`/seals`, or a vendor's own route): the seals of the signing
/// certificate (`certSn`), as the JSON array the cloud answers (the host validates each seal).
pub fn list_seals(
    cloud: impl GetCloud,
    path: &str,
    subject_json: &str,
) -> Result<Vec<serde_json::Value>, AdapterError> {
    let serial = subject_field(subject_json, "certSn")?.ok_or_else(|| {
        AdapterError::malformed("the subject names no `certSn` (the signing certificate)")
    })?;
    let cloud = cloud()?;
    let answer: serde_json::Value = Cloud::json(
        "list_seals",
        &cloud.get(
            "list_seals",
            &format!("{path}?serial={}", url_component(&serial)),
        )?,
    )?;
    match answer {
        serde_json::Value::Array(seals) => Ok(seals),
        _ => Err(AdapterError::failed(format!(
            "list_seals: the {} cloud's answer is not a JSON array",
            cloud.vendor()
        ))),
    }
}

/// The seals with each `code` renamed by `rename` (e.g. a vendor's own prefix for the
/// shared cloud code's `SOFTCA-…`), as the JSON `list_seals` returns.
pub fn seals_json(mut seals: Vec<serde_json::Value>, rename: impl Fn(&str) -> String) -> String {
    for seal in &mut seals {
        if let Some(code) = seal.get_mut("code")
            && let Some(text) = code.as_str()
        {
            *code = serde_json::Value::String(rename(text));
        }
    }
    serde_json::Value::Array(seals).to_string()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn platform_inputs_are_checked_before_any_call() {
        assert_eq!(holder_query(r#"{"certSn":"0A"}"#).unwrap(), "serial=0A");
        assert_eq!(
            holder_query(r#"{"certSn":"","name":"张三"}"#).unwrap(),
            "name=%E5%BC%A0%E4%B8%89"
        );
        assert_eq!(
            holder_query("{}").unwrap_err().code(),
            codes::INPUT_MALFORMED
        );
        assert_eq!(
            subject_field("nope", "certSn").unwrap_err().code(),
            codes::INPUT_MALFORMED
        );
        let seals = vec![
            serde_json::json!({"code": "SOFTCA-official-1"}),
            serde_json::json!({}),
        ];
        let out = seals_json(seals, |c| c.replace("SOFTCA-", "X-"));
        assert_eq!(out, r#"[{"code":"X-official-1"},{}]"#);
    }
}
