//! Requests a file names are sent only with consent: URL modules (with the method and headers
//! the file gives them, shown before anything is sent), the redirects they lead to (same
//! origin, or asked again), registry pulls, and the logins given for registries (only to those
//! the user named). Every case runs a local server that logs each request it gets, with its
//! method and headers, and asserts what reached it: nothing, or exactly what was allowed.

use std::fmt::Write as _;
use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::{Case, run, s};
use crate::common;
use crate::common::model::{poll_until, settle, workbench};

/// A request the server got.
#[derive(Clone, Debug)]
pub struct Logged {
    pub method: String,
    pub path: String,
    /// Lower-case names.
    pub headers: Vec<(String, String)>,
}

impl Logged {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What the server answers.
pub struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn ok(body: Vec<u8>) -> Self {
        Self {
            status: 200,
            headers: Vec::new(),
            body,
        }
    }

    fn redirect(to: &str) -> Self {
        Self {
            status: 302,
            headers: vec![("Location".into(), to.into())],
            body: Vec::new(),
        }
    }

    fn status(status: u16, headers: &[(&str, &str)]) -> Self {
        Self {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                .collect(),
            body: b"{}".to_vec(),
        }
    }
}

/// A local HTTP server on 127.0.0.1 that logs every request and answers through a route.
pub struct Server {
    pub port: u16,
    log: Arc<Mutex<Vec<Logged>>>,
}

type Route = dyn Fn(&Logged) -> Answer + Send + Sync;

impl Server {
    pub fn start(route: impl Fn(&Logged) -> Answer + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let log = Arc::new(Mutex::new(Vec::new()));
        let route: Arc<Route> = Arc::new(route);
        let kept = Arc::clone(&log);
        std::thread::Builder::new()
            .name("test-server".into())
            .spawn(move || {
                for stream in listener.incoming().flatten() {
                    let log = Arc::clone(&kept);
                    let route = Arc::clone(&route);
                    std::thread::Builder::new()
                        .name("test-server-request".into())
                        .spawn(move || serve(stream, &log, &*route))
                        .unwrap();
                }
            })
            .unwrap();
        Self { port, log }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn log(&self) -> Vec<Logged> {
        self.log.lock().unwrap().clone()
    }
}

fn serve(stream: TcpStream, log: &Mutex<Vec<Logged>>, route: &Route) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let path = parts.next().unwrap_or_default().to_string();
    let mut headers = Vec::new();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).unwrap_or(0) == 0 || header.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = header.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let logged = Logged {
        method,
        path,
        headers,
    };
    log.lock().unwrap().push(logged.clone());
    let answer = route(&logged);
    let mut out = stream;
    let mut head = format!(
        "HTTP/1.1 {} X\r\nContent-Length: {}\r\nConnection: close\r\n",
        answer.status,
        answer.body.len()
    );
    for (k, v) in &answer.headers {
        let _ = write!(head, "{k}: {v}\r\n");
    }
    head.push_str("\r\n");
    let _ = out.write_all(head.as_bytes());
    let _ = out.write_all(&answer.body);
    // Whatever the client still sends (a body) is read before closing: closing with it unread
    // would reset the connection under the client's feet.
    let _ = out.shutdown(std::net::Shutdown::Write);
    let _ = out.set_read_timeout(Some(std::time::Duration::from_secs(2)));
    let _ = std::io::copy(&mut reader, &mut std::io::sink());
}

fn hello() -> Vec<u8> {
    std::fs::read(common::sample("hello")).unwrap()
}

/// Writes a manifest naming these modules (as JSON values) into `dir`.
fn manifest(dir: &Path, name: &str, modules: &serde_json::Value) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(
        &path,
        serde_json::to_vec(&serde_json::json!({ "wasm": modules })).unwrap(),
    )
    .unwrap();
    path
}

#[test]
fn a_url_module_with_a_method_and_headers_is_shown_and_not_sent_without_consent() {
    let server = Server::start(|_| Answer::ok(hello()));
    let dir = tempfile::tempdir().unwrap();
    let m = manifest(
        dir.path(),
        "m.json",
        &serde_json::json!([{
            "url": server.url("/admin/delete-everything"),
            "method": "DELETE",
            "headers": {"X-Api-Key": "k", "Cookie": "session=1"},
        }]),
    );
    let shown = format!(
        "download a module: DELETE {} with headers Cookie: session=1; X-Api-Key: k",
        server.url("/admin/delete-everything")
    );
    let Some(asked) = run(&Case::new(&["call", &s(&m), "greet"])) else {
        return;
    };
    asked.expect(2, &[&shown, "nothing was run", "--trust"]);
    // Without the grants: nothing is sent either.
    run(&Case::new(&["call", &s(&m), "greet", "--no-grants"]))
        .unwrap()
        .expect(2, &["not allowed, so nothing was sent"]);
    // Inspecting it asks the same.
    run(&Case::new(&["inspect", &s(&m)]))
        .unwrap()
        .expect(2, &[&shown]);
    assert!(server.log().is_empty(), "{:?}", server.log());
    // Consented: sent exactly as shown.
    run(&Case::new(&["call", &s(&m), "greet", "-i", "x", "--trust"]))
        .unwrap()
        .expect(0, &[]);
    let log = server.log();
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0].method, "DELETE");
    assert_eq!(log[0].header("x-api-key"), Some("k"));
    assert_eq!(log[0].header("cookie"), Some("session=1"));
}

#[test]
fn a_plain_get_is_a_grant_like_any_other() {
    let server = Server::start(|_| Answer::ok(hello()));
    let dir = tempfile::tempdir().unwrap();
    let m = manifest(
        dir.path(),
        "get.json",
        &serde_json::json!([{"url": server.url("/hello.wasm")}]),
    );
    let Some(asked) = run(&Case::new(&["call", &s(&m), "greet"])) else {
        return;
    };
    asked.expect(
        2,
        &[&format!(
            "download a module: GET {} (a plain GET)",
            server.url("/hello.wasm")
        )],
    );
    assert!(server.log().is_empty());
    let ran = run(&Case::new(&[
        "call",
        &s(&m),
        "greet",
        "-i",
        "you",
        "--trust",
    ]))
    .unwrap();
    ran.expect(0, &[]);
    assert!(ran.stdout.contains("you"), "{ran:#?}");
    let log = server.log();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].method, "GET");
    assert!(
        log[0].header("x-api-key").is_none() && log[0].header("cookie").is_none(),
        "{log:?}"
    );
}

#[test]
fn redirects_stay_on_their_origin_or_ask_again() {
    let elsewhere = Server::start(|_| Answer::ok(hello()));
    let target = elsewhere.url("/admin/delete-everything");
    let home = Server::start(move |r| match r.path.as_str() {
        "/same" => Answer::redirect("/real.wasm"),
        "/real.wasm" => Answer::ok(hello()),
        _ => Answer::redirect(&target),
    });
    let dir = tempfile::tempdir().unwrap();
    // Within its origin: followed.
    let same = manifest(
        dir.path(),
        "same.json",
        &serde_json::json!([{"url": home.url("/same")}]),
    );
    let Some(ran) = run(&Case::new(&["call", &s(&same), "greet", "--trust"])) else {
        return;
    };
    ran.expect(0, &[]);
    assert_eq!(home.log().len(), 2, "{:?}", home.log());
    // To another port: stopped before anything goes there, and the message says how to allow it.
    let other = manifest(
        dir.path(),
        "other.json",
        &serde_json::json!([{"url": home.url("/away"), "headers": {"X-Api-Key": "k"}}]),
    );
    let origin = format!("http://127.0.0.1:{}", elsewhere.port);
    run(&Case::new(&["call", &s(&other), "greet", "--trust"]))
        .unwrap()
        .expect(
            2,
            &[
                "another origin",
                "nothing was sent there",
                &format!("--allow-redirect {origin}"),
            ],
        );
    assert!(elsewhere.log().is_empty(), "{:?}", elsewhere.log());
    // Allowed by the user: followed.
    run(&Case::new(&[
        "call",
        &s(&other),
        "greet",
        "--trust",
        "--allow-redirect",
        &origin,
    ]))
    .unwrap()
    .expect(0, &[]);
    let there = elsewhere.log();
    assert_eq!(there.len(), 1);
    assert!(
        there[0].header("x-api-key").is_none(),
        "the file's headers go only to its own origin: {there:?}"
    );
    assert_eq!(home.log().last().unwrap().header("x-api-key"), Some("k"));
}

#[test]
fn a_bundles_url_module_sends_nothing_without_consent() {
    let server = Server::start(|_| Answer::ok(hello()));
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("post.bundle.json");
    let json = serde_json::json!({
        "format": "extism-playground-bundle",
        "version": 3,
        "created_by": "someone else",
        "manifest": {"wasm": [{"url": server.url("/hook"), "method": "POST"}]},
        "steps": [{"function": "greet", "input": {"text": "x"}}],
    });
    std::fs::write(&bundle, serde_json::to_vec(&json).unwrap()).unwrap();
    let Some(asked) = run(&Case::new(&["replay", &s(&bundle)])) else {
        return;
    };
    asked.expect(
        2,
        &[&format!("download a module: POST {}", server.url("/hook"))],
    );
    let tested = run(&Case::new(&["test", &s(&bundle)])).unwrap();
    assert_eq!(tested.code, Some(2), "{tested:#?}");
    assert!(tested.stdout.contains("POST"), "{tested:#?}");
    assert!(server.log().is_empty(), "{:?}", server.log());
}

/// A registry that refuses everyone, asking for Basic credentials: it logs who sent what.
fn refusing_registry() -> Server {
    Server::start(|_| Answer::status(401, &[("WWW-Authenticate", "Basic realm=\"test\"")]))
}

fn saw_credentials(server: &Server) -> bool {
    server
        .log()
        .iter()
        .any(|r| r.header("authorization").is_some())
}

#[test]
fn a_login_goes_only_to_the_registries_the_user_named() {
    let named = refusing_registry();
    let stranger = refusing_registry();
    let dir = tempfile::tempdir().unwrap();
    let both = manifest(
        dir.path(),
        "both.json",
        &serde_json::json!([
            {"url": format!("oci://{}/plugins/lib:1", named.host()), "name": "lib"},
            {"url": format!("oci://{}/plugins/main:1", stranger.host())},
        ]),
    );
    // A login with no registry named: refused before the password is even read.
    let login = ["--registry-user", "alice", "--registry-password-stdin"];
    let mut args = vec!["call", both.to_str().unwrap(), "greet", "--trust"];
    args.extend(login);
    let Some(ran) = run(&Case::new(&args).stdin(b"s3cret\n".to_vec())) else {
        return;
    };
    ran.expect(2, &["names no registry", "--registry-host"]);
    assert!(named.log().is_empty() && stranger.log().is_empty());

    // Named with --registry-host: that registry gets it, and only that one.
    let mut args = args.clone();
    let host = named.host();
    args.extend(["--registry-host", &host]);
    run(&Case::new(&args).stdin(b"s3cret\n".to_vec()))
        .unwrap()
        .expect(2, &["refused", "user alice (given for this run)"]);
    assert!(saw_credentials(&named), "{:?}", named.log());
    assert!(!saw_credentials(&stranger), "{:?}", stranger.log());

    // The stranger's registry alone, pulled anonymously: the failure names it and the flag.
    let theirs = manifest(
        dir.path(),
        "theirs.json",
        &serde_json::json!([{"url": format!("oci://{}/plugins/main:1", stranger.host())}]),
    );
    let mut args = vec!["call", theirs.to_str().unwrap(), "greet", "--trust"];
    args.extend(login);
    args.extend(["--registry-host", &host]);
    run(&Case::new(&args).stdin(b"s3cret\n".to_vec()))
        .unwrap()
        .expect(
            2,
            &[
                &stranger.host(),
                &format!("--registry-host {}", stranger.host()),
            ],
        );
    assert!(!stranger.log().is_empty(), "it was asked, anonymously");
    assert!(!saw_credentials(&stranger), "{:?}", stranger.log());

    // A suite naming the stranger's registry: the same.
    let suite = dir.path().join("s.toml");
    std::fs::write(
        &suite,
        format!(
            "[plugin]\nwasm = \"oci://{}/plugins/main:1\"\n\n[[test]]\nname = \"t\"\n[[test.step]]\ncall = \"greet\"\n",
            stranger.host()
        ),
    )
    .unwrap();
    let mut args = vec!["test", suite.to_str().unwrap(), "--trust"];
    args.extend(login);
    args.extend(["--registry-host", &host]);
    let ran = run(&Case::new(&args).stdin(b"s3cret\n".to_vec())).unwrap();
    assert_ne!(ran.code, Some(0), "{ran:#?}");
    assert!(!saw_credentials(&stranger), "{:?}", stranger.log());
}

#[test]
fn a_suites_registry_plugin_is_pulled_only_with_consent() {
    let registry = refusing_registry();
    let dir = tempfile::tempdir().unwrap();
    let suite = dir.path().join("pull.toml");
    std::fs::write(
        &suite,
        format!(
            "[plugin]\nwasm = \"oci://{}/plugins/main:1\"\n\n[[test]]\nname = \"t\"\n[[test.step]]\ncall = \"greet\"\n",
            registry.host()
        ),
    )
    .unwrap();
    let Some(asked) = run(&Case::new(&["test", &s(&suite)])) else {
        return;
    };
    assert_eq!(asked.code, Some(2), "{asked:#?}");
    let shown = format!("pull a module from the registry {}", registry.host());
    assert!(asked.stdout.contains(&shown), "{asked:#?}");
    let withheld = run(&Case::new(&["test", &s(&suite), "--no-grants"])).unwrap();
    assert_eq!(withheld.code, Some(2), "{withheld:#?}");
    assert!(
        withheld.stdout.contains("nothing was pulled"),
        "{withheld:#?}"
    );
    assert!(registry.log().is_empty(), "{:?}", registry.log());
}

// ---- the same in the window ----

#[test]
fn the_window_shows_the_request_sends_nothing_before_allow_and_asks_again_at_a_redirect() {
    use extism_playground::runner::LoadError;
    use extism_playground::trust::Grant;
    use extism_playground::workbench::{
        Answer as Reply, Command, Notice, OpenError, PluginSlot, Source,
    };

    let elsewhere = Server::start(|_| Answer::ok(hello()));
    let target = elsewhere.url("/admin/delete-everything");
    let home = Server::start(move |_| Answer::redirect(&target));
    let dir = tempfile::tempdir().unwrap();
    let m = manifest(
        dir.path(),
        "away.json",
        &serde_json::json!([{"url": home.url("/m.wasm"), "method": "PUT", "headers": {"X-Api-Key": "k"}}]),
    );
    let mut wb = workbench();
    wb.apply(Command::Open(Source::Path(m.clone())));
    settle(&mut wb);
    let asking = wb.asking().expect("it asks first");
    let Some(Grant::Download(request)) = asking.review().grants.first() else {
        panic!("{:?}", asking.review().grants)
    };
    assert_eq!(request.method, "PUT");
    assert_eq!(
        request.headers,
        [("X-Api-Key".to_string(), "k".to_string())]
    );
    assert!(home.log().is_empty(), "nothing before the answer");

    // Without its grants: nothing is sent, and it says so.
    wb.apply(Command::Answer(Reply::WithoutGrants));
    settle(&mut wb);
    assert!(home.log().is_empty(), "{:?}", home.log());
    assert!(
        matches!(
            wb.status(),
            Some(Notice::OpenFailed { error, .. })
                if matches!(&**error, OpenError::Load(LoadError::NotAllowed { .. }))
        ),
        "{:?}",
        wb.status()
    );

    // Allowed: the request goes out as shown; its redirect elsewhere is asked about.
    wb.apply(Command::Open(Source::Path(m.clone())));
    settle(&mut wb);
    wb.apply(Command::Answer(Reply::Allow));
    poll_until(&mut wb, "the redirect question", |wb| {
        wb.redirect_question().is_some()
    });
    assert_eq!(home.log().len(), 1);
    assert_eq!(home.log()[0].method, "PUT");
    let origin = format!("http://127.0.0.1:{}", elsewhere.port);
    assert_eq!(wb.redirect_question().unwrap().origin, origin);
    assert!(elsewhere.log().is_empty());
    // Cancel: nothing goes there.
    wb.apply(Command::FollowRedirect(false));
    assert!(wb.redirect_question().is_none());
    assert!(elsewhere.log().is_empty());

    // Asked again and followed: the grants are not asked about twice.
    wb.apply(Command::Open(Source::Path(m.clone())));
    settle(&mut wb);
    wb.apply(Command::Answer(Reply::Allow));
    poll_until(&mut wb, "the redirect question", |wb| {
        wb.redirect_question().is_some()
    });
    wb.apply(Command::FollowRedirect(true));
    poll_until(&mut wb, "the plugin", |wb| {
        matches!(wb.plugin(), PluginSlot::Ready(_)) || wb.asking().is_some()
    });
    assert!(wb.asking().is_none(), "asked twice: {:?}", wb.status());
    assert!(wb.session().is_some(), "{:?}", wb.status());
    assert_eq!(elsewhere.log().len(), 1, "{:?}", elsewhere.log());
}
