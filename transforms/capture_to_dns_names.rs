//! Capture → the DNS names its clients asked for, with how often and by whom.

use std::collections::{BTreeMap, BTreeSet};

use super::pivot::{capped, provenance, short_list};
use super::{capture_path, Context, Meta, Transform, TransformError};
use crate::maltego::entity;
use crate::maltego::response::{Entity, Response};

/// The transform.
pub static TRANSFORM: Transform = Transform {
    meta: Meta {
        name: "capture-to-dns-names",
        display_name: "To DNS Names Queried [packetpivot]",
        description: "Returns every DNS name the capture's clients queried (DNS, mDNS, LLMNR), most queried first, with the query count and the clients that asked.",
        input: entity::CAPTURE,
        outputs: &[entity::DNS_NAME],
        settings: &[],
    },
    run,
};

fn run(ctx: &Context<'_>) -> Result<Response, TransformError> {
    let finished = ctx.store.split(&capture_path(ctx.request)?)?;
    let mut names: BTreeMap<String, (u64, BTreeSet<String>)> = BTreeMap::new();
    for f in finished.facts() {
        let client = finished
            .session(f.session)
            .and_then(|s| s.client.address.clone())
            .unwrap_or_default();
        for m in f.dns.iter().filter(|m| !m.response) {
            for q in &m.questions {
                let e = names.entry(q.name.clone()).or_default();
                e.0 += 1;
                if !client.is_empty() {
                    e.1.insert(client.clone());
                }
            }
        }
    }
    let mut list: Vec<(String, (u64, BTreeSet<String>))> = names.into_iter().collect();
    list.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.0.cmp(&b.0)));
    let entities = list
        .into_iter()
        .map(|(name, (count, clients))| {
            let mut e = Entity::new(entity::DNS_NAME, name);
            e.field("dns.queries", "Queries", count.to_string()).field(
                "dns.clients",
                "Clients",
                short_list(&clients, 8),
            );
            provenance(&mut e, &finished);
            e.link.label = Some(format!("{count} queries"));
            e
        })
        .collect();
    Ok(capped(ctx, entities, "DNS names"))
}
