//! The DNS parser on arbitrary bytes, as a UDP payload and as a TCP payload with its
//! 2-byte length prefix.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = packetpivot::facts::dns::parse_dns(data);
    let _ = packetpivot::facts::dns::parse_dns_tcp(data);
});
