//! The HTTP/1.x parsers on arbitrary bytes: one message start, and the messages of one
//! direction of a connection.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = packetpivot::facts::http::parse_http(data);
    let _ = packetpivot::facts::http::parse_http_stream(data);
});
