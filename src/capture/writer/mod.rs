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

/// Zero bytes to pad packet data to a 4-byte boundary.
const PADDING: [u8; 3] = [0; 3];
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

    /// An encoder for a file that already holds records. A classic pcap file needs nothing
    /// more than its header to be written, so this is all its state; a pcapng file's encoder
    /// also remembers its section and interfaces and must be kept (see
    /// [`Encoder::carries_state`]).
    pub fn resumed(format: Format) -> Encoder {
        Encoder {
            started: true,
            ..Encoder::new(format)
        }
    }

    /// Whether this encoder knows more than [`Encoder::resumed`] would: true for pcapng.
    pub fn carries_state(&self) -> bool {
        self.pcapng
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
            out.extend_from_slice(PADDING.get(..pad).unwrap_or_default());
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
        out.extend_from_slice(PADDING.get(..pad).unwrap_or_default());
        out.extend_from_slice(rec.options);
        out.extend_from_slice(&e.put_u32(total as u32));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::reader::CaptureReader;
    use crate::capture::{LinkType, TsResolution};
    use proptest::prelude::*;

    fn pcap_header(endian: Endian, nanos: bool) -> Vec<u8> {
        let magic: u32 = if nanos { 0xa1b2_3c4d } else { 0xa1b2_c3d4 };
        let mut h = Vec::new();
        h.extend_from_slice(&endian.put_u32(magic));
        h.extend_from_slice(&endian.put_u16(2));
        h.extend_from_slice(&endian.put_u16(4));
        h.extend_from_slice(&[0; 8]);
        h.extend_from_slice(&endian.put_u32(65535));
        h.extend_from_slice(&endian.put_u32(1));
        h
    }

    fn shb(e: Endian) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&[0x0a, 0x0d, 0x0d, 0x0a]);
        b.extend_from_slice(&e.put_u32(28));
        b.extend_from_slice(&e.put_u32(0x1a2b_3c4d));
        b.extend_from_slice(&e.put_u16(1));
        b.extend_from_slice(&e.put_u16(0));
        b.extend_from_slice(&[0xff; 8]);
        b.extend_from_slice(&e.put_u32(28));
        b
    }

    fn idb(e: Endian, link: u16, tsresol: u8) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&e.put_u32(1));
        b.extend_from_slice(&e.put_u32(32));
        b.extend_from_slice(&e.put_u16(link));
        b.extend_from_slice(&e.put_u16(0));
        b.extend_from_slice(&e.put_u32(0));
        // if_tsresol, padded, then opt_endofopt
        b.extend_from_slice(&e.put_u16(9));
        b.extend_from_slice(&e.put_u16(1));
        b.extend_from_slice(&[tsresol, 0, 0, 0]);
        b.extend_from_slice(&[0; 4]);
        b.extend_from_slice(&e.put_u32(32));
        b
    }

    type Rec = (Vec<u8>, u32, u32, u32, u8);

    fn records() -> impl Strategy<Value = Vec<Rec>> {
        proptest::collection::vec(
            (
                proptest::collection::vec(any::<u8>(), 0..300),
                0u32..2000,
                any::<u32>(),
                any::<u32>(),
                0u8..2,
            )
                .prop_map(|(data, extra, a, b, iface)| {
                    let orig = data.len() as u32 + extra;
                    (data, orig, a, b, iface)
                }),
            0..40,
        )
    }

    /// Encodes `recs`, writes the file, reads it back.
    fn round_trip(format: Format, interfaces: &[Interface], sections: &[Section], recs: &[Rec]) {
        let mut enc = Encoder::new(format);
        let mut out = Vec::new();
        for (data, orig, a, b, iface) in recs {
            let pcapng = matches!(format, Format::Pcapng);
            let iface = if pcapng { u32::from(*iface) } else { 0 };
            let rec = Record {
                index: 0,
                offset: 0,
                interface: iface,
                kind: if pcapng {
                    RecordKind::Enhanced
                } else {
                    RecordKind::Pcap
                },
                raw_ts: if pcapng {
                    RawTimestamp::Pcapng { high: *a, low: *b }
                } else {
                    RawTimestamp::Pcap { sec: *a, frac: *b }
                },
                ts_ns: None,
                orig_len: *orig,
                data,
                options: &[],
                extra: &[],
            };
            enc.append(&rec, interfaces, sections, &mut out);
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("out");
        std::fs::write(&path, &out).expect("write");
        if recs.is_empty() {
            assert!(out.is_empty());
            return;
        }
        let mut reader = CaptureReader::open(&path, &Default::default()).expect("reads back");
        let mut got = Vec::new();
        while let Some((r, ifaces, _)) = reader.next_with_context() {
            let lt = ifaces.get(r.interface as usize).map(|i| i.link_type.0);
            got.push((r.data.to_vec(), r.orig_len, r.raw_ts, lt));
        }
        assert!(reader.damage().is_none(), "{:?}", reader.damage());
        let want: Vec<_> = recs
            .iter()
            .map(|(data, orig, a, b, iface)| {
                let pcapng = matches!(format, Format::Pcapng);
                let ts = if pcapng {
                    RawTimestamp::Pcapng { high: *a, low: *b }
                } else {
                    RawTimestamp::Pcap { sec: *a, frac: *b }
                };
                let lt = if pcapng {
                    interfaces[usize::from(*iface)].link_type.0
                } else {
                    1
                };
                (data.clone(), *orig, ts, Some(lt))
            })
            .collect();
        assert_eq!(got, want);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn round_trips_pcap(recs in records(), big: bool, nanos: bool) {
            let endian = if big { Endian::Big } else { Endian::Little };
            let header = pcap_header(endian, nanos);
            let interfaces = [Interface {
                section: 0,
                link_type: LinkType::ETHERNET,
                snaplen: 65535,
                resolution: if nanos { TsResolution::NANO } else { TsResolution::MICRO },
                ts_offset: 0,
                header,
            }];
            let sections = [Section { endian, shb: Vec::new() }];
            let format = Format::Pcap { endian, nanosecond: nanos, modified: false };
            round_trip(format, &interfaces, &sections, &recs);
        }

        #[test]
        fn round_trips_pcapng(recs in records(), big: bool) {
            let e = if big { Endian::Big } else { Endian::Little };
            let interfaces = [
                Interface { section: 0, link_type: LinkType::ETHERNET, snaplen: 0, resolution: TsResolution::MICRO, ts_offset: 0, header: idb(e, 1, 6) },
                Interface { section: 0, link_type: LinkType::RAW, snaplen: 0, resolution: TsResolution::NANO, ts_offset: 0, header: idb(e, 101, 9) },
            ];
            let sections = [Section { endian: e, shb: shb(e) }];
            round_trip(Format::Pcapng, &interfaces, &sections, &recs);
        }
    }
}
