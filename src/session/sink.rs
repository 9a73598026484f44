//! Session files on disk with bounded memory and bounded open files.
//!
//! Each session's encoded bytes collect in its own buffer. When all buffers together pass
//! `Limits::write_buffer_bytes`, the sessions that have been quiet longest are flushed first
//! (they are usually finished, so their file is created and written exactly once) until half
//! the budget is free; a single buffer that grows past [`BIG_BUFFER`] is flushed on its own,
//! so a long transfer is written in large pieces. Every flush opens the file, writes it in one
//! call and closes it: at most one session file is open at any moment, whatever the number of
//! sessions.
//!
//! Each file's SHA-256 covers exactly the bytes written to it. A file written once has its
//! digest computed from that one buffer; a file that is still receiving data keeps a running
//! hasher; a file evicted as quiet that later receives more data is hashed again from disk at
//! the end (rare by construction).

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::index::file_name;
use super::splitter::Sink;
use super::table::{Assignment, Session};
use crate::capture::writer::Encoder;
use crate::capture::{Format, Interface, Record, Section};

/// A buffer this large is written out by itself: large writes are cheap, and a few busy
/// sessions must not push every quiet one out of memory.
pub const BIG_BUFFER: usize = 4 * 1024 * 1024;

/// No session in the recency list.
const NIL: u32 = u32::MAX;

/// How much of a file's hash is known.
enum Digested {
    /// Nothing written yet.
    Nothing,
    /// Written once by eviction; this is the digest of everything on disk.
    Final([u8; 32]),
    /// Written by size, more expected: a running hash of what is on disk.
    Running(Box<Sha256>),
    /// Written in pieces without a running hash: hash the file at the end.
    Rehash,
}

struct SessionFile {
    name: Box<str>,
    encoder: Encoder,
    pending: Vec<u8>,
    digest: Digested,
    /// Neighbours in the recency list of sessions with pending bytes (oldest first).
    prev: u32,
    next: u32,
}

/// Writes one file per session into a directory.
pub struct FileSink {
    dir: PathBuf,
    format: Format,
    budget: usize,
    pending_bytes: usize,
    files: Vec<SessionFile>,
    /// Oldest and newest session with pending bytes.
    head: u32,
    tail: u32,
    /// Bytes written to disk so far.
    pub bytes_written: u64,
    /// Files opened so far (creations and appends).
    pub opens: u64,
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
            head: NIL,
            tail: NIL,
            bytes_written: 0,
            opens: 0,
        }
    }

    fn unlink(&mut self, idx: u32) {
        let (prev, next) = match self.files.get(idx as usize) {
            Some(f) => (f.prev, f.next),
            None => return,
        };
        match self.files.get_mut(prev as usize) {
            Some(p) => p.next = next,
            None => self.head = next,
        }
        match self.files.get_mut(next as usize) {
            Some(n) => n.prev = prev,
            None => self.tail = prev,
        }
        if let Some(f) = self.files.get_mut(idx as usize) {
            f.prev = NIL;
            f.next = NIL;
        }
    }

    fn push_newest(&mut self, idx: u32) {
        let old_tail = self.tail;
        if let Some(f) = self.files.get_mut(idx as usize) {
            f.prev = old_tail;
            f.next = NIL;
        }
        match self.files.get_mut(old_tail as usize) {
            Some(t) => t.next = idx,
            None => self.head = idx,
        }
        self.tail = idx;
    }

    /// Writes a session's pending bytes; `quiet` when it is evicted for having been idle.
    fn flush(&mut self, idx: u32, quiet: bool) -> Result<(), SinkError> {
        self.unlink(idx);
        let Some(f) = self.files.get_mut(idx as usize) else {
            return Ok(());
        };
        if f.pending.is_empty() {
            return Ok(());
        }
        let path = self.dir.join(&*f.name);
        let first = matches!(f.digest, Digested::Nothing);
        let result = (|| -> io::Result<()> {
            let mut options = OpenOptions::new();
            if first {
                options.write(true).create_new(true);
            } else {
                options.append(true);
            }
            options.open(&path)?.write_all(&f.pending)
        })();
        result.map_err(|source| SinkError {
            path: path.clone(),
            source,
        })?;
        self.opens += 1;
        f.digest = match std::mem::replace(&mut f.digest, Digested::Nothing) {
            Digested::Nothing if quiet => Digested::Final(Sha256::digest(&f.pending).into()),
            Digested::Nothing => {
                let mut h = Sha256::new();
                h.update(&f.pending);
                Digested::Running(Box::new(h))
            }
            Digested::Running(mut h) => {
                h.update(&f.pending);
                Digested::Running(h)
            }
            Digested::Final(_) | Digested::Rehash => Digested::Rehash,
        };
        self.bytes_written += f.pending.len() as u64;
        self.pending_bytes = self.pending_bytes.saturating_sub(f.pending.len());
        f.pending = Vec::new();
        Ok(())
    }

    /// Flushes everything and returns each session's file name and SHA-256, by session.
    pub fn finish(mut self) -> Result<Vec<(String, String)>, SinkError> {
        let mut out = Vec::with_capacity(self.files.len());
        for idx in 0..self.files.len() as u32 {
            self.flush(idx, true)?;
        }
        for f in self.files {
            let digest = match f.digest {
                Digested::Final(d) => hex::encode(d),
                Digested::Running(h) => hex::encode(h.finalize()),
                Digested::Rehash | Digested::Nothing => {
                    let path = self.dir.join(&*f.name);
                    crate::capture::hash::sha256_file(&path)
                        .map_err(|source| SinkError { path, source })?
                }
            };
            out.push((f.name.into_string(), digest));
        }
        Ok(out)
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
                name: file_name(session, Encoder::extension(self.format)).into_boxed_str(),
                encoder: Encoder::new(self.format),
                pending: Vec::new(),
                digest: Digested::Nothing,
                prev: NIL,
                next: NIL,
            });
        }
        let id = idx as u32;
        let Some(f) = self.files.get_mut(idx) else {
            return Ok(());
        };
        let before = f.pending.len();
        f.encoder
            .append(record, interfaces, sections, &mut f.pending);
        let grown = f.pending.len() - before;
        let big = f.pending.len() >= BIG_BUFFER;
        self.pending_bytes += grown;
        if before != 0 {
            self.unlink(id);
        }
        self.push_newest(id);
        if big {
            self.flush(id, false)?;
        }
        if self.pending_bytes > self.budget {
            while self.pending_bytes > self.budget / 2 && self.head != NIL {
                self.flush(self.head, true)?;
            }
        }
        Ok(())
    }
}
