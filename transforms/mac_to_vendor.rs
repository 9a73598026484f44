//! MAC address → the organisation the IEEE registered its prefix to (`maltego.Organization`),
//! from the registry embedded in the binary: no capture is read and nothing is fetched.

use super::pivot::copy_provenance;
use super::{Context, Meta, Transform, TransformError};
use crate::facts::pivots::parse_mac;
use crate::facts::reference::{mac_vendor, reference_info};
use crate::maltego::entity;
use crate::maltego::response::{Entity, Response};

/// The transform.
pub static TRANSFORM: Transform = Transform {
    meta: Meta {
        name: "mac-to-vendor",
        display_name: "To Vendor (IEEE OUI) [packetpivot]",
        description: "Returns the organisation the IEEE registered this MAC address's prefix to (MA-L, MA-M, MA-S or IAB, from the registry shipped with packetpivot); a locally administered, group or unregistered address returns nothing and says why.",
        input: entity::MAC,
        outputs: &[entity::ORGANIZATION],
        settings: &[],
    },
    run,
};

/// The I/G bit of the first octet: a group (multicast or broadcast) address.
const GROUP_BIT: u8 = 0x01;
/// The U/L bit of the first octet: a locally administered address, assigned by software
/// (virtual machines, randomised Wi-Fi addresses), not from an IEEE block.
const LOCAL_BIT: u8 = 0x02;

fn run(ctx: &Context<'_>) -> Result<Response, TransformError> {
    let text = ctx.request.value.trim();
    let mac = parse_mac(text).ok_or_else(|| {
        TransformError::MissingInput(format!(
            "{text:?} is not a MAC address (six hex octets separated by : or -)"
        ))
    })?;
    let mut response = Response::default();
    if let Some(vendor) = mac_vendor(&mac) {
        let mut e = Entity::new(entity::ORGANIZATION, vendor);
        let address: Vec<String> = mac.iter().map(|b| format!("{b:02x}")).collect();
        e.field("mac.address", "MAC address", address.join(":"))
            .field("oui.registry", "Registry", reference_info());
        copy_provenance(ctx.request, &mut e);
        e.link.label = Some("vendor".into());
        response.entities.push(e);
        return Ok(response);
    }
    let first = mac.first().copied().unwrap_or(0);
    let why = if mac == [0xff; 6] {
        "the broadcast address, which no vendor owns"
    } else if first & GROUP_BIT != 0 {
        "a group (multicast) address, whose prefix names a protocol rather than a vendor"
    } else if first & LOCAL_BIT != 0 {
        "locally administered (assigned by software, not from an IEEE block)"
    } else {
        "in a prefix the IEEE registry shipped with packetpivot does not list"
    };
    response.inform(format!("{text}: no vendor: the address is {why}"));
    Ok(response)
}
