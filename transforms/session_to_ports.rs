//! Session → its client and server ports.

use super::entities::prop;
use super::pivot::copy_provenance;
use super::{check_input, Context, Meta, Transform, TransformError};
use crate::maltego::entity;
use crate::maltego::response::{Entity, Response};

/// The transform.
pub static TRANSFORM: Transform = Transform {
    meta: Meta {
        name: "session-to-ports",
        display_name: "To Ports [packetpivot]",
        description: "Returns the session's client and server ports as port entities, with links labelled client port and server port.",
        input: entity::SESSION,
        outputs: &[entity::PORT],
        settings: &[],
    },
    run,
};

fn run(ctx: &Context<'_>) -> Result<Response, TransformError> {
    let req = ctx.request;
    check_input(&TRANSFORM.meta, req, &[])?;
    let protocol = req.field(prop::PROTOCOL).unwrap_or_default().to_string();
    let mut response = Response::default();
    for (role, field) in [
        ("client port", prop::CLIENT_PORT),
        ("server port", prop::SERVER_PORT),
    ] {
        let Some(text) = req.field(field).filter(|v| !v.is_empty()) else {
            continue;
        };
        let port: u16 = text.parse().map_err(|_| {
            TransformError::MissingInput(format!(
                "the session's {field} field holds {text:?}, which is not a port"
            ))
        })?;
        let mut e = Entity::new(entity::PORT, port.to_string());
        if !protocol.is_empty() {
            e.field("protocol", "Protocol", protocol.clone());
        }
        copy_provenance(req, &mut e);
        e.link.label = Some(role.to_string());
        response.entities.push(e);
    }
    if response.entities.is_empty() {
        response.inform("this session has no ports (not TCP, UDP or SCTP)");
    }
    Ok(response)
}
