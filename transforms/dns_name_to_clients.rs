//! DNS name or website → the clients that asked for it: sent a DNS query for it, an HTTP
//! request with it as Host, or a TLS ClientHello naming it (SNI).
//!
//! One transform serves both inputs: `maltego.Website` extends `maltego.DNSName`, so Maltego
//! offers a DNSName transform on websites too (the request's genealogy names both).

use super::pivot::{capped, capture_of, dns_name_of, ip_entity_type, provenance};
use super::{Context, Meta, Transform, TransformError};
use crate::facts::pivots::clients_asking;
use crate::maltego::entity;
use crate::maltego::response::{Entity, Response};

/// The transform.
pub static TRANSFORM: Transform = Transform {
    meta: Meta {
        name: "dns-name-to-clients",
        display_name: "To Clients Asking For It [packetpivot]",
        description: "Returns the IP addresses of the clients that asked for this DNS name or website in its capture: in a DNS query, as HTTP Host or as TLS server name (SNI); most sessions first, the link saying how they asked.",
        input: entity::DNS_NAME,
        outputs: &[entity::IPV4, entity::IPV6],
        settings: &[],
    },
    run,
};

fn run(ctx: &Context<'_>) -> Result<Response, TransformError> {
    let name = dns_name_of(ctx)?;
    let finished = ctx.store.split(&capture_of(ctx)?)?;
    let entities: Vec<Entity> = clients_asking(finished.sessions(), finished.facts(), name)
        .into_iter()
        .map(|c| {
            let via = c.via.join(", ");
            let mut e = Entity::new(ip_entity_type(&c.address), c.address);
            e.field("asked.via", "Asked via", via.clone()).field(
                "asked.sessions",
                "Sessions that asked",
                c.sessions.len().to_string(),
            );
            provenance(&mut e, &finished);
            e.link.label = Some(via);
            e
        })
        .collect();
    let mut response = capped(ctx, entities, "clients");
    if response.entities.is_empty() {
        response.inform(format!("no client in this capture asked for {name}"));
    }
    Ok(response)
}
