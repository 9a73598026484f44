//! Finds the headers that decide a packet's session: link layer, IP, tunnels, transport.
//!
//! [`decode`] walks a frame of any supported link type down to the first TCP, UDP or ICMP
//! header, the same layer Wireshark's `tcp.stream`/`udp.stream` use: through VLAN and QinQ
//! tags, MPLS labels, PPPoE, LLC/SNAP, 802.11 data frames, radiotap, NFLOG, and through GRE,
//! ERSPAN and IP-in-IP tunnels (a tunnel without TCP/UDP/ICMP inside is keyed by its outer
//! header). UDP-based tunnels (VXLAN, Teredo) stop at the outer UDP, as tshark's first
//! `udp.stream` does.
//!
//! Truncation is data, not an error: a header that is cut short ends the walk with what was
//! learned so far. Every read is bounds-checked; nothing here can panic on input bytes.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::LinkType;

/// Tunnels inside tunnels are followed this deep, no further (a crafted packet could nest
/// GRE thousands of times).
const MAX_DEPTH: u8 = 8;

/// EtherType values this decoder follows.
pub mod ethertype {
    /// IPv4.
    pub const IPV4: u16 = 0x0800;
    /// ARP.
    pub const ARP: u16 = 0x0806;
    /// IPv6.
    pub const IPV6: u16 = 0x86dd;
    /// 802.1Q VLAN tag.
    pub const VLAN: u16 = 0x8100;
    /// 802.1ad service tag.
    pub const QINQ: u16 = 0x88a8;
    /// Pre-standard QinQ tags.
    pub const QINQ_OLD: u16 = 0x9100;
    /// Pre-standard QinQ tags (second variant).
    pub const QINQ_OLD2: u16 = 0x9200;
    /// MPLS unicast.
    pub const MPLS: u16 = 0x8847;
    /// MPLS multicast.
    pub const MPLS_MC: u16 = 0x8848;
    /// PPPoE session stage.
    pub const PPPOE_SESSION: u16 = 0x8864;
    /// Transparent Ethernet bridging (Ethernet inside GRE).
    pub const TEB: u16 = 0x6558;
    /// ERSPAN type I/II.
    pub const ERSPAN: u16 = 0x88be;
    /// ERSPAN type III.
    pub const ERSPAN3: u16 = 0x22eb;
    /// PPP inside (enhanced) GRE, as PPTP uses it.
    pub const PPP: u16 = 0x880b;
}

/// IP protocol numbers this decoder looks into.
pub mod ipproto {
    /// ICMP.
    pub const ICMP: u8 = 1;
    /// IPv4 in IP.
    pub const IPIP: u8 = 4;
    /// TCP.
    pub const TCP: u8 = 6;
    /// UDP.
    pub const UDP: u8 = 17;
    /// IPv6 in IP.
    pub const IPV6: u8 = 41;
    /// GRE.
    pub const GRE: u8 = 47;
    /// ICMPv6.
    pub const ICMPV6: u8 = 58;
    /// SCTP.
    pub const SCTP: u8 = 132;
    /// UDP-Lite.
    pub const UDPLITE: u8 = 136;
}

/// A MAC address.
pub type Mac = [u8; 6];

/// What one frame says about its session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded<'a> {
    /// Link-layer source address, when the link layer has one.
    pub src_mac: Option<Mac>,
    /// Link-layer destination address.
    pub dst_mac: Option<Mac>,
    /// Outermost VLAN ID, if tagged.
    pub vlan: Option<u16>,
    /// The layer that decides the session.
    pub layer: Layer<'a>,
}

/// The layer that decides a packet's session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layer<'a> {
    /// An IPv4 or IPv6 packet (the innermost one that carries TCP, UDP or ICMP).
    Ip(IpLayer<'a>),
    /// A frame that carries no IP: ARP, LLDP, STP, ... keyed by protocol and MAC pair.
    Link(LinkProto),
    /// Nothing could be decoded: the "other" session of the link type.
    Undecodable,
}

/// The link-layer protocol of a non-IP frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LinkProto {
    /// An EtherType (or SLL/PPP protocol mapped to one).
    EtherType(u16),
    /// An 802.2 LLC frame without SNAP, by its DSAP.
    Llc(u8),
    /// A PPP protocol number other than IP.
    Ppp(u16),
    /// An 802.11 management or control frame, or a data frame without LLC/SNAP.
    Wlan,
}

/// An IP packet's addresses, protocol and what follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpLayer<'a> {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// The transport protocol number (after IPv6 extension headers).
    pub proto: u8,
    /// Set when this packet is a fragment of a larger datagram.
    pub fragment: Option<Fragment<'a>>,
    /// The transport header (`Transport::Fragmented` for fragments).
    pub transport: Transport,
    /// The captured application payload after the TCP or UDP header (empty otherwise).
    pub payload: &'a [u8],
}

/// One IP fragment, as reassembly needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fragment<'a> {
    /// IPv4 identification or IPv6 fragment identification.
    pub id: u32,
    /// Offset of this fragment's data in the datagram, in bytes.
    pub offset: u32,
    /// More fragments follow.
    pub more: bool,
    /// Length of this fragment's data according to the IP header.
    pub len: u32,
    /// All of that data was captured (a snaplen-cut fragment cannot be reassembled).
    pub captured_whole: bool,
    /// The captured fragment data (for the first fragment: the transport header).
    pub data: &'a [u8],
}

/// The transport header fields that decide a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// TCP with at least 16 captured header bytes (what tshark needs to assign a stream).
    Tcp(TcpHeader),
    /// UDP with its whole 8-byte header and a sane length.
    Udp {
        /// Source port.
        src_port: u16,
        /// Destination port.
        dst_port: u16,
    },
    /// ICMP or ICMPv6.
    Icmp {
        /// Message type.
        icmp_type: u8,
        /// Message code.
        code: u8,
        /// Echo identifier, for echo requests and replies.
        echo_id: Option<u16>,
    },
    /// SCTP: keyed by addresses only (tshark has no SCTP stream), its ports feed the
    /// Community ID.
    Sctp {
        /// Source port.
        src_port: u16,
        /// Destination port.
        dst_port: u16,
    },
    /// TCP or UDP whose header is cut short or invalid: tshark assigns no stream.
    Broken,
    /// A fragment: the transport is known once the datagram is reassembled.
    Fragmented,
    /// Any other protocol (SCTP, ESP, OSPF, a tunnel with nothing recognisable inside, ...).
    Other,
}

/// The TCP fields the session table needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpHeader {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgement number.
    pub ack: u32,
    /// The 12 flag bits (FIN 0x001 ... AE 0x100).
    pub flags: u16,
    /// The segment length is known (the IP length covers the TCP header), as Wireshark
    /// requires before it records a base sequence number.
    pub has_segment_len: bool,
    /// The segment is inside an IP fragment or an ICMP error (no sequence analysis).
    pub in_fragment: bool,
    /// Header length in bytes (data offset x 4).
    pub header_len: u8,
}

impl TcpHeader {
    /// FIN flag.
    pub const FIN: u16 = 0x001;
    /// SYN flag.
    pub const SYN: u16 = 0x002;
    /// RST flag.
    pub const RST: u16 = 0x004;
    /// ACK flag.
    pub const ACK: u16 = 0x010;
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}
fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}
fn le16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}
fn mac(b: &[u8], at: usize) -> Option<Mac> {
    b.get(at..at + 6)?.try_into().ok()
}
fn rest(b: &[u8], at: usize) -> &[u8] {
    b.get(at..).unwrap_or_default()
}

/// What a link layer hands to the network layer.
enum Net<'a> {
    Ipv4(&'a [u8]),
    Ipv6(&'a [u8]),
    Link(LinkProto),
    Undecodable,
}

/// Decodes one frame of link type `link`.
pub fn decode(link: LinkType, frame: &[u8]) -> Decoded<'_> {
    let mut d = Decoded {
        src_mac: None,
        dst_mac: None,
        vlan: None,
        layer: Layer::Undecodable,
    };
    let net = link_layer(link, frame, &mut d);
    d.layer = network(net, 0);
    d
}

fn network(net: Net<'_>, depth: u8) -> Layer<'_> {
    match net {
        Net::Ipv4(p) => ipv4(p, depth),
        Net::Ipv6(p) => ipv6(p, depth),
        Net::Link(proto) => Layer::Link(proto),
        Net::Undecodable => Layer::Undecodable,
    }
}

fn link_layer<'a>(link: LinkType, f: &'a [u8], d: &mut Decoded<'a>) -> Net<'a> {
    match link {
        LinkType::ETHERNET => ethernet(f, d, 0),
        LinkType::DSA_TAG_BRCM => {
            // MAC addresses, a 4-byte Broadcom tag, then the EtherType.
            d.dst_mac = mac(f, 0);
            d.src_mac = mac(f, 6);
            match be16(f, 16) {
                Some(et) => ether_chain(et, rest(f, 18), d, 0),
                None => Net::Undecodable,
            }
        }
        LinkType::RAW | LinkType::RAW_12 | LinkType::RAW_14 => raw_ip(f),
        LinkType::IPV4 => Net::Ipv4(f),
        LinkType::IPV6 => Net::Ipv6(f),
        LinkType::NULL | LinkType::LOOP => {
            let family = if link == LinkType::LOOP {
                f.get(..4)
                    .and_then(|b| b.try_into().ok())
                    .map(u32::from_be_bytes)
            } else {
                // The capturing host's byte order: a family number is small in one reading.
                f.get(..4)
                    .and_then(|b| b.try_into().ok())
                    .map(|b: [u8; 4]| {
                        let le = u32::from_le_bytes(b);
                        if le < 0x1_0000 {
                            le
                        } else {
                            u32::from_be_bytes(b)
                        }
                    })
            };
            match family {
                Some(2) => Net::Ipv4(rest(f, 4)),
                Some(24 | 28 | 30) => Net::Ipv6(rest(f, 4)),
                Some(_) => raw_ip(rest(f, 4)),
                None => Net::Undecodable,
            }
        }
        LinkType::PPP | LinkType::PPP_HDLC => ppp(f),
        LinkType::PPP_ETHER => pppoe(f),
        LinkType::LINUX_SLL => {
            // packet type(2) ARPHRD(2) address length(2) address(8) protocol(2)
            if be16(f, 4) == Some(6) {
                d.src_mac = mac(f, 6);
            }
            match be16(f, 14) {
                Some(p) => sll_protocol(be16(f, 2).unwrap_or(0), p, rest(f, 16), d),
                None => Net::Undecodable,
            }
        }
        LinkType::LINUX_SLL2 => {
            // protocol(2) reserved(2) ifindex(4) ARPHRD(2) packet type(1) address length(1) address(8)
            if f.get(11) == Some(&6) {
                d.src_mac = mac(f, 12);
            }
            match be16(f, 0) {
                Some(p) => sll_protocol(be16(f, 8).unwrap_or(0), p, rest(f, 20), d),
                None => Net::Undecodable,
            }
        }
        LinkType::IEEE802_11 => ieee80211(f, d),
        LinkType::IEEE802_11_RADIOTAP => match le16(f, 2) {
            Some(len) if f.first() == Some(&0) => ieee80211(rest(f, len as usize), d),
            _ => Net::Undecodable,
        },
        LinkType::NFLOG => nflog(f),
        // LINKTYPE_IPOIB frames start with a 40-byte pseudo global route header
        // (Wireshark's WTAP_ENCAP_IP_OVER_IB_PCAP), then type(2) and reserved(2).
        LinkType::IPOIB => match be16(f, 40) {
            Some(et) => ether_chain(et, rest(f, 44), d, 0),
            None => Net::Undecodable,
        },
        LinkType::FDDI => {
            // frame control(1) destination(6) source(6), then LLC.
            d.dst_mac = mac(f, 1);
            d.src_mac = mac(f, 7);
            if f.len() < 13 {
                return Net::Undecodable;
            }
            llc(rest(f, 13), d, 0)
        }
        _ => Net::Undecodable,
    }
}

fn raw_ip(f: &[u8]) -> Net<'_> {
    match f.first().map(|b| b >> 4) {
        Some(4) => Net::Ipv4(f),
        Some(6) => Net::Ipv6(f),
        _ => Net::Undecodable,
    }
}

fn ethernet<'a>(f: &'a [u8], d: &mut Decoded<'a>, depth: u8) -> Net<'a> {
    let (Some(dst), Some(src), Some(et)) = (mac(f, 0), mac(f, 6), be16(f, 12)) else {
        return Net::Undecodable;
    };
    d.dst_mac = Some(dst);
    d.src_mac = Some(src);
    ether_chain(et, rest(f, 14), d, depth)
}

/// Follows an EtherType through tags, labels and PPPoE to the network layer.
fn ether_chain<'a>(mut et: u16, mut p: &'a [u8], d: &mut Decoded<'a>, depth: u8) -> Net<'a> {
    for _ in 0..16 {
        match et {
            ethertype::IPV4 => return Net::Ipv4(p),
            ethertype::IPV6 => return Net::Ipv6(p),
            ethertype::VLAN | ethertype::QINQ | ethertype::QINQ_OLD | ethertype::QINQ_OLD2 => {
                let (Some(tci), Some(next)) = (be16(p, 0), be16(p, 2)) else {
                    return Net::Link(LinkProto::EtherType(et));
                };
                if d.vlan.is_none() {
                    d.vlan = Some(tci & 0x0fff);
                }
                et = next;
                p = rest(p, 4);
            }
            ethertype::MPLS | ethertype::MPLS_MC => return mpls(p, d, depth),
            ethertype::PPPOE_SESSION => return pppoe(p),
            len if len < 0x0600 => return llc(p, d, depth),
            other => return Net::Link(LinkProto::EtherType(other)),
        }
    }
    Net::Link(LinkProto::EtherType(et))
}

/// MPLS: skip labels to the bottom of the stack, then guess the payload as Wireshark does
/// (first nibble 4 or 6 is IP; 0 is a pseudowire control word followed by Ethernet).
fn mpls<'a>(mut p: &'a [u8], d: &mut Decoded<'a>, depth: u8) -> Net<'a> {
    for _ in 0..16 {
        let Some(label) = be32(p, 0) else {
            return Net::Link(LinkProto::EtherType(ethertype::MPLS));
        };
        p = rest(p, 4);
        if label & 0x100 != 0 {
            return match p.first().map(|b| b >> 4) {
                Some(4) => Net::Ipv4(p),
                Some(6) => Net::Ipv6(p),
                Some(0) if depth < MAX_DEPTH => ethernet(rest(p, 4), d, depth + 1),
                _ => Net::Link(LinkProto::EtherType(ethertype::MPLS)),
            };
        }
    }
    Net::Link(LinkProto::EtherType(ethertype::MPLS))
}

fn pppoe(p: &[u8]) -> Net<'_> {
    // version/type(1) code(1) session(2) length(2), then a PPP protocol field.
    if p.len() < 6 {
        return Net::Link(LinkProto::EtherType(ethertype::PPPOE_SESSION));
    }
    ppp_protocol(rest(p, 6))
}

fn ppp(p: &[u8]) -> Net<'_> {
    // Address 0xff and control 0x03 are optional (address/control field compression).
    let p = if p.starts_with(&[0xff, 0x03]) {
        rest(p, 2)
    } else {
        p
    };
    ppp_protocol(p)
}

fn ppp_protocol(p: &[u8]) -> Net<'_> {
    // A protocol field with an odd first byte is compressed to one byte (RFC 1661 6.5).
    let (proto, body) = match p.first() {
        Some(&b) if b & 1 == 1 => (u16::from(b), rest(p, 1)),
        Some(_) => match be16(p, 0) {
            Some(v) => (v, rest(p, 2)),
            None => return Net::Undecodable,
        },
        None => return Net::Undecodable,
    };
    match proto {
        0x0021 => Net::Ipv4(body),
        0x0057 => Net::Ipv6(body),
        other => Net::Link(LinkProto::Ppp(other)),
    }
}

fn sll_protocol<'a>(arphrd: u16, proto: u16, p: &'a [u8], d: &mut Decoded<'a>) -> Net<'a> {
    // ARPHRD_NETLINK and friends carry no EtherType.
    if arphrd == 824 {
        return Net::Link(LinkProto::EtherType(proto));
    }
    match proto {
        0x0004 => llc(p, d, 0),
        0x0001 | 0x0003 => Net::Link(LinkProto::EtherType(proto)),
        et => ether_chain(et, p, d, 0),
    }
}

/// 802.2 LLC, following SNAP to its EtherType.
fn llc<'a>(p: &'a [u8], d: &mut Decoded<'a>, depth: u8) -> Net<'a> {
    match (p.first(), p.get(1), p.get(2)) {
        (Some(0xaa), Some(0xaa), Some(0x03)) => match be16(p, 6) {
            Some(et) => ether_chain(et, rest(p, 8), d, depth),
            None => Net::Link(LinkProto::Llc(0xaa)),
        },
        (Some(&dsap), _, _) => Net::Link(LinkProto::Llc(dsap)),
        _ => Net::Undecodable,
    }
}

fn ieee80211<'a>(f: &'a [u8], d: &mut Decoded<'a>) -> Net<'a> {
    let (Some(&fc0), Some(&fc1)) = (f.first(), f.get(1)) else {
        return Net::Undecodable;
    };
    let frame_type = (fc0 >> 2) & 3;
    let subtype = fc0 >> 4;
    let to_ds = fc1 & 1 != 0;
    let from_ds = fc1 & 2 != 0;
    let (a1, a2, a3) = (mac(f, 4), mac(f, 10), mac(f, 16));
    if frame_type != 2 {
        d.dst_mac = a1;
        d.src_mac = a2;
        return Net::Link(LinkProto::Wlan);
    }
    let mut header = 24usize;
    let a4 = if to_ds && from_ds {
        header += 6;
        mac(f, 24)
    } else {
        None
    };
    let (da, sa) = match (to_ds, from_ds) {
        (false, false) => (a1, a2),
        (true, false) => (a3, a2),
        (false, true) => (a1, a3),
        (true, true) => (a3, a4),
    };
    d.dst_mac = da;
    d.src_mac = sa;
    let qos = subtype & 0x8 != 0;
    if qos {
        header += 2;
        if fc1 & 0x80 != 0 {
            header += 4; // HT control field
        }
    }
    // Null-function subtypes carry no body; protected frames cannot be read.
    if subtype & 0x4 != 0 || fc1 & 0x40 != 0 || f.len() < header {
        return Net::Link(LinkProto::Wlan);
    }
    match llc(rest(f, header), d, 0) {
        Net::Link(LinkProto::Llc(_)) | Net::Undecodable => Net::Link(LinkProto::Wlan),
        other => other,
    }
}

/// Linux NFLOG: family(1) version(1) resource id(2), then TLVs in host byte order
/// (little-endian on every capture seen); type 9 is the packet payload.
fn nflog(f: &[u8]) -> Net<'_> {
    let family = f.first().copied();
    let mut at = 4usize;
    for _ in 0..64 {
        let (Some(len), Some(tlv_type)) = (le16(f, at), le16(f, at + 2)) else {
            break;
        };
        let len = len as usize;
        if len < 4 {
            break;
        }
        if tlv_type & 0x7fff == 9 {
            let payload = f.get(at + 4..(at + len).min(f.len())).unwrap_or_default();
            return match family {
                Some(2) => Net::Ipv4(payload),
                Some(10) => Net::Ipv6(payload),
                _ => raw_ip(payload),
            };
        }
        at += (len + 3) & !3;
    }
    Net::Undecodable
}

fn ipv4(p: &[u8], depth: u8) -> Layer<'_> {
    let Some(&vihl) = p.first() else {
        return Layer::Undecodable;
    };
    let ihl = usize::from(vihl & 0x0f) * 4;
    let (Some(total), Some(id), Some(flags_off), Some(&proto), Some(src), Some(dst)) = (
        be16(p, 2),
        be16(p, 4),
        be16(p, 6),
        p.get(9),
        p.get(12..16),
        p.get(16..20),
    ) else {
        return Layer::Undecodable;
    };
    let v4 = |b: &[u8]| -> IpAddr {
        let octets: [u8; 4] = b.try_into().unwrap_or([0; 4]);
        IpAddr::V4(Ipv4Addr::from(octets))
    };
    let (src, dst) = (v4(src), v4(dst));
    let mut ip = IpLayer {
        src,
        dst,
        proto,
        fragment: None,
        transport: Transport::Other,
        payload: &[],
    };
    if vihl >> 4 != 4 || ihl < 20 || p.len() < ihl {
        return Layer::Ip(ip);
    }
    // A total length of 0 is what TCP segmentation offload leaves behind: use what is there.
    let total = if total == 0 {
        p.len()
    } else {
        usize::from(total)
    };
    let payload_len = total.saturating_sub(ihl);
    let end = total.min(p.len()).max(ihl);
    let payload = p.get(ihl..end).unwrap_or_default();
    let more = flags_off & 0x2000 != 0;
    let offset = u32::from(flags_off & 0x1fff) * 8;
    if more || offset != 0 {
        ip.fragment = Some(Fragment {
            id: u32::from(id),
            offset,
            more,
            len: payload_len as u32,
            captured_whole: total > ihl && payload.len() >= payload_len,
            data: payload,
        });
        // Like Wireshark, a first fragment that cannot be reassembled (cut by the snaplen)
        // is still dissected for what it shows.
        ip.transport = Transport::Fragmented;
        return Layer::Ip(ip);
    }
    Layer::Ip(transport(ip, payload, payload_len, depth))
}

fn ipv6(p: &[u8], depth: u8) -> Layer<'_> {
    let (Some(&v), Some(plen), Some(&next), Some(src), Some(dst)) =
        (p.first(), be16(p, 4), p.get(6), p.get(8..24), p.get(24..40))
    else {
        return Layer::Undecodable;
    };
    let src: [u8; 16] = src.try_into().unwrap_or([0; 16]);
    let dst: [u8; 16] = dst.try_into().unwrap_or([0; 16]);
    let mut ip = IpLayer {
        src: IpAddr::V6(Ipv6Addr::from(src)),
        dst: IpAddr::V6(Ipv6Addr::from(dst)),
        proto: next,
        fragment: None,
        transport: Transport::Other,
        payload: &[],
    };
    if v >> 4 != 6 {
        return Layer::Ip(ip);
    }
    let plen = if plen == 0 {
        p.len().saturating_sub(40)
    } else {
        usize::from(plen)
    };
    let body_end = (40 + plen).min(p.len());
    let body = p.get(40..body_end).unwrap_or_default();
    let mut at = 0usize;
    let mut proto = next;
    for _ in 0..32 {
        match proto {
            // hop-by-hop, routing, destination options, mobility, HIP, shim6
            0 | 43 | 60 | 135 | 139 | 140 => {
                let (Some(&nh), Some(&len)) = (body.get(at), body.get(at + 1)) else {
                    ip.proto = proto;
                    return Layer::Ip(ip);
                };
                proto = nh;
                at += (usize::from(len) + 1) * 8;
            }
            // authentication header: length in 4-byte units, minus 2
            51 => {
                let (Some(&nh), Some(&len)) = (body.get(at), body.get(at + 1)) else {
                    ip.proto = proto;
                    return Layer::Ip(ip);
                };
                proto = nh;
                at += (usize::from(len) + 2) * 4;
            }
            44 => {
                let (Some(&nh), Some(off)) = (body.get(at), be16(body, at + 2)) else {
                    ip.proto = proto;
                    return Layer::Ip(ip);
                };
                let id = be32(body, at + 4).unwrap_or(0);
                let offset = u32::from(off >> 3) * 8;
                let more = off & 1 != 0;
                at += 8;
                proto = nh;
                if offset != 0 || more {
                    // RFC 6946: only non-atomic fragments need reassembly.
                    let data = body.get(at..).unwrap_or_default();
                    let len = plen.saturating_sub(at);
                    ip.proto = proto;
                    ip.fragment = Some(Fragment {
                        id,
                        offset,
                        more,
                        len: len as u32,
                        captured_whole: data.len() >= len,
                        data,
                    });
                    ip.transport = Transport::Fragmented;
                    return Layer::Ip(ip);
                }
            }
            _ => break,
        }
    }
    ip.proto = proto;
    let payload = body.get(at..).unwrap_or_default();
    let payload_len = plen.saturating_sub(at);
    Layer::Ip(transport(ip, payload, payload_len, depth))
}

/// Decodes the transport header of a whole (or reassembled) datagram, following tunnels.
/// `reported_len` is the payload length the IP header announces.
pub fn transport<'a>(
    mut ip: IpLayer<'a>,
    payload: &'a [u8],
    reported_len: usize,
    depth: u8,
) -> IpLayer<'a> {
    ip.transport = match ip.proto {
        ipproto::TCP => {
            let t = tcp(payload, reported_len, ip.fragment.is_some());
            if let Transport::Tcp(h) = &t {
                ip.payload = payload.get(usize::from(h.header_len)..).unwrap_or_default();
            }
            t
        }
        ipproto::UDP | ipproto::UDPLITE => {
            let t = udp(payload, ip.proto, reported_len, ip.src.is_ipv6());
            if matches!(t, Transport::Udp { .. }) {
                ip.payload = payload.get(8..).unwrap_or_default();
            }
            t
        }
        ipproto::ICMP | ipproto::ICMPV6 => icmp(payload, ip.proto),
        ipproto::SCTP => match (be16(payload, 0), be16(payload, 2)) {
            (Some(src_port), Some(dst_port)) => Transport::Sctp { src_port, dst_port },
            _ => Transport::Other,
        },
        ipproto::GRE | ipproto::IPIP | ipproto::IPV6 if depth < MAX_DEPTH => {
            if let Some(inner) = tunnel(ip.proto, payload, depth + 1) {
                return inner;
            }
            Transport::Other
        }
        _ => Transport::Other,
    };
    ip
}

/// The inner IP layer of a tunnel, when it carries TCP, UDP or ICMP (else the tunnel itself
/// is the session).
fn tunnel(proto: u8, p: &[u8], depth: u8) -> Option<IpLayer<'_>> {
    // The inner layers may set MAC/VLAN fields; only the outer ones describe the capture.
    let mut inner = Decoded {
        src_mac: None,
        dst_mac: None,
        vlan: None,
        layer: Layer::Undecodable,
    };
    let net = match proto {
        ipproto::IPIP => Net::Ipv4(p),
        ipproto::IPV6 => Net::Ipv6(p),
        _ => gre(p, &mut inner, depth),
    };
    match network(net, depth) {
        Layer::Ip(ip) if ip.transport != Transport::Other => Some(ip),
        _ => None,
    }
}

fn gre<'a>(p: &'a [u8], d: &mut Decoded<'a>, depth: u8) -> Net<'a> {
    let (Some(flags), Some(proto)) = (be16(p, 0), be16(p, 2)) else {
        return Net::Undecodable;
    };
    let version = flags & 0x7;
    let mut at = 4usize;
    if flags & 0x8000 != 0 || flags & 0x4000 != 0 {
        at += 4; // checksum (and offset) present
    }
    if flags & 0x2000 != 0 {
        at += 4; // key (or, in version 1, payload length and call ID)
    }
    let seq = flags & 0x1000 != 0;
    if seq {
        at += 4;
    }
    if version == 1 && flags & 0x0080 != 0 {
        at += 4; // acknowledgement number
    }
    if flags & 0x4000 != 0 {
        return Net::Undecodable; // source routing: obsolete, not followed
    }
    let body = rest(p, at);
    match proto {
        ethertype::IPV4 => Net::Ipv4(body),
        ethertype::IPV6 => Net::Ipv6(body),
        ethertype::TEB => ethernet(body, d, depth),
        // ERSPAN type II has an 8-byte header (and a sequence number); type I has none.
        ethertype::ERSPAN => ethernet(if seq { rest(body, 8) } else { body }, d, depth),
        ethertype::ERSPAN3 => {
            // 12-byte header; the O bit announces an 8-byte platform sub-header.
            let sub = body.get(11).map(|b| b & 1 != 0).unwrap_or(false);
            ethernet(rest(body, if sub { 20 } else { 12 }), d, depth)
        }
        ethertype::PPP => ppp(body),
        other => Net::Link(LinkProto::EtherType(other)),
    }
}

fn tcp(p: &[u8], reported_len: usize, in_fragment: bool) -> Transport {
    let (Some(src_port), Some(dst_port), Some(seq), Some(ack), Some(off_flags)) =
        (be16(p, 0), be16(p, 2), be32(p, 4), be32(p, 8), be16(p, 12))
    else {
        return Transport::Broken;
    };
    // Wireshark reads the window (bytes 14-15) before it looks up the conversation.
    if p.len() < 16 {
        return Transport::Broken;
    }
    let header_len = usize::from(off_flags >> 12) * 4;
    Transport::Tcp(TcpHeader {
        src_port,
        dst_port,
        seq,
        ack,
        flags: off_flags & 0x0fff,
        has_segment_len: reported_len >= header_len,
        in_fragment,
        header_len: header_len.min(60) as u8,
    })
}

fn udp(p: &[u8], proto: u8, reported_len: usize, ipv6: bool) -> Transport {
    let (Some(src_port), Some(dst_port), Some(len)) = (be16(p, 0), be16(p, 2), be16(p, 4)) else {
        return Transport::Broken;
    };
    if p.len() < 8 {
        return Transport::Broken;
    }
    if proto == ipproto::UDP {
        let jumbo = len == 0 && ipv6;
        if len < 8 && !jumbo {
            return Transport::Broken;
        }
    } else {
        // UDP-Lite: checksum coverage 0 means the whole datagram; otherwise at least the header.
        if len != 0 && (len < 8 || usize::from(len) > reported_len) {
            return Transport::Broken;
        }
    }
    Transport::Udp { src_port, dst_port }
}

fn icmp(p: &[u8], proto: u8) -> Transport {
    let (Some(&icmp_type), Some(&code)) = (p.first(), p.get(1)) else {
        return Transport::Other;
    };
    let echo = match proto {
        ipproto::ICMP => matches!(icmp_type, 0 | 8),
        _ => matches!(icmp_type, 128 | 129),
    };
    Transport::Icmp {
        icmp_type,
        code,
        echo_id: if echo { be16(p, 4) } else { None },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eth_ipv4_tcp() -> Vec<u8> {
        let mut f = vec![
            // Ethernet: dst, src, type IPv4
            0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00,
            // IPv4: v4 ihl5, tos, len 40, id 1, no frag, ttl 64, TCP, csum
            0x45, 0, 0, 40, 0, 1, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
            // TCP: ports 1234 -> 80, seq 1, ack 0, offset 5, SYN, window
            0x04, 0xd2, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0,
        ];
        f.truncate(54);
        f
    }

    #[test]
    fn parses_ethernet_ipv4_tcp() {
        let f = eth_ipv4_tcp();
        let d = decode(LinkType::ETHERNET, &f);
        let Layer::Ip(ip) = d.layer else {
            panic!("not ip")
        };
        assert_eq!(ip.src, IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)));
        match ip.transport {
            Transport::Tcp(t) => {
                assert_eq!((t.src_port, t.dst_port, t.seq), (1234, 80, 1));
                assert_eq!(t.flags, TcpHeader::SYN);
                assert!(t.has_segment_len);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn parses_transport_payload() {
        let mut f = eth_ipv4_tcp();
        f[17] = 44; // IP total length: 20 + 20 + 4 bytes of data
        f.extend_from_slice(b"GET ");
        let d = decode(LinkType::ETHERNET, &f);
        let Layer::Ip(ip) = d.layer else { panic!() };
        assert_eq!(ip.payload, b"GET ");
    }

    #[test]
    fn parses_vlan_stack_and_ignores_tags() {
        let plain = eth_ipv4_tcp();
        let mut tagged = plain[..12].to_vec();
        for tag in [
            [0x88, 0xa8, 0, 10],
            [0x81, 0x00, 0, 20],
            [0x81, 0x00, 0, 30],
        ] {
            tagged.extend_from_slice(&tag);
        }
        tagged.extend_from_slice(&plain[12..]);
        let a = decode(LinkType::ETHERNET, &plain);
        let b = decode(LinkType::ETHERNET, &tagged);
        assert_eq!(a.layer, b.layer);
        assert_eq!(b.vlan, Some(10));
    }

    #[test]
    fn rejects_truncated_tcp_as_broken() {
        let f = eth_ipv4_tcp();
        for cut in 34..50 {
            let d = decode(LinkType::ETHERNET, &f[..cut]);
            let Layer::Ip(ip) = d.layer else { panic!() };
            assert_eq!(ip.transport, Transport::Broken, "cut at {cut}");
        }
    }

    #[test]
    fn never_panics_on_any_prefix() {
        let f = eth_ipv4_tcp();
        for lt in [
            0u16, 1, 9, 10, 101, 105, 108, 113, 127, 228, 229, 239, 242, 276, 281, 999,
        ] {
            for cut in 0..=f.len() {
                let _ = decode(LinkType(lt), &f[..cut]);
            }
        }
    }

    #[test]
    fn parses_ipv4_fragment() {
        let mut f = eth_ipv4_tcp();
        f[20] = 0x20; // MF
        let d = decode(LinkType::ETHERNET, &f);
        let Layer::Ip(ip) = d.layer else { panic!() };
        let frag = ip.fragment.expect("fragment");
        assert!(frag.more && frag.offset == 0 && frag.captured_whole);
        assert_eq!(ip.transport, Transport::Fragmented);
    }
}
