//! Session → its own pcap, as a `maltego.File` with the server path and the download URL.

use super::entities::prop;
use super::{check_input, Context, Meta, Transform, TransformError};
use crate::maltego::entity;
use crate::maltego::response::{Entity, Response};

/// The transform.
pub static TRANSFORM: Transform = Transform {
    meta: Meta {
        name: "session-to-pcap",
        display_name: "To Session Pcap [packetpivot]",
        description: "Returns the session's own capture file as a File entity: its path on the server, its SHA-256 and, when the server has a public URL, its download link.",
        input: entity::SESSION,
        outputs: &[entity::FILE],
        settings: &[],
    },
    run,
};

fn run(ctx: &Context<'_>) -> Result<Response, TransformError> {
    let req = ctx.request;
    check_input(&TRANSFORM.meta, req, &[])?;
    let path = req
        .field(prop::PCAP_PATH)
        .filter(|p| !p.is_empty())
        .ok_or_else(|| {
            TransformError::MissingInput(format!(
                "this session has no {} field: run capture-to-sessions again to get it",
                prop::PCAP_PATH
            ))
        })?;
    let name = std::path::Path::new(path)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.to_string());
    let mut e = Entity::new(entity::FILE, name);
    e.field(
        "description",
        "Description",
        format!("session pcap of {}", req.value),
    );
    if let Some(url) = req.field(prop::PCAP_URL).filter(|u| !u.is_empty()) {
        e.strict_field("source", "Source", url.to_string());
    }
    e.field(prop::PCAP_PATH, "Server path", path.to_string());
    for (name, display) in [
        (prop::PCAP_SHA256, "SHA-256"),
        (prop::CAPTURE_SHA256, "Capture SHA-256"),
        (prop::CAPTURE_PATH, "Capture path (server)"),
    ] {
        if let Some(v) = req.field(name).filter(|v| !v.is_empty()) {
            e.field(name, display, v.to_string());
        }
    }
    e.link.label = Some("pcap".into());
    Ok(Response {
        entities: vec![e],
        ..Response::default()
    })
}
