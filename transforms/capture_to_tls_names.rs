//! Capture → the TLS server names (SNI) its clients asked for.

use super::pivot::{capped, provenance, short_list};
use super::{capture_path, Context, Meta, Transform, TransformError};
use crate::facts::pivots::tls_names;
use crate::maltego::entity;
use crate::maltego::response::{Entity, Response};

/// The transform.
pub static TRANSFORM: Transform = Transform {
    meta: Meta {
        name: "capture-to-tls-names",
        display_name: "To TLS Server Names [packetpivot]",
        description: "Returns every server name (SNI) the capture's TLS ClientHellos asked for, as DNS names, with the session count and the JA3/JA4 fingerprints seen.",
        input: entity::CAPTURE,
        outputs: &[entity::DNS_NAME],
        settings: &[],
    },
    run,
};

fn run(ctx: &Context<'_>) -> Result<Response, TransformError> {
    let finished = ctx.store.split(&capture_path(ctx.request)?)?;
    let entities = tls_names(finished.facts())
        .into_iter()
        .map(|n| {
            let mut e = Entity::new(entity::DNS_NAME, n.name);
            e.field("tls.sessions", "TLS sessions", n.sessions.len().to_string())
                .field("tls.ja3", "JA3", short_list(&n.ja3, 4))
                .field("tls.ja4", "JA4", short_list(&n.ja4, 4));
            provenance(&mut e, &finished);
            e.link.label = Some(format!("SNI · {} sessions", n.sessions.len()));
            e
        })
        .collect();
    Ok(capped(ctx, entities, "TLS server names"))
}
