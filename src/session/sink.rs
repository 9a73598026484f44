//! Session files on disk with bounded memory and bounded open files.
//!
//! Each session's encoded bytes collect in its own buffer. When all buffers together pass
//! `Limits::write_buffer_bytes`, the sessions that have been quiet longest are flushed first
//! (they are usually finished, so their file is created and written exactly once) until a
//! sixteenth of the budget is free; a single buffer that grows past [`BIG_BUFFER`] is flushed
//! on its own, so a long transfer is written in large pieces.
//!
//! The margin is small on purpose: flushing half the budget at once (as this once did) sent
//! the writer a burst of tens of thousands of files, during which the split thread waited on
//! the full queue, and then nothing while the budget filled again, during which the writer
//! waited. The two threads took turns instead of running together: split b's pass took 19 s
//! with the margin at a half and 11 s at a sixteenth.
//!
//! Flushed buffers go, in batches, to one writer thread, which creates or appends each file,
//! writes it in one call, closes it and hashes the bytes. The split thread therefore never
//! waits on a file system call or a digest, and at most one session file is open at any
//! moment, whatever the number of sessions. At most [`BATCHES_IN_FLIGHT`] batches of about
//! [`BATCH_BYTES`] wait for the writer, so the memory it adds is bounded too.
//!
//! Each file's SHA-256 covers exactly the bytes written to it. A file written once has its
//! digest computed from that one buffer; a file that is still receiving data keeps a running
//! hasher; a file evicted as quiet that later receives more data is read back when that
//! data is appended, and keeps a running hasher from then on. (Read back at the end instead,
//! the 11,000 such files of split a were hashed again after the pass, on one thread.)

use std::fs::OpenOptions;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;

use sha2::{Digest, Sha256};

use super::index::file_name;
use super::pool::BufferPool;
use super::splitter::Sink;
use super::table::{Assignment, Session};
use crate::capture::writer::Encoder;
use crate::capture::{Format, Interface, Record, Section};

/// A buffer this large is written out by itself: large writes are cheap, and a few busy
/// sessions must not push every quiet one out of memory.
pub const BIG_BUFFER: usize = 4 * 1024 * 1024;

/// Room reserved beyond a record's data before encoding it: a pcap file header (24 bytes)
/// and record header (16), or a pcapng enhanced packet block's header and trailer (32)
/// plus, for a file's first record, its section and interface blocks (typically under 200).
const RECORD_HEADROOM: usize = 256;

/// A batch for the writer thread is sent once it holds this many bytes...
const BATCH_BYTES: usize = 4 * 1024 * 1024;
/// ...or this many files (a million small sessions must not make a million channel sends).
const BATCH_FILES: usize = 4096;
/// Bytes read at a time when a file is read back for its digest.
const REHASH_CHUNK: usize = 256 * 1024;

/// Batches queued for the writer beyond the one it is writing: enough to keep it busy while
/// the split thread fills the next, few enough to bound memory (about 3 x [`BATCH_BYTES`]).
const BATCHES_IN_FLIGHT: usize = 2;

/// No slot: the end of the recency list.
const NIL: u32 = u32::MAX;

/// A session's file, as [`FileSink::files`] records it for every session: not created yet,
/// written with nothing pending, or pending in a slot (any other value: the slot's index).
/// Four bytes a session, since a million-session capture keeps a million of these.
const NEW: u32 = u32::MAX;
const WRITTEN: u32 = u32::MAX - 1;

/// A session with bytes not yet handed to the writer. Slots exist only while bytes are
/// pending, so their number is bounded by the write budget, not by the sessions seen.
struct Slot {
    session: u32,
    name: Box<str>,
    encoder: Encoder,
    pending: Vec<u8>,
    /// Something has been handed to the writer already: later writes append.
    started: bool,
    /// Neighbours in the recency list of slots (oldest first).
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
    /// Each session's file: [`NEW`], [`WRITTEN`] or its slot.
    files: Vec<u32>,
    slots: Vec<Slot>,
    /// Slots not in use.
    free: Vec<u32>,
    /// Encoders of written pcapng files, kept for their next records (see
    /// [`Encoder::carries_state`]); a pcap file's encoder is remade when needed.
    parked: hashbrown::HashMap<u32, Encoder>,
    /// Oldest and newest slot with pending bytes.
    head: u32,
    tail: u32,
    batch: Batch,
    to_writer: Option<SyncSender<Batch>>,
    /// Batches the writer is done with, sent back so their buffers are reused (through
    /// `pool`) or freed here (see [`FileSink::new`]).
    written_back: Receiver<Batch>,
    /// Their buffers, for the next sessions' pending bytes.
    pool: BufferPool,
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
    /// Files read back for their digest: appended to after a write that was hashed as the
    /// file's only one.
    pub rehashed: u64,
}

impl FileSink {
    /// A sink writing into `dir` (which must exist and be empty), files of `format`; starts
    /// the writer thread.
    pub fn new(dir: &Path, format: Format, budget: usize) -> Result<FileSink, SinkError> {
        let (to_writer, batches) = sync_channel::<Batch>(BATCHES_IN_FLIGHT);
        // Written batches go back to the split thread, whose pool reuses their buffers or
        // frees them there (never on the writer). Their buffers were
        // allocated there, and glibc frees a block from another thread under the lock of
        // the arena it came from: with the writer freeing a million buffers while the split
        // thread allocated, the two threads contended for that lock throughout split b. The
        // split thread drains this at every send, so it holds at most the batches written
        // since the last one.
        let (give_back, written_back) = channel::<Batch>();
        let mut writer = Writer::new(dir.to_path_buf());
        let handle = std::thread::Builder::new()
            .name("session-writer".into())
            .spawn(move || {
                for batch in batches {
                    for job in &batch.jobs {
                        writer.write(job)?;
                    }
                    // The split thread may have stopped; then the batch is freed here.
                    let _ = give_back.send(batch);
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
            slots: Vec::new(),
            free: Vec::new(),
            parked: hashbrown::HashMap::new(),
            head: NIL,
            tail: NIL,
            batch: Batch::default(),
            to_writer: Some(to_writer),
            written_back,
            pool: BufferPool::default(),
            writer: Some(handle),
        })
    }

    fn unlink(&mut self, idx: u32) {
        let (prev, next) = match self.slots.get(idx as usize) {
            Some(f) => (f.prev, f.next),
            None => return,
        };
        match self.slots.get_mut(prev as usize) {
            Some(p) => p.next = next,
            None => self.head = next,
        }
        match self.slots.get_mut(next as usize) {
            Some(n) => n.prev = prev,
            None => self.tail = prev,
        }
        if let Some(f) = self.slots.get_mut(idx as usize) {
            f.prev = NIL;
            f.next = NIL;
        }
    }

    fn push_newest(&mut self, idx: u32) {
        let old_tail = self.tail;
        if let Some(f) = self.slots.get_mut(idx as usize) {
            f.prev = old_tail;
            f.next = NIL;
        }
        match self.slots.get_mut(old_tail as usize) {
            Some(t) => t.next = idx,
            None => self.head = idx,
        }
        self.tail = idx;
    }

    /// Hands a slot's pending bytes to the writer and frees the slot; `quiet` when it is
    /// evicted for having been idle.
    fn flush(&mut self, idx: u32, quiet: bool) -> Result<(), SinkError> {
        self.unlink(idx);
        let Some(slot) = self.slots.get_mut(idx as usize) else {
            return Ok(());
        };
        let session = slot.session;
        let bytes = std::mem::take(&mut slot.pending);
        let name = std::mem::take(&mut slot.name);
        let first = !slot.started;
        let encoder = std::mem::replace(&mut slot.encoder, Encoder::resumed(self.format));
        if encoder.carries_state() {
            self.parked.insert(session, encoder);
        }
        self.free.push(idx);
        if let Some(state) = self.files.get_mut(session as usize) {
            *state = WRITTEN;
        }
        self.pending_bytes = self.pending_bytes.saturating_sub(bytes.capacity());
        if bytes.is_empty() {
            self.pool.give(bytes);
            return Ok(());
        }
        self.batch.bytes += bytes.len();
        self.batch.jobs.push(Job {
            file: session,
            name,
            first,
            quiet,
            bytes,
        });
        if self.batch.bytes >= BATCH_BYTES || self.batch.jobs.len() >= BATCH_FILES {
            self.send()?;
        }
        Ok(())
    }

    /// The slot of `session`'s pending bytes, taking a free one if it has none.
    fn slot_for(&mut self, session: &Session, idx: usize) -> Option<u32> {
        if idx >= self.files.len() {
            // Sessions are created in order, so a new one is always the next index.
            self.files.resize(idx + 1, NEW);
        }
        let state = *self.files.get(idx)?;
        if state != NEW && state != WRITTEN {
            return Some(state);
        }
        let number = idx as u32;
        let started = state == WRITTEN;
        let encoder = match self.parked.remove(&number) {
            Some(e) => e,
            None if started => Encoder::resumed(self.format),
            None => Encoder::new(self.format),
        };
        let slot = Slot {
            session: number,
            name: file_name(session, Encoder::extension(self.format)).into_boxed_str(),
            encoder,
            pending: Vec::new(),
            started,
            prev: NIL,
            next: NIL,
        };
        let id = match self.free.pop() {
            Some(id) => {
                if let Some(s) = self.slots.get_mut(id as usize) {
                    *s = slot;
                }
                id
            }
            None => {
                self.slots.push(slot);
                (self.slots.len() - 1) as u32
            }
        };
        if let Some(state) = self.files.get_mut(idx) {
            *state = id;
        }
        Some(id)
    }

    /// Sends the current batch; if the writer has stopped, returns the error that stopped it.
    fn send(&mut self) -> Result<(), SinkError> {
        let batch = std::mem::take(&mut self.batch);
        let sent = match &self.to_writer {
            Some(tx) => tx.send(batch).is_ok(),
            None => false,
        };
        if sent {
            for written in self.written_back.try_iter() {
                for job in written.jobs {
                    self.pool.give(job.bytes);
                }
            }
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
        // In session order, as a directory listing shows them.
        let mut pending: Vec<(u32, u32)> = self
            .slots
            .iter()
            .enumerate()
            .filter(|(_, s)| !s.pending.is_empty())
            .map(|(i, s)| (s.session, i as u32))
            .collect();
        pending.sort_unstable();
        for (_, slot) in pending {
            self.flush(slot, true)?;
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
    /// Buffer for reading a file back (see [`Writer::write`]).
    scratch: Vec<u8>,
    written: Written,
}

impl Writer {
    fn new(dir: PathBuf) -> Writer {
        Writer {
            dir,
            digests: Vec::new(),
            running: hashbrown::HashMap::new(),
            scratch: Vec::new(),
            written: Written::default(),
        }
    }

    fn write(&mut self, job: &Job) -> Result<(), SinkError> {
        let path = self.dir.join(&*job.name);
        // An append to a file whose only write was hashed by itself: the running digest
        // starts from what is on disk, read back through the same open, now (beside the
        // split thread) rather than at the end (after it).
        let resume = !job.first && !self.running.contains_key(&job.file);
        let scratch = &mut self.scratch;
        let result = (|| -> io::Result<Option<Sha256>> {
            let mut options = OpenOptions::new();
            if job.first {
                options.write(true).create_new(true);
            } else {
                options.append(true).read(resume);
            }
            let mut file = options.open(&path)?;
            let resumed = if resume {
                let mut h = Sha256::new();
                scratch.resize(REHASH_CHUNK, 0);
                loop {
                    match file.read(scratch) {
                        Ok(0) => break,
                        Ok(n) => h.update(scratch.get(..n).unwrap_or_default()),
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(e),
                    }
                }
                Some(h)
            } else {
                None
            };
            file.write_all(&job.bytes)?;
            Ok(resumed)
        })();
        let resumed = result.map_err(|source| SinkError { path, source })?;
        self.written.opens += 1;
        self.written.bytes += job.bytes.len() as u64;
        let idx = job.file as usize;
        if self.digests.len() <= idx {
            self.digests.resize(idx + 1, [0; 32]);
        }
        if let Some(h) = resumed {
            self.written.rehashed += 1;
            self.running.insert(job.file, h);
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
        }
        Ok(())
    }

    fn finish(mut self) -> Result<Written, SinkError> {
        for (file, h) in self.running.drain() {
            if let Some(d) = self.digests.get_mut(file as usize) {
                *d = h.finalize().into();
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
        let Some(id) = self.slot_for(session, assignment.session) else {
            return Ok(());
        };
        let Some(f) = self.slots.get_mut(id as usize) else {
            return Ok(());
        };
        let before = f.pending.len();
        let capacity = f.pending.capacity();
        // Room for the record and its headers (a file header, or a section and interface
        // blocks, and the record header), made here so the encoder never reallocates: a
        // fresh buffer, or one twice the size, comes from the pool and the bytes so far are
        // copied over, the old buffer going back to the pool. The headroom usually holds a
        // short session's next record too.
        let needed = before
            + record.data.len()
            + record.extra.len()
            + record.options.len()
            + RECORD_HEADROOM;
        if needed > capacity {
            let mut grown = self.pool.take(needed.max(capacity.saturating_mul(2)));
            grown.extend_from_slice(&f.pending);
            self.pool.give(std::mem::replace(&mut f.pending, grown));
        }
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
            // See the module documentation for why the margin is a sixteenth.
            while self.pending_bytes > self.budget - self.budget / 16 && self.head != NIL {
                self.flush(self.head, true)?;
            }
        }
        Ok(())
    }
}
