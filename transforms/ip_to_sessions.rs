//! IP address → its sessions in the capture it came from.

use std::collections::BTreeSet;
use std::net::IpAddr;

use super::pivot::{capped, capture_of, session_entities};
use super::{Context, Meta, Transform, TransformError};
use crate::maltego::entity;
use crate::maltego::response::Response;

/// The transform.
pub static TRANSFORM: Transform = Transform {
    meta: Meta {
        name: "ip-to-sessions",
        display_name: "To Sessions [packetpivot]",
        description: "Returns the sessions in which this IP address (returned by a packetpivot transform, so it names its capture) was client or server, largest first.",
        input: entity::IPV4,
        outputs: &[entity::SESSION],
        settings: &[],
    },
    run,
};

fn run(ctx: &Context<'_>) -> Result<Response, TransformError> {
    let addr: IpAddr = ctx.request.value.trim().parse().map_err(|_| {
        TransformError::MissingInput(format!("{:?} is not an IP address", ctx.request.value))
    })?;
    let finished = ctx.store.split(&capture_of(ctx)?)?;
    let matches = |a: &Option<String>| {
        a.as_deref()
            .and_then(|v| v.parse::<IpAddr>().ok())
            .is_some_and(|v| v == addr)
    };
    let numbers: BTreeSet<u64> = finished
        .sessions()
        .iter()
        .filter(|s| matches(&s.client.address) || matches(&s.server.address))
        .map(|s| s.number)
        .collect();
    Ok(capped(
        ctx,
        session_entities(ctx, &finished, &numbers),
        "sessions",
    ))
}
