//! Capture → the same capture, enriched with its hashes and a capinfos-style summary.

use super::entities::capture_entity;
use super::{capture_path, Context, Meta, Transform, TransformError};
use crate::capture::summary::gather;
use crate::maltego::entity;
use crate::maltego::response::Response;
use crate::session::output::SplitError;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

/// The transform.
pub static TRANSFORM: Transform = Transform {
    meta: Meta {
        name: "capture-to-info",
        display_name: "To Capture Info [packetpivot]",
        description: "Reads the capture once and adds its SHA-256, SHA-1, MD5, size, format, link types, packet count and time span to the capture entity.",
        input: entity::CAPTURE,
        outputs: &[entity::CAPTURE],
        settings: &[],
    },
    run,
};

fn run(ctx: &Context<'_>) -> Result<Response, TransformError> {
    let given = capture_path(ctx.request)?;
    let path = ctx.store.resolve(&given)?;
    let info = gather(&path, Arc::new(AtomicU64::new(0)))
        .map_err(|e| super::store::StoreError::Split(SplitError::Capture(e)))?;
    let mut response = Response::default();
    response.entities.push(capture_entity(&given, &info));
    if let Some(d) = &info.damage {
        response.partial_error(format!(
            "{given}: {}; {} bytes from offset {} could not be read",
            d.reason, d.unreadable_bytes, d.offset
        ));
    }
    Ok(response)
}
