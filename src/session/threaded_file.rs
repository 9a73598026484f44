//! A file whose write calls run on a thread of their own.
//!
//! The caller fills blocks in memory; a thread writes them in order. On tmpfs a write call
//! is the kernel copying the bytes into freshly allocated pages, and the split writes a lot
//! of JSON beside the session files: split b's index is 0.8 GB and its facts 0.46 GB. Made on
//! the split thread, those copies took 4.7 s of it; here they run beside the formatting.
//!
//! The memory is bounded: at most [`BLOCKS_IN_FLIGHT`] blocks wait for the thread, and the
//! thread hands each written block back to be filled again, so blocks are allocated and
//! freed by the caller's thread only (glibc frees a block from another thread under its
//! arena's lock).

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;
use std::sync::mpsc::{channel, sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;

/// A block is handed to the thread once it holds this many bytes: large enough that a
/// write call costs little beside the copy, small enough to stay in the caches.
pub const BLOCK_BYTES: usize = 1 << 20;

/// Room kept free at the end of a block, so that the piece that fills it (an index entry is
/// under a kilobyte) does not make the block reallocate to twice its size.
const BLOCK_SLACK: usize = 64 * 1024;

/// Blocks queued for the thread beyond the one it is writing.
const BLOCKS_IN_FLIGHT: usize = 2;

/// See the module documentation.
pub struct ThreadedFile {
    block: Vec<u8>,
    /// Written blocks, ready to be filled again.
    spare: Vec<Vec<u8>>,
    /// Blocks handed over and not yet given back.
    outstanding: usize,
    to_thread: Option<SyncSender<Vec<u8>>>,
    given_back: Receiver<Vec<u8>>,
    thread: Option<JoinHandle<io::Result<()>>>,
}

impl ThreadedFile {
    /// Creates (or truncates) `path` and starts its writing thread.
    pub fn create(path: &Path) -> io::Result<ThreadedFile> {
        let mut file = File::create(path)?;
        let (to_thread, blocks) = sync_channel::<Vec<u8>>(BLOCKS_IN_FLIGHT);
        let (give_back, given_back) = channel::<Vec<u8>>();
        let thread = std::thread::Builder::new()
            .name("file-writer".into())
            .spawn(move || {
                for block in blocks {
                    file.write_all(&block)?;
                    // The caller may have gone (an error elsewhere): the block is freed here.
                    let _ = give_back.send(block);
                }
                Ok(())
            })?;
        Ok(ThreadedFile {
            block: Vec::with_capacity(BLOCK_BYTES),
            spare: Vec::new(),
            outstanding: 0,
            to_thread: Some(to_thread),
            given_back,
            thread: Some(thread),
        })
    }

    /// The block being filled. Append to it, then call [`ThreadedFile::hand_over_if_full`].
    pub fn block(&mut self) -> &mut Vec<u8> {
        &mut self.block
    }

    /// Hands the block to the thread once it is nearly [`BLOCK_BYTES`].
    pub fn hand_over_if_full(&mut self) -> io::Result<()> {
        if self.block.len() >= BLOCK_BYTES - BLOCK_SLACK {
            self.hand_over()
        } else {
            Ok(())
        }
    }

    fn hand_over(&mut self) -> io::Result<()> {
        while let Ok(b) = self.given_back.try_recv() {
            self.outstanding = self.outstanding.saturating_sub(1);
            self.spare.push(b);
        }
        let mut next = self
            .spare
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(BLOCK_BYTES));
        next.clear();
        let full = std::mem::replace(&mut self.block, next);
        let sent = match &self.to_thread {
            Some(tx) => tx.send(full).is_ok(),
            None => false,
        };
        if sent {
            self.outstanding += 1;
            Ok(())
        } else {
            Err(self.stopped())
        }
    }

    /// The error that stopped the thread (it only stops early on one).
    fn stopped(&mut self) -> io::Error {
        self.to_thread = None;
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(Err(e))) => e,
            Some(Ok(Ok(()))) | None => io::Error::other("the file writer stopped"),
            Some(Err(_)) => io::Error::other("the file writer thread panicked"),
        }
    }

    /// Writes everything and closes the file, reporting any write error.
    pub fn finish(mut self) -> io::Result<()> {
        self.flush()?;
        self.to_thread = None;
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(io::Error::other("the file writer thread panicked")),
            None => Err(io::Error::other("the file writer stopped")),
        }
    }
}

impl Write for ThreadedFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.block.len() + buf.len() > BLOCK_BYTES && !self.block.is_empty() {
            self.hand_over()?;
        }
        self.block.extend_from_slice(buf);
        self.hand_over_if_full()?;
        Ok(buf.len())
    }

    /// Returns once every byte written so far has been written to the file, or with the
    /// error that stopped it.
    fn flush(&mut self) -> io::Result<()> {
        if !self.block.is_empty() {
            self.hand_over()?;
        }
        while self.outstanding > 0 {
            match self.given_back.recv() {
                Ok(b) => {
                    self.outstanding -= 1;
                    self.spare.push(b);
                }
                Err(_) => return Err(self.stopped()),
            }
        }
        Ok(())
    }
}

impl Drop for ThreadedFile {
    /// Stops the thread after the blocks already handed over (on an error path: what was
    /// not flushed is lost, and the caller discards the file).
    fn drop(&mut self) {
        self.to_thread = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_every_byte_in_order_across_blocks() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("out");
        let mut f = ThreadedFile::create(&path).expect("create");
        let mut expected = Vec::new();
        for i in 0..5_000u32 {
            let line = format!("line {i} {}\n", "x".repeat((i % 977) as usize));
            expected.extend_from_slice(line.as_bytes());
            if i % 2 == 0 {
                f.write_all(line.as_bytes()).expect("write");
            } else {
                f.block().extend_from_slice(line.as_bytes());
                f.hand_over_if_full().expect("hand over");
            }
            if i == 2_500 {
                f.flush().expect("flush");
                let so_far = std::fs::read(&path).expect("read");
                assert_eq!(so_far.len(), expected.len(), "flush writes everything");
            }
        }
        assert!(expected.len() > 2 * BLOCK_BYTES, "several blocks");
        f.finish().expect("finish");
        assert_eq!(std::fs::read(&path).expect("read"), expected);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn reports_a_write_error() {
        // /dev/full refuses every write with ENOSPC.
        let mut f = ThreadedFile::create(Path::new("/dev/full")).expect("open /dev/full");
        let mut failed = None;
        for _ in 0..8 {
            if let Err(e) = f.write_all(&[7u8; BLOCK_BYTES]) {
                failed = Some(e);
                break;
            }
        }
        let e = match failed {
            Some(e) => e,
            None => f
                .finish()
                .expect_err("the write error surfaces at the end at the latest"),
        };
        assert_eq!(e.raw_os_error(), Some(28), "ENOSPC, got {e}");
    }
}
