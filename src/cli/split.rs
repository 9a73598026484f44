//! `packetpivot split`: one file per session plus `index.json` in `OUT/<sha256>/`.

use std::path::PathBuf;

use clap::Args;

use super::progress::with_progress;
use super::{human_bytes, print_out, report, warn_damage, Failure, SplitSettings, EXIT_OK};
use crate::session::index::IndexHead;
use crate::session::output::{split_to_directory, SplitOutcome};

/// Arguments of `split`.
#[derive(Debug, Args)]
pub struct SplitArgs {
    /// Capture files (pcap or pcapng, optionally gzip-compressed).
    #[arg(required = true, value_name = "CAPTURE")]
    pub captures: Vec<PathBuf>,
    /// Where the per-capture directories go.
    #[arg(short, long, value_name = "DIR", default_value = "packetpivot-out")]
    pub out: PathBuf,
    /// Print each capture's index summary as JSON (one object per line) instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    settings: SplitSettings,
}

/// Runs `split`.
pub fn run(args: &SplitArgs) -> Result<i32, Failure> {
    super::capture_list_is_nonempty(&args.captures)?;
    let options = args.settings.split_options()?;
    let mut code = EXIT_OK;
    for capture in &args.captures {
        let outcome = with_progress("splitting", capture, |c| {
            split_to_directory(capture, &args.out, &options, c)
        });
        match outcome {
            Ok(o) => {
                if let Some(d) = &o.index.capture.damage {
                    warn_damage(capture, d);
                }
                let text = if args.json {
                    summary_json(&o)
                } else {
                    summary_text(&o)
                };
                print_out(&text)?;
            }
            Err(e) => {
                let f = Failure::from(e);
                report(&f);
                code = code.max(f.code);
            }
        }
    }
    Ok(code)
}

fn summary_json(o: &SplitOutcome) -> String {
    let value = serde_json::json!({
        "directory": o.dir.display().to_string(),
        "reused": o.reused,
        "capture": o.index.capture,
        "summary": o.index.summary,
        "anomalies": o.index.anomalies,
    });
    format!("{value}\n")
}

/// The short human summary: totals, then one line per protocol.
pub fn summary_text(o: &SplitOutcome) -> String {
    let mut s = String::new();
    let i: &IndexHead = &o.index;
    s.push_str(&format!(
        "{}: {} packets, {}, {} sessions -> {}{}\n",
        i.capture.path,
        i.capture.packets,
        human_bytes(i.capture.bytes),
        i.summary.sessions,
        o.dir.display(),
        if o.reused { " (already split)" } else { "" }
    ));
    for (proto, t) in &i.summary.protocols {
        s.push_str(&format!(
            "  {proto:<10} {:>8} sessions {:>10} packets {:>10}\n",
            t.sessions,
            t.packets,
            human_bytes(t.bytes)
        ));
    }
    s
}
