//! Capture → the HTTP hosts its clients asked for (`maltego.Website`).

use super::pivot::{capped, website_entity};
use super::{capture_path, Context, Meta, Transform, TransformError};
use crate::facts::pivots::http_hosts;
use crate::maltego::entity;
use crate::maltego::response::Response;

/// The transform.
pub static TRANSFORM: Transform = Transform {
    meta: Meta {
        name: "capture-to-http-hosts",
        display_name: "To HTTP Hosts [packetpivot]",
        description: "Returns every HTTP Host header the capture's clients sent, most requested first, with the request count, the user agents and the clients.",
        input: entity::CAPTURE,
        outputs: &[entity::WEBSITE],
        settings: &[],
    },
    run,
};

fn run(ctx: &Context<'_>) -> Result<Response, TransformError> {
    let finished = ctx.store.split(&capture_path(ctx.request)?)?;
    let entities = http_hosts(finished.sessions(), finished.facts())
        .iter()
        .map(|h| website_entity(h, &finished))
        .collect();
    Ok(capped(ctx, entities, "HTTP hosts"))
}
