//! `http-demo`: an outbound HTTP request through Extism's `http_request`, which the host allows
//! only for hosts in the manifest's `allowed_hosts`.

use extism_pdk::{FnResult, HttpRequest, http, plugin_fn};

/// GETs the URL given as input and returns the response body.
#[plugin_fn]
pub fn http_get(url: String) -> FnResult<Vec<u8>> {
    let request = HttpRequest::new(url.trim());
    let response = http::request::<()>(&request, None)?;
    Ok(response.body())
}
