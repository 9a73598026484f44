//! The flow key: which session a packet belongs to, independent of its direction.
//!
//! A key is canonical: the two endpoints are stored in a fixed order (the smaller first), so
//! A→B and B→A give the same key. VLAN tags and MPLS labels are never part of a key.
//! [`PacketInfo`] is the owned summary of a decoded packet that the session table works
//! from; [`PacketInfo::key`] derives its key.

use std::fmt;
use std::net::IpAddr;

use crate::capture::decode::{self, ipproto, Layer, LinkProto, Mac, TcpHeader, Transport};
use crate::capture::LinkType;

/// An IP endpoint.
pub type Endpoint = (IpAddr, u16);

/// Which session a packet belongs to (before TCP generations are applied).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FlowKey {
    /// TCP: the two (address, port) endpoints, smaller first.
    Tcp(Endpoint, Endpoint),
    /// UDP or UDP-Lite (`proto`): the two endpoints, smaller first.
    Udp(u8, Endpoint, Endpoint),
    /// ICMP or ICMPv6 (`proto`) echo: the two addresses and the echo identifier.
    IcmpEcho(u8, IpAddr, IpAddr, u16),
    /// Any other IP traffic (other ICMP, GRE, ESP, SCTP, TCP/UDP without a usable header,
    /// fragments of datagrams that never completed): protocol and address pair.
    Ip(u8, IpAddr, IpAddr),
    /// Non-IP frames: link-layer protocol and MAC pair.
    Link(LinkProto, Option<Mac>, Option<Mac>),
    /// Frames that could not be decoded at all: one session per link type.
    Other(LinkType),
}

fn ordered<T: Ord>(a: T, b: T) -> (T, T) {
    if a <= b {
        (a, b)
    } else {
        (b, a)
    }
}

/// The owned facts of one packet that decide and describe its session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketInfo {
    /// Link-layer source address.
    pub src_mac: Option<Mac>,
    /// Link-layer destination address.
    pub dst_mac: Option<Mac>,
    /// Outermost VLAN ID.
    pub vlan: Option<u16>,
    /// What the packet is.
    pub kind: PacketKind,
    /// The packet is (part of) an IP fragment.
    pub fragment: bool,
}

/// The decisive layer of a packet, owned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacketKind {
    /// A TCP segment with a usable header.
    Tcp {
        /// Source address.
        src: IpAddr,
        /// Destination address.
        dst: IpAddr,
        /// Its header fields.
        tcp: TcpHeader,
    },
    /// A UDP (or UDP-Lite) datagram.
    Udp {
        /// 17 or 136.
        proto: u8,
        /// Source endpoint.
        src: Endpoint,
        /// Destination endpoint.
        dst: Endpoint,
    },
    /// ICMP or ICMPv6.
    Icmp {
        /// 1 or 58.
        proto: u8,
        /// Source address.
        src: IpAddr,
        /// Destination address.
        dst: IpAddr,
        /// Message type.
        icmp_type: u8,
        /// Message code.
        code: u8,
        /// Echo identifier for echo request/reply.
        echo_id: Option<u16>,
    },
    /// Other IP traffic, keyed by protocol and addresses.
    Ip {
        /// Protocol number.
        proto: u8,
        /// Source address.
        src: IpAddr,
        /// Destination address.
        dst: IpAddr,
        /// Ports, when the protocol has them (SCTP), for the Community ID.
        ports: Option<(u16, u16)>,
        /// The transport header was present but cut short or invalid.
        broken: bool,
    },
    /// A non-IP frame.
    Link(LinkProto),
    /// An undecodable frame.
    Other(LinkType),
}

impl PacketInfo {
    /// Summarises a decoded frame. Fragments are summarised as `Ip` traffic here; the
    /// splitter replaces that once their datagram is complete.
    pub fn from_decoded(link: LinkType, d: &decode::Decoded<'_>) -> PacketInfo {
        let (kind, fragment) = match &d.layer {
            Layer::Ip(ip) => (PacketKind::from_ip(ip), ip.fragment.is_some()),
            Layer::Link(p) => (PacketKind::Link(*p), false),
            Layer::Undecodable => (PacketKind::Other(link), false),
        };
        PacketInfo {
            src_mac: d.src_mac,
            dst_mac: d.dst_mac,
            vlan: d.vlan,
            kind,
            fragment,
        }
    }

    /// The packet's flow key.
    pub fn key(&self) -> FlowKey {
        match self.kind {
            PacketKind::Tcp { src, dst, tcp } => {
                let (a, b) = ordered((src, tcp.src_port), (dst, tcp.dst_port));
                FlowKey::Tcp(a, b)
            }
            PacketKind::Udp { proto, src, dst } => {
                let (a, b) = ordered(src, dst);
                FlowKey::Udp(proto, a, b)
            }
            PacketKind::Icmp {
                proto,
                src,
                dst,
                echo_id: Some(id),
                ..
            } => {
                let (a, b) = ordered(src, dst);
                FlowKey::IcmpEcho(proto, a, b, id)
            }
            PacketKind::Icmp {
                proto, src, dst, ..
            }
            | PacketKind::Ip {
                proto, src, dst, ..
            } => {
                let (a, b) = ordered(src, dst);
                FlowKey::Ip(proto, a, b)
            }
            PacketKind::Link(proto) => {
                let (a, b) = ordered(self.src_mac, self.dst_mac);
                FlowKey::Link(proto, a, b)
            }
            PacketKind::Other(link) => FlowKey::Other(link),
        }
    }

    /// Source and destination as (address, port) for IP packets (port 0 where none).
    pub fn ip_endpoints(&self) -> Option<(Endpoint, Endpoint)> {
        match self.kind {
            PacketKind::Tcp { src, dst, tcp } => Some(((src, tcp.src_port), (dst, tcp.dst_port))),
            PacketKind::Udp { src, dst, .. } => Some((src, dst)),
            PacketKind::Icmp { src, dst, .. } | PacketKind::Ip { src, dst, .. } => {
                Some(((src, 0), (dst, 0)))
            }
            PacketKind::Link(_) | PacketKind::Other(_) => None,
        }
    }
}

impl PacketKind {
    /// Summarises an IP layer (fragments become plain `Ip` traffic).
    pub fn from_ip(ip: &decode::IpLayer<'_>) -> PacketKind {
        let (src, dst, proto) = (ip.src, ip.dst, ip.proto);
        let other = |broken| PacketKind::Ip {
            proto,
            src,
            dst,
            ports: None,
            broken,
        };
        match ip.transport {
            Transport::Tcp(tcp) => PacketKind::Tcp { src, dst, tcp },
            Transport::Udp { src_port, dst_port } => PacketKind::Udp {
                proto,
                src: (src, src_port),
                dst: (dst, dst_port),
            },
            Transport::Icmp {
                icmp_type,
                code,
                echo_id,
            } => PacketKind::Icmp {
                proto,
                src,
                dst,
                icmp_type,
                code,
                echo_id,
            },
            Transport::Sctp { src_port, dst_port } => PacketKind::Ip {
                proto,
                src,
                dst,
                ports: Some((src_port, dst_port)),
                broken: false,
            },
            Transport::Broken => other(true),
            Transport::Fragmented | Transport::Other => other(false),
        }
    }
}

/// A short lowercase protocol label for names and summaries (`tcp`, `udp`, `icmp`, `arp`, ...).
pub fn protocol_label(key: &FlowKey) -> String {
    match key {
        FlowKey::Tcp(..) => "tcp".into(),
        FlowKey::Udp(p, ..) => if *p == ipproto::UDPLITE {
            "udplite"
        } else {
            "udp"
        }
        .into(),
        FlowKey::IcmpEcho(p, ..) => if *p == ipproto::ICMPV6 {
            "icmpv6"
        } else {
            "icmp"
        }
        .into(),
        FlowKey::Ip(p, ..) => ip_proto_name(*p),
        FlowKey::Link(p, ..) => match p {
            LinkProto::EtherType(0x0806) => "arp".into(),
            LinkProto::EtherType(0x8035) => "rarp".into(),
            LinkProto::EtherType(0x88cc) => "lldp".into(),
            LinkProto::EtherType(0x8863) => "pppoed".into(),
            LinkProto::EtherType(0x888e) => "eapol".into(),
            LinkProto::EtherType(et) => format!("ether{et:04x}"),
            LinkProto::Llc(0x42) => "stp".into(),
            LinkProto::Llc(dsap) => format!("llc{dsap:02x}"),
            LinkProto::Ppp(p) => format!("ppp{p:04x}"),
            LinkProto::Wlan => "wlan".into(),
        },
        FlowKey::Other(_) => "other".into(),
    }
}

/// Names of the IP protocols an analyst meets most; others are `ip<N>`.
pub fn ip_proto_name(p: u8) -> String {
    match p {
        1 => "icmp".into(),
        2 => "igmp".into(),
        4 => "ipip".into(),
        6 => "tcp".into(),
        17 => "udp".into(),
        41 => "ipv6".into(),
        47 => "gre".into(),
        50 => "esp".into(),
        51 => "ah".into(),
        58 => "icmpv6".into(),
        89 => "ospf".into(),
        103 => "pim".into(),
        112 => "vrrp".into(),
        132 => "sctp".into(),
        136 => "udplite".into(),
        other => format!("ip{other}"),
    }
}

impl fmt::Display for FlowKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", protocol_label(self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn addr() -> impl Strategy<Value = IpAddr> {
        prop_oneof![
            any::<[u8; 4]>().prop_map(|b| IpAddr::V4(Ipv4Addr::from(b))),
            any::<[u8; 16]>().prop_map(|b| IpAddr::V6(Ipv6Addr::from(b))),
        ]
    }

    fn tcp(src: IpAddr, sp: u16, dst: IpAddr, dp: u16, flags: u16) -> PacketInfo {
        PacketInfo {
            src_mac: None,
            dst_mac: None,
            vlan: None,
            kind: PacketKind::Tcp {
                src,
                dst,
                tcp: TcpHeader {
                    src_port: sp,
                    dst_port: dp,
                    seq: 1,
                    ack: 0,
                    flags,
                    has_segment_len: true,
                    in_fragment: false,
                    header_len: 20,
                },
            },
            fragment: false,
        }
    }

    proptest! {
        #[test]
        fn key_is_direction_independent(a in addr(), b in addr(), pa: u16, pb: u16, flags: u16, id: u16) {
            prop_assert_eq!(tcp(a, pa, b, pb, flags).key(), tcp(b, pb, a, pa, flags & 0x10).key());
            let udp = |s, d| PacketInfo { kind: PacketKind::Udp { proto: 17, src: s, dst: d }, ..tcp(a, pa, b, pb, 0) };
            prop_assert_eq!(udp((a, pa), (b, pb)).key(), udp((b, pb), (a, pa)).key());
            let echo = |s, d, t| PacketInfo { kind: PacketKind::Icmp { proto: 1, src: s, dst: d, icmp_type: t, code: 0, echo_id: Some(id) }, ..tcp(a, pa, b, pb, 0) };
            prop_assert_eq!(echo(a, b, 8).key(), echo(b, a, 0).key());
            let link = |s, d| PacketInfo { src_mac: s, dst_mac: d, kind: PacketKind::Link(LinkProto::EtherType(0x0806)), ..tcp(a, pa, b, pb, 0) };
            prop_assert_eq!(link(Some([1; 6]), Some([2; 6])).key(), link(Some([2; 6]), Some([1; 6])).key());
        }

        #[test]
        fn key_is_stable_and_distinguishes_endpoints(a in addr(), b in addr(), pa: u16, pb: u16) {
            let k1 = tcp(a, pa, b, pb, 2).key();
            prop_assert_eq!(k1, tcp(a, pa, b, pb, 2).key());
            if pa != pb.wrapping_add(1) {
                prop_assert_ne!(k1, tcp(a, pa, b, pb.wrapping_add(1), 2).key());
            }
        }
    }
}
