//! Link-layer header types (tcpdump.org/linktypes.html) as an open newtype: a value this
//! crate does not know is kept, printed and written back, never an error.

use std::fmt;

/// A LINKTYPE_ value as stored in a pcap header or a pcapng interface description.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct LinkType(pub u16);

impl LinkType {
    /// BSD loopback: 4-byte address family in the capturing host's byte order.
    pub const NULL: LinkType = LinkType(0);
    /// Ethernet (10/100/1000 Mb and up).
    pub const ETHERNET: LinkType = LinkType(1);
    /// PPP, with or without the HDLC address/control bytes.
    pub const PPP: LinkType = LinkType(9);
    /// FDDI, with LLC/SNAP.
    pub const FDDI: LinkType = LinkType(10);
    /// Raw IP on some BSDs (DLT_RAW 12/14 as written by old libpcap versions).
    pub const RAW_12: LinkType = LinkType(12);
    /// Raw IP on OpenBSD (DLT_RAW 14).
    pub const RAW_14: LinkType = LinkType(14);
    /// PPP in HDLC-like framing.
    pub const PPP_HDLC: LinkType = LinkType(50);
    /// PPPoE session frames without Ethernet header (rare).
    pub const PPP_ETHER: LinkType = LinkType(51);
    /// Raw IPv4 or IPv6, version from the first nibble.
    pub const RAW: LinkType = LinkType(101);
    /// IEEE 802.11 without radio header.
    pub const IEEE802_11: LinkType = LinkType(105);
    /// OpenBSD loopback: 4-byte address family in network byte order.
    pub const LOOP: LinkType = LinkType(108);
    /// Linux cooked capture v1.
    pub const LINUX_SLL: LinkType = LinkType(113);
    /// IEEE 802.11 with a radiotap header.
    pub const IEEE802_11_RADIOTAP: LinkType = LinkType(127);
    /// Raw IPv4.
    pub const IPV4: LinkType = LinkType(228);
    /// Raw IPv6.
    pub const IPV6: LinkType = LinkType(229);
    /// Linux netfilter NFLOG.
    pub const NFLOG: LinkType = LinkType(239);
    /// IP over InfiniBand (RFC 4391 encapsulation header).
    pub const IPOIB: LinkType = LinkType(242);
    /// Linux cooked capture v2.
    pub const LINUX_SLL2: LinkType = LinkType(276);
    /// Ethernet with a Broadcom switch tag before the EtherType.
    pub const DSA_TAG_BRCM: LinkType = LinkType(281);

    /// The short name tcpdump and capinfos print (`EN10MB`), or `LINKTYPE_<n>`.
    pub fn name(self) -> String {
        let known = match self.0 {
            0 => "NULL",
            1 => "EN10MB",
            9 => "PPP",
            10 => "FDDI",
            12 | 14 | 101 => "RAW",
            50 => "PPP_HDLC",
            51 => "PPP_ETHER",
            105 => "IEEE802_11",
            108 => "LOOP",
            113 => "LINUX_SLL",
            127 => "IEEE802_11_RADIOTAP",
            228 => "IPV4",
            229 => "IPV6",
            239 => "NFLOG",
            242 => "IPOIB",
            276 => "LINUX_SLL2",
            281 => "DSA_TAG_BRCM",
            _ => return format!("LINKTYPE_{}", self.0),
        };
        known.to_string()
    }
}

impl fmt::Display for LinkType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({})", self.0, self.name())
    }
}
