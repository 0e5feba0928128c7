//! The OpenAPI 3.1 document of the HTTP API, generated from the code: served at
//! `GET /api/openapi.json` and checked in as `schemas/openapi.json`
//! (`camr-server --write-openapi schemas/openapi.json` writes it; `tests/openapi.rs` fails
//! when the checked-in file drifts from [`openapi_json`]).
//!
//! [`ROUTES`] is the one list of what the router serves, with what each route takes and
//! answers and the error codes it can answer with. Axum cannot list its routes, so
//! `tests/openapi.rs` keeps the list honest: every `.route("…", get(…).post(…))` in the
//! server's source must have its entry here and every entry must be served by the live
//! router (a request to it does not reach the `no such endpoint` fallback); JSON answers seen
//! there must fit the documented schemas and error codes. **A new route needs a [`RouteDoc`]
//! here**, then `camr-server --write-openapi schemas/openapi.json`.
//!
//! The schemas are the types' own `schemars` schemas (JSON Schema 2020-12, the dialect of
//! OpenAPI 3.1), collected under `#/components/schemas/`. Answers describe what the server
//! *writes* (serialize contract), request bodies what it *reads* (deserialize contract); a
//! type whose two schemas differ appears twice, the request form named `…Input`. JSON answers
//! are wrapped in the result envelope `ApiResult` (`{code, success, data, msg, errorCode}`);
//! failures are `ApiError` (the envelope with `success: false` and an `ErrorCode`), one
//! response per HTTP status listing the codes the route can answer with.
//!
//! Why not `aide` (the usual axum + schemars generator): its stable 0.15 is built on schemars
//! 0.9 while the workspace is on schemars 1 (whose schemas the SDK checks in under
//! `schemas/`), and the aide release that moves to schemars 1 (0.16) is still alpha. It would
//! also replace every `.route(…)` with its own routing calls in files others edit. The document
//! is small enough to build here from schemars 1 directly.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use camr::ceremony::{EncryptResult, MessageSignatureResult, RevokeResult, SignResult};
use camr::protocol::{ApiResult, ErrorCode, SignedRequest, Tid, Transaction};
use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde_json::{Map, Value, json};

use crate::api::{AnsweredOut, DecryptOut, StartBody, StartedOut};
use crate::files::{DigestOut, VerifyBody};

/// Where component schemas live.
pub const COMPONENTS: &str = "#/components/schemas/";

/// An HTTP method of a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Method {
    /// GET.
    Get,
    /// POST.
    Post,
    /// PUT.
    Put,
    /// PATCH.
    Patch,
    /// DELETE.
    Delete,
}

impl Method {
    /// Every method, for the tests' probes.
    pub const ALL: &'static [Method] = &[
        Method::Get,
        Method::Post,
        Method::Put,
        Method::Patch,
        Method::Delete,
    ];

    /// The HTTP name (`GET`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
        }
    }

    /// The key of the operation in an OpenAPI path item (`get`).
    pub fn key(self) -> &'static str {
        match self {
            Self::Get => "get",
            Self::Post => "post",
            Self::Put => "put",
            Self::Patch => "patch",
            Self::Delete => "delete",
        }
    }
}

/// Makes a schema (usually a `$ref` to a component) with a generator.
pub type SchemaFn = fn(&mut SchemaGenerator) -> Schema;

/// The schema of `T` as a [`SchemaFn`].
pub const fn schema<T: JsonSchema>() -> SchemaFn {
    SchemaGenerator::subschema_for::<T>
}

/// What a route reads from the request body.
#[derive(Debug, Clone, Copy)]
pub enum Body {
    /// Nothing.
    None,
    /// JSON of this schema (`application/json`; `INPUT_MALFORMED` 400/413/415 otherwise).
    Json(SchemaFn),
    /// A file's raw bytes (`application/octet-stream`), streamed to disk up to the upload
    /// limit (`INPUT_MALFORMED` 413 past it, 415 for JSON or form bodies).
    Upload(&'static str),
}

/// What a route answers on success.
#[derive(Debug, Clone, Copy)]
pub enum Answer {
    /// The result envelope (`ApiResult`, `application/json`) with `data` of this schema.
    Data(SchemaFn),
    /// A JSON document of this schema, not in the envelope.
    Json(SchemaFn, &'static str),
    /// Another media type: (type, what it is).
    Media(&'static str, &'static str),
}

/// A query parameter (a string).
#[derive(Debug, Clone, Copy)]
pub struct QueryParam {
    /// Its name.
    pub name: &'static str,
    /// What it is.
    pub description: &'static str,
    /// Whether it must be given.
    pub required: bool,
}

/// An error a route can answer with: the code, at its default HTTP status unless `status`
/// says otherwise.
#[derive(Debug, Clone, Copy)]
pub struct ErrorDoc {
    /// The code.
    pub code: ErrorCode,
    /// The HTTP status when not the code's default.
    pub status: Option<u16>,
}

/// `code` at its default HTTP status.
pub const fn e(code: ErrorCode) -> ErrorDoc {
    ErrorDoc { code, status: None }
}

/// `code` at HTTP `status`.
pub const fn at(status: u16, code: ErrorCode) -> ErrorDoc {
    ErrorDoc {
        code,
        status: Some(status),
    }
}

impl ErrorDoc {
    /// The HTTP status it is answered with.
    pub fn http_status(&self) -> u16 {
        self.status
            .unwrap_or_else(|| self.code.default_http_status())
    }
}

/// One route of the router, as documented.
#[derive(Debug, Clone, Copy)]
pub struct RouteDoc {
    /// The method.
    pub method: Method,
    /// The path template as given to `.route(…)` (`{tid}` for a path parameter).
    pub path: &'static str,
    /// A unique camelCase id.
    pub operation_id: &'static str,
    /// One line, English with the Chinese term where the domain has one.
    pub summary: &'static str,
    /// Tags (see [`TAGS`]).
    pub tags: &'static [&'static str],
    /// Query parameters.
    pub query: &'static [QueryParam],
    /// The request body.
    pub body: Body,
    /// The success answer.
    pub answer: Answer,
    /// Error codes it can answer with, besides those every route of its kind can
    /// ([`RouteDoc::all_errors`]).
    pub errors: &'static [ErrorDoc],
}

impl RouteDoc {
    /// Every error the route can answer with: its own, `TID_INVALID` for a `{tid}` in the
    /// path, `INPUT_MALFORMED` (400, 413, 415) for a body, and `INTERNAL`; sorted by status
    /// and code, without repeats.
    pub fn all_errors(&self) -> Vec<ErrorDoc> {
        let mut all: Vec<ErrorDoc> = self.errors.to_vec();
        if self.path.contains("{tid}") {
            all.push(e(ErrorCode::TidInvalid));
        }
        // Owned transactions (`crate::owner`): the owner credential or the admin token.
        if self.path.contains("{tid}")
            && crate::owner::OWNED.iter().any(|p| self.path.starts_with(p))
        {
            all.push(e(ErrorCode::TxNotOwner));
        }
        if self.path.starts_with("/api/v1/reports/") {
            all.push(e(ErrorCode::Unauthorized));
        }
        if crate::ops::LIMITED_ROUTES
            .iter()
            .any(|(m, p)| *p == self.path && self.method.as_str() == *m)
        {
            all.push(e(ErrorCode::RateLimited));
        }
        if !matches!(self.body, Body::None) {
            all.extend([
                e(ErrorCode::InputMalformed),
                at(413, ErrorCode::InputMalformed),
                at(415, ErrorCode::InputMalformed),
            ]);
        }
        all.push(e(ErrorCode::Internal));
        // Every route but the long-lived ones (the event stream, and the file routes of
        // `crate::files`: uploads, sealing, downloads) answers within the request timeout.
        let long_lived = self.path == "/api/v1/transactions/{tid}/events"
            || self.path.starts_with("/api/v1/bidfiles")
            || self.path.starts_with("/api/v1/files/")
            || self.path.starts_with("/api/v1/pdf/")
            || self.path.starts_with("/api/v1/hall")
            || self.path.starts_with("/api/v1/seal-sessions")
            || self.path == "/camr/v1/seal-session/wait"
            || self.path == "/api/v1/verify";
        if !long_lived {
            all.push(e(ErrorCode::RequestTimeout));
        }
        let mut seen = BTreeSet::new();
        all.retain(|d| seen.insert((d.http_status(), d.code.as_str())));
        all.sort_by_key(|d| (d.http_status(), d.code.as_str()));
        all
    }

    /// The path parameters, in order (`{tid}` → `tid`).
    pub fn path_params(&self) -> Vec<&'static str> {
        self.path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .collect()
    }
}

/// Path parameters: (name, description, schema).
pub const PATH_PARAMS: &[(&str, &str, SchemaFn)] = &[
    (
        "tid",
        "Transaction id (交易流水号): the system code followed by 32 lower-case hex digits.",
        schema::<Tid>(),
    ),
    ("page", "Page number, 1-based.", schema::<u32>()),
];

/// Tags: (name, description).
pub const TAGS: &[(&str, &str)] = &[
    (
        "transactions",
        "Transactions (交易) of the six operations, platform side: start, QR, status, result.",
    ),
    (
        "app",
        "What the CA vendor's mobile app calls after scanning: the request object and the answer.",
    ),
    (
        "files",
        "Bid files (投标文件) sealed and opened through the app, file signatures, signature checks (验签).",
    ),
    (
        "platform",
        "This platform: its facts, its adapters, this document.",
    ),
    ("health", "Liveness and readiness probes."),
    (
        "hall",
        "The bid-opening hall (不见面开标大厅): bids, sign-in (签到), decryption gated by the opening time and the sign-in.",
    ),
    (
        "operations",
        "Metrics, the usage report (扫码报告) and admin calls (see docs/server.md).",
    ),
    (
        "pages",
        "Server-rendered web pages (HTML, Chinese and English) and their script.",
    ),
    (
        "accounts",
        "Scan-bind and shared registration (扫码绑定, 共享注册): accounts bound to certificate holders, registration, staff approval.",
    ),
    (
        "interlink",
        "The interlink-compatible endpoint (中招互连 前置机): callbacks, QR content and queries by tid in the predecessor scheme's shapes (docs/interlink.md).",
    ),
];

const TX: &[&str] = &["transactions"];
const FILES: &[&str] = &["files"];
const PAGES: &[&str] = &["pages"];
const ACCOUNTS: &[&str] = &["accounts"];
const HALL: &[&str] = &["hall"];

const BID_QUERY: QueryParam = QueryParam {
    name: "bid",
    description: "The bid's id in the hall (`GET /api/v1/hall`).",
    required: true,
};

/// The errors of reading a live transaction's QR.
const QR_ERRORS: &[ErrorDoc] = &[
    e(ErrorCode::TxNotFound),
    e(ErrorCode::TxExpired),
    e(ErrorCode::TxCancelled),
    e(ErrorCode::TxAlreadyAnswered),
    e(ErrorCode::QrTooLarge),
];

/// The errors of a `finish_*` (reading a verified result).
const RESULT_ERRORS: &[ErrorDoc] = &[
    e(ErrorCode::InputMalformed),
    e(ErrorCode::TxNotFound),
    e(ErrorCode::TxPending),
    e(ErrorCode::TxRejected),
    e(ErrorCode::TxFailed),
    e(ErrorCode::TxExpired),
    e(ErrorCode::TxCancelled),
    e(ErrorCode::TxAlreadyAnswered),
    // A login whose holder's registration waits for staff (crate::accounts).
    e(ErrorCode::AccountPending),
];

const NAME_QUERY: QueryParam = QueryParam {
    name: "name",
    description: "The file's name, shown in the app and used for the download.",
    required: false,
};

const OPS: &[&str] = &["operations"];

const REPORT_QUERY: &[QueryParam] = &[
    QueryParam {
        name: "from",
        description: "First day, `YYYY-MM-DD` (UTC+08:00); default: 29 days before `to`.",
        required: false,
    },
    QueryParam {
        name: "to",
        description: "Last day, `YYYY-MM-DD` (UTC+08:00), included; default: today.",
        required: false,
    },
    QueryParam {
        name: "by",
        description: "Grouping: `day` (default), `system`, `cert`, `scene`; the CSV also `record` (one row per usage record).",
        required: false,
    },
];

/// An optional query parameter.
const fn q(name: &'static str, description: &'static str) -> QueryParam {
    QueryParam {
        name,
        description,
        required: false,
    }
}

const HASH_QUERY: QueryParam = QueryParam {
    name: "hash",
    description: "Hash algorithm (杂凑算法): `sm3` (default) or `sha256`.",
    required: false,
};

/// Every route the router serves.
pub const ROUTES: &[RouteDoc] = &[
    // Operations (crate::ops).
    RouteDoc {
        method: Method::Get,
        path: "/metrics",
        operation_id: "getMetrics",
        summary: "Prometheus metrics (text format 0.0.4): requests, transactions, rate limit, webhooks, adapters",
        tags: OPS,
        query: &[],
        body: Body::None,
        answer: Answer::Media(
            "text/plain; version=0.0.4; charset=utf-8",
            "Prometheus text exposition format 0.0.4.",
        ),
        errors: &[],
    },
    RouteDoc {
        method: Method::Get,
        path: "/api/v1/reports/usage",
        operation_id: "getUsageReport",
        summary: "Usage report (扫码报告): uses grouped by day, trading system, certificate or scene",
        tags: OPS,
        query: REPORT_QUERY,
        body: Body::None,
        answer: Answer::Data(schema::<crate::report::UsageReport>()),
        errors: &[e(ErrorCode::InputMalformed)],
    },
    RouteDoc {
        method: Method::Get,
        path: "/api/v1/reports/usage.csv",
        operation_id: "getUsageReportCsv",
        summary: "Usage report (扫码报告) as CSV (UTF-8 with BOM, RFC 4180): one row per group, or per record with `by=record`",
        tags: OPS,
        query: REPORT_QUERY,
        body: Body::None,
        answer: Answer::Media("text/csv; charset=utf-8", "The report as CSV."),
        errors: &[e(ErrorCode::InputMalformed)],
    },
    RouteDoc {
        method: Method::Post,
        path: "/api/v1/admin/adapters/reload",
        operation_id: "reloadAdapters",
        summary: "Re-scan the plugin folder (`Authorization: Bearer <admin token>`); answers the adapters' health",
        tags: OPS,
        query: &[],
        body: Body::None,
        answer: Answer::Data(schema::<Vec<camr_plugin_host::AdapterHealth>>()),
        errors: &[
            e(ErrorCode::Unauthorized),
            at(409, ErrorCode::AdapterUnavailable),
            e(ErrorCode::AdapterUnavailable),
        ],
    },
    RouteDoc {
        method: Method::Post,
        path: "/api/v1/admin/delegations/withdraw",
        operation_id: "withdrawDelegation",
        summary: "Withdraw (收回) a delegation of an organisation certificate (证书授权), by id or the signed delegation (`Authorization: Bearer <admin token>`); answers under it are refused with DELEGATION_OUT_OF_SCOPE",
        tags: OPS,
        query: &[],
        body: Body::Json(schema::<crate::scope::WithdrawBody>()),
        answer: Answer::Data(schema::<crate::scope::WithdrawnOut>()),
        errors: &[e(ErrorCode::Unauthorized), e(ErrorCode::InputMalformed)],
    },
    // Health.
    RouteDoc {
        method: Method::Get,
        path: "/healthz",
        operation_id: "healthz",
        summary: "Liveness: the process answers",
        tags: &["health"],
        query: &[],
        body: Body::None,
        answer: Answer::Data(health_data),
        errors: &[],
    },
    RouteDoc {
        method: Method::Get,
        path: "/readyz",
        operation_id: "readyz",
        summary: "Readiness: the transaction store answers (503 when it does not)",
        tags: &["health"],
        query: &[],
        body: Body::None,
        answer: Answer::Data(ready_data),
        errors: &[at(503, ErrorCode::Internal)],
    },
    // Platform.
    RouteDoc {
        method: Method::Get,
        path: "/api/v1/platform",
        operation_id: "getPlatform",
        summary: "Platform facts: system code (系统标识码), trading system name (交易系统名称), QR signing key, request and response URIs",
        tags: &["platform"],
        query: &[],
        body: Body::None,
        answer: Answer::Data(schema::<crate::PlatformInfo>()),
        errors: &[],
    },
    RouteDoc {
        method: Method::Get,
        path: "/api/v1/admin/adapters",
        operation_id: "listAdapters",
        summary: "CA-vendor adapters (适配器) loaded as plugins: health, counters, breaker state",
        tags: &["platform"],
        query: &[],
        body: Body::None,
        answer: Answer::Data(schema::<Vec<camr_plugin_host::AdapterHealth>>()),
        errors: &[],
    },
    RouteDoc {
        method: Method::Get,
        path: "/api/openapi.json",
        operation_id: "getOpenApi",
        summary: "This OpenAPI 3.1 document",
        tags: &["platform"],
        query: &[],
        body: Body::None,
        answer: Answer::Json(
            openapi_object,
            "The OpenAPI 3.1 document (not in the envelope).",
        ),
        errors: &[],
    },
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
            e(ErrorCode::UnsupportedAlgorithm),
            e(ErrorCode::RateLimited),
            e(ErrorCode::BidOpeningNotReached),
            e(ErrorCode::BidderNotSignedIn),
            e(ErrorCode::BidNotSubmitted),
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
        errors: &[e(ErrorCode::TxNotFound)],
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
        errors: QR_ERRORS,
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
        errors: QR_ERRORS,
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
        errors: QR_ERRORS,
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
        errors: RESULT_ERRORS,
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
        errors: &[
            e(ErrorCode::TxNotFound),
            e(ErrorCode::TxExpired),
            e(ErrorCode::TxCancelled),
            e(ErrorCode::TxAlreadyAnswered),
        ],
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
        errors: &[e(ErrorCode::TxNotFound)],
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
        errors: &[
            e(ErrorCode::InputMalformed),
            e(ErrorCode::TxNotFound),
            e(ErrorCode::TxExpired),
            e(ErrorCode::TxCancelled),
            e(ErrorCode::TxAlreadyAnswered),
            e(ErrorCode::QrMalformed),
            e(ErrorCode::QrSignatureInvalid),
            e(ErrorCode::QrStepStale),
        ],
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
            e(ErrorCode::TidInvalid),
            e(ErrorCode::TxNotFound),
            e(ErrorCode::TxExpired),
            e(ErrorCode::TxCancelled),
            e(ErrorCode::TxAlreadyAnswered),
            e(ErrorCode::TidMismatch),
            e(ErrorCode::RequestHashMismatch),
            e(ErrorCode::AnswerVersionUnsupported),
            e(ErrorCode::QrProfileMismatch),
            e(ErrorCode::EncryptionCertMismatch),
            e(ErrorCode::SignatureInvalid),
            e(ErrorCode::DecryptionFailed),
            e(ErrorCode::UnsupportedAlgorithm),
            e(ErrorCode::KeyMalformed),
            e(ErrorCode::CertMalformed),
            e(ErrorCode::CertExpired),
            e(ErrorCode::CertNotYetValid),
            e(ErrorCode::CertRevoked),
            e(ErrorCode::CertFrozen),
            e(ErrorCode::CertUntrusted),
            e(ErrorCode::CertWrongUsage),
            e(ErrorCode::CertRevocationUnknown),
            e(ErrorCode::CertPathBudgetExceeded),
            e(ErrorCode::CertNotEntitled),
            e(ErrorCode::DelegationOutOfScope),
            e(ErrorCode::BidderNotSignedIn),
            e(ErrorCode::BidNotSubmitted),
            e(ErrorCode::AdapterUnavailable),
            e(ErrorCode::AdapterFailed),
            e(ErrorCode::AdapterTimeout),
        ],
    },
    // Files.
    RouteDoc {
        method: Method::Post,
        path: "/api/v1/bidfiles",
        operation_id: "sealBidFile",
        summary: "Bid file (投标文件): upload it → an encrypt transaction; once scanned, the file is sealed to the bidder's encryption certificate",
        tags: FILES,
        query: &[NAME_QUERY],
        body: Body::Upload("The bid file."),
        answer: Answer::Data(schema::<StartedOut>()),
        errors: &[],
    },
    RouteDoc {
        method: Method::Post,
        path: "/api/v1/bidfiles/open",
        operation_id: "openBidFile",
        summary: "Bid opening (开标): upload the sealed envelope → a decrypt transaction for its content key",
        tags: FILES,
        query: &[NAME_QUERY],
        body: Body::Upload("The sealed envelope (`.camrbid`)."),
        answer: Answer::Data(schema::<StartedOut>()),
        errors: &[
            e(ErrorCode::EnvelopeMalformed),
            e(ErrorCode::UnsupportedAlgorithm),
            e(ErrorCode::BidOpeningNotReached),
            e(ErrorCode::BidderNotSignedIn),
            e(ErrorCode::BidNotSubmitted),
        ],
    },
    // The bid-opening hall (crate::hall).
    RouteDoc {
        method: Method::Get,
        path: "/api/v1/hall",
        operation_id: "getHall",
        summary: "Bid-opening hall (不见面开标大厅): project, opening time (开标时间), server time, the bids with their sign-ins (签到)",
        tags: HALL,
        query: &[],
        body: Body::None,
        answer: Answer::Data(schema::<crate::hall::HallView>()),
        errors: &[],
    },
    RouteDoc {
        method: Method::Post,
        path: "/api/v1/hall/bids",
        operation_id: "submitHallBid",
        summary: "Submit a sealed bid (递交投标文件) to the opening; the digests of its content keys say which decrypts are its, the encrypt transaction that made it (encryptTid) binds it to its holder",
        tags: HALL,
        query: &[
            NAME_QUERY,
            QueryParam {
                name: "encryptTid",
                description: "The encrypt transaction (扫码加密, the caller's own: owner credential) whose encryption certificate the bid is sealed to; only its holder may then sign in for the bid.",
                required: false,
            },
        ],
        body: Body::Upload("The sealed envelope (`.camrbid`)."),
        answer: Answer::Data(schema::<crate::hall::Bid>()),
        errors: &[
            e(ErrorCode::EnvelopeMalformed),
            e(ErrorCode::EnvelopeNoRecipient),
            e(ErrorCode::UnsupportedAlgorithm),
            e(ErrorCode::TidInvalid),
            e(ErrorCode::TxNotOwner),
            e(ErrorCode::TxNotFound),
            e(ErrorCode::TxPending),
            e(ErrorCode::BidExists),
        ],
    },
    RouteDoc {
        method: Method::Post,
        path: "/api/v1/hall/signin",
        operation_id: "signInToHall",
        summary: "Sign in (签到) for a bid: a login transaction; once verified, its holder is the bid's signed-in bidder",
        tags: HALL,
        query: &[BID_QUERY],
        body: Body::None,
        answer: Answer::Data(schema::<StartedOut>()),
        errors: &[e(ErrorCode::InputMalformed)],
    },
    RouteDoc {
        method: Method::Post,
        path: "/api/v1/hall/decrypt",
        operation_id: "decryptHallBid",
        summary: "Decrypt a bid (解密) — only once the opening time is reached and its bidder signed in (投标人已完成签到，开标时间已到); then open and download it through /api/v1/bidfiles/{tid}/work and /plain",
        tags: HALL,
        query: &[BID_QUERY],
        body: Body::None,
        answer: Answer::Data(schema::<StartedOut>()),
        errors: &[
            e(ErrorCode::InputMalformed),
            e(ErrorCode::BidOpeningNotReached),
            e(ErrorCode::BidderNotSignedIn),
            e(ErrorCode::BidNotSubmitted),
            e(ErrorCode::EnvelopeMalformed),
            e(ErrorCode::TxNotFound),
        ],
    },
    RouteDoc {
        method: Method::Get,
        path: "/api/v1/bidfiles/{tid}/envelope",
        operation_id: "getBidEnvelope",
        summary: "The sealed bid file (`NAME.camrbid`), once the app handed over the encryption certificate",
        tags: FILES,
        query: &[],
        body: Body::None,
        answer: Answer::Media(
            "application/octet-stream",
            "The envelope, as a download (`Content-Disposition`).",
        ),
        errors: &[
            e(ErrorCode::InputMalformed),
            e(ErrorCode::TxNotFound),
            e(ErrorCode::TxPending),
            e(ErrorCode::TxRejected),
            e(ErrorCode::TxFailed),
            e(ErrorCode::TxExpired),
            e(ErrorCode::TxCancelled),
            e(ErrorCode::TxAlreadyAnswered),
            e(ErrorCode::CertMalformed),
            e(ErrorCode::CertWrongUsage),
            e(ErrorCode::UnsupportedAlgorithm),
        ],
    },
    RouteDoc {
        method: Method::Get,
        path: "/api/v1/bidfiles/{tid}/plain",
        operation_id: "getBidPlain",
        summary: "The opened bid file, once the app unwrapped its key; handed out once",
        tags: FILES,
        query: &[],
        body: Body::None,
        answer: Answer::Media(
            "application/octet-stream",
            "The opened file, as a download (`Content-Disposition`).",
        ),
        errors: &[
            e(ErrorCode::InputMalformed),
            e(ErrorCode::TxNotFound),
            e(ErrorCode::TxPending),
            e(ErrorCode::TxRejected),
            e(ErrorCode::TxFailed),
            e(ErrorCode::TxExpired),
            e(ErrorCode::TxCancelled),
            e(ErrorCode::TxAlreadyAnswered),
            e(ErrorCode::DecryptionFailed),
            e(ErrorCode::EnvelopeMalformed),
            e(ErrorCode::EnvelopeNoRecipient),
        ],
    },
    RouteDoc {
        method: Method::Post,
        path: "/api/v1/bidfiles/{tid}/work",
        operation_id: "startBidFileWork",
        summary: "Seal (encrypt transaction) or open (decrypt transaction) the bid file in the background; then poll its progress",
        tags: FILES,
        query: &[],
        body: Body::None,
        answer: Answer::Data(schema::<crate::files::WorkStarted>()),
        errors: &[
            e(ErrorCode::InputMalformed),
            e(ErrorCode::TxNotFound),
            e(ErrorCode::TxPending),
            e(ErrorCode::TxExpired),
            e(ErrorCode::TxCancelled),
        ],
    },
    RouteDoc {
        method: Method::Get,
        path: "/api/v1/bidfiles/{tid}/progress",
        operation_id: "getBidFileProgress",
        summary: "Progress of sealing or opening a bid file (bytes done of total, finished, error)",
        tags: FILES,
        query: &[],
        body: Body::None,
        answer: Answer::Data(schema::<crate::files::JobProgress>()),
        errors: &[e(ErrorCode::TxNotFound)],
    },
    RouteDoc {
        method: Method::Post,
        path: "/api/v1/files/sign",
        operation_id: "signFile",
        summary: "File signature (文件签名): upload a file → a signature transaction over its hash",
        tags: FILES,
        query: &[NAME_QUERY, HASH_QUERY],
        body: Body::Upload("The file to sign."),
        answer: Answer::Data(schema::<StartedOut>()),
        errors: &[],
    },
    RouteDoc {
        method: Method::Post,
        path: "/api/v1/files/digest",
        operation_id: "digestFile",
        summary: "A file's digest (摘要), SM3 or SHA-256",
        tags: FILES,
        query: &[HASH_QUERY],
        body: Body::Upload("The file."),
        answer: Answer::Data(schema::<DigestOut>()),
        errors: &[],
    },
    RouteDoc {
        method: Method::Post,
        path: "/api/v1/verify",
        operation_id: "verifySignature",
        summary: "Verify a signature record (验签): a message or document hash, signature and certificate; the verdict is `data.verifySignatureResult`",
        tags: FILES,
        query: &[],
        body: Body::Json(schema::<VerifyBody>()),
        answer: Answer::Data(schema::<camr::ceremony::VerifySignatureData>()),
        errors: &[e(ErrorCode::CertMalformed), e(ErrorCode::KeyMalformed)],
    },
    // Interactive seal sessions (crate::sealsession).
    RouteDoc {
        method: Method::Post,
        path: "/api/v1/seal-sessions",
        operation_id: "startSealSession",
        summary: "Interactive seal session (签章会话): upload a PDF → the session's QR; the app authorises, then waits while seals are placed",
        tags: FILES,
        query: &[
            NAME_QUERY,
            q(
                "required",
                "Seal kinds the document needs before 完成签章 besides the platform's `seal_session.required` (which always apply), comma-separated (`official,legalRepresentative`).",
            ),
        ],
        body: Body::Upload("The PDF."),
        answer: Answer::Data(schema::<crate::sealsession::SessionStartedOut>()),
        errors: &[
            e(ErrorCode::PdfMalformed),
            e(ErrorCode::PdfEncrypted),
            e(ErrorCode::RateLimited),
        ],
    },
    RouteDoc {
        method: Method::Get,
        path: "/api/v1/seal-sessions/{tid}",
        operation_id: "getSealSession",
        summary: "A seal session: who authorised, seals applied, the step the phone signs, required kinds still missing",
        tags: FILES,
        query: &[],
        body: Body::None,
        answer: Answer::Data(schema::<crate::sealsession::SessionOut>()),
        errors: &[e(ErrorCode::TxNotFound)],
    },
    RouteDoc {
        method: Method::Get,
        path: "/api/v1/seal-sessions/{tid}/seals",
        operation_id: "listSessionSeals",
        summary: "The holder's seals (印章: 公章, 法人章, 财务专用章, 合同专用章, 人名章, 手写签名) from their CA's adapter, or the platform's default seal",
        tags: FILES,
        query: &[],
        body: Body::None,
        answer: Answer::Data(schema::<Vec<crate::sealsession::SealOut>>()),
        errors: &[
            e(ErrorCode::TxNotFound),
            e(ErrorCode::TxPending),
            e(ErrorCode::TxRejected),
            e(ErrorCode::TxExpired),
            e(ErrorCode::AdapterFailed),
            e(ErrorCode::AdapterTimeout),
        ],
    },
    RouteDoc {
        method: Method::Get,
        path: "/api/v1/seal-sessions/{tid}/pages/{page}/preview.png",
        operation_id: "previewSessionPage",
        summary: "A page of the session's document as it stands, 72 dpi (one pixel per point); header `x-camr-preview: rendered|blank`",
        tags: FILES,
        query: &[],
        body: Body::None,
        answer: Answer::Media("image/png", "The page."),
        errors: &[e(ErrorCode::TxNotFound), e(ErrorCode::InputMalformed)],
    },
    RouteDoc {
        method: Method::Post,
        path: "/api/v1/seal-sessions/{tid}/place",
        operation_id: "placeSessionSeal",
        summary: "Place one of the holder's seals (one page, selected pages 多页签章, or every page; x, y in points from the lower left) → a step the waiting phone signs",
        tags: FILES,
        query: &[],
        body: Body::Json(schema::<crate::sealsession::PlaceIn>()),
        answer: Answer::Data(schema::<crate::sealsession::PlacedOut>()),
        errors: &[
            e(ErrorCode::TxNotFound),
            e(ErrorCode::TxPending),
            e(ErrorCode::TxRejected),
            e(ErrorCode::TxExpired),
            e(ErrorCode::TxAlreadyAnswered),
            e(ErrorCode::SessionMismatch),
            e(ErrorCode::PdfMalformed),
            e(ErrorCode::PdfLocked),
            e(ErrorCode::AdapterFailed),
            e(ErrorCode::AdapterTimeout),
        ],
    },
    RouteDoc {
        method: Method::Post,
        path: "/api/v1/seal-sessions/{tid}/finish",
        operation_id: "finishSealSession",
        summary: "完成签章: end the session once every required seal kind is applied",
        tags: FILES,
        query: &[],
        body: Body::None,
        answer: Answer::Data(schema::<crate::sealsession::SessionOut>()),
        errors: &[
            e(ErrorCode::TxNotFound),
            e(ErrorCode::TxPending),
            e(ErrorCode::TxRejected),
            e(ErrorCode::TxExpired),
            e(ErrorCode::SealSetIncomplete),
        ],
    },
    RouteDoc {
        method: Method::Get,
        path: "/api/v1/seal-sessions/{tid}/document",
        operation_id: "getSessionDocument",
        summary: "The sealed PDF of a finished session",
        tags: FILES,
        query: &[],
        body: Body::None,
        answer: Answer::Media("application/pdf", "The PDF, as a download."),
        errors: &[e(ErrorCode::TxNotFound), e(ErrorCode::TxPending)],
    },
    RouteDoc {
        method: Method::Get,
        path: "/camr/v1/seal-session/wait",
        operation_id: "waitInSealSession",
        summary: "The app's wait in a seal session (手机等待画面): the next step — wait, sign (a session-bound signature request) or done",
        tags: &["app"],
        query: &[QueryParam {
            name: "tid",
            description: "The session's transaction.",
            required: true,
        }],
        body: Body::None,
        answer: Answer::Data(schema::<camr::protocol::SessionStep>()),
        errors: &[
            e(ErrorCode::TidInvalid),
            e(ErrorCode::InputMalformed),
            e(ErrorCode::TxNotFound),
            e(ErrorCode::TxPending),
            e(ErrorCode::TxRejected),
            e(ErrorCode::TxExpired),
        ],
    },
    // PDF seals (crate::pdfseal).
    RouteDoc {
        method: Method::Post,
        path: "/api/v1/pdf/seal",
        operation_id: "sealPdf",
        summary: "PDF seal (签章): upload a PDF and where the seal goes → a signature transaction; the app signs CAdES attributes over the byte-range digest",
        tags: FILES,
        query: &[
            NAME_QUERY,
            q("alg", "The signer's key: `sm2` (default), `rsa` or `p256`."),
            q("page", "Page number (1-based), with `x` and `y`."),
            q("x", "Left edge of the seal, points."),
            q("y", "Bottom edge of the seal, points."),
            q(
                "width",
                "Width and height of the seal, points (default 120).",
            ),
            q("everyPage", "`true`: the seal on every page (多页签章)."),
            q("straddle", "Straddle seal (骑缝章) over pages `FROM-TO`."),
            q(
                "keyword",
                "The seal on every occurrence of this text (关键字签章).",
            ),
            q("reason", "`/Reason` of the signature."),
        ],
        body: Body::Upload("The PDF."),
        answer: Answer::Data(schema::<StartedOut>()),
        errors: &[
            e(ErrorCode::PdfMalformed),
            e(ErrorCode::PdfEncrypted),
            e(ErrorCode::PdfLocked),
        ],
    },
    RouteDoc {
        method: Method::Post,
        path: "/api/v1/pdf/revoke",
        operation_id: "revokePdfSeal",
        summary: "Revoke a seal (撤章): upload the sealed PDF → a revokeSignature transaction; only the seal's signer may answer it",
        tags: FILES,
        query: &[
            NAME_QUERY,
            QueryParam {
                name: "field",
                description: "The seal's field name, as the verify report lists it (e.g. `Seal1`).",
                required: true,
            },
            q("reason", "Why (shown in the app, written as `/Reason`)."),
        ],
        body: Body::Upload("The sealed PDF."),
        answer: Answer::Data(schema::<StartedOut>()),
        errors: &[
            e(ErrorCode::PdfMalformed),
            e(ErrorCode::PdfEncrypted),
            e(ErrorCode::PdfLocked),
        ],
    },
    RouteDoc {
        method: Method::Get,
        path: "/api/v1/pdf/{tid}/sealed",
        operation_id: "getSealedPdf",
        summary: "The sealed (or revoked) PDF once the app answered, verified before it is handed out",
        tags: FILES,
        query: &[],
        body: Body::None,
        answer: Answer::Media("application/octet-stream", "The PDF, as a download."),
        errors: &[
            e(ErrorCode::TxNotFound),
            e(ErrorCode::TxPending),
            e(ErrorCode::TxRejected),
            e(ErrorCode::TxExpired),
            e(ErrorCode::TxCancelled),
            e(ErrorCode::TxFailed),
            e(ErrorCode::PdfRevokeDenied),
            e(ErrorCode::PdfSignatureTooLarge),
            e(ErrorCode::InputMalformed),
        ],
    },
    RouteDoc {
        method: Method::Get,
        path: "/api/v1/pdf/{tid}/report",
        operation_id: "getSealedPdfReport",
        summary: "The verify report of that PDF: every seal, its signer, chain, integrity, revocation (撤章)",
        tags: FILES,
        query: &[],
        body: Body::None,
        answer: Answer::Data(schema::<camr::seal::PdfReport>()),
        errors: &[
            e(ErrorCode::TxNotFound),
            e(ErrorCode::TxPending),
            e(ErrorCode::TxRejected),
            e(ErrorCode::TxExpired),
            e(ErrorCode::TxCancelled),
            e(ErrorCode::TxFailed),
            e(ErrorCode::PdfRevokeDenied),
            e(ErrorCode::InputMalformed),
        ],
    },
    RouteDoc {
        method: Method::Post,
        path: "/api/v1/pdf/verify",
        operation_id: "verifyPdf",
        summary: "Verify every seal of a PDF (验章), chains against the platform's roots; seals the named transactions recorded at their signing time (不影响已使用的签章数据)",
        tags: FILES,
        query: &[QueryParam {
            name: "tid",
            description: "Seal transactions of this platform (comma-separated) whose records are signing-time evidence.",
            required: false,
        }],
        body: Body::Upload("The PDF."),
        answer: Answer::Data(schema::<camr::seal::PdfReport>()),
        errors: &[
            e(ErrorCode::PdfMalformed),
            e(ErrorCode::PdfEncrypted),
            e(ErrorCode::TidInvalid),
            e(ErrorCode::TxNotFound),
            e(ErrorCode::TxPending),
            e(ErrorCode::AuditBroken),
        ],
    },
    // Certificate status and signing-time validity (crate::revocation).
    RouteDoc {
        method: Method::Post,
        path: "/api/v1/admin/crls/reload",
        operation_id: "reloadCrls",
        summary: "Re-read the CRLs (`Authorization: Bearer <admin token>`): certificates frozen (冻结), unfrozen (解冻) or revoked since start-up count from now; answers the CRLs in use",
        tags: OPS,
        query: &[],
        body: Body::None,
        answer: Answer::Data(schema::<Vec<crate::revocation::CrlInfo>>()),
        errors: &[e(ErrorCode::Unauthorized), e(ErrorCode::CertMalformed)],
    },
    RouteDoc {
        method: Method::Get,
        path: "/api/v1/transactions/{tid}/verification",
        operation_id: "verifyRecord",
        summary: "Re-verify the signatures a verified transaction recorded at its signing time (the audit log's record), with the CRLs known now (不影响已使用的签章数据)",
        tags: TX,
        query: &[],
        body: Body::None,
        answer: Answer::Data(schema::<crate::revocation::RecordVerification>()),
        errors: &[
            e(ErrorCode::TxNotFound),
            e(ErrorCode::TxPending),
            e(ErrorCode::AuditBroken),
            e(ErrorCode::InputMalformed),
        ],
    },
    // Pages.
    RouteDoc {
        method: Method::Get,
        path: "/",
        operation_id: "loginPage",
        summary: "QR login page (扫码登录): a login transaction per view, the QR refreshed each second",
        tags: PAGES,
        query: &[],
        body: Body::None,
        answer: Answer::Media("text/html", "The page."),
        errors: &[],
    },
    RouteDoc {
        method: Method::Get,
        path: "/sign",
        operation_id: "signPage",
        summary: "Sign a message or a file (签名) page",
        tags: PAGES,
        query: &[],
        body: Body::None,
        answer: Answer::Media("text/html", "The page."),
        errors: &[],
    },
    RouteDoc {
        method: Method::Get,
        path: "/bidfile",
        operation_id: "bidFilePage",
        summary: "Bid file (投标文件) and bid opening (开标) page",
        tags: PAGES,
        query: &[],
        body: Body::None,
        answer: Answer::Media("text/html", "The page."),
        errors: &[],
    },
    RouteDoc {
        method: Method::Get,
        path: "/seal",
        operation_id: "sealPage",
        summary: "Interactive seal page (签章会话): scan once, drag seals onto the page preview, the waiting phone signs each (连续签章, 多页签章), 完成签章",
        tags: PAGES,
        query: &[],
        body: Body::None,
        answer: Answer::Media("text/html", "The page."),
        errors: &[],
    },
    RouteDoc {
        method: Method::Get,
        path: "/hall",
        operation_id: "hallPage",
        summary: "Bid-opening hall page (不见面开标大厅): countdown, sign-in (签到), decryption per bid",
        tags: PAGES,
        query: &[],
        body: Body::None,
        answer: Answer::Media("text/html", "The page."),
        errors: &[],
    },
    RouteDoc {
        method: Method::Get,
        path: "/verify",
        operation_id: "verifyPage",
        summary: "Verify a signature record (验签) page",
        tags: PAGES,
        query: &[],
        body: Body::None,
        answer: Answer::Media("text/html", "The page."),
        errors: &[],
    },
    RouteDoc {
        method: Method::Get,
        path: "/report",
        operation_id: "reportPage",
        summary: "Scan report (扫码报告) page",
        tags: PAGES,
        query: &[],
        body: Body::None,
        answer: Answer::Media("text/html", "The page."),
        errors: &[],
    },
    RouteDoc {
        method: Method::Get,
        path: "/admin",
        operation_id: "adminPage",
        summary: "Administration (管理) page: adapters, their health and breaker state",
        tags: PAGES,
        query: &[],
        body: Body::None,
        answer: Answer::Media("text/html", "The page."),
        errors: &[],
    },
    RouteDoc {
        method: Method::Get,
        path: "/register",
        operation_id: "registerPage",
        summary: "Registration page (主体注册) after a login of an unknown certificate: the certificate's identity and the shared registration data (共享注册), prefilled",
        tags: PAGES,
        query: &[QueryParam {
            name: "tid",
            description: "The verified login.",
            required: true,
        }],
        body: Body::None,
        answer: Answer::Media("text/html", "The page."),
        errors: &[],
    },
    RouteDoc {
        method: Method::Get,
        path: "/admin/accounts",
        operation_id: "accountsPage",
        summary: "Registrations page (注册审核): pending registrations with approve/refuse buttons (admin token)",
        tags: PAGES,
        query: &[],
        body: Body::None,
        answer: Answer::Media("text/html", "The page."),
        errors: &[],
    },
    // Scan-bind and shared registration (crate::accounts).
    RouteDoc {
        method: Method::Get,
        path: "/api/v1/registrations/{tid}",
        operation_id: "getRegistrationForm",
        summary: "The registration form (主体注册) of a verified login whose holder has no account: the certificate's identity and the registration data the holder shared (共享注册)",
        tags: ACCOUNTS,
        query: &[],
        body: Body::None,
        answer: Answer::Data(schema::<crate::accounts::RegistrationForm>()),
        errors: &[
            e(ErrorCode::InputMalformed),
            e(ErrorCode::TxNotFound),
            e(ErrorCode::TxPending),
            e(ErrorCode::TxRejected),
            e(ErrorCode::TxFailed),
            e(ErrorCode::TxExpired),
            e(ErrorCode::TxCancelled),
            e(ErrorCode::AccountPending),
            e(ErrorCode::AccountExists),
        ],
    },
    RouteDoc {
        method: Method::Post,
        path: "/api/v1/registrations",
        operation_id: "register",
        summary: "Register (扫码绑定): an account for the holder of a verified login, active at once or pending staff approval (`registration.approval`)",
        tags: ACCOUNTS,
        query: &[],
        body: Body::Json(schema::<crate::accounts::RegisterBody>()),
        answer: Answer::Data(schema::<camr::store::Account>()),
        errors: &[
            e(ErrorCode::TidInvalid),
            e(ErrorCode::InputMalformed),
            e(ErrorCode::TxNotFound),
            e(ErrorCode::TxPending),
            e(ErrorCode::TxRejected),
            e(ErrorCode::TxFailed),
            e(ErrorCode::TxExpired),
            e(ErrorCode::TxCancelled),
            e(ErrorCode::AccountPending),
            e(ErrorCode::AccountExists),
        ],
    },
    RouteDoc {
        method: Method::Get,
        path: "/api/v1/admin/accounts",
        operation_id: "listAccounts",
        summary: "Accounts, e.g. the registrations waiting for approval (`Authorization: Bearer <admin token>`)",
        tags: ACCOUNTS,
        query: &[QueryParam {
            name: "status",
            description: "`pending`, `active` or `refused`; all when absent.",
            required: false,
        }],
        body: Body::None,
        answer: Answer::Data(schema::<Vec<camr::store::Account>>()),
        errors: &[e(ErrorCode::Unauthorized), e(ErrorCode::InputMalformed)],
    },
    RouteDoc {
        method: Method::Post,
        path: "/api/v1/admin/accounts/decide",
        operation_id: "decideAccount",
        summary: "Approve or refuse a pending registration (平台后台审核, `Authorization: Bearer <admin token>`)",
        tags: ACCOUNTS,
        query: &[],
        body: Body::Json(schema::<crate::accounts::DecideBody>()),
        answer: Answer::Data(schema::<camr::store::Account>()),
        errors: &[
            e(ErrorCode::Unauthorized),
            e(ErrorCode::AccountNotFound),
            e(ErrorCode::AccountExists),
        ],
    },
    RouteDoc {
        method: Method::Get,
        path: "/static/camr.js",
        operation_id: "pagesScript",
        summary: "The pages' shared script",
        tags: PAGES,
        query: &[],
        body: Body::None,
        answer: Answer::Media("text/javascript", "The script."),
        errors: &[],
    },
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

const INTERLINK: &[&str] = &["interlink"];
const INTERLINK_TID: QueryParam = q(
    "tId",
    "The transaction (交易流水号): platform code + 32 lower-case hex digits.",
);
const INTERLINK_PLATFORM: QueryParam = q(
    "platformCode",
    "The platform's code (系统标识码); when given it must be this platform's.",
);

fn health_data(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "properties": { "status": { "const": "ok" } },
        "required": ["status"],
        "additionalProperties": false,
    })
}

fn ready_data(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "properties": {
            "status": { "const": "ready" },
            "store": {
                "description": "The transaction store in use (`memory`, `sqlite`, `postgres`).",
                "type": "string",
            },
        },
        "required": ["status", "store"],
        "additionalProperties": false,
    })
}

fn openapi_object(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "properties": { "openapi": { "type": "string", "pattern": "^3\\.1\\." } },
        "required": ["openapi", "info", "paths"],
    })
}

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

fn settings() -> SchemaSettings {
    SchemaSettings::draft2020_12().with(|s| {
        s.definitions_path = COMPONENTS.into();
        s.meta_schema = None;
    })
}

fn reference(name: &str) -> Value {
    json!({ "$ref": format!("{COMPONENTS}{name}") })
}

/// Replaces `$ref`s to renamed components, everywhere in `v`.
fn rename_refs(v: &mut Value, renames: &BTreeMap<String, String>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map.iter_mut() {
                if k == "$ref" {
                    if let Some(new) = child
                        .as_str()
                        .and_then(|r| r.strip_prefix(COMPONENTS))
                        .and_then(|name| renames.get(name))
                    {
                        *child = Value::String(format!("{COMPONENTS}{new}"));
                    }
                } else {
                    rename_refs(child, renames);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| rename_refs(i, renames)),
        _ => {}
    }
}

/// The component name a `$ref` schema points at.
fn ref_name(schema: &Schema) -> Option<String> {
    schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix(COMPONENTS))
        .map(str::to_string)
}

/// `code` → its description, from the `ErrorCode` schema.
fn error_descriptions(error_code_schema: Option<&Value>) -> BTreeMap<String, String> {
    error_code_schema
        .and_then(|s| s.get("oneOf"))
        .and_then(Value::as_array)
        .map(|variants| {
            variants
                .iter()
                .filter_map(|v| {
                    Some((
                        v.get("const")?.as_str()?.to_string(),
                        v.get("description")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The schemas one route refers to, before components are merged.
struct Schemas {
    body: Option<Value>,
    answer: Option<Value>,
    params: Vec<(&'static str, &'static str, Value)>,
}

fn media_content(media: &str, schema: Value) -> Value {
    json!({ media: { "schema": schema } })
}

/// The OpenAPI 3.1 document of [`ROUTES`].
pub fn openapi() -> Value {
    let mut out = settings().for_serialize().into_generator();
    let mut inp = settings().for_deserialize().into_generator();
    let envelope = ref_name(&out.subschema_for::<ApiResult<Value>>())
        .unwrap_or_else(|| "ApiResult".to_string());
    out.subschema_for::<ErrorCode>();

    let per_route: Vec<Schemas> = ROUTES
        .iter()
        .map(|r| Schemas {
            body: match r.body {
                Body::Json(f) => Some(f(&mut inp).to_value()),
                Body::None | Body::Upload(_) => None,
            },
            answer: match r.answer {
                Answer::Data(f) | Answer::Json(f, _) => Some(f(&mut out).to_value()),
                Answer::Media(..) => None,
            },
            params: r
                .path_params()
                .into_iter()
                .map(|p| {
                    let found = PATH_PARAMS.iter().find(|(name, ..)| *name == p);
                    let description = found.map(|(_, d, _)| *d).unwrap_or_default();
                    let schema = found
                        .map(|(_, _, f)| f(&mut out).to_value())
                        .unwrap_or_else(|| json!({ "type": "string" }));
                    (p, description, schema)
                })
                .collect(),
        })
        .collect();

    // Components: the answers' schemas, then the request forms that differ from them
    // (renamed `…Input`, with the references among them renamed too).
    let mut components = out.take_definitions(true);
    let inputs = inp.take_definitions(true);
    let mut renames: BTreeMap<String, String> = BTreeMap::new();
    loop {
        let before = renames.len();
        for (name, schema) in &inputs {
            if renames.contains_key(name) {
                continue;
            }
            let mut s = schema.clone();
            rename_refs(&mut s, &renames);
            if components.get(name).is_some_and(|o| *o != s) {
                renames.insert(name.clone(), format!("{name}Input"));
            }
        }
        if renames.len() == before {
            break;
        }
    }
    for (name, mut schema) in inputs {
        rename_refs(&mut schema, &renames);
        let name = renames.get(&name).cloned().unwrap_or(name);
        components.entry(name).or_insert(schema);
    }
    let codes = error_descriptions(components.get("ErrorCode"));
    components.insert(
        "ApiError".to_string(),
        json!({
            "description": "A failed call: the result envelope with `success: false`, \
                `data: null`, the stable error code in `errorCode` and a sentence in `msg`; \
                `code` is the HTTP status.",
            "allOf": [reference(&envelope)],
            "properties": {
                "success": { "const": false },
                "data": { "type": "null" },
                "errorCode": reference("ErrorCode"),
            },
        }),
    );

    let mut paths = Map::new();
    for (route, mut schemas) in ROUTES.iter().zip(per_route) {
        if let Some(body) = schemas.body.as_mut() {
            rename_refs(body, &renames);
        }
        let item = paths
            .entry(route.path.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(item) = item {
            item.insert(
                route.method.key().to_string(),
                operation(route, schemas, &envelope, &codes),
            );
        }
    }

    json!({
        "openapi": "3.1.1",
        "info": {
            "title": "camr-server",
            "version": env!("CARGO_PKG_VERSION"),
            "summary": "Reference e-tendering platform (交易平台) server of camr: national CA mutual recognition (全国 CA 互认)",
            "description": "The HTTP API of the reference platform server: the six operations as \
                transactions shown as interop QR codes (互认二维码), the endpoints the CA vendors' \
                apps call, bid files and signatures, pages.\n\n\
                Every JSON answer is the result envelope `ApiResult` \
                (`{code, success, data, msg, errorCode}`); failures carry a stable `errorCode` \
                (`ErrorCode`) and its HTTP status. A path that is not served answers 404 with \
                `INPUT_MALFORMED` (`no such endpoint`); a served path asked with another method \
                answers 405.\n\n\
                Generated from the code (`examples/server/src/openapi.rs`); checked in as \
                `schemas/openapi.json`.",
            "license": { "name": "Apache-2.0", "identifier": "Apache-2.0" },
        },
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "tags": TAGS
            .iter()
            .map(|(name, description)| json!({ "name": name, "description": description }))
            .collect::<Vec<_>>(),
        "paths": paths,
        "components": { "schemas": components },
    })
}

fn operation(
    route: &RouteDoc,
    schemas: Schemas,
    envelope: &str,
    codes: &BTreeMap<String, String>,
) -> Value {
    let mut parameters: Vec<Value> = schemas
        .params
        .into_iter()
        .map(|(name, description, schema)| {
            json!({
                "name": name,
                "in": "path",
                "required": true,
                "description": description,
                "schema": schema,
            })
        })
        .collect();
    parameters.extend(route.query.iter().map(|q| {
        json!({
            "name": q.name,
            "in": "query",
            "required": q.required,
            "description": q.description,
            "schema": { "type": "string" },
        })
    }));

    let mut responses = Map::new();
    let success = match (route.answer, schemas.answer) {
        (Answer::Data(_), Some(data)) => json!({
            "description": "Success: the result envelope with `success: true` and `data`.",
            "content": media_content("application/json", json!({
                "allOf": [reference(envelope)],
                "properties": { "success": { "const": true }, "data": data },
            })),
        }),
        (Answer::Json(_, description), Some(schema)) => json!({
            "description": description,
            "content": media_content("application/json", schema),
        }),
        (Answer::Media(media, description), _) => json!({
            "description": description,
            "content": media_content(media, json!({
                "type": "string",
                "contentMediaType": media,
            })),
        }),
        _ => json!({ "description": "Success." }),
    };
    responses.insert("200".to_string(), success);

    let mut by_status: BTreeMap<u16, Vec<&'static str>> = BTreeMap::new();
    for err in route.all_errors() {
        by_status
            .entry(err.http_status())
            .or_default()
            .push(err.code.as_str());
    }
    for (status, list) in by_status {
        let description = list
            .iter()
            .map(|c| match codes.get(*c) {
                Some(d) if !d.is_empty() => format!("`{c}`: {d}"),
                _ => format!("`{c}`"),
            })
            .collect::<Vec<_>>()
            .join("\n\n");
        responses.insert(
            status.to_string(),
            json!({
                "description": description,
                "content": media_content("application/json", json!({
                    "allOf": [reference("ApiError")],
                    "properties": { "errorCode": { "enum": list } },
                })),
            }),
        );
    }

    let mut op = json!({
        "operationId": route.operation_id,
        "summary": route.summary,
        "tags": route.tags,
        "responses": responses,
    });
    if let Value::Object(map) = &mut op {
        if !parameters.is_empty() {
            map.insert("parameters".to_string(), Value::Array(parameters));
        }
        match (route.body, schemas.body) {
            (Body::Json(_), Some(schema)) => {
                map.insert(
                    "requestBody".to_string(),
                    json!({
                        "required": true,
                        "content": media_content("application/json", schema),
                    }),
                );
            }
            (Body::Upload(description), _) => {
                map.insert(
                    "requestBody".to_string(),
                    json!({
                        "required": true,
                        "description": description,
                        "content": media_content("application/octet-stream", json!({
                            "type": "string",
                            "contentMediaType": "application/octet-stream",
                        })),
                    }),
                );
            }
            _ => {}
        }
    }
    op
}

/// `v` with every object's keys sorted (so the text does not depend on serde_json's map).
fn sorted(v: Value) -> Value {
    match v {
        Value::Object(map) => {
            let entries: BTreeMap<String, Value> =
                map.into_iter().map(|(k, v)| (k, sorted(v))).collect();
            Value::Object(entries.into_iter().collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

/// [`openapi`] as the text of `schemas/openapi.json`: pretty JSON, keys sorted, a final
/// newline.
pub fn openapi_json() -> String {
    let mut text = serde_json::to_string_pretty(&sorted(openapi())).unwrap_or_default();
    text.push('\n');
    text
}

/// `GET /api/openapi.json`.
pub async fn serve() -> Response {
    static DOC: OnceLock<String> = OnceLock::new();
    let mut r = DOC.get_or_init(openapi_json).clone().into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}
