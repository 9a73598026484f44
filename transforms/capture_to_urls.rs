//! Capture → the URLs its HTTP clients requested (`maltego.URL`).

use super::pivot::{capped, provenance};
use super::{capture_path, Context, Meta, Transform, TransformError};
use crate::facts::pivots::http_hosts;
use crate::maltego::entity;
use crate::maltego::response::{Entity, Response};

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
    let mut entities = Vec::new();
    for h in http_hosts(finished.sessions(), finished.facts()) {
        for url in &h.urls {
            let mut e = Entity::new(entity::URL, url.clone());
            e.strict_field("url", "URL", url.clone())
                .field("http.host", "Host", h.host.clone());
            provenance(&mut e, &finished);
            entities.push(e);
        }
    }
    Ok(capped(ctx, entities, "URLs"))
}
