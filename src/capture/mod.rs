//! Reading and writing capture files: the first stage of the pipeline.
//!
//! [`reader::CaptureReader`] turns any pcap or pcapng file (plain or gzip-compressed, detected
//! by magic) into a stream of [`Record`]s that borrow their bytes from one reusable buffer, so
//! memory does not grow with the capture. [`decode`] finds the network and transport headers
//! in a frame of any supported link type, and [`writer`] copies records verbatim into new
//! files. Nothing in this module knows about sessions, HTTP, XML or the terminal.
//!
//! No function here panics on input bytes: every length read from a file is checked against
//! the bytes present and against [`crate::limits::Limits`] before it is used.

#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

pub mod decode;
pub mod detect;
pub mod hash;
pub mod linktype;
pub mod reader;
pub mod summary;
pub mod writer;

pub use linktype::LinkType;

use std::path::PathBuf;

/// Byte order of a pcap file or of one pcapng section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Endian {
    /// Least significant byte first.
    Little,
    /// Most significant byte first.
    Big,
}

impl Endian {
    /// Reads a `u16` at `at`, or `None` when the slice is too short.
    pub fn u16(self, b: &[u8], at: usize) -> Option<u16> {
        let s: [u8; 2] = b.get(at..at.checked_add(2)?)?.try_into().ok()?;
        Some(match self {
            Endian::Little => u16::from_le_bytes(s),
            Endian::Big => u16::from_be_bytes(s),
        })
    }
    /// Reads a `u32` at `at`, or `None` when the slice is too short.
    pub fn u32(self, b: &[u8], at: usize) -> Option<u32> {
        let s: [u8; 4] = b.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(match self {
            Endian::Little => u32::from_le_bytes(s),
            Endian::Big => u32::from_be_bytes(s),
        })
    }
    /// Reads an `i64` at `at`, or `None` when the slice is too short.
    pub fn i64(self, b: &[u8], at: usize) -> Option<i64> {
        let s: [u8; 8] = b.get(at..at.checked_add(8)?)?.try_into().ok()?;
        Some(match self {
            Endian::Little => i64::from_le_bytes(s),
            Endian::Big => i64::from_be_bytes(s),
        })
    }
    /// Encodes a `u32` in this byte order.
    pub fn put_u32(self, v: u32) -> [u8; 4] {
        match self {
            Endian::Little => v.to_le_bytes(),
            Endian::Big => v.to_be_bytes(),
        }
    }
    /// Encodes a `u16` in this byte order.
    pub fn put_u16(self, v: u16) -> [u8; 2] {
        match self {
            Endian::Little => v.to_le_bytes(),
            Endian::Big => v.to_be_bytes(),
        }
    }
}

/// Which of the two file formats, with the details a writer must reproduce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Format {
    /// Classic libpcap.
    Pcap {
        /// Byte order of the file.
        endian: Endian,
        /// Nanosecond magic (`a1b23c4d`) rather than microseconds.
        nanosecond: bool,
        /// Alexey Kuznetzov's "modified" pcap (magic `a1b2cd34`, 8 extra bytes per record).
        modified: bool,
    },
    /// pcapng (any number of sections, either byte order).
    Pcapng,
}

impl Format {
    /// The short name used in the index and by `info` (`pcap-le-us`, `pcapng`, ...).
    pub fn name(&self) -> String {
        match self {
            Format::Pcap {
                endian,
                nanosecond,
                modified,
            } => format!(
                "pcap-{}-{}{}",
                if *endian == Endian::Little {
                    "le"
                } else {
                    "be"
                },
                if *nanosecond { "ns" } else { "us" },
                if *modified { "-modified" } else { "" }
            ),
            Format::Pcapng => "pcapng".to_string(),
        }
    }
}

/// Timestamp resolution of an interface: units per second as 10^n or 2^n.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub struct TsResolution(pub u8);

impl TsResolution {
    /// Microseconds, the pcapng default and the classic pcap magic.
    pub const MICRO: TsResolution = TsResolution(6);
    /// Nanoseconds.
    pub const NANO: TsResolution = TsResolution(9);

    /// Converts a count of units into nanoseconds (saturating; never panics).
    pub fn to_nanos(self, units: u64) -> i128 {
        let units = i128::from(units);
        if self.0 & 0x80 != 0 {
            let p = u32::from(self.0 & 0x7f);
            if p >= 64 {
                return 0;
            }
            (units * 1_000_000_000) >> p
        } else {
            let p = u32::from(self.0);
            if p <= 9 {
                units * 10i128.pow(9 - p)
            } else if p < 38 {
                units / 10i128.pow(p - 9)
            } else {
                0
            }
        }
    }
    /// True when the resolution is finer than a microsecond.
    pub fn finer_than_micro(self) -> bool {
        if self.0 & 0x80 != 0 {
            (self.0 & 0x7f) > 19
        } else {
            self.0 > 6
        }
    }
}

/// One pcapng section header (or the single implicit section of a pcap file).
#[derive(Debug, Clone)]
pub struct Section {
    /// Byte order of every block in the section.
    pub endian: Endian,
    /// The section header block exactly as read (pcapng only; empty for pcap).
    pub shb: Vec<u8>,
}

/// One capture interface: its link type and how its timestamps are to be read.
#[derive(Debug, Clone)]
pub struct Interface {
    /// Index of the section that defined it (0 for pcap).
    pub section: u32,
    /// Link-layer header type of its frames.
    pub link_type: LinkType,
    /// Snapshot length (0 = unlimited).
    pub snaplen: u32,
    /// Units of its timestamps.
    pub resolution: TsResolution,
    /// Seconds to add to every timestamp (pcapng `if_tsoffset`).
    pub ts_offset: i64,
    /// The interface description block exactly as read (pcapng only); for classic pcap the
    /// 24-byte file header, so a writer can reproduce either.
    pub header: Vec<u8>,
}

/// The distinct link types of some interfaces, in order of first appearance (`1(EN10MB)`).
pub fn link_type_names<'a>(interfaces: impl IntoIterator<Item = &'a Interface>) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for i in interfaces {
        let name = i.link_type.to_string();
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

/// How a record's timestamp was stored, so a writer can copy it bit for bit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RawTimestamp {
    /// Classic pcap: seconds and micro- or nanoseconds.
    Pcap {
        /// Seconds since the epoch.
        sec: u32,
        /// Fraction, in the file's resolution.
        frac: u32,
    },
    /// pcapng EPB or obsolete PB: a 64-bit count in the interface's resolution.
    Pcapng {
        /// Upper 32 bits.
        high: u32,
        /// Lower 32 bits.
        low: u32,
    },
    /// pcapng simple packet block: no timestamp at all.
    None,
}

/// Which kind of record carried a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordKind {
    /// A classic pcap record.
    Pcap,
    /// pcapng enhanced packet block.
    Enhanced,
    /// pcapng simple packet block (interface 0 of its section, no timestamp).
    Simple,
    /// pcapng obsolete packet block (written back as an enhanced packet block).
    Obsolete,
}

/// One packet record, borrowing its bytes from the reader's buffer.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    /// 0-based number of the packet record in the file (non-packet blocks not counted).
    pub index: u64,
    /// Byte offset of the record (or block) in the uncompressed capture stream.
    pub offset: u64,
    /// Index into the reader's interface list.
    pub interface: u32,
    /// Which kind of record this was.
    pub kind: RecordKind,
    /// The timestamp as stored.
    pub raw_ts: RawTimestamp,
    /// The timestamp in nanoseconds since the epoch, when the record has one.
    pub ts_ns: Option<i64>,
    /// Length of the packet on the wire.
    pub orig_len: u32,
    /// The captured bytes.
    pub data: &'a [u8],
    /// pcapng block options after the packet data, verbatim (empty for pcap).
    pub options: &'a [u8],
    /// Kuznetzov pcap: the 8 extra header bytes, verbatim (empty otherwise).
    pub extra: &'a [u8],
}

/// Damage found while reading: everything before `offset` was read, nothing after it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Damage {
    /// Byte offset (in the uncompressed stream) where readable data ends.
    pub offset: u64,
    /// Bytes from `offset` to the end of the stream that could not be read as records.
    pub unreadable_bytes: u64,
    /// Number of the record that could not be read (packet records before it are complete).
    pub record: u64,
    /// What was wrong, in words.
    pub reason: String,
}

/// Errors that stop a capture from being read at all.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// The file could not be opened or read.
    #[error("{path}: {source}")]
    Io {
        /// The capture path.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The path names a directory.
    #[error("{path}: is a directory, not a capture file")]
    IsDirectory {
        /// The capture path.
        path: PathBuf,
    },
    /// The file has no bytes.
    #[error("{path}: empty file, not a capture")]
    Empty {
        /// The capture path.
        path: PathBuf,
    },
    /// The first bytes are not a pcap or pcapng magic.
    #[error("{path}: not a capture file (starts with {start})")]
    NotACapture {
        /// The capture path.
        path: PathBuf,
        /// The first bytes, quoted as text or hex.
        start: String,
    },
    /// The file header itself is cut short or invalid.
    #[error("{path}: {what}")]
    BadHeader {
        /// The capture path.
        path: PathBuf,
        /// What is wrong with the header.
        what: String,
    },
}

impl CaptureError {
    /// What the user can do about it, for the one-line CLI message.
    pub fn hint(&self) -> &'static str {
        match self {
            CaptureError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                "check the path"
            }
            CaptureError::Io { .. } => "check that the file is readable",
            CaptureError::IsDirectory { .. } => {
                "give the path of a .pcap or .pcapng file inside it"
            }
            CaptureError::Empty { .. } | CaptureError::BadHeader { .. } => {
                "the capture was probably cut short; capture again or recover it with pcapfix"
            }
            CaptureError::NotACapture { .. } => {
                "give a pcap or pcapng file (optionally gzip-compressed)"
            }
        }
    }
}

/// A record that owns its bytes, for packets held back while their IP datagram is incomplete.
#[derive(Debug, Clone)]
pub struct OwnedRecord {
    /// See [`Record::index`].
    pub index: u64,
    /// See [`Record::offset`].
    pub offset: u64,
    /// See [`Record::interface`].
    pub interface: u32,
    /// See [`Record::kind`].
    pub kind: RecordKind,
    /// See [`Record::raw_ts`].
    pub raw_ts: RawTimestamp,
    /// See [`Record::ts_ns`].
    pub ts_ns: Option<i64>,
    /// See [`Record::orig_len`].
    pub orig_len: u32,
    /// See [`Record::data`].
    pub data: Vec<u8>,
    /// See [`Record::options`].
    pub options: Vec<u8>,
    /// See [`Record::extra`].
    pub extra: Vec<u8>,
}

impl Record<'_> {
    /// Copies the record's bytes.
    pub fn to_owned_record(&self) -> OwnedRecord {
        OwnedRecord {
            index: self.index,
            offset: self.offset,
            interface: self.interface,
            kind: self.kind,
            raw_ts: self.raw_ts,
            ts_ns: self.ts_ns,
            orig_len: self.orig_len,
            data: self.data.to_vec(),
            options: self.options.to_vec(),
            extra: self.extra.to_vec(),
        }
    }
}

impl OwnedRecord {
    /// Borrows it as a [`Record`].
    pub fn as_record(&self) -> Record<'_> {
        Record {
            index: self.index,
            offset: self.offset,
            interface: self.interface,
            kind: self.kind,
            raw_ts: self.raw_ts,
            ts_ns: self.ts_ns,
            orig_len: self.orig_len,
            data: &self.data,
            options: &self.options,
            extra: &self.extra,
        }
    }
    /// Bytes held in memory.
    pub fn held_bytes(&self) -> usize {
        self.data.len() + self.options.len() + self.extra.len() + 64
    }
}

pub use crate::units::rfc3339;
