//! Session → what it carried, as standard entities: the DNS names it queried, the HTTP host
//! and URLs it requested, the TLS server name, fingerprints and certificates of its
//! handshake, and its service.
//!
//! Each fact is built by the same function as the capture's pivot of that kind (the
//! capture-to-* transforms), run on this one session's facts, so a name or hash looks the
//! same on the graph whichever way the analyst reached it; only the link says which
//! part of the session it came from.

use super::entities::prop;
use super::pivot::{
    capped, capture_of, certificate_entity, dns_name_entity, fingerprint_entity, service_entity,
    tls_name_entity, url_entities, website_entity,
};
use super::{check_input, Context, Meta, Transform, TransformError};
use crate::facts::pivots::{
    certificates, dns_names, fingerprints, http_hosts, services, tls_names,
};
use crate::maltego::entity;
use crate::maltego::response::{Entity, Response};

/// The transform.
pub static TRANSFORM: Transform = Transform {
    meta: Meta {
        name: "session-to-facts",
        display_name: "To Application Facts [packetpivot]",
        description: "Returns what the session carried: DNS names queried, HTTP host (Website) and URLs, TLS server name, JA3/JA4/JA3S fingerprints (Hash), server certificates and its service, each linked with the part of the session it came from.",
        input: entity::SESSION,
        outputs: &[
            entity::DNS_NAME,
            entity::WEBSITE,
            entity::URL,
            entity::HASH,
            entity::X509,
            entity::SERVICE,
        ],
        settings: &[],
    },
    run,
};

fn run(ctx: &Context<'_>) -> Result<Response, TransformError> {
    let req = ctx.request;
    check_input(&TRANSFORM.meta, req, &[])?;
    let text = req.field(prop::SESSION_NUMBER).unwrap_or_default().trim();
    let number: u64 = text.parse().map_err(|_| {
        TransformError::MissingInput(format!(
            "this session has no usable {} field ({text:?}): run capture-to-sessions again to get it",
            prop::SESSION_NUMBER
        ))
    })?;
    let finished = ctx.store.split(&capture_of(ctx)?)?;
    let Some(facts) = finished.facts_of(number) else {
        let mut response = Response::default();
        response.inform(format!(
            "session #{number} showed no application facts (none in its first packets)"
        ));
        return Ok(response);
    };
    let one = std::slice::from_ref(facts);
    let sessions = finished.sessions();
    let labelled = |mut e: Entity, label: &str| {
        e.link.label = Some(label.to_string());
        e
    };
    let mut entities = Vec::new();
    for n in dns_names(sessions, one) {
        entities.push(labelled(dns_name_entity(n, &finished), "DNS query"));
    }
    let hosts = http_hosts(sessions, one);
    for h in &hosts {
        entities.push(labelled(website_entity(h, &finished), "HTTP host"));
    }
    for h in &hosts {
        for e in url_entities(h, &finished) {
            entities.push(labelled(e, "URL"));
        }
    }
    for n in tls_names(one) {
        entities.push(labelled(tls_name_entity(n, &finished), "TLS SNI"));
    }
    for f in fingerprints(one) {
        let kind = f.kind.to_uppercase();
        entities.push(labelled(fingerprint_entity(f, &finished), &kind));
    }
    for c in certificates(one) {
        entities.push(labelled(certificate_entity(c, &finished), "certificate"));
    }
    for s in services(sessions, one) {
        entities.push(labelled(service_entity(s, &finished), "service"));
    }
    Ok(capped(ctx, entities, "facts"))
}
