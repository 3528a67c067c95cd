//! The checks every request passes before a handler sees it:
//! - the Host header names the bound address, localhost or 127.0.0.1 / [::1] with the bound
//!   port (a page of another site that rebinds its DNS name to 127.0.0.1 sends its own name);
//! - with a token, the request carries it (`?token=T` on a page, which sets the cookie,
//!   `Authorization: Bearer T`, or the `genlab_token_PORT` cookie); any one that matches will do;
//! - a request that may change state (any method but GET and HEAD) comes from the studio's own
//!   pages: its Origin, when sent, is the studio's, and its body is JSON (a cross-site form
//!   cannot send that without the browser asking first, and the studio never says yes).
//!
//! Every response gets a Content-Security-Policy that allows only the studio's own scripts,
//! styles and images, and `X-Content-Type-Options: nosniff`.

use crate::Studio;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// The policy of every response: the studio's own files, `data:` images, nothing else.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const COOKIE: &str = "genlab_token";

/// A refusal: status and a message that says what to do.
pub fn refuse(status: StatusCode, message: impl Into<String>) -> Response {
    (
        status,
        axum::Json(serde_json::json!({ "error": message.into() })),
    )
        .into_response()
}

/// Whether `host` (a Host header: name and optional port) names this studio.
pub fn host_allowed(studio: &Studio, host: &str) -> bool {
    let (name, port) = match host.rsplit_once(':') {
        // "[::1]:8080" or "name:8080"; a bare "[::1]" has its colons inside the brackets.
        Some((name, port)) if !port.contains(']') => (name, port.parse::<u16>().ok()),
        _ => (host, Some(80)),
    };
    if port != Some(studio.port) {
        return false;
    }
    let name = name.to_ascii_lowercase();
    let bound = match studio.host {
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
        ip => ip.to_string(),
    };
    ["localhost", "127.0.0.1", "[::1]"].contains(&name.as_str())
        || name == bound
        // Bound to every address (with a token): the name users reach it by is not known.
        || studio.host.is_unspecified()
}

/// The name of this studio's cookie: one per port, so two studios keep their own tokens.
fn cookie_name(port: u16) -> String {
    format!("{COOKIE}_{port}")
}

/// The tokens the request carries: `?token=` first (from the printed address), then the bearer
/// header, then this studio's cookie; each with whether it came from the query.
fn tokens_of(headers: &HeaderMap, query: Option<&str>, port: u16) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    if let Some(q) = query {
        for kv in q.split('&') {
            if let Some(t) = kv.strip_prefix("token=") {
                out.push((t.to_string(), true));
            }
        }
    }
    if let Some(v) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        if let Some(t) = v.strip_prefix("Bearer ") {
            out.push((t.to_string(), false));
        }
    }
    let name = cookie_name(port);
    for cookies in headers.get_all(header::COOKIE) {
        let Ok(cookies) = cookies.to_str() else {
            continue;
        };
        for c in cookies.split(';') {
            if let Some((k, v)) = c.trim().split_once('=') {
                if k == name {
                    out.push((v.to_string(), false));
                }
            }
        }
    }
    out
}

/// Whether `token` can be a studio's token: letters, digits, `-` and `_` (nothing a URL, a
/// header or a cookie would need to escape), 8 to 128 of them.
pub fn valid_token(token: &str) -> bool {
    (8..=128).contains(&token.len())
        && token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Compare without stopping at the first difference.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

pub async fn guard(State(studio): State<Arc<Studio>>, req: Request, next: Next) -> Response {
    let headers = req.headers();
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !host_allowed(&studio, host) {
        return refuse(
            StatusCode::MISDIRECTED_REQUEST,
            format!(
                "this studio answers to localhost:{} or 127.0.0.1:{}, not to Host `{host}`",
                studio.port, studio.port
            ),
        );
    }
    let mut set_cookie = false;
    if let Some(want) = &studio.token {
        let matched = tokens_of(headers, req.uri().query(), studio.port)
            .into_iter()
            .find(|(got, _)| same(got, want));
        let Some((_, in_query)) = matched else {
            return refuse(
                StatusCode::UNAUTHORIZED,
                "this studio needs its token: open the address `genlab serve` printed (it ends in ?token=...)",
            );
        };
        set_cookie = in_query;
    }
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        if let Some(origin) = headers.get(header::ORIGIN) {
            let ok = origin
                .to_str()
                .ok()
                .and_then(|o| o.strip_prefix("http://"))
                .is_some_and(|o| host_allowed(&studio, o));
            if !ok {
                return refuse(
                    StatusCode::FORBIDDEN,
                    "requests that change something are taken only from the studio's own pages",
                );
            }
        }
        let json = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if !json {
            return refuse(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "send a JSON body (Content-Type: application/json)",
            );
        }
    }
    let (token, port) = (studio.token.clone(), studio.port);
    let mut response = next.run(req).await;
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if let (true, Some(t)) = (set_cookie, token) {
        if let Ok(v) = HeaderValue::from_str(&format!(
            "{}={t}; HttpOnly; SameSite=Strict; Path=/",
            cookie_name(port)
        )) {
            h.insert(header::SET_COOKIE, v);
        }
    }
    response
}
