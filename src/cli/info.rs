//! `packetpivot info`: what capinfos tells about a capture, plus its hashes.

use std::path::PathBuf;

use super::progress::with_progress;
use super::{human_bytes, print_out, warn_damage, Failure, EXIT_INPUT, EXIT_OK};
use crate::capture::summary::{gather, CaptureInfo};
use crate::capture::CaptureError;
use clap::Args;

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

fn input_failure(e: CaptureError) -> Failure {
    Failure {
        hint: Some(e.hint().to_string()),
        message: e.to_string(),
        code: EXIT_INPUT,
    }
}

/// Runs `info`.
pub fn run(args: &InfoArgs) -> Result<i32, Failure> {
    let info = with_progress("reading", &args.capture, |c| gather(&args.capture, c));
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
