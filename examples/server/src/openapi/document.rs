//! The OpenAPI 3.1 document built from [`ROUTES`](super::ROUTES): components from the types'
//! schemars schemas, one operation per route, the text of `schemas/openapi.json`.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use camr::protocol::{ApiResult, ErrorCode};
use schemars::Schema;
use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

use super::{Answer, Body, COMPONENTS, PATH_PARAMS, ROUTES, RouteDoc, TAGS};

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
