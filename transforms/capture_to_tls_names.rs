//! Capture → the TLS server names (SNI) its clients asked for.

use std::collections::{BTreeMap, BTreeSet};

use super::pivot::{capped, provenance, short_list};
use super::{capture_path, Context, Meta, Transform, TransformError};
use crate::maltego::entity;
use crate::maltego::response::{Entity, Response};

/// The transform.
pub static TRANSFORM: Transform = Transform {
    meta: Meta {
        name: "capture-to-tls-names",
        display_name: "To TLS Server Names [packetpivot]",
        description: "Returns every server name (SNI) the capture's TLS ClientHellos asked for, as DNS names, with the session count and the JA3/JA4 fingerprints seen.",
        input: entity::CAPTURE,
        outputs: &[entity::DNS_NAME],
        settings: &[],
    },
    run,
};

#[derive(Default)]
struct Name {
    sessions: u64,
    ja3: BTreeSet<String>,
    ja4: BTreeSet<String>,
}

fn run(ctx: &Context<'_>) -> Result<Response, TransformError> {
    let finished = ctx.store.split(&capture_path(ctx.request)?)?;
    let mut names: BTreeMap<String, Name> = BTreeMap::new();
    for f in finished.facts() {
        let Some(hello) = f.tls_client.as_ref().and_then(|t| t.client_hello.as_ref()) else {
            continue;
        };
        let Some(sni) = hello.sni.clone() else {
            continue;
        };
        let n = names.entry(sni).or_default();
        n.sessions += 1;
        n.ja3.insert(hello.ja3_hash.clone());
        n.ja4.insert(hello.ja4.clone());
    }
    let mut list: Vec<(String, Name)> = names.into_iter().collect();
    list.sort_by(|a, b| b.1.sessions.cmp(&a.1.sessions).then(a.0.cmp(&b.0)));
    let entities = list
        .into_iter()
        .map(|(name, n)| {
            let mut e = Entity::new(entity::DNS_NAME, name);
            e.field("tls.sessions", "TLS sessions", n.sessions.to_string())
                .field("tls.ja3", "JA3", short_list(&n.ja3, 4))
                .field("tls.ja4", "JA4", short_list(&n.ja4, 4));
            provenance(&mut e, &finished);
            e.link.label = Some(format!("SNI · {} sessions", n.sessions));
            e
        })
        .collect();
    Ok(capped(ctx, entities, "TLS server names"))
}
