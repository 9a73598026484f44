//! The HTTP/1.x start-of-message parser on arbitrary bytes, as the start of a TCP payload.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = packetpivot::facts::http::parse_http(data);
});
