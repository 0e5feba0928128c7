//! The OpenAPI document (`camr_server::openapi`) against the code and the live router:
//!
//! - the served document is the checked-in `schemas/openapi.json` (regenerate with
//!   `cargo run -p camr-server -- --write-openapi schemas/openapi.json`, or
//!   `CAMR_UPDATE_SCHEMAS=1 cargo test -p camr-server --test openapi`);
//! - it is an OpenAPI 3.1 document (the `oas3` crate parses it; every `$ref` resolves);
//! - every `.route("…", …)` in the server's source is in `ROUTES` with the same methods, and
//!   the other way round;
//! - every documented route is served (a request does not reach the `no such endpoint`
//!   fallback nor a 405), other paths and methods are not, and every answer seen has a
//!   documented status and media type and fits the documented schema and error codes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use camr::protocol::{SystemCode, Tid};
use camr_server::openapi::{self, Answer, Body, Method, ROUTES, RouteDoc};
use serde_json::{Value, json};

const FIX: &str = "run `cargo run -p camr-server -- --write-openapi schemas/openapi.json` (or \
                   `CAMR_UPDATE_SCHEMAS=1 cargo test -p camr-server --test openapi`) and commit \
                   the result";

fn checked_in() -> PathBuf {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../schemas/openapi.json"
    ))
    .to_path_buf()
}

struct Server {
    base: String,
    client: reqwest::Client,
    _dir: tempfile::TempDir,
}

async fn start() -> Server {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = camr_server::ServerConfig::demo(dir.path().join("data"), addr);
    let state = camr_server::build_state(&config).await.unwrap();
    tokio::spawn(camr_server::serve(listener, state, std::future::pending()));
    Server {
        base: format!("http://{addr}"),
        client: reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .unwrap(),
        _dir: dir,
    }
}

/// One answer, as far as the checks need it.
struct Answered {
    status: u16,
    content_type: String,
    body: Vec<u8>,
}

impl Answered {
    fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    fn is_fallback(&self) -> bool {
        self.status == 404
            && self.json().is_some_and(|v| {
                v["msg"] == "no such endpoint" && v["errorCode"] == "INPUT_MALFORMED"
            })
    }
}

impl Server {
    async fn call(&self, method: Method, path: &str, body: &Body) -> Answered {
        let m = reqwest::Method::from_bytes(method.as_str().as_bytes()).unwrap();
        let mut req = self.client.request(m, format!("{}{path}", self.base));
        req = match body {
            Body::Json(_) => req.json(&json!({})),
            Body::Upload(_) => req
                .header("content-type", "application/octet-stream")
                .body(Vec::new()),
            Body::None => req,
        };
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let content_type = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        // An event stream of a live transaction does not end: its headers are enough.
        let body = if content_type.starts_with("text/event-stream") {
            Vec::new()
        } else {
            r.bytes().await.unwrap().to_vec()
        };
        Answered {
            status,
            content_type,
            body,
        }
    }
}

// ---------------------------------------------------------------------------------------
// A JSON Schema check of the subset the document uses (enough to hold answers to it).

fn resolve<'a>(doc: &'a Value, reference: &str) -> Option<&'a Value> {
    let name = reference.strip_prefix(openapi::COMPONENTS)?;
    doc["components"]["schemas"].get(name)
}

fn type_fits(t: &str, v: &Value) -> bool {
    match t {
        "null" => v.is_null(),
        "boolean" => v.is_boolean(),
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "number" => v.is_number(),
        "integer" => v.is_i64() || v.is_u64(),
        _ => false,
    }
}

fn check(doc: &Value, schema: &Value, v: &Value, at: &str, errors: &mut Vec<String>) {
    let Value::Object(s) = schema else {
        if schema == &Value::Bool(false) {
            errors.push(format!("{at}: no value is allowed here"));
        }
        return;
    };
    if let Some(r) = s.get("$ref").and_then(Value::as_str) {
        match resolve(doc, r) {
            Some(target) => check(doc, target, v, at, errors),
            None => errors.push(format!("{at}: unresolved $ref {r}")),
        }
    }
    if let Some(all) = s.get("allOf").and_then(Value::as_array) {
        for sub in all {
            check(doc, sub, v, at, errors);
        }
    }
    for (key, exactly_one) in [("anyOf", false), ("oneOf", true)] {
        if let Some(alts) = s.get(key).and_then(Value::as_array) {
            let fitting = alts
                .iter()
                .filter(|alt| {
                    let mut e = Vec::new();
                    check(doc, alt, v, at, &mut e);
                    e.is_empty()
                })
                .count();
            if fitting == 0 || (exactly_one && fitting > 1) {
                errors.push(format!("{at}: {fitting} alternatives of {key} fit {v}"));
            }
        }
    }
    if let Some(c) = s.get("const")
        && c != v
    {
        errors.push(format!("{at}: {v} is not {c}"));
    }
    if let Some(list) = s.get("enum").and_then(Value::as_array)
        && !list.contains(v)
    {
        errors.push(format!("{at}: {v} is not one of {list:?}"));
    }
    match s.get("type") {
        Some(Value::String(t)) if !type_fits(t, v) => {
            errors.push(format!("{at}: {v} is not a {t}"));
        }
        Some(Value::Array(ts))
            if !ts
                .iter()
                .any(|t| t.as_str().is_some_and(|t| type_fits(t, v))) =>
        {
            errors.push(format!("{at}: {v} is none of {ts:?}"));
        }
        _ => {}
    }
    if let (Some(min), Some(n)) = (s.get("minimum").and_then(Value::as_f64), v.as_f64())
        && n < min
    {
        errors.push(format!("{at}: {n} < {min}"));
    }
    if let Value::Object(obj) = v {
        let props = s.get("properties").and_then(Value::as_object);
        if let Some(props) = props {
            for (k, sub) in props {
                if let Some(child) = obj.get(k) {
                    check(doc, sub, child, &format!("{at}.{k}"), errors);
                }
            }
        }
        if let Some(required) = s.get("required").and_then(Value::as_array) {
            for k in required.iter().filter_map(Value::as_str) {
                if !obj.contains_key(k) {
                    errors.push(format!("{at}: `{k}` is missing"));
                }
            }
        }
        match s.get("additionalProperties") {
            Some(Value::Bool(false)) => {
                for k in obj.keys() {
                    if !props.is_some_and(|p| p.contains_key(k)) {
                        errors.push(format!("{at}: `{k}` is not allowed"));
                    }
                }
            }
            Some(extra @ Value::Object(_)) => {
                for (k, child) in obj {
                    if !props.is_some_and(|p| p.contains_key(k)) {
                        check(doc, extra, child, &format!("{at}.{k}"), errors);
                    }
                }
            }
            _ => {}
        }
    }
    if let (Value::Array(items), Some(item_schema)) = (v, s.get("items")) {
        for (i, item) in items.iter().enumerate() {
            check(doc, item_schema, item, &format!("{at}[{i}]"), errors);
        }
    }
}

/// The answer must be one the document names for this route: a documented status, a
/// documented media type, and for JSON, a body that fits the schema (error codes included).
fn check_answer(doc: &Value, route: &RouteDoc, path: &str, a: &Answered) -> Vec<String> {
    let what = format!(
        "{} {path} (documented as {}) answered {} {}",
        route.method.as_str(),
        route.path,
        a.status,
        String::from_utf8_lossy(&a.body)
            .chars()
            .take(200)
            .collect::<String>()
    );
    let op = &doc["paths"][route.path][route.method.key()];
    let Some(response) = op["responses"].get(a.status.to_string()) else {
        return vec![format!("{what}: status {} is not documented", a.status)];
    };
    let Some(content) = response["content"].as_object() else {
        return vec![format!("{what}: the response has no content")];
    };
    let Some((media, media_doc)) = content
        .iter()
        .find(|(media, _)| a.content_type.starts_with(media.as_str()))
    else {
        return vec![format!(
            "{what}: content type `{}` is not documented ({:?})",
            a.content_type,
            content.keys().collect::<Vec<_>>()
        )];
    };
    let mut errors = Vec::new();
    if media == "application/json" {
        match a.json() {
            Some(v) => check(doc, &media_doc["schema"], &v, "$", &mut errors),
            None => errors.push("not JSON".to_string()),
        }
    }
    errors.into_iter().map(|e| format!("{what}: {e}")).collect()
}

fn placeholder_tid() -> String {
    Tid::new(&SystemCode::parse("C1100005553").unwrap(), [7; 16]).to_string()
}

fn fill(path: &str, tid: &str) -> String {
    path.replace("{tid}", tid)
}

// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn the_served_document_is_the_checked_in_one() {
    let server = start().await;
    let a = server
        .call(Method::Get, "/api/openapi.json", &Body::None)
        .await;
    assert_eq!(a.status, 200);
    assert!(
        a.content_type.starts_with("application/json"),
        "{}",
        a.content_type
    );
    let served = String::from_utf8(a.body).unwrap();
    assert_eq!(
        served,
        openapi::openapi_json(),
        "the route serves another document"
    );

    let path = checked_in();
    if std::env::var("CAMR_UPDATE_SCHEMAS").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &served).unwrap();
    }
    match std::fs::read_to_string(&path) {
        Ok(on_disk) => assert!(
            on_disk == served,
            "{} differs from the document the server serves (the routes or their types \
             changed); {FIX}",
            path.display()
        ),
        Err(e) => panic!("{} is missing ({e}); {FIX}", path.display()),
    }
}

/// Every `$ref` (anywhere in `v`), with where it is.
fn refs<'a>(v: &'a Value, at: String, out: &mut Vec<(String, &'a str)>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                match (k.as_str(), child) {
                    ("$ref", Value::String(r)) => out.push((at.clone(), r)),
                    _ => refs(child, format!("{at}/{k}"), out),
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                refs(item, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn the_document_is_openapi_3_1_and_every_ref_resolves() {
    let text = openapi::openapi_json();
    let spec = oas3::from_json(&text).unwrap_or_else(|e| panic!("oas3 cannot parse it: {e}"));
    let version = spec.validate_version().unwrap();
    assert_eq!((version.major, version.minor), (3, 1));
    for r in ROUTES {
        let method = axum::http::Method::from_bytes(r.method.as_str().as_bytes()).unwrap();
        let op = spec
            .operation(&method, r.path)
            .unwrap_or_else(|| panic!("{} {} is not in the document", r.method.as_str(), r.path));
        assert_eq!(op.operation_id.as_deref(), Some(r.operation_id));
        assert!(spec.operation_by_id(r.operation_id).is_some());
    }
    assert_eq!(spec.operations().count(), ROUTES.len());

    let doc: Value = serde_json::from_str(&text).unwrap();
    for key in ["openapi", "info", "paths", "components"] {
        assert!(doc.get(key).is_some(), "no `{key}`");
    }
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());

    let mut all = Vec::new();
    refs(&doc, String::new(), &mut all);
    assert!(all.len() > 50, "{} refs", all.len());
    let unresolved: Vec<_> = all
        .iter()
        .filter(|(_, r)| resolve(&doc, r).is_none())
        .collect();
    assert!(unresolved.is_empty(), "unresolved: {unresolved:?}");

    let names = doc["components"]["schemas"].as_object().unwrap();
    for name in names.keys() {
        assert!(
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c)),
            "component name `{name}` is not allowed by OpenAPI"
        );
    }
    let referenced: BTreeSet<&str> = all
        .iter()
        .filter_map(|(_, r)| r.strip_prefix(openapi::COMPONENTS))
        .collect();
    let unused: Vec<_> = names
        .keys()
        .filter(|n| !referenced.contains(n.as_str()))
        .collect();
    assert!(unused.is_empty(), "components nobody refers to: {unused:?}");

    let tags: BTreeSet<&str> = openapi::TAGS.iter().map(|(t, _)| *t).collect();
    let mut ids = BTreeSet::new();
    for r in ROUTES {
        assert!(
            ids.insert(r.operation_id),
            "operationId {} twice",
            r.operation_id
        );
        for t in r.tags {
            assert!(
                tags.contains(t),
                "{}: tag {t} is not in TAGS",
                r.operation_id
            );
        }
        for p in r.path_params() {
            assert!(
                openapi::PATH_PARAMS.iter().any(|(name, ..)| *name == p),
                "{}: path parameter {p} is not in PATH_PARAMS",
                r.path
            );
        }
        let op = &doc["paths"][r.path][r.method.key()];
        let declared: Vec<&str> = op["parameters"]
            .as_array()
            .map(|ps| {
                ps.iter()
                    .filter(|p| p["in"] == "path")
                    .filter_map(|p| p["name"].as_str())
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(declared, r.path_params(), "{}", r.path);
        // Every error status lists codes that exist.
        for (status, resp) in op["responses"].as_object().unwrap() {
            if status == "200" {
                continue;
            }
            let codes =
                resp["content"]["application/json"]["schema"]["properties"]["errorCode"]["enum"]
                    .as_array()
                    .unwrap_or_else(|| panic!("{} {status}: no codes", r.path));
            for c in codes {
                assert!(
                    camr::protocol::ErrorCode::ALL
                        .iter()
                        .any(|k| Value::String(k.as_str().into()) == *c),
                    "{c}"
                );
            }
        }
    }
}

/// The `.route("PATH", get(…).post(…))` calls in the server's source (outside comments and
/// `#[cfg(test)]` code), as (method, path). Constructs the scan does not understand fail it,
/// so a route cannot slip past.
fn routes_in_source() -> BTreeSet<(String, String)> {
    let src = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src"));
    let mut files = Vec::new();
    let mut dirs = vec![src.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                files.push(p);
            }
        }
    }
    files.sort();
    assert!(files.len() > 3, "{files:?}");
    let methods = ["get", "post", "put", "patch", "delete"];
    let mut found = BTreeSet::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        // Code only: up to the first `#[cfg(test)]`, without comment lines.
        let code: String = text
            .split("#[cfg(test)]")
            .next()
            .unwrap()
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        let name = file.display();
        for banned in [
            ".nest(",
            ".nest_service(",
            ".route_service(",
            "method_routing::on(",
        ] {
            assert!(
                !code.contains(banned),
                "{name} uses `{banned}`: teach routes_in_source (tests/openapi.rs) to read it"
            );
        }
        let mut rest = code.as_str();
        while let Some(i) = rest.find(".route(") {
            rest = &rest[i + ".route(".len()..];
            let after = rest.trim_start();
            let Some(lit) = after.strip_prefix('"') else {
                panic!(
                    "{name}: a `.route(` whose path is not a string literal: {}",
                    &after[..after.len().min(60)]
                );
            };
            let end = lit.find('"').unwrap();
            let path = &lit[..end];
            // The rest of the call: up to the `)` that closes `.route(`.
            let args = &lit[end + 1..];
            let mut depth = 1usize;
            let mut close = args.len();
            for (j, c) in args.char_indices() {
                match c {
                    '(' => depth += 1,
                    ')' => {
                        depth -= 1;
                        if depth == 0 {
                            close = j;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let call = &args[..close];
            // Method-router calls at the top level of the arguments: `get(`, `.post(`, ...
            let mut level = 0usize;
            let mut ident = String::new();
            let mut seen = Vec::new();
            for c in call.chars() {
                if c.is_ascii_alphanumeric() || c == '_' {
                    ident.push(c);
                    continue;
                }
                if c == '(' {
                    if level == 0 {
                        let base = ident.strip_suffix("_service").unwrap_or(&ident);
                        if methods.contains(&base) {
                            seen.push(base.to_uppercase());
                        } else if ["any", "on", "any_service", "on_service"]
                            .contains(&ident.as_str())
                        {
                            panic!(
                                "{name}: {path} uses `{ident}(`: list its methods in ROUTES and teach routes_in_source"
                            );
                        }
                    }
                    level += 1;
                } else if c == ')' {
                    level = level.saturating_sub(1);
                }
                ident.clear();
            }
            assert!(!seen.is_empty(), "{name}: no method found for {path}");
            for m in seen {
                found.insert((m, path.to_string()));
            }
        }
    }
    found
}

#[test]
fn every_route_in_the_source_is_documented_and_nothing_else() {
    let in_source = routes_in_source();
    assert!(in_source.len() >= 20, "{in_source:?}");
    let documented: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|r| (r.method.as_str().to_string(), r.path.to_string()))
        .collect();
    assert_eq!(
        documented.len(),
        ROUTES.len(),
        "a route is documented twice"
    );
    let missing: Vec<_> = in_source.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&in_source).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "routes in the source but not in openapi::ROUTES: {missing:?}\n\
         in openapi::ROUTES but not in the source: {extra:?}\n\
         add (or remove) a RouteDoc in examples/server/src/openapi.rs, then {FIX}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documented_routes_are_served_others_fall_back_and_answers_fit_the_document() {
    let server = start().await;
    let doc = openapi::openapi();
    let mut problems = Vec::new();

    // Every documented route with a placeholder tid (unknown, well-formed).
    let tid = placeholder_tid();
    for r in ROUTES {
        let path = fill(r.path, &tid);
        let a = server.call(r.method, &path, &r.body).await;
        if a.is_fallback() || a.status == 405 {
            problems.push(format!(
                "{} {} is documented but not served ({})",
                r.method.as_str(),
                r.path,
                a.status
            ));
            continue;
        }
        problems.extend(check_answer(&doc, r, &path, &a));
    }

    // Methods a documented path is not documented with are not served.
    let mut by_path: BTreeMap<&str, BTreeSet<Method>> = BTreeMap::new();
    for r in ROUTES {
        by_path.entry(r.path).or_default().insert(r.method);
    }
    for (path, methods) in &by_path {
        for m in Method::ALL.iter().filter(|m| !methods.contains(m)) {
            let a = server.call(*m, &fill(path, &tid), &Body::None).await;
            if a.status != 405 && !a.is_fallback() {
                problems.push(format!(
                    "{} {path} answers {} but is not documented",
                    m.as_str(),
                    a.status
                ));
            }
        }
    }

    // Paths that are not documented reach the fallback.
    for path in [
        "/api/v1/nope",
        "/api/v2/transactions",
        "/api/v1/transactions/x/y/z",
        "/camr/v1/request",
        "/api/openapi.yaml",
        "/static/nope.js",
        "/index.html",
    ] {
        let a = server.call(Method::Get, path, &Body::None).await;
        if !a.is_fallback() {
            problems.push(format!(
                "GET {path} is not documented but answers {}",
                a.status
            ));
        }
    }

    // A live transaction through the routes that take a tid, then cancelled.
    let find = |method: Method, path: &str| {
        ROUTES
            .iter()
            .find(|r| r.method == method && r.path == path)
            .unwrap_or_else(|| panic!("{path} is not documented"))
    };
    let start_route = find(Method::Post, "/api/v1/transactions");
    let mut live = None;
    for body in [
        json!({ "operation": "messageSignature", "message": "报价 1,280,000.00 元" }),
        json!({ "operation": "login" }),
    ] {
        let r = server
            .client
            .post(format!("{}/api/v1/transactions", server.base))
            .json(&body)
            .send()
            .await
            .unwrap();
        let a = Answered {
            status: r.status().as_u16(),
            content_type: r
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string(),
            body: r.bytes().await.unwrap().to_vec(),
        };
        assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
        problems.extend(check_answer(&doc, start_route, "/api/v1/transactions", &a));
        live = a
            .json()
            .and_then(|v| v["data"]["tid"].as_str().map(str::to_string));
    }
    let live = live.unwrap();
    let cancel = "/api/v1/transactions/{tid}/cancel";
    for round in 0..2 {
        for r in ROUTES
            .iter()
            .filter(|r| r.path.contains("{tid}") && r.path != cancel)
        {
            let path = fill(r.path, &live);
            let a = server.call(r.method, &path, &r.body).await;
            // A live transaction: its QR and event stream are served with their types.
            if let Answer::Media(media, _) = r.answer
                && round == 0
                && r.path.starts_with("/api/v1/transactions/")
                && !a.content_type.starts_with(media)
            {
                problems.push(format!(
                    "{path}: {} {}, not {media}",
                    a.status, a.content_type
                ));
            }
            problems.extend(check_answer(&doc, r, &path, &a));
        }
        if round == 0 {
            let r = find(Method::Post, cancel);
            let path = fill(cancel, &live);
            let a = server.call(r.method, &path, &r.body).await;
            assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
            problems.extend(check_answer(&doc, r, &path, &a));
            let again = server.call(r.method, &path, &r.body).await;
            problems.extend(check_answer(&doc, r, &path, &again));
        }
    }

    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn routes_add_the_errors_of_their_kind() {
    let r = ROUTES
        .iter()
        .find(|r| r.operation_id == "startTransaction")
        .unwrap();
    let statuses: BTreeSet<(u16, &str)> = r
        .all_errors()
        .iter()
        .map(|e| (e.http_status(), e.code.as_str()))
        .collect();
    for want in [
        (400, "INPUT_MALFORMED"),
        (413, "INPUT_MALFORMED"),
        (415, "INPUT_MALFORMED"),
        (500, "INTERNAL"),
    ] {
        assert!(statuses.contains(&want), "{want:?} in {statuses:?}");
    }
    let status = ROUTES
        .iter()
        .find(|r| r.operation_id == "getTransaction")
        .unwrap();
    assert!(
        status
            .all_errors()
            .iter()
            .any(|e| e.code == camr::protocol::ErrorCode::TidInvalid)
    );
    assert!(matches!(status.body, Body::None));
}
