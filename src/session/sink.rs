//! Session files on disk with bounded memory and bounded open files.
//!
//! Each session's encoded bytes collect in its own buffer. When all buffers together pass
//! `Limits::write_buffer_bytes`, every buffered session is flushed: its file is opened
//! (created the first time), written in one call and closed, so at most one session file is
//! open at any moment whatever the number of sessions. At the end every buffer is flushed
//! and each file's SHA-256 is known: the hash of a file is updated with exactly the bytes
//! written to it.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::index::file_name;
use super::splitter::Sink;
use super::table::{Assignment, Session};
use crate::capture::writer::Encoder;
use crate::capture::{Format, Interface, Record, Section};

struct SessionFile {
    name: String,
    encoder: Encoder,
    pending: Vec<u8>,
    created: bool,
    hasher: Sha256,
}

/// Writes one file per session into a directory.
pub struct FileSink {
    dir: PathBuf,
    format: Format,
    budget: usize,
    pending_bytes: usize,
    files: Vec<SessionFile>,
    /// Sessions with bytes waiting, in no particular order.
    dirty: Vec<usize>,
    /// Bytes written to disk so far.
    pub bytes_written: u64,
}

/// An I/O failure on one session file.
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", path.display())]
pub struct SinkError {
    /// The file.
    pub path: PathBuf,
    /// What failed.
    pub source: io::Error,
}

impl FileSink {
    /// A sink writing into `dir` (which must exist and be empty), files of `format`.
    pub fn new(dir: &Path, format: Format, budget: usize) -> FileSink {
        FileSink {
            dir: dir.to_path_buf(),
            format,
            budget,
            pending_bytes: 0,
            files: Vec::new(),
            dirty: Vec::new(),
            bytes_written: 0,
        }
    }

    fn flush_one(&mut self, idx: usize) -> Result<(), SinkError> {
        let Some(f) = self.files.get_mut(idx) else {
            return Ok(());
        };
        if f.pending.is_empty() {
            return Ok(());
        }
        let path = self.dir.join(&f.name);
        let result = (|| -> io::Result<()> {
            let mut file: File = if f.created {
                OpenOptions::new().append(true).open(&path)?
            } else {
                OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(&path)?
            };
            file.write_all(&f.pending)
        })();
        result.map_err(|source| SinkError {
            path: path.clone(),
            source,
        })?;
        f.created = true;
        f.hasher.update(&f.pending);
        self.bytes_written += f.pending.len() as u64;
        self.pending_bytes = self.pending_bytes.saturating_sub(f.pending.len());
        f.pending = Vec::new();
        Ok(())
    }

    fn flush_all(&mut self) -> Result<(), SinkError> {
        let mut dirty = std::mem::take(&mut self.dirty);
        dirty.sort_unstable();
        for idx in dirty {
            self.flush_one(idx)?;
        }
        Ok(())
    }

    /// Flushes everything and returns each session's file name and SHA-256, by session.
    pub fn finish(mut self) -> Result<Vec<(String, String)>, SinkError> {
        self.flush_all()?;
        Ok(self
            .files
            .into_iter()
            .map(|f| (f.name, hex::encode(f.hasher.finalize())))
            .collect())
    }
}

impl Sink for FileSink {
    type Error = SinkError;

    fn packet(
        &mut self,
        assignment: Assignment,
        session: &Session,
        record: &Record<'_>,
        interfaces: &[Interface],
        sections: &[Section],
    ) -> Result<(), SinkError> {
        let idx = assignment.session;
        if assignment.new || idx >= self.files.len() {
            // Sessions are created in order, so a new one is always the next index.
            self.files.push(SessionFile {
                name: file_name(session, Encoder::extension(self.format)),
                encoder: Encoder::new(self.format),
                pending: Vec::new(),
                created: false,
                hasher: Sha256::new(),
            });
        }
        let Some(f) = self.files.get_mut(idx) else {
            return Ok(());
        };
        let before = f.pending.len();
        if before == 0 {
            self.dirty.push(idx);
        }
        f.encoder
            .append(record, interfaces, sections, &mut f.pending);
        self.pending_bytes += f.pending.len() - before;
        if self.pending_bytes > self.budget {
            self.flush_all()?;
        }
        Ok(())
    }
}
