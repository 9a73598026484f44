//! DNS name → the addresses its DNS answers gave (A and AAAA records of the Answer section),
//! with record type and TTLs.

use super::pivot::{capped, capture_of, dns_name_of, ip_entity_type, provenance, short_list};
use super::{Context, Meta, Transform, TransformError};
use crate::facts::pivots::resolutions;
use crate::maltego::entity;
use crate::maltego::response::{Entity, Response};

/// The transform.
pub static TRANSFORM: Transform = Transform {
    meta: Meta {
        name: "dns-name-to-addresses",
        display_name: "To IP Addresses It Resolved To [packetpivot]",
        description: "Returns the IP addresses the capture's DNS responses gave for this name (A and AAAA records in the Answer section, the end of a CNAME chain included), with record type and TTLs.",
        input: entity::DNS_NAME,
        outputs: &[entity::IPV4, entity::IPV6],
        settings: &[],
    },
    run,
};

fn run(ctx: &Context<'_>) -> Result<Response, TransformError> {
    let name = dns_name_of(ctx)?;
    let finished = ctx.store.split(&capture_of(ctx)?)?;
    let entities: Vec<Entity> = resolutions(finished.facts(), name)
        .into_iter()
        .map(|r| {
            let ttls: Vec<String> = r.ttls.iter().map(u32::to_string).collect();
            let mut e = Entity::new(ip_entity_type(&r.address), r.address);
            e.field("dns.record_type", "Record type", r.record_type)
                .field("dns.ttl", "TTL (s)", short_list(&ttls, 4))
                .field("dns.owner", "Record name", short_list(&r.owners, 4))
                .field("dns.sessions", "Sessions", r.sessions.len().to_string());
            provenance(&mut e, &finished);
            e.link.label = Some(match ttls.first() {
                Some(ttl) if ttls.len() == 1 => format!("{} · TTL {ttl}", r.record_type),
                _ => r.record_type.to_string(),
            });
            e
        })
        .collect();
    let mut response = capped(ctx, entities, "addresses");
    if response.entities.is_empty() {
        response.inform(format!(
            "no DNS response in this capture answered {name} with an address"
        ));
    }
    Ok(response)
}
