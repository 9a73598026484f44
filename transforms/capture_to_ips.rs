//! Capture → its talkers: every IP address, with packets, bytes, sessions and roles.

use super::pivot::{capped, counted, ip_entity_type, provenance, short_list};
use super::{capture_path, Context, Meta, Transform, TransformError};
use crate::facts::pivots::talkers;
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

fn run(ctx: &Context<'_>) -> Result<Response, TransformError> {
    let finished = ctx.store.split(&capture_path(ctx.request)?)?;
    let entities = talkers(finished.sessions())
        .into_iter()
        .map(|t| {
            let mut e = Entity::new(ip_entity_type(&t.address), t.address.clone());
            e.field("ipaddress.internal", "Internal", t.internal.to_string())
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
                )
                .field("talker.macs", "MAC addresses", short_list(&t.macs, 4));
            e.fields.retain(|f| !f.value.is_empty());
            provenance(&mut e, &finished);
            e.link.label = Some(format!(
                "{} · {}",
                counted(t.sessions, "session", "sessions"),
                crate::units::human_bytes(t.bytes)
            ));
            e
        })
        .collect();
    Ok(capped(ctx, entities, "IP addresses"))
}
