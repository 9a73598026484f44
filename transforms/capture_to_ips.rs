//! Capture → its talkers: every IP address, with packets, bytes, sessions and roles.

use std::collections::BTreeMap;
use std::net::IpAddr;

use super::pivot::{capped, provenance};
use super::{capture_path, Context, Meta, Transform, TransformError};
use crate::maltego::entity;
use crate::maltego::response::{Entity, Response};

/// The transform.
pub static TRANSFORM: Transform = Transform {
    meta: Meta {
        name: "capture-to-ips",
        display_name: "To IP Addresses (talkers) [packetpivot]",
        description: "Returns every IP address in the capture, busiest first, with packets, bytes, sessions, how often it was client and server, and whether it is internal (private, loopback, link-local) or public.",
        input: entity::CAPTURE,
        outputs: &[entity::IPV4, entity::IPV6],
        settings: &[],
    },
    run,
};

#[derive(Default)]
struct Talker {
    packets: u64,
    bytes: u64,
    sessions: u64,
    as_client: u64,
    as_server: u64,
}

/// Private, loopback, link-local or unique-local: "internal" as Maltego's flag means it.
pub fn is_internal(a: &IpAddr) -> bool {
    match a {
        IpAddr::V4(v) => {
            v.is_private() || v.is_loopback() || v.is_link_local() || v.is_unspecified()
        }
        IpAddr::V6(v) => {
            v.is_loopback()
                || v.is_unspecified()
                || (v.segments()[0] & 0xfe00) == 0xfc00
                || (v.segments()[0] & 0xffc0) == 0xfe80
        }
    }
}

fn run(ctx: &Context<'_>) -> Result<Response, TransformError> {
    let finished = ctx.store.split(&capture_path(ctx.request)?)?;
    let mut talkers: BTreeMap<IpAddr, Talker> = BTreeMap::new();
    for s in finished.sessions() {
        for (peer, client) in [(&s.client, true), (&s.server, false)] {
            let Some(addr) = peer
                .address
                .as_deref()
                .and_then(|a| a.parse::<IpAddr>().ok())
            else {
                continue;
            };
            let t = talkers.entry(addr).or_default();
            t.packets += s.packets.total;
            t.bytes += s.bytes.total;
            t.sessions += 1;
            if client {
                t.as_client += 1;
            } else {
                t.as_server += 1;
            }
        }
    }
    let mut list: Vec<(IpAddr, Talker)> = talkers.into_iter().collect();
    list.sort_by(|a, b| b.1.bytes.cmp(&a.1.bytes).then(a.0.cmp(&b.0)));
    let entities = list
        .into_iter()
        .map(|(addr, t)| {
            let kind = if addr.is_ipv4() {
                entity::IPV4
            } else {
                entity::IPV6
            };
            let mut e = Entity::new(kind, addr.to_string());
            e.field(
                "ipaddress.internal",
                "Internal",
                is_internal(&addr).to_string(),
            )
            .field("talker.packets", "Packets", t.packets.to_string())
            .field("talker.bytes", "Bytes", t.bytes.to_string())
            .field("talker.sessions", "Sessions", t.sessions.to_string())
            .field(
                "talker.as_client",
                "Sessions as client",
                t.as_client.to_string(),
            )
            .field(
                "talker.as_server",
                "Sessions as server",
                t.as_server.to_string(),
            );
            provenance(&mut e, &finished);
            e.link.label = Some(format!(
                "{} sessions · {}",
                t.sessions,
                crate::units::human_bytes(t.bytes)
            ));
            e
        })
        .collect();
    Ok(capped(ctx, entities, "IP addresses"))
}
