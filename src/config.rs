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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_toml_and_rejects_unknown_keys() {
        let dir = tempfile::tempdir().expect("tmp");
        let ok = dir.path().join("ok.toml");
        std::fs::write(
            &ok,
            "bind = \"127.0.0.1:9000\"\ncapture_roots = [\"/evidence\"]\nbody_limit = 4096\n",
        )
        .expect("write");
        let c = FileConfig::load(&ok).expect("parses");
        assert_eq!(c.bind.as_deref(), Some("127.0.0.1:9000"));
        assert_eq!(c.capture_roots, Some(vec![PathBuf::from("/evidence")]));
        assert_eq!(c.body_limit, Some(4096));
        let bad = dir.path().join("bad.toml");
        std::fs::write(&bad, "capture_root = \"/typo\"\n").expect("write");
        let e = FileConfig::load(&bad).expect_err("unknown key");
        assert!(e.contains("capture_root"), "{e}");
    }

    #[test]
    fn rejects_a_data_dir_inside_a_capture_root() {
        let dir = tempfile::tempdir().expect("tmp");
        let root = dir.path().join("evidence");
        std::fs::create_dir_all(&root).expect("mkdir");
        let e = store_config(
            std::slice::from_ref(&root),
            &root.join("out"),
            None,
            Default::default(),
        )
        .expect_err("overlap");
        assert!(e.contains("apart from the evidence"), "{e}");
        let ok = store_config(&[root], &dir.path().join("data"), None, Default::default());
        assert!(ok.is_ok());
        let e = store_config(
            &[dir.path().join("missing")],
            &dir.path().join("d"),
            None,
            Default::default(),
        )
        .expect_err("missing root");
        assert!(e.contains("missing"), "{e}");
    }
}
