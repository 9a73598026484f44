//! The single pass: records in, sessions out.
//!
//! Every record is decoded, summarised ([`PacketInfo`]) and assigned to a session by the
//! [`SessionTable`], in capture order, then handed to a [`Sink`] (files on disk, or nothing
//! for a listing). IP fragments follow their datagram, as tshark's reassembly does: the
//! fragments of a datagram are held back until it is complete and then all go to the
//! session of the transport header in its first fragment. While anything is held back, later
//! records are held too, so every session still receives its packets in capture order. A
//! datagram that never completes (a fragment missing or cut by the snaplen, or the hold limits
//! in [`Limits`] reached) leaves its fragments in the protocol-and-address session, where
//! tshark leaves them outside any stream.

use std::collections::VecDeque;
use std::net::IpAddr;

use hashbrown::HashMap;

use super::key::{PacketInfo, PacketKind};
use super::spill::{Sessions, SpillError};
use super::table::{Assignment, RecordMeta, Session, SessionTable};
use crate::capture::decode::{self, Decoded, Layer};
use crate::capture::reader::CaptureReader;
use crate::capture::{Damage, Interface, OwnedRecord, Record, Section};
use crate::limits::Limits;

/// Receives every packet with its session, in capture order.
pub trait Sink {
    /// The error a sink can fail with (an I/O error for files).
    type Error;
    /// One packet of `session`; `assignment.new` is set for its first packet.
    fn packet(
        &mut self,
        assignment: Assignment,
        session: &Session,
        record: &Record<'_>,
        interfaces: &[Interface],
        sections: &[Section],
    ) -> Result<(), Self::Error>;
}

/// A sink that keeps nothing (for listing sessions without writing files).
pub struct NullSink;

impl Sink for NullSink {
    type Error = std::convert::Infallible;
    fn packet(
        &mut self,
        _: Assignment,
        _: &Session,
        _: &Record<'_>,
        _: &[Interface],
        _: &[Section],
    ) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// Settings of one split.
#[derive(Debug, Clone, Default)]
pub struct SplitOptions {
    /// Split a UDP flow after this much silence (nanoseconds); `None` as tshark.
    pub udp_idle_timeout_ns: Option<i64>,
    /// Caps.
    pub limits: Limits,
    /// Do not collect application facts (DNS, HTTP, TLS, services): for measuring their cost.
    pub skip_facts: bool,
}

/// Anomalies counted during the pass, under stable names.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Anomalies {
    /// IP datagrams whose fragments were all seen and followed their datagram.
    pub reassembled_datagrams: u64,
    /// IP datagrams that never completed (their fragments stay in the address session).
    pub incomplete_datagrams: u64,
    /// Datagrams given up early because the hold limits were reached.
    pub fragment_holds_expired: u64,
    /// Packets whose link layer could not be decoded.
    pub undecodable_frames: u64,
    /// Packets with a TCP or UDP header cut short or invalid.
    pub broken_transport_headers: u64,
}

/// What one pass produced.
#[derive(Debug)]
pub struct SplitResult {
    /// All sessions, numbered by first packet (some perhaps spilled to disk).
    pub sessions: Sessions,
    /// Packet records read.
    pub packets: u64,
    /// Earliest and latest timestamps.
    pub first_ts: Option<i64>,
    /// See `first_ts`.
    pub last_ts: Option<i64>,
    /// Bytes on the wire.
    pub bytes: u64,
    /// Damage that ended the read early.
    pub damage: Option<Damage>,
    /// Anomalies.
    pub anomalies: Anomalies,
}

/// Fragments of one IP datagram seen so far.
struct Datagram {
    /// Held-queue sequence numbers of its fragments.
    members: Vec<u64>,
    /// (offset, end) of each fragment's data.
    ranges: Vec<(u32, u32)>,
    /// Datagram length, once the last fragment is seen.
    total: Option<u32>,
    /// The transport found in the first fragment.
    first: Option<PacketKind>,
    first_ts: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct DatagramKey {
    src: IpAddr,
    dst: IpAddr,
    proto: u8,
    id: u32,
    vlan: u16,
}

struct Held {
    record: OwnedRecord,
    info: PacketInfo,
    waiting: Option<DatagramKey>,
}

/// Why a pass stopped: its sink failed, or the session spill file did.
#[derive(Debug, thiserror::Error)]
pub enum SplitFailure<E> {
    /// The sink's error.
    #[error(transparent)]
    Sink(E),
    /// The spill file's error.
    #[error(transparent)]
    Spill(#[from] SpillError),
}

/// Splits a capture in one pass, every session held in memory; see the module documentation.
pub fn split<S: Sink>(
    reader: &mut CaptureReader,
    options: &SplitOptions,
    sink: &mut S,
) -> Result<SplitResult, SplitFailure<S::Error>> {
    split_with(reader, options, Sessions::in_memory(), sink)
}

/// [`split`], keeping the sessions in `sessions` (which may spill to disk).
pub fn split_with<S: Sink>(
    reader: &mut CaptureReader,
    options: &SplitOptions,
    sessions: Sessions,
    sink: &mut S,
) -> Result<SplitResult, SplitFailure<S::Error>> {
    let mut pass = Pass {
        table: SessionTable::with_store(options.udp_idle_timeout_ns, sessions),
        limits: options.limits.clone(),
        held: VecDeque::new(),
        held_base: 0,
        held_bytes: 0,
        datagrams: HashMap::with_hasher(foldhash::fast::RandomState::default()),
        anomalies: Anomalies::default(),
    };
    let mut packets = 0u64;
    let mut bytes = 0u64;
    let mut first_ts: Option<i64> = None;
    let mut last_ts: Option<i64> = None;
    while let Some((record, interfaces, sections)) = reader.next_with_context() {
        packets += 1;
        bytes += u64::from(record.orig_len);
        if let Some(ts) = record.ts_ns {
            first_ts = Some(first_ts.map_or(ts, |f| f.min(ts)));
            last_ts = Some(last_ts.map_or(ts, |l| l.max(ts)));
        }
        let link = interfaces
            .get(record.interface as usize)
            .map(|i| i.link_type)
            .unwrap_or(crate::capture::LinkType(u16::MAX));
        let decoded = decode::decode(link, record.data);
        pass.offer(link, &decoded, &record, interfaces, sections, sink)?;
    }
    let interfaces = reader.interfaces();
    let sections = reader.sections();
    pass.expire_all(interfaces, sections, sink)?;
    Ok(SplitResult {
        sessions: pass.table.into_sessions(),
        packets,
        first_ts,
        last_ts,
        bytes,
        damage: reader.damage().cloned(),
        anomalies: pass.anomalies,
    })
}

struct Pass {
    table: SessionTable,
    limits: Limits,
    held: VecDeque<Held>,
    /// Sequence number of `held[0]`.
    held_base: u64,
    held_bytes: usize,
    datagrams: HashMap<DatagramKey, Datagram, foldhash::fast::RandomState>,
    anomalies: Anomalies,
}

impl Pass {
    fn offer<S: Sink>(
        &mut self,
        link: crate::capture::LinkType,
        decoded: &Decoded<'_>,
        record: &Record<'_>,
        interfaces: &[Interface],
        sections: &[Section],
        sink: &mut S,
    ) -> Result<(), SplitFailure<S::Error>> {
        let mut info = PacketInfo::from_decoded(link, decoded);
        match info.kind {
            PacketKind::Other(_) => self.anomalies.undecodable_frames += 1,
            PacketKind::Ip { broken: true, .. } => self.anomalies.broken_transport_headers += 1,
            _ => {}
        }
        let mut waiting = None;
        if let Layer::Ip(ip) = &decoded.layer {
            if let Some(frag) = &ip.fragment {
                if frag.captured_whole {
                    let key = DatagramKey {
                        src: ip.src,
                        dst: ip.dst,
                        proto: ip.proto,
                        id: frag.id,
                        vlan: reassembly_vlan(ip.src, ip.dst, decoded.vlan),
                    };
                    waiting = Some(key);
                } else if frag.offset == 0 && ip.src.is_ipv4() {
                    // Wireshark dissects an IPv4 first fragment it cannot reassemble for
                    // whatever its header shows.
                    info.kind = first_fragment_kind(ip, frag.data, frag.len, true);
                }
            }
        }
        if self.held.is_empty() && waiting.is_none() {
            return self.deliver(&info, record, interfaces, sections, sink);
        }
        let seq = self.held_base + self.held.len() as u64;
        let owned = record.to_owned_record();
        self.held_bytes += owned.held_bytes();
        self.held.push_back(Held {
            record: owned,
            info,
            waiting,
        });
        if let (Some(key), Layer::Ip(ip)) = (waiting, &decoded.layer) {
            if let Some(frag) = &ip.fragment {
                let dg = self.datagrams.entry(key).or_insert_with(|| Datagram {
                    members: Vec::new(),
                    ranges: Vec::new(),
                    total: None,
                    first: None,
                    first_ts: record.ts_ns,
                });
                dg.members.push(seq);
                let end = frag.offset.saturating_add(frag.len);
                dg.ranges.push((frag.offset, end));
                if !frag.more {
                    dg.total = Some(end);
                }
                if frag.offset == 0 {
                    dg.first = Some(first_fragment_kind(ip, frag.data, frag.len, false));
                }
                if is_complete(dg) {
                    self.resolve(key, true);
                }
            }
        }
        self.enforce_limits(record.ts_ns);
        self.drain(interfaces, sections, sink)
    }

    /// Gives a datagram's held fragments their final session kind.
    fn resolve(&mut self, key: DatagramKey, complete: bool) {
        let Some(dg) = self.datagrams.remove(&key) else {
            return;
        };
        if complete {
            self.anomalies.reassembled_datagrams += 1;
        } else {
            self.anomalies.incomplete_datagrams += 1;
        }
        for seq in dg.members {
            let Some(h) = seq
                .checked_sub(self.held_base)
                .and_then(|i| self.held.get_mut(i as usize))
            else {
                continue;
            };
            h.waiting = None;
            if complete {
                if let Some(kind) = dg.first {
                    h.info.kind = kind;
                }
            }
        }
    }

    fn enforce_limits(&mut self, now: Option<i64>) {
        loop {
            let over = self.held.len() > self.limits.max_held_records
                || self.held_bytes > self.limits.max_held_bytes;
            let Some(front) = self.held.front() else {
                return;
            };
            let Some(key) = front.waiting else {
                return;
            };
            let stale = match (now, self.datagrams.get(&key).and_then(|d| d.first_ts)) {
                (Some(now), Some(first)) => {
                    now.saturating_sub(first) > self.limits.fragment_timeout_ns
                }
                _ => false,
            };
            if !over && !stale {
                return;
            }
            self.anomalies.fragment_holds_expired += 1;
            self.resolve(key, false);
            // Anything now ready at the front is drained by the caller.
            if self.held.front().is_some_and(|h| h.waiting.is_none()) {
                return;
            }
        }
    }

    fn drain<S: Sink>(
        &mut self,
        interfaces: &[Interface],
        sections: &[Section],
        sink: &mut S,
    ) -> Result<(), SplitFailure<S::Error>> {
        loop {
            while self.held.front().is_some_and(|h| h.waiting.is_none()) {
                let Some(h) = self.held.pop_front() else {
                    break;
                };
                self.held_base += 1;
                self.held_bytes = self.held_bytes.saturating_sub(h.record.held_bytes());
                self.deliver(&h.info, &h.record.as_record(), interfaces, sections, sink)?;
            }
            if self.held.is_empty() {
                return Ok(());
            }
            // The front waits on a datagram: give it up if it is over the limits.
            let expired = self.anomalies.fragment_holds_expired;
            self.enforce_limits(None);
            if self.anomalies.fragment_holds_expired == expired {
                return Ok(());
            }
        }
    }

    fn expire_all<S: Sink>(
        &mut self,
        interfaces: &[Interface],
        sections: &[Section],
        sink: &mut S,
    ) -> Result<(), SplitFailure<S::Error>> {
        let keys: Vec<DatagramKey> = self.held.iter().filter_map(|h| h.waiting).collect();
        for key in keys {
            if self.datagrams.contains_key(&key) {
                self.resolve(key, false);
            }
        }
        self.drain(interfaces, sections, sink)
    }

    fn deliver<S: Sink>(
        &mut self,
        info: &PacketInfo,
        record: &Record<'_>,
        interfaces: &[Interface],
        sections: &[Section],
        sink: &mut S,
    ) -> Result<(), SplitFailure<S::Error>> {
        let meta = RecordMeta {
            index: record.index,
            ts_ns: record.ts_ns,
            orig_len: record.orig_len,
            caplen: record.data.len() as u32,
            interface: record.interface,
        };
        let assignment = self.table.assign(info, &meta)?;
        match self.table.sessions().get(assignment.session) {
            Some(session) => sink
                .packet(assignment, session, record, interfaces, sections)
                .map_err(SplitFailure::Sink),
            None => Ok(()),
        }
    }
}

/// The transport of a first fragment, decoded from its data (tunnels included).
fn first_fragment_kind(
    ip: &decode::IpLayer<'_>,
    data: &[u8],
    len: u32,
    unreassembled: bool,
) -> PacketKind {
    let mut whole = ip.clone();
    whole.fragment = None;
    let inner = decode::transport(whole, data, len as usize, 0);
    let mut kind = PacketKind::from_ip(&inner);
    if let PacketKind::Tcp { tcp, .. } = &mut kind {
        tcp.in_fragment = unreassembled;
    }
    kind
}

/// Wireshark mixes the VLAN ID into the IPv4 reassembly key when either address is private
/// or link-local (epan/dissectors/packet-ip.c).
fn reassembly_vlan(src: IpAddr, dst: IpAddr, vlan: Option<u16>) -> u16 {
    let local = |a: IpAddr| match a {
        IpAddr::V4(v4) => v4.is_private() || v4.is_link_local(),
        IpAddr::V6(_) => false,
    };
    if local(src) || local(dst) {
        vlan.unwrap_or(0)
    } else {
        0
    }
}

fn is_complete(dg: &mut Datagram) -> bool {
    let Some(total) = dg.total else {
        return false;
    };
    dg.ranges.sort_unstable();
    let mut covered = 0u32;
    for &(start, end) in &dg.ranges {
        if start > covered {
            return false;
        }
        covered = covered.max(end);
        if covered >= total {
            return true;
        }
    }
    covered >= total
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::reader::CaptureReader;

    /// Records (record index, session number) of every delivered packet.
    struct Recorder(Vec<(u64, usize)>);

    impl Sink for Recorder {
        type Error = std::convert::Infallible;
        fn packet(
            &mut self,
            a: Assignment,
            _: &Session,
            r: &Record<'_>,
            _: &[Interface],
            _: &[Section],
        ) -> Result<(), Self::Error> {
            self.0.push((r.index, a.session));
            Ok(())
        }
    }

    /// A raw IPv4 packet (link type 228): UDP payload or a fragment of one.
    fn ipv4(id: u16, frag_offset_units: u16, more: bool, payload: &[u8]) -> Vec<u8> {
        let total = 20 + payload.len() as u16;
        let flags = (if more { 0x2000 } else { 0 }) | frag_offset_units;
        let mut p = vec![0x45, 0];
        p.extend_from_slice(&total.to_be_bytes());
        p.extend_from_slice(&id.to_be_bytes());
        p.extend_from_slice(&flags.to_be_bytes());
        p.extend_from_slice(&[64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
        p.extend_from_slice(payload);
        p
    }

    fn udp(len: u16) -> Vec<u8> {
        let mut u = vec![0x03, 0xe8, 0x00, 0x35];
        u.extend_from_slice(&len.to_be_bytes());
        u.extend_from_slice(&[0, 0]);
        u
    }

    fn pcap(frames: &[Vec<u8>]) -> Vec<u8> {
        let mut f = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        f.extend_from_slice(&65535u32.to_le_bytes());
        f.extend_from_slice(&228u32.to_le_bytes());
        for (i, fr) in frames.iter().enumerate() {
            f.extend_from_slice(&(i as u32).to_le_bytes());
            f.extend_from_slice(&0u32.to_le_bytes());
            f.extend_from_slice(&(fr.len() as u32).to_le_bytes());
            f.extend_from_slice(&(fr.len() as u32).to_le_bytes());
            f.extend_from_slice(fr);
        }
        f
    }

    fn run(frames: &[Vec<u8>], limits: Limits) -> (Vec<(u64, usize)>, SplitResult) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("f.pcap");
        std::fs::write(&path, pcap(frames)).expect("write");
        let mut reader = CaptureReader::open(&path, &limits).expect("open");
        let mut rec = Recorder(Vec::new());
        let options = SplitOptions {
            udp_idle_timeout_ns: None,
            limits,
            skip_facts: false,
        };
        let result =
            split(&mut reader, &options, &mut rec).expect("an in-memory split cannot fail");
        (rec.0, result)
    }

    #[test]
    fn follows_out_of_order_fragments_and_keeps_order() {
        let first = udp(16);
        let frames = vec![
            ipv4(1, 0, false, &udp(8)),    // 0: plain datagram of the flow
            ipv4(7, 1, false, &[0xaa; 8]), // 1: last fragment of datagram 7, first to arrive
            ipv4(2, 0, false, &udp(8)),    // 2: the flow again, while 7 is incomplete
            ipv4(7, 0, true, &first),      // 3: first fragment (UDP header): 7 completes
            ipv4(9, 0, true, &udp(16)),    // 4: datagram 9 never completes
        ];
        let (got, result) = run(&frames, Limits::default());
        assert_eq!(got, vec![(0, 0), (1, 0), (2, 0), (3, 0), (4, 1)]);
        assert_eq!(result.anomalies.reassembled_datagrams, 1);
        assert_eq!(result.anomalies.incomplete_datagrams, 1);
        let frag = result.sessions.get(1).expect("session 1");
        assert!(matches!(frag.key, crate::session::key::FlowKey::Ip(17, ..)));
        assert!(frag.flags.fragments);
    }

    #[test]
    fn gives_up_on_fragments_past_the_hold_limit() {
        let mut frames = vec![ipv4(7, 1, false, &[0xaa; 8])];
        for i in 0..10 {
            frames.push(ipv4(100 + i, 0, false, &udp(8)));
        }
        frames.push(ipv4(7, 0, true, &udp(16)));
        let limits = Limits {
            max_held_records: 4,
            ..Limits::default()
        };
        let (got, result) = run(&frames, limits);
        // Every record delivered exactly once, in capture order.
        let order: Vec<u64> = got.iter().map(|(r, _)| *r).collect();
        assert_eq!(order, (0..12).collect::<Vec<u64>>());
        assert_eq!(result.anomalies.fragment_holds_expired, 1);
        // The abandoned fragment is not in the UDP flow's session.
        assert_ne!(got[0].1, got[1].1);
    }
}
