//! Transactions of the six operations (platform side) and the two calls of the app.

use camr::ceremony::{EncryptResult, MessageSignatureResult, RevokeResult, SignResult};
use camr::protocol::{SignedRequest, Transaction};
use schemars::{Schema, SchemaGenerator, json_schema};

use crate::api::{AnsweredOut, DecryptOut, StartBody, StartedOut};

use camr::protocol::ErrorCode;

use super::TX;
use super::errors::{
    ADAPTER, ANSWER_BINDING, BID_GATE, BIDDER, CERT_CHECKS, ENTITLEMENT, QR_SCANNED, QR_SHOWN,
    RESULT, SIGNATURE, TX_KNOWN, TX_OPEN,
};
use super::{Answer, Body, Method, QueryParam, RouteDoc, e, schema};

/// The routes of this area, in [`ROUTES`](super::ROUTES) order.
pub(super) const ROUTES: &[RouteDoc] = &[
    // Transactions.
    RouteDoc {
        method: Method::Post,
        path: "/api/v1/transactions",
        operation_id: "startTransaction",
        summary: "Start an operation — login (注册登录), message signature (消息签名), signature (签章), revoke seal (撤章), encrypt (加密), decrypt (解密) — and get its QR (互认二维码)",
        tags: TX,
        query: &[],
        body: Body::Json(schema::<StartBody>()),
        answer: Answer::Data(schema::<StartedOut>()),
        errors: &[
            BID_GATE,
            &[
                e(ErrorCode::UnsupportedAlgorithm),
                e(ErrorCode::RateLimited),
            ],
        ],
    },
    RouteDoc {
        method: Method::Get,
        path: "/api/v1/transactions/{tid}",
        operation_id: "getTransaction",
        summary: "Transaction status (交易状态)",
        tags: TX,
        query: &[],
        body: Body::None,
        answer: Answer::Data(schema::<Transaction>()),
        errors: &[TX_KNOWN],
    },
    RouteDoc {
        method: Method::Get,
        path: "/api/v1/transactions/{tid}/qr.svg",
        operation_id: "getQrSvg",
        summary: "The live transaction's QR code (二维码) as SVG, signed afresh",
        tags: TX,
        query: &[],
        body: Body::None,
        answer: Answer::Media("image/svg+xml", "The QR code, SVG."),
        errors: QR_SHOWN,
    },
    RouteDoc {
        method: Method::Get,
        path: "/api/v1/transactions/{tid}/qr.png",
        operation_id: "getQrPng",
        summary: "The live transaction's QR code (二维码) as PNG, signed afresh",
        tags: TX,
        query: &[],
        body: Body::None,
        answer: Answer::Media("image/png", "The QR code, PNG."),
        errors: QR_SHOWN,
    },
    RouteDoc {
        method: Method::Get,
        path: "/api/v1/transactions/{tid}/qr.txt",
        operation_id: "getQrText",
        summary: "The QR payload text (`camr1…`) shown now",
        tags: TX,
        query: &[],
        body: Body::None,
        answer: Answer::Media("text/plain", "The QR payload text, UTF-8."),
        errors: QR_SHOWN,
    },
    RouteDoc {
        method: Method::Get,
        path: "/api/v1/transactions/{tid}/result",
        operation_id: "getResult",
        summary: "The verified result (结果) of the operation; decrypt content keys are handed out once",
        tags: TX,
        query: &[],
        body: Body::None,
        answer: Answer::Data(result_data),
        errors: RESULT,
    },
    RouteDoc {
        method: Method::Post,
        path: "/api/v1/transactions/{tid}/cancel",
        operation_id: "cancelTransaction",
        summary: "Cancel (取消) a transaction that is not final; answers its status",
        tags: TX,
        query: &[],
        body: Body::None,
        answer: Answer::Data(schema::<Transaction>()),
        errors: &[TX_OPEN],
    },
    RouteDoc {
        method: Method::Get,
        path: "/api/v1/transactions/{tid}/events",
        operation_id: "streamTransactionEvents",
        summary: "Status changes as Server-Sent Events (事件流); ends after a final state",
        tags: TX,
        query: &[],
        body: Body::None,
        answer: Answer::Media(
            "text/event-stream",
            "Server-Sent Events: the current state at once, then one `state` event per change \
             (`data` = the Transaction as JSON, see `#/components/schemas/Transaction`); the \
             stream ends after a final state. Comment lines keep idle connections open.",
        ),
        errors: &[TX_KNOWN],
    },
    // App.
    RouteDoc {
        method: Method::Get,
        path: "/camr/v1/request/{tid}",
        operation_id: "getRequestObject",
        summary: "App: the platform-signed request object (请求对象) of a scanned QR code; marks the transaction scanned",
        tags: &["app"],
        query: &[
            QueryParam {
                name: "rot",
                description: "The rotating part of the scanned code, `STEP.MAC`; required when the platform shows rotating QR codes.",
                required: false,
            },
            QueryParam {
                name: "qr",
                description: "The QR profile (二维码类型) of the scanned code: `camr1` (national interop code, the default) or `vendor1` (the vendor app code, 厂商码).",
                required: false,
            },
        ],
        body: Body::None,
        answer: Answer::Data(schema::<SignedRequest>()),
        errors: &[TX_OPEN, QR_SCANNED, &[e(ErrorCode::InputMalformed)]],
    },
    RouteDoc {
        method: Method::Post,
        path: "/camr/v1/response",
        operation_id: "postResponse",
        summary: "App: the answer (应答) to a request object; the platform verifies it (through the vendor's adapter when plugins are loaded)",
        tags: &["app"],
        query: &[QueryParam {
            name: "qr",
            description: "The QR profile (二维码类型) the answer came through: `camr1` (national interop code, the default) or `vendor1` (the vendor app code, 厂商码, which alone takes platform-only certificates 本平台证书). It must be the answer's signed `qrProfile` (`QR_PROFILE_MISMATCH` otherwise).",
            required: false,
        }],
        body: Body::Json(schema::<camr::protocol::Response>()),
        answer: Answer::Data(schema::<AnsweredOut>()),
        errors: &[
            TX_OPEN,
            ANSWER_BINDING,
            SIGNATURE,
            CERT_CHECKS,
            ENTITLEMENT,
            BIDDER,
            ADAPTER,
        ],
    },
];

fn result_data(g: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "description": "By the transaction's operation: login → LoginOut (LoginResult and its account binding), messageSignature → \
            MessageSignatureResult, signature → SignResult, revokeSignature → RevokeResult, \
            encrypt → EncryptResult, decrypt → DecryptOut (the content keys, once).",
        "anyOf": [
            g.subschema_for::<crate::accounts::LoginOut>(),
            g.subschema_for::<MessageSignatureResult>(),
            g.subschema_for::<SignResult>(),
            g.subschema_for::<RevokeResult>(),
            g.subschema_for::<EncryptResult>(),
            g.subschema_for::<DecryptOut>(),
        ],
    })
}
