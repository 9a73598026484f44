//! `packetpivot serve`: the Maltego transform server.

use std::path::PathBuf;

use clap::Args;

use super::{Failure, SplitSettings, EXIT_OK, EXIT_OUTPUT, EXIT_USAGE};
use crate::config::{self, FileConfig, DEFAULT_BIND, DEFAULT_BODY_LIMIT};
use crate::server::{self, ServerConfig};
use crate::transforms::store::CaptureStore;

/// Arguments of `serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (loopback by default: the protocol has no authentication).
    #[arg(long, env = "PACKETPIVOT_BIND", value_name = "HOST:PORT")]
    pub bind: Option<String>,
    /// A directory captures may be read from (repeatable; `:`-separated in the environment).
    #[arg(
        long = "capture-root",
        env = "PACKETPIVOT_CAPTURE_ROOTS",
        value_delimiter = ':',
        value_name = "DIR"
    )]
    pub capture_roots: Vec<PathBuf>,
    /// Where session files are written (never inside a capture root).
    #[arg(long, env = "PACKETPIVOT_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Public URL of this server, for session download links.
    #[arg(long, env = "PACKETPIVOT_BASE_URL", value_name = "URL")]
    pub base_url: Option<String>,
    /// Largest request body in bytes.
    #[arg(long, env = "PACKETPIVOT_BODY_LIMIT", value_name = "BYTES")]
    pub body_limit: Option<usize>,
    /// A TOML file with any of: bind, capture_roots, data_dir, base_url, body_limit, udp_idle_timeout.
    #[arg(long, env = "PACKETPIVOT_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    settings: SplitSettings,
}

fn usage(message: String) -> Failure {
    Failure {
        message,
        hint: None,
        code: EXIT_USAGE,
    }
}

/// Runs `serve` until SIGINT or SIGTERM.
pub fn run(args: &ServeArgs) -> Result<i32, Failure> {
    let file = match &args.config {
        Some(p) => FileConfig::load(p).map_err(usage)?,
        None => FileConfig::default(),
    };
    let bind = args
        .bind
        .clone()
        .or(file.bind)
        .unwrap_or_else(|| DEFAULT_BIND.to_string());
    let roots = if args.capture_roots.is_empty() {
        file.capture_roots.unwrap_or_default()
    } else {
        args.capture_roots.clone()
    };
    if roots.is_empty() {
        return Err(usage(
            "serve needs at least one --capture-root DIR: the server reads captures only from there".into(),
        ));
    }
    let data_dir = args
        .data_dir
        .clone()
        .or(file.data_dir)
        .unwrap_or_else(config::default_data_dir);
    let mut settings = args.settings.clone();
    if settings.udp_idle_timeout.is_none() {
        settings.udp_idle_timeout = file.udp_idle_timeout;
    }
    let split = settings.options().map_err(usage)?;
    let listener = std::net::TcpListener::bind(&bind).map_err(|e| Failure {
        message: format!("cannot listen on {bind}: {e}"),
        hint: Some("choose another --bind address".into()),
        code: EXIT_OUTPUT,
    })?;
    let base_url = args
        .base_url
        .clone()
        .or(file.base_url)
        .or_else(|| listener.local_addr().ok().map(|a| format!("http://{a}")));
    let store = config::store_config(&roots, &data_dir, base_url, split).map_err(usage)?;
    let config = ServerConfig {
        store: CaptureStore::new(store),
        body_limit: args
            .body_limit
            .or(file.body_limit)
            .unwrap_or(DEFAULT_BODY_LIMIT),
    };
    actix_web::rt::System::new()
        .block_on(server::run(listener, config))
        .map_err(|e| Failure {
            message: format!("server stopped: {e}"),
            hint: None,
            code: EXIT_OUTPUT,
        })?;
    tracing::info!("stopped");
    Ok(EXIT_OK)
}
