//! Capture → the services its sessions used (`maltego.Service`).

use std::collections::BTreeMap;

use super::pivot::{capped, provenance};
use super::{capture_path, Context, Meta, Transform, TransformError};
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
    // (server port, transport, service name) -> sessions
    let mut services: BTreeMap<(u16, String, String), u64> = BTreeMap::new();
    for f in finished.facts() {
        let (Some(name), Some(s)) = (&f.service, finished.session(f.session)) else {
            continue;
        };
        let Some(port) = s.server.port else {
            continue;
        };
        *services
            .entry((port, s.protocol.clone(), name.clone()))
            .or_default() += 1;
    }
    let mut list: Vec<((u16, String, String), u64)> = services.into_iter().collect();
    list.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let entities = list
        .into_iter()
        .map(|((port, transport, name), sessions)| {
            let mut e = Entity::new(entity::SERVICE, format!("{port}/{transport} ({name})"));
            e.strict_field("port.number", "Port", port.to_string())
                .field("service.transport", "Transport", transport)
                .field("properties.service", "Service", name)
                .field("service.sessions", "Sessions", sessions.to_string());
            provenance(&mut e, &finished);
            e.link.label = Some(format!("{sessions} sessions"));
            e
        })
        .collect();
    Ok(capped(ctx, entities, "services"))
}
