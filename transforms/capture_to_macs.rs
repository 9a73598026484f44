//! Capture → its MAC addresses, with the vendor from the IEEE registry.

use super::pivot::{capped, provenance, short_list};
use super::{capture_path, Context, Meta, Transform, TransformError};
use crate::facts::pivots::macs;
use crate::maltego::entity;
use crate::maltego::response::{Entity, Response};

/// The transform.
pub static TRANSFORM: Transform = Transform {
    meta: Meta {
        name: "capture-to-macs",
        display_name: "To MAC Addresses [packetpivot]",
        description: "Returns every MAC address in the capture, most sessions first, with its vendor (IEEE OUI registry shipped with packetpivot) and the IP addresses seen behind it.",
        input: entity::CAPTURE,
        outputs: &[entity::MAC],
        settings: &[],
    },
    run,
};

fn run(ctx: &Context<'_>) -> Result<Response, TransformError> {
    let finished = ctx.store.split(&capture_path(ctx.request)?)?;
    let entities = macs(finished.sessions())
        .into_iter()
        .map(|m| {
            let mut e = Entity::new(entity::MAC, m.mac.clone());
            e.field("mac.vendor", "Vendor", m.vendor.clone().unwrap_or_default())
                .field("mac.ips", "IP addresses", short_list(&m.ips, 8))
                .field("mac.sessions", "Sessions", m.sessions.to_string());
            e.fields.retain(|f| !f.value.is_empty());
            provenance(&mut e, &finished);
            e.link.label = m.vendor;
            e
        })
        .collect();
    Ok(capped(ctx, entities, "MAC addresses"))
}
