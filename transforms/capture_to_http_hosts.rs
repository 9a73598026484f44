//! Capture → the HTTP hosts its clients asked for (`maltego.Website`).

use std::collections::{BTreeMap, BTreeSet};

use super::pivot::{capped, provenance, short_list};
use super::{capture_path, Context, Meta, Transform, TransformError};
use crate::maltego::entity;
use crate::maltego::response::{Entity, Response};

/// The transform.
pub static TRANSFORM: Transform = Transform {
    meta: Meta {
        name: "capture-to-http-hosts",
        display_name: "To HTTP Hosts [packetpivot]",
        description: "Returns every HTTP Host header the capture's clients sent, most requested first, with the request count, the user agents and the clients.",
        input: entity::CAPTURE,
        outputs: &[entity::WEBSITE],
        settings: &[],
    },
    run,
};

#[derive(Default)]
struct Host {
    requests: u64,
    agents: BTreeSet<String>,
    clients: BTreeSet<String>,
}

fn run(ctx: &Context<'_>) -> Result<Response, TransformError> {
    let finished = ctx.store.split(&capture_path(ctx.request)?)?;
    let mut hosts: BTreeMap<String, Host> = BTreeMap::new();
    for f in finished.facts() {
        let client = finished
            .session(f.session)
            .and_then(|s| s.client.address.clone());
        for r in &f.http_requests {
            let Some(host) = r.host.clone().filter(|h| !h.is_empty()) else {
                continue;
            };
            let h = hosts.entry(host).or_default();
            h.requests += 1;
            if let Some(ua) = &r.user_agent {
                h.agents.insert(ua.clone());
            }
            if let Some(c) = &client {
                h.clients.insert(c.clone());
            }
        }
    }
    let mut list: Vec<(String, Host)> = hosts.into_iter().collect();
    list.sort_by(|a, b| b.1.requests.cmp(&a.1.requests).then(a.0.cmp(&b.0)));
    let entities = list
        .into_iter()
        .map(|(host, h)| {
            let mut e = Entity::new(entity::WEBSITE, host);
            e.field("http.requests", "Requests", h.requests.to_string())
                .field("http.user_agents", "User agents", short_list(&h.agents, 4))
                .field("http.clients", "Clients", short_list(&h.clients, 8));
            e.fields.retain(|f| !f.value.is_empty());
            provenance(&mut e, &finished);
            e.link.label = Some(format!("{} requests", h.requests));
            e
        })
        .collect();
    Ok(capped(ctx, entities, "HTTP hosts"))
}
