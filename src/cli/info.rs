//! `packetpivot info`: what capinfos tells about a capture, plus its hashes.

use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use clap::Args;
use serde::Serialize;

use super::progress::Progress;
use super::{human_bytes, print_out, warn_damage, Failure, EXIT_INPUT, EXIT_OK};
use crate::capture::hash::{self, FileHashes};
use crate::capture::reader::CaptureReader;
use crate::capture::{link_type_names, CaptureError, Damage};
use crate::limits::Limits;
use crate::session::index::rfc3339;

/// Arguments of `info`.
#[derive(Debug, Args)]
pub struct InfoArgs {
    /// The capture file.
    #[arg(value_name = "CAPTURE")]
    pub capture: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Everything `info` reports.
#[derive(Debug, Serialize)]
pub struct CaptureInfo {
    /// Path as given.
    pub path: String,
    /// Format name.
    pub format: String,
    /// gzip-compressed on disk.
    pub compressed: bool,
    /// Link types, as `1(EN10MB)`.
    pub link_types: Vec<String>,
    /// Interfaces.
    pub interfaces: usize,
    /// Packet records.
    pub packets: u64,
    /// File size in bytes.
    pub file_size: u64,
    /// Sum of original packet lengths.
    pub data_size: u64,
    /// Sum of captured lengths.
    pub captured_size: u64,
    /// Packets captured shorter than on the wire.
    pub truncated_packets: u64,
    /// First timestamp.
    pub first_time: Option<String>,
    /// Last timestamp.
    pub last_time: Option<String>,
    /// Seconds from first to last.
    pub duration_s: f64,
    /// Data bytes per second.
    pub data_byte_rate: Option<f64>,
    /// Packets per second.
    pub packet_rate: Option<f64>,
    /// Mean original packet length.
    pub average_packet_size: Option<f64>,
    /// Hashes of the file.
    pub hashes: FileHashes,
    /// Damage, if reading stopped early.
    pub damage: Option<Damage>,
}

fn input_failure(e: CaptureError) -> Failure {
    Failure {
        hint: Some(e.hint().to_string()),
        message: e.to_string(),
        code: EXIT_INPUT,
    }
}

/// Reads the capture once and gathers the figures.
pub fn gather(
    path: &std::path::Path,
    progress: Arc<AtomicU64>,
) -> Result<CaptureInfo, CaptureError> {
    let mut reader = CaptureReader::open_with_progress(path, &Limits::default(), progress)?;
    let hashes = {
        let p = path.to_path_buf();
        std::thread::spawn(move || hash::sha256_file(&p).and_then(|s| hash::legacy_hashes(&p, s)))
    };
    let (mut packets, mut data, mut captured, mut truncated) = (0u64, 0u64, 0u64, 0u64);
    let (mut first, mut last): (Option<i64>, Option<i64>) = (None, None);
    while let Some(r) = reader.next_record() {
        packets += 1;
        data += u64::from(r.orig_len);
        captured += r.data.len() as u64;
        if (r.data.len() as u64) < u64::from(r.orig_len) {
            truncated += 1;
        }
        if let Some(ts) = r.ts_ns {
            first = Some(first.map_or(ts, |f| f.min(ts)));
            last = Some(last.map_or(ts, |l| l.max(ts)));
        }
    }
    let hashes = match hashes.join() {
        Ok(Ok(h)) => h,
        Ok(Err(source)) => {
            return Err(CaptureError::Io {
                path: path.to_path_buf(),
                source,
            })
        }
        Err(_) => {
            return Err(CaptureError::Io {
                path: path.to_path_buf(),
                source: std::io::Error::other("hashing thread failed"),
            })
        }
    };
    let duration_s = match (first, last) {
        (Some(f), Some(l)) => l.saturating_sub(f) as f64 / 1e9,
        _ => 0.0,
    };
    let rate = |v: u64| (duration_s > 0.0).then(|| v as f64 / duration_s);
    let link_types = link_type_names(reader.interfaces());
    Ok(CaptureInfo {
        path: path.display().to_string(),
        format: reader.format().name(),
        compressed: reader.compressed(),
        link_types,
        interfaces: reader.interfaces().len(),
        packets,
        file_size: reader.file_size(),
        data_size: data,
        captured_size: captured,
        truncated_packets: truncated,
        first_time: first.map(rfc3339),
        last_time: last.map(rfc3339),
        duration_s,
        data_byte_rate: rate(data),
        packet_rate: rate(packets),
        average_packet_size: (packets > 0).then(|| data as f64 / packets as f64),
        hashes,
        damage: reader.damage().cloned(),
    })
}

/// Runs `info`.
pub fn run(args: &InfoArgs) -> Result<i32, Failure> {
    let size = std::fs::metadata(&args.capture)
        .map(|m| m.len())
        .unwrap_or(0);
    let counter = Arc::new(AtomicU64::new(0));
    let progress = Progress::start(
        format!("reading {}", args.capture.display()),
        size,
        counter.clone(),
    );
    let info = gather(&args.capture, counter);
    progress.finish();
    let info = info.map_err(input_failure)?;
    if let Some(d) = &info.damage {
        warn_damage(&args.capture, d);
    }
    let text = if args.json {
        format!(
            "{}\n",
            serde_json::to_string_pretty(&info).unwrap_or_default()
        )
    } else {
        render(&info)
    };
    print_out(&text)?;
    Ok(EXIT_OK)
}

fn render(i: &CaptureInfo) -> String {
    let opt = |o: &Option<String>| o.clone().unwrap_or_else(|| "n/a".into());
    let rate = |r: Option<f64>, unit: &str| r.map_or("n/a".into(), |v| format!("{v:.2} {unit}"));
    let rows: Vec<(&str, String)> = vec![
        ("File name", i.path.clone()),
        (
            "File type",
            format!(
                "{}{}",
                i.format,
                if i.compressed {
                    " (gzip-compressed)"
                } else {
                    ""
                }
            ),
        ),
        ("Link types", i.link_types.join(", ")),
        ("Interfaces", i.interfaces.to_string()),
        ("Packets", i.packets.to_string()),
        (
            "File size",
            format!("{} ({} bytes)", human_bytes(i.file_size), i.file_size),
        ),
        (
            "Data size",
            format!("{} ({} bytes)", human_bytes(i.data_size), i.data_size),
        ),
        ("Captured size", format!("{} bytes", i.captured_size)),
        ("Truncated packets", i.truncated_packets.to_string()),
        ("First packet time", opt(&i.first_time)),
        ("Last packet time", opt(&i.last_time)),
        ("Capture duration", format!("{:.6} seconds", i.duration_s)),
        ("Data byte rate", rate(i.data_byte_rate, "bytes/s")),
        (
            "Data bit rate",
            rate(i.data_byte_rate.map(|b| b * 8.0), "bits/s"),
        ),
        ("Average packet size", rate(i.average_packet_size, "bytes")),
        ("Average packet rate", rate(i.packet_rate, "packets/s")),
        ("MD5", i.hashes.md5.clone()),
        ("SHA1", i.hashes.sha1.clone()),
        ("SHA256", i.hashes.sha256.clone()),
    ];
    let mut out = String::new();
    for (k, v) in rows {
        out.push_str(&format!("{:<21}{v}\n", format!("{k}:")));
    }
    out
}
