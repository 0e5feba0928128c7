//! What the app shows and checks of a request: its lines for the user, the origin check and
//! the items the user refuses.

use super::*;

fn operation_label(op: Operation) -> &'static str {
    match op {
        Operation::Login => "注册登录 login",
        Operation::MessageSignature => "消息签名 message signature",
        Operation::Signature => "签章 signature",
        Operation::RevokeSignature => "撤章 revoke seal",
        Operation::Encrypt => "加密 hand over the encryption certificate",
        Operation::Decrypt => "解密 decrypt (bid opening)",
    }
}

/// What the request asks, as lines to show the user.
pub fn describe(request: &RequestObject, now: i64) -> Vec<String> {
    let mut out = vec![
        format!(
            "系统标识码 System code:      {}",
            request.system_code.as_str()
        ),
        format!("交易系统名称 Trading system: {}", request.system_name),
        format!(
            "操作 Operation:              {}",
            operation_label(request.operation)
        ),
        format!("交易号 Transaction:          {}", request.tid),
        format!(
            "有效期 Expires in:           {} s",
            (request.expires_at - now).max(0)
        ),
    ];
    if let Some(r) = &request.requires {
        let mut what = Vec::new();
        if let Some(t) = r.subject_type {
            what.push(subject_label(t).to_string());
        }
        if !r.ca_org_types.is_empty() {
            what.push(format!("CA {}", r.ca_org_types.join(", ")));
        }
        out.push(format!("要求 Requires:               {}", what.join("; ")));
    }
    match &request.payload {
        OperationPayload::Login { share_registration } => {
            if *share_registration {
                out.push("共享注册 The platform asks for shared registration data".into());
            }
        }
        OperationPayload::MessageSignature { message } => {
            out.push(format!("待签消息 Message to sign:    {message}"));
        }
        OperationPayload::Signature { items } => {
            out.push(format!("待签文件 Documents ({}):", items.len()));
            out.extend(items.iter().map(item_line));
        }
        OperationPayload::RevokeSignature {
            seal_id,
            document_name,
            reason,
            items,
        } => {
            out.push(format!("印章 Seal:                   {seal_id}"));
            out.push(format!("文件 Document:               {document_name}"));
            if let Some(r) = reason {
                out.push(format!("原因 Reason:                 {r}"));
            }
            out.extend(items.iter().map(item_line));
        }
        OperationPayload::Encrypt {} => {
            out.push("将提供加密证书 Your encryption certificate will be handed over".into());
        }
        OperationPayload::SealSession {
            document_name,
            pages,
            ..
        } => {
            out.push(format!(
                "签章会话 Seal session:       {document_name} ({pages} pages)"
            ));
            out.push(
                "  授权后手机进入等待画面，在电脑上选择印章并拖动到指定位置 — after you authorise, \
                 this phone waits and signs each seal you place on the PC page"
                    .into(),
            );
        }
        OperationPayload::Decrypt { items, .. } => {
            out.push(format!("待解密密钥 Keys to unwrap ({}):", items.len()));
            for i in items {
                out.push(format!(
                    "  - [{}] for encryption certificate SN {}",
                    i.id, i.recipient_cert_sn
                ));
            }
        }
    }
    out
}

/// One item to sign, as the app shows it: name, id, hash and, for a PDF seal (签章), that
/// the CAdES attributes over the document's byte-range digest are signed.
fn item_line(i: &camr::protocol::SignItem) -> String {
    let what = match i.format {
        camr::protocol::SignFormat::Hash => "",
        camr::protocol::SignFormat::CadesAttributes => " (PDF 签章 seal: CAdES)",
    };
    format!(
        "  - {} [{}] {:?} {}{what}",
        i.name,
        i.id,
        i.hash_algorithm,
        hex_of(&i.hash)
    )
}

fn hex_of(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Checks that answers go only to the origin the QR code named.
pub(crate) fn check_request(payload: &QrPayload, request: &RequestObject) -> Result<(), SimError> {
    // tid, operation, system code and expiry are checked by `App::fetch_request`.
    // Without the registry, answers go only to the origin the QR named.
    if origin_of(&request.response_uri)? != origin_of(&payload.request_uri)? {
        return Err(SimError::new(
            ErrorCode::PlatformUnknown,
            format!(
                "the response URI {} is not on the platform the QR named ({})",
                request.response_uri, payload.request_uri
            ),
        ));
    }
    Ok(())
}

/// The items to refuse (拒签): only in a signing batch, each naming one of its items, with a
/// reason.
pub(crate) fn item_refusals<'a>(
    request: &RequestObject,
    refuse: &'a [camr::protocol::ItemRejection],
) -> Result<&'a [camr::protocol::ItemRejection], SimError> {
    if refuse.is_empty() {
        return Ok(refuse);
    }
    let OperationPayload::Signature { items } = &request.payload else {
        return Err(SimError::new(
            ErrorCode::InputMalformed,
            format!(
                "items can be refused only in a signing batch (签章), not in a {}",
                request.operation
            ),
        ));
    };
    for r in refuse {
        if !items.iter().any(|i| i.id == r.item_id) {
            return Err(SimError::new(
                ErrorCode::InputMalformed,
                format!(
                    "the batch has no item `{}` (its items: {})",
                    r.item_id,
                    items
                        .iter()
                        .map(|i| i.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        if r.reason.trim().is_empty() {
            return Err(SimError::new(
                ErrorCode::InputMalformed,
                format!("refusing item `{}` needs a reason (拒签理由)", r.item_id),
            ));
        }
    }
    Ok(refuse)
}
