//! Capture → the TLS fingerprints its handshakes carried (JA3, JA4, JA3S) as `maltego.Hash`.

use super::pivot::{capped, fingerprint_entity};
use super::{capture_path, Context, Meta, Transform, TransformError};
use crate::facts::pivots::fingerprints;
use crate::maltego::entity;
use crate::maltego::response::Response;

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
        .map(|f| fingerprint_entity(f, &finished))
        .collect();
    Ok(capped(ctx, entities, "fingerprints"))
}
