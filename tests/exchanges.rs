//! The 26 HTTP exchanges recorded against maltego-trx 1.7.0 (`tests/data/maltego/http/NN_*.txt`,
//! copied from `shared/maltego/http/`), replayed against packetpivot's server in-process
//! (method, path, request headers from the recording, body from the file its curl command
//! names). Each test asserts what `shared/design/maltego.md` section 2.1 says packetpivot
//! must do: trx's behaviour where the table says "Same", the stated difference where it says
//! "Differs" (checklist items 1 and 2 of section 15). `Date`, `Server`, the port and the order
//! of `Allow` are ignored.
//!
//! trx's test transforms are mapped onto packetpivot's: `echopcap` → `capture-to-info` (a
//! capture transform that echoes the capture it read), `capture-to-sessions` where the limits
//! matter and `session-to-ips`/`session-to-ports` where the input type matters; `boom` (the
//! transform raises) → a `session-to-ips` whose `client.address` is not an IP; the function
//! route `legacy-echo-fn` → every name of the registry. Where an exchange needs a successful
//! run, the entity value names a capture under the test's capture root (the recorded
//! `/cases/2024-001` becomes that root).

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use actix_web::http::header::HeaderMap;
use actix_web::http::Method;
use actix_web::test as atest;
use actix_web::{web, App, HttpMessage};
use packetpivot::maltego::request::TransformRequest;
use packetpivot::server::{self, ServerConfig};
use packetpivot::transforms::store::{CaptureStore, StoreConfig};
use packetpivot::transforms::TRANSFORMS;

mod common;

const XML: &str = "text/xml; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";
/// The capture every entity of these requests resolves to.
const CAPTURE: &str = "zeek__wikipedia.pcap";
/// Its SHA-256 (tests/data/MANIFEST.tsv).
const CAPTURE_SHA256: &str = "11d2ce14fcb893f3ca6d77a02344fdb1d087b1546b53fffb64b836943a1113b6";
/// Its sessions with the default split options.
const CAPTURE_SESSIONS: usize = 38;
/// The directory the recorded requests name their captures in.
const CASES: &str = "/cases/2024-001";
/// Names under the capture root that the recorded entity values (or paths) point at.
const CAPTURE_NAMES: &[&str] = &[
    "a b&c.pcap",
    "<cdata & text>",
    "café 中文 😀 A<>",
    "no limits element",
];
/// trx's answer when a transform fails, whatever the failure.
const TRX_GENERIC: &str =
    "An exception occurred with the transform. Check the logs for more details.";

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

// ---------------------------------------------------------------------------------------
// Recordings

/// One recorded exchange.
struct Recording {
    file: String,
    method: String,
    path: String,
    /// Request headers as curl sent them, without `Host` and `Content-Length` (the test
    /// request sets its own length, the body may be rewritten).
    headers: Vec<(String, String)>,
    /// The body curl sent: the `@file` of its command line, or empty with `Content-Length: 0`.
    body: Option<Vec<u8>>,
    /// trx's status code.
    status: u16,
    /// trx's response headers.
    response_headers: Vec<(String, String)>,
    /// trx's response body, trailing whitespace dropped.
    response_body: String,
}

impl Recording {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn response_header(&self, name: &str) -> Option<&str> {
        self.response_headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The recorded body as text, for rewriting.
    fn body_text(&self) -> String {
        String::from_utf8(self.body.clone().expect("a body")).expect("UTF-8 body")
    }

    /// The recorded body with the recorded case directory replaced by `root`.
    fn body_under(&self, root: &Path) -> Vec<u8> {
        self.body_text()
            .replace(CASES, &root.display().to_string())
            .into_bytes()
    }
}

/// Reads `tests/data/maltego/http/<NN>_*.txt`.
fn recording(number: &str) -> Recording {
    let dir = data().join("maltego/http");
    let file = std::fs::read_dir(&dir)
        .expect("maltego/http")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|n| n.starts_with(&format!("{number}_")) && n.ends_with(".txt"))
        .unwrap_or_else(|| panic!("no recording {number}_*.txt in {}", dir.display()));
    let text = std::fs::read_to_string(dir.join(&file)).expect("read recording");
    let mut lines = text.lines().map(|l| l.trim_end_matches('\r'));
    let curl = lines
        .next()
        .and_then(|l| l.strip_prefix("# curl "))
        .unwrap_or_else(|| panic!("{file}: no curl command"))
        .to_string();
    let mut request = Vec::new();
    let mut response = Vec::new();
    let mut body = Vec::new();
    let mut in_body = false;
    for line in lines {
        if in_body {
            body.push(line);
        } else if let Some(l) = line.strip_prefix('>') {
            request.push(l.trim_start().to_string());
        } else if let Some(l) = line.strip_prefix('<') {
            let l = l.trim_start().to_string();
            in_body = l.is_empty();
            response.push(l);
        }
    }
    let start = request.first().expect("request line").clone();
    let mut parts = start.split(' ');
    let method = parts.next().expect("method").to_string();
    let path = parts.next().expect("path").to_string();
    let header = |l: &String| {
        l.split_once(':')
            .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
    };
    let all_headers: Vec<(String, String)> = request.iter().skip(1).filter_map(header).collect();
    let status = response
        .first()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{file}: no status line"));
    let response_headers = response.iter().skip(1).filter_map(header).collect();
    let body_file = curl
        .split_whitespace()
        .find_map(|t| t.strip_prefix('@'))
        .map(|rel| {
            let path = data().join("maltego").join(rel);
            std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        });
    let declared_empty = all_headers
        .iter()
        .any(|(n, v)| n.eq_ignore_ascii_case("content-length") && v == "0");
    let body_bytes = body_file.or_else(|| declared_empty.then(Vec::new));
    let headers = all_headers
        .into_iter()
        .filter(|(n, _)| {
            !n.eq_ignore_ascii_case("host") && !n.eq_ignore_ascii_case("content-length")
        })
        .collect();
    Recording {
        file,
        method,
        path,
        headers,
        body: body_bytes,
        status,
        response_headers,
        response_body: body.join("\n").trim_end().to_string(),
    }
}

// ---------------------------------------------------------------------------------------
// The server

struct Fixture {
    _dir: tempfile::TempDir,
    /// The capture root, canonical.
    root: PathBuf,
    data_dir: PathBuf,
}

/// A capture root holding the test capture under every name in [`CAPTURE_NAMES`].
fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("evidence");
    let data_dir = dir.path().join("data");
    std::fs::create_dir_all(&root).expect("mkdir root");
    std::fs::create_dir_all(&data_dir).expect("mkdir data");
    for name in CAPTURE_NAMES {
        std::fs::copy(data().join(CAPTURE), root.join(name)).expect("copy capture");
    }
    let root = root.canonicalize().expect("canonical root");
    Fixture {
        _dir: dir,
        root,
        data_dir,
    }
}

fn config(f: &Fixture) -> ServerConfig {
    ServerConfig {
        store: CaptureStore::new(StoreConfig {
            capture_roots: vec![f.root.clone()],
            data_dir: f.data_dir.clone(),
            base_url: None,
            split: Default::default(),
        }),
        body_limit: 1 << 20,
    }
}

macro_rules! app {
    ($f:expr) => {
        atest::init_service(
            App::new()
                .app_data(web::Data::new(config(&$f)))
                .configure(server::configure),
        )
        .await
    };
}

/// What packetpivot answered.
struct Reply {
    status: u16,
    headers: HeaderMap,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn content_type(&self) -> &str {
        self.header("content-type").unwrap_or("")
    }
}

/// Replays a recording's method and headers on `path` with `body`; evaluates to a [`Reply`].
macro_rules! replay {
    ($app:expr, $rec:expr, $path:expr, $body:expr $(,)?) => {{
        let rec: &Recording = &$rec;
        let method = Method::from_bytes(rec.method.as_bytes()).expect("method");
        let mut req = atest::TestRequest::default().method(method).uri($path);
        for (name, value) in &rec.headers {
            req = req.insert_header((name.as_str(), value.as_str()));
        }
        let body: Option<Vec<u8>> = $body;
        if let Some(b) = body {
            req = req.set_payload(b);
        }
        let req = req.to_request();
        // The replay carries the recording's Content-Type, or none when curl sent none.
        assert_eq!(
            req.headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            rec.header("content-type"),
            "{}",
            rec.file
        );
        let resp = atest::call_service($app, req).await;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let bytes = atest::read_body(resp).await;
        Reply {
            status,
            headers,
            body: String::from_utf8(bytes.to_vec()).expect("UTF-8 response"),
        }
    }};
}

// ---------------------------------------------------------------------------------------
// Messages, parsed strictly

struct Entity {
    kind: String,
    value: String,
    fields: Vec<(String, String)>,
}

impl Entity {
    fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A Maltego message: the element under `MaltegoMessage`, its entities, UI messages
/// (type, text) and exceptions.
struct Message {
    kind: String,
    entities: Vec<Entity>,
    ui: Vec<(String, String)>,
    exceptions: Vec<String>,
}

const RESPONSE: &str = "MaltegoTransformResponseMessage";
const EXCEPTION: &str = "MaltegoTransformExceptionMessage";

fn text_of(n: roxmltree::Node<'_, '_>) -> String {
    n.descendants()
        .filter(|d| d.is_text())
        .filter_map(|d| d.text())
        .collect()
}

/// Checks status and Content-Type and parses the body with roxmltree (no DTD allowed).
fn message(reply: &Reply, status: u16) -> Message {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(reply.content_type(), XML, "{}", reply.body);
    let doc = roxmltree::Document::parse(&reply.body)
        .unwrap_or_else(|e| panic!("not well-formed XML ({e}):\n{}", reply.body));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "MaltegoMessage", "{}", reply.body);
    let children: Vec<_> = root.children().filter(|n| n.is_element()).collect();
    assert_eq!(children.len(), 1, "one message: {}", reply.body);
    let kind = children[0].tag_name().name().to_string();
    assert!(kind == RESPONSE || kind == EXCEPTION, "{kind}");
    let entities = doc
        .descendants()
        .filter(|n| n.has_tag_name("Entity"))
        .map(|e| Entity {
            kind: e.attribute("Type").unwrap_or_default().to_string(),
            value: e
                .children()
                .find(|c| c.has_tag_name("Value"))
                .map(text_of)
                .unwrap_or_default(),
            fields: e
                .descendants()
                .filter(|c| c.has_tag_name("Field"))
                .map(|c| {
                    (
                        c.attribute("Name").unwrap_or_default().to_string(),
                        text_of(c),
                    )
                })
                .collect(),
        })
        .collect();
    let ui = doc
        .descendants()
        .filter(|n| n.has_tag_name("UIMessage"))
        .map(|m| {
            (
                m.attribute("MessageType").unwrap_or_default().to_string(),
                text_of(m),
            )
        })
        .collect();
    let exceptions = doc
        .descendants()
        .filter(|n| n.has_tag_name("Exception"))
        .map(text_of)
        .collect();
    Message {
        kind,
        entities,
        ui,
        exceptions,
    }
}

/// A ResponseMessage.
fn response(reply: &Reply) -> Message {
    let m = message(reply, 200);
    assert_eq!(m.kind, RESPONSE, "{}", reply.body);
    m
}

/// An ExceptionMessage with one exception; returns its text.
fn exception(reply: &Reply, status: u16) -> String {
    let m = message(reply, status);
    assert_eq!(m.kind, EXCEPTION, "{}", reply.body);
    assert!(m.entities.is_empty() && m.ui.is_empty(), "{}", reply.body);
    assert_eq!(m.exceptions.len(), 1, "{}", reply.body);
    assert!(!m.exceptions[0].trim().is_empty(), "{}", reply.body);
    assert!(
        !reply.body.contains(TRX_GENERIC),
        "not trx's generic text: {}",
        reply.body
    );
    m.exceptions[0].clone()
}

/// A line of text.
fn text(reply: &Reply, status: u16) -> &str {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(reply.content_type(), TEXT, "{}", reply.body);
    assert!(
        !reply.body.to_ascii_lowercase().contains("<html"),
        "{}",
        reply.body
    );
    reply.body.trim_end()
}

fn allow(value: Option<&str>) -> BTreeSet<String> {
    value
        .unwrap_or_default()
        .split(',')
        .map(|m| m.trim().to_ascii_uppercase())
        .filter(|m| !m.is_empty())
        .collect()
}

fn allowed() -> BTreeSet<String> {
    ["GET", "HEAD", "POST", "OPTIONS"]
        .iter()
        .map(|m| m.to_string())
        .collect()
}

/// capture-to-info's answer for `<root>/a b&c.pcap` (the full request with the recorded
/// case directory rewritten).
fn assert_capture_info(reply: &Reply, root: &Path) {
    let m = response(reply);
    assert_eq!(m.entities.len(), 1, "{}", reply.body);
    let e = &m.entities[0];
    assert_eq!(e.kind, "packetpivot.Capture");
    assert_eq!(e.value, root.join("a b&c.pcap").display().to_string());
    assert_eq!(e.field("sha256"), Some(CAPTURE_SHA256), "{}", reply.body);
    assert!(
        m.ui.iter().all(|(t, _)| t != "PartialError"),
        "{}",
        reply.body
    );
}

// ---------------------------------------------------------------------------------------
// The exchanges

/// 01 `GET /`: 200 short text.
#[actix_web::test]
async fn exchange_01_get_root() {
    let rec = recording("01");
    assert_eq!(
        (rec.status, rec.response_body.as_str()),
        (200, "You have reached a Maltego Transform Server.")
    );
    let f = fixture();
    let app = app!(f);
    let r = replay!(&app, rec, &rec.path, rec.body.clone());
    let body = text(&r, 200);
    assert!(body.starts_with(server::GREETING), "{body}");
    assert!(body.contains("Maltego Transform Server"), "{body}");
}

/// 02 `POST /` with a request body: 200, the same text as `GET /`.
#[actix_web::test]
async fn exchange_02_post_root() {
    let rec = recording("02");
    assert_eq!(rec.status, 200);
    assert!(rec.body.is_some());
    let f = fixture();
    let app = app!(f);
    let r = replay!(&app, rec, &rec.path, rec.body.clone());
    let body = text(&r, 200).to_string();
    let get = replay!(&app, recording("01"), "/", None);
    assert_eq!(body, text(&get, 200));
}

/// 03 `GET /run/<known>`: Same, trx's sentence with the transform's name.
#[actix_web::test]
async fn exchange_03_get_known_transform() {
    let rec = recording("03");
    assert_eq!((rec.status, rec.path.as_str()), (200, "/run/echopcap"));
    let f = fixture();
    let app = app!(f);
    let path = rec.path.replace("echopcap", "capture-to-info");
    let r = replay!(&app, rec, &path, None);
    assert_eq!(
        text(&r, 200),
        rec.response_body.replace("echopcap", "capture-to-info")
    );
}

/// 04 `GET /run/<Mixed-Case>/`: Same as 03, any case, with or without `/`.
#[actix_web::test]
async fn exchange_04_get_mixedcase_trailing_slash() {
    let rec = recording("04");
    assert_eq!((rec.status, rec.path.as_str()), (200, "/run/EchoPcap/"));
    let f = fixture();
    let app = app!(f);
    let path = rec.path.replace("EchoPcap", "Capture-To-Info");
    let r = replay!(&app, rec, &path, None);
    assert_eq!(
        text(&r, 200),
        "Transform found with name 'capture-to-info', you will need to send a POST request to run it."
    );
}

/// 05 `GET /run/<unknown>`: 404 text naming it.
#[actix_web::test]
async fn exchange_05_get_unknown_transform() {
    let rec = recording("05");
    assert_eq!(rec.status, 404);
    let f = fixture();
    let app = app!(f);
    let r = replay!(&app, rec, &rec.path, None);
    let body = text(&r, 404);
    assert!(body.starts_with(&rec.response_body), "{body}");
}

/// 06 valid POST, `text/xml; charset=utf-8`: Same, 200 ResponseMessage.
#[actix_web::test]
async fn exchange_06_post_full_request() {
    let rec = recording("06");
    assert_eq!(rec.header("content-type"), Some(XML));
    assert_eq!(rec.status, 200);
    let f = fixture();
    let app = app!(f);
    let r = replay!(
        &app,
        rec,
        "/run/capture-to-info",
        Some(rec.body_under(&f.root))
    );
    assert_capture_info(&r, &f.root);
}

/// 07 POST to `/run/<name>/`, `application/xml`: the body is read and parsed (type from the
/// Genealogy: `maltego.Website`); a session transform answers with an ExceptionMessage naming
/// the expected and the received type (2.1, "input type not accepted").
#[actix_web::test]
async fn exchange_07_post_trailing_slash_appxml() {
    let rec = recording("07");
    assert_eq!(rec.header("content-type"), Some("application/xml"));
    assert_eq!((rec.status, rec.path.as_str()), (200, "/run/echopcap/"));
    let f = fixture();
    let app = app!(f);
    let r = replay!(&app, rec, "/run/session-to-ports/", rec.body.clone());
    let e = exception(&r, 200);
    for part in ["session-to-ports", "packetpivot.Session", "maltego.Website"] {
        assert!(e.contains(part), "{part}: {e}");
    }
}

/// 08 `Type="Domain"` + Genealogy: packetpivot sees `maltego.Domain` (3.2).
#[actix_web::test]
async fn exchange_08_post_legacy_type_genealogy() {
    let rec = recording("08");
    assert!(
        rec.response_body.contains(">Domain</Field>"),
        "trx sees Domain"
    );
    let f = fixture();
    let app = app!(f);
    let r = replay!(&app, rec, "/run/session-to-ips", rec.body.clone());
    let e = exception(&r, 200);
    assert!(
        e.contains("packetpivot.Session") && e.contains("not maltego.Domain"),
        "{e}"
    );
    let parsed = TransformRequest::parse(rec.body.as_deref().unwrap_or_default()).expect("parse");
    assert_eq!(parsed.entity_type, "maltego.Domain");
    assert!(parsed.has_type("Domain") && parsed.has_type("maltego.Domain"));
}

/// 09 CDATA value, field and setting: Differs, packetpivot reads `<cdata & text>` and `x&y`
/// (trx sees None).
#[actix_web::test]
async fn exchange_09_post_cdata_values() {
    let rec = recording("09");
    assert!(rec.response_body.contains("<Value>echo: None</Value>"));
    let f = fixture();
    let app = app!(f);
    let r = replay!(&app, rec, "/run/capture-to-info", rec.body.clone());
    let m = response(&r);
    assert_eq!(m.entities.len(), 1, "{}", r.body);
    assert_eq!(m.entities[0].value, "<cdata & text>");
    assert_eq!(m.entities[0].field("sha256"), Some(CAPTURE_SHA256));
    let parsed = TransformRequest::parse(rec.body.as_deref().unwrap_or_default()).expect("parse");
    assert_eq!(parsed.value, "<cdata & text>");
    assert_eq!(parsed.field("text"), Some("<cdata & text>"));
    assert_eq!(parsed.setting("opt"), Some("x&y"));
}

/// 10 the transform fails: 200 and a precise ExceptionMessage, not trx's generic
/// PartialError.
#[actix_web::test]
async fn exchange_10_post_transform_raises() {
    let rec = recording("10");
    assert_eq!(rec.status, 200);
    assert!(rec.response_body.contains(TRX_GENERIC));
    let f = fixture();
    let app = app!(f);
    // The full request as a session whose client address is the recorded capture path.
    let body = rec
        .body_text()
        .replace("packetpivot.Pcap", "packetpivot.Session")
        .replace("Name=\"pcap.path\"", "Name=\"client.address\"");
    let r = replay!(&app, rec, "/run/session-to-ips", Some(body.into_bytes()));
    let e = exception(&r, 200);
    for part in [
        "client.address",
        "/cases/2024-001/a b&c.pcap",
        "not an IP address",
    ] {
        assert!(e.contains(part), "{part}: {e}");
    }
}

/// 11 not XML: Differs, 200 ExceptionMessage with line and column (trx: 500 HTML).
#[actix_web::test]
async fn exchange_11_post_malformed_not_xml() {
    let rec = recording("11");
    assert_eq!(rec.status, 500);
    let f = fixture();
    let app = app!(f);
    let r = replay!(&app, rec, "/run/capture-to-info", rec.body.clone());
    let e = exception(&r, 200);
    // expat (trx, canari): "syntax error: line 1, column 0"; packetpivot counts from 1.
    assert!(e.contains("malformed XML at line 1, column 1:"), "{e}");
}

/// 12 truncated XML: Differs, 200 ExceptionMessage with line and column (trx: 500 HTML).
#[actix_web::test]
async fn exchange_12_post_malformed_truncated() {
    let rec = recording("12");
    assert_eq!(rec.status, 500);
    let f = fixture();
    let app = app!(f);
    let r = replay!(&app, rec, "/run/capture-to-info", rec.body.clone());
    let e = exception(&r, 200);
    // expat: "no element found: line 1, column 104" (104 bytes, no newline); from 1 here.
    assert!(e.contains("malformed XML at line 1, column 105:"), "{e}");
}

/// 13 empty body (the TDS probe): 200 ResponseMessage, no entities, an Inform.
#[actix_web::test]
async fn exchange_13_post_empty_body() {
    let rec = recording("13");
    assert_eq!(rec.body.as_deref(), Some(&b""[..]));
    assert!(rec.response_body.contains(TRX_GENERIC));
    let f = fixture();
    let app = app!(f);
    let r = replay!(&app, rec, "/run/capture-to-info", rec.body.clone());
    let m = response(&r);
    assert!(m.entities.is_empty(), "{}", r.body);
    assert!(
        m.ui.iter()
            .any(|(t, s)| t == "Inform" && s.contains("reachable") && s.contains("empty")),
        "{}",
        r.body
    );
    assert!(m.ui.iter().all(|(t, _)| t == "Inform"), "{}", r.body);
}

/// 14 no `<Limits>`: Differs, defaults (soft 12, hard = soft) instead of trx's 500.
#[actix_web::test]
async fn exchange_14_post_missing_limits() {
    let rec = recording("14");
    assert_eq!(rec.status, 500);
    let f = fixture();
    let app = app!(f);
    let r = replay!(&app, rec, "/run/capture-to-sessions", rec.body.clone());
    let m = response(&r);
    assert_eq!(m.entities.len(), 12, "{}", r.body);
    assert!(m
        .entities
        .iter()
        .all(|e| e.kind == "packetpivot.Session" && !e.value.is_empty()));
    let cap = format!("returned 12 of {CAPTURE_SESSIONS} sessions");
    assert!(
        m.ui.iter().any(|(t, s)| t == "Inform" && s.contains(&cap)),
        "{:?}",
        m.ui
    );
    let parsed = TransformRequest::parse(rec.body.as_deref().unwrap_or_default()).expect("parse");
    assert_eq!((parsed.soft_limit, parsed.hard_limit), (12, 12));
}

/// 15 POST to an unknown transform: 404 and an ExceptionMessage naming it.
#[actix_web::test]
async fn exchange_15_post_unknown_transform() {
    let rec = recording("15");
    assert_eq!(rec.status, 404);
    let f = fixture();
    let app = app!(f);
    let r = replay!(&app, rec, &rec.path, rec.body.clone());
    let e = exception(&r, 404);
    assert!(e.starts_with(&rec.response_body), "{e}");
}

/// 16 `PUT`: 405 with `Allow: GET, HEAD, POST, OPTIONS` (order ignored).
#[actix_web::test]
async fn exchange_16_put_transform() {
    let rec = recording("16");
    assert_eq!(rec.status, 405);
    assert_eq!(allow(rec.response_header("allow")), allowed());
    let f = fixture();
    let app = app!(f);
    let r = replay!(&app, rec, "/run/capture-to-info", rec.body.clone());
    assert_eq!(r.status, 405, "{}", r.body);
    assert_eq!(allow(r.header("allow")), allowed());
    assert!(!r.body.to_ascii_lowercase().contains("<html"), "{}", r.body);
}

/// 17 `HEAD /`: 200, and no body on the wire.
#[actix_web::test]
async fn exchange_17_head_root() {
    let rec = recording("17");
    assert_eq!((rec.status, rec.method.as_str()), (200, "HEAD"));
    let f = fixture();
    let app = app!(f);
    let r = replay!(&app, rec, &rec.path, None);
    assert_eq!(r.status, 200);
    assert_eq!(r.content_type(), TEXT);

    // On a real socket: the status line and headers, then nothing.
    let server = common::loopback(config(&f), 1);
    let addr = server.addr;
    let mut raw = format!("{} {} HTTP/1.1\r\nHost: {addr}\r\n", rec.method, rec.path);
    for (n, v) in &rec.headers {
        raw.push_str(&format!("{n}: {v}\r\n"));
    }
    raw.push_str("Connection: close\r\n\r\n");
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    s.write_all(raw.as_bytes()).expect("write");
    let mut out = Vec::new();
    s.read_to_end(&mut out).expect("read");
    let out = String::from_utf8_lossy(&out).into_owned();
    server.stop().await;
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    let (head, body) = out.split_once("\r\n\r\n").expect("end of headers");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: text/plain"),
        "{head}"
    );
    assert_eq!(body, "", "HEAD without body");
}

/// 18 trx's function route: packetpivot's names come from the registry; each answers GET
/// with its name and POST with a Maltego message; trx's name is not one of them.
#[actix_web::test]
async fn exchange_18_post_legacy_function_route() {
    let rec = recording("18");
    assert_eq!(
        (rec.status, rec.path.as_str()),
        (200, "/run/legacy-echo-fn")
    );
    let f = fixture();
    let app = app!(f);
    assert!(!TRANSFORMS.is_empty());
    for t in TRANSFORMS {
        let name = t.meta.name;
        let r = replay!(&app, rec, &format!("/run/{name}"), rec.body.clone());
        message(&r, 200);
        let get = replay!(&app, recording("03"), &format!("/run/{name}"), None);
        assert!(
            text(&get, 200).contains(&format!("'{name}'")),
            "{}",
            get.body
        );
    }
    let r = replay!(&app, rec, &rec.path, rec.body.clone());
    let e = exception(&r, 404);
    assert!(e.contains("'legacy-echo-fn'"), "{e}");
}

/// 19 UTF-8 with a declaration and a character reference: Same, `café 中文 😀 A<>`
/// round-trips (newline and tab kept in fields).
#[actix_web::test]
async fn exchange_19_post_utf8_declared() {
    let rec = recording("19");
    assert!(rec.response_body.contains("echo: café 中文 😀 A&lt;&gt;"));
    let f = fixture();
    let app = app!(f);
    let r = replay!(&app, rec, "/run/capture-to-info", rec.body.clone());
    let m = response(&r);
    assert_eq!(m.entities.len(), 1, "{}", r.body);
    assert_eq!(m.entities[0].value, "café 中文 😀 A<>");
    assert_eq!(m.entities[0].field("sha256"), Some(CAPTURE_SHA256));
    let parsed = TransformRequest::parse(rec.body.as_deref().unwrap_or_default()).expect("parse");
    assert_eq!(parsed.value, "café 中文 😀 A<>");
    assert_eq!(parsed.field("note"), Some("multi\nline\ttab"));
}

/// 20 DOCTYPE with an internal entity: Differs, ExceptionMessage refusing the DOCTYPE (trx
/// expands the entity).
#[actix_web::test]
async fn exchange_20_post_doctype_entity() {
    let rec = recording("20");
    assert!(rec.response_body.contains("expanded-internal-entity"));
    let f = fixture();
    let app = app!(f);
    let r = replay!(&app, rec, "/run/capture-to-info", rec.body.clone());
    let e = exception(&r, 200);
    assert!(e.contains("DOCTYPE") && e.contains("refused"), "{e}");
    assert!(!r.body.contains("expanded-internal-entity"), "{}", r.body);
}

/// 21 a request as canari builds it, `application/xml`: Same, 200 ResponseMessage.
#[actix_web::test]
async fn exchange_21_post_canari_built_request() {
    let rec = recording("21");
    assert_eq!(rec.header("content-type"), Some("application/xml"));
    assert_eq!(rec.status, 200);
    let f = fixture();
    let app = app!(f);
    let r = replay!(
        &app,
        rec,
        "/run/capture-to-info",
        Some(rec.body_under(&f.root))
    );
    assert_capture_info(&r, &f.root);
}

/// 22 `GET /run/`: 404.
#[actix_web::test]
async fn exchange_22_get_run_without_name() {
    let rec = recording("22");
    assert_eq!(rec.status, 404);
    let f = fixture();
    let app = app!(f);
    let r = replay!(&app, rec, &rec.path, None);
    text(&r, 404);
}

/// 23 `application/x-www-form-urlencoded` (curl's default): Differs, the body is read all
/// the same (trx loses it to form parsing).
#[actix_web::test]
async fn exchange_23_post_form_urlencoded_body_ignored() {
    let rec = recording("23");
    assert_eq!(
        rec.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert!(rec.response_body.contains(TRX_GENERIC));
    let f = fixture();
    let app = app!(f);
    let r = replay!(
        &app,
        rec,
        "/run/capture-to-info",
        Some(rec.body_under(&f.root))
    );
    assert_capture_info(&r, &f.root);
}

/// 24 no Content-Type: Same, 200 ResponseMessage.
#[actix_web::test]
async fn exchange_24_post_no_content_type() {
    let rec = recording("24");
    assert_eq!(rec.header("content-type"), None);
    assert_eq!(rec.status, 200);
    let f = fixture();
    let app = app!(f);
    let r = replay!(
        &app,
        rec,
        "/run/capture-to-info",
        Some(rec.body_under(&f.root))
    );
    assert_capture_info(&r, &f.root);
}

/// 25 no `<Entity>`: Differs, ExceptionMessage "no entity" (trx: 500 HTML).
#[actix_web::test]
async fn exchange_25_post_no_entities() {
    let rec = recording("25");
    assert_eq!(rec.status, 500);
    let f = fixture();
    let app = app!(f);
    let r = replay!(&app, rec, "/run/capture-to-info", rec.body.clone());
    let e = exception(&r, 200);
    assert!(e.contains("no entity"), "{e}");
}

/// 26 `OPTIONS`: Same, 200 empty with `Allow` (order ignored).
#[actix_web::test]
async fn exchange_26_options_transform() {
    let rec = recording("26");
    assert_eq!((rec.status, rec.response_body.as_str()), (200, ""));
    assert_eq!(allow(rec.response_header("allow")), allowed());
    let f = fixture();
    let app = app!(f);
    let r = replay!(&app, rec, "/run/capture-to-info", None);
    assert_eq!(r.status, 200);
    assert_eq!(r.body, "");
    assert_eq!(allow(r.header("allow")), allowed());
}
