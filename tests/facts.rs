//! Facts collected during the split, against tshark's answers for the same captures
//! (values taken from tshark 4.0.17: `-e http.host`, `-e dns.qry.name`, `-e dns.a`,
//! `-e tls.handshake.extensions_server_name`, `-e tls.handshake.ja3`).

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use packetpivot::facts::collect::SessionFacts;
use packetpivot::facts::dns::DnsData;
use packetpivot::session::output::{read_facts, split_to_directory};

fn facts_of(name: &str) -> Vec<SessionFacts> {
    let capture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    let out = tempfile::tempdir().expect("tmp");
    let o = split_to_directory(
        &capture,
        out.path(),
        &Default::default(),
        Arc::new(AtomicU64::new(0)),
    )
    .expect("split");
    read_facts(&o.dir).expect("facts")
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn finds_http_hosts_dns_names_and_answers_like_tshark() {
    let facts = facts_of("zeek__wikipedia.pcap");
    let hosts: BTreeSet<String> = facts
        .iter()
        .flat_map(|f| f.http_requests.iter().filter_map(|r| r.host.clone()))
        .collect();
    assert_eq!(
        hosts,
        set(&[
            "bits.wikimedia.org",
            "meta.wikimedia.org",
            "upload.wikimedia.org",
            "www.wikipedia.org"
        ])
    );
    let queried: BTreeSet<String> = facts
        .iter()
        .flat_map(|f| {
            f.dns
                .iter()
                .filter(|m| !m.response)
                .flat_map(|m| m.questions.iter().map(|q| q.name.clone()))
        })
        .collect();
    assert_eq!(
        queried,
        set(&[
            "BRWC0CB383D1F42",
            "gemini._sftp-ssh._tcp.local",
            "gomez._sftp-ssh._tcp.local",
            "meta.wikimedia.org",
            "upload.wikimedia.org",
            "upload.wikimedia.org.ncsa.uiuc.edu"
        ])
    );
    let answers: BTreeSet<String> = facts
        .iter()
        .flat_map(|f| f.dns.iter().flat_map(|m| m.answers.iter()))
        .filter_map(|r| match &r.data {
            DnsData::A(a) => Some(a.to_string()),
            _ => None,
        })
        .collect();
    // tshark's dns.a also lists the Additional-section glue of these responses
    // (208.80.152.130, 208.80.152.142, 91.198.174.4) and an mDNS additional record
    // (141.142.220.50); the Answer sections hold exactly these two.
    assert_eq!(answers, set(&["208.80.152.2", "208.80.152.3"]));
    assert!(facts.iter().any(|f| f.service.as_deref() == Some("http")));
    // tshark: 15 http.request frames; six keep-alive connections each send two requests,
    // and the second of each is read too.
    let requests: usize = facts.iter().map(|f| f.http_requests.len()).sum();
    assert_eq!(requests, 15);
}

#[test]
fn reads_client_hellos_split_across_segments() {
    let facts = facts_of("wireshark__tls-fragmented-handshakes.pcap");
    let hellos: Vec<_> = facts
        .iter()
        .filter_map(|f| f.tls_client.as_ref().and_then(|t| t.client_hello.as_ref()))
        .collect();
    // tshark: 100 TCP streams, one ClientHello each (split across segments), no SNI.
    assert_eq!(hellos.len(), 100);
    assert!(hellos
        .iter()
        .all(|h| h.ja3_hash == "fde4273625b2ac63bd01d9c500dac91b"));
    assert!(hellos.iter().all(|h| h.sni.is_none()));
}

#[test]
fn reads_sni_ja3_and_certificates() {
    let facts = facts_of("zeek__openjdk-25.0.2-zeek.org.pcap");
    let hello = facts
        .iter()
        .find_map(|f| f.tls_client.as_ref().and_then(|t| t.client_hello.clone()))
        .expect("a ClientHello");
    assert_eq!(hello.sni.as_deref(), Some("zeek.org"));
    assert_eq!(hello.ja3_hash, "bddb16608b241c89053080cf80771423");
    let facts = facts_of("wireshark__tls12-dsb.pcapng");
    let certs: Vec<_> = facts
        .iter()
        .filter_map(|f| f.tls_server.as_ref())
        .flat_map(|t| t.certificates.iter())
        .collect();
    assert!(!certs.is_empty());
    assert!(
        certs[0].sans.iter().any(|s| s == "example.com"),
        "{:?}",
        certs[0].sans
    );
    assert_eq!(certs[0].sha256.len(), 64);
}

#[test]
fn names_services_from_payload_then_port() {
    let facts = facts_of("zeek__ssh.pcap");
    let ssh = facts
        .iter()
        .filter(|f| f.service.as_deref() == Some("ssh"))
        .count();
    assert_eq!(ssh, 22);
    assert!(facts
        .iter()
        .filter(|f| f.service.as_deref() == Some("ssh"))
        .all(|f| f.service_source.as_deref() == Some("payload")));
}
