//! The live session table: keys to sessions, TCP generations, direction and counters.
//!
//! TCP generations follow Wireshark 4.0's `tcp.stream` (epan/dissectors/packet-tcp.c,
//! `dissect_tcp`): each direction of a connection remembers a base sequence number (the
//! SYN's sequence number, or `seq - 1` of the first segment seen, or `ack - 1` of the first
//! ACK from the other side). A SYN without ACK whose sequence number differs from its
//! direction's base starts a new session on the same 4-tuple; a retransmitted SYN does not.
//! (Wireshark 4.0 does not look at FIN or RST for this, so neither do we: the oracle is
//! tshark.) UDP sessions last for the whole capture unless an idle timeout is set.

use std::net::IpAddr;

use std::hash::BuildHasher;

use hashbrown::HashTable;

use super::community_id::{community_id_v1, CommunityId, FlowTuple};
use super::key::{FlowKey, PacketInfo, PacketKind};
use super::spill::{Sessions, SpillError};
use crate::capture::decode::{Mac, TcpHeader};

/// Packets and bytes of one direction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counters {
    /// Packets.
    pub packets: u64,
    /// Bytes on the wire (original lengths).
    pub bytes: u64,
    /// Bytes captured (what the session file holds, without record headers).
    pub captured_bytes: u64,
}

/// Facts about how a session went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionFlags {
    /// SYN from the client and SYN-ACK from the server were both seen.
    pub handshake: bool,
    /// The session started without a SYN (it was already open when capture began).
    pub midstream: bool,
    /// FIN seen from both sides.
    pub closed_fin: bool,
    /// RST seen.
    pub closed_rst: bool,
    /// Some packet was captured shorter than it was on the wire.
    pub truncated: bool,
    /// Some packet was an IP fragment.
    pub fragments: bool,
    /// A header was cut short or invalid (TCP/UDP without a usable header).
    pub broken_header: bool,
}

impl SessionFlags {
    /// The flags that are set, as stable snake_case names.
    pub fn names(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        for (set, name) in [
            (self.handshake, "handshake"),
            (self.midstream, "midstream"),
            (self.closed_fin, "closed_fin"),
            (self.closed_rst, "closed_rst"),
            (self.truncated, "truncated"),
            (self.fragments, "fragments"),
            (self.broken_header, "broken_header"),
        ] {
            if set {
                v.push(name);
            }
        }
        v
    }
}

/// One end of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer {
    /// IP address, for IP sessions.
    pub ip: Option<IpAddr>,
    /// Port (TCP/UDP/SCTP), echo identifier is kept in the key instead.
    pub port: Option<u16>,
    /// MAC address, when the link layer has one.
    pub mac: Option<Mac>,
}

/// Per-direction TCP state needed for generations, in canonical key direction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct TcpTrack {
    pub(super) base_seq: [Option<u32>; 2],
    pub(super) syn: bool,
    pub(super) syn_ack: bool,
    pub(super) fin: [bool; 2],
}

/// The interfaces a session's packets came from, in order of first use. Nearly every session
/// has one, kept inline; only the others need the heap.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Interfaces {
    pub(super) first: Option<u32>,
    pub(super) others: Vec<u32>,
}

impl Interfaces {
    /// Reader interface indices, in order of first use.
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.first.into_iter().chain(self.others.iter().copied())
    }

    fn add(&mut self, interface: u32) {
        match self.first {
            None => self.first = Some(interface),
            Some(f) if f == interface => {}
            Some(_) => {
                if !self.others.contains(&interface) {
                    self.others.push(interface);
                }
            }
        }
    }
}

/// Everything known about one session.
#[derive(Debug, Clone)]
pub struct Session {
    /// Number in order of first packet, from 0.
    pub number: u64,
    /// Its flow key.
    pub key: FlowKey,
    /// The initiator.
    pub client: Peer,
    /// The other end.
    pub server: Peer,
    /// Client to server.
    pub to_server: Counters,
    /// Server to client.
    pub to_client: Counters,
    /// First timestamp (ns since the epoch); `None` if no packet had one.
    pub first_ts: Option<i64>,
    /// Last timestamp.
    pub last_ts: Option<i64>,
    /// Record number of the first packet.
    pub first_record: u64,
    /// Record number of the last packet.
    pub last_record: u64,
    /// How it went.
    pub flags: SessionFlags,
    /// Community ID v1 (seed 0), where defined.
    pub community_id: Option<CommunityId>,
    /// The first VLAN ID seen.
    pub vlan: Option<u16>,
    /// Interfaces (reader indices) the session's packets came from, in order of first use.
    pub interfaces: Interfaces,
    /// Canonical key direction (0: from the key's first endpoint) that the client sends in.
    pub(super) client_dir: u8,
    pub(super) tcp: TcpTrack,
}

impl Session {
    /// Packets in both directions.
    pub fn packets(&self) -> u64 {
        self.to_server.packets + self.to_client.packets
    }
    /// Wire bytes in both directions.
    pub fn bytes(&self) -> u64 {
        self.to_server.bytes + self.to_client.bytes
    }
}

/// What the table needs of a record besides its decoded headers.
#[derive(Debug, Clone, Copy)]
pub struct RecordMeta {
    /// Record number.
    pub index: u64,
    /// Timestamp, if any.
    pub ts_ns: Option<i64>,
    /// Wire length.
    pub orig_len: u32,
    /// Captured length.
    pub caplen: u32,
    /// Reader interface index.
    pub interface: u32,
}

/// Maps packets to sessions; see the module documentation.
pub struct SessionTable {
    /// The newest session of each key, as an index into `sessions`. The key is read from the
    /// session itself rather than stored twice: with a million UDP flows (which never end,
    /// as in tshark) a second copy of the 42-byte key, at hashbrown's load factor, cost over
    /// 100 MiB; an index costs 9 bytes a slot.
    live: HashTable<usize>,
    hasher: foldhash::fast::RandomState,
    sessions: Sessions,
    udp_idle_timeout_ns: Option<i64>,
}

/// The session a packet was assigned to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Assignment {
    /// Index into [`SessionTable::sessions`] (equal to the session number).
    pub session: usize,
    /// The packet goes from client to server.
    pub to_server: bool,
    /// The packet opened the session.
    pub new: bool,
}

impl SessionTable {
    /// An empty table holding every session in memory. `udp_idle_timeout_ns` splits a UDP
    /// flow after that much silence.
    pub fn new(udp_idle_timeout_ns: Option<i64>) -> SessionTable {
        SessionTable::with_store(udp_idle_timeout_ns, Sessions::in_memory())
    }

    /// An empty table keeping its sessions in `sessions` (which may spill to disk).
    pub fn with_store(udp_idle_timeout_ns: Option<i64>, sessions: Sessions) -> SessionTable {
        SessionTable {
            live: HashTable::new(),
            hasher: foldhash::fast::RandomState::default(),
            sessions,
            udp_idle_timeout_ns,
        }
    }

    /// All sessions, numbered in order of their first packet.
    pub fn sessions(&self) -> &Sessions {
        &self.sessions
    }

    /// Consumes the table, returning its sessions.
    pub fn into_sessions(self) -> Sessions {
        self.sessions
    }

    /// Assigns one packet (in capture order) to its session. Fails only if a spilled
    /// session cannot be read back or written out.
    pub fn assign(
        &mut self,
        info: &PacketInfo,
        meta: &RecordMeta,
    ) -> Result<Assignment, SpillError> {
        let key = info.key();
        let dir = canonical_direction(&key, info);
        let hash = self.hasher.hash_one(key);
        let sessions = &self.sessions;
        let existing = self
            .live
            .find(hash, |&i| sessions.key(i) == Some(&key))
            .copied();
        let mut start_new = existing.is_none();
        if let (Some(idx), PacketKind::Tcp { tcp, .. }) = (existing, info.kind) {
            if let Some(s) = self.sessions.get_mut(idx)? {
                let syn_only = tcp.flags & (TcpHeader::SYN | TcpHeader::ACK) == TcpHeader::SYN;
                let base = s.tcp.base_seq.get(usize::from(dir)).copied().flatten();
                if syn_only && base.is_some_and(|b| b != tcp.seq) {
                    start_new = true;
                }
            }
        }
        if let (Some(idx), Some(timeout), PacketKind::Udp { .. }) =
            (existing, self.udp_idle_timeout_ns, info.kind)
        {
            if let (Some(s), Some(ts)) = (self.sessions.get_mut(idx)?, meta.ts_ns) {
                if s.last_ts
                    .is_some_and(|last| ts.saturating_sub(last) > timeout)
                {
                    start_new = true;
                }
            }
        }
        let idx = match existing {
            Some(idx) if !start_new => idx,
            _ => {
                let idx = self.sessions.push(new_session(
                    self.sessions.len() as u64,
                    key,
                    dir,
                    info,
                    meta,
                ))?;
                let sessions = &self.sessions;
                let hasher = &self.hasher;
                match self.live.find_mut(hash, |&i| sessions.key(i) == Some(&key)) {
                    // A new TCP generation or UDP after its idle timeout: the key now
                    // means the new session.
                    Some(slot) => *slot = idx,
                    None => {
                        self.live.insert_unique(hash, idx, |&i| {
                            sessions.key(i).map_or(0, |k| hasher.hash_one(k))
                        });
                    }
                }
                idx
            }
        };
        let Some(s) = self.sessions.get_mut(idx)? else {
            // Unreachable: idx was just looked up or pushed.
            return Ok(Assignment {
                session: idx,
                to_server: true,
                new: start_new,
            });
        };
        let to_server = dir == s.client_dir;
        update(s, dir, to_server, info, meta);
        Ok(Assignment {
            session: idx,
            to_server,
            new: start_new,
        })
    }
}

/// 0 when the packet travels from the key's first endpoint to its second.
fn canonical_direction(key: &FlowKey, info: &PacketInfo) -> u8 {
    let from_first = match (key, info.ip_endpoints()) {
        (FlowKey::Tcp(a, _) | FlowKey::Udp(_, a, _), Some((src, _))) => src == *a,
        (FlowKey::IcmpEcho(_, a, ..) | FlowKey::Ip(_, a, _), Some((src, _))) => src.0 == *a,
        (FlowKey::Link(_, a, _), _) => info.src_mac == *a,
        _ => true,
    };
    if from_first {
        0
    } else {
        1
    }
}

fn new_session(
    number: u64,
    key: FlowKey,
    dir: u8,
    info: &PacketInfo,
    meta: &RecordMeta,
) -> Session {
    // The client is the sender of the first packet, except that a session whose first
    // packet is a SYN-ACK was initiated by that packet's receiver.
    let reversed = matches!(info.kind, PacketKind::Tcp { tcp, .. }
        if tcp.flags & (TcpHeader::SYN | TcpHeader::ACK) == (TcpHeader::SYN | TcpHeader::ACK));
    let (sender, receiver) = peers(info);
    let (client, server, client_dir) = if reversed {
        (receiver, sender, 1 - dir)
    } else {
        (sender, receiver, dir)
    };
    let midstream =
        matches!(info.kind, PacketKind::Tcp { tcp, .. } if tcp.flags & TcpHeader::SYN == 0);
    Session {
        number,
        key,
        client,
        server,
        to_server: Counters::default(),
        to_client: Counters::default(),
        first_ts: None,
        last_ts: None,
        first_record: meta.index,
        last_record: meta.index,
        flags: SessionFlags {
            midstream,
            ..SessionFlags::default()
        },
        community_id: community_id(info),
        vlan: info.vlan,
        interfaces: Interfaces::default(),
        client_dir,
        tcp: TcpTrack::default(),
    }
}

fn peers(info: &PacketInfo) -> (Peer, Peer) {
    let (src, dst) = match info.ip_endpoints() {
        Some(((sa, sp), (da, dp))) => {
            let ported = matches!(info.kind, PacketKind::Tcp { .. } | PacketKind::Udp { .. })
                || matches!(info.kind, PacketKind::Ip { ports: Some(_), .. });
            let ports = match info.kind {
                PacketKind::Ip {
                    ports: Some((a, b)),
                    ..
                } => (a, b),
                _ => (sp, dp),
            };
            (
                (Some(sa), ported.then_some(ports.0)),
                (Some(da), ported.then_some(ports.1)),
            )
        }
        None => ((None, None), (None, None)),
    };
    (
        Peer {
            ip: src.0,
            port: src.1,
            mac: info.src_mac,
        },
        Peer {
            ip: dst.0,
            port: dst.1,
            mac: info.dst_mac,
        },
    )
}

fn community_id(info: &PacketInfo) -> Option<CommunityId> {
    let tuple = match info.kind {
        PacketKind::Tcp { src, dst, tcp } => FlowTuple {
            proto: 6,
            src,
            dst,
            src_port: tcp.src_port,
            dst_port: tcp.dst_port,
        },
        PacketKind::Udp { proto, src, dst } => FlowTuple {
            proto,
            src: src.0,
            dst: dst.0,
            src_port: src.1,
            dst_port: dst.1,
        },
        PacketKind::Icmp {
            proto,
            src,
            dst,
            icmp_type,
            code,
            ..
        } => FlowTuple {
            proto,
            src,
            dst,
            src_port: u16::from(icmp_type),
            dst_port: u16::from(code),
        },
        PacketKind::Ip {
            proto,
            src,
            dst,
            ports,
            broken: false,
        } => {
            let (src_port, dst_port) = ports.unwrap_or((0, 0));
            FlowTuple {
                proto,
                src,
                dst,
                src_port,
                dst_port,
            }
        }
        _ => return None,
    };
    community_id_v1(&tuple, 0).and_then(|id| CommunityId::from_text(&id))
}

fn update(s: &mut Session, dir: u8, to_server: bool, info: &PacketInfo, meta: &RecordMeta) {
    let c = if to_server {
        &mut s.to_server
    } else {
        &mut s.to_client
    };
    c.packets += 1;
    c.bytes += u64::from(meta.orig_len);
    c.captured_bytes += u64::from(meta.caplen);
    if let Some(ts) = meta.ts_ns {
        s.first_ts = Some(s.first_ts.map_or(ts, |f| f.min(ts)));
        s.last_ts = Some(s.last_ts.map_or(ts, |l| l.max(ts)));
    }
    s.last_record = meta.index;
    if meta.caplen < meta.orig_len {
        s.flags.truncated = true;
    }
    if info.fragment {
        s.flags.fragments = true;
    }
    if matches!(info.kind, PacketKind::Ip { broken: true, .. }) {
        s.flags.broken_header = true;
    }
    s.interfaces.add(meta.interface);
    if let PacketKind::Tcp { tcp, .. } = info.kind {
        track_tcp(s, dir, to_server, &tcp);
    }
}

fn track_tcp(s: &mut Session, dir: u8, to_server: bool, tcp: &TcpHeader) {
    let d = usize::from(dir);
    let r = 1 - d;
    let t = &mut s.tcp;
    let syn = tcp.flags & TcpHeader::SYN != 0;
    let ack = tcp.flags & TcpHeader::ACK != 0;
    if syn && ack {
        // A SYN-ACK with another sequence number re-bases its direction (Wireshark
        // issue 16944) without starting a new conversation.
        if let Some(base) = t.base_seq.get_mut(d) {
            if base.is_some_and(|b| b != tcp.seq) {
                *base = Some(tcp.seq);
            }
        }
        if !to_server {
            t.syn_ack = true;
        }
    } else if syn && to_server {
        t.syn = true;
    }
    if tcp.has_segment_len && !tcp.in_fragment {
        if let Some(base) = t.base_seq.get_mut(d) {
            if base.is_none() {
                *base = Some(if syn {
                    tcp.seq
                } else {
                    tcp.seq.wrapping_sub(1)
                });
            }
        }
        if ack {
            if let Some(base) = t.base_seq.get_mut(r) {
                if base.is_none() {
                    *base = Some(tcp.ack.wrapping_sub(1));
                }
            }
        }
    }
    if tcp.flags & TcpHeader::FIN != 0 {
        if let Some(f) = t.fin.get_mut(d) {
            *f = true;
        }
    }
    s.flags.handshake = t.syn && t.syn_ack;
    s.flags.closed_fin = t.fin == [true, true];
    if tcp.flags & TcpHeader::RST != 0 {
        s.flags.closed_rst = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    const C: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
    const S: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));

    fn tcp(from_client: bool, flags: u16, seq: u32, ack: u32) -> PacketInfo {
        let (src, dst, sp, dp) = if from_client {
            (C, S, 40000, 80)
        } else {
            (S, C, 80, 40000)
        };
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
                    seq,
                    ack,
                    flags,
                    has_segment_len: true,
                    in_fragment: false,
                    header_len: 20,
                },
            },
            fragment: false,
        }
    }

    fn udp(from_client: bool) -> PacketInfo {
        let (src, dst) = if from_client {
            ((C, 5000), (S, 53))
        } else {
            ((S, 53), (C, 5000))
        };
        PacketInfo {
            kind: PacketKind::Udp {
                proto: 17,
                src,
                dst,
            },
            ..tcp(true, 0, 0, 0)
        }
    }

    /// `assign` on an in-memory table, which cannot fail.
    trait Put {
        fn put(&mut self, info: &PacketInfo, meta: &RecordMeta) -> Assignment;
    }

    impl Put for SessionTable {
        fn put(&mut self, info: &PacketInfo, meta: &RecordMeta) -> Assignment {
            self.assign(info, meta)
                .expect("an in-memory table does not spill")
        }
    }

    fn meta(index: u64, ts_s: i64) -> RecordMeta {
        RecordMeta {
            index,
            ts_ns: Some(ts_s * 1_000_000_000),
            orig_len: 60,
            caplen: 60,
            interface: 0,
        }
    }

    const SYN: u16 = TcpHeader::SYN;
    const SYNACK: u16 = TcpHeader::SYN | TcpHeader::ACK;
    const ACK: u16 = TcpHeader::ACK;
    const FIN: u16 = TcpHeader::FIN | TcpHeader::ACK;

    #[test]
    fn splits_reused_four_tuple_on_new_isn() {
        let mut t = SessionTable::new(None);
        let run = [
            tcp(true, SYN, 100, 0),
            tcp(false, SYNACK, 500, 101),
            tcp(true, ACK, 101, 501),
            tcp(true, SYN, 100, 0), // retransmitted SYN: same session
            tcp(true, FIN, 101, 501),
            tcp(false, FIN, 501, 102),
            tcp(true, SYN, 9000, 0), // new ISN on the same 4-tuple: new session
            tcp(false, SYNACK, 7000, 9001),
        ];
        let got: Vec<usize> = run
            .iter()
            .enumerate()
            .map(|(i, p)| t.put(p, &meta(i as u64, i as i64)).session)
            .collect();
        assert_eq!(got, vec![0, 0, 0, 0, 0, 0, 1, 1]);
        let s = t.sessions().get(0).expect("session 0");
        assert!(s.flags.handshake && s.flags.closed_fin && !s.flags.midstream);
        assert_eq!((s.to_server.packets, s.to_client.packets), (4, 2));
        assert_eq!(s.client.ip, Some(C));
    }

    #[test]
    fn splits_midstream_connection_on_later_syn() {
        let mut t = SessionTable::new(None);
        let a = t.put(&tcp(true, ACK, 1000, 2000), &meta(0, 0));
        // Base sequence of the client side is 999, so this SYN is a new connection.
        let b = t.put(&tcp(true, SYN, 5, 0), &meta(1, 1));
        assert_ne!(a.session, b.session);
        assert!(t.sessions().get(0).expect("session 0").flags.midstream);
    }

    #[test]
    fn makes_receiver_of_first_syn_ack_the_client() {
        let mut t = SessionTable::new(None);
        let a = t.put(&tcp(false, SYNACK, 500, 101), &meta(0, 0));
        assert!(!a.to_server);
        let s = t.sessions().get(0).expect("session 0");
        assert_eq!((s.client.ip, s.client.port), (Some(C), Some(40000)));
        assert_eq!((s.server.ip, s.server.port), (Some(S), Some(80)));
        let b = t.put(&tcp(true, ACK, 101, 501), &meta(1, 0));
        assert!(b.to_server && b.session == a.session);
    }

    #[test]
    fn keeps_udp_together_unless_idle_timeout() {
        let mut t = SessionTable::new(None);
        let got: Vec<usize> = [(true, 0), (false, 1), (true, 500)]
            .iter()
            .enumerate()
            .map(|(i, &(c, ts))| t.put(&udp(c), &meta(i as u64, ts)).session)
            .collect();
        assert_eq!(got, vec![0, 0, 0]);
        let mut t = SessionTable::new(Some(60_000_000_000));
        let got: Vec<usize> = [(true, 0), (false, 1), (true, 500), (false, 501)]
            .iter()
            .enumerate()
            .map(|(i, &(c, ts))| t.put(&udp(c), &meta(i as u64, ts)).session)
            .collect();
        assert_eq!(got, vec![0, 0, 1, 1]);
    }

    #[test]
    fn computes_community_id_from_first_packet() {
        let mut t = SessionTable::new(None);
        t.put(&tcp(true, SYN, 1, 0), &meta(0, 0));
        let id = t
            .sessions()
            .get(0)
            .expect("session 0")
            .community_id
            .expect("defined for TCP");
        assert!(id.as_str().starts_with("1:"));
        assert_eq!(id.as_str().len(), 30);
        let mut t2 = SessionTable::new(None);
        t2.put(&tcp(false, SYNACK, 1, 2), &meta(0, 0));
        assert_eq!(
            t2.sessions().get(0).expect("session 0").community_id,
            Some(id)
        );
    }
}
