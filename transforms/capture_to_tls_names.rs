//! Capture → the TLS server names (SNI) its clients asked for.

use super::pivot::{capped, tls_name_entity};
use super::{capture_path, Context, Meta, Transform, TransformError};
use crate::facts::pivots::tls_names;
use crate::maltego::entity;
use crate::maltego::response::Response;

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
        .map(|n| tls_name_entity(n, &finished))
        .collect();
    Ok(capped(ctx, entities, "TLS server names"))
}
