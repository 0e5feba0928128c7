//! The interlink-compatible endpoint (中招互连 前置机: `crate::interlink`, docs/interlink.md).

use super::{Answer, Body, Method, QueryParam, RouteDoc, q, schema};

const INTERLINK: &[&str] = &["interlink"];

const INTERLINK_TID: QueryParam = q(
    "tId",
    "The transaction (交易流水号): platform code + 32 lower-case hex digits.",
);
const INTERLINK_PLATFORM: QueryParam = q(
    "platformCode",
    "The platform's code (系统标识码); when given it must be this platform's.",
);

/// The routes of this area, in [`ROUTES`](super::ROUTES) order.
pub(super) const ROUTES: &[RouteDoc] = &[
    // The interlink-compatible endpoint (crate::interlink, docs/interlink.md).
    RouteDoc {
        method: Method::Post,
        path: "/interlink/receiveAppLogController/receiveScanData",
        operation_id: "interlinkReceiveScanData",
        summary: "Interlink callback (中招互连 前置机 回调): `{type 01|02|03|05|06, data{encrypt, desKey}, platformCode}` → `{header{ret, msg}, data: null}`; ret `1` with a message (and `errorCode`) on refusal",
        tags: INTERLINK,
        query: &[],
        body: Body::Json(schema::<camr::qr::interlink::Callback>()),
        answer: Answer::Json(
            schema::<crate::interlink::CallbackAnswer>(),
            "Always HTTP 200: `header.ret` `0` applied, `1` refused with `msg` and camr's `errorCode`.",
        ),
        errors: &[],
    },
    RouteDoc {
        method: Method::Get,
        path: "/interlink/sweepcodeController/getQRCodeContent",
        operation_id: "interlinkGetQrCodeContent",
        summary: "Interlink QR content (二维码内容): the request URL with a base64 query, for a transaction (`tId`) or a new login (`qRCodeType=02`) / encrypt (`05`)",
        tags: INTERLINK,
        query: &[
            INTERLINK_TID,
            INTERLINK_PLATFORM,
            q(
                "qRCodeType",
                "Without `tId`: `02` starts a login, `05` an encrypt.",
            ),
        ],
        body: Body::None,
        answer: Answer::Json(
            schema::<crate::interlink::QueryAnswer<crate::interlink::QrContentOut>>(),
            "Always HTTP 200: `header.returnCode` `0` with `data`, `1` with `msg`, `errorCode` and null `data`.",
        ),
        errors: &[],
    },
    RouteDoc {
        method: Method::Get,
        path: "/interlink/sweepcodeController/getScanInfo",
        operation_id: "interlinkGetScanInfo",
        summary: "Interlink query by tid (按 tId 查询): the transaction's state (isScaned) and the callbacks received for it",
        tags: INTERLINK,
        query: &[INTERLINK_TID, INTERLINK_PLATFORM],
        body: Body::None,
        answer: Answer::Json(
            schema::<crate::interlink::QueryAnswer<crate::interlink::ScanInfoOut>>(),
            "Always HTTP 200: `header.returnCode` `0` with `data`, `1` with `msg`, `errorCode` and null `data`.",
        ),
        errors: &[],
    },
    RouteDoc {
        method: Method::Get,
        path: "/interlink/sweepcodeController/getDecryptInfo",
        operation_id: "interlinkGetDecryptInfo",
        summary: "Interlink decrypt result (解密结果): a verified decrypt's content keys as `decryptStr`, handed out once",
        tags: INTERLINK,
        query: &[INTERLINK_TID, INTERLINK_PLATFORM],
        body: Body::None,
        answer: Answer::Json(
            schema::<crate::interlink::QueryAnswer<Vec<crate::interlink::DecryptInfoOut>>>(),
            "Always HTTP 200: `header.returnCode` `0` with the list (`size` entries), `1` with `msg`, `errorCode` and null `data`.",
        ),
        errors: &[],
    },
    RouteDoc {
        method: Method::Get,
        path: "/interlink/sweepcodeController/getEncryptKey",
        operation_id: "interlinkGetEncryptKey",
        summary: "The platform's SM2 encryption key that interlink callbacks wrap their SM4 key to (desKey)",
        tags: INTERLINK,
        query: &[],
        body: Body::None,
        answer: Answer::Json(
            schema::<crate::interlink::QueryAnswer<crate::interlink::EncryptKeyOut>>(),
            "Always HTTP 200: `header.returnCode` `0` with `data`.",
        ),
        errors: &[],
    },
];
