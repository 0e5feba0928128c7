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
//!
//! The routes are written one module per area (`ops`, `transactions`, `files`, `seals`,
//! `pages`, `accounts`, `interlink`); the error codes they answer with come from the sets
//! named once in `errors` (a route lists sets and its own single codes). The document itself
//! is built in `document`.

mod accounts;
mod document;
mod errors;
mod files;
mod interlink;
mod ops;
mod pages;
mod seals;
mod transactions;

use std::collections::BTreeSet;

use camr::protocol::{ErrorCode, Tid};
use schemars::{JsonSchema, Schema, SchemaGenerator};

pub use document::{openapi, openapi_json, serve};

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

/// Error codes that go together (the checks one step runs), named once in `errors`.
pub type ErrorSet = &'static [ErrorDoc];

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
    /// Error codes it can answer with, as the sets of `errors` and its own single codes,
    /// besides those every route of its kind can ([`RouteDoc::all_errors`]).
    pub errors: &'static [ErrorSet],
}

impl RouteDoc {
    /// Every error the route can answer with: its own, `TID_INVALID` for a `{tid}` in the
    /// path, `INPUT_MALFORMED` (400, 413, 415) for a body, and `INTERNAL`; sorted by status
    /// and code, without repeats.
    pub fn all_errors(&self) -> Vec<ErrorDoc> {
        let mut all: Vec<ErrorDoc> = self
            .errors
            .iter()
            .flat_map(|set| set.iter().copied())
            .collect();
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
const OPS: &[&str] = &["operations"];

const NAME_QUERY: QueryParam = QueryParam {
    name: "name",
    description: "The file's name, shown in the app and used for the download.",
    required: false,
};

/// An optional query parameter.
const fn q(name: &'static str, description: &'static str) -> QueryParam {
    QueryParam {
        name,
        description,
        required: false,
    }
}

/// The route lists of the areas, in the order of [`ROUTES`].
const AREAS: &[&[RouteDoc]] = &[
    ops::ROUTES,
    transactions::ROUTES,
    files::ROUTES,
    seals::ROUTES,
    pages::ROUTES,
    accounts::ROUTES,
    interlink::ROUTES,
];

/// Every route the router serves.
pub const ROUTES: &[RouteDoc] = &concat::<{ count(AREAS) }>(AREAS);

const fn count(areas: &[&[RouteDoc]]) -> usize {
    let mut n = 0;
    let mut i = 0;
    while i < areas.len() {
        n += areas[i].len();
        i += 1;
    }
    n
}

/// The areas' lists as one array (a count that does not fit fails the build).
const fn concat<const N: usize>(areas: &[&[RouteDoc]]) -> [RouteDoc; N] {
    const BLANK: RouteDoc = RouteDoc {
        method: Method::Get,
        path: "",
        operation_id: "",
        summary: "",
        tags: &[],
        query: &[],
        body: Body::None,
        answer: Answer::Media("", ""),
        errors: &[],
    };
    let mut out = [BLANK; N];
    let mut n = 0;
    let mut i = 0;
    while i < areas.len() {
        let mut j = 0;
        while j < areas[i].len() {
            out[n] = areas[i][j];
            n += 1;
            j += 1;
        }
        i += 1;
    }
    out
}
