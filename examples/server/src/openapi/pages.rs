//! The server-rendered pages (HTML, Chinese and English).

use super::PAGES;
use super::{Answer, Body, Method, QueryParam, RouteDoc};

/// The routes of this area, in [`ROUTES`](super::ROUTES) order.
pub(super) const ROUTES: &[RouteDoc] = &[
    // Pages.
    page(
        "/",
        "loginPage",
        "QR login page (扫码登录): a login transaction per view, the QR refreshed each second",
    ),
    page("/sign", "signPage", "Sign a message or a file (签名) page"),
    page(
        "/bidfile",
        "bidFilePage",
        "Bid file (投标文件) and bid opening (开标) page",
    ),
    page(
        "/seal",
        "sealPage",
        "Interactive seal page (签章会话): scan once, drag seals onto the page preview, the waiting phone signs each (连续签章, 多页签章), 完成签章",
    ),
    page(
        "/hall",
        "hallPage",
        "Bid-opening hall page (不见面开标大厅): countdown, sign-in (签到), decryption per bid",
    ),
    page(
        "/verify",
        "verifyPage",
        "Verify a signature record (验签) page",
    ),
    page("/report", "reportPage", "Scan report (扫码报告) page"),
    page(
        "/admin",
        "adminPage",
        "Administration (管理) page: adapters, their health and breaker state",
    ),
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
    page(
        "/admin/accounts",
        "accountsPage",
        "Registrations page (注册审核): pending registrations with approve/refuse buttons (admin token)",
    ),
];

/// A plain page: `GET`, no parameters, HTML.
const fn page(path: &'static str, operation_id: &'static str, summary: &'static str) -> RouteDoc {
    RouteDoc {
        method: Method::Get,
        path,
        operation_id,
        summary,
        tags: PAGES,
        query: &[],
        body: Body::None,
        answer: Answer::Media("text/html", "The page."),
        errors: &[],
    }
}
