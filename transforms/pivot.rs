//! What the pivot transforms share: provenance fields, the capture an entity came from,
//! capped result lists, and session entities for a set of session numbers.

use std::collections::BTreeSet;

use super::entities::{prop, session_entity};
use super::store::Finished;
use super::{Context, TransformError};
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
