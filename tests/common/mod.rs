//! The harness the transform tests share: an in-process server over a temporary capture
//! root, Maltego requests built and responses parsed (with roxmltree, a strict parser), and
//! macros that run a transform through actix's test service.
//!
//! Each test binary uses a part of it, so the rest is dead code there.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use packetpivot::server::ServerConfig;
use packetpivot::transforms::store::{CaptureStore, StoreConfig};

/// A temporary capture root and data directory, and the server configuration over them.
pub struct Setup {
    _dir: tempfile::TempDir,
    /// The capture root.
    pub root: PathBuf,
    /// The server configuration, taken once by `app!`.
    pub cfg: Option<ServerConfig>,
}

/// A capture root holding copies of `captures` (names in tests/data), and a data directory.
pub fn setup(captures: &[&str]) -> Setup {
    let dir = tempfile::tempdir().expect("tmp");
    let root = dir.path().join("evidence");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&root).expect("mkdir");
    std::fs::create_dir_all(&data).expect("mkdir");
    for c in captures {
        let from = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data")
            .join(c);
        std::fs::copy(from, root.join(c)).expect("copy");
    }
    let cfg = ServerConfig {
        store: CaptureStore::new(StoreConfig {
            capture_roots: vec![root.canonicalize().expect("canon")],
            data_dir: data,
            base_url: None,
            split: Default::default(),
        }),
        body_limit: 1 << 20,
    };
    Setup {
        _dir: dir,
        root,
        cfg: Some(cfg),
    }
}

/// (type, value, fields) of one returned entity.
#[derive(Debug, Clone)]
pub struct Got {
    pub kind: String,
    pub value: String,
    pub fields: Vec<(String, String)>,
}

impl Got {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

pub fn request(kind: &str, value: &str, fields: &[(String, String)]) -> String {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let f: String = fields
        .iter()
        .map(|(n, v)| format!("<Field Name=\"{}\">{}</Field>", esc(n), esc(v)))
        .collect();
    format!(
        "<MaltegoMessage><MaltegoTransformRequestMessage><Entities><Entity Type=\"{}\"><AdditionalFields>{f}</AdditionalFields><Value>{}</Value></Entity></Entities><Limits SoftLimit=\"10000\" HardLimit=\"10000\"/></MaltegoTransformRequestMessage></MaltegoMessage>",
        esc(kind),
        esc(value)
    )
}

pub fn parse(body: &str) -> Vec<Got> {
    let doc = roxmltree::Document::parse(body).unwrap_or_else(|e| panic!("{e}: {body}"));
    assert!(
        doc.descendants().all(|n| !n.has_tag_name("Exception")),
        "exception: {body}"
    );
    doc.descendants()
        .filter(|n| n.has_tag_name("Entity"))
        .map(|e| Got {
            kind: e.attribute("Type").unwrap_or_default().to_string(),
            value: e
                .children()
                .find(|c| c.has_tag_name("Value"))
                .and_then(|v| v.text())
                .unwrap_or_default()
                .to_string(),
            fields: e
                .descendants()
                .filter(|f| f.has_tag_name("Field"))
                .map(|f| {
                    (
                        f.attribute("Name").unwrap_or_default().to_string(),
                        f.text().unwrap_or_default().to_string(),
                    )
                })
                .collect(),
        })
        .collect()
}

/// The in-process server for a setup (its config is taken once).
#[allow(unused_macros)]
macro_rules! app {
    ($s:expr) => {
        actix_web::test::init_service(
            actix_web::App::new()
                .app_data(actix_web::web::Data::new($s.cfg.take().expect("cfg")))
                .configure(packetpivot::server::configure),
        )
        .await
    };
}

/// The response body of one transform run.
#[allow(unused_macros)]
macro_rules! run_body {
    ($app:expr, $transform:expr, $kind:expr, $value:expr, $fields:expr) => {{
        let body = $crate::common::request($kind, $value, $fields);
        let req = actix_web::test::TestRequest::post()
            .uri(&format!("/run/{}", $transform))
            .set_payload(body)
            .to_request();
        let resp = actix_web::test::call_service($app, req).await;
        assert_eq!(resp.status().as_u16(), 200);
        String::from_utf8_lossy(&actix_web::test::read_body(resp).await).into_owned()
    }};
}

/// The entities one transform run returned.
#[allow(unused_macros)]
macro_rules! run {
    ($app:expr, $transform:expr, $kind:expr, $value:expr, $fields:expr) => {
        $crate::common::parse(&run_body!($app, $transform, $kind, $value, $fields))
    };
}

/// The entities a capture transform returned for one of the setup's captures.
#[allow(unused_macros)]
macro_rules! on_capture {
    ($app:expr, $transform:expr, $capture:expr) => {
        run!($app, $transform, "packetpivot.Capture", $capture, &[])
    };
}

/// The (type, text) of the UI messages of a response.
pub fn messages(body: &str) -> Vec<(String, String)> {
    let doc = roxmltree::Document::parse(body).unwrap_or_else(|e| panic!("{e}: {body}"));
    doc.descendants()
        .filter(|n| n.has_tag_name("UIMessage"))
        .map(|m| {
            (
                m.attribute("MessageType").unwrap_or_default().to_string(),
                m.text().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

pub fn values(got: &[Got]) -> BTreeSet<String> {
    got.iter().map(|g| g.value.clone()).collect()
}

pub fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

pub fn provenance(g: &Got) -> Vec<(String, String)> {
    ["capture.sha256", "capture.path"]
        .iter()
        .filter_map(|n| g.field(n).map(|v| (n.to_string(), v.to_string())))
        .collect()
}

/// A real server on a 127.0.0.1 port, for the tests that talk HTTP over a socket.
pub struct Loopback {
    /// Where it listens.
    pub addr: std::net::SocketAddr,
    handle: actix_web::dev::ServerHandle,
    thread: std::thread::JoinHandle<std::io::Result<()>>,
}

/// Starts `packetpivot`'s routes over `cfg` on an ephemeral loopback port with `workers`
/// workers, and waits (at most 10 s) until it runs.
pub fn loopback(cfg: ServerConfig, workers: usize) -> Loopback {
    use actix_web::{web, App};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tx, rx) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let state = web::Data::new(cfg);
            let srv = actix_web::HttpServer::new(move || {
                App::new()
                    .app_data(state.clone())
                    .configure(packetpivot::server::configure)
            })
            .workers(workers)
            .listen(listener)
            .expect("listen")
            .run();
            let _ = tx.send(srv.handle());
            srv.await
        })
    });
    let handle = rx
        .recv_timeout(std::time::Duration::from_secs(10))
        .expect("server started");
    Loopback {
        addr,
        handle,
        thread,
    }
}

impl Loopback {
    /// Stops it gracefully and checks that it ran without error.
    pub async fn stop(self) {
        self.handle.stop(true).await;
        self.thread
            .join()
            .expect("server thread")
            .expect("server ran");
    }
}
