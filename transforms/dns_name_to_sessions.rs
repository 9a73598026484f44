//! DNS name or website → the sessions that asked for it or went to it: DNS queries for the
//! name, TLS ClientHellos naming it (SNI), HTTP requests with it as Host.

use super::pivot::{capped, capture_of, dns_name_of, session_entities};
use super::{Context, Meta, Transform, TransformError};
use crate::facts::pivots::sessions_naming;
use crate::maltego::entity;
use crate::maltego::response::Response;

/// The transform.
pub static TRANSFORM: Transform = Transform {
    meta: Meta {
        name: "dns-name-to-sessions",
        display_name: "To Sessions [packetpivot]",
        description: "Returns the sessions that queried this name in DNS, named it in a TLS ClientHello (SNI) or sent it as HTTP Host, in the capture the entity came from; largest first.",
        input: entity::DNS_NAME,
        outputs: &[entity::SESSION],
        settings: &[],
    },
    run,
};

fn run(ctx: &Context<'_>) -> Result<Response, TransformError> {
    let name = dns_name_of(ctx)?;
    let finished = ctx.store.split(&capture_of(ctx)?)?;
    let numbers = sessions_naming(finished.facts(), name);
    Ok(capped(
        ctx,
        session_entities(ctx, &finished, &numbers),
        "sessions",
    ))
}
