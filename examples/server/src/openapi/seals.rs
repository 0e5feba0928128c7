//! Interactive seal sessions (签章会话, `crate::sealsession`) and PDF seals (`crate::pdfseal`).

use crate::api::StartedOut;

use camr::protocol::ErrorCode;

use super::errors::{ADAPTER_CALL, PDF_IN, PDF_SEAL, TX_APPROVED, TX_KNOWN, TX_OUTCOME, TX_RECORD};
use super::{Answer, Body, Method, QueryParam, RouteDoc, e, q, schema};
use super::{FILES, NAME_QUERY};

/// The routes of this area, in [`ROUTES`](super::ROUTES) order.
pub(super) const ROUTES: &[RouteDoc] = &[
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
        errors: &[PDF_IN, &[e(ErrorCode::RateLimited)]],
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
        errors: &[TX_KNOWN],
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
        errors: &[TX_APPROVED, ADAPTER_CALL],
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
        errors: &[TX_KNOWN, &[e(ErrorCode::InputMalformed)]],
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
            TX_APPROVED,
            ADAPTER_CALL,
            &[
                e(ErrorCode::TxAlreadyAnswered),
                e(ErrorCode::SessionMismatch),
                e(ErrorCode::PdfMalformed),
                e(ErrorCode::PdfLocked),
            ],
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
        errors: &[TX_APPROVED, &[e(ErrorCode::SealSetIncomplete)]],
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
        errors: &[TX_KNOWN, &[e(ErrorCode::TxPending)]],
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
            TX_APPROVED,
            &[e(ErrorCode::TidInvalid), e(ErrorCode::InputMalformed)],
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
        errors: &[PDF_SEAL],
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
        errors: &[PDF_SEAL],
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
            TX_OUTCOME,
            &[
                e(ErrorCode::PdfRevokeDenied),
                e(ErrorCode::PdfSignatureTooLarge),
                e(ErrorCode::InputMalformed),
            ],
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
            TX_OUTCOME,
            &[e(ErrorCode::PdfRevokeDenied), e(ErrorCode::InputMalformed)],
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
        errors: &[PDF_IN, TX_RECORD, &[e(ErrorCode::TidInvalid)]],
    },
];
