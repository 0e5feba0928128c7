//! Bid files (投标文件), file signatures and checks, and the bid-opening hall (不见面开标大厅).

use crate::api::StartedOut;
use crate::files::{DigestOut, VerifyBody};

use camr::protocol::ErrorCode;

use super::errors::{ADMIN, BID_GATE, ENVELOPE_IN, TX_KNOWN, TX_OPEN, TX_OUTCOME};
use super::{Answer, Body, Method, QueryParam, RouteDoc, e, schema};
use super::{FILES, HALL, NAME_QUERY};

const BID_QUERY: QueryParam = QueryParam {
    name: "bid",
    description: "The bid's id in the hall (`GET /api/v1/hall`).",
    required: true,
};

const TENDER_QUERY: QueryParam = QueryParam {
    name: "tender",
    description: "The tender (招标项目) by id (`GET /api/v1/hall/tenders`); the configured one (`hall.project`) when absent.",
    required: false,
};

const HASH_QUERY: QueryParam = QueryParam {
    name: "hash",
    description: "Hash algorithm (杂凑算法): `sm3` (default) or `sha256`.",
    required: false,
};

/// The routes of this area, in [`ROUTES`](super::ROUTES) order.
pub(super) const ROUTES: &[RouteDoc] = &[
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
            BID_GATE,
            &[
                e(ErrorCode::EnvelopeMalformed),
                e(ErrorCode::UnsupportedAlgorithm),
            ],
        ],
    },
    // The bid-opening hall (crate::hall).
    RouteDoc {
        method: Method::Get,
        path: "/api/v1/hall",
        operation_id: "getHall",
        summary: "Bid-opening hall (不见面开标大厅): a tender's project, opening time (开标时间), server time, the bids with their sign-ins (签到)",
        tags: HALL,
        query: &[TENDER_QUERY],
        body: Body::None,
        answer: Answer::Data(schema::<crate::hall::HallView>()),
        errors: &[&[e(ErrorCode::TenderNotFound)]],
    },
    RouteDoc {
        method: Method::Get,
        path: "/api/v1/hall/tenders",
        operation_id: "listTenders",
        summary: "The hall's tenders (招标项目), each with its opening time, and the configured default",
        tags: HALL,
        query: &[],
        body: Body::None,
        answer: Answer::Data(schema::<crate::hall::TendersOut>()),
        errors: &[],
    },
    RouteDoc {
        method: Method::Post,
        path: "/api/v1/hall/tenders",
        operation_id: "createTender",
        summary: "Add a tender (招标项目) with its opening time (`Authorization: Bearer <admin token>`); the same tender again changes nothing",
        tags: HALL,
        query: &[],
        body: Body::Json(schema::<crate::hall::Tender>()),
        answer: Answer::Data(schema::<crate::hall::Tender>()),
        errors: &[ADMIN, &[e(ErrorCode::TenderExists)]],
    },
    RouteDoc {
        method: Method::Post,
        path: "/api/v1/hall/bids",
        operation_id: "submitHallBid",
        summary: "Submit a sealed bid (递交投标文件) to the opening; the digests of its content keys say which decrypts are its, the encrypt transaction that made it (encryptTid) binds it to its holder",
        tags: HALL,
        query: &[
            NAME_QUERY,
            TENDER_QUERY,
            QueryParam {
                name: "encryptTid",
                description: "The encrypt transaction (扫码加密, the caller's own: owner credential) whose encryption certificate the bid is sealed to; only its holder may then sign in for the bid.",
                required: false,
            },
        ],
        body: Body::Upload("The sealed envelope (`.camrbid`)."),
        answer: Answer::Data(schema::<crate::hall::Bid>()),
        errors: &[
            ENVELOPE_IN,
            &[
                e(ErrorCode::UnsupportedAlgorithm),
                e(ErrorCode::TidInvalid),
                e(ErrorCode::TxNotOwner),
                e(ErrorCode::TxNotFound),
                e(ErrorCode::TxPending),
                e(ErrorCode::BidExists),
                e(ErrorCode::BidSubmissionClosed),
                e(ErrorCode::TenderNotFound),
            ],
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
        errors: &[&[e(ErrorCode::InputMalformed), e(ErrorCode::BidNotFound)]],
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
            BID_GATE,
            &[
                e(ErrorCode::InputMalformed),
                e(ErrorCode::BidNotFound),
                e(ErrorCode::EnvelopeMalformed),
                e(ErrorCode::TxNotFound),
            ],
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
            TX_OUTCOME,
            TX_OPEN,
            &[
                e(ErrorCode::InputMalformed),
                e(ErrorCode::CertMalformed),
                e(ErrorCode::CertWrongUsage),
                e(ErrorCode::UnsupportedAlgorithm),
            ],
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
            TX_OUTCOME,
            TX_OPEN,
            ENVELOPE_IN,
            &[e(ErrorCode::InputMalformed), e(ErrorCode::DecryptionFailed)],
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
            TX_KNOWN,
            &[
                e(ErrorCode::InputMalformed),
                e(ErrorCode::TxPending),
                e(ErrorCode::TxExpired),
                e(ErrorCode::TxCancelled),
            ],
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
        errors: &[TX_KNOWN],
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
        errors: &[&[e(ErrorCode::CertMalformed), e(ErrorCode::KeyMalformed)]],
    },
];
