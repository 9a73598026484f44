//! Port or service → the sessions that used it as their server port.

use std::collections::BTreeSet;

use super::pivot::{capped, capture_of, session_entities};
use super::{Context, Meta, Transform, TransformError};
use crate::maltego::entity;
use crate::maltego::response::Response;

/// The transform.
pub static TRANSFORM: Transform = Transform {
    meta: Meta {
        name: "port-to-sessions",
        display_name: "To Sessions [packetpivot]",
        description: "Returns the sessions whose server port is this port (a maltego.Port, or a maltego.Service with a port.number field, returned by a packetpivot transform), largest first.",
        input: entity::PORT,
        outputs: &[entity::SESSION],
        settings: &[],
    },
    run,
};

fn run(ctx: &Context<'_>) -> Result<Response, TransformError> {
    let req = ctx.request;
    let text = req
        .field("port.number")
        .unwrap_or(&req.value)
        .trim()
        .to_string();
    let digits: String = text.chars().take_while(|c| c.is_ascii_digit()).collect();
    let port: u16 = digits.parse().map_err(|_| {
        TransformError::MissingInput(format!("{text:?} does not start with a port number"))
    })?;
    let finished = ctx.store.split(&capture_of(ctx)?)?;
    let numbers: BTreeSet<u64> = finished
        .sessions()
        .iter()
        .filter(|s| s.server.port == Some(port))
        .map(|s| s.number)
        .collect();
    Ok(capped(
        ctx,
        session_entities(ctx, &finished, &numbers),
        "sessions",
    ))
}
