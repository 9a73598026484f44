//! `index.json`: the capture's identity and every session, as the CLI, the server and the
//! Maltego entities read them. The same values are produced whether or not files are written.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::key::{protocol_label, FlowKey};
use super::spill::{Sessions, SpillError};
use super::splitter::{Anomalies, SplitResult};
use super::table::{Peer, Session};
use super::threaded_file::ThreadedFile;
use crate::capture::decode::Mac;
use crate::capture::hash::FileHashes;
use crate::capture::{link_type_names, Damage, Format, Interface};

/// Version of the index layout; bumped when a field changes meaning.
pub const INDEX_VERSION: u32 = 2;

/// The whole index, as read back from `index.json`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Index {
    /// Everything but the sessions.
    #[serde(flatten)]
    pub head: IndexHead,
    /// Every session, by number.
    pub sessions: Vec<SessionEntry>,
}

impl std::ops::Deref for Index {
    type Target = IndexHead;
    fn deref(&self) -> &IndexHead {
        &self.head
    }
}

/// The index without its session list: what a summary needs, small whatever the capture.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct IndexHead {
    /// Layout version.
    pub index_version: u32,
    /// The packetpivot version that wrote it.
    pub packetpivot: String,
    /// The capture.
    pub capture: CaptureSummary,
    /// Settings that change the result.
    pub options: IndexOptions,
    /// Totals per protocol.
    pub summary: Summary,
    /// Anomalies, under stable names.
    pub anomalies: AnomaliesEntry,
}

/// The capture file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CaptureSummary {
    /// The path as given.
    pub path: String,
    /// File name.
    pub name: String,
    /// Size on disk, in bytes.
    pub size: u64,
    /// MD5, hex.
    pub md5: String,
    /// SHA-1, hex.
    pub sha1: String,
    /// SHA-256, hex.
    pub sha256: String,
    /// `pcap-le-us`, `pcap-be-ns`, `pcapng`, ...
    pub format: String,
    /// gzip-compressed on disk.
    pub compressed: bool,
    /// Link types of all interfaces, as `1(EN10MB)`.
    pub link_types: Vec<String>,
    /// Number of interfaces (pcapng IDBs; 1 for pcap).
    pub interfaces: usize,
    /// Packet records.
    pub packets: u64,
    /// Bytes on the wire, all packets.
    pub bytes: u64,
    /// First timestamp (RFC 3339, UTC).
    pub first_time: Option<String>,
    /// Last timestamp.
    pub last_time: Option<String>,
    /// First timestamp, ns since the epoch.
    pub first_ts_ns: Option<i64>,
    /// Last timestamp, ns since the epoch.
    pub last_ts_ns: Option<i64>,
    /// Seconds between first and last packet.
    pub duration_s: f64,
    /// Where reading stopped early, if it did.
    pub damage: Option<Damage>,
}

/// Settings that change the split.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct IndexOptions {
    /// UDP idle timeout in seconds, if one was set.
    pub udp_idle_timeout_s: Option<f64>,
}

/// Totals.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Summary {
    /// Number of sessions.
    pub sessions: u64,
    /// Per protocol label.
    pub protocols: BTreeMap<String, ProtocolTotals>,
}

/// Totals for one protocol.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ProtocolTotals {
    /// Sessions.
    pub sessions: u64,
    /// Packets.
    pub packets: u64,
    /// Wire bytes.
    pub bytes: u64,
}

/// The anomaly counters of the pass.
pub type AnomaliesEntry = Anomalies;

/// One end of a session.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PeerEntry {
    /// IP address.
    pub address: Option<String>,
    /// Port.
    pub port: Option<u16>,
    /// MAC address (`aa:bb:cc:dd:ee:ff`).
    pub mac: Option<String>,
}

/// Packets or bytes per direction.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Directional {
    /// Client to server.
    pub to_server: u64,
    /// Server to client.
    pub to_client: u64,
    /// Both.
    pub total: u64,
}

/// One session.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SessionEntry {
    /// Number, from 0 in order of first packet.
    pub number: u64,
    /// `tcp`, `udp`, `icmp`, `arp`, ...
    pub protocol: String,
    /// IP protocol number, for IP sessions.
    pub ip_proto: Option<u8>,
    /// The initiator.
    pub client: PeerEntry,
    /// The other end.
    pub server: PeerEntry,
    /// ICMP echo identifier.
    pub echo_id: Option<u16>,
    /// First VLAN ID seen.
    pub vlan: Option<u16>,
    /// Packets.
    pub packets: Directional,
    /// Wire bytes.
    pub bytes: Directional,
    /// Captured bytes (both directions).
    pub captured_bytes: u64,
    /// First timestamp (RFC 3339).
    pub first_time: Option<String>,
    /// Last timestamp (RFC 3339).
    pub last_time: Option<String>,
    /// First timestamp, ns since the epoch.
    pub first_ts_ns: Option<i64>,
    /// Last timestamp, ns since the epoch.
    pub last_ts_ns: Option<i64>,
    /// Seconds between first and last packet.
    pub duration_s: f64,
    /// Record numbers (0-based) of the first and last packet.
    pub first_record: u64,
    /// See `first_record`.
    pub last_record: u64,
    /// The session's capture file, relative to the index.
    pub file: String,
    /// SHA-256 of that file (absent when nothing was written).
    pub file_sha256: Option<String>,
    /// Community ID v1, seed 0.
    pub community_id: Option<String>,
    /// `handshake`, `midstream`, `closed_fin`, `closed_rst`, `truncated`, `fragments`, `broken_header`.
    pub flags: Vec<String>,
    /// Link types of the interfaces the session's packets came from.
    pub link_types: Vec<String>,
}

/// Formats a MAC address with colons.
pub fn mac_string(m: &Mac) -> String {
    m.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn peer_entry(p: &Peer) -> PeerEntry {
    PeerEntry {
        address: p.ip.map(|a| a.to_string()),
        port: p.port,
        mac: p.mac.as_ref().map(mac_string),
    }
}

/// A filesystem-safe form of an address: IPv6 colons become dashes.
/// Appends an address with `:` spelled `-` (IPv6 colons are not portable in file names).
fn push_safe_addr(out: &mut String, a: &IpAddr) {
    use std::fmt::Write;
    let start = out.len();
    let _ = write!(out, "{a}");
    if a.is_ipv6() {
        let dashed = out.get(start..).unwrap_or_default().replace(':', "-");
        out.truncate(start);
        out.push_str(&dashed);
    }
}

/// The deterministic file name of a session (`000042-tcp-10.0.0.5.51234-198.18.0.9.443.pcap`).
///
/// Built in one string: it is made twice per session (file and index), a million times
/// for a capture of a million sessions.
pub fn file_name(session: &Session, extension: &str) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(64);
    let _ = write!(
        out,
        "{:06}-{}-",
        session.number,
        protocol_label(&session.key)
    );
    let ip_part = |out: &mut String, p: &Peer| {
        match &p.ip {
            Some(a) => push_safe_addr(out, a),
            None => out.push_str("none"),
        }
        if let Some(port) = p.port {
            let _ = write!(out, ".{port}");
        }
    };
    let mac_part = |out: &mut String, m: &Option<Mac>| match m {
        Some(m) => {
            for (i, b) in m.iter().enumerate() {
                if i > 0 {
                    out.push('-');
                }
                let _ = write!(out, "{b:02x}");
            }
        }
        None => out.push_str("none"),
    };
    let (c, s) = (&session.client, &session.server);
    match session.key {
        FlowKey::Tcp(..) | FlowKey::Udp(..) | FlowKey::Ip(..) => {
            ip_part(&mut out, c);
            out.push('-');
            ip_part(&mut out, s);
        }
        FlowKey::IcmpEcho(_, _, _, id) => {
            ip_part(&mut out, c);
            out.push('-');
            ip_part(&mut out, s);
            let _ = write!(out, "-id{id}");
        }
        FlowKey::Link(..) => {
            mac_part(&mut out, &c.mac);
            out.push('-');
            mac_part(&mut out, &s.mac);
        }
        FlowKey::Other(link) => {
            let _ = write!(out, "linktype{}", link.0);
        }
    }
    out.push('.');
    out.push_str(extension);
    out
}

pub use crate::capture::rfc3339;

fn duration(first: Option<i64>, last: Option<i64>) -> f64 {
    match (first, last) {
        (Some(f), Some(l)) => (l.saturating_sub(f)) as f64 / 1e9,
        _ => 0.0,
    }
}

/// The IP protocol number of an IP session, and the echo identifier of an ICMP echo one.
fn ip_proto_and_echo_id(key: &FlowKey) -> (Option<u8>, Option<u16>) {
    match *key {
        FlowKey::Tcp(..) => (Some(6), None),
        FlowKey::Udp(p, ..) | FlowKey::Ip(p, ..) => (Some(p), None),
        FlowKey::IcmpEcho(p, _, _, id) => (Some(p), Some(id)),
        FlowKey::Link(..) | FlowKey::Other(_) => (None, None),
    }
}

/// The entry of one session; `file_sha256` is known only when a file was written.
pub fn session_entry(
    s: &Session,
    interfaces: &[Interface],
    extension: &str,
    file_sha256: Option<String>,
) -> SessionEntry {
    let (ip_proto, echo_id) = ip_proto_and_echo_id(&s.key);
    let link_types = link_type_names(
        s.interfaces
            .iter()
            .filter_map(|i| interfaces.get(i as usize)),
    );
    SessionEntry {
        number: s.number,
        protocol: protocol_label(&s.key),
        ip_proto,
        client: peer_entry(&s.client),
        server: peer_entry(&s.server),
        echo_id,
        vlan: s.vlan,
        packets: Directional {
            to_server: s.to_server.packets,
            to_client: s.to_client.packets,
            total: s.packets(),
        },
        bytes: Directional {
            to_server: s.to_server.bytes,
            to_client: s.to_client.bytes,
            total: s.bytes(),
        },
        captured_bytes: s.to_server.captured_bytes + s.to_client.captured_bytes,
        first_time: s.first_ts.map(rfc3339),
        last_time: s.last_ts.map(rfc3339),
        first_ts_ns: s.first_ts,
        last_ts_ns: s.last_ts,
        duration_s: duration(s.first_ts, s.last_ts),
        first_record: s.first_record,
        last_record: s.last_record,
        file: file_name(s, extension),
        file_sha256,
        community_id: s.community_id.map(|c| c.as_str().to_string()),
        flags: s.flags.names().into_iter().map(String::from).collect(),
        link_types,
    }
}

/// Appends a session's entry as compact JSON: byte for byte what serde_json writes for
/// [`session_entry`] (a test holds the two together over the corpus), without building the
/// entry's dozen strings first. Split b's index is a million of these, 0.8 GB; through
/// `SessionEntry` and serde they took 3 s.
pub fn push_entry_json(
    out: &mut Vec<u8>,
    s: &Session,
    interfaces: &[Interface],
    extension: &str,
    file_sha256: Option<&[u8; 32]>,
) {
    let (ip_proto, echo_id) = ip_proto_and_echo_id(&s.key);
    out.extend_from_slice(b"{\"number\":");
    push_int(out, s.number);
    out.extend_from_slice(b",\"protocol\":");
    push_json_str(out, &protocol_label(&s.key));
    out.extend_from_slice(b",\"ip_proto\":");
    push_opt_int(out, ip_proto);
    out.extend_from_slice(b",\"client\":");
    push_peer_json(out, &s.client);
    out.extend_from_slice(b",\"server\":");
    push_peer_json(out, &s.server);
    out.extend_from_slice(b",\"echo_id\":");
    push_opt_int(out, echo_id);
    out.extend_from_slice(b",\"vlan\":");
    push_opt_int(out, s.vlan);
    out.extend_from_slice(b",\"packets\":");
    push_directional(out, s.to_server.packets, s.to_client.packets, s.packets());
    out.extend_from_slice(b",\"bytes\":");
    push_directional(out, s.to_server.bytes, s.to_client.bytes, s.bytes());
    out.extend_from_slice(b",\"captured_bytes\":");
    push_int(out, s.to_server.captured_bytes + s.to_client.captured_bytes);
    for (key, ts) in [
        (&b",\"first_time\":"[..], s.first_ts),
        (b",\"last_time\":", s.last_ts),
    ] {
        out.extend_from_slice(key);
        match ts {
            Some(ns) => {
                out.push(b'"');
                crate::units::push_rfc3339(out, ns);
                out.push(b'"');
            }
            None => out.extend_from_slice(b"null"),
        }
    }
    out.extend_from_slice(b",\"first_ts_ns\":");
    push_opt_int(out, s.first_ts);
    out.extend_from_slice(b",\"last_ts_ns\":");
    push_opt_int(out, s.last_ts);
    out.extend_from_slice(b",\"duration_s\":");
    // serde_json's own float formatting, so the digits are the same; writing to a Vec
    // cannot fail.
    let _ = serde_json::to_writer(&mut *out, &duration(s.first_ts, s.last_ts));
    out.extend_from_slice(b",\"first_record\":");
    push_int(out, s.first_record);
    out.extend_from_slice(b",\"last_record\":");
    push_int(out, s.last_record);
    out.extend_from_slice(b",\"file\":");
    push_json_str(out, &file_name(s, extension));
    out.extend_from_slice(b",\"file_sha256\":");
    match file_sha256 {
        Some(h) => {
            out.push(b'"');
            push_hex(out, h);
            out.push(b'"');
        }
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"community_id\":");
    match &s.community_id {
        Some(c) => push_json_str(out, c.as_str()),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"flags\":[");
    for (i, name) in s.flags.names().into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_json_str(out, name);
    }
    out.extend_from_slice(b"],\"link_types\":[");
    let used = s
        .interfaces
        .iter()
        .filter_map(|i| interfaces.get(i as usize));
    for (i, name) in link_type_names(used).iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_json_str(out, name);
    }
    out.extend_from_slice(b"]}");
}

fn push_peer_json(out: &mut Vec<u8>, p: &Peer) {
    out.extend_from_slice(b"{\"address\":");
    match p.ip {
        Some(IpAddr::V4(a)) => {
            out.push(b'"');
            for (i, octet) in a.octets().into_iter().enumerate() {
                if i > 0 {
                    out.push(b'.');
                }
                push_int(out, octet);
            }
            out.push(b'"');
        }
        Some(a) => {
            // IPv6 text (zero compression, embedded IPv4) as `Display` has it, which is
            // what the entry holds; it never needs escaping.
            let _ = write!(out, "\"{a}\"");
        }
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"port\":");
    push_opt_int(out, p.port);
    out.extend_from_slice(b",\"mac\":");
    match &p.mac {
        Some(m) => {
            out.push(b'"');
            for (i, b) in m.iter().enumerate() {
                if i > 0 {
                    out.push(b':');
                }
                push_hex(out, &[*b]);
            }
            out.push(b'"');
        }
        None => out.extend_from_slice(b"null"),
    }
    out.push(b'}');
}

fn push_int<I: itoa::Integer>(out: &mut Vec<u8>, v: I) {
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

fn push_opt_int<I: itoa::Integer>(out: &mut Vec<u8>, v: Option<I>) {
    match v {
        Some(v) => push_int(out, v),
        None => out.extend_from_slice(b"null"),
    }
}

/// A [`Directional`] as serde_json writes it.
fn push_directional(out: &mut Vec<u8>, to_server: u64, to_client: u64, total: u64) {
    out.extend_from_slice(b"{\"to_server\":");
    push_int(out, to_server);
    out.extend_from_slice(b",\"to_client\":");
    push_int(out, to_client);
    out.extend_from_slice(b",\"total\":");
    push_int(out, total);
    out.push(b'}');
}

/// Lowercase hex, as `hex::encode` spells it, appended without a String in between.
fn push_hex(out: &mut Vec<u8>, bytes: &[u8]) {
    let start = out.len();
    out.resize(start + 2 * bytes.len(), b'0');
    if let Some(digits) = out.get_mut(start..) {
        // The slice is exactly twice the input's length: this cannot fail.
        let _ = hex::encode_to_slice(bytes, digits);
    }
}

/// A JSON string as serde_json writes it: copied when nothing in it needs escaping (every
/// string the index holds), through serde_json otherwise.
fn push_json_str(out: &mut Vec<u8>, s: &str) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        // Writing to a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, s);
    }
}

/// What the index needs to know about the capture besides the split itself.
pub struct CaptureFacts<'a> {
    /// The path as given.
    pub path: &'a std::path::Path,
    /// Size on disk.
    pub size: u64,
    /// Hashes of the file.
    pub hashes: FileHashes,
    /// Its format.
    pub format: Format,
    /// gzip-compressed.
    pub compressed: bool,
    /// Its interfaces.
    pub interfaces: &'a [Interface],
    /// UDP idle timeout used, in ns.
    pub udp_idle_timeout_ns: Option<i64>,
}

/// Builds the head of the index (everything but the session list).
/// Fails only if spilled sessions cannot be read back.
pub fn build_head(facts: &CaptureFacts<'_>, result: &SplitResult) -> Result<IndexHead, SpillError> {
    let mut protocols: BTreeMap<String, ProtocolTotals> = BTreeMap::new();
    result.sessions.try_for_each(|s| {
        let t = protocols.entry(protocol_label(&s.key)).or_default();
        t.sessions += 1;
        t.packets += s.packets();
        t.bytes += s.bytes();
        Ok::<(), SpillError>(())
    })?;
    let link_types = link_type_names(facts.interfaces);
    Ok(IndexHead {
        index_version: INDEX_VERSION,
        packetpivot: env!("CARGO_PKG_VERSION").to_string(),
        capture: CaptureSummary {
            path: facts.path.display().to_string(),
            name: facts
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            size: facts.size,
            md5: facts.hashes.md5.clone(),
            sha1: facts.hashes.sha1.clone(),
            sha256: facts.hashes.sha256.clone(),
            format: facts.format.name(),
            compressed: facts.compressed,
            link_types,
            interfaces: facts.interfaces.len(),
            packets: result.packets,
            bytes: result.bytes,
            first_time: result.first_ts.map(rfc3339),
            last_time: result.last_ts.map(rfc3339),
            first_ts_ns: result.first_ts,
            last_ts_ns: result.last_ts,
            duration_s: duration(result.first_ts, result.last_ts),
            damage: result.damage.clone(),
        },
        options: IndexOptions {
            udp_idle_timeout_s: facts.udp_idle_timeout_ns.map(|n| n as f64 / 1e9),
        },
        summary: Summary {
            sessions: result.sessions.len() as u64,
            protocols,
        },
        anomalies: result.anomalies.clone(),
    })
}

/// The entries of every session, made one at a time (never all in memory at once), spilled
/// sessions read back where needed.
pub struct Entries<'a> {
    /// The sessions.
    pub sessions: &'a Sessions,
    /// The capture's interfaces.
    pub interfaces: &'a [Interface],
    /// File name extension of the session files.
    pub extension: &'a str,
    /// SHA-256 of each session's file, by session, when files were written.
    pub file_hashes: Option<&'a [[u8; 32]]>,
}

impl Entries<'_> {
    fn entry(&self, s: &Session) -> SessionEntry {
        let hash = usize::try_from(s.number)
            .ok()
            .and_then(|i| self.file_hashes?.get(i))
            .map(hex::encode);
        session_entry(s, self.interfaces, self.extension, hash)
    }

    /// All entries, in order. Like [`Sessions::iter`], this ends early if a spilled session
    /// cannot be read back; the index is written through `Serialize`, which reports it.
    pub fn iter(&self) -> impl Iterator<Item = SessionEntry> + '_ {
        self.sessions.iter().map(|s| self.entry(&s))
    }
}

impl Serialize for Entries<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error, SerializeSeq};
        let mut seq = serializer.serialize_seq(Some(self.sessions.len()))?;
        let written = self
            .sessions
            .try_for_each(|s| seq.serialize_element(&self.entry(s)).map_err(Stop::Write));
        match written {
            Ok(()) => seq.end(),
            Err(Stop::Write(e)) => Err(e),
            Err(Stop::Spill(e)) => Err(S::Error::custom(e)),
        }
    }
}

impl Entries<'_> {
    /// Writes `index.json` into `out`: the head through serde, laid out by
    /// [`to_writer_lines`], and the sessions by [`push_entry_json`] straight into the
    /// file's blocks. The bytes are those of `to_writer_lines(&IndexOut::new(head, self))`
    /// and a newline (a test holds the two together).
    pub fn write_index(
        &self,
        head: &IndexHead,
        out: &mut ThreadedFile,
    ) -> Result<(), Stop<io::Error>> {
        // The head with an empty session list ends `"sessions": []` and the object's close;
        // the list is opened there and the sessions streamed into it, one a line, as the
        // formatter lays out the second level.
        const EMPTY_END: &[u8] = b"[]\n}";
        let mut doc = Vec::new();
        to_writer_lines(&mut doc, &IndexOut::new(head, &Vec::<SessionEntry>::new()))
            .map_err(|e| Stop::Write(io::Error::other(e)))?;
        let open = doc
            .len()
            .checked_sub(EMPTY_END.len())
            .filter(|&at| doc.get(at..) == Some(EMPTY_END))
            .ok_or_else(|| Stop::Write(io::Error::other("the index head ends unexpectedly")))?;
        doc.truncate(open + 1);
        out.write_all(&doc).map_err(Stop::Write)?;
        let mut first = true;
        self.sessions.try_for_each(|s| {
            let block = out.block();
            block.extend_from_slice(if first { b"\n    " } else { b",\n    " });
            first = false;
            let hash = usize::try_from(s.number)
                .ok()
                .and_then(|i| self.file_hashes?.get(i));
            push_entry_json(block, s, self.interfaces, self.extension, hash);
            out.hand_over_if_full().map_err(Stop::Write)
        })?;
        let end: &[u8] = if first { b"]\n}\n" } else { b"\n  ]\n}\n" };
        out.write_all(end).map_err(Stop::Write)
    }
}

/// Why writing the entries stopped: the output failed, or a spilled session could not be
/// read back.
#[derive(Debug)]
pub enum Stop<E> {
    /// Writing failed.
    Write(E),
    /// Reading a spilled session back failed.
    Spill(SpillError),
}

impl<E> From<SpillError> for Stop<E> {
    fn from(e: SpillError) -> Stop<E> {
        Stop::Spill(e)
    }
}

/// `index.json` as written: the head's fields followed by the streamed session list.
#[derive(Serialize)]
pub struct IndexOut<'a, E = Entries<'a>> {
    /// See [`IndexHead`].
    pub index_version: u32,
    /// See [`IndexHead`].
    pub packetpivot: &'a str,
    /// See [`IndexHead`].
    pub capture: &'a CaptureSummary,
    /// See [`IndexHead`].
    pub options: &'a IndexOptions,
    /// See [`IndexHead`].
    pub summary: &'a Summary,
    /// See [`IndexHead`].
    pub anomalies: &'a Anomalies,
    /// The sessions.
    pub sessions: &'a E,
}

impl<'a, E: Serialize> IndexOut<'a, E> {
    /// Pairs a head with its session entries.
    pub fn new(head: &'a IndexHead, sessions: &'a E) -> IndexOut<'a, E> {
        IndexOut {
            index_version: head.index_version,
            packetpivot: &head.packetpivot,
            capture: &head.capture,
            options: &head.options,
            summary: &head.summary,
            anomalies: &head.anomalies,
            sessions,
        }
    }
}

/// Writes `value` as JSON that is pretty at the top two levels and compact below: in
/// `index.json` every head field and every session takes one line. A million sessions
/// pretty-printed in full took 1.1 KB each, more than the capture itself; one line each is
/// half that, as quick to write, and still easy to read, grep and diff.
pub fn to_writer_lines<W: std::io::Write, T: Serialize + ?Sized>(
    writer: W,
    value: &T,
) -> serde_json::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(writer, LinesFormatter::default());
    value.serialize(&mut ser)
}

/// Containers nested this deep or less are laid out one member per line.
const PRETTY_DEPTH: usize = 2;

/// serde_json's pretty formatter, limited to [`PRETTY_DEPTH`] levels.
#[derive(Default)]
struct LinesFormatter {
    depth: usize,
    has_value: bool,
}

impl LinesFormatter {
    fn newline<W: ?Sized + std::io::Write>(&self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b"\n")?;
        for _ in 0..self.depth {
            w.write_all(b"  ")?;
        }
        Ok(())
    }

    fn open<W: ?Sized + std::io::Write>(&mut self, w: &mut W, b: &[u8]) -> std::io::Result<()> {
        self.depth += 1;
        self.has_value = false;
        w.write_all(b)
    }

    fn close<W: ?Sized + std::io::Write>(&mut self, w: &mut W, b: &[u8]) -> std::io::Result<()> {
        let pretty = self.depth <= PRETTY_DEPTH;
        self.depth = self.depth.saturating_sub(1);
        if pretty && self.has_value {
            self.newline(w)?;
        }
        w.write_all(b)
    }

    fn member<W: ?Sized + std::io::Write>(&self, w: &mut W, first: bool) -> std::io::Result<()> {
        if !first {
            w.write_all(b",")?;
        }
        if self.depth <= PRETTY_DEPTH {
            self.newline(w)?;
        }
        Ok(())
    }
}

impl serde_json::ser::Formatter for LinesFormatter {
    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.open(w, b"[")
    }
    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.close(w, b"]")
    }
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.member(w, first)
    }
    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, _: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }
    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.open(w, b"{")
    }
    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.close(w, b"}")
    }
    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.member(w, first)
    }
    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(if self.depth <= PRETTY_DEPTH {
            b": "
        } else {
            b":"
        })
    }
    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, _: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn lines_format_is_pretty_on_top_and_compact_below() {
        let v =
            serde_json::json!({"a": {"b": [1, 2]}, "sessions": [{"x": [1]}, {"y": {}}], "e": []});
        let mut out = Vec::new();
        to_writer_lines(&mut out, &v).expect("writes");
        let text = String::from_utf8(out).expect("utf-8");
        assert_eq!(
            text,
            "{\n  \"a\": {\n    \"b\": [1,2]\n  },\n  \"e\": [],\n  \"sessions\": [\n    {\"x\":[1]},\n    {\"y\":{}}\n  ]\n}"
        );
        let back: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(back, v);
    }

    use super::*;

    #[test]
    fn formats_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(
            rfc3339(1_392_893_847_123_456_000),
            "2014-02-20T10:57:27.123456Z"
        );
        assert_eq!(
            rfc3339(1_392_893_847_123_456_789),
            "2014-02-20T10:57:27.123456789Z"
        );
        assert_eq!(rfc3339(-1_000), "1969-12-31T23:59:59.999999Z");
        assert_eq!(
            rfc3339(951_782_400_000_000_000),
            "2000-02-29T00:00:00.000000Z"
        );
    }
}
