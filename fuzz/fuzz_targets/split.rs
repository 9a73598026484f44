//! The whole splitter (fragment hold-back, session table) on arbitrary file contents, and
//! the encoder round trip: every record re-encoded into one output buffer.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use packetpivot::capture::reader::CaptureReader;
use packetpivot::capture::writer::Encoder;
use packetpivot::limits::Limits;
use packetpivot::session::splitter::{split, NullSink};

/// One temp file per fuzzer process, overwritten on every iteration.
fn input_path() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        std::env::temp_dir().join(format!("packetpivot-fuzz-split-{}.bin", std::process::id()))
    })
}

fn limits() -> Limits {
    Limits {
        max_record_bytes: 1 << 20,
        ..Default::default()
    }
}

fuzz_target!(|data: &[u8]| {
    let path = input_path();
    std::fs::write(path, data).expect("write fuzz input to temp file");

    // 1. The splitter.
    if let Ok(mut reader) = CaptureReader::open(path, &limits()) {
        let result = split(&mut reader, &Default::default(), &mut NullSink);
        std::hint::black_box(&result);
    }

    // 2. The encoder round trip: every record appended into one buffer.
    if let Ok(mut reader) = CaptureReader::open(path, &limits()) {
        let mut encoder = Encoder::new(reader.format());
        let mut out = Vec::new();
        while let Some((record, interfaces, sections)) = reader.next_with_context() {
            encoder.append(&record, interfaces, sections, &mut out);
        }
        std::hint::black_box(&out);
    }
});
