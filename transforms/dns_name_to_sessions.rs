//! DNS name or website → the sessions that asked for it or went to it: DNS queries for the
//! name, TLS ClientHellos naming it (SNI), HTTP requests with it as Host.

use std::collections::BTreeSet;

use super::pivot::{capped, capture_of, session_entities};
use super::{Context, Meta, Transform, TransformError};
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
    let name = ctx
        .request
        .value
        .trim()
        .trim_end_matches('.')
        .to_ascii_lowercase();
    if name.is_empty() {
        return Err(TransformError::MissingInput("the DNS name is empty".into()));
    }
    let finished = ctx.store.split(&capture_of(ctx)?)?;
    let same = |n: &str| n.trim_end_matches('.').eq_ignore_ascii_case(&name);
    let numbers: BTreeSet<u64> = finished
        .facts()
        .iter()
        .filter(|f| {
            f.dns
                .iter()
                .any(|m| m.questions.iter().any(|q| same(&q.name)))
                || f.tls_client
                    .as_ref()
                    .and_then(|t| t.client_hello.as_ref())
                    .and_then(|h| h.sni.as_deref())
                    .is_some_and(same)
                || f.http_requests.iter().any(|r| {
                    r.host
                        .as_deref()
                        .is_some_and(|h| same(h.split(':').next().unwrap_or(h)))
                })
        })
        .map(|f| f.session)
        .collect();
    Ok(capped(
        ctx,
        session_entities(ctx, &finished, &numbers),
        "sessions",
    ))
}
