//! Capture → the server certificates its TLS 1.2 handshakes showed (`maltego.X509Certificate`).

use super::pivot::{capped, certificate_entity};
use super::{capture_path, Context, Meta, Transform, TransformError};
use crate::facts::pivots::certificates;
use crate::maltego::entity;
use crate::maltego::response::Response;

/// The transform.
pub static TRANSFORM: Transform = Transform {
    meta: Meta {
        name: "capture-to-certificates",
        display_name: "To Certificates [packetpivot]",
        description: "Returns the server certificates visible in the capture's TLS handshakes (TLS 1.3 encrypts them), with subject, issuer, serial, validity, SANs and SHA-1/SHA-256 fingerprints.",
        input: entity::CAPTURE,
        outputs: &[entity::X509],
        settings: &[],
    },
    run,
};

fn run(ctx: &Context<'_>) -> Result<Response, TransformError> {
    let finished = ctx.store.split(&capture_path(ctx.request)?)?;
    let entities = certificates(finished.facts())
        .into_iter()
        .map(|c| certificate_entity(c, &finished))
        .collect();
    Ok(capped(ctx, entities, "certificates"))
}
