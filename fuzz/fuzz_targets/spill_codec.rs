//! The spill file's record codec on arbitrary bytes: records are decoded from the front
//! until one does not decode; none may panic, and each one decoded must survive being
//! encoded and decoded again unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use packetpivot::session::spill::{decode_record, encode_record};

fuzz_target!(|data: &[u8]| {
    let mut input = data;
    while let Some(session) = decode_record(&mut input) {
        let mut again = Vec::new();
        encode_record(&session, &mut again);
        let mut back: &[u8] = &again;
        let reread = decode_record(&mut back).expect("a record the encoder wrote decodes");
        assert!(back.is_empty(), "the encoder wrote bytes the decoder left");
        assert_eq!(format!("{reread:?}"), format!("{session:?}"));
    }
});
