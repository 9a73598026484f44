//! MAC address → the IP addresses seen behind it, and its vendor.

use super::pivot::{capped, capture_of, ip_entity_type, provenance};
use super::{Context, Meta, Transform, TransformError};
use crate::facts::pivots::macs;
use crate::maltego::entity;
use crate::maltego::response::{Entity, Response};

/// The transform.
pub static TRANSFORM: Transform = Transform {
    meta: Meta {
        name: "mac-to-ips",
        display_name: "To IP Addresses [packetpivot]",
        description: "Returns the IP addresses seen behind this MAC address (returned by a packetpivot transform) in its capture; the link names the vendor.",
        input: entity::MAC,
        outputs: &[entity::IPV4, entity::IPV6],
        settings: &[],
    },
    run,
};

fn run(ctx: &Context<'_>) -> Result<Response, TransformError> {
    let mac = ctx
        .request
        .value
        .trim()
        .to_ascii_lowercase()
        .replace('-', ":");
    let finished = ctx.store.split(&capture_of(ctx)?)?;
    let mut entities = Vec::new();
    for m in macs(finished.sessions())
        .into_iter()
        .filter(|m| m.mac == mac)
    {
        for ip in &m.ips {
            let mut e = Entity::new(ip_entity_type(ip), ip.clone());
            provenance(&mut e, &finished);
            e.link.label = m.vendor.clone();
            entities.push(e);
        }
    }
    Ok(capped(ctx, entities, "IP addresses"))
}
