//! `packetpivot export`: Maltego configuration for local transforms (`.mtz`) and for a TDS
//! (`transforms.csv`, `settings.csv`).

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};

use super::{print_out, Failure, EXIT_OK, EXIT_OUTPUT, EXIT_USAGE};
use crate::maltego::export::{mtz, tds, LocalCommand};
use crate::transforms;

/// Arguments of `export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// What to export.
    #[command(subcommand)]
    pub what: ExportKind,
}

/// The export formats.
#[derive(Debug, Subcommand)]
pub enum ExportKind {
    /// An .mtz for Maltego Desktop: entities, local transforms running this binary, a set.
    #[command(
        after_help = "Example:\n  packetpivot export mtz -o packetpivot.mtz\n  (then Maltego: Import | Import Config)"
    )]
    Mtz {
        /// The file to write.
        #[arg(short, long, value_name = "FILE")]
        out: PathBuf,
        /// The packetpivot command Maltego should run (default: this binary).
        #[arg(long, value_name = "PATH")]
        command: Option<PathBuf>,
        /// Working directory for local transforms.
        #[arg(long, value_name = "DIR", default_value = ".")]
        working_dir: PathBuf,
    },
    /// transforms.csv and settings.csv for a TDS, plus entities.mtz with the entity types.
    #[command(
        after_help = "Example:\n  packetpivot export tds --url https://tds.example:8443 -o tds/"
    )]
    Tds {
        /// The public URL of `packetpivot serve`.
        #[arg(long, value_name = "URL")]
        url: String,
        /// The directory to write into.
        #[arg(short, long, value_name = "DIR")]
        out: PathBuf,
    },
}

fn write_failure(path: &Path, e: impl std::fmt::Display) -> Failure {
    Failure {
        message: format!("{}: {e}", path.display()),
        hint: Some("choose a writable output path with -o".into()),
        code: EXIT_OUTPUT,
    }
}

/// Writes a file atomically: a temporary file beside it, renamed into place.
fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut std::fs::File) -> Result<(), String>,
) -> Result<(), Failure> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| write_failure(path, e))?;
    write(tmp.as_file_mut()).map_err(|e| write_failure(path, e))?;
    tmp.as_file_mut()
        .flush()
        .map_err(|e| write_failure(path, e))?;
    tmp.persist(path)
        .map_err(|e| write_failure(path, e.error))?;
    Ok(())
}

/// Runs `export`.
pub fn run(args: &ExportArgs) -> Result<i32, Failure> {
    let project = transforms::project();
    match &args.what {
        ExportKind::Mtz {
            out,
            command,
            working_dir,
        } => {
            let command = match command {
                Some(c) => c.clone(),
                None => std::env::current_exe().map_err(|e| Failure {
                    message: format!("cannot tell where this binary is ({e})"),
                    hint: Some("pass --command /path/to/packetpivot".into()),
                    code: EXIT_USAGE,
                })?,
            };
            let command = command.display().to_string();
            let working_dir = working_dir.display().to_string();
            let local = LocalCommand {
                command: &command,
                args_prefix: &["local"],
                working_dir: &working_dir,
                debug: false,
            };
            write_atomic(out, |f| {
                mtz::write_mtz(std::io::BufWriter::new(f), &project, &local)
                    .map_err(|e| e.to_string())
            })?;
            print_out(&format!(
                "{}: {} transforms and {} entity types for Maltego Desktop (Import | Import Config); local transforms run {command} local <name>\n",
                out.display(),
                project.transforms.len(),
                project.entities.len()
            ))?;
        }
        ExportKind::Tds { url, out } => {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(Failure {
                    message: format!("--url {url}: give the server's URL, like https://host:8443"),
                    hint: None,
                    code: EXIT_USAGE,
                });
            }
            std::fs::create_dir_all(out).map_err(|e| write_failure(out, e))?;
            let transforms_csv = tds::transforms_csv(&project, url);
            let settings_csv = tds::settings_csv(&project);
            write_atomic(&out.join("transforms.csv"), |f| {
                f.write_all(transforms_csv.as_bytes())
                    .map_err(|e| e.to_string())
            })?;
            write_atomic(&out.join("settings.csv"), |f| {
                f.write_all(settings_csv.as_bytes())
                    .map_err(|e| e.to_string())
            })?;
            write_atomic(&out.join("entities.mtz"), |f| {
                mtz::write_entities_mtz(std::io::BufWriter::new(f), &project)
                    .map_err(|e| e.to_string())
            })?;
            print_out(&format!(
                "{}: transforms.csv and settings.csv for a TDS import ({} transforms at {url}/run/<name>), entities.mtz with the entity types\n",
                out.display(),
                project.transforms.len()
            ))?;
        }
    }
    Ok(EXIT_OK)
}
