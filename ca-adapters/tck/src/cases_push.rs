//! Kit case: tasks pushed to a known user (推送签名任务, e.g. BJCA 掌上信手书's 待处理 list) —
//! `push_task` then `poll_task`, with the adapter as configured:
//!
//! * pushed: the handle is 1 to 128 characters; polling it answers a JSON object (naming the
//!   same task when it names one); polling a handle nobody issued is refused, quickly;
//! * not offered (`ADAPTER_UNAVAILABLE`, e.g. no vendor cloud configured): passes, said so;
//! * the vendor refusing the kit's user (`INPUT_MALFORMED`: it pushes only to users it
//!   issued certificates to, and the kit's wallet is not one): passes, said so.
//!
//! Either way the calls end within the host's deadline and the adapter still answers.
//!
//! Co-signing with one share missing is not a kit case: an adapter translates answers and
//! never signs, so the kit (whose wallet holds whole keys) has no share to withhold; the
//! vendors' own end-to-end tests show it (e.g. examples/server/tests/vendor_bjca.rs).

use std::time::Instant;

use camr::protocol::ErrorCode;
use camr_plugin_host::PluginError;

use super::{ENDPOINT_CODES, Kit};

/// The case.
pub(super) fn push_then_poll(kit: &Kit<'_>) -> Result<String, String> {
    let deadline = kit.host.config().deadline_for(&kit.vendor);
    let subject = kit.world.wallet.sign_cert.subject();
    let user = serde_json::json!({ "name": subject.name, "certSn": subject.cert_sn });
    let request = serde_json::json!({ "operation": "login", "note": "camr-tck push" });
    let t = Instant::now();
    let pushed = kit.host.push_task(&kit.vendor, &user, &request);
    if t.elapsed() > deadline {
        return Err(format!("push_task took {:?}", t.elapsed()));
    }
    let detail = match pushed {
        Err(e @ PluginError::Adapter { .. }) if e.code() == ErrorCode::AdapterUnavailable => {
            format!("not offered: {}", super::truncate(&e.to_string(), 100))
        }
        Err(e) if e.code() == ErrorCode::InputMalformed => format!(
            "the vendor refuses the kit's user: {}",
            super::truncate(&e.to_string(), 100)
        ),
        Err(e) => return Err(format!("push_task: {}: {e}", e.code().as_str())),
        Ok(handle) => {
            if handle.is_empty() || handle.len() > 128 {
                return Err(format!("push_task returned a bad handle `{handle}`"));
            }
            let task = kit
                .host
                .poll_task(&kit.vendor, &handle)
                .map_err(|e| format!("poll_task({handle}): {}: {e}", e.code().as_str()))?;
            if !task.is_object() {
                return Err(format!("poll_task({handle}) is not a JSON object: {task}"));
            }
            if let Some(id) = task.get("id").and_then(serde_json::Value::as_str)
                && id != handle
            {
                return Err(format!("poll_task({handle}) names task `{id}`"));
            }
            let t = Instant::now();
            match kit.host.poll_task(&kit.vendor, "camr-tck-no-such-task") {
                Ok(v) => return Err(format!("a task nobody pushed was polled: {v}")),
                Err(e)
                    if ENDPOINT_CODES.contains(&e.code())
                        || e.code() == ErrorCode::InputMalformed =>
                {
                    if t.elapsed() > deadline {
                        return Err(format!("polling an unknown task took {:?}", t.elapsed()));
                    }
                }
                Err(e) => {
                    return Err(format!(
                        "polling an unknown task: unexpected {}: {e}",
                        e.code().as_str()
                    ));
                }
            }
            format!(
                "pushed {handle}, polled: {}",
                super::truncate(&task.to_string(), 80)
            )
        }
    };
    kit.host
        .probe(&kit.vendor)
        .map_err(|e| format!("the adapter no longer answers: {e}"))?;
    Ok(detail)
}
