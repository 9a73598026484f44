//! Session → its two endpoint addresses, linked as client and server.

use std::net::IpAddr;

use super::entities::prop;
use super::pivot::{copy_provenance, ip_entity_type};
use super::{check_input, Context, Meta, Transform, TransformError};
use crate::maltego::entity;
use crate::maltego::response::{Entity, Response};

/// The transform.
pub static TRANSFORM: Transform = Transform {
    meta: Meta {
        name: "session-to-ips",
        display_name: "To IP Addresses [packetpivot]",
        description: "Returns the session's client and server IP addresses as IPv4/IPv6 address entities, with links labelled client and server.",
        input: entity::SESSION,
        outputs: &[entity::IPV4, entity::IPV6],
        settings: &[],
    },
    run,
};

fn run(ctx: &Context<'_>) -> Result<Response, TransformError> {
    let req = ctx.request;
    check_input(&TRANSFORM.meta, req, &[])?;
    let mut response = Response::default();
    for (role, field) in [
        ("client", prop::CLIENT_ADDRESS),
        ("server", prop::SERVER_ADDRESS),
    ] {
        let Some(text) = req.field(field).filter(|v| !v.is_empty()) else {
            continue;
        };
        let Ok(addr) = text.parse::<IpAddr>() else {
            return Err(TransformError::MissingInput(format!(
                "the session's {field} field holds {text:?}, which is not an IP address"
            )));
        };
        let address = addr.to_string();
        let mut e = Entity::new(ip_entity_type(&address), address);
        copy_provenance(req, &mut e);
        e.link.label = Some(role.to_string());
        response.entities.push(e);
    }
    if response.entities.is_empty() {
        response.inform("this session has no IP addresses (a link-layer session)");
    }
    Ok(response)
}
