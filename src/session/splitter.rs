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
    /// All sessions, numbered by first packet.
    pub sessions: Vec<Session>,
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

/// Splits a capture in one pass; see the module documentation.
pub fn split<S: Sink>(
    reader: &mut CaptureReader,
    options: &SplitOptions,
    sink: &mut S,
) -> Result<SplitResult, S::Error> {
    let mut pass = Pass {
        table: SessionTable::new(options.udp_idle_timeout_ns),
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
    ) -> Result<(), S::Error> {
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
    ) -> Result<(), S::Error> {
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
    ) -> Result<(), S::Error> {
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
    ) -> Result<(), S::Error> {
        let meta = RecordMeta {
            index: record.index,
            ts_ns: record.ts_ns,
            orig_len: record.orig_len,
            caplen: record.data.len() as u32,
            interface: record.interface,
        };
        let assignment = self.table.assign(info, &meta);
        match self.table.sessions().get(assignment.session) {
            Some(session) => sink.packet(assignment, session, record, interfaces, sections),
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
    let mut scratch = Decoded {
        src_mac: None,
        dst_mac: None,
        vlan: None,
        layer: Layer::Undecodable,
    };
    let mut whole = ip.clone();
    whole.fragment = None;
    let inner = decode::transport(whole, data, len as usize, &mut scratch, 0);
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
