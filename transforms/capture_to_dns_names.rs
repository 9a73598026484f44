//! Capture → the DNS names its clients asked for, with how often and by whom.

use super::pivot::{capped, dns_name_entity};
use super::{capture_path, Context, Meta, Transform, TransformError};
use crate::facts::pivots::dns_names;
use crate::maltego::entity;
use crate::maltego::response::Response;

/// The transform.
pub static TRANSFORM: Transform = Transform {
    meta: Meta {
        name: "capture-to-dns-names",
        display_name: "To DNS Names Queried [packetpivot]",
        description: "Returns every DNS name the capture's clients queried (DNS, mDNS, LLMNR), most queried first, with the query count, the clients that asked and the addresses the answers gave.",
        input: entity::CAPTURE,
        outputs: &[entity::DNS_NAME],
        settings: &[],
    },
    run,
};

fn run(ctx: &Context<'_>) -> Result<Response, TransformError> {
    let finished = ctx.store.split(&capture_path(ctx.request)?)?;
    let entities = dns_names(finished.sessions(), finished.facts())
        .into_iter()
        .map(|n| dns_name_entity(n, &finished))
        .collect();
    Ok(capped(ctx, entities, "DNS names"))
}
