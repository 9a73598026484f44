//! The frame decoder on one arbitrary frame of a link type it knows.
//!
//! Input: a 2-byte prefix, then the frame. If the prefix read as a u16 LE is one of the
//! known link types it is used as is (so seeds can carry the real value); otherwise the
//! first byte indexes the list of known link types (modulo its length), so every input
//! exercises a decoder rather than the "unknown link type" path.
#![no_main]

use libfuzzer_sys::fuzz_target;
use packetpivot::capture::decode::decode;
use packetpivot::capture::LinkType;
use packetpivot::session::key::PacketInfo;

/// Every link type `decode` has a branch for.
const KNOWN: [u16; 19] = [
    0, 1, 9, 10, 12, 14, 50, 51, 101, 105, 108, 113, 127, 228, 229, 239, 242, 276, 281,
];

fuzz_target!(|data: &[u8]| {
    let Some((prefix, frame)) = data.split_first_chunk::<2>() else {
        return;
    };
    let raw = u16::from_le_bytes(*prefix);
    let lt = if KNOWN.contains(&raw) {
        raw
    } else {
        KNOWN[usize::from(prefix[0]) % KNOWN.len()]
    };
    let link = LinkType(lt);
    let decoded = decode(link, frame);
    let info = PacketInfo::from_decoded(link, &decoded);
    std::hint::black_box(info.key());
});
