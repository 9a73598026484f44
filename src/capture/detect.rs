//! Format detection from the first bytes of a file, never from its name.

use super::{Endian, Format};

/// gzip member magic (RFC 1952).
pub const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// pcapng section header block type, identical in both byte orders.
pub const PCAPNG_SHB: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];

/// What the first four bytes announce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Magic {
    /// A gzip stream: look again inside it.
    Gzip,
    /// A capture format.
    Capture(Format),
}

/// Identifies the format from the first bytes, or `None`.
pub fn sniff(head: &[u8]) -> Option<Magic> {
    if head.starts_with(&GZIP_MAGIC) {
        return Some(Magic::Gzip);
    }
    let m: [u8; 4] = head.get(..4)?.try_into().ok()?;
    if m == PCAPNG_SHB {
        return Some(Magic::Capture(Format::Pcapng));
    }
    let (endian, nanosecond, modified) = match u32::from_le_bytes(m) {
        0xa1b2_c3d4 => (Endian::Little, false, false),
        0xa1b2_3c4d => (Endian::Little, true, false),
        0xa1b2_cd34 => (Endian::Little, false, true),
        _ => match u32::from_be_bytes(m) {
            0xa1b2_c3d4 => (Endian::Big, false, false),
            0xa1b2_3c4d => (Endian::Big, true, false),
            0xa1b2_cd34 => (Endian::Big, false, true),
            _ => return None,
        },
    };
    Some(Magic::Capture(Format::Pcap {
        endian,
        nanosecond,
        modified,
    }))
}

/// Quotes the first bytes of a file for an error message: as text when they are printable
/// (`"GET /"`), otherwise as hex (`0x7f454c46`).
pub fn describe_start(head: &[u8]) -> String {
    let head = head.get(..head.len().min(8)).unwrap_or_default();
    let printable = !head.is_empty()
        && head
            .iter()
            .all(|&b| b.is_ascii_graphic() || b == b' ' || b == b'\t' || b == b'\n' || b == b'\r');
    if printable {
        let text: String = head
            .iter()
            .take_while(|&&b| b != b'\n' && b != b'\r')
            .map(|&b| b as char)
            .collect();
        format!("\"{}\"", text.trim_end())
    } else {
        format!("0x{}", hex::encode(head))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_every_pcap_magic() {
        for (bytes, endian, ns, modified) in [
            ([0xd4, 0xc3, 0xb2, 0xa1], Endian::Little, false, false),
            ([0xa1, 0xb2, 0xc3, 0xd4], Endian::Big, false, false),
            ([0x4d, 0x3c, 0xb2, 0xa1], Endian::Little, true, false),
            ([0xa1, 0xb2, 0x3c, 0x4d], Endian::Big, true, false),
            ([0x34, 0xcd, 0xb2, 0xa1], Endian::Little, false, true),
            ([0xa1, 0xb2, 0xcd, 0x34], Endian::Big, false, true),
        ] {
            assert_eq!(
                sniff(&bytes),
                Some(Magic::Capture(Format::Pcap {
                    endian,
                    nanosecond: ns,
                    modified
                }))
            );
        }
        assert_eq!(sniff(&PCAPNG_SHB), Some(Magic::Capture(Format::Pcapng)));
        assert_eq!(sniff(&[0x1f, 0x8b, 8, 0]), Some(Magic::Gzip));
    }

    #[test]
    fn rejects_text_and_short_input() {
        assert_eq!(sniff(b"GET / HTTP/1.1"), None);
        assert_eq!(sniff(b"ab"), None);
        assert_eq!(describe_start(b"GET / HTTP/1.1\r\n"), "\"GET / HT\"");
        assert_eq!(describe_start(&[0x7f, b'E', b'L', b'F']), "0x7f454c46");
    }
}
