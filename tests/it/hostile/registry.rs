//! A registry's answers are bounded before they are read whole: a manifest (announced as 6 GiB,
//! or streamed without end), a token reply, an error body and a tag list, each from a server
//! on 127.0.0.1 that sends gigabytes (or would, if it were let). Each pull ends in time, under
//! a memory limit far below what was offered, saying what was too large and the limit.

use std::fmt::Write as _;
use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use super::{Case, MIB, run};

/// What the fake registry answers to a request.
enum Answer {
    /// A status, headers and a small body.
    Small(u16, Vec<(&'static str, String)>, Vec<u8>),
    /// A status, then zeros without end: announced with this `Content-Length` when given,
    /// else chunked.
    Endless(u16, Option<u64>),
}

/// A request the fake registry got.
struct Request {
    path: String,
    /// The registry's own `HOST:PORT`.
    host: String,
    authorization: Option<String>,
}

/// A registry on 127.0.0.1 answering each request with `route`. Returns its `HOST:PORT`.
fn registry(route: impl Fn(&Request) -> Answer + Send + Sync + 'static) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let host = listener.local_addr().unwrap().to_string();
    let route = std::sync::Arc::new(route);
    let own = host.clone();
    std::thread::Builder::new()
        .name("hostile-registry".into())
        .spawn(move || {
            for stream in listener.incoming().flatten() {
                let route = std::sync::Arc::clone(&route);
                let own = own.clone();
                let _ = std::thread::Builder::new()
                    .name("hostile-registry-conn".into())
                    .spawn(move || serve(stream, &own, &*route));
            }
        })
        .unwrap();
    host
}

fn serve(stream: TcpStream, host: &str, route: &(dyn Fn(&Request) -> Answer + Sync)) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut stream = stream;
    loop {
        let mut first = String::new();
        if reader.read_line(&mut first).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = first.split_whitespace();
        let (method, path) = (
            parts.next().unwrap_or_default().to_string(),
            parts.next().unwrap_or_default().to_string(),
        );
        let mut line = String::new();
        let mut authorization = None;
        while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("authorization")
            {
                authorization = Some(value.trim().to_string());
            }
            line.clear();
        }
        let request = Request {
            path,
            host: host.to_string(),
            authorization,
        };
        match route(&request) {
            Answer::Small(status, headers, body) => {
                let mut head = format!("HTTP/1.1 {status} X\r\ncontent-length: {}\r\n", body.len());
                for (k, v) in headers {
                    let _ = write!(head, "{k}: {v}\r\n");
                }
                head.push_str("\r\n");
                if stream.write_all(head.as_bytes()).is_err()
                    || (method != "HEAD" && stream.write_all(&body).is_err())
                {
                    return;
                }
            }
            Answer::Endless(status, length) => {
                let head = match length {
                    Some(len) => format!(
                        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {len}\r\n\r\n"
                    ),
                    None => format!(
                        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
                    ),
                };
                if stream.write_all(head.as_bytes()).is_err() {
                    return;
                }
                let zeros = vec![b'0'; 64 * 1024];
                // Until the client hangs up (or 8 GiB: never reached by a bounded client).
                for _ in 0..(8 * 1024 * 16) {
                    let sent = if length.is_some() {
                        stream.write_all(&zeros)
                    } else {
                        write!(stream, "{:x}\r\n", zeros.len())
                            .and_then(|()| stream.write_all(&zeros))
                            .and_then(|()| stream.write_all(b"\r\n"))
                    };
                    if sent.is_err() {
                        return;
                    }
                }
                return;
            }
        }
    }
}

/// `inspect oci://HOST/hostile/plugin:1.0`, in a cache of its own, with 512 MiB of memory.
fn pull(host: &str) -> Option<super::Ran> {
    let cache = tempfile::tempdir().unwrap();
    run(
        &Case::new(&["inspect", &format!("oci://{host}/hostile/plugin:1.0")])
            .env(
                "EXTISM_PLAYGROUND_CACHE_DIR",
                cache.path().display().to_string(),
            )
            .memory(512 * MIB)
            .within(Duration::from_mins(1)),
    )
}

const SIX_GIB: u64 = 6 * 1024 * MIB;

#[test]
fn a_huge_manifest_is_refused_at_its_limit() {
    for length in [Some(SIX_GIB), None] {
        let host = registry(move |r| {
            if r.path.contains("/manifests/") {
                Answer::Endless(200, length)
            } else {
                Answer::Small(404, vec![], b"{}".to_vec())
            }
        });
        let Some(ran) = pull(&host) else { return };
        ran.expect(
            2,
            &[&format!(
                "the registry at {host} sent a manifest of more than 4 MiB, the most this app reads of one"
            )],
        );
    }
}

#[test]
fn a_huge_token_reply_is_refused_at_its_limit() {
    let host = registry(|r| {
        if r.path.starts_with("/token") {
            Answer::Endless(200, None)
        } else {
            Answer::Small(
                401,
                vec![(
                    "www-authenticate",
                    format!(
                        r#"Bearer realm="http://{}/token",service="hostile""#,
                        r.host
                    ),
                )],
                b"{}".to_vec(),
            )
        }
    });
    let Some(ran) = pull(&host) else { return };
    ran.expect(
        2,
        &[&format!(
            "the registry at {host} sent a token reply of more than 1 MiB"
        )],
    );
}

#[test]
fn huge_error_bodies_and_tag_lists_are_read_only_in_part() {
    let host = registry(|r| {
        if r.path.contains("/tags/list") {
            Answer::Endless(200, None)
        } else {
            // A missing tag, said with an endless body.
            Answer::Endless(404, None)
        }
    });
    let Some(ran) = pull(&host) else { return };
    ran.expect(2, &[&format!("{host}/hostile/plugin has no tag \"1.0\"")]);
}

#[test]
fn a_layer_larger_than_announced_stops_at_the_layer_limit() {
    // A manifest naming a small Wasm layer, whose blob then never ends.
    let layer = format!("sha256:{}", "ab".repeat(32));
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.wasm.config.v0+json", "digest": layer, "size": 2},
        "layers": [{"mediaType": "application/wasm", "digest": layer, "size": 100}],
    })
    .to_string();
    let host = registry(move |r| {
        if r.path.contains("/manifests/") {
            Answer::Small(
                200,
                vec![(
                    "content-type",
                    "application/vnd.oci.image.manifest.v1+json".into(),
                )],
                manifest.clone().into_bytes(),
            )
        } else {
            Answer::Endless(200, None)
        }
    });
    let cache = tempfile::tempdir().unwrap();
    let Some(ran) = run(&Case::new(&[
        "inspect",
        &format!("oci://{host}/hostile/plugin:1.0"),
        "--max-layer-size",
        "1048576",
    ])
    .env(
        "EXTISM_PLAYGROUND_CACHE_DIR",
        cache.path().display().to_string(),
    )
    .memory(512 * MIB)) else {
        return;
    };
    ran.expect(2, &["over the limit of 1048576"]);
}

/// The control case: a registry that asks for a token (the distribution spec's Bearer
/// challenge) gets one from its realm with the user's login, and the plugin pulls with it; the
/// bounds cost a well-behaved registry nothing. The plugin is a `TinyGo` one others wrote.
#[test]
fn a_registry_asking_for_a_token_gets_one_and_the_plugin_pulls() {
    use extism_playground::platform::digest::sha256_hex;
    let module = std::fs::read(crate::common::fixture("go-host-mult")).unwrap();
    let layer = format!("sha256:{}", sha256_hex(&module));
    let config = br#"{"architecture":"wasm","os":"wasip1"}"#.to_vec();
    let config_digest = format!("sha256:{}", sha256_hex(&config));
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.wasm.config.v0+json", "digest": config_digest, "size": config.len()},
        "layers": [{"mediaType": "application/wasm", "digest": layer, "size": module.len()}],
    })
    .to_string()
    .into_bytes();
    let manifest_digest = format!("sha256:{}", sha256_hex(&manifest));
    let basic = format!("Basic {}", base64_of("alice:s3cret"));
    let host = registry(move |r| {
        if r.path.starts_with("/token") {
            // Only for alice, and only for this repository.
            return if r.authorization.as_deref() == Some(basic.as_str())
                && r.path.contains("scope=repository%3Ateam%2Fmult%3Apull")
            {
                Answer::Small(200, vec![], br#"{"token": "t0k3n"}"#.to_vec())
            } else {
                Answer::Small(401, vec![], b"{}".to_vec())
            };
        }
        if r.authorization.as_deref() != Some("Bearer t0k3n") {
            return Answer::Small(
                401,
                vec![(
                    "www-authenticate",
                    format!(
                        r#"Bearer realm="http://{}/token",service="test",scope="repository:team/mult:pull""#,
                        r.host
                    ),
                )],
                br#"{"errors":[{"code":"UNAUTHORIZED","message":"token needed"}]}"#.to_vec(),
            );
        }
        if r.path.ends_with("/manifests/1.0") {
            Answer::Small(
                200,
                vec![
                    (
                        "content-type",
                        "application/vnd.oci.image.manifest.v1+json".into(),
                    ),
                    ("docker-content-digest", manifest_digest.clone()),
                ],
                manifest.clone(),
            )
        } else if r.path.ends_with(&format!("/blobs/{layer}")) {
            Answer::Small(200, vec![], module.clone())
        } else {
            Answer::Small(
                404,
                vec![],
                br#"{"errors":[{"code":"NOT_FOUND","message":"no"}]}"#.to_vec(),
            )
        }
    });
    let cache = tempfile::tempdir().unwrap();
    let Some(ran) = run(&Case::new(&[
        "inspect",
        &format!("oci://{host}/team/mult:1.0"),
        "--registry-user",
        "alice",
        "--registry-password-stdin",
    ])
    .stdin(b"s3cret".to_vec())
    .env(
        "EXTISM_PLAYGROUND_CACHE_DIR",
        cache.path().display().to_string(),
    )
    .memory(512 * MIB)) else {
        return;
    };
    assert_eq!(ran.code, Some(0), "{ran:#?}");
    assert!(ran.stdout.contains("mult"), "{ran:#?}");
    // Without the login, the token service refuses: said as a refusal, with what was tried.
    let Some(ran) = run(
        &Case::new(&["inspect", &format!("oci://{host}/team/mult:1.0")])
            .env(
                "EXTISM_PLAYGROUND_CACHE_DIR",
                cache.path().display().to_string(),
            )
            .env("DOCKER_CONFIG", cache.path().display().to_string())
            .memory(512 * MIB),
    ) else {
        return;
    };
    ran.expect(2, &[&format!("the registry at {host} refused")]);
}

fn base64_of(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}
