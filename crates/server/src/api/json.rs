//! Reading requests: JSON bodies and query strings, with every problem answered in the API's
//! error format (a stable code, a message and, when one field is at fault, its name) instead of
//! axum's plain-text rejections.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_json::error::Category;

use crate::error::ApiError;

/// A JSON request body, deserialized into `T`. Refuses a body that is not `application/json`
/// (415 `unsupported_media_type`), that is over the route's size limit (413
/// `payload_too_large`), that is not JSON (400 `invalid_json`, with line and column) or that
/// does not fit `T` (400 `bad_request`, naming the field when one is at fault).
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let JsonBytes(bytes) = JsonBytes::from_request(request, state).await?;
        parse_with(&bytes, |value| T::deserialize(value).map(drop)).map(Json)
    }
}

/// A JSON request body, checked for its media type and size but not parsed, for handlers that
/// parse it themselves (borrowing from it, or off the async threads).
#[derive(Debug, Clone)]
pub struct JsonBytes(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for JsonBytes {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        if !is_json(request.headers().get(header::CONTENT_TYPE)) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "the request body must be JSON, sent with `Content-Type: application/json`",
            ));
        }
        match Bytes::from_request(request, state).await {
            Ok(bytes) => Ok(JsonBytes(bytes)),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(too_large("the request body is larger than this route accepts"))
            }
            Err(rejection) => Err(ApiError::bad_request(format!(
                "the request body could not be read: {}",
                rejection.body_text()
            ))),
        }
    }
}

/// 413 `payload_too_large`.
pub(super) fn too_large(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", message)
}

/// `application/json`, with or without parameters, or any `application/*+json` type.
fn is_json(content_type: Option<&header::HeaderValue>) -> bool {
    let Some(value) = content_type.and_then(|v| v.to_str().ok()) else { return false };
    let essence = value.split(';').next().unwrap_or_default().trim();
    let Some((kind, subtype)) = essence.split_once('/') else { return false };
    kind.eq_ignore_ascii_case("application")
        && (subtype.eq_ignore_ascii_case("json")
            || subtype.len() > 5 && subtype[subtype.len() - 5..].eq_ignore_ascii_case("+json"))
}

/// Parses a body into `T`, which may borrow from it. `probe` deserializes the same type from
/// a JSON value and drops it: when the body does not fit `T`, the error is explained with it
/// (see [`data_error`]).
pub(super) fn parse_with<'a, T>(
    bytes: &'a [u8],
    probe: impl Fn(&Value) -> Result<(), serde_json::Error>,
) -> Result<T, ApiError>
where
    T: serde::Deserialize<'a>,
{
    serde_json::from_slice(bytes).map_err(|err| json_error(bytes, &err, probe))
}

/// The API's answer to a body serde_json refused.
pub(super) fn json_error(
    bytes: &[u8],
    err: &serde_json::Error,
    probe: impl Fn(&Value) -> Result<(), serde_json::Error>,
) -> ApiError {
    match err.classify() {
        Category::Syntax | Category::Eof => invalid_json(err),
        Category::Io | Category::Data => data_error(bytes, err, probe),
    }
}

/// 400 `invalid_json`, saying where.
pub(super) fn invalid_json(err: &serde_json::Error) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "invalid_json",
        format!(
            "the request body is not valid JSON: {} (line {}, column {})",
            without_position(err),
            err.line(),
            err.column()
        ),
    )
}

/// 400 `bad_request` for JSON that does not fit the expected shape. serde names the field
/// only for unknown, missing and repeated fields; for a value of the wrong type it gives the
/// position alone, so the body is tried again one top-level field at a time to find which.
fn data_error(
    bytes: &[u8],
    err: &serde_json::Error,
    probe: impl Fn(&Value) -> Result<(), serde_json::Error>,
) -> ApiError {
    let message = without_position(err);
    if let Some(field) = quoted_field(&message) {
        return ApiError::bad_request(message.clone()).field(field);
    }
    let Ok(value) = serde_json::from_slice::<Value>(bytes) else {
        return ApiError::bad_request(message);
    };
    let Value::Object(object) = value else {
        return ApiError::bad_request("the request body must be a JSON object");
    };
    for (key, value) in object {
        let alone = Value::Object(std::iter::once((key.clone(), value)).collect());
        if let Err(err) = probe(&alone) {
            let problem = without_position(&err);
            if !problem.starts_with("missing field") {
                return ApiError::bad_request(format!("`{key}`: {problem}")).field(key);
            }
        }
    }
    ApiError::bad_request(message)
}

/// serde_json's message without its " at line L column C" suffix.
fn without_position(err: &serde_json::Error) -> String {
    let message = err.to_string();
    let suffix = format!(" at line {} column {}", err.line(), err.column());
    message.strip_suffix(&suffix).map(str::to_owned).unwrap_or(message)
}

/// The field serde names in "unknown field `x`", "missing field `x`" or "duplicate field `x`".
pub(super) fn quoted_field(message: &str) -> Option<String> {
    ["unknown field `", "missing field `", "duplicate field `"].iter().find_map(|marker| {
        let start = message.find(marker)? + marker.len();
        let length = message[start..].find('`')?;
        Some(message[start..start + length].to_owned())
    })
}

/// A query string deserialized into `T`; an unknown, repeated or malformed parameter is a 400
/// `bad_request` naming it. Give `T` only `Option<String>` fields and parse them in the
/// handler, so each value's error can say what was expected.
#[derive(Debug, Clone, Default)]
pub struct Params<T>(pub T);

impl<T, S> FromRequestParts<S> for Params<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        match Query::<T>::try_from_uri(&parts.uri) {
            Ok(Query(params)) => Ok(Params(params)),
            Err(rejection) => {
                let text = rejection.body_text();
                let detail = text
                    .strip_prefix("Failed to deserialize query string: ")
                    .unwrap_or(&text)
                    .to_owned();
                let error = ApiError::bad_request(format!("query string: {detail}"));
                Err(match quoted_field(&detail) {
                    Some(field) => error.field(field),
                    None => error,
                })
            }
        }
    }
}

/// One query parameter parsed by `parse`, or a 400 naming it.
pub(super) fn param<T>(
    name: &str,
    value: Option<&str>,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Result<Option<T>, ApiError> {
    value
        .map(|text| {
            parse(text).map_err(|problem| {
                ApiError::bad_request(format!("parameter `{name}`: {problem}")).field(name)
            })
        })
        .transpose()
}

/// A store error as the API answers it; an invalid request whose message starts with a
/// field's name in backquotes (as the store writes them) blames that field.
pub(super) fn store_error(err: lifeguard_store::StoreError) -> ApiError {
    let error = ApiError::from(err);
    if error.code != "invalid" {
        return error;
    }
    let field = error
        .message
        .strip_prefix('`')
        .and_then(|rest| rest.split_once('`'))
        .map(|(field, _)| match field {
            "token id" => "id",
            "token name" => "name",
            "password_hash" => "password",
            "setting key" => "key",
            "setting value" => "value",
            other => other,
        })
        .map(str::to_owned);
    match field {
        Some(field) => error.field(field),
        None => error,
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize as _;

    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Sample {
        name: String,
        count: Option<u32>,
    }

    fn error(body: &str) -> ApiError {
        parse_with::<Sample>(body.as_bytes(), |value| Sample::deserialize(value).map(drop))
            .expect_err("refused")
    }

    #[test]
    fn errors_name_the_field() {
        let err = error(r#"{"name": "a", "extra": 1}"#);
        assert_eq!((err.code, err.field.as_deref()), ("bad_request", Some("extra")));
        let err = error(r#"{"count": 1}"#);
        assert_eq!(err.field.as_deref(), Some("name"));
        let err = error(r#"{"name": "a", "count": "many"}"#);
        assert_eq!(err.field.as_deref(), Some("count"));
        assert!(err.message.starts_with("`count`: invalid type"), "{}", err.message);
        let err = error(r#"{"name": "a",}"#);
        assert_eq!(err.code, "invalid_json");
        assert!(err.message.contains("line 1, column"), "{}", err.message);
        let err = error("[1]");
        assert_eq!((err.code, err.field), ("bad_request", None));
    }

    #[test]
    fn json_media_types() {
        let value = |text: &'static str| header::HeaderValue::from_static(text);
        assert!(is_json(Some(&value("application/json"))));
        assert!(is_json(Some(&value("Application/JSON; charset=utf-8"))));
        assert!(is_json(Some(&value("application/merge-patch+json"))));
        assert!(!is_json(Some(&value("text/plain"))));
        assert!(!is_json(Some(&value("application/x-www-form-urlencoded"))));
        assert!(!is_json(None));
    }

    #[test]
    fn store_errors_blame_their_field() {
        let err = store_error(lifeguard_store::StoreError::new(
            lifeguard_store::ErrorKind::Invalid,
            "`login`: `ada` is taken",
        ));
        assert_eq!(
            (err.status, err.field.as_deref()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("login"))
        );
    }
}
