//! Server and local-mode settings: command line, environment and an optional TOML file,
//! validated into a [`StoreConfig`] (roots canonicalised, the data directory kept apart from
//! the evidence).

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::transforms::store::StoreConfig;

/// Default largest request body: a Maltego request is a few kilobytes; 1 MiB is ample.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;
/// Default address: loopback only, since Maltego's protocol has no authentication.
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";

/// The TOML configuration file (every key optional; the command line and environment win).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// `host:port` to listen on.
    pub bind: Option<String>,
    /// Directories captures may be read from.
    pub capture_roots: Option<Vec<PathBuf>>,
    /// Where session files go.
    pub data_dir: Option<PathBuf>,
    /// Public URL for download links.
    pub base_url: Option<String>,
    /// Largest request body, bytes.
    pub body_limit: Option<usize>,
    /// UDP idle timeout, seconds.
    pub udp_idle_timeout: Option<f64>,
}

impl FileConfig {
    /// Reads and parses a TOML file.
    pub fn load(path: &Path) -> Result<FileConfig, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| format!("{}: {}", path.display(), e.message()))
    }
}

/// The per-user data directory: `$XDG_DATA_HOME/packetpivot`, else
/// `~/.local/share/packetpivot`, else `./packetpivot-data`.
pub fn default_data_dir() -> PathBuf {
    if let Some(x) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(x).join("packetpivot");
    }
    if let Some(h) = std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(h).join(".local/share/packetpivot");
    }
    PathBuf::from("packetpivot-data")
}

/// Validates roots and data directory into a store configuration. Roots must exist; the data
/// directory is created and may not lie inside a root (session files never go beside the
/// evidence).
pub fn store_config(
    roots: &[PathBuf],
    data_dir: &Path,
    base_url: Option<String>,
    split: crate::session::splitter::SplitOptions,
) -> Result<StoreConfig, String> {
    let mut capture_roots = Vec::new();
    for r in roots {
        let c = r
            .canonicalize()
            .map_err(|e| format!("capture root {}: {e}", r.display()))?;
        if !c.is_dir() {
            return Err(format!("capture root {}: not a directory", r.display()));
        }
        capture_roots.push(c);
    }
    std::fs::create_dir_all(data_dir)
        .map_err(|e| format!("data directory {}: {e}", data_dir.display()))?;
    let data = data_dir
        .canonicalize()
        .map_err(|e| format!("data directory {}: {e}", data_dir.display()))?;
    if let Some(r) = capture_roots
        .iter()
        .find(|r| data.starts_with(r) || r.starts_with(&data))
    {
        return Err(format!(
            "data directory {} overlaps capture root {}: keep session files apart from the evidence",
            data.display(),
            r.display()
        ));
    }
    Ok(StoreConfig {
        capture_roots,
        data_dir: data,
        base_url,
        split,
    })
}
