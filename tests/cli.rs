//! The command line, run as a real process: what it prints, what it exits with, and what it
//! leaves on disk, for good captures and for every kind of bad input.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::SystemTime;

use serde_json::Value;
use sha2::{Digest, Sha256};

const WIKIPEDIA: &str = "zeek__wikipedia.pcap";
const WIKIPEDIA_PACKETS: u64 = 136;
const PCAP_RECORD_LEN: usize = 16;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn run<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    Command::new(env!("CARGO_BIN_EXE_packetpivot"))
        .args(args)
        .output()
        .expect("run packetpivot")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn describe(o: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        text(&o.stdout),
        text(&o.stderr)
    )
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Names of the entries of `dir`, sorted; empty when it does not exist.
fn entries(dir: &Path) -> Vec<String> {
    let Ok(rd) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<String> = rd
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn split(capture: &Path, out: &Path) -> Output {
    run([
        "split".as_ref(),
        capture.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ])
}

fn read_json(path: &Path) -> Value {
    let bytes = fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn session_files(index: &Value) -> Vec<String> {
    index["sessions"]
        .as_array()
        .expect("sessions array")
        .iter()
        .map(|s| s["file"].as_str().expect("file name").to_string())
        .collect()
}

/// A successful split: exit 0, `<out>` holds only `<sha256>/`, which holds index.json and
/// exactly the session files it lists. Returns the finished directory and its index.
fn expect_split_ok(capture: &Path, out: &Path, o: &Output) -> (PathBuf, Value) {
    assert_eq!(o.status.code(), Some(0), "{}", describe(o));
    let sha = sha256_hex(&fs::read(capture).expect("read capture"));
    assert_eq!(
        entries(out),
        vec![sha.clone()],
        "output dir must hold only the final directory (no temporary entries)"
    );
    let dir = out.join(&sha);
    let index = read_json(&dir.join("index.json"));
    let mut expected = session_files(&index);
    expected.push("index.json".into());
    expected.push("facts.jsonl".into());
    expected.sort();
    assert_eq!(entries(&dir), expected, "files of {}", dir.display());
    assert_eq!(index["capture"]["sha256"].as_str(), Some(sha.as_str()));
    (dir, index)
}

/// A capture that could not be read: exit 1, one `packetpivot: ` line on stderr naming the
/// file and containing `what`, nothing on stdout, nothing in `out`.
fn expect_input_error(capture: &Path, out: &Path, o: &Output, what: &str) {
    assert_eq!(o.status.code(), Some(1), "{}", describe(o));
    assert!(o.stdout.is_empty(), "stdout not empty: {}", describe(o));
    let err = text(&o.stderr);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "want exactly one stderr line: {}",
        describe(o)
    );
    let line = lines[0];
    assert!(line.starts_with("packetpivot: "), "{line}");
    assert!(
        line.contains(&capture.display().to_string()),
        "error must name {}: {line}",
        capture.display()
    );
    assert!(line.contains(what), "error must say {what:?}: {line}");
    assert_eq!(
        entries(out),
        Vec::<String>::new(),
        "nothing may be left in {}",
        out.display()
    );
}

/// A damaged capture that was still read: exit 0, exactly one warning line on stderr that
/// names the file and says how many bytes at which offset were lost. Returns the index.
fn expect_warning(capture: &Path, out: &Path, o: &Output) -> (PathBuf, Value, String) {
    let (dir, index) = expect_split_ok(capture, out, o);
    let err = text(&o.stderr);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "want one warning line: {}", describe(o));
    let line = lines[0].to_string();
    assert!(line.starts_with("packetpivot: warning: "), "{line}");
    assert!(line.contains(&capture.display().to_string()), "{line}");
    let damage = &index["capture"]["damage"];
    assert!(damage.is_object(), "index must record the damage: {index}");
    let want = format!(
        "{} bytes from offset {} could not be read",
        damage["unreadable_bytes"], damage["offset"]
    );
    assert!(line.contains(&want), "warning must say {want:?}: {line}");
    (dir, index, line)
}

fn packets_in(index: &Value) -> u64 {
    index["capture"]["packets"].as_u64().expect("packets")
}

fn session_packet_total(index: &Value) -> u64 {
    index["sessions"]
        .as_array()
        .expect("sessions")
        .iter()
        .map(|s| s["packets"]["total"].as_u64().expect("total"))
        .sum()
}

// ---------------------------------------------------------------- fixtures built in tests

fn pcap_header() -> Vec<u8> {
    let mut h = Vec::new();
    h.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    h.extend_from_slice(&2u16.to_le_bytes());
    h.extend_from_slice(&4u16.to_le_bytes());
    h.extend_from_slice(&0i32.to_le_bytes());
    h.extend_from_slice(&0u32.to_le_bytes());
    h.extend_from_slice(&65535u32.to_le_bytes());
    h.extend_from_slice(&1u32.to_le_bytes());
    h
}

fn pcap_record_header(sec: u32, usec: u32, caplen: u32, orig_len: u32) -> Vec<u8> {
    let mut h = Vec::new();
    for v in [sec, usec, caplen, orig_len] {
        h.extend_from_slice(&v.to_le_bytes());
    }
    h
}

fn pcap_record(sec: u32, usec: u32, frame: &[u8]) -> Vec<u8> {
    let mut r = pcap_record_header(sec, usec, frame.len() as u32, frame.len() as u32);
    r.extend_from_slice(frame);
    r
}

/// Ethernet + IPv4 + UDP, 10.0.0.1:sport -> 10.0.0.2:53.
fn udp_frame(sport: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00];
    let total = 20 + 8 + payload.len();
    let mut ip = vec![0x45, 0];
    ip.extend_from_slice(&(total as u16).to_be_bytes());
    ip.extend_from_slice(&[0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
    let mut sum = 0u32;
    for c in ip.chunks(2) {
        sum += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    let ck = !(sum as u16);
    ip[10..12].copy_from_slice(&ck.to_be_bytes());
    f.extend_from_slice(&ip);
    f.extend_from_slice(&sport.to_be_bytes());
    f.extend_from_slice(&53u16.to_be_bytes());
    f.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    f.extend_from_slice(&[0, 0]);
    f.extend_from_slice(payload);
    f
}

/// (type, offset, length) of every block of a little-endian pcapng file.
fn pcapng_blocks(b: &[u8]) -> Vec<(u32, usize, usize)> {
    let mut v = Vec::new();
    let mut at = 0;
    while at + 8 <= b.len() {
        let t = u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"));
        let len = u32::from_le_bytes(b[at + 4..at + 8].try_into().expect("4 bytes")) as usize;
        assert!(len >= 12, "fixture block length");
        v.push((t, at, len));
        at += len;
    }
    v
}

/// The pcapng fixture with `insert` placed right after its first enhanced packet block;
/// returns the bytes and the offset of the inserted block.
fn pcapng_with_block_after_first_packet(insert: &[u8]) -> (Vec<u8>, usize) {
    let orig = fs::read(data("wireshark__dhcp-nanosecond.pcapng")).expect("fixture");
    let blocks = pcapng_blocks(&orig);
    let &(_, at, len) = blocks
        .iter()
        .find(|(t, _, _)| *t == 6)
        .expect("an enhanced packet block");
    let cut = at + len;
    let mut b = orig[..cut].to_vec();
    b.extend_from_slice(insert);
    b.extend_from_slice(&orig[cut..]);
    (b, cut)
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    fs::write(&p, bytes).expect("write fixture");
    p
}

// ---------------------------------------------------------------- good captures

#[test]
fn splits_good_capture() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("out");
    let capture = data(WIKIPEDIA);
    let o = split(&capture, &out);
    let (dir, index) = expect_split_ok(&capture, &out, &o);
    assert!(o.stderr.is_empty(), "stderr: {}", text(&o.stderr));
    let stdout = text(&o.stdout);
    let sessions = index["summary"]["sessions"].as_u64().expect("sessions");
    assert!(sessions > 0);
    assert_eq!(session_files(&index).len() as u64, sessions);
    assert_eq!(packets_in(&index), WIKIPEDIA_PACKETS);
    assert_eq!(session_packet_total(&index), WIKIPEDIA_PACKETS);
    let first = stdout.lines().next().unwrap_or_default();
    assert!(
        first.contains(&format!("{sessions} sessions -> {}", dir.display())),
        "summary must name the sessions and the directory: {stdout}"
    );
    assert!(
        first.contains(&format!("{WIKIPEDIA_PACKETS} packets")),
        "{first}"
    );
    assert!(!stdout.contains("already split"), "{stdout}");
    let protocols = index["summary"]["protocols"]
        .as_object()
        .expect("protocols");
    assert!(!protocols.is_empty());
    for (proto, t) in protocols {
        let line = stdout
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{proto} ")))
            .unwrap_or_else(|| panic!("no summary line for {proto}: {stdout}"));
        assert!(
            line.contains(&format!("{} sessions", t["sessions"])),
            "{line}"
        );
    }
    // Every listed file holds a readable capture whose hash is the one in the index.
    for s in index["sessions"].as_array().expect("sessions") {
        let f = dir.join(s["file"].as_str().expect("file"));
        let bytes = fs::read(&f).expect("session file");
        assert!(!bytes.is_empty(), "{} is empty", f.display());
        assert_eq!(s["file_sha256"].as_str(), Some(sha256_hex(&bytes).as_str()));
    }
}

#[test]
fn split_json_is_parseable() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("out");
    let capture = data(WIKIPEDIA);
    let o = run([
        "split".as_ref(),
        capture.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
        "--json".as_ref(),
    ]);
    let (dir, index) = expect_split_ok(&capture, &out, &o);
    assert!(o.stderr.is_empty(), "stderr: {}", text(&o.stderr));
    let stdout = text(&o.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "one JSON object per capture: {stdout}");
    let v: Value = serde_json::from_str(lines[0]).expect("valid JSON");
    assert_eq!(
        v["directory"].as_str(),
        Some(dir.display().to_string().as_str())
    );
    assert_eq!(v["reused"], Value::Bool(false));
    assert_eq!(v["capture"], index["capture"]);
    assert_eq!(v["summary"], index["summary"]);
    assert_eq!(v["capture"]["packets"].as_u64(), Some(WIKIPEDIA_PACKETS));
}

fn snapshot(dir: &Path) -> BTreeMap<String, (String, SystemTime)> {
    entries(dir)
        .into_iter()
        .map(|n| {
            let p = dir.join(&n);
            let hash = sha256_hex(&fs::read(&p).expect("read"));
            let mtime = fs::metadata(&p).and_then(|m| m.modified()).expect("mtime");
            (n, (hash, mtime))
        })
        .collect()
}

#[test]
fn second_split_reuses_output() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("out");
    let capture = data(WIKIPEDIA);
    let first = split(&capture, &out);
    let (dir, _) = expect_split_ok(&capture, &out, &first);
    let before = snapshot(&dir);
    let dir_mtime = fs::metadata(&dir)
        .and_then(|m| m.modified())
        .expect("mtime");
    std::thread::sleep(std::time::Duration::from_millis(20));
    let second = split(&capture, &out);
    expect_split_ok(&capture, &out, &second);
    assert!(second.stderr.is_empty(), "{}", describe(&second));
    let stdout = text(&second.stdout);
    assert!(stdout.contains("already split"), "{stdout}");
    assert!(stdout.contains(&dir.display().to_string()), "{stdout}");
    assert_eq!(snapshot(&dir), before, "files changed on the second run");
    assert_eq!(
        fs::metadata(&dir)
            .and_then(|m| m.modified())
            .expect("mtime"),
        dir_mtime
    );
}

#[test]
fn sessions_formats_agree_with_split() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("out");
    let capture = data(WIKIPEDIA);
    let o = split(&capture, &out);
    let (_, index) = expect_split_ok(&capture, &out, &o);
    let files = session_files(&index);
    let n = files.len();

    let sessions = |format: &str| {
        let o = run([
            "sessions".as_ref(),
            capture.as_os_str(),
            "--format".as_ref(),
            format.as_ref(),
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
        assert!(o.stderr.is_empty(), "{}", describe(&o));
        text(&o.stdout)
    };

    // JSON: the same index, less the hashes of files that were not written.
    let json: Value = serde_json::from_str(&sessions("json")).expect("sessions json");
    assert_eq!(json["summary"]["sessions"].as_u64(), Some(n as u64));
    assert_eq!(session_files(&json), files);
    let strip = |v: &Value| {
        let mut v = v.clone();
        for s in v["sessions"].as_array_mut().expect("sessions") {
            s.as_object_mut().expect("object").remove("file_sha256");
        }
        v
    };
    assert_eq!(
        strip(&json),
        strip(&index),
        "sessions --format json vs index.json"
    );

    // CSV: a header row, then one row per session whose last field is the file.
    let csv = sessions("csv");
    let mut lines = csv.lines();
    let header = lines.next().expect("header");
    assert!(header.starts_with("number,protocol,"), "{header}");
    assert!(header.ends_with(",file"), "{header}");
    let csv_files: Vec<String> = lines
        .map(|l| l.rsplit(',').next().unwrap_or_default().to_string())
        .collect();
    assert_eq!(csv_files, files);

    // Table: it has no file column; the rows must be the same sessions in the same order
    // (number and protocol, which the file names start with) and the footer the same count.
    let table = sessions("table");
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines.len() >= 2, "{table}");
    assert!(lines[0].starts_with('#'), "{table}");
    let footer = lines[lines.len() - 1];
    assert!(footer.starts_with(&format!("{n} sessions, ")), "{footer}");
    let rows = &lines[1..lines.len() - 1];
    assert_eq!(rows.len(), n, "{table}");
    for (row, file) in rows.iter().zip(&files) {
        let mut cols = row.split_whitespace();
        let number: usize = cols.next().expect("number").parse().expect("number");
        let proto = cols.next().expect("protocol");
        assert!(
            file.starts_with(&format!("{number:06}-{proto}-")),
            "table row {row:?} vs file {file}"
        );
    }
}

#[test]
fn info_prints_sha256_and_packets() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("out");
    let capture = data(WIKIPEDIA);
    let s = split(&capture, &out);
    let (dir, _) = expect_split_ok(&capture, &out, &s);
    let o = run(["info".as_ref(), capture.as_os_str()]);
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    assert!(o.stderr.is_empty(), "{}", describe(&o));
    let stdout = text(&o.stdout);
    let field = |name: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}:")))
            .map(|v| v.trim().to_string())
            .unwrap_or_else(|| panic!("no {name} line: {stdout}"))
    };
    let dir_name = dir
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    assert_eq!(field("SHA256"), dir_name);
    assert_eq!(field("Packets"), WIKIPEDIA_PACKETS.to_string());

    let j = run(["info".as_ref(), capture.as_os_str(), "--json".as_ref()]);
    assert_eq!(j.status.code(), Some(0), "{}", describe(&j));
    let v: Value = serde_json::from_slice(&j.stdout).expect("info json");
    assert_eq!(v["hashes"]["sha256"].as_str(), Some(dir_name.as_str()));
    assert_eq!(v["packets"].as_u64(), Some(WIKIPEDIA_PACKETS));
}

#[test]
fn help_has_examples() {
    for cmd in ["split", "sessions", "info"] {
        let o = run([cmd, "--help"]);
        assert_eq!(o.status.code(), Some(0), "{cmd}: {}", describe(&o));
        let stdout = text(&o.stdout);
        assert!(stdout.contains("Example"), "{cmd} --help: {stdout}");
        assert!(stdout.contains("Usage"), "{cmd} --help: {stdout}");
    }
}

#[test]
fn good_split_prints_nothing_on_stderr() {
    // stderr is a pipe here, not a terminal: no progress bar, no escape codes, nothing.
    let tmp = tempfile::tempdir().expect("tempdir");
    for name in [
        WIKIPEDIA,
        "zeek__echo-connections.pcap",
        "wireshark__dns+icmp.pcapng.gz",
    ] {
        let out = tmp.path().join(name);
        let capture = data(name);
        let o = split(&capture, &out);
        expect_split_ok(&capture, &out, &o);
        assert!(o.stderr.is_empty(), "{name}: {}", describe(&o));
    }
}

// ---------------------------------------------------------------- bad input

#[test]
fn rejects_empty_file() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let capture = write(tmp.path(), "empty.pcap", b"");
    let out = tmp.path().join("out");
    let o = split(&capture, &out);
    expect_input_error(&capture, &out, &o, "empty file");
}

#[test]
fn rejects_text_named_pcap() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let capture = write(tmp.path(), "x.pcap", b"GET / HTTP/1.1\r\n");
    let out = tmp.path().join("out");
    let o = split(&capture, &out);
    expect_input_error(
        &capture,
        &out,
        &o,
        "not a capture file (starts with \"GET /",
    );
}

#[test]
fn rejects_directory() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let capture = tmp.path().join("captures.pcap");
    fs::create_dir(&capture).expect("mkdir");
    let out = tmp.path().join("out");
    let o = split(&capture, &out);
    expect_input_error(&capture, &out, &o, "is a directory");
}

#[test]
fn rejects_missing_file() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let capture = tmp.path().join("missing.pcap");
    let out = tmp.path().join("out");
    fs::create_dir(&out).expect("mkdir");
    let o = split(&capture, &out);
    expect_input_error(&capture, &out, &o, "check the path");
}

#[test]
fn rejects_bad_input_with_existing_output_dir_left_empty() {
    // The same refusals when -o already exists: it stays empty.
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("out");
    fs::create_dir(&out).expect("mkdir");
    let empty = write(tmp.path(), "empty.pcap", b"");
    expect_input_error(&empty, &out, &split(&empty, &out), "empty file");
    let text_file = write(tmp.path(), "x.pcap", b"GET / HTTP/1.1\r\n");
    expect_input_error(
        &text_file,
        &out,
        &split(&text_file, &out),
        "not a capture file (starts with \"GET /",
    );
    assert!(out.is_dir());
}

#[test]
fn accepts_header_only_pcap() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let capture = write(tmp.path(), "header-only.pcap", &pcap_header());
    let out = tmp.path().join("out");
    let o = split(&capture, &out);
    let (_, index) = expect_split_ok(&capture, &out, &o);
    assert!(o.stderr.is_empty(), "{}", describe(&o));
    assert_eq!(index["summary"]["sessions"].as_u64(), Some(0));
    assert_eq!(packets_in(&index), 0);
    assert!(index["capture"]["damage"].is_null());
    assert!(
        text(&o.stdout).contains("0 sessions -> "),
        "{}",
        describe(&o)
    );
}

#[test]
fn warns_on_second_record_cut_short() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let frame = udp_frame(1111, b"first record, complete");
    let mut bytes = pcap_header();
    bytes.extend(pcap_record(1_400_000_000, 1, &frame));
    let second_at = bytes.len();
    bytes.extend(pcap_record_header(1_400_000_000, 2, 60, 60));
    bytes.extend_from_slice(&[0xab; 20]);
    let capture = write(tmp.path(), "cut.pcap", &bytes);
    let out = tmp.path().join("out");
    let o = split(&capture, &out);
    let (dir, index, line) = expect_warning(&capture, &out, &o);
    assert!(
        line.contains("record 1 cut short (20 of 60 bytes present)"),
        "{line}"
    );
    let unreadable = PCAP_RECORD_LEN + 20;
    assert!(
        line.contains(&format!("{unreadable} bytes from offset {second_at} ")),
        "{line}"
    );
    assert_eq!(index["capture"]["damage"]["record"].as_u64(), Some(1));
    assert_eq!(packets_in(&index), 1);
    let files = session_files(&index);
    assert_eq!(files.len(), 1);
    let written = fs::read(dir.join(&files[0])).expect("session file");
    let mut want = pcap_header();
    want.extend(pcap_record(1_400_000_000, 1, &frame));
    assert_eq!(written, want, "the first record is kept verbatim");
}

#[test]
fn warns_on_record_claiming_huge_length() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut bytes = pcap_header();
    let frames = [udp_frame(2222, b"one"), udp_frame(2223, b"two")];
    for (i, f) in frames.iter().enumerate() {
        bytes.extend(pcap_record(1_400_000_000, i as u32, f));
    }
    let bad_at = bytes.len();
    bytes.extend(pcap_record_header(
        1_400_000_001,
        0,
        0xFFFF_FFF0,
        0xFFFF_FFF0,
    ));
    bytes.extend_from_slice(&[0x55; 32]);
    let capture = write(tmp.path(), "huge.pcap", &bytes);
    let out = tmp.path().join("out");
    let o = split(&capture, &out);
    let (_, index, line) = expect_warning(&capture, &out, &o);
    // The length is refused against the 128 MiB limit before anything is allocated; the
    // record header and everything after it are unreadable.
    assert!(
        line.contains(
            "record 2 claims 4294967280 bytes, more than the 134217728 byte limit for one packet"
        ),
        "{line}"
    );
    let unreadable = PCAP_RECORD_LEN + 32;
    assert!(
        line.contains(&format!("{unreadable} bytes from offset {bad_at} ")),
        "{line}"
    );
    assert_eq!(index["capture"]["damage"]["record"].as_u64(), Some(2));
    assert_eq!(packets_in(&index), 2);
    assert_eq!(session_packet_total(&index), 2);
}

#[test]
fn warns_on_garbage_after_last_record() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let good = fs::read(data(WIKIPEDIA)).expect("fixture");
    let mut bytes = good.clone();
    bytes.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef].repeat(10));
    let capture = write(tmp.path(), "garbage.pcap", &bytes);
    let out = tmp.path().join("out");
    let o = split(&capture, &out);
    let (_, index, line) = expect_warning(&capture, &out, &o);
    assert!(
        line.contains(&format!("40 bytes from offset {} ", good.len())),
        "{line}"
    );
    assert_eq!(packets_in(&index), WIKIPEDIA_PACKETS);
    assert_eq!(session_packet_total(&index), WIKIPEDIA_PACKETS);
}

#[test]
fn skips_unknown_pcapng_block() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut block = Vec::new();
    block.extend_from_slice(&0x0000_0BADu32.to_le_bytes());
    block.extend_from_slice(&20u32.to_le_bytes());
    block.extend_from_slice(b"custom!!");
    block.extend_from_slice(&20u32.to_le_bytes());
    let (bytes, _) = pcapng_with_block_after_first_packet(&block);
    let capture = write(tmp.path(), "unknown-block.pcapng", &bytes);
    let out = tmp.path().join("out");
    let o = split(&capture, &out);
    let (_, index) = expect_split_ok(&capture, &out, &o);
    assert!(o.stderr.is_empty(), "skipped silently: {}", describe(&o));
    assert!(index["capture"]["damage"].is_null());
    assert_eq!(packets_in(&index), 4);
    assert_eq!(session_packet_total(&index), 4);
}

#[test]
fn warns_on_pcapng_bad_block_length() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut block = Vec::new();
    block.extend_from_slice(&0x0000_0BADu32.to_le_bytes());
    block.extend_from_slice(&13u32.to_le_bytes());
    block.extend_from_slice(&[0u8; 8]);
    let (bytes, bad_at) = pcapng_with_block_after_first_packet(&block);
    let capture = write(tmp.path(), "bad-length.pcapng", &bytes);
    let out = tmp.path().join("out");
    let o = split(&capture, &out);
    let (_, index, line) = expect_warning(&capture, &out, &o);
    assert!(
        line.contains("block of type 0x00000bad has an invalid length (13 bytes)"),
        "{line}"
    );
    let unreadable = bytes.len() - bad_at;
    assert!(
        line.contains(&format!("{unreadable} bytes from offset {bad_at} ")),
        "{line}"
    );
    assert_eq!(packets_in(&index), 1, "the packet before the bad block");
    assert_eq!(session_packet_total(&index), 1);
}

#[test]
fn warns_on_truncated_gzip() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let good = fs::read(data(WIKIPEDIA)).expect("fixture");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(&good).expect("gzip");
    let gz = enc.finish().expect("gzip");
    let capture = write(tmp.path(), "cut.pcap.gz", &gz[..gz.len() / 2]);
    let out = tmp.path().join("out");
    let o = split(&capture, &out);
    let (_, index, _) = expect_warning(&capture, &out, &o);
    let packets = packets_in(&index);
    assert!(
        packets > 0 && packets < WIKIPEDIA_PACKETS,
        "packets {packets}"
    );
    assert_eq!(session_packet_total(&index), packets);
    assert_eq!(index["capture"]["compressed"], Value::Bool(true));
}

fn expect_output_error(o: &Output, out: &Path) {
    assert_eq!(o.status.code(), Some(3), "{}", describe(o));
    assert!(o.stdout.is_empty(), "{}", describe(o));
    let err = text(&o.stderr);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "{}", describe(o));
    assert!(lines[0].starts_with("packetpivot: "), "{}", lines[0]);
    assert!(
        lines[0].contains(&out.display().to_string()),
        "must name {}: {}",
        out.display(),
        lines[0]
    );
}

#[test]
fn rejects_unwritable_output_dir() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().expect("tempdir");
    let capture = data(WIKIPEDIA);
    let out = tmp.path().join("readonly");
    fs::create_dir(&out).expect("mkdir");
    fs::set_permissions(&out, fs::Permissions::from_mode(0o555)).expect("chmod");
    let probe = out.join("probe");
    let chmod_works = fs::create_dir(&probe).is_err();
    let _ = fs::remove_dir(&probe);
    if chmod_works {
        let o = split(&capture, &out);
        fs::set_permissions(&out, fs::Permissions::from_mode(0o755)).expect("chmod");
        expect_output_error(&o, &out);
        assert_eq!(entries(&out), Vec::<String>::new());
    } else {
        // Root ignores the mode bits: use an output path whose parent is a regular file.
        fs::set_permissions(&out, fs::Permissions::from_mode(0o755)).expect("chmod");
        let file = write(tmp.path(), "somefile", b"not a directory");
        let out = file.join("out");
        let o = split(&capture, &out);
        expect_output_error(&o, &out);
        assert_eq!(fs::read(&file).expect("file"), b"not a directory");
    }
    assert_eq!(entries(&tmp.path().join("readonly")), Vec::<String>::new());
}

#[test]
fn rejects_output_path_under_a_file() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = write(tmp.path(), "somefile", b"not a directory");
    let out = file.join("out");
    let o = split(&data(WIKIPEDIA), &out);
    expect_output_error(&o, &out);
    assert!(
        text(&o.stderr).contains("cannot create output directory"),
        "{}",
        describe(&o)
    );
    assert_eq!(fs::read(&file).expect("file"), b"not a directory");
    assert_eq!(entries(tmp.path()), vec!["somefile".to_string()]);
}

/// `split CAPTURE -o OUT --json`, checked to have succeeded, with its parsed summary.
fn split_json(capture: &Path, out: &Path) -> (Output, Value) {
    let output = run([
        "split".as_ref(),
        capture.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
        "--json".as_ref(),
    ]);
    expect_split_ok(capture, out, &output);
    let summary = serde_json::from_slice(&output.stdout).expect("json");
    (output, summary)
}

#[test]
fn reused_json_summary_matches_first_run() {
    // A second split reads index.json back; what it prints must be what the first printed.
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("out");
    let capture = data("zeek__ssh.pcap");
    let (first, a) = split_json(&capture, &out);
    let (second, b) = split_json(&capture, &out);
    assert_eq!(a["reused"], Value::Bool(false));
    assert_eq!(b["reused"], Value::Bool(true));
    assert_eq!(a["directory"], b["directory"]);
    assert_eq!(a["summary"], b["summary"]);
    // Compare the text: serde_json's own parser maps both spellings of a float to one value.
    let (ta, tb) = (text(&first.stdout), text(&second.stdout));
    assert!(tb.contains("\"reused\":true"), "{tb}");
    assert_eq!(
        tb.replace("\"reused\":true", "\"reused\":false"),
        ta,
        "the reused run prints a different summary (index.json read back differs)"
    );
}

#[test]
fn stale_index_version_is_split_again_and_replaced() {
    // Output written by an older index layout must not be answered from: it may lack facts
    // the current version records. It is split again, in place, and nothing else is left.
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("out");
    let capture = data("zeek__ssh.pcap");
    let (_, a) = split_json(&capture, &out);
    let dir = PathBuf::from(a["directory"].as_str().expect("directory"));
    let index = dir.join("index.json");
    let current = fs::read_to_string(&index).expect("index");
    let version = format!(
        "\"index_version\": {}",
        packetpivot::session::index::INDEX_VERSION
    );
    assert!(current.contains(&version), "{current:.200}");
    fs::write(&index, current.replace(&version, "\"index_version\": 1")).expect("age it");
    let (_, b) = split_json(&capture, &out);
    assert_eq!(b["reused"], Value::Bool(false), "a stale index was reused");
    assert_eq!(a["directory"], b["directory"]);
    assert_eq!(fs::read_to_string(&index).expect("index"), current);
    assert_eq!(entries(&out).len(), 1, "{:?}", entries(&out));
}
