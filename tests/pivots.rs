//! The pivot transforms through the real server (in-process), from a request to the parsed
//! response, and chained: an entity one transform returns is the input of the next.
//! Expected sets come from tshark 4.0.17 on the same captures.

use std::collections::BTreeSet;

use actix_web::test as atest;

#[macro_use]
mod common;
use common::{messages, parse, provenance, request, set, setup, values, Got};

#[actix_web::test]
async fn chains_capture_dns_name_and_its_sessions() {
    let mut s = setup(&["zeek__wikipedia.pcap"]);
    let app = app!(s);
    let names = on_capture!(&app, "capture-to-dns-names", "zeek__wikipedia.pcap");
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
    let hosts = on_capture!(&app, "capture-to-http-hosts", "zeek__wikipedia.pcap");
    assert_eq!(
        values(&hosts),
        set(&[
            "bits.wikimedia.org",
            "meta.wikimedia.org",
            "upload.wikimedia.org",
            "www.wikipedia.org"
        ])
    );
    let ips = on_capture!(&app, "capture-to-ips", "zeek__wikipedia.pcap");
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
    let names = on_capture!(
        &app,
        "capture-to-tls-names",
        "zeek__openjdk-25.0.2-zeek.org.pcap"
    );
    assert_eq!(values(&names), set(&["zeek.org"]));
    assert_eq!(
        names[0].field("tls.ja3"),
        Some("bddb16608b241c89053080cf80771423")
    );
    let services = on_capture!(&app, "capture-to-services", "zeek__ssh.pcap");
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
    let prints = on_capture!(
        &app,
        "capture-to-fingerprints",
        "zeek__openjdk-25.0.2-zeek.org.pcap"
    );
    // tshark: tls.handshake.ja3 of the ClientHello.
    let ja3 = prints
        .iter()
        .find(|g| g.field("hash_type") == Some("JA3"))
        .expect("ja3");
    assert_eq!(ja3.value, "bddb16608b241c89053080cf80771423");
    assert_eq!(ja3.field("tls.server_names"), Some("zeek.org"));
    assert!(prints.iter().all(|g| g.kind == "maltego.Hash"));
    let certs = on_capture!(
        &app,
        "capture-to-certificates",
        "wireshark__tls12-dsb.pcapng"
    );
    assert_eq!(certs.len(), 2, "leaf and intermediate");
    let leaf = certs
        .iter()
        .find(|g| g.value.contains("CN=www.example.org"))
        .expect("leaf");
    assert!(leaf.field("san").is_some_and(|s| s.contains("example.com")));
    assert_eq!(leaf.field("x509.sha256").map(str::len), Some(64));
    // A session to its pcap.
    let sessions = on_capture!(&app, "capture-to-sessions", "wireshark__tls12-dsb.pcapng");
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
    let ips = on_capture!(&app, "capture-to-ips", "zeek__wikipedia.pcap");
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

#[actix_web::test]
async fn finds_the_clients_that_asked_for_a_name_and_its_addresses() {
    let mut s = setup(&["zeek__wikipedia.pcap"]);
    let app = app!(s);
    let names = on_capture!(&app, "capture-to-dns-names", "zeek__wikipedia.pcap");
    let upload = names
        .iter()
        .find(|n| n.value == "upload.wikimedia.org")
        .expect("name");
    // tshark: ip.src of the 8 queries for the name and of the 12 requests with it as
    // http.host is 141.142.220.118 alone.
    let clients = run!(
        &app,
        "dns-name-to-clients",
        "maltego.DNSName",
        &upload.value,
        &provenance(upload)
    );
    assert_eq!(values(&clients), set(&["141.142.220.118"]));
    assert_eq!(clients[0].kind, "maltego.IPv4Address");
    assert_eq!(clients[0].field("asked.via"), Some("DNS query, HTTP Host"));
    assert_eq!(clients[0].field("asked.sessions"), Some("14"));
    assert_eq!(
        clients[0].field("capture.sha256"),
        upload.field("capture.sha256")
    );
    // A website (an HTTP host) is a DNS name to Maltego: the same transform answers it.
    let hosts = on_capture!(&app, "capture-to-http-hosts", "zeek__wikipedia.pcap");
    let bits = hosts
        .iter()
        .find(|h| h.value == "bits.wikimedia.org")
        .expect("host");
    let asked = run!(
        &app,
        "dns-name-to-clients",
        "maltego.Website",
        &bits.value,
        &provenance(bits)
    );
    assert_eq!(values(&asked), set(&["141.142.220.118"]));
    assert_eq!(asked[0].field("asked.via"), Some("HTTP Host"));
    // tshark: the Answer sections for upload.wikimedia.org are a CNAME to
    // upload.pmtpa.wikimedia.org and its A record 208.80.152.3, TTL 2156 (dns.a also lists
    // 208.80.152.130, 208.80.152.142 and 91.198.174.4: Additional-section glue, not answers).
    let addresses = run!(
        &app,
        "dns-name-to-addresses",
        "maltego.DNSName",
        &upload.value,
        &provenance(upload)
    );
    assert_eq!(values(&addresses), set(&["208.80.152.3"]));
    let a = &addresses[0];
    assert_eq!(a.kind, "maltego.IPv4Address");
    assert_eq!(a.field("dns.record_type"), Some("A"));
    assert_eq!(a.field("dns.ttl"), Some("2156"));
    assert_eq!(a.field("dns.owner"), Some("upload.pmtpa.wikimedia.org"));
    assert_eq!(a.field("capture.path"), upload.field("capture.path"));
    // The address leads back to the name.
    let back = run!(
        &app,
        "ip-to-dns-names",
        "maltego.IPv4Address",
        &a.value,
        &provenance(a)
    );
    assert_eq!(values(&back), set(&["upload.wikimedia.org"]));
    // A name the capture never resolved: no entity, and a message saying so.
    let body = run_body!(
        &app,
        "dns-name-to-addresses",
        "maltego.DNSName",
        "gomez._sftp-ssh._tcp.local",
        &provenance(upload)
    );
    assert!(parse(&body).is_empty());
    assert!(messages(&body)
        .iter()
        .any(|(k, t)| k == "Inform" && t.contains("no DNS response")));
}

#[actix_web::test]
async fn names_mac_vendors_and_says_why_when_there_is_none() {
    let mut s = setup(&["zeek__wikipedia.pcap"]);
    let app = app!(s);
    let macs = on_capture!(&app, "capture-to-macs", "zeek__wikipedia.pcap");
    // tshark's eth.src_resolved names this one Cisco_be:8c:ff.
    let router = macs
        .iter()
        .find(|m| m.value == "00:13:7f:be:8c:ff")
        .expect("router");
    let vendor = run!(
        &app,
        "mac-to-vendor",
        "maltego.MacAddress",
        &router.value,
        &provenance(router)
    );
    assert_eq!(vendor.len(), 1);
    assert_eq!(vendor[0].kind, "maltego.Organization");
    assert_eq!(vendor[0].value, "Cisco Systems, Inc");
    assert_eq!(Some(vendor[0].value.as_str()), router.field("mac.vendor"));
    assert_eq!(vendor[0].field("mac.address"), Some("00:13:7f:be:8c:ff"));
    assert_eq!(
        vendor[0].field("capture.sha256"),
        router.field("capture.sha256")
    );
    // tshark: Dell_47:ba:25. Any MAC entity works, with or without provenance.
    let dell = run!(
        &app,
        "mac-to-vendor",
        "maltego.MacAddress",
        "F0-4D-A2-47-BA-25",
        &[]
    );
    assert_eq!(values(&dell), set(&["Dell Inc."]));
    for (mac, why) in [
        ("02:42:ac:11:00:02", "locally administered"),
        ("01:00:5e:00:00:fb", "group (multicast)"),
        ("ff:ff:ff:ff:ff:ff", "broadcast"),
    ] {
        let body = run_body!(&app, "mac-to-vendor", "maltego.MacAddress", mac, &[]);
        assert!(parse(&body).is_empty(), "{mac}: {body}");
        let said = messages(&body);
        assert!(
            said.iter().any(|(k, t)| k == "Inform" && t.contains(why)),
            "{mac}: {said:?}"
        );
    }
    let body = run_body!(
        &app,
        "mac-to-vendor",
        "maltego.MacAddress",
        "not a mac",
        &[]
    );
    assert!(body.contains("not a MAC address"), "{body}");
}

#[actix_web::test]
async fn shows_what_a_session_carried() {
    let mut s = setup(&[
        "zeek__wikipedia.pcap",
        "zeek__openjdk-25.0.2-zeek.org.pcap",
        "wireshark__tls12-dsb.pcapng",
    ]);
    let app = app!(s);
    let facts_of = |sessions: &[Got], field: &str, value: &str| {
        sessions
            .iter()
            .find(|g| g.field(field) == Some(value))
            .cloned()
            .unwrap_or_else(|| panic!("no session with {field} {value}"))
    };
    // TLS: tshark shows one ClientHello, SNI zeek.org, JA3 bddb1660..., to port 443.
    let sessions = on_capture!(
        &app,
        "capture-to-sessions",
        "zeek__openjdk-25.0.2-zeek.org.pcap"
    );
    let tls = facts_of(&sessions, "tls.sni", "zeek.org");
    let got = run!(
        &app,
        "session-to-facts",
        "packetpivot.Session",
        &tls.value,
        &tls.fields
    );
    let of = |kind: &str| -> BTreeSet<String> {
        got.iter()
            .filter(|g| g.kind == kind)
            .map(|g| g.value.clone())
            .collect()
    };
    assert_eq!(of("maltego.DNSName"), set(&["zeek.org"]));
    assert_eq!(of("maltego.Service"), set(&["443/tcp (tls)"]));
    let hashes: BTreeSet<(String, String)> = got
        .iter()
        .filter(|g| g.kind == "maltego.Hash")
        .map(|g| {
            (
                g.field("hash_type").unwrap_or_default().to_string(),
                g.value.clone(),
            )
        })
        .collect();
    assert!(hashes.contains(&("JA3".into(), "bddb16608b241c89053080cf80771423".into())));
    assert!(hashes.iter().any(|(k, _)| k == "JA4"));
    assert!(got
        .iter()
        .all(|g| g.field("capture.sha256") == tls.field("capture.sha256")));
    // The same name as capture-to-tls-names builds it, fields and all.
    let names = on_capture!(
        &app,
        "capture-to-tls-names",
        "zeek__openjdk-25.0.2-zeek.org.pcap"
    );
    let sni = got.iter().find(|g| g.value == "zeek.org").expect("sni");
    let entity_fields = |g: &Got| -> Vec<(String, String)> {
        g.fields
            .iter()
            .filter(|(n, _)| !n.starts_with("link#"))
            .cloned()
            .collect()
    };
    assert_eq!(entity_fields(sni), entity_fields(&names[0]));
    assert_eq!(sni.field("link#maltego.link.label"), Some("TLS SNI"));
    // Certificates: the TLS 1.2 server's leaf and intermediate.
    let sessions = on_capture!(&app, "capture-to-sessions", "wireshark__tls12-dsb.pcapng");
    let mut with_certs = Vec::new();
    for session in &sessions {
        let got = run!(
            &app,
            "session-to-facts",
            "packetpivot.Session",
            &session.value,
            &session.fields
        );
        if got.iter().any(|g| g.kind == "maltego.X509Certificate") {
            with_certs = got;
            break;
        }
    }
    let subjects: Vec<&str> = with_certs
        .iter()
        .filter(|g| g.kind == "maltego.X509Certificate")
        .map(|g| g.value.as_str())
        .collect();
    assert_eq!(subjects.len(), 2);
    assert!(subjects.iter().any(|s| s.contains("CN=www.example.org")));
    // HTTP: tshark's tcp.stream 3 asked upload.wikimedia.org for two URIs.
    let sessions = on_capture!(&app, "capture-to-sessions", "zeek__wikipedia.pcap");
    let http = facts_of(&sessions, "client.port", "49997");
    let got = run!(
        &app,
        "session-to-facts",
        "packetpivot.Session",
        &http.value,
        &http.fields
    );
    let of = |kind: &str| -> BTreeSet<String> {
        got.iter()
            .filter(|g| g.kind == kind)
            .map(|g| g.value.clone())
            .collect()
    };
    assert_eq!(of("maltego.Website"), set(&["upload.wikimedia.org"]));
    assert_eq!(
        of("maltego.URL"),
        set(&[
            "http://upload.wikimedia.org/wikipedia/commons/6/63/Wikipedia-logo.png",
            "http://upload.wikimedia.org/wikipedia/commons/thumb/f/fa/Wikibooks-logo.svg/35px-Wikibooks-logo.svg.png"
        ])
    );
    assert_eq!(of("maltego.Service"), set(&["80/tcp (http)"]));
    let labels: BTreeSet<String> = got
        .iter()
        .filter_map(|g| g.field("link#maltego.link.label").map(str::to_string))
        .collect();
    assert_eq!(labels, set(&["HTTP host", "URL", "service"]));
    // DNS: a query for the name, in its own session.
    let dns = facts_of(&sessions, "dns.query", "upload.wikimedia.org");
    let got = run!(
        &app,
        "session-to-facts",
        "packetpivot.Session",
        &dns.value,
        &dns.fields
    );
    assert!(got
        .iter()
        .any(|g| g.kind == "maltego.DNSName" && g.value == "upload.wikimedia.org"));
    // A session without facts (ARP): nothing, and a message saying so.
    let arp = sessions
        .iter()
        .find(|g| g.value.starts_with("ARP "))
        .expect("arp");
    let body = run_body!(
        &app,
        "session-to-facts",
        "packetpivot.Session",
        &arp.value,
        &arp.fields
    );
    assert!(parse(&body).is_empty());
    assert!(messages(&body)
        .iter()
        .any(|(_, t)| t.contains("showed no application facts")));
}

/// The records of a capture file: (timestamp, captured bytes), in file order.
fn records_of(path: &std::path::Path) -> Vec<(Option<i64>, Vec<u8>)> {
    let mut reader = packetpivot::capture::reader::CaptureReader::open(path, &Default::default())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = Vec::new();
    while let Some(r) = reader.next_record() {
        out.push((r.ts_ns, r.data.to_vec()));
    }
    out
}

#[actix_web::test]
async fn chains_a_capture_to_a_name_its_sessions_and_one_session_pcap() {
    use sha2::Digest;
    let mut s = setup(&["zeek__wikipedia.pcap"]);
    let app = app!(s);
    // Capture → the DNS names its clients queried → one of them.
    let names = on_capture!(&app, "capture-to-dns-names", "zeek__wikipedia.pcap");
    let name = names
        .iter()
        .find(|n| n.value == "upload.wikimedia.org")
        .expect("name");
    // → the sessions that asked for it or went to it, largest first → the largest.
    let sessions = run!(
        &app,
        "dns-name-to-sessions",
        "maltego.DNSName",
        &name.value,
        &provenance(name)
    );
    let session = &sessions[0];
    assert!(
        session.value.starts_with("TCP 141.142.220.118:"),
        "{}",
        session.value
    );
    // → its own pcap.
    let file = run!(
        &app,
        "session-to-pcap",
        "packetpivot.Session",
        &session.value,
        &session.fields
    );
    assert_eq!(file.len(), 1);
    let pcap = std::path::Path::new(file[0].field("pcap.path").expect("path"));
    assert!(pcap.is_file(), "{}", pcap.display());
    let bytes = std::fs::read(pcap).expect("read");
    assert_eq!(
        Some(hex::encode(sha2::Sha256::digest(&bytes)).as_str()),
        file[0].field("pcap.sha256")
    );
    // The pcap holds exactly that session's packets: as many as the session entity says,
    // each a record of the capture, and together all of one tshark TCP stream.
    let got = records_of(pcap);
    let count = |f: &str| -> usize { session.field(f).and_then(|v| v.parse().ok()).expect(f) };
    assert_eq!(
        got.len(),
        count("packets.to_server") + count("packets.to_client")
    );
    let original = records_of(&s.root.join("zeek__wikipedia.pcap"));
    let streams: Vec<String> = include_str!("data/golden/zeek__wikipedia.pcap.tsv")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split('\t').nth(2).unwrap_or("-").to_string())
        .collect();
    let stream_of = |record: &(Option<i64>, Vec<u8>)| {
        let i = original
            .iter()
            .position(|r| r == record)
            .expect("a record of the capture");
        streams[i].clone()
    };
    let stream = stream_of(&got[0]);
    assert!(stream.starts_with("tcp:"), "{stream}");
    assert!(got.iter().all(|r| stream_of(r) == stream));
    assert_eq!(got.len(), streams.iter().filter(|s| **s == stream).count());
}
