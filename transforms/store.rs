//! Captures as transforms see them: paths confined to the capture roots, one split per
//! capture however many requests ask at once, and finished captures answered from their
//! index without reading the capture again.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Condvar, Mutex};
use std::time::UNIX_EPOCH;

use crate::capture::hash::sha256_bytes;
use crate::facts::collect::SessionFacts;
use crate::maltego::response::Response;
use crate::session::index::{Index, SessionEntry, INDEX_VERSION};
use crate::session::output::{
    directory_name, read_facts, read_index, split_to_directory, SplitError, INDEX_FILE,
};
use crate::session::splitter::SplitOptions;

/// Where captures may come from and where their sessions go.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// Canonical directories captures must lie in; empty means any path (local mode, where
    /// the analyst runs packetpivot on their own machine).
    pub capture_roots: Vec<PathBuf>,
    /// Where session files and indexes are written (never beside the evidence).
    pub data_dir: PathBuf,
    /// Public URL of the server, for session download links (`https://host:port`).
    pub base_url: Option<String>,
    /// Split settings.
    pub split: SplitOptions,
}

/// Why a capture could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The path resolves outside every capture root.
    #[error("{path}: outside the capture roots this server may read ({roots}); put the capture under one of them")]
    OutsideRoots {
        /// The path as given.
        path: String,
        /// The roots.
        roots: String,
    },
    /// The path does not exist or cannot be resolved.
    #[error("{path}: {reason}")]
    NotFound {
        /// The path as given.
        path: String,
        /// Why.
        reason: String,
    },
    /// The split failed.
    #[error("{0}; {hint}", hint = .0.hint())]
    Split(#[from] SplitError),
}

/// A capture whose sessions are on disk.
#[derive(Debug)]
pub struct Finished {
    /// The session directory.
    pub dir: PathBuf,
    /// Its index, sessions included.
    pub index: Index,
    /// The output directory name (the capture's SHA-256, plus settings).
    pub dir_name: String,
    /// The application facts, read from `facts.jsonl` on first use.
    facts: std::sync::OnceLock<Vec<SessionFacts>>,
}

impl Finished {
    fn new(dir: PathBuf, index: Index, dir_name: String) -> Finished {
        Finished {
            dir,
            index,
            dir_name,
            facts: std::sync::OnceLock::new(),
        }
    }

    /// The sessions.
    pub fn sessions(&self) -> &[SessionEntry] {
        &self.index.sessions
    }

    /// The application facts of the sessions that had any (empty when the capture was split
    /// without facts).
    pub fn facts(&self) -> &[SessionFacts] {
        self.facts.get_or_init(|| {
            let mut f = read_facts(&self.dir).unwrap_or_default();
            f.sort_by_key(|x| x.session);
            f
        })
    }

    /// The facts of one session, if it had any.
    pub fn facts_of(&self, number: u64) -> Option<&SessionFacts> {
        let all = self.facts();
        all.binary_search_by_key(&number, |f| f.session)
            .ok()
            .and_then(|i| all.get(i))
    }

    /// The index entry of a session by number.
    pub fn session(&self, number: u64) -> Option<&SessionEntry> {
        self.index.sessions.get(usize::try_from(number).ok()?)
    }
}

type Key = (PathBuf, u64, u128);

#[derive(Default)]
struct Slot {
    result: Mutex<Option<Result<Arc<Finished>, String>>>,
    ready: Condvar,
}

/// Answers kept for repeated requests, least recently used dropped first, bounded in bytes.
#[derive(Default)]
struct Answers {
    used: usize,
    tick: u64,
    kept: HashMap<String, (u64, usize, Response)>,
}

/// See the module documentation.
pub struct CaptureStore {
    config: StoreConfig,
    slots: Mutex<HashMap<Key, Arc<Slot>>>,
    answers: Mutex<Answers>,
}

impl CaptureStore {
    /// A store with this configuration.
    pub fn new(config: StoreConfig) -> CaptureStore {
        CaptureStore {
            config,
            slots: Mutex::new(HashMap::new()),
            answers: Mutex::new(Answers::default()),
        }
    }

    /// A kept answer for `key` (see [`CaptureStore::keep_answer`]).
    pub fn answer(&self, key: &str) -> Option<Response> {
        let mut answers = match self.answers.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        answers.tick += 1;
        let tick = answers.tick;
        let (used, _, response) = answers.kept.get_mut(key)?;
        *used = tick;
        Some(response.clone())
    }

    /// Keeps an answer for requests that will be answered the same. `key` must name
    /// everything the answer depends on: the transform, the finished capture (its directory
    /// name: a changed capture is a new one) and every input the transform reads. Give the
    /// entities rendered ([`Response::render_entities`]), so a repeat costs a copy.
    pub fn keep_answer(&self, key: String, response: &Response) {
        let size = key.len()
            + response.rendered.as_ref().map_or(0, |r| r.len())
            + response
                .messages
                .iter()
                .map(|(_, m)| m.len())
                .sum::<usize>();
        let cap = self.config.split.limits.answer_cache_bytes;
        if size > cap || !response.entities.is_empty() {
            return;
        }
        let mut answers = match self.answers.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        while answers.used + size > cap {
            let oldest = answers
                .kept
                .iter()
                .min_by_key(|(_, (used, _, _))| *used)
                .map(|(k, _)| k.clone());
            let Some(oldest) = oldest else { break };
            if let Some((_, freed, _)) = answers.kept.remove(&oldest) {
                answers.used = answers.used.saturating_sub(freed);
            }
        }
        answers.tick += 1;
        let tick = answers.tick;
        answers.used += size;
        if let Some((_, replaced, _)) = answers.kept.insert(key, (tick, size, response.clone())) {
            answers.used = answers.used.saturating_sub(replaced);
        }
    }

    /// The configuration.
    pub fn config(&self) -> &StoreConfig {
        &self.config
    }

    /// Resolves a capture path as an analyst gave it, confined to the roots.
    pub fn resolve(&self, given: &str) -> Result<PathBuf, StoreError> {
        let given_path = Path::new(given);
        let not_found = |e: std::io::Error| StoreError::NotFound {
            path: given.to_string(),
            reason: e.to_string(),
        };
        if self.config.capture_roots.is_empty() {
            return given_path.canonicalize().map_err(not_found);
        }
        let candidates: Vec<PathBuf> = if given_path.is_absolute() {
            vec![given_path.to_path_buf()]
        } else {
            self.config
                .capture_roots
                .iter()
                .map(|r| r.join(given_path))
                .collect()
        };
        let mut last_err = None;
        for c in candidates {
            match c.canonicalize() {
                Ok(real) => {
                    if self
                        .config
                        .capture_roots
                        .iter()
                        .any(|r| real.starts_with(r))
                    {
                        return Ok(real);
                    }
                    return Err(self.outside(given));
                }
                Err(e) => last_err = Some(e),
            }
        }
        // A path that does not exist anywhere under the roots: say so, unless it plainly
        // points outside them (absolute elsewhere, or climbing out with `..`).
        if given_path.is_absolute()
            && !self
                .config
                .capture_roots
                .iter()
                .any(|r| given_path.starts_with(r))
        {
            return Err(self.outside(given));
        }
        if given_path
            .components()
            .any(|c| matches!(c, std::path::Component::ParentDir))
        {
            return Err(self.outside(given));
        }
        Err(not_found(
            last_err.unwrap_or_else(|| std::io::Error::other("not found")),
        ))
    }

    fn outside(&self, given: &str) -> StoreError {
        StoreError::OutsideRoots {
            path: given.to_string(),
            roots: self
                .config
                .capture_roots
                .iter()
                .map(|r| r.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        }
    }

    /// Splits the capture at `given` (or finds it already split). Concurrent calls for the
    /// same file wait for one split.
    pub fn split(&self, given: &str) -> Result<Arc<Finished>, StoreError> {
        let path = self.resolve(given)?;
        let meta = std::fs::metadata(&path).map_err(|e| StoreError::NotFound {
            path: given.to_string(),
            reason: e.to_string(),
        })?;
        let mtime = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let key: Key = (path.clone(), meta.len(), mtime);
        let (slot, leader) = {
            let mut slots = match self.slots.lock() {
                Ok(g) => g,
                Err(p) => p.into_inner(),
            };
            match slots.get(&key) {
                Some(s) => (s.clone(), false),
                None => {
                    let s = Arc::new(Slot::default());
                    slots.insert(key.clone(), s.clone());
                    (s, true)
                }
            }
        };
        if leader {
            let result = self.split_now(&path, &key).map_err(|e| e.to_string());
            let failed = result.is_err();
            if let Ok(mut r) = slot.result.lock() {
                *r = Some(result);
            }
            slot.ready.notify_all();
            if failed {
                // Let a later request try again (the file may have been fixed).
                if let Ok(mut slots) = self.slots.lock() {
                    slots.remove(&key);
                }
            }
        }
        let mut guard = match slot.result.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        loop {
            if let Some(r) = guard.as_ref() {
                return r.clone().map_err(|reason| StoreError::NotFound {
                    path: given.to_string(),
                    reason,
                });
            }
            guard = match slot.ready.wait(guard) {
                Ok(g) => g,
                Err(p) => p.into_inner(),
            };
        }
    }

    /// Where the capture's directory name is remembered, so a finished capture is found
    /// without hashing it again.
    fn path_note(&self, key: &Key) -> PathBuf {
        let id = sha256_bytes(format!("{}|{}|{}", key.0.display(), key.1, key.2).as_bytes());
        self.config.data_dir.join(".by-path").join(id)
    }

    fn split_now(&self, path: &Path, key: &Key) -> Result<Arc<Finished>, StoreError> {
        let note = self.path_note(key);
        if let Ok(name) = std::fs::read_to_string(&note) {
            let name = name.trim();
            let dir = self.config.data_dir.join(name);
            if is_dir_name(name) && dir.join(INDEX_FILE).is_file() {
                // An index of another version is stale: split again below, which replaces it.
                let current = read_index(&dir)
                    .ok()
                    .filter(|i| i.index_version == INDEX_VERSION);
                if let Some(index) = current {
                    tracing::info!(capture = %path.display(), dir = %dir.display(), "answered from index");
                    return Ok(Arc::new(Finished::new(dir, index, name.to_string())));
                }
            }
        }
        let started = std::time::Instant::now();
        let outcome = split_to_directory(
            path,
            &self.config.data_dir,
            &self.config.split,
            Arc::new(AtomicU64::new(0)),
        )?;
        tracing::info!(
            capture = %path.display(),
            sessions = outcome.index.summary.sessions,
            reused = outcome.reused,
            ms = started.elapsed().as_millis() as u64,
            "split"
        );
        let dir_name = directory_name(&outcome.index.capture.sha256, &self.config.split);
        if let Some(parent) = note.parent() {
            if std::fs::create_dir_all(parent).is_ok() {
                let tmp = note.with_extension("tmp");
                if std::fs::write(&tmp, &dir_name).is_ok() {
                    let _ = std::fs::rename(&tmp, &note);
                }
            }
        }
        let index = read_index(&outcome.dir)?;
        Ok(Arc::new(Finished::new(outcome.dir, index, dir_name)))
    }

    /// The on-disk path of a session file for the download route, only when it is a file
    /// packetpivot wrote: a known directory name and a file name listed in its index.
    pub fn session_file(&self, dir_name: &str, file: &str) -> Option<PathBuf> {
        if !is_dir_name(dir_name) || !is_session_file_name(file) {
            return None;
        }
        let dir = self.config.data_dir.join(dir_name);
        let index = read_index(&dir).ok()?;
        index
            .sessions
            .iter()
            .any(|s| s.file == file)
            .then(|| dir.join(file))
    }

    /// The download URL of a session file, when a base URL is configured.
    pub fn download_url(&self, dir_name: &str, file: &str) -> Option<String> {
        let base = self.config.base_url.as_deref()?;
        Some(format!(
            "{}/captures/{dir_name}/{file}",
            base.trim_end_matches('/')
        ))
    }
}

/// A capture directory name: 64 lowercase hex digits, optionally `.udp-idle-<n>ms`.
pub fn is_dir_name(name: &str) -> bool {
    let (sha, rest) = name.split_at(name.len().min(64));
    sha.len() == 64
        && sha
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        && (rest.is_empty()
            || rest
                .strip_prefix(".udp-idle-")
                .and_then(|r| r.strip_suffix("ms"))
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())))
}

/// A session file name as packetpivot writes them: no separators, no `..`, a capture extension.
pub fn is_session_file_name(file: &str) -> bool {
    !file.is_empty()
        && !file.starts_with('.')
        && file
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_')
        && (file.ends_with(".pcap") || file.ends_with(".pcapng"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_directory_and_file_names() {
        let sha = "a".repeat(64);
        assert!(is_dir_name(&sha));
        assert!(is_dir_name(&format!("{sha}.udp-idle-60000ms")));
        assert!(!is_dir_name("../etc"));
        assert!(!is_dir_name(&"A".repeat(64)));
        assert!(is_session_file_name(
            "000001-tcp-10.0.0.1.80-10.0.0.2.1234.pcap"
        ));
        assert!(!is_session_file_name("../index.json"));
        assert!(!is_session_file_name("index.json"));
        assert!(!is_session_file_name("a/b.pcap"));
    }

    #[test]
    fn refuses_paths_outside_the_roots() {
        let root = tempfile::tempdir().expect("root");
        let outside = tempfile::tempdir().expect("outside");
        let inside_file = root.path().join("in.pcap");
        std::fs::write(&inside_file, b"x").expect("write");
        let outside_file = outside.path().join("out.pcap");
        std::fs::write(&outside_file, b"x").expect("write");
        #[cfg(unix)]
        std::os::unix::fs::symlink(&outside_file, root.path().join("link.pcap")).expect("symlink");
        let store = CaptureStore::new(StoreConfig {
            capture_roots: vec![root.path().canonicalize().expect("canon")],
            data_dir: outside.path().join("data"),
            base_url: None,
            split: SplitOptions::default(),
        });
        assert!(store.resolve("in.pcap").is_ok());
        assert!(store.resolve(&inside_file.display().to_string()).is_ok());
        for bad in [
            outside_file.display().to_string(),
            "../out.pcap".to_string(),
            format!(
                "../{}/out.pcap",
                outside
                    .path()
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or("x")
            ),
            "/etc/passwd".to_string(),
            "link.pcap".to_string(),
        ] {
            assert!(
                matches!(store.resolve(&bad), Err(StoreError::OutsideRoots { .. })),
                "{bad} should be refused"
            );
        }
    }
}
