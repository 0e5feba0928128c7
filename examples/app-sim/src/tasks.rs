//! Vendor-initiated signing: the tasks a vendor cloud pushed to the user's app.

use super::*;

/// One task pushed to the user's app through the vendor cloud.
#[derive(Debug, Clone, serde::Deserialize)]
struct PushedTask {
    id: String,
    #[serde(default)]
    request: Value,
}

/// Vendor-initiated signing (as the BJCA collaborative-signing app's 待处理 list): the
/// platform pushed its QR payload to this user's app through the vendor cloud instead of
/// showing it. Pulls the wallet holder's pending tasks from `cloud` (`GET /tasks?user=<signing
/// certificate serial>`), answers each exactly as a scan would (same checks, same
/// confirmation), and reports the outcome back (`POST /tasks/{id}/result`). A task without a
/// `qrText` is reported as refused.
pub fn tasks(
    cloud: &str,
    template: &ScanOptions,
    ui: &mut dyn Ui,
) -> Result<Vec<Outcome>, SimError> {
    let client = http_client()?;
    let cert_path = template.wallet.join(camr::softca::wallet_files::SIGN_CERT);
    let cert_pem = std::fs::read(&cert_path).map_err(|e| {
        SimError::new(
            ErrorCode::InputMalformed,
            format!("{}: {e}", cert_path.display()),
        )
    })?;
    let cert = camr::pki::Certificate::parse_one(&cert_pem)
        .map_err(|e| SimError::new(e.code(), e.to_string()))?;
    let base = cloud.trim_end_matches('/');
    let url = format!("{base}/tasks?user={}", cert.serial_hex());
    let pending: Vec<PushedTask> = task_list_at(&client, &url, base)?;
    ui.say(&format!(
        "待处理 Pending tasks for {} (SN {}): {}",
        cert.common_name(),
        cert.serial_hex(),
        pending.len()
    ));
    let mut outcomes = Vec::new();
    for task in pending {
        let report = match task.request.get("qrText").and_then(Value::as_str) {
            None => serde_json::json!({"approved": false, "error": "the task carries no qrText"}),
            Some(text) => {
                ui.say(&format!("任务 Task {}", task.id));
                let options = ScanOptions {
                    qr: QrSource::Payload(text.to_string()),
                    ..template.clone()
                };
                match scan(&options, ui) {
                    Ok(out) => {
                        let r = serde_json::json!({"tid": out.tid, "state": out.state, "approved": out.approved});
                        outcomes.push(out);
                        r
                    }
                    Err(e) => {
                        ui.say(&format!("拒绝 refused: {e}"));
                        serde_json::json!({"approved": false, "errorCode": e.code.as_str(), "error": e.msg})
                    }
                }
            }
        };
        client
            .post(format!("{base}/tasks/{}/result", task.id))
            .json(&report)
            .send()
            .and_then(reqwest::blocking::Response::error_for_status)
            .map_err(|e| {
                SimError::new(
                    ErrorCode::AdapterUnavailable,
                    format!("cannot report task {}: {e}", task.id),
                )
            })?;
    }
    Ok(outcomes)
}
