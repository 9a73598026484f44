//! Every pivot transform against tshark, on every capture of tests/data: the sets the
//! transforms return through the real server (in-process) equal the sets tshark 4.0.17
//! shows for the same capture, read from `tests/data/facts/tshark_pivots.tsv` (made by
//! `tests/data/facts/generate.py`; tshark is not needed here).
//!
//! | transform | compared with (tshark) |
//! |---|---|
//! | capture-to-dns-names | `dns.qry.name` of queries (DNS, mDNS, LLMNR) |
//! | dns-name-to-addresses, for every name | A/AAAA records of the Answers tree of the responses to it, with TTL |
//! | dns-name-to-clients, for every name asked | `ip.src` of its queries, of requests with it as `http.host`, of ClientHellos with it as SNI |
//! | capture-to-http-hosts | `http.host`, and `http.user_agent` per host |
//! | capture-to-urls | `http.host` + `http.request.uri` |
//! | capture-to-tls-names | `tls.handshake.extensions_server_name` |
//! | capture-to-fingerprints | `tls.handshake.ja3` (ClientHello) and `tls.handshake.ja3s` (ServerHello) |
//! | capture-to-macs | `eth.src`/`eth.dst` (and 802.11 `wlan.sa`/`wlan.da`, SLL `sll.src.eth`) |
//! | mac-to-ips, for every MAC | the `ip.src`/`ip.dst` behind that link address in the same frame |
//! | ip-to-macs, for every talker | the same pairs, the other way round |
//!
//! **Additional-section records.** tshark's `dns.a`/`dns.aaaa` list every A/AAAA record of a
//! response: the Answer section, and also the Authority and Additional sections (glue: the
//! addresses of the zone's name servers). packetpivot's facts keep the Answer section only,
//! because glue answers no question: `upload.wikimedia.org` did not resolve to its name
//! server `208.80.152.130`. So the tshark side is taken from the Answers tree of the
//! dissection (`generate.py` reads it from the PDML), not from the flat `dns.a` field.
//!
//! Where packetpivot differs from tshark on purpose or by a known limit, the difference is
//! listed in [`EXCEPTIONS`] with its reason; the test fails on any other difference and on a
//! listed one that no longer happens, so the list stays exact.

use std::collections::{BTreeMap, BTreeSet};

#[macro_use]
mod common;
use common::{provenance, setup, Got};

/// What tshark showed of one capture.
#[derive(Debug, Default)]
struct Tshark {
    /// tshark could not read it to the end (return code and first error line).
    unread: Option<String>,
    /// (link address, IP address or "-").
    macs: BTreeSet<(String, String)>,
    /// (src, name) of query questions.
    queries: Vec<(String, String)>,
    /// (question, record type, TTL, address) of Answer-section A/AAAA records.
    answers: Vec<(String, String, String, String)>,
    /// (src, host, uri, user agent) of requests; "-" where absent.
    requests: Vec<(String, String, String, String)>,
    /// (src, SNI or "-", JA3) of ClientHellos.
    hellos: Vec<(String, String, String)>,
    /// JA3S of ServerHellos.
    ja3s: BTreeSet<String>,
}

fn golden() -> BTreeMap<String, Tshark> {
    let text = include_str!("data/facts/tshark_pivots.tsv");
    let mut all: BTreeMap<String, Tshark> = BTreeMap::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let c: Vec<String> = line.split('\t').map(str::to_string).collect();
        let t = all.entry(c[0].clone()).or_default();
        let col = |i: usize| c[i].clone();
        match c[1].as_str() {
            "unread" => t.unread = Some(format!("rc {}: {}", col(2), col(3))),
            "mac" => {
                t.macs.insert((col(2), col(3)));
            }
            "dnsq" => t.queries.push((col(3), col(4))),
            "dnsa" => t.answers.push((col(3), col(4), col(5), col(6))),
            "http" => t.requests.push((col(3), col(4), col(5), col(6))),
            "tls" => t.hellos.push((col(3), col(4), col(5))),
            "ja3s" => {
                t.ja3s.insert(col(4));
            }
            other => panic!("row kind {other}: {line}"),
        }
    }
    all
}

/// The capture files of tests/data/MANIFEST.tsv.
fn manifest() -> Vec<String> {
    include_str!("data/MANIFEST.tsv")
        .lines()
        .skip(1)
        .filter_map(|l| l.split('\t').next())
        .filter(|n| !n.is_empty() && !n.starts_with('#'))
        .map(str::to_string)
        .collect()
}

/// Which side has a value the other lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Side {
    /// packetpivot returns it, tshark does not show it.
    OnlyOurs,
    /// tshark shows it, packetpivot does not return it.
    OnlyTshark,
}
use Side::{OnlyOurs, OnlyTshark};

/// A known difference: on `capture`, `pivot` returns `values` that tshark does not show
/// (`OnlyOurs`), or lacks `values` that tshark shows (`OnlyTshark`), for `reason`.
struct Exception {
    capture: &'static str,
    pivot: &'static str,
    side: Side,
    values: &'static [&'static str],
    reason: &'static str,
}

const fn x(
    capture: &'static str,
    pivot: &'static str,
    side: Side,
    values: &'static [&'static str],
    reason: &'static str,
) -> Exception {
    Exception {
        capture,
        pivot,
        side,
        values,
        reason,
    }
}

const GRE: &str = "zeek__gre-sample.pcap";
const ERSPAN: &str = "zeek__erspan.pcap";
const PPPOE: &str = "zeek__pppoe-over-qinq.pcap";
const COMMUNITYID: &str = "wireshark__communityid.pcap";
const OPENJDK: &str = "zeek__openjdk-25.0.2-zeek.org.pcap";
const BRCM: &str = "tcpdump__brcm-tag.pcap";
const FDDI: &str = "zeek__llc.pcap";
const DSB: &str = "wireshark__tls12-dsb.pcapng";
const ICMP_UNREACH: &str = "zeek__icmp-destunreach-udp.pcap";

/// Why a tunnelled session pairs other addresses than tshark: its IP addresses are the
/// inner header's (the session is the tunnelled conversation), its link addresses the
/// outer frame's, on purpose (`src/capture/decode.rs`, `tunnel`: only the outer layers
/// describe the capture). tshark pairs each Ethernet header with the IP header after it.
const TUNNEL: &str = "tunnel: inner IP addresses with the outer frame's MAC addresses";
/// Why one endpoint's link address can be missing: a session keeps each endpoint's MAC
/// from its first packet (`src/session/table.rs`), and some captures carry the replies
/// between other link addresses (an asymmetric route, a virtual router MAC).
const FIRST_PACKET_MAC: &str =
    "a session keeps each endpoint's MAC from its first packet; the replies come from another";

/// Every difference from tshark, with its reason.
const EXCEPTIONS: &[Exception] = &[
    // GRE carries IP directly: the only MACs are the outer frame's.
    x(GRE, "mac-to-ips", OnlyOurs, &[
        "00:02:2d:56:4a:fd ~ 66.59.111.190",
        "00:c0:ca:14:b0:52 ~ 129.170.17.4",
        "00:c0:ca:14:b0:52 ~ 172.28.2.3",
        "00:c0:ca:14:b0:52 ~ 18.26.4.105",
        "00:c0:ca:14:b0:52 ~ 66.59.111.182",
    ], TUNNEL),
    x(GRE, "mac-to-ips", OnlyTshark, &[
        "00:02:2d:56:4a:fd ~ 172.27.1.66",
        "00:c0:ca:14:b0:52 ~ 66.59.109.137",
    ], "tunnel: the outer IP addresses are the tunnel's, which is no session of its own"),
    // ERSPAN mirrors whole Ethernet frames: tshark also lists the mirrored frames' MACs.
    x(ERSPAN, "capture-to-macs", OnlyTshark, &[
        "00:50:56:82:08:d1",
        "00:50:56:82:2b:52",
        "01:00:5e:00:00:fc",
        "33:33:00:01:00:02",
        "33:33:00:01:00:03",
        "ff:ff:ff:ff:ff:ff",
    ], "tunnel: the MACs of the mirrored (inner) Ethernet frames are not kept, only the outer frame's"),
    x(ERSPAN, "mac-to-ips", OnlyOurs, &[
        "00:0c:29:40:d0:ad ~ 192.168.69.2",
        "00:0c:29:40:d0:ad ~ 192.168.69.255",
        "00:0c:29:40:d0:ad ~ 224.0.0.252",
        "00:0c:29:40:d0:ad ~ ff02::1:2",
        "00:0c:29:40:d0:ad ~ ff02::1:3",
        "00:21:1c:2e:41:46 ~ 192.168.69.10",
        "00:21:1c:2e:41:46 ~ 192.168.69.2",
        "00:21:1c:2e:41:46 ~ fe80::34f7:703d:ac05:43d6",
    ], TUNNEL),
    x(ERSPAN, "mac-to-ips", OnlyTshark, &[
        "00:50:56:82:08:d1 ~ 192.168.69.2",
        "00:50:56:82:08:d1 ~ fe80::34f7:703d:ac05:43d6",
        "00:50:56:82:2b:52 ~ 192.168.69.10",
        "01:00:5e:00:00:fc ~ 224.0.0.252",
        "33:33:00:01:00:02 ~ ff02::1:2",
        "33:33:00:01:00:03 ~ ff02::1:3",
        "ff:ff:ff:ff:ff:ff ~ 192.168.69.255",
    ], TUNNEL),
    // The HTTP requests a keep-alive connection sends after its 24th packet record (IP
    // fragments count as records; tshark's tcp.stream record numbers in brackets).
    x(ERSPAN, "capture-to-urls", OnlyTshark, &[
        "http://192.168.69.2/_layouts/1033/init.js?rev=lEi61hsCxcBAfvfQNZA%2FsQ%3D%3D", // tcp:0 #26
        "http://192.168.69.2/_layouts/images/fgimg.png", // tcp:0 #31
        "http://192.168.69.2/_layouts/images/mossfgimg.png", // tcp:0 later still
        "http://192.168.69.2/_layouts/images/selbg.png", // tcp:1 #26
        "http://192.168.69.2/_layouts/images/gosearch15.png", // tcp:1 #28
        "http://192.168.69.2/_layouts/images/imnhdr.gif", // tcp:1 later still
        "http://192.168.69.2/_layouts/images/bgximg.png", // tcp:3 #25
        "http://192.168.69.2/_layouts/images/wpmenuarrow.png", // tcp:3 later still
    ], "facts come from the first 24 packets of a session (FACT_PACKETS), these requests are later"),
    x(PPPOE, "capture-to-macs", OnlyTshark, &["bc:d1:77:17:75:0d"], FIRST_PACKET_MAC),
    x(PPPOE, "mac-to-ips", OnlyTshark, &[
        "00:00:00:00:00:00 ~ 2.2.2.2",
        "bc:d1:77:17:75:0d ~ 1.1.1.1",
    ], FIRST_PACKET_MAC),
    x(COMMUNITYID, "capture-to-macs", OnlyTshark, &["00:0a:42:cf:6b:fd", "54:75:d0:c9:0b:81"],
        FIRST_PACKET_MAC),
    x(COMMUNITYID, "mac-to-ips", OnlyTshark, &[
        "00:0a:42:cf:6b:fd ~ 66.35.250.204",
        "54:75:d0:c9:0b:81 ~ 2607:f8b0:400c:c03::1a",
    ], FIRST_PACKET_MAC),
    // Linux cooked captures carry the sender's address only: the server's is in its own
    // packets, never in the session's first.
    x(OPENJDK, "capture-to-macs", OnlyTshark, &["6e:7e:67:fc:8c:64"], FIRST_PACKET_MAC),
    x(OPENJDK, "mac-to-ips", OnlyTshark, &["6e:7e:67:fc:8c:64 ~ 192.0.78.150"], FIRST_PACKET_MAC),
    x(BRCM, "capture-to-macs", OnlyOurs, &[
        "00:10:18:de:38:1e",
        "68:05:ca:18:47:70",
        "68:05:ca:18:47:74",
        "ff:ff:ff:ff:ff:ff",
    ], "tshark 4.0 refuses link type 281 (Broadcom tag) and shows nothing of the capture"),
    x(BRCM, "mac-to-ips", OnlyOurs, &[
        "00:10:18:de:38:1e ~ 0.0.0.0",
        "00:10:18:de:38:1e ~ 192.168.1.115",
        "00:10:18:de:38:1e ~ 192.168.3.23",
        "68:05:ca:18:47:70 ~ 192.168.1.1",
        "68:05:ca:18:47:74 ~ 192.168.3.1",
        "ff:ff:ff:ff:ff:ff ~ 192.168.1.255",
        "ff:ff:ff:ff:ff:ff ~ 255.255.255.255",
    ], "tshark 4.0 refuses link type 281 (Broadcom tag) and shows nothing of the capture"),
    // FDDI: tshark shows each address octet bit-reversed (55:00:20:00:41:e5) and under
    // fddi.src, not eth.src; packetpivot keeps the octets as captured, aa:00:04:00:…, the
    // DECnet Phase IV prefix, so the captured order is the canonical one here.
    x(FDDI, "capture-to-macs", OnlyOurs, &["aa:00:04:00:82:a7", "aa:00:04:00:83:a7"],
        "FDDI addresses: tshark shows them bit-reversed, as fddi.src/fddi.dst"),
    x(FDDI, "mac-to-ips", OnlyOurs, &[
        "aa:00:04:00:82:a7 ~ 194.140.136.34",
        "aa:00:04:00:83:a7 ~ 128.3.140.132",
    ], "FDDI addresses: tshark shows them bit-reversed, as fddi.src/fddi.dst"),
    // tshark decrypts the TLS sessions with the keys in the capture's Decryption Secrets
    // Block and dissects the HTTP inside; packetpivot does not decrypt.
    x(DSB, "capture-to-http-hosts", OnlyTshark, &["example.com", "example.net"],
        "HTTP inside TLS, decrypted by tshark with the capture's secrets"),
    x(DSB, "capture-to-http-hosts user agents", OnlyTshark, &[
        "example.com ← curl/7.62.0",
        "example.net ← curl/7.62.0",
    ], "HTTP inside TLS, decrypted by tshark with the capture's secrets"),
    x(DSB, "capture-to-urls", OnlyTshark, &["http://example.com/", "http://example.net/"],
        "HTTP inside TLS, decrypted by tshark with the capture's secrets"),
    // tshark dissects the DNS response an ICMP error quotes (the datagram that could not be
    // delivered); it was never a response the client got, and its session is ICMP.
    x(ICMP_UNREACH, "dns-name-to-addresses", OnlyTshark,
        &["secure.ed4.net → 208.94.20.14 (A, TTL 300)"], "a DNS response quoted in an ICMP error"),
    x(COMMUNITYID, "dns-name-to-addresses", OnlyTshark,
        &["sh1.iijlab.net → 3ffe:507:0:1:260:97ff:fe07:69ea (AAAA, TTL 3600)"],
        "a DNS response quoted in an ICMPv6 error"),
];

/// One difference found: (capture, pivot, side, value).
type Difference = (String, &'static str, Side, String);

/// What the comparison found: the differences, and per pivot how many values each side
/// had in all (so a pivot that returned nothing anywhere cannot pass unnoticed).
#[derive(Default)]
struct Findings {
    differences: Vec<Difference>,
    sizes: BTreeMap<&'static str, (usize, usize)>,
}

impl Findings {
    /// Records the differences between what a transform returned and what tshark showed.
    fn compare(
        &mut self,
        capture: &str,
        pivot: &'static str,
        ours: &BTreeSet<String>,
        theirs: &BTreeSet<String>,
    ) {
        let size = self.sizes.entry(pivot).or_default();
        size.0 += ours.len();
        size.1 += theirs.len();
        for v in ours.difference(theirs) {
            self.differences
                .push((capture.to_string(), pivot, OnlyOurs, v.clone()));
        }
        for v in theirs.difference(ours) {
            self.differences
                .push((capture.to_string(), pivot, OnlyTshark, v.clone()));
        }
    }
}

/// An HTTP Host header without its port, lower-cased (how the name pivots match it).
fn host_name(host: &str) -> String {
    let name = match host.rsplit_once(':') {
        Some((name, port)) if !name.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            name
        }
        _ => host,
    };
    name.to_ascii_lowercase()
}

/// The URL packetpivot builds for a request: an absolute URI as sent, else host + URI.
fn url(host: &str, uri: &str) -> String {
    if uri.starts_with("http://") || uri.starts_with("https://") {
        uri.to_string()
    } else {
        format!("http://{host}{uri}")
    }
}

/// The transforms' short list (sorted, at most `max`, then a count), for a field value.
fn short_list(items: &BTreeSet<String>, max: usize) -> String {
    let shown: Vec<&str> = items.iter().take(max).map(String::as_str).collect();
    if items.len() > max {
        format!("{} (+{} more)", shown.join(", "), items.len() - max)
    } else {
        shown.join(", ")
    }
}

fn values(got: &[Got]) -> BTreeSet<String> {
    got.iter().map(|g| g.value.clone()).collect()
}

#[actix_web::test]
async fn every_pivot_returns_tsharks_set_on_every_capture() {
    let captures = manifest();
    assert_eq!(captures.len(), 40);
    let golden = golden();
    for c in golden.keys() {
        assert!(captures.contains(c), "{c} is not in MANIFEST.tsv");
    }
    let names: Vec<&str> = captures.iter().map(String::as_str).collect();
    let mut s = setup(&names);
    let app = app!(s);
    let none = Tshark::default();
    let mut findings = Findings::default();
    for capture in &captures {
        let t = golden.get(capture).unwrap_or(&none);
        let out = &mut findings;
        let c = capture.as_str();
        // The name pivots take a name and the capture it came from.
        let from = vec![("capture.path".to_string(), capture.clone())];

        // DNS names queried.
        let dns = on_capture!(&app, "capture-to-dns-names", c);
        let theirs: BTreeSet<String> = t.queries.iter().map(|(_, n)| n.clone()).collect();
        out.compare(c, "capture-to-dns-names", &values(&dns), &theirs);

        // The addresses each name resolved to, with record type and TTLs.
        let mut ours = BTreeSet::new();
        let mut theirs_by: BTreeMap<(String, String), (String, BTreeSet<u64>)> = BTreeMap::new();
        for (q, kind, ttl, addr) in &t.answers {
            let e = theirs_by
                .entry((q.to_ascii_lowercase(), addr.clone()))
                .or_insert_with(|| (kind.clone(), BTreeSet::new()));
            e.1.insert(ttl.parse().expect("ttl"));
        }
        let asked: BTreeSet<String> = values(&dns)
            .into_iter()
            .chain(t.answers.iter().map(|a| a.0.clone()))
            .collect();
        for name in &asked {
            for a in run!(
                &app,
                "dns-name-to-addresses",
                "maltego.DNSName",
                name,
                &from
            ) {
                ours.insert(format!(
                    "{} → {} ({}, TTL {})",
                    name.to_ascii_lowercase(),
                    a.value,
                    a.field("dns.record_type").unwrap_or("?"),
                    a.field("dns.ttl").unwrap_or("?")
                ));
            }
        }
        let theirs: BTreeSet<String> = theirs_by
            .iter()
            .map(|((name, addr), (kind, ttls))| {
                let ttls: Vec<String> = ttls.iter().map(u64::to_string).collect();
                format!(
                    "{name} → {addr} ({kind}, TTL {})",
                    short_list(&ttls.into_iter().collect(), 4)
                )
            })
            .collect();
        out.compare(c, "dns-name-to-addresses", &ours, &theirs);

        // HTTP hosts, their user agents, and URLs.
        let hosts = on_capture!(&app, "capture-to-http-hosts", c);
        let with_host: Vec<_> = t.requests.iter().filter(|r| r.1 != "-").collect();
        let theirs: BTreeSet<String> = with_host.iter().map(|r| r.1.clone()).collect();
        out.compare(c, "capture-to-http-hosts", &values(&hosts), &theirs);
        let ours: BTreeSet<String> = hosts
            .iter()
            .map(|h| {
                let agents = h.field("http.user_agents").unwrap_or_default();
                format!("{} ← {agents}", h.value)
            })
            .collect();
        let mut agents: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
        for r in &with_host {
            let e = agents.entry(r.1.as_str()).or_default();
            if r.3 != "-" {
                e.insert(r.3.clone());
            }
        }
        let theirs: BTreeSet<String> = agents
            .iter()
            .map(|(h, a)| format!("{h} ← {}", short_list(a, 4)))
            .collect();
        out.compare(c, "capture-to-http-hosts user agents", &ours, &theirs);
        let urls = on_capture!(&app, "capture-to-urls", c);
        let theirs: BTreeSet<String> = with_host.iter().map(|r| url(&r.1, &r.2)).collect();
        out.compare(c, "capture-to-urls", &values(&urls), &theirs);

        // TLS server names and fingerprints.
        let tls = on_capture!(&app, "capture-to-tls-names", c);
        let theirs: BTreeSet<String> = t
            .hellos
            .iter()
            .filter(|h| h.1 != "-")
            .map(|h| h.1.clone())
            .collect();
        out.compare(c, "capture-to-tls-names", &values(&tls), &theirs);
        let prints = on_capture!(&app, "capture-to-fingerprints", c);
        let ours: BTreeSet<String> = prints
            .iter()
            .filter_map(|p| {
                let kind = p.field("hash_type")?;
                (kind == "JA3" || kind == "JA3S").then(|| format!("{kind} {}", p.value))
            })
            .collect();
        let theirs: BTreeSet<String> = t
            .hellos
            .iter()
            .map(|h| format!("JA3 {}", h.2))
            .chain(t.ja3s.iter().map(|h| format!("JA3S {h}")))
            .collect();
        if c == "wireshark__tls-fragmented-handshakes.pcap" {
            // Its ClientHellos are split across TCP segments (and TLS records): the JA3 is
            // tshark's only if the hello was put back together (tshark shows no SNI there).
            assert!(t.hellos.len() >= 100 && ours == theirs, "{ours:?}");
        }
        out.compare(c, "capture-to-fingerprints", &ours, &theirs);

        // The clients that asked for each name: DNS query, HTTP Host or SNI.
        let mut theirs_asked: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (src, name) in &t.queries {
            theirs_asked
                .entry(name.to_ascii_lowercase())
                .or_default()
                .insert(src.clone());
        }
        for r in &with_host {
            theirs_asked
                .entry(host_name(&r.1))
                .or_default()
                .insert(r.0.clone());
        }
        for h in t.hellos.iter().filter(|h| h.1 != "-") {
            theirs_asked
                .entry(h.1.to_ascii_lowercase())
                .or_default()
                .insert(h.0.clone());
        }
        let named: BTreeSet<String> = values(&dns)
            .into_iter()
            .chain(values(&hosts).iter().map(|h| host_name(h)))
            .chain(values(&tls))
            .map(|n| n.to_ascii_lowercase())
            .chain(theirs_asked.keys().cloned())
            .collect();
        let mut ours = BTreeSet::new();
        for name in &named {
            for client in run!(&app, "dns-name-to-clients", "maltego.DNSName", name, &from) {
                ours.insert(format!("{name} ← {}", client.value));
            }
        }
        let theirs: BTreeSet<String> = theirs_asked
            .iter()
            .flat_map(|(n, srcs)| srcs.iter().map(move |s| format!("{n} ← {s}")))
            .collect();
        out.compare(c, "dns-name-to-clients", &ours, &theirs);

        // MAC addresses, and the IP addresses behind them both ways.
        let macs = on_capture!(&app, "capture-to-macs", c);
        let theirs: BTreeSet<String> = t.macs.iter().map(|(m, _)| m.clone()).collect();
        out.compare(c, "capture-to-macs", &values(&macs), &theirs);
        let pairs: BTreeSet<String> = t
            .macs
            .iter()
            .filter(|(_, ip)| ip != "-")
            .map(|(m, ip)| format!("{m} ~ {ip}"))
            .collect();
        let mut ours = BTreeSet::new();
        for m in &macs {
            for ip in run!(
                &app,
                "mac-to-ips",
                "maltego.MacAddress",
                &m.value,
                &provenance(m)
            ) {
                ours.insert(format!("{} ~ {}", m.value, ip.value));
            }
        }
        out.compare(c, "mac-to-ips", &ours, &pairs);
        let mut ours = BTreeSet::new();
        for ip in on_capture!(&app, "capture-to-ips", c) {
            for m in run!(&app, "ip-to-macs", &ip.kind, &ip.value, &provenance(&ip)) {
                ours.insert(format!("{} ~ {}", m.value, ip.value));
            }
        }
        out.compare(c, "ip-to-macs", &ours, &pairs);
    }

    // Every pivot compared real values: tshark's side, summed over the captures.
    let sizes = &findings.sizes;
    for (pivot, minimum) in [
        ("capture-to-dns-names", 30),
        ("dns-name-to-addresses", 10),
        ("dns-name-to-clients", 40),
        ("capture-to-http-hosts", 10),
        ("capture-to-http-hosts user agents", 10),
        ("capture-to-urls", 40),
        ("capture-to-tls-names", 3),
        ("capture-to-fingerprints", 8),
        ("capture-to-macs", 120),
        ("mac-to-ips", 150),
        ("ip-to-macs", 150),
    ] {
        let (ours, theirs) = sizes.get(pivot).copied().unwrap_or_default();
        eprintln!("{pivot}: {ours} values returned, {theirs} shown by tshark");
        assert!(
            theirs >= minimum,
            "{pivot}: only {theirs} tshark values compared"
        );
    }
    let found = findings.differences;

    // Every difference must be a listed exception, and every exception must still happen.
    // ip-to-macs answers from the same pairs as mac-to-ips, so it shares its exceptions.
    let covers = |e: &Exception, d: &Difference| {
        let pivot = if d.1 == "ip-to-macs" {
            "mac-to-ips"
        } else {
            d.1
        };
        e.capture == d.0 && e.pivot == pivot && e.side == d.2 && e.values.contains(&d.3.as_str())
    };
    let unexplained: Vec<String> = found
        .iter()
        .filter(|d| !EXCEPTIONS.iter().any(|e| covers(e, d)))
        .map(|d| format!("{} {} {:?} {:?}", d.0, d.1, d.2, d.3))
        .collect();
    let stale: Vec<String> = EXCEPTIONS
        .iter()
        .flat_map(|e| e.values.iter().map(move |v| (e, *v)))
        .filter(|(e, v)| !found.iter().any(|d| covers(e, d) && d.3 == *v))
        .map(|(e, v)| format!("{} {} {:?} {v:?}: {}", e.capture, e.pivot, e.side, e.reason))
        .collect();
    for c in &captures {
        if let Some(why) = golden.get(c).and_then(|t| t.unread.as_ref()) {
            eprintln!("note: tshark could not read all of {c} ({why})");
        }
    }
    assert!(
        unexplained.is_empty() && stale.is_empty(),
        "{} differences from tshark not in EXCEPTIONS:\n{}\n{} exceptions that no longer happen:\n{}",
        unexplained.len(),
        unexplained.join("\n"),
        stale.len(),
        stale.join("\n")
    );
}
