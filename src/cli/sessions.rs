//! `packetpivot sessions`: the sessions `split` would write, without writing anything.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::progress::with_progress;
use super::{human_bytes, warn_damage, Failure, SplitSettings, EXIT_OK};
use crate::session::index::{IndexOut, PeerEntry, SessionEntry};
use crate::session::output::{list_sessions, Digests, Listing};

/// Output formats of `sessions`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ListFormat {
    /// Aligned columns for a terminal.
    Table,
    /// The index (capture, summary and every session) as JSON.
    Json,
    /// One row per session, with a header row.
    Csv,
}

/// Arguments of `sessions`.
#[derive(Debug, Args)]
pub struct SessionsArgs {
    /// The capture file.
    #[arg(value_name = "CAPTURE")]
    pub capture: PathBuf,
    /// How to print the list.
    #[arg(long, value_enum, default_value = "table")]
    pub format: ListFormat,
    #[command(flatten)]
    settings: SplitSettings,
}

/// Runs `sessions`.
pub fn run(args: &SessionsArgs) -> Result<i32, Failure> {
    let options = args.settings.split_options()?;
    // Only the JSON index shows the capture's digests; the tables list sessions alone.
    let digests = match args.format {
        ListFormat::Json => Digests::Compute,
        ListFormat::Csv | ListFormat::Table => Digests::Skip,
    };
    let listing = with_progress("reading", &args.capture, |c| {
        list_sessions(&args.capture, &options, digests, c)
    });
    let listing = listing?;
    if let Some(d) = &listing.head.capture.damage {
        warn_damage(&args.capture, d);
    }
    let mut out = super::Output::stdout();
    match args.format {
        ListFormat::Json => {
            let entries = listing.entries();
            out.json_lines(&IndexOut::new(&listing.head, &entries))?;
        }
        ListFormat::Csv => csv(&listing, &mut out)?,
        ListFormat::Table => table(&listing, &mut out)?,
    }
    out.finish()?;
    Ok(EXIT_OK)
}

fn endpoint(p: &PeerEntry) -> String {
    match (&p.address, p.port, &p.mac) {
        (Some(a), Some(port), _) if a.contains(':') => format!("[{a}]:{port}"),
        (Some(a), Some(port), _) => format!("{a}:{port}"),
        (Some(a), None, _) => a.clone(),
        (None, _, Some(m)) => m.clone(),
        _ => "-".into(),
    }
}

const TABLE_COLUMNS: usize = 9;

fn table_row(s: &SessionEntry) -> [String; TABLE_COLUMNS] {
    [
        s.number.to_string(),
        s.protocol.clone(),
        endpoint(&s.client),
        endpoint(&s.server),
        s.packets.total.to_string(),
        human_bytes(s.bytes.total),
        s.first_time.clone().unwrap_or_else(|| "-".into()),
        format!("{:.3}s", s.duration_s),
        s.flags.join(","),
    ]
}

fn table(listing: &Listing, out: &mut super::Output) -> Result<(), Failure> {
    let header: [String; TABLE_COLUMNS] = [
        "#", "proto", "client", "server", "packets", "bytes", "first", "duration", "flags",
    ]
    .map(String::from);
    // Two passes over the entries (made on the fly), so memory stays flat.
    let entries = listing.entries();
    let mut widths = header.clone().map(|h| h.chars().count());
    for row in entries.iter().map(|e| table_row(&e)) {
        for (w, c) in widths.iter_mut().zip(row.iter()) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |r: &[String; TABLE_COLUMNS]| {
        let cells: Vec<String> = r
            .iter()
            .zip(widths.iter())
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        format!("{}\n", cells.join("  ").trim_end())
    };
    out.text(&line(&header))?;
    for e in entries.iter() {
        out.text(&line(&table_row(&e)))?;
    }
    let h = &listing.head;
    out.text(&format!(
        "{} sessions, {} packets, {}\n",
        h.summary.sessions,
        h.capture.packets,
        human_bytes(h.capture.bytes)
    ))
}

/// Quotes a CSV field when it needs it (RFC 4180).
pub(crate) fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn csv(listing: &Listing, out: &mut super::Output) -> Result<(), Failure> {
    out.text(
        "number,protocol,client_address,client_port,client_mac,server_address,server_port,server_mac,\
packets_to_server,packets_to_client,bytes_to_server,bytes_to_client,first_time,last_time,duration_s,\
community_id,flags,file\n",
    )?;
    let opt = |o: &Option<String>| o.clone().unwrap_or_default();
    let port = |p: Option<u16>| p.map(|p| p.to_string()).unwrap_or_default();
    for s in listing.entries().iter() {
        let fields = [
            s.number.to_string(),
            s.protocol.clone(),
            opt(&s.client.address),
            port(s.client.port),
            opt(&s.client.mac),
            opt(&s.server.address),
            port(s.server.port),
            opt(&s.server.mac),
            s.packets.to_server.to_string(),
            s.packets.to_client.to_string(),
            s.bytes.to_server.to_string(),
            s.bytes.to_client.to_string(),
            opt(&s.first_time),
            opt(&s.last_time),
            format!("{:.6}", s.duration_s),
            opt(&s.community_id),
            s.flags.join(" "),
            s.file.clone(),
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.text(&format!("{}\n", line.join(",")))?;
    }
    Ok(())
}
