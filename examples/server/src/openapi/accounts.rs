//! Scan-bind and shared registration (扫码绑定, 共享注册: `crate::accounts`).

use camr::protocol::ErrorCode;

use super::errors::{ADMIN, REGISTRATION, TX_OUTCOME};
use super::{ACCOUNTS, PAGES};
use super::{Answer, Body, Method, QueryParam, RouteDoc, e, schema};

/// The routes of this area, in [`ROUTES`](super::ROUTES) order.
pub(super) const ROUTES: &[RouteDoc] = &[
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
        errors: &[TX_OUTCOME, REGISTRATION, &[e(ErrorCode::InputMalformed)]],
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
            TX_OUTCOME,
            REGISTRATION,
            &[e(ErrorCode::TidInvalid), e(ErrorCode::InputMalformed)],
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
        errors: &[ADMIN, &[e(ErrorCode::InputMalformed)]],
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
            ADMIN,
            &[e(ErrorCode::AccountNotFound), e(ErrorCode::AccountExists)],
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
];
