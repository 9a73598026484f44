//! The pivot transforms through the real server (in-process), from a request to the parsed
//! response, and chained: an entity one transform returns is the input of the next.
//! Expected sets come from tshark 4.0.17 on the same captures.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use actix_web::{test as atest, web, App};
use packetpivot::server::{self, ServerConfig};
use packetpivot::transforms::store::{CaptureStore, StoreConfig};

struct Setup {
    _dir: tempfile::TempDir,
    root: PathBuf,
    cfg: Option<ServerConfig>,
}

fn setup(captures: &[&str]) -> Setup {
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
struct Got {
    kind: String,
    value: String,
    fields: Vec<(String, String)>,
}

impl Got {
    fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

fn request(kind: &str, value: &str, fields: &[(String, String)]) -> String {
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

fn parse(body: &str) -> Vec<Got> {
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
macro_rules! app {
    ($s:expr) => {
        atest::init_service(
            App::new()
                .app_data(web::Data::new($s.cfg.take().expect("cfg")))
                .configure(server::configure),
        )
        .await
    };
}

macro_rules! run {
    ($app:expr, $transform:expr, $kind:expr, $value:expr, $fields:expr) => {{
        let body = request($kind, $value, $fields);
        let req = atest::TestRequest::post()
            .uri(&format!("/run/{}", $transform))
            .set_payload(body)
            .to_request();
        let resp = atest::call_service($app, req).await;
        assert_eq!(resp.status().as_u16(), 200);
        parse(&String::from_utf8_lossy(&atest::read_body(resp).await))
    }};
}

fn values(got: &[Got]) -> BTreeSet<String> {
    got.iter().map(|g| g.value.clone()).collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn provenance(g: &Got) -> Vec<(String, String)> {
    ["capture.sha256", "capture.path"]
        .iter()
        .filter_map(|n| g.field(n).map(|v| (n.to_string(), v.to_string())))
        .collect()
}

#[actix_web::test]
async fn chains_capture_dns_name_and_its_sessions() {
    let mut s = setup(&["zeek__wikipedia.pcap"]);
    let app = app!(s);
    let names = run!(
        &app,
        "capture-to-dns-names",
        "packetpivot.Capture",
        "zeek__wikipedia.pcap",
        &[]
    );
    // tshark: dns.qry.name of every query.
    assert_eq!(
        values(&names),
        set(&[
            "BRWC0CB383D1F42",
            "gemini._sftp-ssh._tcp.local",
            "gomez._sftp-ssh._tcp.local",
            "meta.wikimedia.org",
            "upload.wikimedia.org",
            "upload.wikimedia.org.ncsa.uiuc.edu"
        ])
    );
    assert!(names.iter().all(|n| n.kind == "maltego.DNSName"));
    let upload = names
        .iter()
        .find(|n| n.value == "upload.wikimedia.org")
        .expect("name");
    assert_eq!(upload.field("capture.sha256").map(str::len), Some(64));
    // Chained: the name, as returned, to its sessions. tshark: dns.qry.name or http.host ==
    // "upload.wikimedia.org" is in 8 UDP and 6 TCP streams.
    let sessions = run!(
        &app,
        "dns-name-to-sessions",
        "maltego.DNSName",
        &upload.value,
        &provenance(upload)
    );
    assert_eq!(sessions.len(), 14, "{:?}", values(&sessions));
    assert_eq!(
        sessions
            .iter()
            .filter(|g| g.value.starts_with("TCP "))
            .count(),
        6
    );
    assert!(sessions.iter().all(|g| g.kind == "packetpivot.Session"));
    // One session, to its IPs, and an IP back to its sessions (tshark: ip.addr==208.80.152.3
    // is in 6 streams).
    let hosts = run!(
        &app,
        "capture-to-http-hosts",
        "packetpivot.Capture",
        "zeek__wikipedia.pcap",
        &[]
    );
    assert_eq!(
        values(&hosts),
        set(&[
            "bits.wikimedia.org",
            "meta.wikimedia.org",
            "upload.wikimedia.org",
            "www.wikipedia.org"
        ])
    );
    let ips = run!(
        &app,
        "capture-to-ips",
        "packetpivot.Capture",
        "zeek__wikipedia.pcap",
        &[]
    );
    assert_eq!(ips.len(), 19, "tshark: 19 distinct ip/ipv6 addresses");
    let server = ips
        .iter()
        .find(|g| g.value == "208.80.152.3")
        .expect("talker");
    assert_eq!(server.field("ipaddress.internal"), Some("false"));
    let back = run!(
        &app,
        "ip-to-sessions",
        "maltego.IPv4Address",
        &server.value,
        &provenance(server)
    );
    assert_eq!(back.len(), 6);
    // Without provenance, a precise exception.
    let req = atest::TestRequest::post()
        .uri("/run/ip-to-sessions")
        .set_payload(request("maltego.IPv4Address", "208.80.152.3", &[]))
        .to_request();
    let body =
        String::from_utf8_lossy(&atest::read_body(atest::call_service(&app, req).await).await)
            .into_owned();
    assert!(body.contains("capture.path"), "{body}");
    let _ = s.root;
}

#[actix_web::test]
async fn finds_tls_names_and_services() {
    let mut s = setup(&["zeek__openjdk-25.0.2-zeek.org.pcap", "zeek__ssh.pcap"]);
    let app = app!(s);
    let names = run!(
        &app,
        "capture-to-tls-names",
        "packetpivot.Capture",
        "zeek__openjdk-25.0.2-zeek.org.pcap",
        &[]
    );
    assert_eq!(values(&names), set(&["zeek.org"]));
    assert_eq!(
        names[0].field("tls.ja3"),
        Some("bddb16608b241c89053080cf80771423")
    );
    let services = run!(
        &app,
        "capture-to-services",
        "packetpivot.Capture",
        "zeek__ssh.pcap",
        &[]
    );
    let ssh = services
        .iter()
        .find(|g| g.value.starts_with("22/tcp"))
        .expect("ssh service");
    assert_eq!(ssh.field("properties.service"), Some("ssh"));
    assert!(services.iter().all(|g| g.kind == "maltego.Service"));
}

#[actix_web::test]
async fn finds_fingerprints_certificates_and_session_pcaps() {
    let mut s = setup(&[
        "zeek__openjdk-25.0.2-zeek.org.pcap",
        "wireshark__tls12-dsb.pcapng",
    ]);
    let app = app!(s);
    let prints = run!(
        &app,
        "capture-to-fingerprints",
        "packetpivot.Capture",
        "zeek__openjdk-25.0.2-zeek.org.pcap",
        &[]
    );
    // tshark: tls.handshake.ja3 of the ClientHello.
    let ja3 = prints
        .iter()
        .find(|g| g.field("hash_type") == Some("JA3"))
        .expect("ja3");
    assert_eq!(ja3.value, "bddb16608b241c89053080cf80771423");
    assert_eq!(ja3.field("tls.server_names"), Some("zeek.org"));
    assert!(prints.iter().all(|g| g.kind == "maltego.Hash"));
    let certs = run!(
        &app,
        "capture-to-certificates",
        "packetpivot.Capture",
        "wireshark__tls12-dsb.pcapng",
        &[]
    );
    assert_eq!(certs.len(), 2, "leaf and intermediate");
    let leaf = certs
        .iter()
        .find(|g| g.value.contains("CN=www.example.org"))
        .expect("leaf");
    assert!(leaf.field("san").is_some_and(|s| s.contains("example.com")));
    assert_eq!(leaf.field("x509.sha256").map(str::len), Some(64));
    // A session to its pcap.
    let sessions = run!(
        &app,
        "capture-to-sessions",
        "packetpivot.Capture",
        "wireshark__tls12-dsb.pcapng",
        &[]
    );
    let first = &sessions[0];
    let file = run!(
        &app,
        "session-to-pcap",
        "packetpivot.Session",
        &first.value,
        &first.fields
    );
    assert_eq!(file.len(), 1);
    assert_eq!(file[0].kind, "maltego.File");
    let path = file[0].field("pcap.path").expect("path");
    assert!(std::path::Path::new(path).is_file(), "{path}");
    assert!(path.ends_with(&file[0].value));
}

#[actix_web::test]
async fn pivots_from_addresses_macs_and_ports() {
    let mut s = setup(&["zeek__wikipedia.pcap"]);
    let app = app!(s);
    let ips = run!(
        &app,
        "capture-to-ips",
        "packetpivot.Capture",
        "zeek__wikipedia.pcap",
        &[]
    );
    let server = ips
        .iter()
        .find(|g| g.value == "208.80.152.3")
        .expect("talker");
    let macs = run!(
        &app,
        "ip-to-macs",
        "maltego.IPv4Address",
        &server.value,
        &provenance(server)
    );
    // tshark: eth.src of frames with ip.src==208.80.152.3 is 00:13:7f:be:8c:ff (the router).
    assert_eq!(values(&macs), set(&["00:13:7f:be:8c:ff"]));
    let names = run!(
        &app,
        "ip-to-dns-names",
        "maltego.IPv4Address",
        &server.value,
        &provenance(server)
    );
    // tshark: the Answer sections give 208.80.152.3 for upload.wikimedia.org.
    assert_eq!(values(&names), set(&["upload.wikimedia.org"]));
    let behind = run!(
        &app,
        "mac-to-ips",
        "maltego.MacAddress",
        &macs[0].value,
        &provenance(&macs[0])
    );
    assert!(values(&behind).contains("208.80.152.3") && values(&behind).contains("141.142.2.2"));
    let web = run!(
        &app,
        "port-to-sessions",
        "maltego.Port",
        "80",
        &provenance(server)
    );
    // tshark: 10 TCP streams to port 80.
    assert_eq!(web.len(), 10);
    assert!(web.iter().all(|g| g.value.ends_with(&format!(
        "@{}",
        &server.field("capture.sha256").unwrap_or_default()[..12]
    ))));
}
