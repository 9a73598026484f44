//! Every session of a pass, in memory up to a budget and in a spill file beyond it.
//!
//! A session can receive packets until the capture ends (UDP never ends, as in tshark's
//! `udp.stream`), so its record must be kept until the index is written. A million short
//! sessions are 300 MB of records; holding them all would make memory grow with the
//! capture. Instead the records live in chunks of consecutive session numbers, and only
//! [`Sessions::resident_chunks`] of them stay in memory. When another is needed, the chunk
//! the CLOCK algorithm picks (the oldest one not touched since it was last considered; sessions
//! are numbered by first packet, so old chunks are nearly always finished) is encoded into the
//! spill file, and read back if a packet of one of its sessions arrives later.
//!
//! The flow keys stay in memory for every session (the session table looks packets up by
//! them), at 42 bytes each. The spill file is anonymous: it vanishes with the process, and
//! nothing of it is ever seen in an output directory.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use super::community_id::CommunityId;
use super::key::FlowKey;
use super::table::{Counters, Interfaces, Peer, Session, SessionFlags, TcpTrack};
use crate::capture::decode::{LinkProto, Mac};
use crate::capture::LinkType;

/// Sessions per chunk (a chunk is the unit written to and read from the spill file).
const CHUNK_SESSIONS: usize = 1024;

/// The spill file failed.
#[derive(Debug, thiserror::Error)]
#[error("{}: session spill file: {what}: {source}", dir.display())]
pub struct SpillError {
    /// The directory the spill file is in.
    pub dir: PathBuf,
    /// What was being done.
    pub what: &'static str,
    /// The underlying error.
    pub source: io::Error,
}

struct Chunk {
    /// The records, when resident (empty otherwise).
    sessions: Vec<Session>,
    resident: bool,
    /// Touched since the CLOCK hand last passed.
    referenced: bool,
    /// Where its last spilled copy is: offset and length in the spill file, and the room
    /// there (a chunk written again reuses its place when it still fits).
    stored: Option<(u64, usize, usize)>,
}

struct Spill {
    dir: PathBuf,
    file: File,
    end: u64,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions")
            .field("len", &self.len())
            .field("resident_chunks", &self.clock.len())
            .field("spilled", &self.spill.as_ref().map_or(0, |s| s.end))
            .finish()
    }
}

/// All sessions of a pass; see the module documentation.
pub struct Sessions {
    keys: Vec<FlowKey>,
    chunks: Vec<Chunk>,
    /// Sessions per chunk, a power of two: `1 << chunk_shift` (the index arithmetic runs
    /// three times a packet).
    chunk_shift: u32,
    chunk_len: usize,
    max_resident: usize,
    /// Chunks written to and read back from the spill file so far.
    writes: u64,
    reads: u64,
    /// Resident chunks, in the order the CLOCK hand visits them.
    clock: VecDeque<usize>,
    spill: Option<Spill>,
    scratch: Vec<u8>,
}

impl Sessions {
    /// Sessions that all stay in memory.
    pub fn in_memory() -> Sessions {
        Sessions::with(CHUNK_SESSIONS, usize::MAX, None)
    }

    /// Sessions that keep about `resident_sessions` records in memory and spill the rest into
    /// an anonymous file in `dir`.
    pub fn spilling(dir: &Path, resident_sessions: usize) -> Result<Sessions, SpillError> {
        let file = tempfile::tempfile_in(dir).map_err(|source| SpillError {
            dir: dir.to_path_buf(),
            what: "cannot create",
            source,
        })?;
        // Small budgets (tests) get small chunks, so that they spill at all.
        let chunk_len = CHUNK_SESSIONS.min(prev_power_of_two((resident_sessions / 8).max(1)));
        let max_resident = (resident_sessions / chunk_len).max(2);
        Ok(Sessions::with(
            chunk_len,
            max_resident,
            Some(Spill {
                dir: dir.to_path_buf(),
                file,
                end: 0,
            }),
        ))
    }

    fn with(chunk_len: usize, max_resident: usize, spill: Option<Spill>) -> Sessions {
        let chunk_len = prev_power_of_two(chunk_len);
        Sessions {
            keys: Vec::new(),
            chunks: Vec::new(),
            chunk_shift: chunk_len.trailing_zeros(),
            chunk_len,
            max_resident,
            writes: 0,
            reads: 0,
            clock: VecDeque::new(),
            spill,
            scratch: Vec::new(),
        }
    }

    /// Number of sessions.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// No sessions.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Chunks held in memory at most.
    pub fn resident_chunks(&self) -> usize {
        self.max_resident
    }

    /// Chunks written to the spill file, and read back from it, so far.
    pub fn spill_traffic(&self) -> (u64, u64) {
        (self.writes, self.reads)
    }

    /// The flow key of session `i` (always in memory).
    pub fn key(&self, i: usize) -> Option<&FlowKey> {
        self.keys.get(i)
    }

    /// Adds a session (its number must be [`Sessions::len`]) and returns its index.
    pub fn push(&mut self, session: Session) -> Result<usize, SpillError> {
        let idx = self.keys.len();
        let c = idx >> self.chunk_shift;
        if c == self.chunks.len() {
            self.make_room(c)?;
            self.chunks.push(Chunk {
                sessions: Vec::with_capacity(self.chunk_len),
                resident: true,
                referenced: true,
                stored: None,
            });
            self.clock.push_back(c);
        } else {
            self.page_in(c)?;
        }
        self.keys.push(session.key);
        if let Some(chunk) = self.chunks.get_mut(c) {
            chunk.sessions.push(session);
        }
        Ok(idx)
    }

    /// Session `i` if its chunk is in memory (the one just assigned a packet always is).
    pub fn get(&self, i: usize) -> Option<&Session> {
        let chunk = self.chunks.get(i >> self.chunk_shift)?;
        chunk.sessions.get(i & (self.chunk_len - 1))
    }

    /// Session `i`, read back from the spill file first if needed.
    pub fn get_mut(&mut self, i: usize) -> Result<Option<&mut Session>, SpillError> {
        let c = i >> self.chunk_shift;
        if c >= self.chunks.len() {
            return Ok(None);
        }
        self.page_in(c)?;
        let mask = self.chunk_len - 1;
        Ok(self
            .chunks
            .get_mut(c)
            .and_then(|chunk| chunk.sessions.get_mut(i & mask)))
    }

    /// Calls `f` on every session in order, reading spilled chunks back one at a time
    /// (without keeping them).
    pub fn try_for_each<E: From<SpillError>>(
        &self,
        mut f: impl FnMut(&Session) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut buf = Vec::new();
        for chunk in &self.chunks {
            if chunk.resident {
                for s in &chunk.sessions {
                    f(s)?;
                }
            } else {
                for s in self.read_chunk(chunk, &mut buf)? {
                    f(&s)?;
                }
            }
        }
        Ok(())
    }

    /// Every session in order, spilled ones read back chunk by chunk. An I/O error reading
    /// the spill file ends the iteration early, so code that must see every session (the
    /// index writer) uses [`Sessions::try_for_each`]; for a store that never spilled, as
    /// [`Sessions::in_memory`] is, this cannot happen.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            store: self,
            chunk: 0,
            at: 0,
            loaded: Vec::new(),
        }
    }

    fn page_in(&mut self, c: usize) -> Result<(), SpillError> {
        match self.chunks.get_mut(c) {
            Some(chunk) if chunk.resident => {
                chunk.referenced = true;
                return Ok(());
            }
            Some(_) => {}
            None => return Ok(()),
        }
        self.make_room(c)?;
        let mut buf = std::mem::take(&mut self.scratch);
        let sessions = match self.chunks.get(c) {
            Some(chunk) => self.read_chunk(chunk, &mut buf)?,
            None => Vec::new(),
        };
        self.scratch = buf;
        self.reads += 1;
        if let Some(chunk) = self.chunks.get_mut(c) {
            chunk.sessions = sessions;
            chunk.resident = true;
            chunk.referenced = true;
        }
        self.clock.push_back(c);
        Ok(())
    }

    /// Spills chunks until one more fits in memory (never `keep`).
    fn make_room(&mut self, keep: usize) -> Result<(), SpillError> {
        // Each pass of the hand clears a reference bit or evicts, so this ends.
        let mut turns = 2 * self.clock.len() + 1;
        while self.clock.len() >= self.max_resident && turns > 0 {
            turns -= 1;
            let Some(c) = self.clock.pop_front() else {
                break;
            };
            let Some(chunk) = self.chunks.get_mut(c) else {
                continue;
            };
            if c == keep || chunk.referenced {
                chunk.referenced = false;
                self.clock.push_back(c);
                continue;
            }
            self.evict(c)?;
        }
        Ok(())
    }

    fn evict(&mut self, c: usize) -> Result<(), SpillError> {
        let Some(spill) = self.spill.as_mut() else {
            // Nowhere to spill: stay in memory.
            self.clock.push_back(c);
            return Ok(());
        };
        let Some(chunk) = self.chunks.get_mut(c) else {
            return Ok(());
        };
        let buf = &mut self.scratch;
        buf.clear();
        for s in &chunk.sessions {
            encode(s, buf);
        }
        let (offset, room) = match chunk.stored {
            Some((offset, _, room)) if room >= buf.len() => (offset, room),
            _ => (spill.end, buf.len()),
        };
        let err = |what: &'static str, dir: &Path| {
            let dir = dir.to_path_buf();
            move |source| SpillError { dir, what, source }
        };
        spill
            .file
            .seek(SeekFrom::Start(offset))
            .and_then(|_| spill.file.write_all(buf))
            .map_err(err("cannot write", &spill.dir))?;
        if offset == spill.end {
            spill.end += buf.len() as u64;
        }
        chunk.stored = Some((offset, buf.len(), room));
        self.writes += 1;
        chunk.sessions = Vec::new();
        chunk.resident = false;
        chunk.referenced = false;
        Ok(())
    }

    fn read_chunk(&self, chunk: &Chunk, buf: &mut Vec<u8>) -> Result<Vec<Session>, SpillError> {
        let (Some(spill), Some((offset, len, _))) = (self.spill.as_ref(), chunk.stored) else {
            return Ok(Vec::new());
        };
        let fail = |what: &'static str, source: io::Error| SpillError {
            dir: spill.dir.clone(),
            what,
            source,
        };
        buf.clear();
        buf.resize(len, 0);
        let mut file = &spill.file;
        file.seek(SeekFrom::Start(offset))
            .and_then(|_| file.read_exact(buf))
            .map_err(|e| fail("cannot read back", e))?;
        let mut input: &[u8] = buf;
        let mut sessions = Vec::with_capacity(self.chunk_len);
        while !input.is_empty() {
            match decode(&mut input) {
                Some(s) => sessions.push(s),
                None => {
                    return Err(fail(
                        "corrupt",
                        io::Error::new(io::ErrorKind::InvalidData, "a record does not decode"),
                    ))
                }
            }
        }
        Ok(sessions)
    }
}

/// See [`Sessions::iter`].
pub struct Iter<'a> {
    store: &'a Sessions,
    chunk: usize,
    at: usize,
    /// The current chunk's records when it was read back from the spill file.
    loaded: Vec<Session>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = Cow<'a, Session>;

    fn next(&mut self) -> Option<Cow<'a, Session>> {
        loop {
            let chunk = self.store.chunks.get(self.chunk)?;
            if chunk.resident {
                if let Some(s) = chunk.sessions.get(self.at) {
                    self.at += 1;
                    return Some(Cow::Borrowed(s));
                }
            } else {
                if self.at == 0 {
                    let mut buf = Vec::new();
                    let mut loaded = self.store.read_chunk(chunk, &mut buf).ok()?;
                    loaded.reverse();
                    self.loaded = loaded;
                }
                if let Some(s) = self.loaded.pop() {
                    self.at += 1;
                    return Some(Cow::Owned(s));
                }
            }
            self.chunk += 1;
            self.at = 0;
        }
    }
}

impl<'a> IntoIterator for &'a Sessions {
    type Item = Cow<'a, Session>;
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

/// The largest power of two not above `n` (1 for 0).
fn prev_power_of_two(n: usize) -> usize {
    match n {
        0 | 1 => 1,
        n => 1 << (usize::BITS - 1 - n.leading_zeros()),
    }
}

// ---------------------------------------------------------------------------------------------
// The record codec: little-endian, every field in order, options as a presence byte.

fn put_u8(out: &mut Vec<u8>, v: u8) {
    out.push(v);
}
fn put_u16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}
fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}
fn put_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}
fn put_opt<T>(out: &mut Vec<u8>, v: &Option<T>, put: impl Fn(&mut Vec<u8>, &T)) {
    match v {
        Some(x) => {
            out.push(1);
            put(out, x);
        }
        None => out.push(0),
    }
}
fn put_ip(out: &mut Vec<u8>, ip: &IpAddr) {
    match ip {
        IpAddr::V4(a) => {
            out.push(4);
            out.extend_from_slice(&a.octets());
        }
        IpAddr::V6(a) => {
            out.push(6);
            out.extend_from_slice(&a.octets());
        }
    }
}
fn put_mac(out: &mut Vec<u8>, m: &Mac) {
    out.extend_from_slice(m);
}
fn put_endpoint(out: &mut Vec<u8>, e: &(IpAddr, u16)) {
    put_ip(out, &e.0);
    put_u16(out, e.1);
}

fn put_key(out: &mut Vec<u8>, k: &FlowKey) {
    match k {
        FlowKey::Tcp(a, b) => {
            out.push(0);
            put_endpoint(out, a);
            put_endpoint(out, b);
        }
        FlowKey::Udp(p, a, b) => {
            out.push(1);
            put_u8(out, *p);
            put_endpoint(out, a);
            put_endpoint(out, b);
        }
        FlowKey::IcmpEcho(p, a, b, id) => {
            out.push(2);
            put_u8(out, *p);
            put_ip(out, a);
            put_ip(out, b);
            put_u16(out, *id);
        }
        FlowKey::Ip(p, a, b) => {
            out.push(3);
            put_u8(out, *p);
            put_ip(out, a);
            put_ip(out, b);
        }
        FlowKey::Link(proto, a, b) => {
            out.push(4);
            match proto {
                LinkProto::EtherType(t) => {
                    out.push(0);
                    put_u16(out, *t);
                }
                LinkProto::Llc(d) => {
                    out.push(1);
                    put_u8(out, *d);
                }
                LinkProto::Ppp(p) => {
                    out.push(2);
                    put_u16(out, *p);
                }
                LinkProto::Wlan => out.push(3),
            }
            put_opt(out, a, put_mac);
            put_opt(out, b, put_mac);
        }
        FlowKey::Other(t) => {
            out.push(5);
            put_u16(out, t.0);
        }
    }
}

fn put_peer(out: &mut Vec<u8>, p: &Peer) {
    put_opt(out, &p.ip, put_ip);
    put_opt(out, &p.port, |o, v| put_u16(o, *v));
    put_opt(out, &p.mac, put_mac);
}

fn put_counters(out: &mut Vec<u8>, c: &Counters) {
    put_u64(out, c.packets);
    put_u64(out, c.bytes);
    put_u64(out, c.captured_bytes);
}

fn flag_bits(f: &SessionFlags) -> u8 {
    [
        f.handshake,
        f.midstream,
        f.closed_fin,
        f.closed_rst,
        f.truncated,
        f.fragments,
        f.broken_header,
    ]
    .iter()
    .enumerate()
    .fold(0, |bits, (i, &set)| bits | (u8::from(set) << i))
}

/// The spill file's record format, for the fuzz target (`fuzz/fuzz_targets/spill_codec.rs`):
/// appends one session's record to `out`.
pub fn encode_record(s: &Session, out: &mut Vec<u8>) {
    encode(s, out);
}

/// The spill file's record format, for the fuzz target: reads one record from the front of
/// `input`, or `None` when it is cut or malformed (never a panic).
pub fn decode_record(input: &mut &[u8]) -> Option<Session> {
    decode(input)
}

/// Appends one session's record.
pub(super) fn encode(s: &Session, out: &mut Vec<u8>) {
    put_u64(out, s.number);
    put_key(out, &s.key);
    put_peer(out, &s.client);
    put_peer(out, &s.server);
    put_counters(out, &s.to_server);
    put_counters(out, &s.to_client);
    put_opt(out, &s.first_ts, |o, v| put_u64(o, *v as u64));
    put_opt(out, &s.last_ts, |o, v| put_u64(o, *v as u64));
    put_u64(out, s.first_record);
    put_u64(out, s.last_record);
    put_u8(out, flag_bits(&s.flags));
    put_opt(out, &s.community_id, |o, id| {
        o.extend_from_slice(id.as_bytes())
    });
    put_opt(out, &s.vlan, |o, v| put_u16(o, *v));
    put_opt(out, &s.interfaces.first, |o, v| put_u32(o, *v));
    put_u32(out, s.interfaces.others.len() as u32);
    for i in &s.interfaces.others {
        put_u32(out, *i);
    }
    put_u8(out, s.client_dir);
    for b in &s.tcp.base_seq {
        put_opt(out, b, |o, v| put_u32(o, *v));
    }
    let t = &s.tcp;
    put_u8(
        out,
        u8::from(t.syn)
            | u8::from(t.syn_ack) << 1
            | u8::from(t.fin[0]) << 2
            | u8::from(t.fin[1]) << 3,
    );
}

/// Reads from the front of a byte slice, advancing it.
struct Input<'a, 'b>(&'a mut &'b [u8]);

impl Input<'_, '_> {
    fn bytes<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, rest) = self.0.split_first_chunk::<N>()?;
        *self.0 = rest;
        Some(*head)
    }
    fn u8(&mut self) -> Option<u8> {
        self.bytes::<1>().map(|[b]| b)
    }
    fn u16(&mut self) -> Option<u16> {
        self.bytes().map(u16::from_le_bytes)
    }
    fn u32(&mut self) -> Option<u32> {
        self.bytes().map(u32::from_le_bytes)
    }
    fn u64(&mut self) -> Option<u64> {
        self.bytes().map(u64::from_le_bytes)
    }
    fn bool(&mut self) -> Option<bool> {
        match self.u8()? {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }
    fn opt<T>(&mut self, get: impl FnOnce(&mut Self) -> Option<T>) -> Option<Option<T>> {
        if self.bool()? {
            get(self).map(Some)
        } else {
            Some(None)
        }
    }
    fn ip(&mut self) -> Option<IpAddr> {
        match self.u8()? {
            4 => Some(IpAddr::from(self.bytes::<4>()?)),
            6 => Some(IpAddr::from(self.bytes::<16>()?)),
            _ => None,
        }
    }
    fn endpoint(&mut self) -> Option<(IpAddr, u16)> {
        Some((self.ip()?, self.u16()?))
    }
    fn key(&mut self) -> Option<FlowKey> {
        Some(match self.u8()? {
            0 => FlowKey::Tcp(self.endpoint()?, self.endpoint()?),
            1 => FlowKey::Udp(self.u8()?, self.endpoint()?, self.endpoint()?),
            2 => FlowKey::IcmpEcho(self.u8()?, self.ip()?, self.ip()?, self.u16()?),
            3 => FlowKey::Ip(self.u8()?, self.ip()?, self.ip()?),
            4 => {
                let proto = match self.u8()? {
                    0 => LinkProto::EtherType(self.u16()?),
                    1 => LinkProto::Llc(self.u8()?),
                    2 => LinkProto::Ppp(self.u16()?),
                    3 => LinkProto::Wlan,
                    _ => return None,
                };
                FlowKey::Link(proto, self.opt(Self::bytes)?, self.opt(Self::bytes)?)
            }
            5 => FlowKey::Other(LinkType(self.u16()?)),
            _ => return None,
        })
    }
    fn peer(&mut self) -> Option<Peer> {
        Some(Peer {
            ip: self.opt(Self::ip)?,
            port: self.opt(Self::u16)?,
            mac: self.opt(Self::bytes)?,
        })
    }
    fn counters(&mut self) -> Option<Counters> {
        Some(Counters {
            packets: self.u64()?,
            bytes: self.u64()?,
            captured_bytes: self.u64()?,
        })
    }
}

/// Reads one session's record from the front of `input`.
pub(super) fn decode(input: &mut &[u8]) -> Option<Session> {
    let mut r = Input(input);
    let number = r.u64()?;
    let key = r.key()?;
    let client = r.peer()?;
    let server = r.peer()?;
    let to_server = r.counters()?;
    let to_client = r.counters()?;
    let first_ts = r.opt(|r| r.u64().map(|v| v as i64))?;
    let last_ts = r.opt(|r| r.u64().map(|v| v as i64))?;
    let first_record = r.u64()?;
    let last_record = r.u64()?;
    let bits = r.u8()?;
    let bit = |i: u8| bits & (1 << i) != 0;
    let flags = SessionFlags {
        handshake: bit(0),
        midstream: bit(1),
        closed_fin: bit(2),
        closed_rst: bit(3),
        truncated: bit(4),
        fragments: bit(5),
        broken_header: bit(6),
    };
    let community_id = r.opt(|r| CommunityId::from_bytes(r.bytes()?))?;
    let vlan = r.opt(Input::u16)?;
    let first = r.opt(Input::u32)?;
    let n = r.u32()?;
    let mut others = Vec::new();
    for _ in 0..n {
        others.push(r.u32()?);
    }
    let client_dir = r.u8()?;
    let base_seq = [r.opt(Input::u32)?, r.opt(Input::u32)?];
    let t = r.u8()?;
    let tcp = TcpTrack {
        base_seq,
        syn: t & 1 != 0,
        syn_ack: t & 2 != 0,
        fin: [t & 4 != 0, t & 8 != 0],
    };
    Some(Session {
        number,
        key,
        client,
        server,
        to_server,
        to_client,
        first_ts,
        last_ts,
        first_record,
        last_record,
        flags,
        community_id,
        vlan,
        interfaces: Interfaces { first, others },
        client_dir,
        tcp,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    use crate::capture::reader::CaptureReader;
    use crate::limits::Limits;
    use crate::session::splitter::{split, NullSink, SplitOptions};

    fn sessions_of(capture: &str) -> Vec<Session> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data")
            .join(capture);
        let mut reader = CaptureReader::open(&path, &Limits::default()).expect("capture");
        let result =
            split(&mut reader, &SplitOptions::default(), &mut NullSink).expect("in memory");
        result.sessions.iter().map(Cow::into_owned).collect()
    }

    #[test]
    fn records_round_trip_through_the_codec() {
        for capture in [
            "zeek__wikipedia.pcap",
            "wireshark__many_interfaces.pcapng.1",
            "zeek__mixed-vlan-mpls.pcap",
            "zeek__llc.pcap",
            "zeek__ipv6-fragmented-dns.pcap",
        ] {
            for s in sessions_of(capture) {
                let mut buf = Vec::new();
                encode(&s, &mut buf);
                let mut input: &[u8] = &buf;
                let back = decode(&mut input).expect("decodes");
                assert!(input.is_empty(), "{capture}: trailing bytes");
                assert_eq!(format!("{back:?}"), format!("{s:?}"), "{capture}");
            }
        }
    }

    #[test]
    fn a_cut_record_does_not_decode() {
        let s = sessions_of("zeek__wikipedia.pcap").remove(0);
        let mut buf = Vec::new();
        encode(&s, &mut buf);
        for len in 0..buf.len() {
            let mut input = buf.get(..len).expect("prefix");
            assert!(decode(&mut input).is_none(), "a {len}-byte prefix decoded");
        }
    }

    proptest::proptest! {
        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let mut input: &[u8] = &bytes;
            while decode(&mut input).is_some() {}
        }
    }

    #[test]
    fn spills_beyond_the_budget_and_reads_back() {
        let originals = sessions_of("zeek__wikipedia.pcap");
        assert!(originals.len() > 20);
        let dir = tempfile::tempdir().expect("temporary directory");
        let mut store = Sessions::spilling(dir.path(), 4).expect("spill file");
        for s in &originals {
            store.push(s.clone()).expect("push");
        }
        let spilled = store.spill.as_ref().map_or(0, |s| s.end);
        assert!(spilled > 0, "nothing was spilled");
        assert!(store.clock.len() <= store.resident_chunks());
        // Touch an early session (read back), change it, and see the change survive
        // being spilled again.
        store
            .get_mut(1)
            .expect("read back")
            .expect("session 1")
            .last_record = 999_999;
        for i in (0..originals.len()).rev() {
            assert!(store.get_mut(i).expect("read back").is_some());
        }
        let mut seen = Vec::new();
        store
            .try_for_each(|s| {
                seen.push(s.clone());
                Ok::<(), SpillError>(())
            })
            .expect("read back");
        assert_eq!(seen.len(), originals.len());
        let iterated: Vec<Session> = store.iter().map(|s| s.into_owned()).collect();
        for (i, (a, b)) in seen.iter().zip(&originals).enumerate() {
            if i == 1 {
                assert_eq!(a.last_record, 999_999);
            } else {
                assert_eq!(format!("{a:?}"), format!("{b:?}"));
            }
            assert_eq!(format!("{a:?}"), format!("{:?}", iterated[i]));
        }
        assert!(
            fs::read_dir(dir.path()).expect("dir").next().is_none(),
            "spill file is visible"
        );
    }
}
