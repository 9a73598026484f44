//! Writes records verbatim into new capture files of the input's own format.
//!
//! A classic pcap input gives classic pcap output with the input's file header (byte order,
//! link type, snaplen, micro- or nanosecond magic, even the "modified" variant), and every
//! record header is re-encoded from the record's own fields: captured bytes, original length
//! and timestamp are copied bit for bit. A pcapng input gives pcapng output that carries
//! only the sections and interface descriptions the file's records use, copied verbatim;
//! enhanced and obsolete packet blocks are written as enhanced packet blocks with their
//! options, simple packet blocks stay simple packet blocks.
//!
//! An [`Encoder`] appends to a byte buffer and never touches the filesystem: the caller
//! decides when buffered bytes go to disk.

use super::{Endian, Format, Interface, RawTimestamp, Record, RecordKind, Section};

const BLOCK_SHB_SECTION_LENGTH: std::ops::Range<usize> = 16..24;

/// Encodes one output file; see the module documentation.
#[derive(Debug, Clone)]
pub struct Encoder {
    pcapng: bool,
    started: bool,
    /// Input section of the output's current section.
    section: Option<u32>,
    /// Reader interface index of each interface written in the current output section.
    interfaces: Vec<u32>,
}

impl Encoder {
    /// An encoder producing files of the same format as the input.
    pub fn new(format: Format) -> Encoder {
        Encoder {
            pcapng: matches!(format, Format::Pcapng),
            started: false,
            section: None,
            interfaces: Vec::new(),
        }
    }

    /// The file name extension of the output (`pcap` or `pcapng`).
    pub fn extension(format: Format) -> &'static str {
        match format {
            Format::Pcapng => "pcapng",
            Format::Pcap { .. } => "pcap",
        }
    }

    /// Appends one record (and any headers it needs first) to `out`.
    pub fn append(
        &mut self,
        rec: &Record<'_>,
        interfaces: &[Interface],
        sections: &[Section],
        out: &mut Vec<u8>,
    ) {
        let Some(iface) = interfaces.get(rec.interface as usize) else {
            return;
        };
        if self.pcapng {
            self.append_pcapng(rec, iface, interfaces, sections, out);
        } else {
            let endian = sections.first().map_or(Endian::Little, |s| s.endian);
            if !self.started {
                out.extend_from_slice(&iface.header);
                self.started = true;
            }
            let (sec, frac) = match rec.raw_ts {
                RawTimestamp::Pcap { sec, frac } => (sec, frac),
                RawTimestamp::Pcapng { high, low } => (high, low),
                RawTimestamp::None => (0, 0),
            };
            out.extend_from_slice(&endian.put_u32(sec));
            out.extend_from_slice(&endian.put_u32(frac));
            out.extend_from_slice(&endian.put_u32(rec.data.len() as u32));
            out.extend_from_slice(&endian.put_u32(rec.orig_len));
            out.extend_from_slice(rec.extra);
            out.extend_from_slice(rec.data);
        }
    }

    fn append_pcapng(
        &mut self,
        rec: &Record<'_>,
        iface: &Interface,
        interfaces: &[Interface],
        sections: &[Section],
        out: &mut Vec<u8>,
    ) {
        let Some(section) = sections.get(iface.section as usize) else {
            return;
        };
        let e = section.endian;
        let simple = rec.kind == RecordKind::Simple;
        // A simple packet block always refers to interface 0 of its section, so that
        // interface must come first in the output section too.
        let needs_new_section = self.section != Some(iface.section)
            || (simple && self.interfaces.first().is_some_and(|&i| i != rec.interface));
        if needs_new_section {
            let mut shb = section.shb.clone();
            if let Some(len) = shb.get_mut(BLOCK_SHB_SECTION_LENGTH) {
                // The section length is no longer known: -1 ("not specified").
                len.fill(0xff);
            }
            out.extend_from_slice(&shb);
            self.section = Some(iface.section);
            self.interfaces.clear();
            self.started = true;
        }
        let local = match self.interfaces.iter().position(|&i| i == rec.interface) {
            Some(p) => p,
            None => {
                if let Some(desc) = interfaces.get(rec.interface as usize) {
                    out.extend_from_slice(&desc.header);
                }
                self.interfaces.push(rec.interface);
                self.interfaces.len() - 1
            }
        };
        let pad = (4 - rec.data.len() % 4) % 4;
        if simple {
            let total = 12 + 4 + rec.data.len() + pad;
            out.extend_from_slice(&e.put_u32(3));
            out.extend_from_slice(&e.put_u32(total as u32));
            out.extend_from_slice(&e.put_u32(rec.orig_len));
            out.extend_from_slice(rec.data);
            out.extend_from_slice(&[0u8; 3][..pad]);
            out.extend_from_slice(&e.put_u32(total as u32));
            return;
        }
        let (high, low) = match rec.raw_ts {
            RawTimestamp::Pcapng { high, low } => (high, low),
            RawTimestamp::Pcap { sec, frac } => (sec, frac),
            RawTimestamp::None => (0, 0),
        };
        let total = 12 + 20 + rec.data.len() + pad + rec.options.len();
        out.extend_from_slice(&e.put_u32(6));
        out.extend_from_slice(&e.put_u32(total as u32));
        out.extend_from_slice(&e.put_u32(local as u32));
        out.extend_from_slice(&e.put_u32(high));
        out.extend_from_slice(&e.put_u32(low));
        out.extend_from_slice(&e.put_u32(rec.data.len() as u32));
        out.extend_from_slice(&e.put_u32(rec.orig_len));
        out.extend_from_slice(rec.data);
        out.extend_from_slice(&[0u8; 3][..pad]);
        out.extend_from_slice(rec.options);
        out.extend_from_slice(&e.put_u32(total as u32));
    }
}
