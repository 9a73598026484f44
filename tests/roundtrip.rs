//! Nothing lost, nothing altered: every record of a capture comes out of `split` in exactly
//! one session file, bit for bit, and in input order within its file.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use packetpivot::capture::reader::CaptureReader;
use packetpivot::capture::{Damage, RawTimestamp};
use packetpivot::limits::Limits;
use packetpivot::session::index::Index;
use packetpivot::session::output::{read_index, split_to_directory, SplitOutcome};
use proptest::prelude::*;
use sha2::{Digest, Sha256};

/// What must survive a split unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Key {
    data: Vec<u8>,
    orig_len: u32,
    /// (kind, high/sec, low/frac) of the stored timestamp.
    raw_ts: (u8, u32, u32),
    ts_ns: Option<i64>,
    link_type: u16,
}

fn raw(ts: RawTimestamp) -> (u8, u32, u32) {
    match ts {
        RawTimestamp::Pcap { sec, frac } => (0, sec, frac),
        RawTimestamp::Pcapng { high, low } => (1, high, low),
        RawTimestamp::None => (2, 0, 0),
    }
}

/// Every record of a capture, and the damage that ended it.
fn read_all(path: &Path) -> Result<(Vec<Key>, Option<Damage>), String> {
    let mut reader = CaptureReader::open(path, &Limits::default()).map_err(|e| e.to_string())?;
    let mut keys = Vec::new();
    while let Some((r, interfaces, _)) = reader.next_with_context() {
        let link_type = interfaces
            .get(r.interface as usize)
            .map(|i| i.link_type.0)
            .unwrap_or(u16::MAX);
        keys.push(Key {
            data: r.data.to_vec(),
            orig_len: r.orig_len,
            raw_ts: raw(r.raw_ts),
            ts_ns: r.ts_ns,
            link_type,
        });
    }
    Ok((keys, reader.damage().cloned()))
}

fn split(capture: &Path, out: &Path) -> Result<SplitOutcome, String> {
    split_to_directory(
        capture,
        out,
        &Default::default(),
        Arc::new(AtomicU64::new(0)),
    )
    .map_err(|e| e.to_string())
}

fn corpus() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .expect("tests/data")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.file_name().is_some_and(|n| n != "MANIFEST.tsv"))
        .collect();
    v.sort();
    v
}

fn multiset(keys: &[Key]) -> BTreeMap<&Key, usize> {
    let mut m = BTreeMap::new();
    for k in keys {
        *m.entry(k).or_insert(0) += 1;
    }
    m
}

fn short(k: &Key) -> String {
    format!(
        "{} bytes, orig_len {}, ts {:?}/{:?}, link {}",
        k.data.len(),
        k.orig_len,
        k.raw_ts,
        k.ts_ns,
        k.link_type
    )
}

/// Checks a finished split of `input` (records `keys`) in `dir`; returns what is wrong.
fn check_split(name: &str, keys: &[Key], dir: &Path, index: &Index) -> Vec<String> {
    let mut problems = Vec::new();
    let mut positions: HashMap<&Key, Vec<usize>> = HashMap::new();
    for (i, k) in keys.iter().enumerate() {
        positions.entry(k).or_default().push(i);
    }
    if index.capture.packets != keys.len() as u64 {
        problems.push(format!(
            "{name}: index says {} packets, input has {}",
            index.capture.packets,
            keys.len()
        ));
    }
    // The directory holds index.json and exactly the files it lists.
    let mut listed: Vec<String> = index.sessions.iter().map(|s| s.file.clone()).collect();
    listed.push("index.json".into());
    listed.push("facts.jsonl".into());
    listed.sort();
    let mut present: Vec<String> = fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    present.sort();
    if present != listed {
        problems.push(format!(
            "{name}: directory holds {present:?}, index lists {listed:?}"
        ));
    }
    let mut out_keys = Vec::new();
    for s in &index.sessions {
        let path = dir.join(&s.file);
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) => {
                problems.push(format!("{name}: {}: {e}", s.file));
                continue;
            }
        };
        let sha = hex::encode(Sha256::digest(&bytes));
        if s.file_sha256.as_deref() != Some(sha.as_str()) {
            problems.push(format!(
                "{name}: {}: sha256 {sha}, index says {:?}",
                s.file, s.file_sha256
            ));
        }
        let (file_keys, damage) = match read_all(&path) {
            Ok(x) => x,
            Err(e) => {
                problems.push(format!("{name}: {}: cannot read back: {e}", s.file));
                continue;
            }
        };
        if let Some(d) = damage {
            problems.push(format!("{name}: {}: damaged output: {d:?}", s.file));
        }
        if file_keys.len() as u64 != s.packets.total {
            problems.push(format!(
                "{name}: {}: {} records, index says {}",
                s.file,
                file_keys.len(),
                s.packets.total
            ));
        }
        // Input order within the file: each record matches a later input record than the
        // one before it (greedy earliest match, which finds an increasing match if any).
        let mut last: Option<usize> = None;
        for (n, k) in file_keys.iter().enumerate() {
            let Some(pos) = positions.get(k) else {
                problems.push(format!(
                    "{name}: {} record {n} is not in the input ({})",
                    s.file,
                    short(k)
                ));
                break;
            };
            let from = last.map_or(0, |l| pos.partition_point(|&p| p <= l));
            match pos.get(from) {
                Some(&p) => last = Some(p),
                None => {
                    problems.push(format!(
                        "{name}: {} record {n} is out of input order (after input record {:?})",
                        s.file, last
                    ));
                    break;
                }
            }
        }
        out_keys.extend(file_keys);
    }
    let want = multiset(keys);
    let got = multiset(&out_keys);
    if want != got {
        let missing: Vec<String> = want
            .iter()
            .filter(|(k, n)| got.get(*k).copied().unwrap_or(0) < **n)
            .take(3)
            .map(|(k, n)| format!("{} (x{n}, out x{})", short(k), got.get(*k).unwrap_or(&0)))
            .collect();
        let extra: Vec<String> = got
            .iter()
            .filter(|(k, n)| want.get(*k).copied().unwrap_or(0) < **n)
            .take(3)
            .map(|(k, n)| {
                format!(
                    "{} (out x{n}, in x{})",
                    short(k),
                    want.get(*k).unwrap_or(&0)
                )
            })
            .collect();
        problems.push(format!(
            "{name}: records differ: {} in, {} out; missing {missing:?}; extra {extra:?}",
            keys.len(),
            out_keys.len()
        ));
    }
    problems
}

#[test]
fn split_loses_and_alters_nothing_on_every_capture() {
    let all = corpus();
    assert!(
        all.len() >= 40,
        "expected the whole corpus, found {}",
        all.len()
    );
    let mut problems = Vec::new();
    let mut checked = 0;
    for capture in all {
        let name = capture
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let Ok((keys, _damage)) = read_all(&capture) else {
            continue; // refused by the reader: nothing to split
        };
        let tmp = tempfile::tempdir().expect("tempdir");
        let outcome = match split(&capture, tmp.path()) {
            Ok(o) => o,
            Err(e) => {
                problems.push(format!("{name}: split failed: {e}"));
                continue;
            }
        };
        if outcome.reused {
            problems.push(format!("{name}: fresh split reported as reused"));
        }
        let on_disk = match read_index(&outcome.dir) {
            Ok(i) => i,
            Err(e) => {
                problems.push(format!("{name}: index.json: {e}"));
                continue;
            }
        };
        problems.extend(check_split(&name, &keys, &outcome.dir, &on_disk));
        checked += 1;
    }
    assert!(checked >= 38, "only {checked} captures were readable");
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// The index read back from index.json (as a reused split reports it) equals the index the
/// split returned, field for field.
#[test]
fn index_json_reads_back_as_written() {
    let mut problems = Vec::new();
    for capture in corpus() {
        if CaptureReader::open(&capture, &Limits::default()).is_err() {
            continue;
        }
        let name = capture
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let tmp = tempfile::tempdir().expect("tempdir");
        let written = match split(&capture, tmp.path()) {
            Ok(o) => o,
            Err(e) => {
                problems.push(format!("{name}: split failed: {e}"));
                continue;
            }
        };
        let reused = match split(&capture, tmp.path()) {
            Ok(o) => o,
            Err(e) => {
                problems.push(format!("{name}: second split failed: {e}"));
                continue;
            }
        };
        if !reused.reused {
            problems.push(format!("{name}: second split not reported as reused"));
        }
        if reused.index != written.index {
            let (a, b) = (&written.index.capture, &reused.index.capture);
            let detail = format!(
                "capture.duration_s written {:?}, read back {:?}",
                a.duration_s, b.duration_s
            );
            problems.push(format!(
                "{name}: index read back from index.json differs from the one written ({detail})"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .expect("dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn split_is_deterministic() {
    let mut problems = Vec::new();
    for capture in corpus() {
        if CaptureReader::open(&capture, &Limits::default()).is_err() {
            continue;
        }
        let name = capture
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let (a, b) = (
            tempfile::tempdir().expect("tempdir"),
            tempfile::tempdir().expect("tempdir"),
        );
        let (oa, ob) = match (split(&capture, a.path()), split(&capture, b.path())) {
            (Ok(x), Ok(y)) => (x, y),
            (x, y) => {
                problems.push(format!(
                    "{name}: split failed: {:?} / {:?}",
                    x.err(),
                    y.err()
                ));
                continue;
            }
        };
        if oa.dir.file_name() != ob.dir.file_name() {
            problems.push(format!("{name}: directory names differ"));
        }
        let ja = fs::read(oa.dir.join("index.json")).expect("index a");
        let jb = fs::read(ob.dir.join("index.json")).expect("index b");
        let mut va: serde_json::Value = serde_json::from_slice(&ja).expect("json a");
        let mut vb: serde_json::Value = serde_json::from_slice(&jb).expect("json b");
        if va["capture"]["path"] == vb["capture"]["path"] {
            if ja != jb {
                problems.push(format!("{name}: index.json not byte-identical"));
            }
        } else {
            va["capture"]["path"] = serde_json::Value::Null;
            vb["capture"]["path"] = serde_json::Value::Null;
            if va != vb {
                problems.push(format!("{name}: index.json differs beyond \"path\""));
            }
        }
        let (la, lb) = (listing(&oa.dir), listing(&ob.dir));
        if la != lb {
            problems.push(format!("{name}: file names differ: {la:?} vs {lb:?}"));
            continue;
        }
        for f in &la {
            if fs::read(oa.dir.join(f)).ok() != fs::read(ob.dir.join(f)).ok() {
                problems.push(format!("{name}: {f} differs between runs"));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

// ---------------------------------------------------------------- property test

/// Captured bytes, original length and raw timestamp of one record.
type Stored = (Vec<u8>, u32, (u8, u32, u32));

#[derive(Debug, Clone)]
struct GenRecord {
    data: Vec<u8>,
    orig_len: u32,
    sec: u32,
    frac: u32,
}

/// A frame that decodes as Ethernet + IPv4 (TCP, UDP or ICMP, sometimes a fragment) from
/// a few addresses and ports, so records share sessions and the fragment path is exercised.
fn ip_frame(
    proto: u8,
    hosts: (u8, u8),
    ports: (u16, u16),
    frag: u16,
    id: u16,
    payload: &[u8],
) -> Vec<u8> {
    let mut f = vec![2, 0, 0, 0, 0, hosts.1, 2, 0, 0, 0, 0, hosts.0, 0x08, 0x00];
    let l4: Vec<u8> = match proto {
        6 => {
            let mut t = Vec::new();
            t.extend_from_slice(&ports.0.to_be_bytes());
            t.extend_from_slice(&ports.1.to_be_bytes());
            t.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0]);
            t
        }
        17 => {
            let mut u = Vec::new();
            u.extend_from_slice(&ports.0.to_be_bytes());
            u.extend_from_slice(&ports.1.to_be_bytes());
            u.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
            u.extend_from_slice(&[0, 0]);
            u
        }
        _ => vec![8, 0, 0, 0, 0, 7, 0, 1],
    };
    let total = 20 + l4.len() + payload.len();
    f.extend_from_slice(&[0x45, 0]);
    f.extend_from_slice(&(total as u16).to_be_bytes());
    f.extend_from_slice(&id.to_be_bytes());
    f.extend_from_slice(&frag.to_be_bytes());
    f.extend_from_slice(&[64, proto, 0, 0, 10, 0, 0, hosts.0, 10, 0, 0, hosts.1]);
    f.extend_from_slice(&l4);
    f.extend_from_slice(payload);
    f.truncate(1999);
    f
}

fn frame_strategy() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..2000),
        (
            prop::sample::select(vec![6u8, 17, 1]),
            (1u8..4, 1u8..4),
            (
                prop::sample::select(vec![53u16, 80, 1234]),
                prop::sample::select(vec![53u16, 80, 1234])
            ),
            prop::sample::select(vec![0u16, 0x4000, 0x2000, 0x2001, 0x0002]),
            0u16..3,
            prop::collection::vec(any::<u8>(), 0..1900),
        )
            .prop_map(|(proto, hosts, ports, frag, id, payload)| {
                ip_frame(proto, hosts, ports, frag, id, &payload)
            }),
    ]
}

fn record_strategy() -> impl Strategy<Value = GenRecord> {
    (
        frame_strategy(),
        prop_oneof![Just(0u32), 0u32..100, any::<u32>()],
        any::<u32>(),
        any::<u32>(),
    )
        .prop_map(|(data, more, sec, frac)| GenRecord {
            orig_len: (data.len() as u32).saturating_add(more),
            data,
            sec,
            frac,
        })
}

#[derive(Debug, Clone, Copy)]
enum Layout {
    PcapLeUs,
    PcapLeNs,
    PcapBeUs,
    PcapngLe { nano: bool },
    PcapngBe { nano: bool },
}

fn put(out: &mut Vec<u8>, big: bool, v: u32) {
    out.extend_from_slice(&if big {
        v.to_be_bytes()
    } else {
        v.to_le_bytes()
    });
}

fn put16(out: &mut Vec<u8>, big: bool, v: u16) {
    out.extend_from_slice(&if big {
        v.to_be_bytes()
    } else {
        v.to_le_bytes()
    });
}

fn pcap_file(records: &[GenRecord], big: bool, nano: bool) -> Vec<u8> {
    let mut b = Vec::new();
    put(&mut b, big, if nano { 0xa1b2_3c4d } else { 0xa1b2_c3d4 });
    put16(&mut b, big, 2);
    put16(&mut b, big, 4);
    put(&mut b, big, 0);
    put(&mut b, big, 0);
    put(&mut b, big, 262_144);
    put(&mut b, big, 1);
    for r in records {
        put(&mut b, big, r.sec);
        put(&mut b, big, r.frac);
        put(&mut b, big, r.data.len() as u32);
        put(&mut b, big, r.orig_len);
        b.extend_from_slice(&r.data);
    }
    b
}

fn block(out: &mut Vec<u8>, big: bool, kind: u32, body: &[u8]) {
    let total = 12 + body.len() as u32;
    put(out, big, kind);
    put(out, big, total);
    out.extend_from_slice(body);
    put(out, big, total);
}

fn pcapng_file(records: &[GenRecord], big: bool, nano: bool) -> Vec<u8> {
    let mut b = Vec::new();
    let mut shb = Vec::new();
    put(&mut shb, big, 0x1a2b_3c4d);
    put16(&mut shb, big, 1);
    put16(&mut shb, big, 0);
    shb.extend_from_slice(&[0xff; 8]);
    block(&mut b, big, 0x0a0d_0d0a, &shb);
    let mut idb = Vec::new();
    put16(&mut idb, big, 1);
    put16(&mut idb, big, 0);
    put(&mut idb, big, 0);
    if nano {
        put16(&mut idb, big, 9);
        put16(&mut idb, big, 1);
        idb.extend_from_slice(&[9, 0, 0, 0]);
        put16(&mut idb, big, 0);
        put16(&mut idb, big, 0);
    }
    block(&mut b, big, 1, &idb);
    for r in records {
        let mut epb = Vec::new();
        put(&mut epb, big, 0);
        put(&mut epb, big, r.sec);
        put(&mut epb, big, r.frac);
        put(&mut epb, big, r.data.len() as u32);
        put(&mut epb, big, r.orig_len);
        epb.extend_from_slice(&r.data);
        epb.resize(epb.len().div_ceil(4) * 4, 0);
        block(&mut b, big, 6, &epb);
    }
    b
}

fn layout_strategy() -> impl Strategy<Value = Layout> {
    prop_oneof![
        Just(Layout::PcapLeUs),
        Just(Layout::PcapLeNs),
        Just(Layout::PcapBeUs),
        any::<bool>().prop_map(|nano| Layout::PcapngLe { nano }),
        any::<bool>().prop_map(|nano| Layout::PcapngBe { nano }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn split_keeps_arbitrary_records(
        layout in layout_strategy(),
        records in prop::collection::vec(record_strategy(), 0..40),
    ) {
        let (bytes, name, pcapng) = match layout {
            Layout::PcapLeUs => (pcap_file(&records, false, false), "gen.pcap", false),
            Layout::PcapLeNs => (pcap_file(&records, false, true), "gen.pcap", false),
            Layout::PcapBeUs => (pcap_file(&records, true, false), "gen.pcap", false),
            Layout::PcapngLe { nano } => (pcapng_file(&records, false, nano), "gen.pcapng", true),
            Layout::PcapngBe { nano } => (pcapng_file(&records, true, nano), "gen.pcapng", true),
        };
        let tmp = tempfile::tempdir().expect("tempdir");
        let input = tmp.path().join(name);
        fs::write(&input, &bytes).expect("write");
        let (keys, damage) = read_all(&input).expect("the generated file reads");
        prop_assert!(damage.is_none(), "generated file damaged: {:?}", damage);
        // The reader returns what was generated.
        let generated: Vec<Stored> = records
            .iter()
            .map(|r| (r.data.clone(), r.orig_len, (u8::from(pcapng), r.sec, r.frac)))
            .collect();
        let read: Vec<Stored> = keys
            .iter()
            .map(|k| (k.data.clone(), k.orig_len, k.raw_ts))
            .collect();
        prop_assert_eq!(&read, &generated);
        let out = tmp.path().join("out");
        let outcome = split(&input, &out).expect("split");
        let index = read_index(&outcome.dir).expect("index.json");
        prop_assert_eq!(&index.head, &outcome.index);
        let problems = check_split(name, &keys, &outcome.dir, &index);
        prop_assert!(problems.is_empty(), "{}", problems.join("\n"));
    }
}
