//! The stylesheet, script and icon, compiled into the binary and served from `/static/`.
//!
//! Only names in [`ASSETS`] are served, compared whole, so no request can reach a file: a
//! name with `..`, a slash or any encoding of them is simply not in the list.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::extract::rejection::PathRejection;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use lifeguard_core::archive::hex;

use crate::auth::sha256;

/// One file under `/static/`.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

const ASSETS: [Asset; 3] = [
    Asset {
        name: "app.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../../static/app.css"),
    },
    Asset {
        name: "app.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../static/app.js"),
    },
    Asset {
        name: "favicon.svg",
        content_type: "image/svg+xml",
        bytes: include_bytes!("../../static/favicon.svg"),
    },
];

/// Pages link to `/static/NAME?v=VERSION`, so a new build's files are fetched at once while
/// browsers may keep them for a day without asking.
const CACHE_CONTROL: &str = "public, max-age=86400";

/// A short hash of every asset: changes whenever one of them does.
pub(crate) fn version() -> &'static str {
    static VERSION: LazyLock<String> = LazyLock::new(|| {
        let all: Vec<u8> = ASSETS.iter().flat_map(|asset| asset.bytes.iter().copied()).collect();
        let mut text = hex(&sha256(&all));
        text.truncate(12);
        text
    });
    VERSION.as_str()
}

/// `GET /static/{name}`.
pub(crate) async fn serve(name: Result<Path<String>, PathRejection>) -> Response {
    let found = name.ok().and_then(|Path(name)| ASSETS.iter().find(|asset| asset.name == name));
    let Some(asset) = found else {
        return super::not_found_page().into_response();
    };
    let mut response = asset.bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
    // Set here, so the security layer's `no-store` default does not apply.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(CACHE_CONTROL));
    response
}
