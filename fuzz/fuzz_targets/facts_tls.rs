//! The TLS handshake parser on arbitrary bytes, as if they were the first bytes of one
//! direction of a TCP stream.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = packetpivot::facts::tls::parse_handshakes(data);
});
