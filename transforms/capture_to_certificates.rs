//! Capture → the server certificates its TLS 1.2 handshakes showed (`maltego.X509Certificate`).

use super::pivot::{capped, provenance};
use super::{capture_path, Context, Meta, Transform, TransformError};
use crate::facts::pivots::certificates;
use crate::maltego::entity;
use crate::maltego::response::{Entity, Response};

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
        .map(|c| {
            let n = c.sessions.len();
            let cert = c.certificate;
            let mut e = Entity::new(entity::X509, cert.subject.clone());
            e.field("issuer", "Issuer", cert.issuer)
                .strict_field("serial", "Serial", cert.serial)
                .field("san", "SAN", cert.sans.join(", "))
                .field("x509.not_before", "Not before", cert.not_before)
                .field("x509.not_after", "Not after", cert.not_after)
                .field("x509.sha1", "SHA-1", cert.sha1)
                .strict_field("x509.sha256", "SHA-256", cert.sha256)
                .field("tls.sessions", "Sessions", n.to_string());
            e.fields.retain(|x| !x.value.is_empty());
            provenance(&mut e, &finished);
            e.link.label = Some(format!("{n} sessions"));
            e
        })
        .collect();
    Ok(capped(ctx, entities, "certificates"))
}
