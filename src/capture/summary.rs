//! What capinfos tells about a capture, plus its hashes, from one read (no sessions).

use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use serde::Serialize;

use super::hash::FileHashes;
use super::reader::CaptureReader;
use super::{link_type_names, CaptureError, Damage};
use crate::limits::Limits;

/// Everything `info` reports.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
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

/// Reads the capture once and gathers the figures.
pub fn gather(path: &Path, progress: Arc<AtomicU64>) -> Result<CaptureInfo, CaptureError> {
    // The digests come from the same read of the file as the records.
    let (mut reader, pending) =
        CaptureReader::open_hashing(path, &Limits::default(), progress, None)?;
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
    let hashes = reader
        .finish_hashes(pending)
        .map_err(|source| CaptureError::Io {
            path: path.to_path_buf(),
            source,
        })?;
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
        first_time: first.map(super::rfc3339),
        last_time: last.map(super::rfc3339),
        duration_s,
        data_byte_rate: rate(data),
        packet_rate: rate(packets),
        average_packet_size: (packets > 0).then(|| data as f64 / packets as f64),
        hashes,
        damage: reader.damage().cloned(),
    })
}
