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
    std::process::exit(packetpivot::cli::run(cli));
}
