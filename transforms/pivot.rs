//! What the pivot transforms share: provenance fields, the capture an entity came from,
//! capped result lists, session entities for a set of session numbers, and the standard
//! entities each kind of fact becomes. A fact looks the same whichever pivot returns it
//! (a capture's DNS names or one session's), because both build it here.

use std::collections::BTreeSet;

use super::entities::{prop, session_entity};
use super::store::Finished;
use super::{Context, TransformError};
use crate::facts::pivots::{CertificateSeen, Fingerprint, HttpHost, QueriedName, Service, TlsName};
use crate::maltego::entity;
use crate::maltego::request::TransformRequest;
use crate::maltego::response::{Entity, Response};
use crate::session::index::SessionEntry;

/// Adds the capture's SHA-256 and path, so the next pivot knows where the entity came from.
pub fn provenance(e: &mut Entity, finished: &Finished) {
    e.field(
        prop::CAPTURE_SHA256,
        "Capture SHA-256",
        finished.index.capture.sha256.clone(),
    )
    .field(
        prop::CAPTURE_PATH,
        "Capture path (server)",
        finished.index.capture.path.clone(),
    );
}

/// Copies the input entity's provenance fields, for a pivot that answers without reading
/// the capture (the next pivot still knows where the entity came from).
pub fn copy_provenance(req: &TransformRequest, e: &mut Entity) {
    for (name, display) in [
        (prop::CAPTURE_SHA256, "Capture SHA-256"),
        (prop::CAPTURE_PATH, "Capture path (server)"),
    ] {
        if let Some(v) = req.field(name).filter(|v| !v.is_empty()) {
            e.field(name, display, v.to_string());
        }
    }
}

/// `maltego.IPv6Address` for an address with a colon, else `maltego.IPv4Address`.
pub fn ip_entity_type(address: &str) -> &'static str {
    if address.contains(':') {
        entity::IPV6
    } else {
        entity::IPV4
    }
}

/// The capture an entity returned by a packetpivot transform came from (its
/// `capture.path` field).
pub fn capture_of(ctx: &Context<'_>) -> Result<String, TransformError> {
    ctx.request
        .field(prop::CAPTURE_PATH)
        .filter(|v| !v.trim().is_empty())
        .map(str::to_string)
        .ok_or_else(|| {
            TransformError::MissingInput(format!(
                "this {} has no {} field: run the transform on an entity that a packetpivot capture transform returned",
                ctx.request.entity_type,
                prop::CAPTURE_PATH
            ))
        })
}

/// The DNS name (or website) a name pivot works on: the entity's value, trimmed; an empty
/// name is an error rather than a search for nothing.
pub fn dns_name_of<'a>(ctx: &Context<'a>) -> Result<&'a str, TransformError> {
    let name = ctx.request.value.trim();
    if name.trim_end_matches('.').is_empty() {
        return Err(TransformError::MissingInput("the DNS name is empty".into()));
    }
    Ok(name)
}

/// A response holding at most the request's limit of `entities` (already in their final
/// order), with an Inform when some were left out.
pub fn capped(ctx: &Context<'_>, entities: Vec<Entity>, what: &str) -> Response {
    let total = entities.len();
    let limit = ctx.request.limit();
    let mut response = Response {
        entities: entities.into_iter().take(limit).collect(),
        ..Response::default()
    };
    if total > limit {
        response.inform(format!("returned {limit} of {total} {what}"));
    }
    response
}

/// Session entities for the given session numbers, largest first.
pub fn session_entities(
    ctx: &Context<'_>,
    finished: &Finished,
    numbers: &BTreeSet<u64>,
) -> Vec<Entity> {
    let mut sessions: Vec<&SessionEntry> = numbers
        .iter()
        .filter_map(|&n| finished.session(n))
        .collect();
    sessions.sort_by(|a, b| {
        b.bytes
            .total
            .cmp(&a.bytes.total)
            .then(a.number.cmp(&b.number))
    });
    sessions
        .into_iter()
        .map(|s| {
            let path = finished.dir.join(&s.file);
            let url = ctx.store.download_url(&finished.dir_name, &s.file);
            session_entity(
                s,
                &finished.index.head,
                finished.facts_of(s.number),
                &path.display().to_string(),
                url,
            )
        })
        .collect()
}

/// A count with its noun, for link labels: `1 query`, `8 queries`.
pub fn counted(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A short comma-separated list of at most `max` items, with a count of the rest.
pub fn short_list<'a>(items: impl IntoIterator<Item = &'a String>, max: usize) -> String {
    let all: Vec<&String> = items.into_iter().collect();
    let shown: Vec<&str> = all.iter().take(max).map(|s| s.as_str()).collect();
    if all.len() > max {
        format!("{} (+{} more)", shown.join(", "), all.len() - max)
    } else {
        shown.join(", ")
    }
}

/// A DNS name the capture's clients queried (`maltego.DNSName`), with the query count, the
/// clients and the addresses the answers gave.
pub fn dns_name_entity(n: QueriedName, finished: &Finished) -> Entity {
    let mut e = Entity::new(entity::DNS_NAME, n.name);
    e.field("dns.queries", "Queries", n.queries.to_string())
        .field("dns.clients", "Clients", short_list(&n.clients, 8))
        .field("dns.addresses", "Resolved to", short_list(&n.addresses, 8));
    e.fields.retain(|f| !f.value.is_empty());
    provenance(&mut e, finished);
    e.link.label = Some(counted(n.queries, "query", "queries"));
    e
}

/// An HTTP host (`maltego.Website`), with the request count, user agents and clients.
pub fn website_entity(h: &HttpHost, finished: &Finished) -> Entity {
    let mut e = Entity::new(entity::WEBSITE, h.host.clone());
    e.field("http.requests", "Requests", h.requests.to_string())
        .field(
            "http.user_agents",
            "User agents",
            short_list(&h.user_agents, 4),
        )
        .field("http.clients", "Clients", short_list(&h.clients, 8));
    e.fields.retain(|f| !f.value.is_empty());
    provenance(&mut e, finished);
    e.link.label = Some(counted(h.requests, "request", "requests"));
    e
}

/// The URLs requested of an HTTP host (`maltego.URL`), in URL order.
pub fn url_entities(h: &HttpHost, finished: &Finished) -> Vec<Entity> {
    h.urls
        .iter()
        .map(|url| {
            let mut e = Entity::new(entity::URL, url.clone());
            e.strict_field("url", "URL", url.clone())
                .field("http.host", "Host", h.host.clone());
            provenance(&mut e, finished);
            e
        })
        .collect()
}

/// A TLS server name (SNI) as a `maltego.DNSName`, with its sessions and fingerprints.
pub fn tls_name_entity(n: TlsName, finished: &Finished) -> Entity {
    let mut e = Entity::new(entity::DNS_NAME, n.name);
    e.field("tls.sessions", "TLS sessions", n.sessions.len().to_string())
        .field("tls.ja3", "JA3", short_list(&n.ja3, 4))
        .field("tls.ja4", "JA4", short_list(&n.ja4, 4));
    provenance(&mut e, finished);
    e.link.label = Some(format!(
        "SNI · {}",
        counted(n.sessions.len() as u64, "session", "sessions")
    ));
    e
}

/// A JA3, JA3S or JA4 fingerprint (`maltego.Hash`), with the server names it went with.
pub fn fingerprint_entity(f: Fingerprint, finished: &Finished) -> Entity {
    let n = f.sessions.len();
    let kind = f.kind.to_uppercase();
    let mut e = Entity::new(entity::HASH, f.value);
    e.field("hash_type", "Hash Type", kind.clone())
        .field("tls.server_names", "Server names", short_list(&f.names, 8))
        .field("tls.sessions", "Sessions", n.to_string());
    e.fields.retain(|x| !x.value.is_empty());
    provenance(&mut e, finished);
    e.link.label = Some(format!(
        "{kind} · {}",
        counted(n as u64, "session", "sessions")
    ));
    e
}

/// A server certificate (`maltego.X509Certificate`): subject, issuer, serial, validity,
/// SANs and fingerprints.
pub fn certificate_entity(c: CertificateSeen, finished: &Finished) -> Entity {
    let n = c.sessions.len();
    let cert = c.certificate;
    let mut e = Entity::new(entity::X509, cert.subject.clone());
    e.field("issuer", "Issuer", cert.issuer)
        .strict_field("serial", "Serial", cert.serial)
        .field("san", "SAN", cert.sans.join(", "))
        .field("x509.not_before", "Not before", cert.not_before)
        .field("x509.not_after", "Not after", cert.not_after)
        .field("x509.sha1", "SHA-1", cert.sha1)
        .strict_field("x509.sha256", "SHA-256", cert.sha256)
        .field("tls.sessions", "Sessions", n.to_string());
    e.fields.retain(|x| !x.value.is_empty());
    provenance(&mut e, finished);
    e.link.label = Some(counted(n as u64, "session", "sessions"));
    e
}

/// A service (`maltego.Service`): port, transport, name and where the name came from.
pub fn service_entity(s: Service, finished: &Finished) -> Entity {
    let n = s.sessions.len();
    let mut e = Entity::new(
        entity::SERVICE,
        format!("{}/{} ({})", s.port, s.transport, s.name),
    );
    e.strict_field("port.number", "Port", s.port.to_string())
        .field("service.transport", "Transport", s.transport)
        .field("properties.service", "Service", s.name)
        .field("service.source", "Named from", s.source)
        .field("service.sessions", "Sessions", n.to_string());
    provenance(&mut e, finished);
    e.link.label = Some(counted(n as u64, "session", "sessions"));
    e
}
