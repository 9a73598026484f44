//! packetpivot's entities: how a capture and a session look on a Maltego graph.
//!
//! A session entity's value reads at a glance and is unique across captures, so Maltego never
//! merges two sessions: `TCP 10.0.0.5:51234 → 198.18.0.9:443 #42 @11d2ce14fcb8`. It is the
//! same for the same capture on every run.

use crate::facts::collect::SessionFacts;
use crate::maltego::entity;
use crate::maltego::response::{Entity, LinkStyle};
use crate::session::index::{IndexHead, PeerEntry, SessionEntry};
use crate::units::human_bytes;

/// Hex digits of the capture's SHA-256 in a session's value: enough to keep sessions of
/// different captures apart on one graph.
const SHA_PREFIX: usize = 12;

/// Property names of the session entity, shared by the transforms that read them back.
pub mod prop {
    /// Transport or link protocol.
    pub const PROTOCOL: &str = "protocol";
    /// Client address.
    pub const CLIENT_ADDRESS: &str = "client.address";
    /// Client port.
    pub const CLIENT_PORT: &str = "client.port";
    /// Server address.
    pub const SERVER_ADDRESS: &str = "server.address";
    /// Server port.
    pub const SERVER_PORT: &str = "server.port";
    /// The capture's SHA-256.
    pub const CAPTURE_SHA256: &str = "capture.sha256";
    /// The capture's path on the server (resolved inside a capture root).
    pub const CAPTURE_PATH: &str = "capture.path";
    /// Session number.
    pub const SESSION_NUMBER: &str = "session.number";
    /// The session pcap on the server.
    pub const PCAP_PATH: &str = "pcap.path";
    /// Its SHA-256.
    pub const PCAP_SHA256: &str = "pcap.sha256";
    /// Its download URL.
    pub const PCAP_URL: &str = "pcap.url";
}

fn endpoint(p: &PeerEntry) -> String {
    match (&p.address, p.port, &p.mac) {
        (Some(a), Some(port), _) if a.contains(':') => format!("[{a}]:{port}"),
        (Some(a), Some(port), _) => format!("{a}:{port}"),
        (Some(a), None, _) => a.clone(),
        (None, _, Some(m)) => m.clone(),
        _ => "?".into(),
    }
}

/// The value of a session entity.
pub fn session_value(s: &SessionEntry, capture_sha256: &str) -> String {
    let sha = capture_sha256.get(..SHA_PREFIX).unwrap_or(capture_sha256);
    format!(
        "{} {} → {} #{} @{sha}",
        s.protocol.to_uppercase(),
        endpoint(&s.client),
        endpoint(&s.server),
        s.number
    )
}

/// A link colour per protocol, so a graph shows the mix at a glance.
pub fn protocol_colour(protocol: &str) -> &'static str {
    match protocol {
        "tcp" => "#1F77B4",
        "udp" => "#2CA02C",
        "icmp" | "icmpv6" => "#FF7F0E",
        "arp" | "stp" | "lldp" => "#7F7F7F",
        "gre" | "esp" | "ipip" | "ipv6" => "#9467BD",
        _ => "#8C564B",
    }
}

/// Link thickness 1-5, growing with the bytes a session carried (one step per decade
/// above 1 kB).
pub fn thickness(bytes: u64) -> u8 {
    match bytes {
        0..=999 => 1,
        1_000..=9_999 => 2,
        10_000..=99_999 => 3,
        100_000..=999_999 => 4,
        _ => 5,
    }
}

/// The session entity for one index entry of a split capture.
pub fn session_entity(
    s: &SessionEntry,
    head: &IndexHead,
    facts: Option<&SessionFacts>,
    pcap_path: &str,
    download_url: Option<String>,
) -> Entity {
    let sha = &head.capture.sha256;
    let mut e = Entity::new(entity::SESSION, session_value(s, sha));
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let port = |p: Option<u16>| p.map(|p| p.to_string()).unwrap_or_default();
    // The fields that identify a session match strictly (as trx's own session example
    // marks them); counters and times are loose.
    e.strict_field(prop::PROTOCOL, "Protocol", s.protocol.clone())
        .strict_field(
            prop::CLIENT_ADDRESS,
            "Client address",
            opt(&s.client.address),
        )
        .strict_field(prop::CLIENT_PORT, "Client port", port(s.client.port))
        .strict_field(
            prop::SERVER_ADDRESS,
            "Server address",
            opt(&s.server.address),
        )
        .strict_field(prop::SERVER_PORT, "Server port", port(s.server.port))
        .field("client.mac", "Client MAC", opt(&s.client.mac))
        .field("server.mac", "Server MAC", opt(&s.server.mac))
        .field(
            "packets.to_server",
            "Packets to server",
            s.packets.to_server.to_string(),
        )
        .field(
            "packets.to_client",
            "Packets to client",
            s.packets.to_client.to_string(),
        )
        .field(
            "bytes.to_server",
            "Bytes to server",
            s.bytes.to_server.to_string(),
        )
        .field(
            "bytes.to_client",
            "Bytes to client",
            s.bytes.to_client.to_string(),
        )
        .field("first_time", "First packet", opt(&s.first_time))
        .field("last_time", "Last packet", opt(&s.last_time))
        .field("duration_s", "Duration (s)", format!("{:.6}", s.duration_s))
        .field("community_id", "Community ID", opt(&s.community_id))
        .field("flags", "Flags", s.flags.join(","))
        .strict_field(prop::SESSION_NUMBER, "Session number", s.number.to_string())
        .strict_field(prop::CAPTURE_SHA256, "Capture SHA-256", sha.clone())
        .field(
            prop::CAPTURE_PATH,
            "Capture path",
            head.capture.path.clone(),
        )
        .field(
            prop::PCAP_PATH,
            "Session pcap (server path)",
            pcap_path.to_string(),
        )
        .field(
            prop::PCAP_SHA256,
            "Session pcap SHA-256",
            opt(&s.file_sha256),
        );
    if let Some(url) = download_url {
        e.field(prop::PCAP_URL, "Session pcap download URL", url);
    }
    let seen = facts.map(Seen::of).unwrap_or_default();
    e.field(
        "service",
        "Service",
        seen.service.clone().unwrap_or_default(),
    )
    .field(
        "tls.sni",
        "TLS server name",
        seen.sni.clone().unwrap_or_default(),
    )
    .field("tls.ja3", "JA3", seen.ja3.clone().unwrap_or_default())
    .field("tls.ja4", "JA4", seen.ja4.clone().unwrap_or_default())
    .field(
        "http.host",
        "HTTP host",
        seen.http_host.clone().unwrap_or_default(),
    )
    .field(
        "http.uri",
        "HTTP URI",
        seen.http_uri.clone().unwrap_or_default(),
    )
    .field(
        "dns.query",
        "DNS query",
        seen.dns_query.clone().unwrap_or_default(),
    );
    // Empty fields carry nothing; Maltego shows them as blank rows.
    e.fields.retain(|f| !f.value.is_empty());
    let what = seen.headline().map(|h| format!(" {h}")).unwrap_or_default();
    e.link.label = Some(format!(
        "{}{what} · {} pkts · {}",
        s.protocol.to_uppercase(),
        s.packets.total,
        human_bytes(s.bytes.total)
    ));
    e.link.color = Some(protocol_colour(&s.protocol).to_string());
    e.link.thickness = Some(thickness(s.bytes.total));
    e.link.style = Some(LinkStyle::Normal);
    e.display_information.push((
        "Session".into(),
        format!(
            "{} {} → {}<br/>{} packets, {} ({} → / {} ←)<br/>{} … {}<br/>Community ID {}",
            s.protocol.to_uppercase(),
            endpoint(&s.client),
            endpoint(&s.server),
            s.packets.total,
            human_bytes(s.bytes.total),
            s.packets.to_server,
            s.packets.to_client,
            opt(&s.first_time),
            opt(&s.last_time),
            s.community_id.as_deref().unwrap_or("-")
        ),
    ));
    e
}

/// The facts a session entity shows at a glance.
#[derive(Debug, Default)]
struct Seen {
    service: Option<String>,
    sni: Option<String>,
    ja3: Option<String>,
    ja4: Option<String>,
    http_host: Option<String>,
    http_uri: Option<String>,
    dns_query: Option<String>,
}

impl Seen {
    fn of(f: &SessionFacts) -> Seen {
        let hello = f.tls_client.as_ref().and_then(|t| t.client_hello.as_ref());
        let request = f.http_requests.first();
        Seen {
            service: f.service.clone(),
            sni: hello.and_then(|h| h.sni.clone()),
            ja3: hello.map(|h| h.ja3_hash.clone()),
            ja4: hello.map(|h| h.ja4.clone()),
            http_host: request.and_then(|r| r.host.clone()),
            http_uri: request.map(|r| r.uri.clone()),
            dns_query: f
                .dns
                .iter()
                .find_map(|m| m.questions.first().map(|q| q.name.clone())),
        }
    }

    /// What the link label names: the server name, host or query, else the service.
    fn headline(&self) -> Option<String> {
        self.sni
            .clone()
            .or_else(|| self.http_host.clone())
            .or_else(|| self.dns_query.clone())
            .or_else(|| self.service.clone())
    }
}

/// The capture entity, enriched with its hashes and summary.
pub fn capture_entity(value: &str, info: &crate::capture::summary::CaptureInfo) -> Entity {
    let mut e = Entity::new(entity::CAPTURE, value.to_string());
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    e.field("sha256", "SHA-256", info.hashes.sha256.clone())
        .field("sha1", "SHA-1", info.hashes.sha1.clone())
        .field("md5", "MD5", info.hashes.md5.clone())
        .field("size", "Size (bytes)", info.file_size.to_string())
        .field("format", "Format", info.format.clone())
        .field("link_types", "Link types", info.link_types.join(", "))
        .field("packets", "Packets", info.packets.to_string())
        .field("first_time", "First packet", opt(&info.first_time))
        .field("last_time", "Last packet", opt(&info.last_time));
    e.fields.retain(|f| !f.value.is_empty());
    e
}

/// The definitions of packetpivot's own entity types, for the configuration export.
pub fn entity_specs() -> Vec<crate::maltego::export::EntitySpec<'static>> {
    use crate::maltego::export::{EntitySpec, PropertySpec};
    let p = |name: &'static str, display_name: &'static str, kind: &'static str| PropertySpec {
        name,
        display_name,
        kind,
        sample: "",
    };
    vec![
        EntitySpec {
            id: entity::CAPTURE,
            display_name: "Packet Capture",
            plural: "Packet Captures",
            description: "A pcap or pcapng file; its value is the path as the analyst gave it",
            category: "packetpivot",
            base_entities: &[entity::FILE],
            value_property: PropertySpec {
                name: "capture.path",
                display_name: "Path",
                kind: "string",
                sample: "/evidence/case-42/traffic.pcap",
            },
            properties: vec![
                p("sha256", "SHA-256", "string"),
                p("sha1", "SHA-1", "string"),
                p("md5", "MD5", "string"),
                p("size", "Size (bytes)", "int"),
                p("format", "Format", "string"),
                p("link_types", "Link types", "string"),
                p("packets", "Packets", "int"),
                p("first_time", "First packet", "string"),
                p("last_time", "Last packet", "string"),
            ],
            icon_png: &[],
        },
        EntitySpec {
            id: entity::SESSION,
            display_name: "Network Session",
            plural: "Network Sessions",
            description: "One TCP connection, UDP flow, ICMP exchange or link-layer conversation of a capture, with its own pcap",
            category: "packetpivot",
            base_entities: &[],
            value_property: PropertySpec {
                name: "session.name",
                display_name: "Session",
                kind: "string",
                sample: "TCP 10.0.0.5:51234 → 198.18.0.9:443 #42 @11d2ce14fcb8",
            },
            properties: vec![
                p(prop::PROTOCOL, "Protocol", "string"),
                p(prop::CLIENT_ADDRESS, "Client address", "string"),
                p(prop::CLIENT_PORT, "Client port", "int"),
                p(prop::SERVER_ADDRESS, "Server address", "string"),
                p(prop::SERVER_PORT, "Server port", "int"),
                p("client.mac", "Client MAC", "string"),
                p("server.mac", "Server MAC", "string"),
                p("packets.to_server", "Packets to server", "int"),
                p("packets.to_client", "Packets to client", "int"),
                p("bytes.to_server", "Bytes to server", "int"),
                p("bytes.to_client", "Bytes to client", "int"),
                p("first_time", "First packet", "string"),
                p("last_time", "Last packet", "string"),
                p("duration_s", "Duration (s)", "float"),
                p("community_id", "Community ID", "string"),
                p("flags", "Flags", "string"),
                p(prop::SESSION_NUMBER, "Session number", "int"),
                p(prop::CAPTURE_SHA256, "Capture SHA-256", "string"),
                p(prop::CAPTURE_PATH, "Capture path", "string"),
                p(prop::PCAP_PATH, "Session pcap (server path)", "string"),
                p(prop::PCAP_SHA256, "Session pcap SHA-256", "string"),
                p(prop::PCAP_URL, "Session pcap download URL", "url"),
            ],
            icon_png: &[],
        },
    ]
}
