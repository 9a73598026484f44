//! Capture → the TLS fingerprints its handshakes carried (JA3, JA4, JA3S) as `maltego.Hash`.

use super::pivot::{capped, provenance, short_list};
use super::{capture_path, Context, Meta, Transform, TransformError};
use crate::facts::pivots::fingerprints;
use crate::maltego::entity;
use crate::maltego::response::{Entity, Response};

/// The transform.
pub static TRANSFORM: Transform = Transform {
    meta: Meta {
        name: "capture-to-fingerprints",
        display_name: "To TLS Fingerprints [packetpivot]",
        description: "Returns the JA3 and JA4 fingerprints of the capture's TLS ClientHellos and the JA3S of its ServerHellos, most sessions first, with the server names they went with.",
        input: entity::CAPTURE,
        outputs: &[entity::HASH],
        settings: &[],
    },
    run,
};

fn run(ctx: &Context<'_>) -> Result<Response, TransformError> {
    let finished = ctx.store.split(&capture_path(ctx.request)?)?;
    let entities = fingerprints(finished.facts())
        .into_iter()
        .map(|f| {
            let n = f.sessions.len();
            let mut e = Entity::new(entity::HASH, f.value);
            e.field("hash_type", "Hash Type", f.kind.to_uppercase())
                .field("tls.server_names", "Server names", short_list(&f.names, 8))
                .field("tls.sessions", "Sessions", n.to_string());
            e.fields.retain(|x| !x.value.is_empty());
            provenance(&mut e, &finished);
            e.link.label = Some(format!("{} · {n} sessions", f.kind.to_uppercase()));
            e
        })
        .collect();
    Ok(capped(ctx, entities, "fingerprints"))
}
