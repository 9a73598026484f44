//! The pivots an analyst asks of a capture, computed from its session index and facts: the
//! talkers, the DNS names queried, the HTTP hosts, the TLS server names, the services and the
//! MAC addresses. The CLI prints them and the transforms turn them into entities, so both
//! give the same answers.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use serde::Serialize;

use super::collect::SessionFacts;
use super::dns::DnsData;
use crate::session::index::SessionEntry;

/// One IP address and what it did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Talker {
    /// The address.
    pub address: String,
    /// Private, loopback, link-local or unique-local.
    pub internal: bool,
    /// Packets of its sessions.
    pub packets: u64,
    /// Wire bytes of its sessions.
    pub bytes: u64,
    /// Sessions it took part in.
    pub sessions: u64,
    /// Sessions it initiated.
    pub as_client: u64,
    /// Sessions it answered.
    pub as_server: u64,
    /// MAC addresses seen with it.
    pub macs: BTreeSet<String>,
}

/// A DNS name the capture's clients asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct QueriedName {
    /// The name, as queried.
    pub name: String,
    /// DNS queries for it.
    pub queries: u64,
    /// Clients that asked.
    pub clients: BTreeSet<String>,
    /// Addresses the answers gave for it (A/AAAA in the Answer section).
    pub addresses: BTreeSet<String>,
    /// Sessions that mention it (queries and answers).
    pub sessions: BTreeSet<u64>,
}

/// An HTTP host the capture's clients asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HttpHost {
    /// The Host header.
    pub host: String,
    /// Requests.
    pub requests: u64,
    /// URLs requested (`http://host/uri`).
    pub urls: BTreeSet<String>,
    /// User agents.
    pub user_agents: BTreeSet<String>,
    /// Clients.
    pub clients: BTreeSet<String>,
    /// Sessions.
    pub sessions: BTreeSet<u64>,
}

/// A TLS server name (SNI).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TlsName {
    /// The server name.
    pub name: String,
    /// JA3 hashes of the ClientHellos.
    pub ja3: BTreeSet<String>,
    /// JA4 fingerprints.
    pub ja4: BTreeSet<String>,
    /// Sessions.
    pub sessions: BTreeSet<u64>,
}

/// A service: server port, transport and name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Service {
    /// Server port.
    pub port: u16,
    /// `tcp` or `udp`.
    pub transport: String,
    /// Its name (from the payload where recognisable, else the IANA registry).
    pub name: String,
    /// Where the name came from: `payload` or `port`.
    pub source: String,
    /// Sessions.
    pub sessions: BTreeSet<u64>,
}

/// A MAC address and the IP addresses seen behind it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MacEntry {
    /// The address (`aa:bb:cc:dd:ee:ff`).
    pub mac: String,
    /// Vendor from the IEEE registry.
    pub vendor: Option<String>,
    /// IP addresses seen with it.
    pub ips: BTreeSet<String>,
    /// Sessions it took part in.
    pub sessions: u64,
}

/// A TLS fingerprint (JA3, JA3S or JA4) and where it was seen.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Fingerprint {
    /// The hash or JA4 string.
    pub value: String,
    /// `ja3`, `ja3s` or `ja4`.
    pub kind: String,
    /// Server names (SNI) of the ClientHellos that had it.
    pub names: BTreeSet<String>,
    /// Sessions.
    pub sessions: BTreeSet<u64>,
}

/// A server certificate and the sessions that presented it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CertificateSeen {
    /// The certificate.
    pub certificate: super::tls::Certificate,
    /// Sessions.
    pub sessions: BTreeSet<u64>,
}

/// Every JA3, JA3S and JA4 fingerprint, most sessions first.
pub fn fingerprints(facts: &[SessionFacts]) -> Vec<Fingerprint> {
    let mut map: BTreeMap<(String, String), Fingerprint> = BTreeMap::new();
    let mut add = |kind: &str, value: &str, name: Option<&String>, session: u64| {
        if value.is_empty() {
            return;
        }
        let f = map
            .entry((kind.to_string(), value.to_string()))
            .or_insert_with(|| Fingerprint {
                value: value.to_string(),
                kind: kind.to_string(),
                ..Fingerprint::default()
            });
        f.sessions.insert(session);
        if let Some(n) = name {
            f.names.insert(n.clone());
        }
    };
    for f in facts {
        if let Some(h) = f.tls_client.as_ref().and_then(|t| t.client_hello.as_ref()) {
            add("ja3", &h.ja3_hash, h.sni.as_ref(), f.session);
            add("ja4", &h.ja4, h.sni.as_ref(), f.session);
        }
        if let Some(h) = f.tls_server.as_ref().and_then(|t| t.server_hello.as_ref()) {
            add("ja3s", &h.ja3s_hash, None, f.session);
        }
    }
    let mut list: Vec<Fingerprint> = map.into_values().collect();
    list.sort_by(|a, b| {
        b.sessions
            .len()
            .cmp(&a.sessions.len())
            .then(a.kind.cmp(&b.kind))
            .then(a.value.cmp(&b.value))
    });
    list
}

/// Every server certificate (by SHA-256), most sessions first.
pub fn certificates(facts: &[SessionFacts]) -> Vec<CertificateSeen> {
    let mut map: BTreeMap<String, CertificateSeen> = BTreeMap::new();
    for f in facts {
        let Some(server) = &f.tls_server else {
            continue;
        };
        for c in &server.certificates {
            let e = map
                .entry(c.sha256.clone())
                .or_insert_with(|| CertificateSeen {
                    certificate: c.clone(),
                    ..CertificateSeen::default()
                });
            e.sessions.insert(f.session);
        }
    }
    let mut list: Vec<CertificateSeen> = map.into_values().collect();
    list.sort_by(|a, b| {
        b.sessions
            .len()
            .cmp(&a.sessions.len())
            .then(a.certificate.subject.cmp(&b.certificate.subject))
    });
    list
}

/// Private, loopback, link-local or unique-local.
pub fn is_internal(a: &IpAddr) -> bool {
    match a {
        IpAddr::V4(v) => {
            v.is_private() || v.is_loopback() || v.is_link_local() || v.is_unspecified()
        }
        IpAddr::V6(v) => {
            let first = v.segments().first().copied().unwrap_or(0);
            v.is_loopback()
                || v.is_unspecified()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
        }
    }
}

fn client_of(sessions: &[SessionEntry], n: u64) -> Option<String> {
    sessions
        .get(usize::try_from(n).ok()?)
        .and_then(|s| s.client.address.clone())
}

/// Every IP address, busiest (bytes) first.
pub fn talkers(sessions: &[SessionEntry]) -> Vec<Talker> {
    let mut map: BTreeMap<IpAddr, Talker> = BTreeMap::new();
    for s in sessions {
        for (peer, client) in [(&s.client, true), (&s.server, false)] {
            let Some(addr) = peer
                .address
                .as_deref()
                .and_then(|a| a.parse::<IpAddr>().ok())
            else {
                continue;
            };
            let t = map.entry(addr).or_insert_with(|| Talker {
                address: addr.to_string(),
                internal: is_internal(&addr),
                ..Talker::default()
            });
            t.packets += s.packets.total;
            t.bytes += s.bytes.total;
            t.sessions += 1;
            if client {
                t.as_client += 1;
            } else {
                t.as_server += 1;
            }
            if let Some(m) = &peer.mac {
                t.macs.insert(m.clone());
            }
        }
    }
    let mut list: Vec<Talker> = map.into_values().collect();
    list.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.address.cmp(&b.address)));
    list
}

/// Every DNS name queried, most queried first.
pub fn dns_names(sessions: &[SessionEntry], facts: &[SessionFacts]) -> Vec<QueriedName> {
    let mut map: BTreeMap<String, QueriedName> = BTreeMap::new();
    for f in facts {
        for m in &f.dns {
            for q in &m.questions {
                let e = map.entry(q.name.clone()).or_insert_with(|| QueriedName {
                    name: q.name.clone(),
                    ..QueriedName::default()
                });
                e.sessions.insert(f.session);
                if !m.response {
                    e.queries += 1;
                    if let Some(c) = client_of(sessions, f.session) {
                        e.clients.insert(c);
                    }
                }
            }
            if m.response {
                for r in &m.answers {
                    let addr = match &r.data {
                        DnsData::A(a) => a.to_string(),
                        DnsData::Aaaa(a) => a.to_string(),
                        _ => continue,
                    };
                    // An answer belongs to the name asked (CNAME chains end at it).
                    for q in &m.questions {
                        if let Some(e) = map.get_mut(&q.name) {
                            e.addresses.insert(addr.clone());
                        }
                    }
                }
            }
        }
    }
    let mut list: Vec<QueriedName> = map.into_values().filter(|n| n.queries > 0).collect();
    list.sort_by(|a, b| b.queries.cmp(&a.queries).then(a.name.cmp(&b.name)));
    list
}

/// Every HTTP host, most requested first.
pub fn http_hosts(sessions: &[SessionEntry], facts: &[SessionFacts]) -> Vec<HttpHost> {
    let mut map: BTreeMap<String, HttpHost> = BTreeMap::new();
    for f in facts {
        for r in &f.http_requests {
            let Some(host) = r.host.clone().filter(|h| !h.is_empty()) else {
                continue;
            };
            let h = map.entry(host.clone()).or_insert_with(|| HttpHost {
                host: host.clone(),
                ..HttpHost::default()
            });
            h.requests += 1;
            h.sessions.insert(f.session);
            let url = if r.uri.starts_with("http://") || r.uri.starts_with("https://") {
                r.uri.clone()
            } else {
                format!("http://{host}{}", r.uri)
            };
            h.urls.insert(url);
            if let Some(ua) = &r.user_agent {
                h.user_agents.insert(ua.clone());
            }
            if let Some(c) = client_of(sessions, f.session) {
                h.clients.insert(c);
            }
        }
    }
    let mut list: Vec<HttpHost> = map.into_values().collect();
    list.sort_by(|a, b| b.requests.cmp(&a.requests).then(a.host.cmp(&b.host)));
    list
}

/// Every TLS server name, most sessions first.
pub fn tls_names(facts: &[SessionFacts]) -> Vec<TlsName> {
    let mut map: BTreeMap<String, TlsName> = BTreeMap::new();
    for f in facts {
        let Some(hello) = f.tls_client.as_ref().and_then(|t| t.client_hello.as_ref()) else {
            continue;
        };
        let Some(sni) = hello.sni.clone() else {
            continue;
        };
        let n = map.entry(sni.clone()).or_insert_with(|| TlsName {
            name: sni,
            ..TlsName::default()
        });
        n.sessions.insert(f.session);
        n.ja3.insert(hello.ja3_hash.clone());
        n.ja4.insert(hello.ja4.clone());
    }
    let mut list: Vec<TlsName> = map.into_values().collect();
    list.sort_by(|a, b| {
        b.sessions
            .len()
            .cmp(&a.sessions.len())
            .then(a.name.cmp(&b.name))
    });
    list
}

/// Every service, most sessions first.
pub fn services(sessions: &[SessionEntry], facts: &[SessionFacts]) -> Vec<Service> {
    let mut map: BTreeMap<(u16, String, String), Service> = BTreeMap::new();
    for f in facts {
        let Some(name) = &f.service else { continue };
        let Some(s) = usize::try_from(f.session)
            .ok()
            .and_then(|i| sessions.get(i))
        else {
            continue;
        };
        let Some(port) = s.server.port else { continue };
        let key = (port, s.protocol.clone(), name.clone());
        let e = map.entry(key).or_insert_with(|| Service {
            port,
            transport: s.protocol.clone(),
            name: name.clone(),
            source: f.service_source.clone().unwrap_or_default(),
            ..Service::default()
        });
        e.sessions.insert(f.session);
    }
    let mut list: Vec<Service> = map.into_values().collect();
    list.sort_by(|a, b| {
        b.sessions
            .len()
            .cmp(&a.sessions.len())
            .then(a.port.cmp(&b.port))
            .then(a.name.cmp(&b.name))
    });
    list
}

/// Every MAC address with the IP addresses seen behind it, most sessions first.
pub fn macs(sessions: &[SessionEntry]) -> Vec<MacEntry> {
    let mut map: BTreeMap<String, MacEntry> = BTreeMap::new();
    for s in sessions {
        for peer in [&s.client, &s.server] {
            let Some(mac) = &peer.mac else { continue };
            let e = map.entry(mac.clone()).or_insert_with(|| MacEntry {
                mac: mac.clone(),
                vendor: parse_mac(mac)
                    .and_then(|m| super::reference::mac_vendor(&m))
                    .map(str::to_string),
                ..MacEntry::default()
            });
            e.sessions += 1;
            if let Some(ip) = &peer.address {
                e.ips.insert(ip.clone());
            }
        }
    }
    let mut list: Vec<MacEntry> = map.into_values().collect();
    list.sort_by(|a, b| b.sessions.cmp(&a.sessions).then(a.mac.cmp(&b.mac)));
    list
}

/// A client that asked for a name, and how.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AskingClient {
    /// The client's address.
    pub address: String,
    /// How it asked: `DNS query`, `HTTP Host`, `TLS SNI` (in that order).
    pub via: Vec<&'static str>,
    /// Its sessions that asked.
    pub sessions: BTreeSet<u64>,
}

/// An address a name resolved to in the Answer sections of the capture's DNS responses.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Resolution {
    /// The address (A or AAAA data).
    pub address: String,
    /// `A` or `AAAA`.
    pub record_type: &'static str,
    /// The TTLs the answers gave, in seconds.
    pub ttls: BTreeSet<u32>,
    /// The owner names of the records (the name itself, or where a CNAME chain ended).
    pub owners: BTreeSet<String>,
    /// Sessions that carried the answers.
    pub sessions: BTreeSet<u64>,
}

/// Whether two DNS names are the same name: ASCII case and a trailing root dot do not
/// count (RFC 4343), as a Maltego entity may carry either form.
pub fn same_name(a: &str, b: &str) -> bool {
    a.trim_end_matches('.')
        .eq_ignore_ascii_case(b.trim_end_matches('.'))
}

/// The host name of an HTTP Host header: without its port, and an IPv6 literal without
/// its brackets (`[2001:db8::1]:8080` → `2001:db8::1`).
pub fn host_name(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

/// How one session's facts name `name`: asked in a DNS query (or seen in the question of
/// a response), sent as HTTP Host, or asked for in a TLS ClientHello.
#[derive(Debug, Default, Clone, Copy)]
struct Naming {
    dns_query: bool,
    dns_response: bool,
    http_host: bool,
    tls_sni: bool,
}

impl Naming {
    fn of(f: &SessionFacts, name: &str) -> Naming {
        let asks = |response: bool| {
            f.dns.iter().any(|m| {
                m.response == response && m.questions.iter().any(|q| same_name(&q.name, name))
            })
        };
        Naming {
            dns_query: asks(false),
            dns_response: asks(true),
            http_host: f.http_requests.iter().any(|r| {
                r.host
                    .as_deref()
                    .is_some_and(|h| same_name(host_name(h), name))
            }),
            tls_sni: f
                .tls_client
                .as_ref()
                .and_then(|t| t.client_hello.as_ref())
                .and_then(|h| h.sni.as_deref())
                .is_some_and(|s| same_name(s, name)),
        }
    }

    /// How the session's client asked for the name. A DNS response alone does not count:
    /// its question was asked by whoever sent the query.
    fn asked_via(self) -> Vec<&'static str> {
        [
            (self.dns_query, "DNS query"),
            (self.http_host, "HTTP Host"),
            (self.tls_sni, "TLS SNI"),
        ]
        .into_iter()
        .filter_map(|(yes, via)| yes.then_some(via))
        .collect()
    }

    /// Both sessions' ways together.
    fn or(self, other: Naming) -> Naming {
        Naming {
            dns_query: self.dns_query || other.dns_query,
            dns_response: self.dns_response || other.dns_response,
            http_host: self.http_host || other.http_host,
            tls_sni: self.tls_sni || other.tls_sni,
        }
    }

    fn any(self) -> bool {
        self.dns_query || self.dns_response || self.http_host || self.tls_sni
    }
}

/// The sessions that name `name`: a DNS message asking for it (query or response), an
/// HTTP request with it as Host, or a TLS ClientHello with it as server name.
pub fn sessions_naming(facts: &[SessionFacts], name: &str) -> BTreeSet<u64> {
    facts
        .iter()
        .filter(|f| Naming::of(f, name).any())
        .map(|f| f.session)
        .collect()
}

/// The clients that asked for `name` (DNS query, HTTP Host or TLS SNI), most sessions
/// first. The client of a session is its initiator, the sender of queries and requests.
pub fn clients_asking(
    sessions: &[SessionEntry],
    facts: &[SessionFacts],
    name: &str,
) -> Vec<AskingClient> {
    // Per client: its sessions that asked, and the ways over all of them.
    let mut map: BTreeMap<IpAddr, (BTreeSet<u64>, Naming)> = BTreeMap::new();
    for f in facts {
        let naming = Naming::of(f, name);
        if naming.asked_via().is_empty() {
            continue;
        }
        let Some(addr) = client_of(sessions, f.session).and_then(|c| c.parse::<IpAddr>().ok())
        else {
            continue;
        };
        let (numbers, ways) = map.entry(addr).or_default();
        numbers.insert(f.session);
        *ways = ways.or(naming);
    }
    let mut list: Vec<AskingClient> = map
        .into_iter()
        .map(|(addr, (sessions, ways))| AskingClient {
            address: addr.to_string(),
            via: ways.asked_via(),
            sessions,
        })
        .collect();
    list.sort_by(|a, b| {
        b.sessions
            .len()
            .cmp(&a.sessions.len())
            .then(a.address.cmp(&b.address))
    });
    list
}

/// The addresses `name` resolved to: the A and AAAA records in the Answer section of every
/// response whose question is `name` (so a CNAME chain's final addresses count for the name
/// asked, as in [`dns_names`]), in address order (IPv4 first).
///
/// Authority and Additional records are not facts here (see [`super::dns`]): a glue record
/// names a server of the zone, not an answer to the question.
pub fn resolutions(facts: &[SessionFacts], name: &str) -> Vec<Resolution> {
    let mut map: BTreeMap<IpAddr, Resolution> = BTreeMap::new();
    for f in facts {
        for m in f.dns.iter().filter(|m| m.response) {
            if !m.questions.iter().any(|q| same_name(&q.name, name)) {
                continue;
            }
            for r in &m.answers {
                let (addr, record_type) = match &r.data {
                    DnsData::A(a) => (IpAddr::V4(*a), "A"),
                    DnsData::Aaaa(a) => (IpAddr::V6(*a), "AAAA"),
                    _ => continue,
                };
                let e = map.entry(addr).or_insert_with(|| Resolution {
                    address: addr.to_string(),
                    record_type,
                    ..Resolution::default()
                });
                e.ttls.insert(r.ttl);
                e.owners.insert(r.name.clone());
                e.sessions.insert(f.session);
            }
        }
    }
    map.into_values().collect()
}

/// Parses `aa:bb:cc:dd:ee:ff` (or `-` separated).
pub fn parse_mac(text: &str) -> Option<[u8; 6]> {
    let mut out = [0u8; 6];
    let mut parts = text.split([':', '-']);
    for slot in out.iter_mut() {
        *slot = u8::from_str_radix(parts.next()?, 16).ok()?;
    }
    parts.next().is_none().then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::dns::{DnsMessage, DnsQuestion, DnsRecord};
    use crate::facts::http::HttpRequest;

    fn dns(response: bool, name: &str, answers: Vec<DnsRecord>) -> DnsMessage {
        DnsMessage {
            id: 1,
            response,
            opcode: 0,
            rcode: 0,
            questions: vec![DnsQuestion {
                name: name.into(),
                qtype: 1,
                qclass: 1,
            }],
            answers,
            truncated_flag: false,
            anomalies: Vec::new(),
        }
    }

    fn record(name: &str, ttl: u32, data: DnsData) -> DnsRecord {
        DnsRecord {
            name: name.into(),
            rtype: 1,
            ttl,
            data,
        }
    }

    #[test]
    fn matches_names_without_case_trailing_dot_or_port() {
        assert!(same_name("WWW.Example.org.", "www.example.org"));
        assert!(!same_name("example.org", "www.example.org"));
        assert_eq!(host_name("example.org:8080"), "example.org");
        assert_eq!(host_name("[2001:db8::1]:80"), "2001:db8::1");
        assert_eq!(host_name("example.org"), "example.org");
    }

    #[test]
    fn resolves_names_from_answers_through_cname_chains() {
        let v4 = |s: &str| DnsData::A(s.parse().expect("v4"));
        let chain = vec![
            record(
                "www.example.org",
                60,
                DnsData::Name("edge.example.net".into()),
            ),
            record("edge.example.net", 30, v4("192.0.2.7")),
            record(
                "edge.example.net",
                30,
                DnsData::Aaaa("2001:db8::7".parse().expect("v6")),
            ),
        ];
        let facts = vec![
            SessionFacts {
                session: 3,
                dns: vec![
                    dns(false, "www.example.org", Vec::new()),
                    dns(true, "www.example.org", chain),
                ],
                ..SessionFacts::default()
            },
            SessionFacts {
                session: 5,
                dns: vec![dns(
                    true,
                    "www.example.org.",
                    vec![record("www.example.org", 20, v4("192.0.2.7"))],
                )],
                http_requests: vec![HttpRequest {
                    method: "GET".into(),
                    uri: "/".into(),
                    version: "HTTP/1.1".into(),
                    host: Some("WWW.example.org:80".into()),
                    user_agent: None,
                }],
                ..SessionFacts::default()
            },
        ];
        let got = resolutions(&facts, "www.example.org");
        assert_eq!(got.len(), 2);
        let first = got.first().expect("v4");
        assert_eq!(
            (first.address.as_str(), first.record_type),
            ("192.0.2.7", "A")
        );
        assert_eq!(first.ttls, BTreeSet::from([20, 30]));
        assert_eq!(first.sessions, BTreeSet::from([3, 5]));
        assert_eq!(got.get(1).map(|r| r.record_type), Some("AAAA"));
        assert!(resolutions(&facts, "edge.example.net").is_empty());
        assert_eq!(
            sessions_naming(&facts, "www.example.org"),
            BTreeSet::from([3, 5])
        );
        // Session 5 only saw a response to someone else's query, but asked by HTTP.
        let ways: Vec<_> = facts
            .iter()
            .map(|f| Naming::of(f, "www.example.org").asked_via())
            .collect();
        assert_eq!(ways, vec![vec!["DNS query"], vec!["HTTP Host"]]);
    }

    #[test]
    fn parses_macs_and_internal_addresses() {
        assert_eq!(
            parse_mac("00:13:7f:be:8c:ff"),
            Some([0, 0x13, 0x7f, 0xbe, 0x8c, 0xff])
        );
        assert_eq!(
            parse_mac("00-13-7f-be-8c-ff"),
            Some([0, 0x13, 0x7f, 0xbe, 0x8c, 0xff])
        );
        assert_eq!(parse_mac("00:13:7f"), None);
        assert_eq!(parse_mac("00:13:7f:be:8c:ff:00"), None);
        let ip = |s: &str| s.parse::<IpAddr>().expect("ip");
        assert!(
            is_internal(&ip("10.1.2.3"))
                && is_internal(&ip("fe80::1"))
                && is_internal(&ip("fd00::1"))
        );
        assert!(!is_internal(&ip("208.80.152.3")) && !is_internal(&ip("2001:db8::1")));
    }
}
