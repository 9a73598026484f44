//! Capture → its sessions: writes one pcap per session on the server and returns a session
//! entity for each, largest first.

use super::entities::session_entity;
use super::{capture_path, Context, Meta, Setting, SettingKind, Transform, TransformError};
use crate::maltego::entity;
use crate::maltego::response::Response;
use crate::session::index::SessionEntry;

const PROTOCOLS: Setting = Setting {
    name: "protocols",
    display_name: "Protocols",
    description:
        "Only sessions of these protocols, comma-separated (tcp,udp,icmp,arp,...); empty for all",
    kind: SettingKind::Text,
    default: "",
    optional: true,
    popup: false,
};
const PORTS: Setting = Setting {
    name: "ports",
    display_name: "Ports",
    description:
        "Only sessions with a client or server port in this comma-separated list; empty for all",
    kind: SettingKind::Text,
    default: "",
    optional: true,
    popup: false,
};
const MIN_PACKETS: Setting = Setting {
    name: "min_packets",
    display_name: "Minimum packets",
    description: "Only sessions with at least this many packets",
    kind: SettingKind::Integer,
    default: "0",
    optional: true,
    popup: false,
};
const MIN_BYTES: Setting = Setting {
    name: "min_bytes",
    display_name: "Minimum bytes",
    description: "Only sessions with at least this many bytes on the wire",
    kind: SettingKind::Integer,
    default: "0",
    optional: true,
    popup: false,
};

/// The transform.
pub static TRANSFORM: Transform = Transform {
    meta: Meta {
        name: "capture-to-sessions",
        display_name: "To Sessions [packetpivot]",
        description: "Splits the capture into sessions exactly as tshark's tcp.stream/udp.stream, writes one pcap per session on the server and returns a session entity for each, largest first.",
        input: entity::CAPTURE,
        outputs: &[entity::SESSION],
        settings: &[PROTOCOLS, PORTS, MIN_PACKETS, MIN_BYTES],
    },
    run,
};

/// Which sessions the settings let through.
struct Filter {
    protocols: Vec<String>,
    ports: Vec<u16>,
    min_packets: u64,
    min_bytes: u64,
}

impl Filter {
    fn from(ctx: &Context<'_>) -> Result<Filter, TransformError> {
        let list = |s: &Setting| -> Vec<String> {
            ctx.setting(s)
                .split(',')
                .map(|p| p.trim().to_ascii_lowercase())
                .filter(|p| !p.is_empty())
                .collect()
        };
        let ports = list(&PORTS)
            .iter()
            .map(|p| {
                p.parse::<u16>().map_err(|_| {
                    TransformError::BadSetting(format!("ports: {p:?} is not a port number"))
                })
            })
            .collect::<Result<Vec<u16>, _>>()?;
        Ok(Filter {
            protocols: list(&PROTOCOLS),
            ports,
            min_packets: ctx.integer_setting(&MIN_PACKETS)?,
            min_bytes: ctx.integer_setting(&MIN_BYTES)?,
        })
    }

    fn keeps(&self, s: &SessionEntry) -> bool {
        (self.protocols.is_empty() || self.protocols.contains(&s.protocol))
            && (self.ports.is_empty()
                || [s.client.port, s.server.port]
                    .iter()
                    .flatten()
                    .any(|p| self.ports.contains(p)))
            && s.packets.total >= self.min_packets
            && s.bytes.total >= self.min_bytes
    }
}

fn run(ctx: &Context<'_>) -> Result<Response, TransformError> {
    let given = capture_path(ctx.request)?;
    let filter = Filter::from(ctx)?;
    let finished = ctx.store.split(&given)?;
    let limit = ctx.request.limit();
    // The answer depends on the finished capture and these inputs only, so a repeat (the
    // same transform run again on the same capture) is given from memory.
    let key = format!(
        "{}\0{}\0{}\0{:?}\0{:?}\0{}\0{}\0{limit}",
        TRANSFORM.meta.name,
        finished.dir_name,
        given,
        filter.protocols,
        filter.ports,
        filter.min_packets,
        filter.min_bytes,
    );
    if let Some(kept) = ctx.store.answer(&key) {
        return Ok(kept);
    }
    let head = &finished.index.head;
    let mut chosen: Vec<&SessionEntry> = finished
        .sessions()
        .iter()
        .filter(|s| filter.keeps(s))
        .collect();
    // Deterministic: most bytes first, session number breaks ties.
    chosen.sort_by(|a, b| {
        b.bytes
            .total
            .cmp(&a.bytes.total)
            .then(a.number.cmp(&b.number))
    });
    let total = chosen.len();
    let mut response = Response::default();
    for s in chosen.iter().take(limit) {
        let path = finished.dir.join(&s.file);
        let url = ctx.store.download_url(&finished.dir_name, &s.file);
        response.entities.push(session_entity(
            s,
            head,
            finished.facts_of(s.number),
            &path.display().to_string(),
            url,
        ));
    }
    if total > limit {
        response.inform(format!(
            "returned {limit} of {total} sessions (the largest first; raise the result limit for more); every session's pcap is written under {}",
            finished.dir.display()
        ));
    }
    if let Some(d) = &head.capture.damage {
        response.partial_error(format!(
            "{}: {}; {} bytes from offset {} could not be read (every complete record before it was kept)",
            given, d.reason, d.unreadable_bytes, d.offset
        ));
    }
    response.render_entities();
    ctx.store.keep_answer(key, &response);
    Ok(response)
}
