//! Capture → the HTTP hosts its clients asked for (`maltego.Website`).

use super::pivot::{capped, provenance, short_list};
use super::{capture_path, Context, Meta, Transform, TransformError};
use crate::facts::pivots::http_hosts;
use crate::maltego::entity;
use crate::maltego::response::{Entity, Response};

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
        .into_iter()
        .map(|h| {
            let mut e = Entity::new(entity::WEBSITE, h.host);
            e.field("http.requests", "Requests", h.requests.to_string())
                .field(
                    "http.user_agents",
                    "User agents",
                    short_list(&h.user_agents, 4),
                )
                .field("http.clients", "Clients", short_list(&h.clients, 8));
            e.fields.retain(|f| !f.value.is_empty());
            provenance(&mut e, &finished);
            e.link.label = Some(format!("{} requests", h.requests));
            e
        })
        .collect();
    Ok(capped(ctx, entities, "HTTP hosts"))
}
