//! Capture → the URLs its HTTP clients requested (`maltego.URL`).

use super::pivot::{capped, url_entities};
use super::{capture_path, Context, Meta, Transform, TransformError};
use crate::facts::pivots::http_hosts;
use crate::maltego::entity;
use crate::maltego::response::Response;

/// The transform.
pub static TRANSFORM: Transform = Transform {
    meta: Meta {
        name: "capture-to-urls",
        display_name: "To URLs [packetpivot]",
        description: "Returns every URL the capture's HTTP clients requested (Host header plus request URI), grouped by host in request order of hosts.",
        input: entity::CAPTURE,
        outputs: &[entity::URL],
        settings: &[],
    },
    run,
};

fn run(ctx: &Context<'_>) -> Result<Response, TransformError> {
    let finished = ctx.store.split(&capture_path(ctx.request)?)?;
    let entities = http_hosts(finished.sessions(), finished.facts())
        .iter()
        .flat_map(|h| url_entities(h, &finished))
        .collect();
    Ok(capped(ctx, entities, "URLs"))
}
