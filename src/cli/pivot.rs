//! `packetpivot hosts|names|services|macs`: the Maltego pivots for a shell user, from the same
//! engine functions the transforms use (`facts::pivots`), so both give the same answers.

use std::path::PathBuf;

use clap::Args;

use super::progress::with_progress;
use super::{human_bytes, warn_damage, Failure, SplitSettings, EXIT_OK};
use crate::facts::pivots;
use crate::session::index::SessionEntry;
use crate::session::output::list_with_facts;

/// Which pivot.
#[derive(Debug, Clone, Copy)]
pub enum Pivot {
    /// IP addresses (talkers).
    Hosts,
    /// DNS names queried, TLS server names, HTTP hosts.
    Names,
    /// Services.
    Services,
    /// MAC addresses with vendors.
    Macs,
}

/// Arguments shared by the pivot commands.
#[derive(Debug, Args)]
pub struct PivotArgs {
    /// The capture file.
    #[arg(value_name = "CAPTURE")]
    pub capture: PathBuf,
    /// Print JSON.
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// Print CSV with a header row.
    #[arg(long)]
    pub csv: bool,
    #[command(flatten)]
    settings: SplitSettings,
}

fn join(set: &std::collections::BTreeSet<String>) -> String {
    set.iter().cloned().collect::<Vec<_>>().join(" ")
}

/// Runs one pivot command.
pub fn run(pivot: Pivot, args: &PivotArgs) -> Result<i32, Failure> {
    let options = args.settings.split_options()?;
    let listed = with_progress("reading", &args.capture, |c| {
        list_with_facts(&args.capture, &options, c)
    });
    let (listing, facts) = listed?;
    if let Some(d) = &listing.head.capture.damage {
        warn_damage(&args.capture, d);
    }
    let sessions: Vec<SessionEntry> = listing.entries().iter().collect();
    let mut out = super::Output::stdout();
    // (header, rows) for text and CSV; JSON serialises the pivot's own records.
    let (header, rows): (Vec<&str>, Vec<Vec<String>>) = match pivot {
        Pivot::Hosts => {
            let list = pivots::talkers(&sessions);
            if args.json {
                out.json(&list)?;
                return finish(out);
            }
            (
                vec![
                    "address",
                    "internal",
                    "packets",
                    "bytes",
                    "sessions",
                    "as_client",
                    "as_server",
                    "macs",
                ],
                list.iter()
                    .map(|t| {
                        vec![
                            t.address.clone(),
                            t.internal.to_string(),
                            t.packets.to_string(),
                            if args.csv {
                                t.bytes.to_string()
                            } else {
                                human_bytes(t.bytes)
                            },
                            t.sessions.to_string(),
                            t.as_client.to_string(),
                            t.as_server.to_string(),
                            join(&t.macs),
                        ]
                    })
                    .collect(),
            )
        }
        Pivot::Names => {
            let dns = pivots::dns_names(&sessions, &facts);
            let tls = pivots::tls_names(&facts);
            let http = pivots::http_hosts(&sessions, &facts);
            if args.json {
                out.json(&serde_json::json!({ "dns": dns, "tls": tls, "http": http }))?;
                return finish(out);
            }
            let mut rows = Vec::new();
            for n in &dns {
                rows.push(vec![
                    "dns".into(),
                    n.name.clone(),
                    n.queries.to_string(),
                    join(&n.clients),
                    join(&n.addresses),
                ]);
            }
            for n in &tls {
                rows.push(vec![
                    "tls-sni".into(),
                    n.name.clone(),
                    n.sessions.len().to_string(),
                    String::new(),
                    join(&n.ja3),
                ]);
            }
            for h in &http {
                rows.push(vec![
                    "http-host".into(),
                    h.host.clone(),
                    h.requests.to_string(),
                    join(&h.clients),
                    join(&h.user_agents),
                ]);
            }
            (vec!["source", "name", "count", "clients", "detail"], rows)
        }
        Pivot::Services => {
            let list = pivots::services(&sessions, &facts);
            if args.json {
                out.json(&list)?;
                return finish(out);
            }
            (
                vec!["port", "transport", "service", "named_from", "sessions"],
                list.iter()
                    .map(|s| {
                        vec![
                            s.port.to_string(),
                            s.transport.clone(),
                            s.name.clone(),
                            s.source.clone(),
                            s.sessions.len().to_string(),
                        ]
                    })
                    .collect(),
            )
        }
        Pivot::Macs => {
            let list = pivots::macs(&sessions);
            if args.json {
                out.json(&list)?;
                return finish(out);
            }
            (
                vec!["mac", "vendor", "sessions", "ips"],
                list.iter()
                    .map(|m| {
                        vec![
                            m.mac.clone(),
                            m.vendor.clone().unwrap_or_default(),
                            m.sessions.to_string(),
                            join(&m.ips),
                        ]
                    })
                    .collect(),
            )
        }
    };
    if args.csv {
        out.text(&format!("{}\n", header.join(",")))?;
        for r in &rows {
            let cells: Vec<String> = r.iter().map(|c| super::sessions::csv_field(c)).collect();
            out.text(&format!("{}\n", cells.join(",")))?;
        }
    } else {
        let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
        for r in &rows {
            for (w, c) in widths.iter_mut().zip(r) {
                *w = (*w).max(c.chars().count());
            }
        }
        let line = |cells: Vec<&str>| {
            let padded: Vec<String> = cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect();
            format!("{}\n", padded.join("  ").trim_end())
        };
        out.text(&line(header.clone()))?;
        for r in &rows {
            out.text(&line(r.iter().map(String::as_str).collect()))?;
        }
    }
    finish(out)
}

fn finish(out: super::Output) -> Result<i32, Failure> {
    out.finish()?;
    Ok(EXIT_OK)
}
