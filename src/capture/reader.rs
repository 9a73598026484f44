//! Streaming reader for classic pcap and pcapng, plain or gzip-compressed.
//!
//! A [`Record`] borrows its bytes from the reader until the next call: from one buffer
//! reused for the whole file, or from the digest thread's chunk at hand (below), so memory
//! is bounded by the largest record, not by the capture. Every length field is checked
//! against the bytes present and against `Limits::max_record_bytes` before anything is
//! allocated. A problem after the file header (a record cut short, a block with a bad
//! length, garbage after the last record, a gzip stream that ends early) ends the stream
//! cleanly and is reported as [`Damage`]: every complete record before it has been returned.
//!
//! Formats follow the libpcap file format (draft-ietf-opsawg-pcap) and pcapng
//! (draft-ietf-opsawg-pcapng): sections of either byte order, interfaces with their own link
//! type, `if_tsresol` and `if_tsoffset`, enhanced, simple and obsolete packet blocks; other
//! blocks are skipped.
//!
//! The raw input is the file itself ([`CaptureReader::open`]), read with `read(2)` into the
//! buffer, or, when the capture's digests are wanted too, the chunks the digest thread reads
//! for them ([`CaptureReader::open_hashing`], [`hash::tee`]): then the file is read once for
//! both. A plain capture is then parsed in place in the chunk at hand, and only a header or
//! record cut by a chunk's end is copied, into the buffer, before parsing goes on in the
//! next chunk: copying every chunk would be one more pass over the whole file from memory,
//! which profiles of a split showed. A gzip file's decoder reads the chunks as it reads the
//! file, by copying, and the reader parses its output in the buffer. Either way the
//! progress counter counts the raw (compressed) bytes this reader has taken from its input.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::detect::{self, Magic};
use super::hash::{self, FileHashes, PendingHashes, TeeInput};
use super::{
    CaptureError, Damage, Endian, Format, Interface, LinkType, RawTimestamp, Record, RecordKind,
    Section, TsResolution,
};
use crate::limits::Limits;

/// Bytes asked of the operating system per read.
const READ_CHUNK: usize = 1 << 20;
/// Classic pcap file header.
const PCAP_HEADER_LEN: usize = 24;
/// Classic pcap record header; the "modified" format adds 8 bytes.
const PCAP_RECORD_LEN: usize = 16;
const PCAP_MODIFIED_EXTRA: usize = 8;
/// pcapng block type, total length and trailing total length.
const BLOCK_OVERHEAD: usize = 12;
/// pcapng byte-order magic as read in the section's own order.
const BYTE_ORDER_MAGIC: u32 = 0x1a2b_3c4d;
const BLOCK_SHB: u32 = 0x0a0d_0d0a;
const BLOCK_IDB: u32 = 0x0000_0001;
const BLOCK_PB: u32 = 0x0000_0002;
const BLOCK_SPB: u32 = 0x0000_0003;
const BLOCK_EPB: u32 = 0x0000_0006;
const OPT_END: u16 = 0;
const OPT_IF_TSRESOL: u16 = 9;
const OPT_IF_TSOFFSET: u16 = 14;

/// Counts the bytes read from the file itself (before decompression), for progress display.
struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Where the reader takes its bytes from. [`CaptureReader::open_input`] is given the raw
/// input (the file, or the digest thread's chunks) and keeps, after the magic, what the
/// reader parses: the same input, or a gzip decoder over it as a `Stream`.
enum Input {
    /// Read into `buf`: the file, or a gzip decoder over the file or the digest thread's
    /// chunks.
    Stream(Box<dyn Read + Send>),
    /// The digest thread's chunks, for a plain capture parsed where they are; `buf` holds
    /// only what straddles two of them.
    Chunks(TeeInput),
}

/// Reads packet records from one capture file; see the module documentation.
pub struct CaptureReader {
    path: PathBuf,
    input: Input,
    file_bytes: Arc<AtomicU64>,
    file_size: u64,
    compressed: bool,
    format: Format,
    /// The bytes read but not consumed are `buf[start..end]`, or, with `in_chunk`, the rest
    /// of the chunk at hand (see [`CaptureReader::held`]).
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// The window is the chunk at hand of `Input::Chunks`, not `buf` (which is then empty).
    /// Only `fill` moves between the two, so a record consumed from one is still there.
    in_chunk: bool,
    eof: bool,
    /// Offset in the uncompressed stream of the window's first byte.
    pos: u64,
    max_record: usize,
    sections: Vec<Section>,
    interfaces: Vec<Interface>,
    /// Global interface index of each interface of the current pcapng section.
    section_interfaces: Vec<u32>,
    endian: Endian,
    next_index: u64,
    damage: Option<Damage>,
    finished: bool,
}

impl CaptureReader {
    /// Opens a capture for reading (it is never opened for writing) and reads its header.
    pub fn open(path: &Path, limits: &Limits) -> Result<CaptureReader, CaptureError> {
        Self::open_with_progress(path, limits, Arc::new(AtomicU64::new(0)))
    }

    /// Like [`CaptureReader::open`], counting the file bytes read into `progress`.
    pub fn open_with_progress(
        path: &Path,
        limits: &Limits,
        progress: Arc<AtomicU64>,
    ) -> Result<CaptureReader, CaptureError> {
        Self::open_input(path, limits, progress, |file| {
            Ok((Input::Stream(Box::new(file)), ()))
        })
        .map(|(reader, ())| reader)
    }

    /// Like [`CaptureReader::open_with_progress`], with the capture's digests computed from
    /// the same read of the file: the digest thread of [`hash::tee`] reads it, and this
    /// reader parses the chunks that thread hashes (in place, unless the file is gzip). With
    /// `known_sha256` the SHA-256 is taken as given rather than computed. Collect the digests
    /// with [`CaptureReader::finish_hashes`].
    pub fn open_hashing(
        path: &Path,
        limits: &Limits,
        progress: Arc<AtomicU64>,
        known_sha256: Option<String>,
    ) -> Result<(CaptureReader, PendingHashes), CaptureError> {
        Self::open_input(path, limits, progress, |file| {
            hash::tee(file, known_sha256).map(|(tee, pending)| (Input::Chunks(tee), pending))
        })
    }

    /// The digests of the whole file, from the digest thread [`CaptureReader::open_hashing`]
    /// started, whether or not this reader reached the end. The reader lets go of its input
    /// first and reads nothing more: the digest thread may be waiting to hand that input a
    /// chunk, and must not wait on a reader that stopped.
    pub fn finish_hashes(&mut self, pending: PendingHashes) -> io::Result<FileHashes> {
        // The chunk at hand goes back with the input, so the window must not be in it.
        self.input = Input::Stream(Box::new(io::empty()));
        self.in_chunk = false;
        self.start = self.end;
        self.eof = true;
        self.finished = true;
        pending.join()
    }

    /// Opens `path` (checked, and opened for reading, here) and reads the header from the raw
    /// input `raw` makes of the file, which may read it itself or have it read elsewhere;
    /// `raw` also returns whatever else goes with that input.
    fn open_input<T>(
        path: &Path,
        limits: &Limits,
        progress: Arc<AtomicU64>,
        raw: impl FnOnce(File) -> io::Result<(Input, T)>,
    ) -> Result<(CaptureReader, T), CaptureError> {
        let io_err = |source| CaptureError::Io {
            path: path.to_path_buf(),
            source,
        };
        let meta = std::fs::metadata(path).map_err(io_err)?;
        if meta.is_dir() {
            return Err(CaptureError::IsDirectory {
                path: path.to_path_buf(),
            });
        }
        let file = File::open(path).map_err(io_err)?;
        let (raw_input, with) = raw(file).map_err(io_err)?;
        let file_bytes = progress;
        // The magic is read through `Read` whatever the input; then the bytes read so far
        // (`head`) come first in the window, or first in the gzip decoder's input.
        let (input, compressed, head) = match raw_input {
            Input::Stream(raw_input) => {
                let mut counted = Counting {
                    inner: raw_input,
                    count: file_bytes.clone(),
                };
                let (head, magic) = sniff_input(path, &mut counted)?;
                let (input, compressed) = stream_input(head, counted, magic);
                (input, compressed, Vec::new())
            }
            Input::Chunks(tee) => {
                let mut counted = Counting {
                    inner: tee,
                    count: file_bytes.clone(),
                };
                let (head, magic) = sniff_input(path, &mut counted)?;
                if magic == Magic::Gzip {
                    let (input, compressed) = stream_input(head, counted, magic);
                    (input, compressed, Vec::new())
                } else {
                    let tee = counted.inner;
                    // From here chunks are counted whole as they arrive; the rest of this
                    // one has been received but not yet read.
                    file_bytes.fetch_add(tee.rest().len() as u64, Ordering::Relaxed);
                    (Input::Chunks(tee), false, head)
                }
            }
        };
        let (buf, end) = match input {
            Input::Stream(_) => (vec![0; READ_CHUNK], 0),
            // Grown only to what straddles two chunks.
            Input::Chunks(_) => {
                let end = head.len();
                (head, end)
            }
        };
        let mut reader = CaptureReader {
            path: path.to_path_buf(),
            input,
            file_bytes,
            file_size: meta.len(),
            compressed,
            format: Format::Pcapng,
            buf,
            start: 0,
            end,
            in_chunk: false,
            eof: false,
            pos: 0,
            max_record: limits.max_record_bytes,
            sections: Vec::new(),
            interfaces: Vec::new(),
            section_interfaces: Vec::new(),
            endian: Endian::Little,
            next_index: 0,
            damage: None,
            finished: false,
        };
        reader.read_header()?;
        Ok((reader, with))
    }

    fn bad_header(&self, what: impl Into<String>) -> CaptureError {
        CaptureError::BadHeader {
            path: self.path.clone(),
            what: what.into(),
        }
    }

    fn read_header(&mut self) -> Result<(), CaptureError> {
        let inner = if self.compressed {
            "gzip-compressed "
        } else {
            ""
        };
        match self.fill(4) {
            Ok(true) => {}
            Ok(false) => {
                return Err(self.bad_header(format!(
                    "{inner}stream holds {} bytes, too few for a capture header",
                    self.available()
                )))
            }
            Err(e) => return Err(self.bad_header(format!("cannot decompress: {e}"))),
        }
        let head = self.window(0, 4).unwrap_or_default().to_vec();
        let format = match detect::sniff(&head) {
            Some(Magic::Capture(f)) => f,
            _ => {
                let _ = self.fill(16);
                let start = detect::describe_start(self.window(0, 16).unwrap_or(&head));
                return Err(CaptureError::NotACapture {
                    path: self.path.clone(),
                    start: format!("{start}, inside a gzip stream"),
                });
            }
        };
        self.format = format;
        match format {
            Format::Pcap {
                endian, nanosecond, ..
            } => {
                if !self.fill(PCAP_HEADER_LEN).unwrap_or(false) {
                    return Err(self.bad_header(format!(
                        "pcap file header cut short ({} of {PCAP_HEADER_LEN} bytes)",
                        self.available()
                    )));
                }
                let header = self.window(0, PCAP_HEADER_LEN).unwrap_or_default().to_vec();
                let snaplen = endian.u32(&header, 16).unwrap_or(0);
                let network = endian.u32(&header, 20).unwrap_or(0);
                self.endian = endian;
                self.sections.push(Section {
                    endian,
                    shb: Vec::new(),
                });
                self.interfaces.push(Interface {
                    section: 0,
                    link_type: LinkType((network & 0xffff) as u16),
                    snaplen,
                    resolution: if nanosecond {
                        TsResolution::NANO
                    } else {
                        TsResolution::MICRO
                    },
                    ts_offset: 0,
                    header,
                });
                self.consume(PCAP_HEADER_LEN);
            }
            Format::Pcapng => {
                // The first block must be a valid section header; anything else means the
                // file is not pcapng after all.
                if !self.fill(BLOCK_OVERHEAD + 16).unwrap_or(false) {
                    return Err(self.bad_header(format!(
                        "pcapng section header cut short ({} bytes)",
                        self.available()
                    )));
                }
                if self.section_endian().is_none() {
                    return Err(
                        self.bad_header("pcapng section header has no valid byte-order magic")
                    );
                }
            }
        }
        Ok(())
    }

    /// The path being read.
    pub fn path(&self) -> &Path {
        &self.path
    }
    /// The file format (after decompression).
    pub fn format(&self) -> Format {
        self.format
    }
    /// True when the file is gzip-compressed.
    pub fn compressed(&self) -> bool {
        self.compressed
    }
    /// The sections seen so far (one for classic pcap).
    pub fn sections(&self) -> &[Section] {
        &self.sections
    }
    /// The interfaces seen so far; `Record::interface` indexes this list.
    pub fn interfaces(&self) -> &[Interface] {
        &self.interfaces
    }
    /// Bytes of the file itself read so far (compressed bytes for gzip).
    pub fn file_bytes_read(&self) -> u64 {
        self.file_bytes.load(Ordering::Relaxed)
    }
    /// A handle on the count of file bytes read, for a progress display on another thread.
    pub fn progress_counter(&self) -> Arc<AtomicU64> {
        self.file_bytes.clone()
    }
    /// Size of the file on disk.
    pub fn file_size(&self) -> u64 {
        self.file_size
    }
    /// Packet records returned so far.
    pub fn records_read(&self) -> u64 {
        self.next_index
    }
    /// The damage that ended the stream early, if any (known once `next_record` returned `None`).
    pub fn damage(&self) -> Option<&Damage> {
        self.damage.as_ref()
    }

    /// The next packet record, or `None` at the end of the stream or at damage.
    pub fn next_record(&mut self) -> Option<Record<'_>> {
        self.next_with_context().map(|(r, _, _)| r)
    }

    /// The next packet record together with the interface and section lists it refers to.
    #[allow(clippy::type_complexity)]
    pub fn next_with_context(&mut self) -> Option<(Record<'_>, &[Interface], &[Section])> {
        if self.finished {
            return None;
        }
        let found = match self.format {
            Format::Pcap {
                endian, modified, ..
            } => self.next_pcap(endian, modified),
            Format::Pcapng => self.next_pcapng(),
        };
        match found {
            Ok(Some(span)) => {
                self.next_index += 1;
                let (_, base) = self.held();
                self.consume(span.len);
                let this = &*self;
                Some((this.record_at(base, span), &this.interfaces, &this.sections))
            }
            Ok(None) => {
                self.finished = true;
                None
            }
            Err(reason) => {
                self.finished = true;
                self.record_damage(reason);
                None
            }
        }
    }

    fn record_damage(&mut self, reason: String) {
        let mut unreadable = self.available() as u64;
        // Count what follows, so the warning can say how much was lost.
        match &mut self.input {
            Input::Stream(input) => {
                self.start = self.end;
                let mut scratch = vec![0u8; 64 * 1024];
                loop {
                    match input.read(&mut scratch) {
                        Ok(0) => break,
                        Ok(n) => unreadable += n as u64,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(_) => break,
                    }
                }
            }
            Input::Chunks(tee) => {
                // The window is the rest of the chunk, or in `buf` with that rest after it.
                if !self.in_chunk {
                    self.start = self.end;
                    unreadable += tee.rest().len() as u64;
                }
                tee.advance(usize::MAX);
                loop {
                    match tee.next_chunk() {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            unreadable += n as u64;
                            self.file_bytes.fetch_add(n as u64, Ordering::Relaxed);
                        }
                    }
                }
            }
        }
        self.damage = Some(Damage {
            offset: self.pos,
            unreadable_bytes: unreadable,
            record: self.next_index,
            reason,
        });
    }

    fn next_pcap(&mut self, endian: Endian, modified: bool) -> Result<Option<Span>, String> {
        let header_len = PCAP_RECORD_LEN + if modified { PCAP_MODIFIED_EXTRA } else { 0 };
        if !self.fill_or_damage(header_len, "pcap record header")? {
            return Ok(None);
        }
        let h = self.window(0, header_len).unwrap_or_default();
        let (sec, frac, caplen, orig_len) = match (
            endian.u32(h, 0),
            endian.u32(h, 4),
            endian.u32(h, 8),
            endian.u32(h, 12),
        ) {
            (Some(a), Some(b), Some(c), Some(d)) => (a, b, c, d),
            _ => return Err("pcap record header unreadable".into()),
        };
        let caplen = caplen as usize;
        if caplen > self.max_record {
            return Err(format!(
                "record {} claims {caplen} bytes, more than the {} byte limit for one packet",
                self.next_index, self.max_record
            ));
        }
        let total = header_len + caplen;
        if !self.fill(total).map_err(|e| self.read_failure(&e))? {
            return Err(format!(
                "record {} cut short ({} of {caplen} bytes present)",
                self.next_index,
                self.available().saturating_sub(header_len)
            ));
        }
        let resolution = if matches!(
            self.format,
            Format::Pcap {
                nanosecond: true,
                ..
            }
        ) {
            1
        } else {
            1_000
        };
        let ts_ns = i128::from(sec) * 1_000_000_000 + i128::from(frac) * resolution;
        Ok(Some(Span {
            offset: self.pos,
            len: total,
            data: header_len..total,
            options: total..total,
            extra: PCAP_RECORD_LEN..header_len,
            interface: 0,
            kind: RecordKind::Pcap,
            raw_ts: RawTimestamp::Pcap { sec, frac },
            ts_ns: Some(clamp_ns(ts_ns)),
            orig_len,
        }))
    }

    /// The byte order announced by a section header at the start of the window.
    fn section_endian(&self) -> Option<Endian> {
        let bom: [u8; 4] = self.window(8, 4)?.try_into().ok()?;
        if u32::from_le_bytes(bom) == BYTE_ORDER_MAGIC {
            Some(Endian::Little)
        } else if u32::from_be_bytes(bom) == BYTE_ORDER_MAGIC {
            Some(Endian::Big)
        } else {
            None
        }
    }

    fn next_pcapng(&mut self) -> Result<Option<Span>, String> {
        loop {
            if !self.fill_or_damage(8, "pcapng block header")? {
                return Ok(None);
            }
            let is_shb = self.window(0, 4) == Some(&detect::PCAPNG_SHB[..]);
            if is_shb {
                if !self.fill(12).map_err(|e| self.read_failure(&e))? {
                    return Err("section header block cut short".into());
                }
                self.endian = self.section_endian().ok_or_else(|| {
                    "section header block has no valid byte-order magic".to_string()
                })?;
            }
            let e = self.endian;
            let head = self.window(0, 8).unwrap_or_default();
            let block_type = e.u32(head, 0).unwrap_or(0);
            let total = e.u32(head, 4).unwrap_or(0) as usize;
            if total < BLOCK_OVERHEAD || total % 4 != 0 {
                return Err(format!(
                    "block of type 0x{block_type:08x} has an invalid length ({total} bytes)"
                ));
            }
            if total > self.max_record.saturating_add(64 * 1024) {
                return Err(format!(
                    "block of type 0x{block_type:08x} claims {total} bytes, more than the {} byte limit",
                    self.max_record
                ));
            }
            if !self.fill(total).map_err(|e| self.read_failure(&e))? {
                return Err(format!(
                    "block of type 0x{block_type:08x} cut short ({} of {total} bytes present)",
                    self.available()
                ));
            }
            let block = self.window(0, total).unwrap_or_default();
            if e.u32(block, total - 4) != Some(total as u32) {
                return Err(format!(
                    "block of type 0x{block_type:08x} has a trailing length that does not match its header"
                ));
            }
            let body = block.get(8..total - 4).unwrap_or_default();
            let found = match block_type {
                BLOCK_SHB => {
                    if body.len() < 16 {
                        return Err("section header block too short".into());
                    }
                    self.sections.push(Section {
                        endian: e,
                        shb: block.to_vec(),
                    });
                    self.section_interfaces.clear();
                    None
                }
                BLOCK_IDB => {
                    if self.sections.is_empty() {
                        return Err("interface description before any section header".into());
                    }
                    let iface = parse_idb(e, block, body, self.sections.len() - 1)
                        .ok_or_else(|| "interface description block too short".to_string())?;
                    self.section_interfaces.push(self.interfaces.len() as u32);
                    self.interfaces.push(iface);
                    None
                }
                BLOCK_EPB | BLOCK_PB => Some(self.packet_block(e, block_type, body, total)?),
                BLOCK_SPB => Some(self.simple_block(e, body, total)?),
                _ => None,
            };
            match found {
                Some(span) => return Ok(Some(span)),
                None => self.consume(total),
            }
        }
    }

    fn global_interface(&self, local: u32) -> Result<u32, String> {
        self.section_interfaces
            .get(local as usize)
            .copied()
            .ok_or_else(|| {
                format!(
                    "packet {} names interface {local}, which its section does not describe",
                    self.next_index
                )
            })
    }

    fn packet_block(
        &self,
        e: Endian,
        block_type: u32,
        body: &[u8],
        total: usize,
    ) -> Result<Span, String> {
        let short = || format!("packet block {} too short", self.next_index);
        let (local, high, low, caplen, orig_len, kind) = if block_type == BLOCK_EPB {
            (
                e.u32(body, 0).ok_or_else(short)?,
                e.u32(body, 4).ok_or_else(short)?,
                e.u32(body, 8).ok_or_else(short)?,
                e.u32(body, 12).ok_or_else(short)?,
                e.u32(body, 16).ok_or_else(short)?,
                RecordKind::Enhanced,
            )
        } else {
            (
                u32::from(e.u16(body, 0).ok_or_else(short)?),
                e.u32(body, 4).ok_or_else(short)?,
                e.u32(body, 8).ok_or_else(short)?,
                e.u32(body, 12).ok_or_else(short)?,
                e.u32(body, 16).ok_or_else(short)?,
                RecordKind::Obsolete,
            )
        };
        const FIXED: usize = 20;
        let caplen = caplen as usize;
        let padded = caplen.checked_add(3).map(|c| c & !3).unwrap_or(usize::MAX);
        if FIXED.saturating_add(padded) > body.len() {
            return Err(format!(
                "packet block {} says {caplen} captured bytes but holds only {}",
                self.next_index,
                body.len().saturating_sub(FIXED)
            ));
        }
        let interface = self.global_interface(local)?;
        let iface = self
            .interfaces
            .get(interface as usize)
            .ok_or_else(|| "interface table inconsistent".to_string())?;
        let units = (u64::from(high) << 32) | u64::from(low);
        let ts = iface.resolution.to_nanos(units) + i128::from(iface.ts_offset) * 1_000_000_000;
        let data_start = 8 + FIXED;
        Ok(Span {
            offset: self.pos,
            len: total,
            data: data_start..data_start + caplen,
            options: data_start + padded..total - 4,
            extra: 0..0,
            interface,
            kind,
            raw_ts: RawTimestamp::Pcapng { high, low },
            ts_ns: Some(clamp_ns(ts)),
            orig_len,
        })
    }

    fn simple_block(&self, e: Endian, body: &[u8], total: usize) -> Result<Span, String> {
        let orig_len = e
            .u32(body, 0)
            .ok_or_else(|| format!("simple packet block {} too short", self.next_index))?;
        let interface = self.global_interface(0)?;
        let snaplen = self
            .interfaces
            .get(interface as usize)
            .map(|i| i.snaplen)
            .unwrap_or(0);
        let mut caplen = (orig_len as usize).min(body.len().saturating_sub(4));
        if snaplen != 0 {
            caplen = caplen.min(snaplen as usize);
        }
        Ok(Span {
            offset: self.pos,
            len: total,
            data: 12..12 + caplen,
            options: total - 4..total - 4,
            extra: 0..0,
            interface,
            kind: RecordKind::Simple,
            raw_ts: RawTimestamp::None,
            ts_ns: None,
            orig_len,
        })
    }

    fn record_at(&self, base: usize, span: Span) -> Record<'_> {
        let (held, _) = self.held();
        let slice =
            |r: std::ops::Range<usize>| held.get(base + r.start..base + r.end).unwrap_or_default();
        Record {
            index: self.next_index - 1,
            offset: span.offset,
            interface: span.interface,
            kind: span.kind,
            raw_ts: span.raw_ts,
            ts_ns: span.ts_ns,
            orig_len: span.orig_len,
            data: slice(span.data),
            options: slice(span.options),
            extra: slice(span.extra),
        }
    }

    fn read_failure(&self, e: &io::Error) -> String {
        if self.compressed {
            format!("gzip stream ends early or is corrupt ({e})")
        } else {
            format!("read error: {e}")
        }
    }

    /// `fill(n)` where running out at a record boundary is a clean end but running out
    /// inside the header is damage.
    fn fill_or_damage(&mut self, n: usize, what: &str) -> Result<bool, String> {
        match self.fill(n) {
            Ok(true) => Ok(true),
            Ok(false) if self.available() == 0 => Ok(false),
            Ok(false) => Err(format!(
                "{what} cut short ({} of {n} bytes present)",
                self.available()
            )),
            Err(e) => Err(self.read_failure(&e)),
        }
    }

    /// The bytes the window lies in and where it starts: `buf[..end]` from `start`, or the
    /// chunk at hand from its first unconsumed byte. The window runs to the end of them.
    fn held(&self) -> (&[u8], usize) {
        match &self.input {
            Input::Chunks(tee) if self.in_chunk => (tee.chunk(), tee.at()),
            _ => (self.buf.get(..self.end).unwrap_or_default(), self.start),
        }
    }

    fn available(&self) -> usize {
        let (held, start) = self.held();
        held.len().saturating_sub(start)
    }

    fn window(&self, at: usize, len: usize) -> Option<&[u8]> {
        let (held, start) = self.held();
        let from = start.checked_add(at)?;
        let to = from.checked_add(len)?;
        held.get(from..to)
    }

    fn consume(&mut self, n: usize) {
        let n = n.min(self.available());
        match &mut self.input {
            Input::Chunks(tee) if self.in_chunk => tee.advance(n),
            _ => self.start += n,
        }
        self.pos += n as u64;
    }

    /// Makes at least `n` bytes available in the window; `Ok(false)` at end of stream.
    fn fill(&mut self, n: usize) -> io::Result<bool> {
        if self.available() >= n {
            return Ok(true);
        }
        match self.input {
            Input::Stream(_) => self.fill_from_stream(n),
            Input::Chunks(_) => self.fill_from_chunks(n),
        }
    }

    /// `fill` for `Input::Stream`: reads into `buf`, moving the window to its front (and
    /// growing it) when too little room is left after it.
    fn fill_from_stream(&mut self, n: usize) -> io::Result<bool> {
        let Input::Stream(input) = &mut self.input else {
            return Ok(false);
        };
        if self.buf.len() - self.start < n || self.buf.len() - self.end < READ_CHUNK / 4 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
            if self.buf.len() < n {
                let want = n.max(self.buf.len().saturating_mul(2)).max(READ_CHUNK);
                self.buf.resize(want, 0);
            }
        }
        while self.end - self.start < n {
            if self.eof {
                return Ok(false);
            }
            let room = self.buf.get_mut(self.end..).unwrap_or_default();
            match input.read(room) {
                Ok(0) => self.eof = true,
                Ok(got) => self.end += got,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.eof = true;
                    return Err(e);
                }
            }
        }
        Ok(true)
    }

    /// `fill` for `Input::Chunks`. While the next `n` bytes lie in the chunk at hand the
    /// window stays in it. When the chunk ends first, its rest and then just the missing
    /// bytes of the following chunk(s) are copied into `buf`, and the window is there until
    /// those bytes are consumed; then it goes back into the chunk, where the copy stopped.
    /// A chunk is given back only once the window has left it (or nothing of it is left).
    fn fill_from_chunks(&mut self, n: usize) -> io::Result<bool> {
        let Input::Chunks(tee) = &mut self.input else {
            return Ok(false);
        };
        loop {
            if self.in_chunk {
                let rest = tee.rest();
                if rest.len() >= n {
                    return Ok(true);
                }
                if !rest.is_empty() {
                    // Cut by the chunk's end: assemble in `buf`, starting with this rest.
                    self.buf.clear();
                    self.buf.reserve(n);
                    self.buf.extend_from_slice(rest);
                    self.start = 0;
                    self.end = self.buf.len();
                    self.in_chunk = false;
                    tee.advance(usize::MAX);
                    continue;
                }
            } else {
                let have = self.end.saturating_sub(self.start);
                if have >= n {
                    return Ok(true);
                }
                if have == 0 {
                    self.in_chunk = true;
                    continue;
                }
                let rest = tee.rest();
                if !rest.is_empty() {
                    // Only what is missing, so the rest of the chunk is parsed in place. `n`
                    // has passed the record limit, so `buf` stays within it.
                    self.buf.truncate(self.end);
                    self.buf.drain(..self.start.min(self.end));
                    self.start = 0;
                    let take = (n - have).min(rest.len());
                    self.buf.reserve(n.saturating_sub(self.buf.len()));
                    self.buf
                        .extend_from_slice(rest.get(..take).unwrap_or_default());
                    self.end = self.buf.len();
                    tee.advance(take);
                    continue;
                }
            }
            // Nothing of the chunk at hand is left outside `buf`: the next one.
            if self.eof {
                return Ok(false);
            }
            match tee.next_chunk() {
                Ok(0) => self.eof = true,
                Ok(got) => {
                    self.file_bytes.fetch_add(got as u64, Ordering::Relaxed);
                }
                Err(e) => {
                    self.eof = true;
                    return Err(e);
                }
            }
        }
    }
}

/// Where a record's parts sit in the buffer, relative to its first byte.
struct Span {
    offset: u64,
    len: usize,
    data: std::ops::Range<usize>,
    options: std::ops::Range<usize>,
    extra: std::ops::Range<usize>,
    interface: u32,
    kind: RecordKind,
    raw_ts: RawTimestamp,
    ts_ns: Option<i64>,
    orig_len: u32,
}

fn clamp_ns(v: i128) -> i64 {
    v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

/// Reads the first bytes of the raw input (at most the 4 of a magic) and what they announce;
/// no bytes or no known magic is an error.
fn sniff_input<R: Read>(
    path: &Path,
    counted: &mut Counting<R>,
) -> Result<(Vec<u8>, Magic), CaptureError> {
    let io_err = |source| CaptureError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut head = [0u8; 4];
    let got = read_up_to(counted, &mut head).map_err(io_err)?;
    let head = head.get(..got).unwrap_or_default();
    if head.is_empty() {
        return Err(CaptureError::Empty {
            path: path.to_path_buf(),
        });
    }
    match detect::sniff(head) {
        Some(magic) => Ok((head.to_vec(), magic)),
        None => {
            // Quote a little more than the magic so the user recognises the file.
            let mut more = head.to_vec();
            let mut f = File::open(path).map_err(io_err)?;
            let mut extra = [0u8; 16];
            if let Ok(n) = read_up_to(&mut f, &mut extra) {
                more = extra.get(..n).unwrap_or_default().to_vec();
            }
            Err(CaptureError::NotACapture {
                path: path.to_path_buf(),
                start: detect::describe_start(&more),
            })
        }
    }
}

/// The input read into the reader's buffer: `head` (already read) then the rest of the raw
/// input, through a gzip decoder when `magic` says gzip. Also whether it is compressed.
fn stream_input<R: Read + Send + 'static>(
    head: Vec<u8>,
    counted: Counting<R>,
    magic: Magic,
) -> (Input, bool) {
    let chained = io::Cursor::new(head).chain(counted);
    match magic {
        Magic::Gzip => (
            Input::Stream(Box::new(flate2::read::MultiGzDecoder::new(chained))),
            true,
        ),
        Magic::Capture(_) => (Input::Stream(Box::new(chained)), false),
    }
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(buf.get_mut(got..).unwrap_or_default()) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// Parses an interface description block: link type, snaplen, `if_tsresol`, `if_tsoffset`.
fn parse_idb(e: Endian, block: &[u8], body: &[u8], section: usize) -> Option<Interface> {
    let link_type = LinkType(e.u16(body, 0)?);
    let snaplen = e.u32(body, 4)?;
    let mut resolution = TsResolution::MICRO;
    let mut ts_offset = 0i64;
    let mut at = 8usize;
    while let (Some(code), Some(len)) = (e.u16(body, at), e.u16(body, at + 2)) {
        if code == OPT_END {
            break;
        }
        let value = body.get(at + 4..at + 4 + len as usize);
        match (code, value) {
            (OPT_IF_TSRESOL, Some(v)) => {
                if let Some(&r) = v.first() {
                    resolution = TsResolution(r);
                }
            }
            (OPT_IF_TSOFFSET, Some(v)) => {
                if let Some(off) = e.i64(v, 0) {
                    ts_offset = off;
                }
            }
            _ => {}
        }
        at += 4 + ((len as usize + 3) & !3);
    }
    Some(Interface {
        section: section as u32,
        link_type,
        snaplen,
        resolution,
        ts_offset,
        header: block.to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::hash::tests::small;

    /// (captured bytes, original length, timestamp, link type) of each record.
    type ReadBack = (Vec<u8>, u32, Option<i64>, u16);

    fn read_all(bytes: &[u8]) -> (Vec<ReadBack>, Option<Damage>) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("c");
        std::fs::write(&path, bytes).expect("write");
        let mut r = CaptureReader::open(&path, &Limits::default()).expect("opens");
        let mut out = Vec::new();
        while let Some((rec, ifaces, _)) = r.next_with_context() {
            let lt = ifaces[rec.interface as usize].link_type.0;
            out.push((rec.data.to_vec(), rec.orig_len, rec.ts_ns, lt));
        }
        (out, r.damage().cloned())
    }

    fn block(e: Endian, kind: u32, body: &[u8]) -> Vec<u8> {
        let total = 12 + body.len().div_ceil(4) * 4;
        let mut b = Vec::new();
        b.extend_from_slice(&e.put_u32(kind));
        b.extend_from_slice(&e.put_u32(total as u32));
        b.extend_from_slice(body);
        b.resize(total - 4, 0);
        b.extend_from_slice(&e.put_u32(total as u32));
        b
    }

    fn shb(e: Endian) -> Vec<u8> {
        let mut body = e.put_u32(BYTE_ORDER_MAGIC).to_vec();
        body.extend_from_slice(&e.put_u16(1)); // major version
        body.extend_from_slice(&e.put_u16(0)); // minor version
        body.extend_from_slice(&[0xff; 8]); // section length: unknown
        let mut b = block(e, BLOCK_SHB, &body);
        b.splice(0..4, detect::PCAPNG_SHB);
        b
    }

    fn idb(e: Endian, link: u16, snaplen: u32, options: &[(u16, Vec<u8>)]) -> Vec<u8> {
        let mut body = e.put_u16(link).to_vec();
        body.extend_from_slice(&[0, 0]);
        body.extend_from_slice(&e.put_u32(snaplen));
        push_options(e, &mut body, options);
        block(e, BLOCK_IDB, &body)
    }

    /// A block's options, each padded to 4 bytes, and the end-of-options marker.
    fn push_options<V: AsRef<[u8]>>(e: Endian, body: &mut Vec<u8>, options: &[(u16, V)]) {
        for (code, v) in options {
            let v = v.as_ref();
            body.extend_from_slice(&e.put_u16(*code));
            body.extend_from_slice(&e.put_u16(v.len() as u16));
            body.extend_from_slice(v);
            body.resize(body.len().div_ceil(4) * 4, 0);
        }
        body.extend_from_slice(&[0; 4]);
    }

    fn epb(e: Endian, iface: u32, ts: u64, data: &[u8], orig: u32) -> Vec<u8> {
        let mut body = e.put_u32(iface).to_vec();
        body.extend_from_slice(&e.put_u32((ts >> 32) as u32));
        body.extend_from_slice(&e.put_u32(ts as u32));
        body.extend_from_slice(&e.put_u32(data.len() as u32));
        body.extend_from_slice(&e.put_u32(orig));
        body.extend_from_slice(data);
        block(e, BLOCK_EPB, &body)
    }

    fn pcap(e: Endian, magic: u32, records: &[(u32, u32, &[u8])], extra: usize) -> Vec<u8> {
        let mut f = e.put_u32(magic).to_vec();
        f.extend_from_slice(&e.put_u16(2));
        f.extend_from_slice(&e.put_u16(4));
        f.extend_from_slice(&[0; 8]);
        f.extend_from_slice(&e.put_u32(96));
        f.extend_from_slice(&e.put_u32(1));
        for (sec, frac, data) in records {
            f.extend_from_slice(&e.put_u32(*sec));
            f.extend_from_slice(&e.put_u32(*frac));
            f.extend_from_slice(&e.put_u32(data.len() as u32));
            f.extend_from_slice(&e.put_u32(data.len() as u32 + 10));
            f.extend(std::iter::repeat_n(0xee, extra));
            f.extend_from_slice(data);
        }
        f
    }

    #[test]
    fn parses_pcap_every_magic() {
        for e in [Endian::Little, Endian::Big] {
            let (us, _) = read_all(&pcap(e, 0xa1b2_c3d4, &[(10, 5, b"abc")], 0));
            assert_eq!(us, vec![(b"abc".to_vec(), 13, Some(10_000_005_000), 1)]);
            let (ns, _) = read_all(&pcap(e, 0xa1b2_3c4d, &[(10, 5, b"abc")], 0));
            assert_eq!(ns[0].2, Some(10_000_000_005));
            let (modified, d) = read_all(&pcap(e, 0xa1b2_cd34, &[(1, 2, b"xy"), (3, 4, b"z")], 8));
            assert!(d.is_none());
            assert_eq!(modified.len(), 2);
            assert_eq!(modified[1].0, b"z".to_vec());
        }
    }

    #[test]
    fn parses_pcapng_sections_of_both_orders_with_resolution_and_offset() {
        let mut f = Vec::new();
        let le = Endian::Little;
        f.extend(shb(le));
        f.extend(idb(
            le,
            1,
            0,
            &[
                (OPT_IF_TSRESOL, vec![9]),
                (OPT_IF_TSOFFSET, 100i64.to_le_bytes().to_vec()),
            ],
        ));
        f.extend(epb(le, 0, 7, b"first", 5));
        f.extend(block(le, 0x0000_0bad, b"custom block, skipped"));
        let be = Endian::Big;
        f.extend(shb(be));
        f.extend(idb(be, 101, 3, &[]));
        f.extend(epb(be, 0, 2_000_001, b"second", 6));
        // simple packet block: interface 0 of this section, cut to its snaplen 3
        let mut spb = be.put_u32(6).to_vec();
        spb.extend_from_slice(b"thirdX");
        f.extend(block(be, BLOCK_SPB, &spb));
        let (recs, d) = read_all(&f);
        assert!(d.is_none(), "{d:?}");
        assert_eq!(
            recs,
            vec![
                (b"first".to_vec(), 5, Some(100_000_000_007), 1),
                (b"second".to_vec(), 6, Some(2_000_001_000), 101),
                (b"thi".to_vec(), 6, None, 101),
            ]
        );
    }

    #[test]
    fn parses_obsolete_packet_block() {
        let e = Endian::Little;
        let mut f = shb(e);
        f.extend(idb(e, 1, 0, &[]));
        let mut body = e.put_u16(0).to_vec();
        body.extend_from_slice(&e.put_u16(0));
        body.extend_from_slice(&e.put_u32(0));
        body.extend_from_slice(&e.put_u32(1));
        body.extend_from_slice(&e.put_u32(2));
        body.extend_from_slice(&e.put_u32(4));
        body.extend_from_slice(b"ab");
        f.extend(block(e, BLOCK_PB, &body));
        let (recs, d) = read_all(&f);
        assert!(d.is_none());
        assert_eq!(recs, vec![(b"ab".to_vec(), 4, Some(1_000), 1)]);
    }

    #[test]
    fn rejects_huge_record_length_as_damage() {
        let mut f = pcap(Endian::Little, 0xa1b2_c3d4, &[(1, 0, b"ok")], 0);
        let at = f.len();
        f.extend(pcap(Endian::Little, 0xa1b2_c3d4, &[(2, 0, b"zz")], 0).split_off(24));
        f[at + 8..at + 12].copy_from_slice(&0xffff_fff0u32.to_le_bytes());
        let (recs, d) = read_all(&f);
        assert_eq!(recs.len(), 1);
        let d = d.expect("damage");
        assert_eq!((d.offset, d.record, d.unreadable_bytes), (at as u64, 1, 18));
        assert!(d.reason.contains("claims 4294967280 bytes"), "{}", d.reason);
    }

    #[test]
    fn rejects_bad_block_length_and_cut_records_as_damage() {
        let e = Endian::Little;
        let mut f = shb(e);
        f.extend(idb(e, 1, 0, &[]));
        f.extend(epb(e, 0, 1, b"kept", 4));
        let bad_at = f.len();
        let mut bad = epb(e, 0, 2, b"lost", 4);
        bad[4..8].copy_from_slice(&e.put_u32(30)); // not a multiple of 4
        f.extend(bad);
        let (recs, d) = read_all(&f);
        assert_eq!(recs.len(), 1);
        let d = d.expect("damage");
        assert_eq!(d.offset, bad_at as u64);
        assert!(d.reason.contains("invalid length"), "{}", d.reason);

        let mut cut = pcap(
            Endian::Little,
            0xa1b2_c3d4,
            &[(1, 0, b"one"), (2, 0, b"two")],
            0,
        );
        cut.truncate(cut.len() - 2);
        let (recs, d) = read_all(&cut);
        assert_eq!(recs.len(), 1);
        assert!(d.expect("damage").reason.contains("cut short"));
    }

    #[test]
    fn rejects_packet_for_undefined_interface() {
        let e = Endian::Little;
        let mut f = shb(e);
        f.extend(idb(e, 1, 0, &[]));
        f.extend(epb(e, 3, 1, b"x", 1));
        let (recs, d) = read_all(&f);
        assert!(recs.is_empty());
        assert!(d.expect("damage").reason.contains("interface 3"));
    }

    /// The raw input of [`CaptureReader::open_input`]: the digest thread's chunks, cut as
    /// `shape` says.
    fn teed(shape: hash::Shape) -> impl FnOnce(File) -> io::Result<(Input, PendingHashes)> {
        move |file| {
            hash::tee_from(file, None, shape).map(|(tee, pending)| (Input::Chunks(tee), pending))
        }
    }

    fn corpus_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
    }

    /// Every record (bytes, length, time, interface) and the damage.
    type Records = (Vec<(Vec<u8>, u32, Option<i64>, u32)>, Option<Damage>);

    /// [`Records`] read to the end.
    fn records_of(r: &mut CaptureReader) -> Records {
        let mut out = Vec::new();
        while let Some(rec) = r.next_record() {
            out.push((rec.data.to_vec(), rec.orig_len, rec.ts_ns, rec.interface));
        }
        (out, r.damage().cloned())
    }

    /// Read through the digest thread's chunks, in 1 MiB chunks or a few bytes at a time,
    /// every corpus capture (plain, pcapng, gzip, damaged) gives the records and damage it
    /// gives read from the file, the progress counter counts the file's bytes, and the digests
    /// are the file's.
    #[test]
    fn reading_through_the_digest_thread_changes_nothing() {
        let limits = Limits::default();
        let mut captures: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
            .expect("tests/data")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file() && !p.extension().is_some_and(|e| e == "tsv" || e == "md"))
            .collect();
        captures.sort();
        let mut compared = 0;
        for path in &captures {
            let Ok(mut direct) = CaptureReader::open(path, &limits) else {
                continue;
            };
            let want = records_of(&mut direct);
            let whole = hash::all_hashes(path).expect("hashes");
            // Chunks of a few bytes cut nearly every record; on the larger captures an odd
            // size does that often enough without a thread hand-off every few bytes.
            let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
            let chunk = if size < 100_000 { 5 } else { 4093 };
            for shape in [
                hash::Shape::DEFAULT,
                hash::Shape {
                    chunk,
                    in_flight: 2,
                },
            ] {
                let progress = Arc::new(AtomicU64::new(0));
                let (mut r, pending) =
                    CaptureReader::open_input(path, &limits, progress.clone(), teed(shape))
                        .expect("opens");
                assert_eq!(records_of(&mut r), want, "{}", path.display());
                assert_eq!(progress.load(Ordering::Relaxed), r.file_size());
                assert_eq!(r.finish_hashes(pending).expect("digests"), whole);
            }
            compared += 1;
        }
        assert!(compared >= 30, "only {compared} captures compared");
    }

    /// A reader that stops after a few records still gets the digests of the whole file.
    #[test]
    fn a_reader_stopped_early_gets_the_whole_files_digests() {
        let path = corpus_dir().join("zeek__wikipedia.pcap");
        let (mut r, pending) = CaptureReader::open_input(
            &path,
            &Limits::default(),
            Arc::default(),
            teed(small(512, 1)),
        )
        .expect("opens");
        assert!(r.next_record().is_some());
        assert!(r.file_bytes_read() < r.file_size());
        let whole = hash::all_hashes(&path).expect("hashes");
        assert_eq!(r.finish_hashes(pending).expect("digests"), whole);
        assert!(r.next_record().is_none());
    }

    /// A read error in the digest thread is reported by the reader exactly as the same error
    /// reading the file itself (damage, after the same records), and fails the digests.
    #[test]
    fn a_read_error_on_the_digest_thread_is_the_readers_read_error() {
        use super::hash::tests::{FailsAfter, EIO};
        let path = corpus_dir().join("zeek__wikipedia.pcap");
        let data = std::fs::read(&path).expect("capture");
        let limits = Limits::default();
        for fail_at in [1000, data.len() / 2, data.len() - 1] {
            let failing = || FailsAfter {
                data: data.clone(),
                fail_at,
                at: 0,
            };
            let (mut direct, ()) =
                CaptureReader::open_input(&path, &limits, Arc::default(), |_| {
                    Ok((Input::Stream(Box::new(failing())), ()))
                })
                .expect("opens");
            let want = records_of(&mut direct);
            let damage = want.1.clone().expect("damage");
            assert!(
                damage.reason.starts_with("read error: "),
                "{}",
                damage.reason
            );
            // Chunks of 7 bytes put the error after a record cut by a chunk's end, and
            // inside one.
            for shape in [small(4096, 2), small(7, 1)] {
                let (mut teed, pending) =
                    CaptureReader::open_input(&path, &limits, Arc::default(), |_| {
                        hash::tee_from(failing(), None, shape)
                            .map(|(tee, pending)| (Input::Chunks(tee), pending))
                    })
                    .expect("opens");
                assert_eq!(records_of(&mut teed), want);
                let failed = teed.finish_hashes(pending).expect_err("digests fail");
                assert_eq!(failed.raw_os_error(), Some(EIO));
            }
        }
    }

    /// One record as a reader returns it, every field.
    type WholeRecord = (
        u64,
        u64,
        u32,
        RecordKind,
        RawTimestamp,
        Option<i64>,
        u32,
        Vec<u8>,
        Vec<u8>,
        Vec<u8>,
    );

    /// Everything a reader tells about a capture: its format, every record whole, the damage,
    /// and the interfaces and sections it read.
    #[derive(Debug, PartialEq)]
    struct Told {
        format: Format,
        records: Vec<WholeRecord>,
        damage: Option<Damage>,
        interfaces: Vec<(u32, u16, u32, TsResolution, i64, Vec<u8>)>,
        sections: Vec<(Endian, Vec<u8>)>,
    }

    /// [`Told`], reading `r` to its end.
    fn told(r: &mut CaptureReader) -> Told {
        let mut records = Vec::new();
        while let Some(rec) = r.next_record() {
            records.push((
                rec.index,
                rec.offset,
                rec.interface,
                rec.kind,
                rec.raw_ts,
                rec.ts_ns,
                rec.orig_len,
                rec.data.to_vec(),
                rec.options.to_vec(),
                rec.extra.to_vec(),
            ));
        }
        Told {
            format: r.format(),
            records,
            damage: r.damage().cloned(),
            interfaces: r
                .interfaces()
                .iter()
                .map(|i| {
                    let (section, link, snaplen) = (i.section, i.link_type.0, i.snaplen);
                    (
                        section,
                        link,
                        snaplen,
                        i.resolution,
                        i.ts_offset,
                        i.header.clone(),
                    )
                })
                .collect(),
            sections: r
                .sections()
                .iter()
                .map(|s| (s.endian, s.shb.clone()))
                .collect(),
        }
    }

    /// What reading `bytes` tells from the file itself, and what it tells through the digest
    /// thread cut as `shape` says (or the error opening it gives, in words). Checks too that
    /// the second counts every byte of the file and gets the file's digests.
    fn plain_and_teed(
        bytes: &[u8],
        limits: &Limits,
        shape: hash::Shape,
    ) -> (Result<Told, String>, Result<Told, String>) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("c");
        std::fs::write(&path, bytes).expect("write");
        let plain = CaptureReader::open(&path, limits)
            .map(|mut r| told(&mut r))
            .map_err(|e| e.to_string());
        let progress = Arc::new(AtomicU64::new(0));
        let teed = match CaptureReader::open_input(&path, limits, progress.clone(), teed(shape)) {
            Ok((mut r, pending)) => {
                let got = told(&mut r);
                assert_eq!(progress.load(Ordering::Relaxed), bytes.len() as u64);
                let whole = hash::tests::expected(bytes);
                assert_eq!(r.finish_hashes(pending).expect("digests"), whole);
                Ok(got)
            }
            Err(e) => Err(e.to_string()),
        };
        (plain, teed)
    }

    /// pcapng enhanced packet block with options after the (padded) data.
    fn epb_with_options(
        e: Endian,
        iface: u32,
        ts: u64,
        data: &[u8],
        options: &[(u16, &[u8])],
    ) -> Vec<u8> {
        let mut body = e.put_u32(iface).to_vec();
        body.extend_from_slice(&e.put_u32((ts >> 32) as u32));
        body.extend_from_slice(&e.put_u32(ts as u32));
        body.extend_from_slice(&e.put_u32(data.len() as u32));
        body.extend_from_slice(&e.put_u32(data.len() as u32 + 3));
        body.extend_from_slice(data);
        body.resize(body.len().div_ceil(4) * 4, 0);
        push_options(e, &mut body, options);
        block(e, BLOCK_EPB, &body)
    }

    /// Records of many sizes (empty, a few bytes, more than a small chunk).
    fn payloads() -> Vec<Vec<u8>> {
        [0usize, 1, 3, 4, 60, 5, 300, 2, 97]
            .iter()
            .enumerate()
            .map(|(i, &n)| (0..n).map(|b| (b * 31 + i * 7) as u8).collect())
            .collect()
    }

    /// Captures for comparing the two inputs: pcap of both byte orders with micro- and
    /// nanosecond and modified records, pcapng with two sections of either order and several
    /// interfaces (options, simple and obsolete packets, a skipped block), and damaged ones.
    fn fixtures() -> Vec<Vec<u8>> {
        let payloads = payloads();
        let recs: Vec<(u32, u32, &[u8])> = payloads
            .iter()
            .enumerate()
            .map(|(i, p)| (1_000 + i as u32, 999_999 - i as u32, p.as_slice()))
            .collect();
        let mut out = Vec::new();
        for e in [Endian::Little, Endian::Big] {
            out.push(pcap(e, 0xa1b2_c3d4, &recs, 0));
            out.push(pcap(e, 0xa1b2_3c4d, &recs, 0));
            out.push(pcap(e, 0xa1b2_cd34, &recs, 8));
        }
        let (le, be) = (Endian::Little, Endian::Big);
        let mut ng = shb(le);
        ng.extend(idb(le, 1, 0, &[(OPT_IF_TSRESOL, vec![9])]));
        ng.extend(idb(
            le,
            101,
            64,
            &[(OPT_IF_TSOFFSET, 10i64.to_le_bytes().to_vec())],
        ));
        for (i, p) in payloads.iter().enumerate() {
            let comment: &[u8] = if i % 2 == 0 { b"a comment" } else { b"xy" };
            ng.extend(epb_with_options(
                le,
                (i % 2) as u32,
                7 + i as u64,
                p,
                &[(1, comment)],
            ));
        }
        ng.extend(block(le, 0x0000_0bad, &[0x42; 70]));
        let mut spb = le.put_u32(300).to_vec();
        spb.extend_from_slice(&payloads[6]);
        ng.extend(block(le, BLOCK_SPB, &spb));
        ng.extend(shb(be));
        ng.extend(idb(be, 105, 0, &[]));
        ng.extend(idb(be, 1, 0, &[(OPT_IF_TSRESOL, vec![0x83])]));
        for (i, p) in payloads.iter().enumerate() {
            ng.extend(epb(
                be,
                (i % 2) as u32,
                1 << 33 | i as u64,
                p,
                p.len() as u32,
            ));
        }
        let mut pb = be.put_u16(1).to_vec();
        pb.extend_from_slice(&be.put_u16(0));
        pb.extend_from_slice(&be.put_u32(0));
        pb.extend_from_slice(&be.put_u32(5));
        pb.extend_from_slice(&be.put_u32(3));
        pb.extend_from_slice(&be.put_u32(3));
        pb.extend_from_slice(b"pb!");
        ng.extend(block(be, BLOCK_PB, &pb));
        out.push(ng.clone());

        // Damage after good records: a record claiming too much, garbage at the end, a
        // block whose trailing length disagrees, a packet for an undefined interface.
        let mut huge = pcap(le, 0xa1b2_c3d4, &recs, 0);
        let at = huge.len();
        huge.extend(pcap(le, 0xa1b2_c3d4, &[(9, 9, b"lost")], 0).split_off(24));
        huge[at + 8..at + 12].copy_from_slice(&0xffff_fff0u32.to_le_bytes());
        out.push(huge);
        let mut garbage = pcap(be, 0xa1b2_3c4d, &recs, 0);
        garbage.extend_from_slice(b"\x00\x01 trailing bytes that are no record at all");
        out.push(garbage);
        let mut trailing = ng.clone();
        let mut bad = epb(be, 0, 1, b"bad trailer", 11);
        let n = bad.len();
        bad[n - 1] ^= 0x40;
        trailing.extend(bad);
        trailing.extend(epb(be, 0, 2, b"after", 5));
        out.push(trailing);
        let mut undefined = ng;
        undefined.extend(epb(be, 7, 1, b"nowhere", 7));
        out.push(undefined);
        out
    }

    /// Every fixture whole, and three (pcap little-endian, big-endian modified, and pcapng)
    /// cut at every byte: inside the file header, record headers, block headers and record
    /// data, each cut read through chunks of a size that changes with the cut. The records,
    /// the damage (offset, bytes after it, record, reason) and the interfaces read through
    /// the digest thread are those read from the file.
    #[test]
    fn cut_captures_read_through_the_tee_like_the_file() {
        let limits = Limits::default();
        let fixtures = fixtures();
        for (f, bytes) in fixtures.iter().enumerate() {
            for shape in [small(1 << 20, 4), small(3, 2)] {
                let (plain, teed) = plain_and_teed(bytes, &limits, shape);
                let whole = plain.expect("a fixture opens");
                assert_eq!(teed.as_ref(), Ok(&whole), "fixture {f}");
                assert!(whole.records.len() >= payloads().len(), "fixture {f}");
            }
        }
        let mut reasons = std::collections::BTreeSet::new();
        for f in [0, 5, 6] {
            let bytes = &fixtures[f];
            for cut in 0..bytes.len() {
                // Up to twice the largest header, so some headers are cut too.
                let chunk = 1 + cut % 53;
                let (plain, teed) =
                    plain_and_teed(&bytes[..cut], &limits, small(chunk, 1 + cut % 3));
                assert_eq!(plain, teed, "fixture {f} cut at {cut}, chunks of {chunk}");
                if let Ok(Told {
                    damage: Some(d), ..
                }) = plain
                {
                    // The reason without its numbers: which kind of cut it was.
                    reasons.insert(d.reason.replace(|c: char| c.is_ascii_digit(), ""));
                }
            }
        }
        for kind in [
            "pcap record header cut short",
            "record  cut short",
            "pcapng block header cut short",
            "block of type x cut short",
        ] {
            assert!(
                reasons.iter().any(|r| r.starts_with(kind)),
                "no cut made `{kind}`: {reasons:?}"
            );
        }
    }

    /// A record the 1 MiB chunk holds whole is parsed where it lies in the chunk; one a
    /// chunk's end cuts is assembled in the reader's own buffer, no bigger than the record.
    #[test]
    fn parses_records_in_place_in_the_chunk() {
        let bytes = &fixtures()[0];
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("c");
        std::fs::write(&path, bytes).expect("write");
        for (chunk, in_place) in [(1 << 20, true), (50, false)] {
            let (mut r, pending) = CaptureReader::open_input(
                &path,
                &Limits::default(),
                Arc::default(),
                teed(small(chunk, 2)),
            )
            .expect("opens");
            let mut seen = 0;
            while let Some(rec) = r.next_record() {
                if rec.data.len() < 60 {
                    continue;
                }
                let (at, len) = (rec.data.as_ptr() as usize, rec.data.len());
                let Input::Chunks(tee) = &r.input else {
                    panic!("reads the chunks");
                };
                let (held, from) = if r.in_chunk {
                    (tee.chunk(), "chunk")
                } else {
                    (r.buf.as_slice(), "buffer")
                };
                let (start, end) = (held.as_ptr() as usize, held.as_ptr() as usize + held.len());
                assert!(
                    start <= at && at + len <= end,
                    "record {seen} not in the {from}"
                );
                assert_eq!(r.in_chunk, in_place, "chunks of {chunk}");
                seen += 1;
            }
            assert_eq!(seen, 3);
            assert!(r.damage().is_none());
            // The largest record is 316 bytes with its header; growth may double that.
            assert!(r.buf.capacity() <= 2 * 316, "{}", r.buf.capacity());
            r.finish_hashes(pending).expect("digests");
        }
    }

    /// Runs `f` on another thread and fails, rather than hangs, when it takes over a minute.
    fn within_a_minute(f: impl FnOnce() + Send + 'static) {
        let (done, finished) = std::sync::mpsc::channel();
        let worker = std::thread::spawn(move || {
            f();
            let _ = done.send(());
        });
        match finished.recv_timeout(std::time::Duration::from_secs(60)) {
            Ok(()) => worker.join().expect("no panic"),
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                if let Err(panic) = worker.join() {
                    std::panic::resume_unwind(panic);
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => panic!("hung"),
        }
    }

    /// A reader that stops in the middle of the file (its window in a chunk, or in its own
    /// buffer after a record cut by a chunk's end), while the digest thread waits to hand it
    /// more, neither hangs `finish_hashes` nor, dropped instead, the digests; both are the
    /// whole file's.
    #[test]
    fn a_reader_stopped_mid_file_never_hangs_the_digests() {
        let payloads = payloads();
        let recs: Vec<(u32, u32, &[u8])> = (0..600u32)
            .map(|i| (i, i, payloads[i as usize % payloads.len()].as_slice()))
            .collect();
        let bytes = pcap(Endian::Little, 0xa1b2_c3d4, &recs, 0);
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("c");
        std::fs::write(&path, &bytes).expect("write");
        let whole = hash::all_hashes(&path).expect("hashes");
        let total = recs.len();
        // Chunks of 1 byte cut every record, so none is read in place.
        for (chunk, stop_in_chunk) in [
            (1, false),
            (64, true),
            (64, false),
            (4096, true),
            (4096, false),
        ] {
            for finish in [true, false] {
                let (path, whole) = (path.clone(), whole.clone());
                within_a_minute(move || {
                    let (mut r, pending) = CaptureReader::open_input(
                        &path,
                        &Limits::default(),
                        Arc::default(),
                        teed(small(chunk, 1)),
                    )
                    .expect("opens");
                    // Stop at the first record past the tenth whose window is where
                    // this case wants it.
                    let mut n = 0;
                    while r.next_record().is_some() {
                        n += 1;
                        if n > 10 && r.in_chunk == stop_in_chunk {
                            break;
                        }
                    }
                    assert!(n < total, "stopped mid-file");
                    assert!(r.file_bytes_read() < r.file_size());
                    if finish {
                        assert_eq!(r.finish_hashes(pending).expect("digests"), whole);
                        assert!(r.next_record().is_none());
                    } else {
                        drop(r);
                        assert_eq!(pending.join().expect("digests"), whole);
                    }
                });
            }
        }
    }

    proptest::proptest! {
        /// Any fixture, cut anywhere, read through chunks of any small size and queue
        /// length, with the default record limit or one some records exceed: the reader tells
        /// exactly what it tells reading the file.
        #[test]
        fn reading_in_place_is_reading_the_file(
            which in proptest::prelude::any::<proptest::sample::Index>(),
            cut in proptest::prelude::any::<proptest::sample::Index>(),
            chunk in 1usize..80,
            in_flight in 1usize..5,
            small_limit in proptest::prelude::any::<bool>(),
        ) {
            let fixtures = fixtures();
            let bytes = &fixtures[which.index(fixtures.len())];
            let bytes = &bytes[..cut.index(bytes.len() + 1)];
            let limits = Limits {
                max_record_bytes: if small_limit { 200 } else { Limits::default().max_record_bytes },
                ..Limits::default()
            };
            let (plain, teed) = plain_and_teed(bytes, &limits, small(chunk, in_flight));
            proptest::prop_assert_eq!(plain, teed);
        }
    }

    #[test]
    fn parses_every_corpus_capture_like_the_manifest() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
        let manifest = std::fs::read_to_string(dir.join("MANIFEST.tsv")).expect("manifest");
        for line in manifest.lines().skip(1) {
            let cols: Vec<&str> = line.split('\t').collect();
            let (name, packets) = (cols[0], cols[6].parse::<u64>().expect("packets"));
            let mut r = CaptureReader::open(&dir.join(name), &Limits::default()).expect(name);
            let mut n = 0;
            while r.next_record().is_some() {
                n += 1;
            }
            assert_eq!(n, packets, "{name}");
        }
    }
}
