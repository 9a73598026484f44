//! The capture reader on arbitrary file contents: every record is decoded and keyed.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use packetpivot::capture::decode::decode;
use packetpivot::capture::reader::CaptureReader;
use packetpivot::limits::Limits;
use packetpivot::session::key::PacketInfo;

/// One temp file per fuzzer process, overwritten on every iteration.
fn input_path() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        std::env::temp_dir().join(format!("packetpivot-fuzz-reader-{}.bin", std::process::id()))
    })
}

fuzz_target!(|data: &[u8]| {
    let path = input_path();
    std::fs::write(path, data).expect("write fuzz input to temp file");
    let limits = Limits {
        max_record_bytes: 1 << 20,
        ..Default::default()
    };
    let Ok(mut reader) = CaptureReader::open(path, &limits) else {
        return;
    };
    while let Some((record, interfaces, _sections)) = reader.next_with_context() {
        let Some(iface) = interfaces.get(record.interface as usize) else {
            continue;
        };
        let link = iface.link_type;
        let decoded = decode(link, record.data);
        let info = PacketInfo::from_decoded(link, &decoded);
        std::hint::black_box(info.key());
    }
    std::hint::black_box(reader.damage());
});
