//! A registry's HTTP for pulls and tag checks, with every answer bounded: what is read whole
//! (manifests and indexes, tag lists, token replies, error bodies) is read up to a limit and
//! refused past it, so a registry (or anything answering in its place) that sends gigabytes
//! costs a few megabytes here. Layers are streamed by the caller, which holds them to the
//! layer limit. Authentication is the distribution spec's: an anonymous or Basic request, and
//! on a `401` with a `Bearer` challenge, a token fetched from the realm it names (with the
//! user's credentials, when there are any) and the request made again with it.
//!
//! Failures are given as oci-client's errors, so one place (`Context::explain`) says what
//! each means; an answer over its limit is [`RegistryError::AnswerTooLarge`].

use oci_client::errors::{OciDistributionError, OciEnvelope};
use oci_client::secrets::RegistryAuth;
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap, WWW_AUTHENTICATE};
use reqwest::{Method, Response, StatusCode};

use super::{Reference, RegistryError, Settings};

/// Largest manifest or index read (containerd's limit too).
pub(crate) const MAX_MANIFEST_BYTES: u64 = 4 * 1024 * 1024;
/// Largest token reply read.
pub(crate) const MAX_TOKEN_BYTES: u64 = 1024 * 1024;
/// Largest tag list read.
pub(crate) const MAX_TAG_LIST_BYTES: u64 = 4 * 1024 * 1024;
/// Largest error body read (its start is enough to say what went wrong).
const MAX_ERROR_BYTES: u64 = 64 * 1024;

/// Why a request failed: as oci-client would say it, or an answer over its limit.
pub(crate) enum Failure {
    Oci(OciDistributionError),
    TooLarge { what: &'static str, limit: u64 },
}

impl From<OciDistributionError> for Failure {
    fn from(e: OciDistributionError) -> Self {
        Self::Oci(e)
    }
}

impl From<reqwest::Error> for Failure {
    fn from(e: reqwest::Error) -> Self {
        Self::Oci(OciDistributionError::RequestError(e))
    }
}

/// The HTTP client for registries with this timeout: kept for the process's life (making one
/// loads the system's certificate roots), one per timeout.
fn client(settings: &Settings) -> reqwest::Client {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock, PoisonError};
    static CLIENTS: OnceLock<Mutex<HashMap<std::time::Duration, reqwest::Client>>> =
        OnceLock::new();
    super::install_crypto_provider();
    let mut clients = CLIENTS
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    clients
        .entry(settings.timeout)
        .or_insert_with(|| {
            reqwest::Client::builder()
                .connect_timeout(settings.timeout)
                .read_timeout(settings.timeout)
                // Never from HTTPS down to plain HTTP (the Authorization header is dropped on
                // a redirect to another host already).
                .redirect(reqwest::redirect::Policy::custom(|attempt| {
                    let downgrade = attempt.url().scheme() == "http"
                        && attempt
                            .previous()
                            .last()
                            .is_some_and(|from| from.scheme() == "https");
                    if downgrade {
                        attempt.error("a redirect from HTTPS to plain HTTP")
                    } else if attempt.previous().len() > 10 {
                        attempt.error("more than 10 redirects")
                    } else {
                        attempt.follow()
                    }
                }))
                .user_agent(concat!("extism-playground/", env!("CARGO_PKG_VERSION")))
                .build()
                .unwrap_or_default()
        })
        .clone()
}

/// One repository of one registry, spoken to with the user's credentials: the token it got
/// is kept for the requests that follow.
pub(crate) struct Repository {
    client: reqwest::Client,
    /// `http` or `https`.
    scheme: &'static str,
    registry: String,
    /// The repository's name (`team/plugin`).
    name: String,
    auth: RegistryAuth,
    /// The `Authorization` header value that worked (a bearer token, or Basic credentials).
    authorization: tokio::sync::Mutex<Option<String>>,
    /// How long an answer read whole may take in all (a registry trickling bytes just inside
    /// the per-read timeout does not keep a manifest read going).
    whole_answer: std::time::Duration,
}

impl Repository {
    pub(crate) fn new(reference: &Reference, settings: &Settings, auth: &RegistryAuth) -> Self {
        Self {
            client: client(settings),
            scheme: if settings.plain_http(reference) {
                "http"
            } else {
                "https"
            },
            registry: reference.request_host().to_string(),
            name: reference.repository.clone(),
            auth: auth.clone(),
            authorization: tokio::sync::Mutex::new(match auth {
                RegistryAuth::Bearer(token) => Some(format!("Bearer {token}")),
                RegistryAuth::Anonymous | RegistryAuth::Basic(..) => None,
            }),
            whole_answer: settings.timeout.saturating_mul(4),
        }
    }

    fn url(&self, path: &str) -> String {
        format!(
            "{}://{}/v2/{}/{path}",
            self.scheme, self.registry, self.name
        )
    }

    /// Sends a request, authenticating once when the registry asks for it. With `whole`, the
    /// answer is to be read whole: it must come within [`Self::whole_answer`].
    async fn send(
        &self,
        method: Method,
        url: &str,
        accept: &str,
        whole: bool,
    ) -> Result<Response, Failure> {
        let request = |authorization: Option<&str>| {
            let mut builder = self.client.request(method.clone(), url);
            if whole {
                builder = builder.timeout(self.whole_answer);
            }
            if !accept.is_empty() {
                builder = builder.header(ACCEPT, accept);
            }
            if let Some(value) = authorization {
                builder = builder.header(AUTHORIZATION, value);
            }
            builder.send()
        };
        let known = self.authorization.lock().await.clone();
        let response = request(known.as_deref()).await?;
        if response.status() != StatusCode::UNAUTHORIZED {
            return Ok(response);
        }
        let challenge = challenge(response.headers());
        drop(bounded(response, MAX_ERROR_BYTES).await);
        let authorization = match challenge {
            Some(Challenge::Bearer {
                realm,
                service,
                scope,
            }) => {
                let token = self
                    .token(&realm, service.as_deref(), scope.as_deref())
                    .await?;
                format!("Bearer {token}")
            }
            Some(Challenge::Basic) => match &self.auth {
                RegistryAuth::Basic(user, password) => basic(user, password),
                _ => return Err(unauthorized(url)),
            },
            None => return Err(unauthorized(url)),
        };
        if known.as_deref() == Some(authorization.as_str()) {
            return Err(unauthorized(url));
        }
        let response = request(Some(&authorization)).await?;
        if response.status() != StatusCode::UNAUTHORIZED {
            *self.authorization.lock().await = Some(authorization);
            return Ok(response);
        }
        drop(bounded(response, MAX_ERROR_BYTES).await);
        Err(unauthorized(url))
    }

    /// A token from `realm` for pulling this repository (with the user's credentials, when
    /// there are any), its reply read up to [`MAX_TOKEN_BYTES`].
    async fn token(
        &self,
        realm: &str,
        service: Option<&str>,
        scope: Option<&str>,
    ) -> Result<String, Failure> {
        let own_scope = format!("repository:{}:pull", self.name);
        let mut query = vec![("scope", scope.unwrap_or(&own_scope))];
        if let Some(service) = service {
            query.push(("service", service));
        }
        let Ok(realm_url) = reqwest::Url::parse(realm) else {
            return Err(OciDistributionError::AuthenticationFailure(format!(
                "its token service {realm:?} is not a web address"
            ))
            .into());
        };
        // A registry spoken to over HTTPS gets no token service over plain HTTP, and the user's
        // login goes to a token service only over HTTPS or on the registry's own host.
        if self.scheme == "https" && realm_url.scheme() != "https" {
            return Err(OciDistributionError::AuthenticationFailure(format!(
                "it names a token service over plain HTTP ({realm}), which was not asked"
            ))
            .into());
        }
        let own_host = realm_url
            .host_str()
            .is_some_and(|h| self.registry.split(':').next() == Some(h));
        let mut request = self
            .client
            .get(realm_url.clone())
            .query(&query)
            .timeout(self.whole_answer);
        if let RegistryAuth::Basic(user, password) = &self.auth
            && (realm_url.scheme() == "https" || own_host)
        {
            request = request.header(AUTHORIZATION, basic(user, password));
        }
        let response = request.send().await?;
        let status = response.status();
        let body = whole(response, "a token reply", MAX_TOKEN_BYTES).await?;
        if !status.is_success() {
            return Err(OciDistributionError::AuthenticationFailure(format!(
                "the token service answered {status}: {}",
                String::from_utf8_lossy(&body[..body.len().min(300)])
            ))
            .into());
        }
        let reply: TokenReply = serde_json::from_slice(&body).map_err(|e| {
            OciDistributionError::AuthenticationFailure(format!(
                "the token service's reply is not a token ({e})"
            ))
        })?;
        reply.token.or(reply.access_token).ok_or_else(|| {
            OciDistributionError::AuthenticationFailure(
                "the token service's reply holds no token".to_string(),
            )
            .into()
        })
    }

    /// The manifest (or index) `reference` names (a tag or a digest), read up to
    /// [`MAX_MANIFEST_BYTES`], with the digest it is known by: the one asked for, else the
    /// registry's `Docker-Content-Digest`, else its bytes' sha256. The caller checks the bytes
    /// against it.
    pub(crate) async fn manifest(
        &self,
        reference: &str,
        accept: &[&str],
    ) -> Result<(Vec<u8>, String), Failure> {
        let url = self.url(&format!("manifests/{reference}"));
        let response = self
            .send(Method::GET, &url, &accept.join(", "), true)
            .await?;
        let response = success(response, &url).await?;
        let header = content_digest(response.headers());
        let body = whole(response, "a manifest", MAX_MANIFEST_BYTES).await?;
        let digest = if super::digest_hex(reference).is_some() {
            reference.to_ascii_lowercase()
        } else {
            header
                .unwrap_or_else(|| format!("sha256:{}", crate::platform::digest::sha256_hex(&body)))
        };
        Ok((body, digest))
    }

    /// The digest the tag or digest `reference` names now: the registry's
    /// `Docker-Content-Digest` for a `HEAD`, else the sha256 of the manifest itself.
    pub(crate) async fn manifest_digest(
        &self,
        reference: &str,
        accept: &[&str],
    ) -> Result<String, Failure> {
        let url = self.url(&format!("manifests/{reference}"));
        let response = self
            .send(Method::HEAD, &url, &accept.join(", "), true)
            .await?;
        let response = success(response, &url).await?;
        if let Some(digest) = content_digest(response.headers()) {
            return Ok(digest);
        }
        let (raw, _) = self.manifest(reference, accept).await?;
        Ok(format!(
            "sha256:{}",
            crate::platform::digest::sha256_hex(&raw)
        ))
    }

    /// The repository's tags, read up to [`MAX_TAG_LIST_BYTES`].
    pub(crate) async fn tags(&self) -> Result<Vec<String>, Failure> {
        let url = self.url("tags/list");
        let response = self
            .send(Method::GET, &url, "application/json", true)
            .await?;
        let response = success(response, &url).await?;
        let body = whole(response, "a tag list", MAX_TAG_LIST_BYTES).await?;
        let tags: TagList = serde_json::from_slice(&body).map_err(|e| {
            OciDistributionError::SpecViolationError(format!("the tag list is not JSON ({e})"))
        })?;
        Ok(tags.tags.unwrap_or_default())
    }

    /// The blob `digest`, to be streamed by the caller (a failure's body is read up to a
    /// small limit).
    pub(crate) async fn blob(&self, digest: &str) -> Result<Response, Failure> {
        let url = self.url(&format!("blobs/{digest}"));
        let response = self.send(Method::GET, &url, "", false).await?;
        success(response, &url).await
    }
}

/// A token service's reply (registries name the token either way).
#[derive(serde::Deserialize)]
struct TokenReply {
    token: Option<String>,
    access_token: Option<String>,
}

/// A repository's tag list.
#[derive(serde::Deserialize)]
struct TagList {
    #[serde(default)]
    tags: Option<Vec<String>>,
}

/// `response` when it succeeded; else what its status and (bounded) body say.
async fn success(response: Response, url: &str) -> Result<Response, Failure> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let body = bounded(response, MAX_ERROR_BYTES)
        .await?
        .unwrap_or_default();
    Err(match status {
        StatusCode::UNAUTHORIZED => unauthorized(url),
        s if s.is_client_error() => match serde_json::from_slice::<OciEnvelope>(&body) {
            Ok(envelope) => Failure::Oci(OciDistributionError::RegistryError {
                envelope,
                url: url.to_string(),
            }),
            Err(_) => server_error(status, url, &body),
        },
        _ => server_error(status, url, &body),
    })
}

fn server_error(status: StatusCode, url: &str, body: &[u8]) -> Failure {
    Failure::Oci(OciDistributionError::ServerError {
        code: status.as_u16(),
        url: url.to_string(),
        message: String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned(),
    })
}

fn unauthorized(url: &str) -> Failure {
    Failure::Oci(OciDistributionError::UnauthorizedError {
        url: url.to_string(),
    })
}

fn basic(user: &str, password: &str) -> String {
    use base64::Engine as _;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

/// The body of `response`, or `None` when it is longer than `limit` (it is not read past
/// that: a `Content-Length` over it is refused before a byte is read).
async fn bounded(mut response: Response, limit: u64) -> Result<Option<Vec<u8>>, Failure> {
    if response.content_length().is_some_and(|len| len > limit) {
        return Ok(None);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() as u64 + chunk.len() as u64 > limit {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body))
}

/// The body of `response`, the `what` of a registry's answers, refused past `limit`.
async fn whole(response: Response, what: &'static str, limit: u64) -> Result<Vec<u8>, Failure> {
    bounded(response, limit)
        .await?
        .ok_or(Failure::TooLarge { what, limit })
}

fn content_digest(headers: &HeaderMap) -> Option<String> {
    headers
        .get("docker-content-digest")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_ascii_lowercase())
        .filter(|d| super::digest_hex(d).is_some())
}

/// What a `401`'s `WWW-Authenticate` asks for.
#[derive(Debug, PartialEq, Eq)]
enum Challenge {
    Bearer {
        realm: String,
        service: Option<String>,
        scope: Option<String>,
    },
    Basic,
}

fn challenge(headers: &HeaderMap) -> Option<Challenge> {
    parse_challenge(headers.get(WWW_AUTHENTICATE)?.to_str().ok()?)
}

/// Parses `Bearer realm="…",service="…",scope="…"` (or `Basic …`).
fn parse_challenge(text: &str) -> Option<Challenge> {
    let text = text.trim();
    let (scheme, rest) = text.split_once(' ').unwrap_or((text, ""));
    if scheme.eq_ignore_ascii_case("basic") {
        return Some(Challenge::Basic);
    }
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let mut params = std::collections::BTreeMap::new();
    let mut rest = rest.trim();
    while !rest.is_empty() {
        let (key, after) = rest.split_once('=')?;
        let key = key.trim().to_ascii_lowercase();
        let after = after.trim_start();
        let (value, next) = if let Some(quoted) = after.strip_prefix('"') {
            let end = quoted.find('"')?;
            (&quoted[..end], &quoted[end + 1..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim(), &after[end..])
        };
        params.insert(key, value.to_string());
        rest = next.trim_start().trim_start_matches(',').trim_start();
    }
    let realm = params.remove("realm")?;
    // Only a web address: a challenge naming anything else is not followed.
    if !(realm.starts_with("https://") || realm.starts_with("http://")) {
        return None;
    }
    Some(Challenge::Bearer {
        realm,
        service: params.remove("service"),
        scope: params.remove("scope"),
    })
}

impl super::Context<'_> {
    /// Says what a failed request means here.
    pub(crate) fn fail(&self, failure: Failure) -> RegistryError {
        match failure {
            Failure::Oci(e) => self.explain(e),
            Failure::TooLarge { what, limit } => RegistryError::AnswerTooLarge {
                registry: self.reference.registry.clone(),
                what,
                limit,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_are_read_as_the_spec_writes_them() {
        assert_eq!(
            parse_challenge(
                r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:a/b:pull""#
            ),
            Some(Challenge::Bearer {
                realm: "https://auth.docker.io/token".into(),
                service: Some("registry.docker.io".into()),
                scope: Some("repository:a/b:pull".into()),
            })
        );
        assert_eq!(
            parse_challenge(r#"Basic realm="Registry Realm""#),
            Some(Challenge::Basic)
        );
        assert_eq!(
            parse_challenge("Bearer realm=http://h:1/t"),
            Some(Challenge::Bearer {
                realm: "http://h:1/t".into(),
                service: None,
                scope: None,
            })
        );
        // A realm that is not a web address, or no realm: nothing to follow.
        assert_eq!(
            parse_challenge(r#"Bearer realm="file:///etc/passwd""#),
            None
        );
        assert_eq!(parse_challenge(r#"Bearer service="x""#), None);
        assert_eq!(parse_challenge("Negotiate"), None);
    }
}
