//! IP address → the MAC addresses it was seen with, in the capture it came from.

use super::pivot::{capped, capture_of, provenance};
use super::{Context, Meta, Transform, TransformError};
use crate::facts::pivots::macs;
use crate::maltego::entity;
use crate::maltego::response::{Entity, Response};

/// The transform.
pub static TRANSFORM: Transform = Transform {
    meta: Meta {
        name: "ip-to-macs",
        display_name: "To MAC Addresses [packetpivot]",
        description: "Returns the MAC addresses this IP address (returned by a packetpivot transform) was seen with in its capture, with their vendors.",
        input: entity::IPV4,
        outputs: &[entity::MAC],
        settings: &[],
    },
    run,
};

fn run(ctx: &Context<'_>) -> Result<Response, TransformError> {
    let ip = ctx.request.value.trim().to_string();
    let finished = ctx.store.split(&capture_of(ctx)?)?;
    let entities = macs(finished.sessions())
        .into_iter()
        .filter(|m| m.ips.contains(&ip))
        .map(|m| {
            let mut e = Entity::new(entity::MAC, m.mac);
            e.field("mac.vendor", "Vendor", m.vendor.clone().unwrap_or_default());
            e.fields.retain(|f| !f.value.is_empty());
            provenance(&mut e, &finished);
            e.link.label = m.vendor;
            e
        })
        .collect();
    Ok(capped(ctx, entities, "MAC addresses"))
}
