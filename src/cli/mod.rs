//! The command line: one file per subcommand, one place that prints errors and picks the
//! exit code.
//!
//! Exit codes: 0 success (damaged input that was still read gives a warning, not an error),
//! 1 a capture could not be read, 2 bad usage, 3 the output could not be written.

mod export;
mod info;
mod list;
mod local;
mod pivot;
mod progress;
mod serve;
mod sessions;
mod split;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::limits::Limits;
use crate::session::output::SplitError;
use crate::session::splitter::SplitOptions;

/// Exit code: everything worked.
pub const EXIT_OK: i32 = 0;
/// Exit code: a capture could not be read.
pub const EXIT_INPUT: i32 = 1;
/// Exit code: the command line was wrong.
pub const EXIT_USAGE: i32 = 2;
/// Exit code: output could not be written.
pub const EXIT_OUTPUT: i32 = 3;

/// Split packet captures into exact sessions and pivot on them.
#[derive(Debug, Parser)]
#[command(
    name = "packetpivot",
    version,
    about,
    long_about = None,
    after_help = "Examples:\n  packetpivot split tests/data/zeek__wikipedia.pcap -o out\n  packetpivot sessions capture.pcapng --format csv\n  packetpivot info capture.pcap.gz\n\nExit codes: 0 success (warnings for damaged input), 1 unreadable capture, 2 usage, 3 output not writable."
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write one capture file per session and an index.json, into OUT/<sha256>/.
    #[command(
        after_help = "Example:\n  packetpivot split tests/data/zeek__wikipedia.pcap -o sessions/\n  packetpivot split *.pcap --json"
    )]
    Split(split::SplitArgs),
    /// List the sessions of a capture without writing any file.
    #[command(
        after_help = "Example:\n  packetpivot sessions tests/data/zeek__wikipedia.pcap\n  packetpivot sessions capture.pcapng --format csv > sessions.csv"
    )]
    Sessions(sessions::SessionsArgs),
    /// Describe a capture: format, link types, packets, times, size, rates and hashes.
    #[command(
        after_help = "Example:\n  packetpivot info tests/data/zeek__wikipedia.pcap\n  packetpivot info capture.pcap.gz --json"
    )]
    Info(info::InfoArgs),
    /// The capture's IP addresses (talkers): packets, bytes, sessions, roles, MACs.
    #[command(
        after_help = "Example:\n  packetpivot hosts tests/data/zeek__wikipedia.pcap\n  packetpivot hosts capture.pcap --csv > talkers.csv"
    )]
    Hosts(pivot::PivotArgs),
    /// The names in the capture: DNS names queried, TLS server names (SNI), HTTP hosts.
    #[command(
        after_help = "Example:\n  packetpivot names tests/data/zeek__wikipedia.pcap\n  packetpivot names capture.pcap --json"
    )]
    Names(pivot::PivotArgs),
    /// The services the capture's sessions used (from the payload, else the IANA port name).
    #[command(after_help = "Example:\n  packetpivot services tests/data/zeek__ssh.pcap")]
    Services(pivot::PivotArgs),
    /// The capture's MAC addresses, with vendors and the IP addresses behind them.
    #[command(after_help = "Example:\n  packetpivot macs tests/data/zeek__wikipedia.pcap")]
    Macs(pivot::PivotArgs),
    /// Run the Maltego transform server (TRX protocol over HTTP).
    #[command(
        after_help = "Example:\n  packetpivot serve --capture-root /evidence --data-dir /var/lib/packetpivot\n  curl -H 'Content-Type: text/xml' --data-binary @request.xml http://127.0.0.1:8080/run/capture-to-sessions"
    )]
    Serve(serve::ServeArgs),
    /// Run one transform as a Maltego local transform: the message on stdout, logs on stderr.
    #[command(
        after_help = "Example:\n  packetpivot local capture-to-sessions /evidence/x.pcap\n  packetpivot local session-to-ports 'TCP ...' 'client.port=51234#server.port=443'"
    )]
    Local(local::LocalArgs),
    /// Export Maltego configuration: an .mtz for Maltego Desktop, or CSVs for a TDS.
    #[command(
        after_help = "Example:\n  packetpivot export mtz -o packetpivot.mtz\n  packetpivot export tds --url https://tds.example:8443 -o tds/"
    )]
    Export(export::ExportArgs),
    /// List the transforms with their input, outputs and settings.
    #[command(after_help = "Example:\n  packetpivot transforms\n  packetpivot transforms --json")]
    Transforms(list::ListArgs),
}

/// Options shared by the commands that split.
#[derive(Debug, Clone, Default, Args)]
pub struct SplitSettings {
    /// End a UDP session after this many seconds without a packet (default: never, as
    /// tshark's udp.stream).
    #[arg(long, value_name = "SECONDS")]
    pub udp_idle_timeout: Option<f64>,
    /// Do not collect application facts (DNS, HTTP, TLS, services) while splitting.
    #[arg(long)]
    pub no_facts: bool,
}

impl SplitSettings {
    /// The split options, or a usage failure naming the bad setting.
    fn split_options(&self) -> Result<SplitOptions, Failure> {
        self.options().map_err(usage)
    }

    fn options(&self) -> Result<SplitOptions, String> {
        let udp_idle_timeout_ns = match self.udp_idle_timeout {
            None => None,
            Some(s) if s.is_finite() && s > 0.0 && s < 1e9 => Some((s * 1e9) as i64),
            Some(s) => {
                return Err(format!(
                    "--udp-idle-timeout {s}: give a positive number of seconds"
                ))
            }
        };
        Ok(SplitOptions {
            udp_idle_timeout_ns,
            limits: Limits::default(),
            skip_facts: self.no_facts,
        })
    }
}

/// A failure of one command, rendered as one line by [`run`].
pub struct Failure {
    /// The message (file and what is wrong).
    pub message: String,
    /// What to do about it.
    pub hint: Option<String>,
    /// The exit code.
    pub code: i32,
}

impl From<SplitError> for Failure {
    fn from(e: SplitError) -> Failure {
        let code = match e {
            SplitError::Capture(_) => EXIT_INPUT,
            SplitError::Output { .. } | SplitError::Spill(_) | SplitError::CorruptOutput { .. } => {
                EXIT_OUTPUT
            }
        };
        Failure {
            hint: Some(e.hint().to_string()),
            message: e.to_string(),
            code,
        }
    }
}

fn usage(message: String) -> Failure {
    Failure {
        message,
        hint: None,
        code: EXIT_USAGE,
    }
}

/// Prints an error line: `packetpivot: <file>: <what>; <what to do>`.
pub fn report(f: &Failure) {
    match &f.hint {
        Some(h) => eprintln!("packetpivot: {}; {h}", f.message),
        None => eprintln!("packetpivot: {}", f.message),
    }
}

/// Prints the one warning line for a capture that was read up to damage.
pub fn warn_damage(capture: &std::path::Path, d: &crate::capture::Damage) {
    eprintln!(
        "packetpivot: warning: {}: {}; {} bytes from offset {} could not be read (every complete record before it was kept)",
        capture.display(),
        d.reason,
        d.unreadable_bytes,
        d.offset
    );
}

/// Runs a parsed command line; returns the exit code.
pub fn run(cli: Cli) -> i32 {
    let result = match cli.command {
        Command::Split(a) => split::run(&a),
        Command::Sessions(a) => sessions::run(&a),
        Command::Info(a) => info::run(&a),
        Command::Serve(a) => serve::run(&a),
        Command::Local(a) => local::run(&a),
        Command::Transforms(a) => list::run(&a),
        Command::Export(a) => export::run(&a),
        Command::Hosts(a) => pivot::run(pivot::Pivot::Hosts, &a),
        Command::Names(a) => pivot::run(pivot::Pivot::Names, &a),
        Command::Services(a) => pivot::run(pivot::Pivot::Services, &a),
        Command::Macs(a) => pivot::run(pivot::Pivot::Macs, &a),
    };
    match result {
        Ok(code) => code,
        Err(f) => {
            report(&f);
            f.code
        }
    }
}

/// Writes to stdout; a closed pipe (`| head`) is not an error.
pub(crate) fn print_out(text: &str) -> Result<(), Failure> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Failure {
            message: format!("cannot write to standard output: {e}"),
            hint: None,
            code: EXIT_OUTPUT,
        }),
    }
}

/// Buffered standard output; a closed pipe (`| head`) quietly ends the output.
pub(crate) struct Output {
    out: std::io::BufWriter<std::io::Stdout>,
    closed: bool,
}

impl Output {
    pub(crate) fn stdout() -> Output {
        Output {
            out: std::io::BufWriter::with_capacity(1 << 16, std::io::stdout()),
            closed: false,
        }
    }

    fn check(&mut self, r: std::io::Result<()>) -> Result<(), Failure> {
        match r {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(())
            }
            Err(e) => Err(Failure {
                message: format!("cannot write to standard output: {e}"),
                hint: None,
                code: EXIT_OUTPUT,
            }),
        }
    }

    pub(crate) fn text(&mut self, s: &str) -> Result<(), Failure> {
        use std::io::Write;
        if self.closed {
            return Ok(());
        }
        let r = self.out.write_all(s.as_bytes());
        self.check(r)
    }

    pub(crate) fn json<T: serde::Serialize>(&mut self, value: &T) -> Result<(), Failure> {
        use std::io::Write;
        if self.closed {
            return Ok(());
        }
        let r = serde_json::to_writer_pretty(&mut self.out, value)
            .map_err(std::io::Error::from)
            .and_then(|()| self.out.write_all(b"\n"));
        self.check(r)
    }

    /// Writes an index-shaped value with one session per line (see
    /// [`crate::session::index::to_writer_lines`]).
    pub(crate) fn json_lines<T: serde::Serialize>(&mut self, value: &T) -> Result<(), Failure> {
        use std::io::Write;
        if self.closed {
            return Ok(());
        }
        let r = crate::session::index::to_writer_lines(&mut self.out, value)
            .map_err(std::io::Error::from)
            .and_then(|()| self.out.write_all(b"\n"));
        self.check(r)
    }

    pub(crate) fn finish(mut self) -> Result<(), Failure> {
        use std::io::Write;
        if self.closed {
            return Ok(());
        }
        let r = self.out.flush();
        self.check(r)
    }
}

pub use crate::units::human_bytes;

pub(crate) fn capture_list_is_nonempty(paths: &[PathBuf]) -> Result<(), Failure> {
    if paths.is_empty() {
        return Err(usage("give at least one capture file".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn parses_command_line_definition() {
        Cli::command().debug_assert();
    }
}
