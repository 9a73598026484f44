//! Capture → the services its sessions used (`maltego.Service`).

use super::pivot::{capped, service_entity};
use super::{capture_path, Context, Meta, Transform, TransformError};
use crate::facts::pivots::services;
use crate::maltego::entity;
use crate::maltego::response::Response;

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
        .map(|s| service_entity(s, &finished))
        .collect();
    Ok(capped(ctx, entities, "services"))
}
