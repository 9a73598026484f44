//! Capture → the services its sessions used (`maltego.Service`).

use super::pivot::{capped, provenance};
use super::{capture_path, Context, Meta, Transform, TransformError};
use crate::facts::pivots::services;
use crate::maltego::entity;
use crate::maltego::response::{Entity, Response};

/// The transform.
pub static TRANSFORM: Transform = Transform {
    meta: Meta {
        name: "capture-to-services",
        display_name: "To Services [packetpivot]",
        description: "Returns the services the capture's TCP and UDP sessions used (named from the payload where recognisable, otherwise from the IANA port registry), with port, transport and session count.",
        input: entity::CAPTURE,
        outputs: &[entity::SERVICE],
        settings: &[],
    },
    run,
};

fn run(ctx: &Context<'_>) -> Result<Response, TransformError> {
    let finished = ctx.store.split(&capture_path(ctx.request)?)?;
    let entities = services(finished.sessions(), finished.facts())
        .into_iter()
        .map(|s| {
            let n = s.sessions.len();
            let mut e = Entity::new(
                entity::SERVICE,
                format!("{}/{} ({})", s.port, s.transport, s.name),
            );
            e.strict_field("port.number", "Port", s.port.to_string())
                .field("service.transport", "Transport", s.transport)
                .field("properties.service", "Service", s.name)
                .field("service.source", "Named from", s.source)
                .field("service.sessions", "Sessions", n.to_string());
            provenance(&mut e, &finished);
            e.link.label = Some(format!("{n} sessions"));
            e
        })
        .collect();
    Ok(capped(ctx, entities, "services"))
}
