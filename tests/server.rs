//! The transform server, for real: actix's test service in-process and a real server on a
//! 127.0.0.1 port (bound to port 0, stopped at the end of each test, bounded loops).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use actix_web::{test as atest, web, App};
use packetpivot::server::{self, ServerConfig};
use packetpivot::session::splitter::SplitOptions;
use packetpivot::transforms::store::{CaptureStore, StoreConfig};

mod common;

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

struct Fixture {
    _dir: tempfile::TempDir,
    root: PathBuf,
    data_dir: PathBuf,
    outside: PathBuf,
}

/// A capture root holding a few test captures (and a symlink that leads out), and a data
/// directory beside it.
fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("evidence");
    let data_dir = dir.path().join("data");
    let outside = dir.path().join("elsewhere");
    for d in [&root, &outside] {
        std::fs::create_dir_all(d).expect("mkdir");
    }
    for name in [
        "zeek__wikipedia.pcap",
        "wireshark__many_interfaces.pcapng.1",
        "zeek__ssh.pcap",
        "pcapfix__test_damaged.pcap",
    ] {
        std::fs::copy(data().join(name), root.join(name)).expect("copy");
    }
    std::fs::copy(
        data().join("zeek__rotation.pcap"),
        outside.join("secret.pcap"),
    )
    .expect("copy");
    #[cfg(unix)]
    std::os::unix::fs::symlink(outside.join("secret.pcap"), root.join("link.pcap"))
        .expect("symlink");
    Fixture {
        _dir: dir,
        root,
        data_dir,
        outside,
    }
}

fn config(f: &Fixture, body_limit: usize) -> ServerConfig {
    let store = StoreConfig {
        capture_roots: vec![f.root.canonicalize().expect("root")],
        data_dir: f.data_dir.clone(),
        base_url: Some("http://127.0.0.1:8080".into()),
        split: SplitOptions::default(),
    };
    std::fs::create_dir_all(&f.data_dir).expect("data dir");
    ServerConfig {
        store: CaptureStore::new(store),
        body_limit,
    }
}

fn request(
    entity_type: &str,
    value: &str,
    fields: &[(&str, &str)],
    settings: &[(&str, &str)],
    soft: u32,
) -> String {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let fields: String = fields
        .iter()
        .map(|(n, v)| {
            format!(
                "<Field Name=\"{}\" DisplayName=\"{}\">{}</Field>",
                esc(n),
                esc(n),
                esc(v)
            )
        })
        .collect();
    let settings: String = settings
        .iter()
        .map(|(n, v)| format!("<Field Name=\"{}\">{}</Field>", esc(n), esc(v)))
        .collect();
    format!(
        "<MaltegoMessage><MaltegoTransformRequestMessage><Entities><Entity Type=\"{}\"><AdditionalFields>{fields}</AdditionalFields><Value>{}</Value><Weight>100</Weight></Entity></Entities><TransformFields>{settings}</TransformFields><Limits SoftLimit=\"{soft}\" HardLimit=\"10000\"/></MaltegoTransformRequestMessage></MaltegoMessage>",
        esc(entity_type),
        esc(value)
    )
}

/// (type, value) of an entity, or (kind, text) of a UI message or exception.
type Pairs = Vec<(String, String)>;

/// Parses a response strictly; returns (root child name, entity values, UI messages).
fn parse(body: &str) -> (String, Pairs, Pairs) {
    let doc = roxmltree::Document::parse(body)
        .unwrap_or_else(|e| panic!("not well-formed ({e}):\n{body}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "MaltegoMessage");
    let kind = root
        .children()
        .find(|n| n.is_element())
        .map(|n| n.tag_name().name().to_string())
        .unwrap_or_default();
    let entities = doc
        .descendants()
        .filter(|n| n.has_tag_name("Entity"))
        .map(|e| {
            let value = e
                .children()
                .find(|c| c.has_tag_name("Value"))
                .and_then(|v| v.text())
                .unwrap_or_default()
                .to_string();
            (e.attribute("Type").unwrap_or_default().to_string(), value)
        })
        .collect();
    let mut messages: Vec<(String, String)> = doc
        .descendants()
        .filter(|n| n.has_tag_name("UIMessage"))
        .map(|m| {
            (
                m.attribute("MessageType").unwrap_or_default().to_string(),
                m.text().unwrap_or_default().to_string(),
            )
        })
        .collect();
    messages.extend(
        doc.descendants()
            .filter(|n| n.has_tag_name("Exception"))
            .map(|m| {
                (
                    "Exception".to_string(),
                    m.text().unwrap_or_default().to_string(),
                )
            }),
    );
    (kind, entities, messages)
}

macro_rules! app {
    ($cfg:expr) => {
        atest::init_service(
            App::new()
                .app_data(web::Data::new($cfg))
                .configure(server::configure),
        )
        .await
    };
}

/// POSTs a body; evaluates to (status, body text).
macro_rules! post {
    ($app:expr, $uri:expr, $body:expr $(,)?) => {{
        let req = atest::TestRequest::post()
            .uri($uri)
            .set_payload($body)
            .to_request();
        let resp = atest::call_service($app, req).await;
        let status = resp.status().as_u16();
        let bytes = atest::read_body(resp).await;
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }};
}

#[actix_web::test]
async fn replays_every_reference_request() {
    let f = fixture();
    let app = app!(config(&f, 1 << 20));
    let dir = data().join("maltego/requests");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("requests dir").flatten() {
        let body = std::fs::read(entry.path()).expect("read");
        let name = entry.file_name().to_string_lossy().into_owned();
        let req = atest::TestRequest::post()
            .uri("/run/capture-to-info")
            .insert_header(("Content-Type", "text/xml"))
            .set_payload(body)
            .to_request();
        let resp = atest::call_service(&app, req).await;
        assert_eq!(resp.status().as_u16(), 200, "{name}");
        let text = String::from_utf8_lossy(&atest::read_body(resp).await).into_owned();
        let (kind, _entities, messages) = parse(&text);
        let malformed = ["malformed", "doctype", "no_entities", "bad_weight"]
            .iter()
            .any(|m| name.contains(m));
        if malformed {
            assert_eq!(kind, "MaltegoTransformExceptionMessage", "{name}: {text}");
            assert!(
                !messages.is_empty() && !messages[0].1.is_empty(),
                "{name}: exception names the problem"
            );
        } else {
            // The fixtures name captures that do not exist here: a precise exception or
            // a response, never anything else.
            assert!(
                kind == "MaltegoTransformResponseMessage"
                    || kind == "MaltegoTransformExceptionMessage",
                "{name}: {kind}"
            );
        }
        seen += 1;
    }
    assert!(seen >= 16, "only {seen} requests");
}

#[actix_web::test]
async fn answers_routes_like_maltego_trx() {
    let f = fixture();
    let app = app!(config(&f, 1 << 20));
    let get = |uri: &str| atest::TestRequest::get().uri(uri).to_request();
    let resp = atest::call_service(&app, get("/")).await;
    assert_eq!(resp.status().as_u16(), 200);
    assert!(
        String::from_utf8_lossy(&atest::read_body(resp).await).contains("Maltego Transform Server")
    );
    for uri in ["/run/capture-to-sessions", "/run/Capture-To-Sessions/"] {
        let resp = atest::call_service(&app, get(uri)).await;
        assert_eq!(resp.status().as_u16(), 200, "{uri}");
        let body = String::from_utf8_lossy(&atest::read_body(resp).await).into_owned();
        assert!(body.contains("send a POST request"), "{body}");
    }
    for uri in ["/run/nosuchtransform", "/run/", "/nothing"] {
        let resp = atest::call_service(&app, get(uri)).await;
        assert_eq!(resp.status().as_u16(), 404, "{uri}");
    }
    let resp = atest::call_service(
        &app,
        atest::TestRequest::put()
            .uri("/run/capture-to-sessions")
            .to_request(),
    )
    .await;
    assert_eq!(resp.status().as_u16(), 405);
    assert_eq!(
        resp.headers().get("allow").and_then(|v| v.to_str().ok()),
        Some(server::ALLOW)
    );
    let resp = atest::call_service(
        &app,
        atest::TestRequest::default()
            .method(actix_web::http::Method::OPTIONS)
            .uri("/run/capture-to-sessions")
            .to_request(),
    )
    .await;
    assert_eq!(resp.status().as_u16(), 200);
    // Unknown transform on POST: 404 with an exception naming it.
    let (status, body) = post!(
        &app,
        "/run/capture-to-session",
        request("packetpivot.Capture", "x", &[], &[], 12)
    );
    assert_eq!(status, 404);
    let (kind, _, msgs) = parse(&body);
    assert_eq!(kind, "MaltegoTransformExceptionMessage");
    assert!(
        msgs[0].1.contains("capture-to-sessions"),
        "suggests the right name: {}",
        msgs[0].1
    );
    // Empty body: the TDS probe.
    let (status, body) = post!(&app, "/run/capture-to-sessions", String::new());
    assert_eq!(status, 200);
    let (kind, entities, msgs) = parse(&body);
    assert_eq!(kind, "MaltegoTransformResponseMessage");
    assert!(entities.is_empty() && msgs.iter().any(|(t, _)| t == "Inform"));
}

#[actix_web::test]
async fn splits_a_capture_into_session_entities() {
    let f = fixture();
    let app = app!(config(&f, 1 << 20));
    let (status, body) = post!(
        &app,
        "/run/capture-to-sessions",
        request(
            "packetpivot.Capture",
            "zeek__wikipedia.pcap",
            &[],
            &[],
            10000
        ),
    );
    assert_eq!(status, 200);
    let (kind, entities, msgs) = parse(&body);
    assert_eq!(kind, "MaltegoTransformResponseMessage", "{body}");
    assert_eq!(entities.len(), 38, "{msgs:?}");
    assert!(entities.iter().all(|(t, _)| t == "packetpivot.Session"));
    assert!(
        entities[0].1.starts_with("TCP "),
        "largest session first: {}",
        entities[0].1
    );
    assert!(msgs.is_empty(), "{msgs:?}");
    // Soft limit: capped, with an Inform, files all written.
    let (_, body) = post!(
        &app,
        "/run/capture-to-sessions",
        request("packetpivot.Capture", "zeek__wikipedia.pcap", &[], &[], 5),
    );
    let (_, entities, msgs) = parse(&body);
    assert_eq!(entities.len(), 5);
    assert!(
        msgs.iter()
            .any(|(t, m)| t == "Inform" && m.contains("returned 5 of 38 sessions")),
        "{msgs:?}"
    );
    let dirs: Vec<_> = std::fs::read_dir(&f.data_dir)
        .expect("data")
        .flatten()
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    assert_eq!(dirs.len(), 1);
    let files = std::fs::read_dir(dirs[0].path()).expect("dir").count();
    assert_eq!(files, 40, "38 session files, the index and the facts");
    // Filters.
    let (_, body) = post!(
        &app,
        "/run/capture-to-sessions",
        request(
            "packetpivot.Capture",
            "zeek__wikipedia.pcap",
            &[],
            &[("protocols", "udp"), ("ports", "53")],
            10000
        ),
    );
    let (_, entities, _) = parse(&body);
    assert!(
        !entities.is_empty() && entities.iter().all(|(_, v)| v.starts_with("UDP ")),
        "{entities:?}"
    );
    // A setting that is not a number is named.
    let (_, body) = post!(
        &app,
        "/run/capture-to-sessions",
        request(
            "packetpivot.Capture",
            "zeek__wikipedia.pcap",
            &[],
            &[("min_packets", "lots")],
            12
        ),
    );
    let (kind, _, msgs) = parse(&body);
    assert_eq!(kind, "MaltegoTransformExceptionMessage");
    assert!(msgs[0].1.contains("min_packets"));
}

/// A repeated request is answered from memory, byte for byte as the first time; other
/// settings get their own answer; a capture rewritten in place is split again, never answered
/// from what was kept for its old content.
#[actix_web::test]
async fn repeats_answers_from_memory_and_never_a_stale_one() {
    let f = fixture();
    let app = app!(config(&f, 1 << 20));
    let ask = |soft: u32, settings: &[(&str, &str)]| {
        request(
            "packetpivot.Capture",
            "zeek__wikipedia.pcap",
            &[],
            settings,
            soft,
        )
    };
    let (_, first) = post!(&app, "/run/capture-to-sessions", ask(10000, &[]));
    let (_, again) = post!(&app, "/run/capture-to-sessions", ask(10000, &[]));
    assert_eq!(first, again);
    assert_eq!(parse(&first).1.len(), 38);
    let (_, five) = post!(&app, "/run/capture-to-sessions", ask(5, &[]));
    assert_eq!(parse(&five).1.len(), 5);
    let (_, udp) = post!(
        &app,
        "/run/capture-to-sessions",
        ask(10000, &[("protocols", "udp")])
    );
    let udp_sessions = parse(&udp).1;
    assert!(!udp_sessions.is_empty() && udp_sessions.len() < 38);
    assert!(udp_sessions.iter().all(|(_, v)| v.starts_with("UDP ")));
    // A server that keeps nothing answers the same bytes.
    let mut cfg = config(&f, 1 << 20);
    let mut store = cfg.store.config().clone();
    store.split.limits.answer_cache_bytes = 0;
    cfg.store = CaptureStore::new(store);
    let fresh = app!(cfg);
    let (_, uncached) = post!(&fresh, "/run/capture-to-sessions", ask(10000, &[]));
    assert_eq!(uncached, first);
    // The evidence file is replaced by another capture under the same name.
    let path = f.root.join("zeek__wikipedia.pcap");
    std::fs::copy(data().join("zeek__ssh.pcap"), &path).expect("replace");
    let later = std::time::SystemTime::now() + Duration::from_secs(5);
    std::fs::File::options()
        .write(true)
        .open(&path)
        .and_then(|file| file.set_modified(later))
        .expect("mtime");
    let (_, replaced) = post!(&app, "/run/capture-to-sessions", ask(10000, &[]));
    assert_ne!(replaced, first);
    let ssh = parse(&replaced).1;
    assert!(!ssh.is_empty() && ssh.len() != 38, "{} sessions", ssh.len());
}

#[actix_web::test]
async fn accepts_a_file_entity_with_a_path_field_and_reports_damage() {
    let f = fixture();
    let app = app!(config(&f, 1 << 20));
    let path = f
        .root
        .join("pcapfix__test_damaged.pcap")
        .display()
        .to_string();
    let (_, body) = post!(
        &app,
        "/run/capture-to-sessions",
        request("maltego.File", "damaged", &[("source", &path)], &[], 12),
    );
    let (kind, entities, msgs) = parse(&body);
    assert_eq!(kind, "MaltegoTransformResponseMessage", "{body}");
    assert_eq!(entities.len(), 1);
    assert!(
        msgs.iter()
            .any(|(t, m)| t == "PartialError" && m.contains("cut short")),
        "{msgs:?}"
    );
}

#[actix_web::test]
async fn refuses_captures_outside_the_roots() {
    let f = fixture();
    let app = app!(config(&f, 1 << 20));
    let secret = f.outside.join("secret.pcap").display().to_string();
    for value in [
        "../elsewhere/secret.pcap",
        secret.as_str(),
        "link.pcap",
        "/etc/passwd",
    ] {
        let (status, body) = post!(
            &app,
            "/run/capture-to-sessions",
            request("packetpivot.Capture", value, &[], &[], 12)
        );
        assert_eq!(status, 200);
        let (kind, _, msgs) = parse(&body);
        assert_eq!(kind, "MaltegoTransformExceptionMessage", "{value}: {body}");
        assert!(
            msgs[0].1.contains("outside the capture roots"),
            "{value}: {}",
            msgs[0].1
        );
    }
    assert!(
        !f.data_dir
            .read_dir()
            .map(|mut d| d.any(|e| e
                .map(|e| !e.file_name().to_string_lossy().starts_with('.'))
                .unwrap_or(false)))
            .unwrap_or(false),
        "nothing split"
    );
}

#[actix_web::test]
async fn refuses_oversized_bodies_and_doctypes() {
    let f = fixture();
    let app = app!(config(&f, 4096));
    let big = format!(
        "{}{}",
        request("packetpivot.Capture", "x", &[], &[], 12),
        " ".repeat(5000)
    );
    let (status, body) = post!(&app, "/run/capture-to-sessions", big);
    assert_eq!(status, 200);
    let (kind, _, msgs) = parse(&body);
    assert_eq!(kind, "MaltegoTransformExceptionMessage");
    assert!(msgs[0].1.contains("4096 byte limit"), "{}", msgs[0].1);
    let doctype = "<!DOCTYPE m [<!ENTITY x \"zeek__wikipedia.pcap\">]><MaltegoMessage><MaltegoTransformRequestMessage><Entities><Entity Type=\"packetpivot.Capture\"><Value>&x;</Value></Entity></Entities></MaltegoTransformRequestMessage></MaltegoMessage>";
    let (status, body) = post!(&app, "/run/capture-to-sessions", doctype.to_string());
    assert_eq!(status, 200);
    let (kind, _, msgs) = parse(&body);
    assert_eq!(kind, "MaltegoTransformExceptionMessage");
    assert!(
        msgs[0].1.to_ascii_lowercase().contains("doctype"),
        "{}",
        msgs[0].1
    );
}

#[actix_web::test]
async fn serves_only_session_files_it_wrote() {
    let f = fixture();
    let app = app!(config(&f, 1 << 20));
    let (_, body) = post!(
        &app,
        "/run/capture-to-sessions",
        request("packetpivot.Capture", "zeek__wikipedia.pcap", &[], &[], 1)
    );
    let doc = roxmltree::Document::parse(&body).expect("xml");
    let url = doc
        .descendants()
        .find(|n| n.has_tag_name("Field") && n.attribute("Name") == Some("pcap.url"))
        .and_then(|n| n.text())
        .expect("download url")
        .to_string();
    let path = url.trim_start_matches("http://127.0.0.1:8080").to_string();
    let resp = atest::call_service(&app, atest::TestRequest::get().uri(&path).to_request()).await;
    assert_eq!(resp.status().as_u16(), 200, "{path}");
    let served = atest::read_body(resp).await;
    let local = doc
        .descendants()
        .find(|n| n.has_tag_name("Field") && n.attribute("Name") == Some("pcap.path"))
        .and_then(|n| n.text())
        .expect("path");
    assert_eq!(
        served.as_ref(),
        std::fs::read(local).expect("file").as_slice()
    );
    let dir = path.split('/').nth(2).unwrap_or_default().to_string();
    for bad in [
        format!("/captures/{dir}/index.json"),
        format!("/captures/{dir}/..%2Findex.json"),
        format!("/captures/{dir}/000999-tcp-1.2.3.4.1-5.6.7.8.2.pcap"),
        "/captures/..%2F..%2Fetc/passwd".to_string(),
        format!("/captures/{}/x.pcap", "0".repeat(64)),
    ] {
        let resp =
            atest::call_service(&app, atest::TestRequest::get().uri(&bad).to_request()).await;
        assert_eq!(resp.status().as_u16(), 404, "{bad}");
    }
}

/// A real server on a loopback port: two concurrent requests for one capture share one
/// split and get the same answer; the server stops when the test ends.
#[test]
fn serves_real_requests_on_loopback() {
    let f = fixture();
    let server = common::loopback(config(&f, 1 << 20), 2);
    let addr = server.addr;
    let body = request("packetpivot.Capture", "zeek__ssh.pcap", &[], &[], 100);
    let send = move |body: String| {
        let mut s = TcpStream::connect(addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(60)))
            .expect("timeout");
        write!(
            s,
            "POST /run/capture-to-sessions HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .expect("write");
        let mut out = String::new();
        s.read_to_string(&mut out).expect("read");
        out
    };
    let a = std::thread::spawn({
        let body = body.clone();
        move || send(body)
    });
    let b = std::thread::spawn(move || send(body));
    let (ra, rb) = (a.join().expect("a"), b.join().expect("b"));
    for r in [&ra, &rb] {
        assert!(r.starts_with("HTTP/1.1 200"), "{r}");
        assert!(
            r.to_ascii_lowercase().contains("content-type: text/xml"),
            "{r}"
        );
    }
    let body_of = |r: &str| {
        r.split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default()
    };
    assert_eq!(body_of(&ra), body_of(&rb));
    let (_, entities, _) = parse(&body_of(&ra));
    assert_eq!(entities.len(), 25);
    // Every reference request over the socket too, as raw bytes (the Latin-1 one included).
    for entry in std::fs::read_dir(data().join("maltego/requests"))
        .expect("requests")
        .flatten()
    {
        let bytes = std::fs::read(entry.path()).expect("read");
        let mut s = TcpStream::connect(addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(60)))
            .expect("timeout");
        let head = format!(
            "POST /run/capture-to-info HTTP/1.1\r\nHost: {addr}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            bytes.len()
        );
        s.write_all(head.as_bytes()).expect("head");
        s.write_all(&bytes).expect("body");
        let mut out = String::new();
        s.read_to_string(&mut out).expect("read");
        let name = entry.file_name().to_string_lossy().into_owned();
        assert!(out.starts_with("HTTP/1.1 200"), "{name}: {out}");
        let (kind, _, _) = parse(&body_of(&out));
        assert!(kind.starts_with("MaltegoTransform"), "{name}: {kind}");
    }
    actix_web::rt::System::new().block_on(server.stop());
}
