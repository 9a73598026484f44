//! IP address → the DNS names whose answers resolved to it, in the capture it came from.

use super::pivot::{capped, capture_of, provenance};
use super::{Context, Meta, Transform, TransformError};
use crate::facts::pivots::dns_names;
use crate::maltego::entity;
use crate::maltego::response::{Entity, Response};

/// The transform.
pub static TRANSFORM: Transform = Transform {
    meta: Meta {
        name: "ip-to-dns-names",
        display_name: "To DNS Names Resolving Here [packetpivot]",
        description: "Returns the DNS names whose answers (A/AAAA in the Answer section) resolved to this IP address in its capture.",
        input: entity::IPV4,
        outputs: &[entity::DNS_NAME],
        settings: &[],
    },
    run,
};

fn run(ctx: &Context<'_>) -> Result<Response, TransformError> {
    let ip = ctx.request.value.trim().to_string();
    let finished = ctx.store.split(&capture_of(ctx)?)?;
    let entities = dns_names(finished.sessions(), finished.facts())
        .into_iter()
        .filter(|n| n.addresses.contains(&ip))
        .map(|n| {
            let mut e = Entity::new(entity::DNS_NAME, n.name);
            provenance(&mut e, &finished);
            e.link.label = Some("resolved to".into());
            e
        })
        .collect();
    Ok(capped(ctx, entities, "DNS names"))
}
