//! The `packetpivot` binary: parse arguments, run, exit with the command's code.

use clap::Parser;

fn main() {
    let cli = match packetpivot::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                packetpivot::cli::EXIT_USAGE
            } else {
                0
            };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    // Logs go to stderr (stdout carries results, and in local mode the Maltego message).
    let filter = tracing_subscriber::EnvFilter::try_from_env("PACKETPIVOT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_log_level(&cli)));
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    std::process::exit(packetpivot::cli::run(cli));
}

/// The server logs each request; the other commands speak only when something is wrong.
fn default_log_level(cli: &packetpivot::cli::Cli) -> &'static str {
    match cli.command {
        packetpivot::cli::Command::Serve(_) => "info",
        _ => "warn",
    }
}
