//! Session files on disk with bounded memory and bounded open files.
//!
//! Each session's encoded bytes collect in its own buffer. When all buffers together pass
//! `Limits::write_buffer_bytes`, the sessions that have been quiet longest are flushed first
//! (they are usually finished, so their file is created and written exactly once) until half
//! the budget is free; a single buffer that grows past [`BIG_BUFFER`] is flushed on its own,
//! so a long transfer is written in large pieces.
//!
//! Flushed buffers go, in batches, to one writer thread, which creates or appends each file,
//! writes it in one call, closes it and hashes the bytes. The split thread therefore never
//! waits on a file system call or a digest, and at most one session file is open at any
//! moment, whatever the number of sessions. At most [`BATCHES_IN_FLIGHT`] batches of about
//! [`BATCH_BYTES`] wait for the writer, so the memory it adds is bounded too.
//!
//! Each file's SHA-256 covers exactly the bytes written to it. A file written once has its
//! digest computed from that one buffer; a file that is still receiving data keeps a running
//! hasher; a file evicted as quiet that later receives more data is hashed again from disk at
//! the end (rare by construction).

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::thread::JoinHandle;

use sha2::{Digest, Sha256};

use super::index::file_name;
use super::splitter::Sink;
use super::table::{Assignment, Session};
use crate::capture::writer::Encoder;
use crate::capture::{Format, Interface, Record, Section};

/// A buffer this large is written out by itself: large writes are cheap, and a few busy
/// sessions must not push every quiet one out of memory.
pub const BIG_BUFFER: usize = 4 * 1024 * 1024;

/// A batch for the writer thread is sent once it holds this many bytes...
const BATCH_BYTES: usize = 4 * 1024 * 1024;
/// ...or this many files (a million small sessions must not make a million channel sends).
const BATCH_FILES: usize = 4096;
/// Batches queued for the writer beyond the one it is writing: enough to keep it busy while
/// the split thread fills the next, few enough to bound memory (about 3 x [`BATCH_BYTES`]).
const BATCHES_IN_FLIGHT: usize = 2;

/// No session in the recency list.
const NIL: u32 = u32::MAX;

struct SessionFile {
    name: Box<str>,
    encoder: Encoder,
    pending: Vec<u8>,
    /// Something has been handed to the writer already: later writes append.
    started: bool,
    /// Neighbours in the recency list of sessions with pending bytes (oldest first).
    prev: u32,
    next: u32,
}

/// One file write for the writer thread.
struct Job {
    file: u32,
    name: Box<str>,
    /// The file's first write (create it; it must not exist).
    first: bool,
    /// Evicted for being quiet: probably the file's only write.
    quiet: bool,
    bytes: Vec<u8>,
}

#[derive(Default)]
struct Batch {
    jobs: Vec<Job>,
    bytes: usize,
}

/// Writes one file per session into a directory.
pub struct FileSink {
    format: Format,
    budget: usize,
    /// Capacity of all pending buffers (capacity, not length: that is what memory holds).
    pending_bytes: usize,
    files: Vec<SessionFile>,
    /// Oldest and newest session with pending bytes.
    head: u32,
    tail: u32,
    batch: Batch,
    to_writer: Option<SyncSender<Batch>>,
    writer: Option<JoinHandle<Result<Written, SinkError>>>,
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

/// What the files on disk hold, once every write is done.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Written {
    /// Each session's file SHA-256, by session number.
    pub sha256: Vec<[u8; 32]>,
    /// Bytes written to disk.
    pub bytes: u64,
    /// Files opened (creations and appends).
    pub opens: u64,
}

impl FileSink {
    /// A sink writing into `dir` (which must exist and be empty), files of `format`; starts
    /// the writer thread.
    pub fn new(dir: &Path, format: Format, budget: usize) -> Result<FileSink, SinkError> {
        let (to_writer, batches) = sync_channel::<Batch>(BATCHES_IN_FLIGHT);
        let mut writer = Writer::new(dir.to_path_buf());
        let handle = std::thread::Builder::new()
            .name("session-writer".into())
            .spawn(move || {
                for batch in batches {
                    for job in batch.jobs {
                        writer.write(job)?;
                    }
                }
                writer.finish()
            })
            .map_err(|source| SinkError {
                path: dir.to_path_buf(),
                source,
            })?;
        Ok(FileSink {
            format,
            budget,
            pending_bytes: 0,
            files: Vec::new(),
            head: NIL,
            tail: NIL,
            batch: Batch::default(),
            to_writer: Some(to_writer),
            writer: Some(handle),
        })
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

    /// Hands a session's pending bytes to the writer; `quiet` when it is evicted for having
    /// been idle.
    fn flush(&mut self, idx: u32, quiet: bool) -> Result<(), SinkError> {
        self.unlink(idx);
        let Some(f) = self.files.get_mut(idx as usize) else {
            return Ok(());
        };
        if f.pending.is_empty() {
            return Ok(());
        }
        let bytes = std::mem::take(&mut f.pending);
        self.pending_bytes = self.pending_bytes.saturating_sub(bytes.capacity());
        self.batch.bytes += bytes.len();
        self.batch.jobs.push(Job {
            file: idx,
            name: f.name.clone(),
            first: !std::mem::replace(&mut f.started, true),
            quiet,
            bytes,
        });
        if self.batch.bytes >= BATCH_BYTES || self.batch.jobs.len() >= BATCH_FILES {
            self.send()?;
        }
        Ok(())
    }

    /// Sends the current batch; if the writer has stopped, returns the error that stopped it.
    fn send(&mut self) -> Result<(), SinkError> {
        let batch = std::mem::take(&mut self.batch);
        let sent = match &self.to_writer {
            Some(tx) => tx.send(batch).is_ok(),
            None => false,
        };
        if sent {
            Ok(())
        } else {
            // The writer only hangs up after an error: report it.
            self.join().map(|_| ())
        }
    }

    fn join(&mut self) -> Result<Written, SinkError> {
        self.to_writer = None;
        match self.writer.take().map(JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) | None => Err(SinkError {
                path: PathBuf::from("(session writer)"),
                source: io::Error::other("the session writer thread stopped"),
            }),
        }
    }

    /// Flushes everything, waits for the writer and returns what the files hold.
    pub fn finish(mut self) -> Result<Written, SinkError> {
        for idx in 0..self.files.len() as u32 {
            self.flush(idx, true)?;
        }
        self.send()?;
        self.join()
    }
}

/// The writer thread's side: file system calls and digests.
struct Writer {
    dir: PathBuf,
    /// Finished digests by session (all zero until known).
    digests: Vec<[u8; 32]>,
    /// Running digests of files written in pieces.
    running: hashbrown::HashMap<u32, Sha256>,
    /// Files written in pieces without a running digest: hashed from disk at the end.
    rehash: hashbrown::HashMap<u32, Box<str>>,
    written: Written,
}

impl Writer {
    fn new(dir: PathBuf) -> Writer {
        Writer {
            dir,
            digests: Vec::new(),
            running: hashbrown::HashMap::new(),
            rehash: hashbrown::HashMap::new(),
            written: Written::default(),
        }
    }

    fn write(&mut self, job: Job) -> Result<(), SinkError> {
        let path = self.dir.join(&*job.name);
        let result = (|| -> io::Result<()> {
            let mut options = OpenOptions::new();
            if job.first {
                options.write(true).create_new(true);
            } else {
                options.append(true);
            }
            options.open(&path)?.write_all(&job.bytes)
        })();
        result.map_err(|source| SinkError { path, source })?;
        self.written.opens += 1;
        self.written.bytes += job.bytes.len() as u64;
        let idx = job.file as usize;
        if self.digests.len() <= idx {
            self.digests.resize(idx + 1, [0; 32]);
        }
        if job.first && job.quiet {
            if let Some(d) = self.digests.get_mut(idx) {
                *d = Sha256::digest(&job.bytes).into();
            }
        } else if job.first {
            let mut h = Sha256::new();
            h.update(&job.bytes);
            self.running.insert(job.file, h);
        } else if let Some(h) = self.running.get_mut(&job.file) {
            h.update(&job.bytes);
        } else {
            // Written once as quiet, and now more: the digest must cover the whole file.
            self.rehash.entry(job.file).or_insert(job.name);
        }
        Ok(())
    }

    fn finish(mut self) -> Result<Written, SinkError> {
        for (file, h) in self.running.drain() {
            if let Some(d) = self.digests.get_mut(file as usize) {
                *d = h.finalize().into();
            }
        }
        for (file, name) in &self.rehash {
            let path = self.dir.join(&**name);
            let digest = crate::capture::hash::sha256_file_raw(&path)
                .map_err(|source| SinkError { path, source })?;
            if let Some(d) = self.digests.get_mut(*file as usize) {
                *d = digest;
            }
        }
        self.written.sha256 = self.digests;
        Ok(self.written)
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
                started: false,
                prev: NIL,
                next: NIL,
            });
        }
        let id = idx as u32;
        let Some(f) = self.files.get_mut(idx) else {
            return Ok(());
        };
        let before = f.pending.len();
        let capacity = f.pending.capacity();
        f.encoder
            .append(record, interfaces, sections, &mut f.pending);
        let big = f.pending.len() >= BIG_BUFFER;
        self.pending_bytes += f.pending.capacity() - capacity;
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
