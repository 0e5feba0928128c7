//! Operations, health, platform facts and certificate status: the routes of `crate::ops`,
//! `crate::revocation` and the platform's own.

use schemars::{Schema, SchemaGenerator, json_schema};

use camr::protocol::ErrorCode;

use super::errors::{ADMIN, TX_RECORD};
use super::{Answer, Body, Method, QueryParam, RouteDoc, at, e, schema};
use super::{OPS, TX};

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

/// The routes of this area, in [`ROUTES`](super::ROUTES) order.
pub(super) const ROUTES: &[RouteDoc] = &[
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
        errors: &[&[e(ErrorCode::InputMalformed)]],
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
        errors: &[&[e(ErrorCode::InputMalformed)]],
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
            ADMIN,
            &[
                at(409, ErrorCode::AdapterUnavailable),
                e(ErrorCode::AdapterUnavailable),
            ],
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
        errors: &[ADMIN, &[e(ErrorCode::InputMalformed)]],
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
        errors: &[&[at(503, ErrorCode::Internal)]],
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
        errors: &[ADMIN, &[e(ErrorCode::CertMalformed)]],
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
        errors: &[TX_RECORD, &[e(ErrorCode::InputMalformed)]],
    },
];

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
