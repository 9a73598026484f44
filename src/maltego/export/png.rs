//! A minimal PNG writer for the placeholder entity icons: 8-bit RGBA, no interlace, filter 0,
//! the image data zlib-wrapped in *stored* (uncompressed) deflate blocks. Stored blocks keep
//! the encoder infallible and the output byte-for-byte reproducible; the `.mtz` entry is
//! deflated by the ZIP writer anyway. CRC-32 comes from `flate2::Crc`.

/// The eight bytes every PNG file starts with.
pub(crate) const SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];

/// A placeholder icon of `size`×`size` pixels: a disc in a colour derived from `seed` (the
/// entity id), with a darker rim and a light centre, on a transparent background.
pub(crate) fn placeholder_icon(size: u32, seed: &str) -> Vec<u8> {
    const PALETTE: [[u8; 3]; 8] = [
        [0x1f, 0x77, 0xb4],
        [0xff, 0x7f, 0x0e],
        [0x2c, 0xa0, 0x2c],
        [0xd6, 0x27, 0x28],
        [0x94, 0x67, 0xbd],
        [0x8c, 0x56, 0x4b],
        [0x17, 0xbe, 0xcf],
        [0x7f, 0x7f, 0x7f],
    ];
    let hash = seed.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    let index = usize::try_from(hash % 8).unwrap_or(0);
    let [r, g, b] = PALETTE.get(index).copied().unwrap_or([0x7f, 0x7f, 0x7f]);
    let rim = [r / 2, g / 2, b / 2];

    let n = f64::from(size);
    let centre = n / 2.0;
    let outer = n / 2.0 - 0.5;
    let rim_width = (n / 12.0).max(1.0);
    let inner = n / 6.0;

    let mut rows = Vec::with_capacity(pixel_data_len(size, size));
    for y in 0..size {
        rows.push(0); // filter type 0 (None)
        for x in 0..size {
            let dx = f64::from(x) + 0.5 - centre;
            let dy = f64::from(y) + 0.5 - centre;
            let d = (dx * dx + dy * dy).sqrt();
            let rgba = if d > outer {
                [0, 0, 0, 0]
            } else if d > outer - rim_width {
                [rim[0], rim[1], rim[2], 0xff]
            } else if d < inner {
                [0xf5, 0xf5, 0xf5, 0xff]
            } else {
                [r, g, b, 0xff]
            };
            rows.extend_from_slice(&rgba);
        }
    }
    encode_rgba(size, size, &rows)
}

/// Bytes of filtered image data (one filter byte per row, four bytes per pixel).
fn pixel_data_len(width: u32, height: u32) -> usize {
    let w = usize::try_from(width).unwrap_or(0);
    let h = usize::try_from(height).unwrap_or(0);
    h.saturating_mul(w.saturating_mul(4).saturating_add(1))
}

/// Encodes already-filtered RGBA rows (each row: a filter byte, then `4 * width` bytes).
fn encode_rgba(width: u32, height: u32, filtered_rows: &[u8]) -> Vec<u8> {
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]); // depth 8, RGBA, deflate, filter 0, no interlace

    let mut out = Vec::with_capacity(filtered_rows.len().saturating_add(128));
    out.extend_from_slice(&SIGNATURE);
    push_chunk(&mut out, b"IHDR", &ihdr);
    push_chunk(&mut out, b"IDAT", &zlib_stored(filtered_rows));
    push_chunk(&mut out, b"IEND", &[]);
    out
}

fn push_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    let len = u32::try_from(data.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut crc = flate2::Crc::new();
    crc.update(kind);
    crc.update(data);
    out.extend_from_slice(&crc.sum().to_be_bytes());
}

/// A zlib stream (RFC 1950) holding `data` in stored deflate blocks (RFC 1951 3.2.4).
fn zlib_stored(data: &[u8]) -> Vec<u8> {
    const MAX_BLOCK: usize = 0xFFFF;
    let mut out = Vec::with_capacity(data.len().saturating_add(data.len() / MAX_BLOCK * 5 + 16));
    out.extend_from_slice(&[0x78, 0x01]);
    let mut chunks = data.chunks(MAX_BLOCK).peekable();
    if chunks.peek().is_none() {
        out.extend_from_slice(&[0x01, 0x00, 0x00, 0xFF, 0xFF]);
    }
    while let Some(chunk) = chunks.next() {
        let last = chunks.peek().is_none();
        out.push(u8::from(last));
        let len = u16::try_from(chunk.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(chunk);
    }
    out.extend_from_slice(&adler32(data).to_be_bytes());
    out
}

fn adler32(data: &[u8]) -> u32 {
    const MOD: u32 = 65_521;
    let (mut a, mut b) = (1_u32, 0_u32);
    for chunk in data.chunks(5552) {
        for &byte in chunk {
            a += u32::from(byte);
            b += a;
        }
        a %= MOD;
        b %= MOD;
    }
    (b << 16) | a
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    /// Splits a PNG into (type, data) chunks, checking every CRC.
    fn chunks(png: &[u8]) -> Vec<([u8; 4], Vec<u8>)> {
        assert_eq!(&png[..8], &SIGNATURE);
        let mut rest = &png[8..];
        let mut out = Vec::new();
        while !rest.is_empty() {
            let len = u32::from_be_bytes(rest[..4].try_into().unwrap()) as usize;
            let kind: [u8; 4] = rest[4..8].try_into().unwrap();
            let data = rest[8..8 + len].to_vec();
            let crc = u32::from_be_bytes(rest[8 + len..12 + len].try_into().unwrap());
            let mut check = flate2::Crc::new();
            check.update(&kind);
            check.update(&data);
            assert_eq!(crc, check.sum(), "CRC of {:?}", kind);
            out.push((kind, data));
            rest = &rest[12 + len..];
        }
        out
    }

    #[test]
    fn writes_valid_png() {
        for size in [16, 24, 32, 48, 96] {
            let png = placeholder_icon(size, "packetpivot.Capture");
            let chunks = chunks(&png);
            let kinds: Vec<&[u8; 4]> = chunks.iter().map(|(k, _)| k).collect();
            assert_eq!(kinds, [b"IHDR", b"IDAT", b"IEND"]);
            let ihdr = &chunks[0].1;
            assert_eq!(&ihdr[..4], &size.to_be_bytes());
            assert_eq!(&ihdr[4..8], &size.to_be_bytes());
            assert_eq!(&ihdr[8..], &[8, 6, 0, 0, 0]);
            let mut raw = Vec::new();
            flate2::read::ZlibDecoder::new(&chunks[1].1[..])
                .read_to_end(&mut raw)
                .unwrap();
            let s = size as usize;
            assert_eq!(raw.len(), s * (1 + 4 * s));
            // Corner transparent, centre opaque.
            assert_eq!(raw[1 + 3], 0);
            let mid = (s / 2) * (1 + 4 * s) + 1 + 4 * (s / 2);
            assert_eq!(raw[mid + 3], 0xff);
        }
    }

    #[test]
    fn round_trips_large_stored_zlib() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let z = zlib_stored(&data);
        let mut back = Vec::new();
        flate2::read::ZlibDecoder::new(&z[..])
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, data);
        let mut empty = Vec::new();
        flate2::read::ZlibDecoder::new(&zlib_stored(&[])[..])
            .read_to_end(&mut empty)
            .unwrap();
        assert!(empty.is_empty());
    }
}
