//! Microbenchmarks of the hot paths: reading records, the flow key, the session table, the
//! writer, the index entries, and the Maltego XML of 10,000 entities.
//!
//! The input is built here (no Python, no files in the repository): a classic pcap of
//! 5,000 interleaved TCP flows of 24 packets each over Ethernet/IPv4, sizes in the usual
//! bimodal mix (bare ACKs, requests, full 1,460-byte segments). Run with `cargo bench`;
//! `scripts/bench.sh` measures whole commands against the file floor.

use std::hint::black_box;
use std::io::Write;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};

use packetpivot::capture::decode;
use packetpivot::capture::reader::CaptureReader;
use packetpivot::capture::writer::Encoder;
use packetpivot::limits::Limits;
use packetpivot::maltego::response::{write_response, Entity, Response};
use packetpivot::session::index;
use packetpivot::session::key::PacketInfo;
use packetpivot::session::table::{RecordMeta, Session, SessionTable};

const FLOWS: u32 = 5_000;
const PACKETS_PER_FLOW: u32 = 24;

/// One Ethernet/IPv4/TCP frame of flow `flow`, packet `n` (checksums left zero: nothing here
/// verifies them).
fn frame(flow: u32, n: u32) -> Vec<u8> {
    let from_client = n % 2 == 0;
    let payload = match n % 6 {
        0 | 3 => 0,
        1 => 180,
        _ => 1460,
    };
    let client = [10, (flow >> 16) as u8, (flow >> 8) as u8, flow as u8];
    let server = [198, 18, 0, (flow % 200) as u8];
    let (src, dst) = if from_client {
        (client, server)
    } else {
        (server, client)
    };
    let cport = 32768 + (flow % 28000) as u16;
    let (sport, dport) = if from_client {
        (cport, 443)
    } else {
        (443, cport)
    };
    let flags: u8 = match n {
        0 => 0x02,
        1 => 0x12,
        _ => 0x18,
    };
    let mut f = Vec::with_capacity(54 + payload);
    f.extend_from_slice(&[0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x08, 0x00]);
    let total = (20 + 20 + payload) as u16;
    f.extend_from_slice(&[0x45, 0]);
    f.extend_from_slice(&total.to_be_bytes());
    f.extend_from_slice(&[0, 0, 0x40, 0, 64, 6, 0, 0]);
    f.extend_from_slice(&src);
    f.extend_from_slice(&dst);
    f.extend_from_slice(&sport.to_be_bytes());
    f.extend_from_slice(&dport.to_be_bytes());
    f.extend_from_slice(&(1000 + n * 1460).to_be_bytes());
    f.extend_from_slice(&(if n == 0 { 0u32 } else { 5000 }).to_be_bytes());
    f.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    f.resize(f.len() + payload, 0x61);
    f
}

/// The frames in capture order: flows interleaved, 100 open at a time.
fn frames() -> Vec<Vec<u8>> {
    let mut out = Vec::with_capacity((FLOWS * PACKETS_PER_FLOW) as usize);
    for group in (0..FLOWS).step_by(100) {
        for n in 0..PACKETS_PER_FLOW {
            for flow in group..(group + 100).min(FLOWS) {
                out.push(frame(flow, n));
            }
        }
    }
    out
}

/// The frames as a classic little-endian microsecond pcap.
fn pcap(frames: &[Vec<u8>]) -> Vec<u8> {
    let mut p = Vec::new();
    p.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    p.extend_from_slice(&2u16.to_le_bytes());
    p.extend_from_slice(&4u16.to_le_bytes());
    p.extend_from_slice(&[0; 8]);
    p.extend_from_slice(&65535u32.to_le_bytes());
    p.extend_from_slice(&1u32.to_le_bytes());
    for (i, f) in frames.iter().enumerate() {
        let us = i as u32 * 10;
        p.extend_from_slice(&(1_700_000_000 + us / 1_000_000).to_le_bytes());
        p.extend_from_slice(&(us % 1_000_000).to_le_bytes());
        p.extend_from_slice(&(f.len() as u32).to_le_bytes());
        p.extend_from_slice(&(f.len() as u32).to_le_bytes());
        p.extend_from_slice(f);
    }
    p
}

/// Record `i`'s metadata: 100 bytes, 10 µs after the one before, from `start_ns`.
fn meta(i: usize, start_ns: i64) -> RecordMeta {
    RecordMeta {
        index: i as u64,
        ts_ns: Some(start_ns + i as i64 * 10_000),
        orig_len: 100,
        caplen: 100,
        interface: 0,
    }
}

fn hot_paths(c: &mut Criterion) {
    let frames = frames();
    let bytes = pcap(&frames);
    let mut file = tempfile::NamedTempFile::new().expect("temporary file");
    file.write_all(&bytes).expect("write the capture");
    let path = file.path().to_path_buf();
    let link = packetpivot::capture::LinkType(1);
    let infos: Vec<PacketInfo> = frames
        .iter()
        .map(|f| PacketInfo::from_decoded(link, &decode::decode(link, f)))
        .collect();

    let mut g = c.benchmark_group("hot_paths");
    g.sample_size(20);

    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function("read_records", |b| {
        b.iter(|| {
            let mut r = CaptureReader::open(&path, &Limits::default()).expect("opens");
            let mut n = 0u64;
            while let Some(rec) = r.next_record() {
                n += rec.data.len() as u64;
            }
            black_box(n)
        })
    });

    g.throughput(Throughput::Elements(frames.len() as u64));
    g.bench_function("decode_and_flow_key", |b| {
        b.iter(|| {
            for f in &frames {
                let info = PacketInfo::from_decoded(link, &decode::decode(link, f));
                black_box(info.key());
            }
        })
    });

    g.bench_function("session_table", |b| {
        b.iter_batched(
            || SessionTable::new(None),
            |mut table| {
                for (i, info) in infos.iter().enumerate() {
                    black_box(table.assign(info, &meta(i, 0)).ok());
                }
                table
            },
            BatchSize::LargeInput,
        )
    });

    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function("writer_encode", |b| {
        let mut reader = CaptureReader::open(&path, &Limits::default()).expect("opens");
        let mut records = Vec::new();
        while let Some((rec, _, _)) = reader.next_with_context() {
            records.push(rec.to_owned_record());
        }
        let format = reader.format();
        let interfaces = reader.interfaces().to_vec();
        let sections = reader.sections().to_vec();
        let mut out = Vec::with_capacity(bytes.len() + 4096);
        b.iter(|| {
            out.clear();
            let mut encoder = Encoder::new(format);
            for rec in &records {
                encoder.append(&rec.as_record(), &interfaces, &sections, &mut out);
            }
            black_box(out.len())
        })
    });

    // The index entries of the table's 5,000 sessions: through SessionEntry and serde (as
    // the index was written before) and written directly (as it is now); the same bytes.
    let mut table = SessionTable::new(None);
    for (i, info) in infos.iter().enumerate() {
        table
            .assign(info, &meta(i, 1_704_067_200_000_000_000))
            .expect("in memory");
    }
    let sessions: Vec<Session> = table.sessions().iter().map(|s| s.into_owned()).collect();
    let interfaces = CaptureReader::open(&path, &Limits::default())
        .expect("opens")
        .interfaces()
        .to_vec();
    let digest = [0x5a; 32];
    g.throughput(Throughput::Elements(sessions.len() as u64));
    g.bench_function("index_entries_serde", |b| {
        let mut out = Vec::with_capacity(8 << 20);
        b.iter(|| {
            out.clear();
            for s in &sessions {
                let e = index::session_entry(s, &interfaces, "pcap", Some(hex::encode(digest)));
                serde_json::to_writer(&mut out, &e).expect("writes");
            }
            black_box(out.len())
        })
    });
    g.bench_function("index_entries_direct", |b| {
        let mut out = Vec::with_capacity(8 << 20);
        b.iter(|| {
            out.clear();
            for s in &sessions {
                index::push_entry_json(&mut out, s, &interfaces, "pcap", Some(&digest));
            }
            black_box(out.len())
        })
    });

    g.throughput(Throughput::Elements(10_000));
    g.bench_function("xml_response_10k_entities", |b| {
        let mut response = Response::default();
        for i in 0..10_000u32 {
            let mut e = Entity::new(
                "packetpivot.Session",
                format!(
                    "TCP 10.0.{}.{}:{} → 198.18.0.9:443 #{i}",
                    i / 256,
                    i % 256,
                    32768 + i
                ),
            );
            e.field("protocol", "Protocol", "tcp")
                .field(
                    "client.ip",
                    "Client IP",
                    format!("10.0.{}.{}", i / 256, i % 256),
                )
                .field("client.port", "Client port", (32768 + i).to_string())
                .field("server.ip", "Server IP", "198.18.0.9")
                .field("server.port", "Server port", "443")
                .field("packets", "Packets", "24")
                .field("bytes", "Bytes", "23456")
                .field("first_time", "First packet", "2024-01-01T00:00:00.000046Z")
                .field(
                    "community_id",
                    "Community ID",
                    "1:LQU9qZlK+B5F3KDmev6m5PMibrg=",
                )
                .field("tls.sni", "TLS SNI", "www.example.org & <friends>");
            e.link.label = Some(format!("TCP www.example.org · 24 pkts · {i} B"));
            response.entities.push(e);
        }
        b.iter(|| {
            let mut out = Vec::with_capacity(8 << 20);
            write_response(&mut out, &response).expect("writes");
            black_box(out.len())
        })
    });
    g.finish();
}

criterion_group!(benches, hot_paths);
criterion_main!(benches);
