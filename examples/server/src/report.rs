//! The usage report (扫码报告): who used which certificate where, from the store's usage
//! records ([`camr::protocol::UsageRecord`], one per verified answer).
//!
//! - `GET /api/v1/reports/usage?from=YYYY-MM-DD&to=YYYY-MM-DD&by=day|system|cert|scene` →
//!   [`UsageReport`]: rows `{key, label?, caOrgType?, count, certs, scenes, firstAt, lastAt}`
//!   grouped by day (every day of the range, zeros included, in date order), trading system,
//!   certificate serial or usage scene (operation) — the latter three by count, largest first.
//! - `GET /api/v1/reports/usage.csv` with the same query: the same rows as CSV (one row per
//!   group, columns `key,label,ca_org_type,count,certs,first_at,last_at`), or with `by=record`
//!   one row per usage record (for reconciling per-use billing with the CA vendors).
//!
//! Days are calendar days in China Standard Time (UTC+08:00, no daylight saving); `from` and
//! `to` are both included and default to the 30 days up to today; a range holds at most
//! [`MAX_DAYS`] days. `by` defaults to `day`. A bad date, range or `by` is `INPUT_MALFORMED`
//! (400) naming the parameter.
//!
//! CSV: RFC 4180 (comma, CRLF, fields with a comma, quote, CR or LF in double quotes, quotes
//! doubled), UTF-8 with a byte-order mark so that Excel shows Chinese names; a field starting
//! with `=`, `+`, `-`, `@` or a tab gets a leading `'` so spreadsheets do not run it as a
//! formula (certificate names come from outside).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use camr::protocol::{ErrorCode, Operation, UsageRecord};
use serde::Serialize;

use crate::AppState;
use crate::api::ApiError;

pub use camr::time::{TZ_OFFSET_SECS, civil_from_days, days_from_civil, format_date, format_time};

/// Longest range, days.
pub const MAX_DAYS: i64 = 3660;

/// What to group by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum GroupBy {
    /// Calendar day (UTC+8).
    Day,
    /// Trading system code.
    System,
    /// Certificate serial.
    Cert,
    /// Usage scene (operation).
    Scene,
    /// No grouping: one row per record (CSV only).
    Record,
}

/// One group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UsageRow {
    /// The day (`YYYY-MM-DD`), system code, certificate serial or operation.
    pub key: String,
    /// The system's name, the certificate holder's name, or the scene's Chinese name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The certificate's CA vendor (by `cert`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_org_type: Option<String>,
    /// Uses.
    pub count: u64,
    /// Distinct certificates.
    pub certs: u64,
    /// Uses by scene (operation).
    pub scenes: BTreeMap<String, u64>,
    /// First use, unix seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_at: Option<i64>,
    /// Last use, unix seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_at: Option<i64>,
}

/// `GET /api/v1/reports/usage`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UsageReport {
    /// First day included.
    pub from: String,
    /// Last day included.
    pub to: String,
    /// The grouping.
    pub by: GroupBy,
    /// Offset of the days from UTC (`+08:00`).
    pub timezone: &'static str,
    /// Uses in the range.
    pub total: u64,
    /// The groups.
    pub rows: Vec<UsageRow>,
}

/// `YYYY-MM-DD` → day number; `None` unless it is a real date of years 1970–9999.
pub fn parse_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = s.get(r)?;
        if !part.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        part.parse().ok()
    };
    let (y, m, d) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    if y < 1970 || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let days = days_from_civil(i64::from(y), m, d);
    (civil_from_days(days) == (i64::from(y), m, d)).then_some(days)
}

/// The UTC+8 day of unix time `t`.
pub fn day_of(t: i64) -> i64 {
    (t + TZ_OFFSET_SECS).div_euclid(86_400)
}

/// The Chinese name of a usage scene.
pub fn scene_name(op: Operation) -> &'static str {
    match op {
        Operation::Login => "注册登录",
        Operation::MessageSignature => "消息签名",
        Operation::Signature => "签章",
        Operation::RevokeSignature => "撤章",
        Operation::Encrypt => "加密",
        Operation::Decrypt => "解密",
    }
}

fn bad(param: &str, msg: impl std::fmt::Display) -> ApiError {
    ApiError::new(ErrorCode::InputMalformed, format!("`{param}`: {msg}"))
}

/// A checked query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsageQuery {
    /// First day (day number).
    pub from: i64,
    /// Last day (day number).
    pub to: i64,
    /// The grouping.
    pub by: GroupBy,
}

/// Checks the query parameters (`now`: unix seconds, for the default range).
pub fn parse_query(
    params: &HashMap<String, String>,
    now: i64,
    csv: bool,
) -> Result<UsageQuery, ApiError> {
    for k in params.keys() {
        if !matches!(k.as_str(), "from" | "to" | "by") {
            return Err(bad(k, "unknown parameter (use from, to, by)"));
        }
    }
    let date = |name: &str| -> Result<Option<i64>, ApiError> {
        params
            .get(name)
            .map(|v| {
                parse_date(v.trim()).ok_or_else(|| {
                    bad(
                        name,
                        format!(
                            "`{}` is not a date YYYY-MM-DD",
                            v.chars().take(40).collect::<String>()
                        ),
                    )
                })
            })
            .transpose()
    };
    let to = date("to")?.unwrap_or_else(|| day_of(now));
    let from = date("from")?.unwrap_or(to - 29);
    if to < from {
        return Err(bad("to", "is before `from`"));
    }
    if to - from + 1 > MAX_DAYS {
        return Err(bad(
            "from",
            format!("the range is longer than {MAX_DAYS} days"),
        ));
    }
    let by = match params.get("by").map(|s| s.trim()) {
        None | Some("day") => GroupBy::Day,
        Some("system") => GroupBy::System,
        Some("cert") => GroupBy::Cert,
        Some("scene") => GroupBy::Scene,
        Some("record") if csv => GroupBy::Record,
        Some(other) => {
            return Err(bad(
                "by",
                format!(
                    "`{}` is not one of day, system, cert, scene{}",
                    other.chars().take(40).collect::<String>(),
                    if csv { ", record" } else { "" }
                ),
            ));
        }
    };
    Ok(UsageQuery { from, to, by })
}

#[derive(Default)]
struct Acc {
    label: Option<String>,
    ca_org_type: Option<String>,
    count: u64,
    certs: BTreeSet<String>,
    scenes: BTreeMap<String, u64>,
    first_at: Option<i64>,
    last_at: Option<i64>,
}

/// Groups the records of the query's range.
pub fn aggregate(records: &[UsageRecord], q: &UsageQuery) -> UsageReport {
    let mut groups: BTreeMap<String, Acc> = BTreeMap::new();
    if q.by == GroupBy::Day {
        for d in q.from..=q.to {
            groups.insert(format_date(d), Acc::default());
        }
    }
    let mut total = 0;
    for r in in_range(records, q) {
        total += 1;
        let (key, name, vendor) = match q.by {
            GroupBy::Day | GroupBy::Record => (format_date(day_of(r.used_at)), None, None),
            GroupBy::System => (
                r.trading_system_code.to_string(),
                Some(r.trading_system_name.clone()),
                None,
            ),
            GroupBy::Cert => (
                r.cert_sn.clone(),
                Some(r.cert_name.clone()),
                Some(r.ca_org_type.clone()),
            ),
            GroupBy::Scene => (
                r.usage_scene.to_string(),
                Some(scene_name(r.usage_scene).to_string()),
                None,
            ),
        };
        let acc = groups.entry(key).or_default();
        if name.is_some() {
            acc.label = name;
        }
        if vendor.is_some() {
            acc.ca_org_type = vendor;
        }
        acc.count += 1;
        acc.certs.insert(format!("{}/{}", r.ca_org_type, r.cert_sn));
        *acc.scenes.entry(r.usage_scene.to_string()).or_insert(0) += 1;
        acc.first_at = Some(acc.first_at.map_or(r.used_at, |t| t.min(r.used_at)));
        acc.last_at = Some(acc.last_at.map_or(r.used_at, |t| t.max(r.used_at)));
    }
    let mut rows: Vec<UsageRow> = groups
        .into_iter()
        .map(|(key, a)| UsageRow {
            key,
            label: a.label,
            ca_org_type: a.ca_org_type,
            count: a.count,
            certs: a.certs.len() as u64,
            scenes: a.scenes,
            first_at: a.first_at,
            last_at: a.last_at,
        })
        .collect();
    if q.by != GroupBy::Day {
        rows.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
    }
    UsageReport {
        from: format_date(q.from),
        to: format_date(q.to),
        by: q.by,
        timezone: "+08:00",
        total,
        rows,
    }
}

fn in_range<'a>(
    records: &'a [UsageRecord],
    q: &'a UsageQuery,
) -> impl Iterator<Item = &'a UsageRecord> + 'a {
    records.iter().filter(move |r| {
        let d = day_of(r.used_at);
        d >= q.from && d <= q.to
    })
}

/// One CSV field (RFC 4180 quoting, formula guard).
pub fn csv_field(s: &str) -> String {
    let guarded = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if guarded.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

fn csv_line(out: &mut String, fields: &[String]) {
    let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
    out.push_str(&line.join(","));
    out.push_str("\r\n");
}

fn wire_name<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// The CSV text (with the byte-order mark).
pub fn to_csv(records: &[UsageRecord], q: &UsageQuery) -> String {
    let mut out = String::from('\u{FEFF}');
    if q.by == GroupBy::Record {
        csv_line(
            &mut out,
            &[
                "used_at",
                "trading_system_code",
                "trading_system_name",
                "cert_sn",
                "cert_name",
                "cert_type",
                "subject_type",
                "public_key_algorithm",
                "usage_scene",
                "ca_org_type",
                "operator",
                "tid",
            ]
            .map(String::from),
        );
        let mut rows: Vec<&UsageRecord> = in_range(records, q).collect();
        rows.sort_by_key(|r| r.used_at);
        for r in rows {
            csv_line(
                &mut out,
                &[
                    format_time(r.used_at),
                    r.trading_system_code.to_string(),
                    r.trading_system_name.clone(),
                    r.cert_sn.clone(),
                    r.cert_name.clone(),
                    wire_name(&r.cert_type),
                    wire_name(&r.subject_type),
                    wire_name(&r.public_key_algorithm),
                    r.usage_scene.to_string(),
                    r.ca_org_type.clone(),
                    r.operator.clone().unwrap_or_default(),
                    r.tid.to_string(),
                ],
            );
        }
        return out;
    }
    let report = aggregate(records, q);
    csv_line(
        &mut out,
        &[
            "key",
            "label",
            "ca_org_type",
            "count",
            "certs",
            "first_at",
            "last_at",
        ]
        .map(String::from),
    );
    for r in report.rows {
        csv_line(
            &mut out,
            &[
                r.key,
                r.label.unwrap_or_default(),
                r.ca_org_type.unwrap_or_default(),
                r.count.to_string(),
                r.certs.to_string(),
                r.first_at.map(format_time).unwrap_or_default(),
                r.last_at.map(format_time).unwrap_or_default(),
            ],
        );
    }
    out
}

async fn load(
    s: &AppState,
    params: Result<Query<HashMap<String, String>>, QueryRejection>,
    csv: bool,
) -> Result<(Vec<UsageRecord>, UsageQuery), ApiError> {
    let Query(params) = params.map_err(|e| {
        ApiError::new(
            ErrorCode::InputMalformed,
            format!("bad query: {}", e.body_text()),
        )
    })?;
    let q = parse_query(&params, camr::qr::unix_now(), csv)?;
    let records = s.store.usage().await?;
    Ok((records, q))
}

/// `GET /api/v1/reports/usage`.
pub async fn usage_json(
    State(s): State<Arc<AppState>>,
    headers: axum::http::HeaderMap,
    params: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Response, ApiError> {
    // Usage records name holders and tids: the operator's, never anonymous.
    crate::ops::check_admin(&s, &headers)?;
    let (records, q) = load(&s, params, false).await?;
    Ok(axum::Json(camr::protocol::ApiResult::ok(aggregate(&records, &q))).into_response())
}

/// `GET /api/v1/reports/usage.csv`.
pub async fn usage_csv(
    State(s): State<Arc<AppState>>,
    headers: axum::http::HeaderMap,
    params: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Response, ApiError> {
    crate::ops::check_admin(&s, &headers)?;
    let (records, q) = load(&s, params, true).await?;
    let body = to_csv(&records, &q);
    let mut r = Response::new(axum::body::Body::from(body));
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    let name = format!(
        "attachment; filename=\"camr-usage-{}-{}.csv\"",
        format_date(q.from),
        format_date(q.to)
    );
    if let Ok(v) = HeaderValue::from_str(&name) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn dates_round_trip_and_bad_ones_are_refused() {
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(
            parse_date("2024-02-29").map(format_date).unwrap(),
            "2024-02-29"
        );
        for d in -1000..30_000 {
            assert_eq!(parse_date(&format_date(d + 1000)), Some(d + 1000));
        }
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-1-01",
            "24-01-01",
            "2024-01-32",
            "2024/01/01",
            "+024-01-01",
            "",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
        // 2024-01-01 00:30 in Beijing is still 2023-12-31 in UTC.
        let t = days_from_civil(2024, 1, 1) * 86_400 - TZ_OFFSET_SECS + 1800;
        assert_eq!(format_date(day_of(t)), "2024-01-01");
        assert_eq!(format_time(t), "2024-01-01 00:30:00");
    }

    #[test]
    fn csv_fields_are_quoted_per_rfc_4180() {
        assert_eq!(csv_field("张三"), "张三");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("x\ny"), "\"x\ny\"");
        assert_eq!(csv_field("=1+1"), "'=1+1");
    }
}
