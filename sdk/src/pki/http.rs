//! [`HttpFetch`] over a blocking `reqwest` client (feature `http`): what a platform without
//! its own HTTP client plugs into [`crate::pki::OcspSource`] and [`crate::pki::CrlDpSource`].
//! Redirects are not followed (a CRL distribution point or responder that moves is a
//! configuration change, not something to chase), the body is read up to the limit and no
//! further, and the whole exchange is bounded by the timeout.

use std::io::Read;

use super::sources::{HttpFetch, HttpRequest};

/// A blocking HTTP client for the revocation sources.
#[derive(Debug, Clone, Default)]
pub struct ReqwestFetch;

impl HttpFetch for ReqwestFetch {
    fn fetch(&self, request: &HttpRequest<'_>) -> Result<Vec<u8>, String> {
        // reqwest is built with `rustls-no-provider`: install ring once (a provider installed
        // before by the platform is fine).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::blocking::Client::builder()
            .timeout(request.limits.timeout)
            .connect_timeout(request.limits.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("cannot build an HTTP client ({e})"))?;
        let builder = match request.post {
            Some((content_type, body)) => client
                .post(request.url)
                .header("content-type", content_type)
                .body(body.to_vec()),
            None => client.get(request.url),
        };
        let response = builder.send().map_err(|e| e.to_string())?;
        if response.status() != reqwest::StatusCode::OK {
            return Err(format!("HTTP {}", response.status()));
        }
        let max = request.limits.max_bytes;
        let mut body = Vec::new();
        response
            .take(u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1))
            .read_to_end(&mut body)
            .map_err(|e| format!("reading the body: {e}"))?;
        if body.len() > max {
            return Err(format!("the body is larger than {max} bytes"));
        }
        Ok(body)
    }
}
