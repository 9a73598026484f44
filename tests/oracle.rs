//! The tshark oracle: for every capture in tests/data, the sessions packetpivot forms must
//! reproduce tshark's tcp.stream/udp.stream partition exactly (golden files made by
//! scripts/make_golden.py, so no tshark is needed here), and Community IDs must match the
//! values tshark's communityid post-dissector printed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use packetpivot::capture::reader::CaptureReader;
use packetpivot::capture::{Interface, Record, Section};
use packetpivot::session::splitter::{split, Sink, SplitOptions};
use packetpivot::session::table::{Assignment, Session};

/// Records each packet's session number.
struct Recorder(Vec<(u64, u64)>);

impl Sink for Recorder {
    type Error = std::convert::Infallible;
    fn packet(
        &mut self,
        a: Assignment,
        _s: &Session,
        r: &Record<'_>,
        _i: &[Interface],
        _sec: &[Section],
    ) -> Result<(), Self::Error> {
        self.0.push((r.index, a.session as u64));
        Ok(())
    }
}

struct GoldenRow {
    record: u64,
    class: String,
    stream: Option<String>,
    community_id: Option<String>,
    ip_layers: u32,
}

fn golden(path: &Path) -> Vec<GoldenRow> {
    let text = std::fs::read_to_string(path).expect("golden file");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let opt = |s: &str| (s != "-").then(|| s.to_string());
            GoldenRow {
                record: f[0].parse().expect("record"),
                class: f[1].to_string(),
                stream: opt(f[2]),
                community_id: opt(f.get(3).copied().unwrap_or("-")),
                ip_layers: f.get(4).and_then(|x| x.parse().ok()).unwrap_or(0),
            }
        })
        .collect()
}

fn captures() -> Vec<(PathBuf, PathBuf)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let mut v: Vec<(PathBuf, PathBuf)> = std::fs::read_dir(dir.join("golden"))
        .expect("golden dir")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "tsv"))
        .map(|g| {
            let name = g.file_stem().expect("stem").to_string_lossy().into_owned();
            (dir.join(name), g)
        })
        .collect();
    v.sort();
    v
}

#[test]
fn reproduces_tshark_streams_on_every_capture() {
    let mut failures = Vec::new();
    let all = captures();
    assert!(
        all.len() >= 40,
        "expected the whole corpus, found {}",
        all.len()
    );
    for (capture, golden_path) in all {
        let rows = golden(&golden_path);
        let mut reader = match CaptureReader::open(&capture, &Default::default()) {
            Ok(r) => r,
            Err(e) => {
                if rows.is_empty() {
                    continue;
                }
                failures.push(format!("{}: cannot open: {e}", capture.display()));
                continue;
            }
        };
        let mut rec = Recorder(Vec::new());
        let result = split(&mut reader, &SplitOptions::default(), &mut rec).expect("split");
        let session_of: BTreeMap<u64, u64> = rec.0.iter().copied().collect();
        assert_eq!(
            session_of.len(),
            rec.0.len(),
            "a record was delivered twice"
        );
        let name = capture
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        // Every record our reader returns is accounted for, in order.
        let expected: Vec<u64> = (0..result.packets).collect();
        let mut delivered: Vec<u64> = rec.0.iter().map(|(r, _)| *r).collect();
        delivered.sort_unstable();
        if delivered != expected {
            failures.push(format!(
                "{name}: records delivered {} of {}",
                delivered.len(),
                result.packets
            ));
        }
        // tshark stream -> records, and our session -> records.
        let mut streams: BTreeMap<&str, BTreeSet<u64>> = BTreeMap::new();
        for r in &rows {
            if let Some(s) = &r.stream {
                streams.entry(s.as_str()).or_default().insert(r.record);
            }
        }
        let mut sessions: BTreeMap<u64, BTreeSet<u64>> = BTreeMap::new();
        for (r, s) in &rec.0 {
            sessions.entry(*s).or_default().insert(*r);
        }
        let mut bad = 0;
        for (stream, records) in &streams {
            let owners: BTreeSet<u64> = records
                .iter()
                .filter_map(|r| session_of.get(r).copied())
                .collect();
            let exact = owners.len() == 1
                && owners.iter().next().and_then(|s| sessions.get(s)) == Some(records);
            if !exact {
                bad += 1;
                if bad <= 3 {
                    let detail: Vec<String> = owners
                        .iter()
                        .map(|s| {
                            format!(
                                "session {s} holds {:?}",
                                sessions
                                    .get(s)
                                    .map(|x| x.iter().take(8).collect::<Vec<_>>())
                            )
                        })
                        .collect();
                    failures.push(format!(
                        "{name}: {stream} (records {:?}) not exact: {}",
                        records.iter().take(8).collect::<Vec<_>>(),
                        detail.join("; ")
                    ));
                }
            }
        }
        // Community IDs: each TCP/UDP/ICMP-echo session's ID equals tshark's for its
        // frames. Tunnelled frames (tshark hashes the innermost layer, the session is the
        // outermost TCP/UDP) and fragments (tshark hashes a port-less tuple) are left out;
        // the spec's own baseline vectors are checked in session::community_id's tests.
        for s in &result.sessions {
            let Some(id) = &s.community_id else { continue };
            use packetpivot::session::key::FlowKey;
            if !matches!(
                s.key,
                FlowKey::Tcp(..) | FlowKey::Udp(..) | FlowKey::IcmpEcho(..)
            ) || s.flags.fragments
            {
                continue;
            }
            let records = sessions.get(&s.number).cloned().unwrap_or_default();
            for r in rows.iter().filter(|r| records.contains(&r.record)) {
                if matches!(r.class.as_str(), "tcp" | "udp" | "icmp") && r.ip_layers == 1 {
                    if let Some(theirs) = &r.community_id {
                        if theirs != id {
                            failures.push(format!(
                                "{name}: session {} record {} community id {id} but tshark says {theirs}",
                                s.number, r.record
                            ));
                            break;
                        }
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} problems:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
