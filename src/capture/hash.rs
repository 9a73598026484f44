//! The capture's evidence hashes: MD5, SHA-1 and SHA-256 of the file's bytes as stored
//! (compressed bytes for a gzip file, as `capinfos` and `sha256sum` compute them).
//!
//! During a pass the file is read once, by the digest thread [`tee`] starts: it reads 1 MiB
//! chunks, hashes MD5 itself (the slowest of the three, with no hardware help), and hands
//! each chunk, shared, to a second thread for SHA-1 and SHA-256 and through a bounded
//! channel to the capture reader, whose raw input is the [`TeeInput`]. The reader parses a
//! plain capture's records where they lie in the chunk it holds, copying only the few
//! records that straddle two chunks: copying every chunk into a buffer of its own would be
//! one more pass over all of the file's bytes, mostly from memory rather than cache, and it
//! showed in the split thread's profile. A gzip file's decoder reads the chunks through
//! `Read`, which copies: the decoder wants a `Read`, and beside inflating the copy is small.
//! Either way the kernel reads the file once, not a second time for the digests.
//!
//! The reader may stop listening (a failure): the digest thread then stops sending to it
//! but still hashes to the end of the file, so the digests are always of the whole file. A
//! read error reaches the reader as the `io::Error` of its next `read` or
//! [`TeeInput::next_chunk`] and fails the digests too. [`all_hashes`] and [`sha256_file`]
//! read the file themselves, for callers with no reader beside them.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, sync_channel, Receiver, Sender, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;

use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// The three digests of one file, as lowercase hex.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FileHashes {
    /// MD5.
    pub md5: String,
    /// SHA-1.
    pub sha1: String,
    /// SHA-256 (the evidence hash; names the output directory).
    pub sha256: String,
}

/// Bytes read from the file at a time: large enough that the per-read and per-message
/// costs, and the reader's copy of the record a chunk's end cuts, vanish beside hashing a
/// chunk, small enough that a few in flight stay a few megabytes.
const CHUNK: usize = 1 << 20;

/// Chunks each consumer's queue holds (the SHA thread's, the reader's): enough to ride out
/// scheduling jitter. No more than `CHUNKS_IN_FLIGHT + 3` chunks exist at once (see
/// [`hash_stream`]), 7 MiB.
const CHUNKS_IN_FLIGHT: usize = 4;

/// How the file is cut and queued; only tests choose other than [`Shape::DEFAULT`], to
/// cross many chunk boundaries in a small file.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shape {
    /// Bytes per read of the file (at least 1).
    pub chunk: usize,
    /// Chunks each consumer's queue holds.
    pub in_flight: usize,
}

impl Shape {
    pub(crate) const DEFAULT: Shape = Shape {
        chunk: CHUNK,
        in_flight: CHUNKS_IN_FLIGHT,
    };
}

/// A chunk of the file, shared by the threads that read it; it comes back to the digest
/// thread, which reuses (or frees) it once nobody else holds it.
type Chunk = Arc<Vec<u8>>;

/// Feeds every chunk of a file to `f`.
fn for_each_chunk(path: &Path, mut f: impl FnMut(&[u8])) -> io::Result<()> {
    let mut file = File::open(path)?;
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = read_some(&mut file, &mut buf)?;
        if n == 0 {
            return Ok(());
        }
        f(buf.get(..n).unwrap_or_default());
    }
}

/// SHA-256 of a file, as lowercase hex.
pub fn sha256_file(path: &Path) -> io::Result<String> {
    let mut h = Sha256::new();
    for_each_chunk(path, |c| h.update(c))?;
    Ok(hex::encode(h.finalize()))
}

/// All three digests in one read of the file (when no SHA-256 is needed beforehand).
pub fn all_hashes(path: &Path) -> io::Result<FileHashes> {
    // Hashed on this thread (and the SHA thread), with no reader to feed.
    let never = AtomicBool::new(false);
    let digests = hash_stream(
        File::open(path)?,
        true,
        None,
        channel(),
        Shape::DEFAULT,
        &never,
    )?;
    Ok(digests.into_hashes(None))
}

/// What [`hash_stream`] computed.
struct Digested {
    md5: String,
    sha1: String,
    sha256: Option<String>,
}

impl Digested {
    fn into_hashes(self, known_sha256: Option<String>) -> FileHashes {
        FileHashes {
            md5: self.md5,
            sha1: self.sha1,
            sha256: known_sha256.or(self.sha256).unwrap_or_default(),
        }
    }
}

/// What the digest thread sends the reader.
enum Piece {
    /// The next bytes of the file.
    Bytes(Chunk),
    /// Reading the file failed here: the reader's next `read` returns this.
    Failed(io::Error),
    /// The whole file has been sent.
    End,
}

/// MD5, SHA-1 and optionally SHA-256 of everything `source` holds, read once, each chunk
/// also sent to `reader` while it listens. MD5 has no hardware support and is the slowest of
/// the three, so it runs on this thread while the SHA family (hardware accelerated where the
/// CPU has it) runs on a second one over the same chunks: the digests take as long as MD5
/// alone rather than as long as all three. Each chunk is sent to the reader and the SHA
/// thread before this thread hashes it, so the three work on it at once.
///
/// Chunks are recycled: every holder (the reader, the SHA thread, this thread) sends its
/// share back through `recycle` when done, and this thread takes a chunk nobody else holds
/// for its next read, allocating only when there is none. So the file goes through the same
/// few buffers, and they are freed here, where they were allocated: glibc frees a block from
/// another thread under its arena's lock, which the session file writer measured as
/// contention. A buffer is allocated only when every other one is held by a consumer; each
/// holds at most `in_flight` queued plus one in hand, and both are sent the same chunks, so
/// at most `in_flight + 3` exist (the slower consumer's `in_flight + 1`, one sent to the
/// reader but not yet to the SHA thread, the one being read).
fn hash_stream(
    mut source: impl Read,
    with_sha256: bool,
    mut reader: Option<SyncSender<Piece>>,
    recycle: (Sender<Chunk>, Receiver<Chunk>),
    shape: Shape,
    abandoned: &AtomicBool,
) -> io::Result<Digested> {
    let (give_back, returned) = recycle;
    let (to_shas, for_shas) = sync_channel::<Chunk>(shape.in_flight);
    let shas = {
        let give_back = give_back.clone();
        std::thread::Builder::new()
            .name("sha-digests".into())
            .spawn(move || {
                let mut sha1 = Sha1::new();
                let mut sha256 = with_sha256.then(Sha256::new);
                for chunk in for_shas {
                    sha1.update(chunk.as_slice());
                    if let Some(h) = sha256.as_mut() {
                        h.update(chunk.as_slice());
                    }
                    // The digest thread may have finished; then the share is just dropped.
                    let _ = give_back.send(chunk);
                }
                (
                    hex::encode(sha1.finalize()),
                    sha256.map(|h| hex::encode(h.finalize())),
                )
            })?
    };
    let mut md5 = Md5::new();
    let read: io::Result<()> = loop {
        if abandoned.load(Ordering::Relaxed) {
            break Err(io::Error::other("the digests were abandoned"));
        }
        let mut buf = reusable(&returned).unwrap_or_default();
        buf.resize(shape.chunk.max(1), 0);
        let n = match read_some(&mut source, &mut buf) {
            Ok(n) => n,
            Err(e) => {
                let digests_error = same_error(&e);
                if let Some(r) = reader.take() {
                    let _ = r.send(Piece::Failed(e));
                }
                break Err(digests_error);
            }
        };
        if n == 0 {
            if let Some(r) = reader.take() {
                let _ = r.send(Piece::End);
            }
            break Ok(());
        }
        buf.truncate(n);
        let chunk = Arc::new(buf);
        if let Some(r) = &reader {
            if r.send(Piece::Bytes(chunk.clone())).is_err() {
                // The reader stopped; the digests still cover the whole file.
                reader = None;
            }
        }
        if to_shas.send(chunk.clone()).is_err() {
            break Err(io::Error::other("the SHA hashing thread stopped"));
        }
        md5.update(chunk.as_slice());
        let _ = give_back.send(chunk);
    };
    drop(reader);
    drop(to_shas);
    let shas = shas.join();
    // Wait for the reader's and the SHA thread's shares to come back (the reader lets go of
    // its input before it asks for the digests) so the last buffers are freed here too.
    drop(give_back);
    for chunk in returned {
        drop(chunk);
    }
    read?;
    let (sha1, sha256) = shas.map_err(|_| io::Error::other("the SHA hashing thread stopped"))?;
    Ok(Digested {
        md5: hex::encode(md5.finalize()),
        sha1,
        sha256,
    })
}

/// A returned chunk nobody else holds, its bytes to be overwritten; shares still held
/// elsewhere are dropped (their last holder sends them back again).
fn reusable(returned: &Receiver<Chunk>) -> Option<Vec<u8>> {
    while let Ok(chunk) = returned.try_recv() {
        if let Ok(buf) = Arc::try_unwrap(chunk) {
            return Some(buf);
        }
    }
    None
}

/// A second `io::Error` like `e`, for the side that does not get `e` itself: the OS error
/// when there is one, so both sides name the same error.
fn same_error(e: &io::Error) -> io::Error {
    match e.raw_os_error() {
        Some(code) => io::Error::from_raw_os_error(code),
        None => io::Error::new(e.kind(), e.to_string()),
    }
}

/// Starts the digest thread on `file`: it reads the file once for the digests and for the
/// returned [`TeeInput`], which the capture reader reads instead of the file. With
/// `known_sha256` the SHA-256 is not computed again but reported as given. Collect the
/// digests with [`PendingHashes::join`] once the input is dropped (or read to its end), as
/// `CaptureReader::finish_hashes` does; dropping the `PendingHashes` instead stops the thread
/// at its next chunk. Crate-private like `join`: the reader is its one caller.
pub(crate) fn tee(
    file: File,
    known_sha256: Option<String>,
) -> io::Result<(TeeInput, PendingHashes)> {
    tee_from(file, known_sha256, Shape::DEFAULT)
}

/// [`tee`] over any source, cut as `shape` says.
pub(crate) fn tee_from<R: Read + Send + 'static>(
    source: R,
    known_sha256: Option<String>,
    shape: Shape,
) -> io::Result<(TeeInput, PendingHashes)> {
    let (pieces, received) = sync_channel(shape.in_flight);
    let (give_back, returned) = channel();
    let abandoned = Arc::new(AtomicBool::new(false));
    let input = TeeInput {
        pieces: Some(received),
        current: None,
        at: 0,
        give_back: Some(give_back.clone()),
    };
    let stop = abandoned.clone();
    let thread = std::thread::Builder::new()
        .name("digests".into())
        .spawn(move || {
            let with_sha256 = known_sha256.is_none();
            let digests = hash_stream(
                source,
                with_sha256,
                Some(pieces),
                (give_back, returned),
                shape,
                &stop,
            )?;
            Ok(digests.into_hashes(known_sha256))
        })?;
    Ok((
        input,
        PendingHashes {
            thread: Some(thread),
            abandoned,
        },
    ))
}

/// The digests the digest thread of [`tee`] is computing.
pub struct PendingHashes {
    thread: Option<JoinHandle<io::Result<FileHashes>>>,
    abandoned: Arc<AtomicBool>,
}

impl PendingHashes {
    /// Waits for the digests of the whole file. The [`TeeInput`] must be dropped or read to
    /// its end first: until then the digest thread may be waiting to hand it a chunk, or for
    /// its buffers to come back. Not public for that reason: outside this crate the digests
    /// are collected through `CaptureReader::finish_hashes`, which drops the input first.
    pub(crate) fn join(mut self) -> io::Result<FileHashes> {
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(digests)) => digests,
            Some(Err(_)) | None => Err(io::Error::other("hashing thread failed")),
        }
    }
}

impl Drop for PendingHashes {
    fn drop(&mut self) {
        // Nobody will ask for the digests (the pass failed, or the file is no capture): the
        // rest of the file need not be hashed.
        if self.thread.is_some() {
            self.abandoned.store(true, Ordering::Relaxed);
        }
    }
}

/// The file's bytes as the digest thread of [`tee`] reads them, one shared chunk at a time.
/// The capture reader parses in the chunk at hand ([`TeeInput::chunk`], [`TeeInput::rest`],
/// [`TeeInput::advance`]) and asks for the next with [`TeeInput::next_chunk`]; `read`
/// copies out of the same chunks for a reader that wants a `Read` (the gzip decoder).
pub struct TeeInput {
    /// `None` once the end (or a read error) has been returned: then there is no next chunk.
    pieces: Option<Receiver<Piece>>,
    current: Option<Chunk>,
    /// Bytes of `current` already consumed.
    at: usize,
    /// `None` with `pieces`: the digest thread waits for every holder of its buffers to be
    /// done before it ends, and this one is done once it has read everything.
    give_back: Option<Sender<Chunk>>,
}

impl TeeInput {
    /// The whole chunk at hand, consumed bytes included (empty before the first chunk and at
    /// the end): a record parsed in place borrows from it until the next [`next_chunk`].
    ///
    /// [`next_chunk`]: TeeInput::next_chunk
    pub(crate) fn chunk(&self) -> &[u8] {
        self.current
            .as_deref()
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// Where the unconsumed bytes of [`TeeInput::chunk`] start.
    pub(crate) fn at(&self) -> usize {
        self.at
    }

    /// The bytes of the chunk at hand not yet consumed.
    pub(crate) fn rest(&self) -> &[u8] {
        self.chunk().get(self.at..).unwrap_or_default()
    }

    /// Marks `n` more bytes of the chunk at hand consumed (no further than its end).
    pub(crate) fn advance(&mut self, n: usize) {
        self.at = self.at.saturating_add(n).min(self.chunk().len());
    }

    /// Gives the chunk at hand back, whatever of it is left (the caller is done with it),
    /// and waits for the next: its length, 0 at the end of the file (and ever after), or the
    /// read error the digest thread met there. One chunk is held at a time, so the digest
    /// thread's count of the chunks alive holds.
    pub(crate) fn next_chunk(&mut self) -> io::Result<usize> {
        loop {
            self.give_back_current();
            let Some(pieces) = &self.pieces else {
                return Ok(0);
            };
            match pieces.recv() {
                Ok(Piece::Bytes(chunk)) => {
                    let n = chunk.len();
                    self.current = Some(chunk);
                    // The digest thread sends no empty chunk; were one sent, 0 would read
                    // as the end.
                    if n > 0 {
                        return Ok(n);
                    }
                }
                Ok(Piece::End) => {
                    self.close();
                    return Ok(0);
                }
                Ok(Piece::Failed(e)) => {
                    self.close();
                    return Err(e);
                }
                Err(_) => {
                    self.close();
                    return Err(io::Error::other(
                        "the thread reading the capture stopped before the end of the file",
                    ));
                }
            }
        }
    }

    /// Gives the chunk at hand back, before waiting for the next one (so it never holds two).
    fn give_back_current(&mut self) {
        if let (Some(done), Some(give_back)) = (self.current.take(), &self.give_back) {
            let _ = give_back.send(done);
        }
        self.at = 0;
    }

    /// The stream is over: nothing more will be received or given back.
    fn close(&mut self) {
        self.give_back_current();
        self.pieces = None;
        self.give_back = None;
    }
}

impl Read for TeeInput {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            let rest = self.rest();
            if !rest.is_empty() {
                let n = rest.len().min(out.len());
                if let (Some(to), Some(from)) = (out.get_mut(..n), rest.get(..n)) {
                    to.copy_from_slice(from);
                }
                self.advance(n);
                return Ok(n);
            }
            if self.next_chunk()? == 0 {
                return Ok(0);
            }
        }
    }
}

impl Drop for TeeInput {
    fn drop(&mut self) {
        // Chunks still queued or in hand go back to be freed on the digest thread.
        self.give_back_current();
        if let (Some(pieces), Some(give_back)) = (self.pieces.take(), &self.give_back) {
            while let Ok(piece) = pieces.try_recv() {
                if let Piece::Bytes(chunk) = piece {
                    let _ = give_back.send(chunk);
                }
            }
        }
    }
}

/// SHA-256 of bytes.
pub fn sha256_bytes(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

fn read_some(f: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match f.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::path::PathBuf;

    /// A source that gives `data` and then fails with an I/O error (EIO) after `fail_at`
    /// bytes, as a disk with a bad sector would.
    pub(crate) struct FailsAfter {
        pub data: Vec<u8>,
        pub fail_at: usize,
        pub at: usize,
    }

    /// The error [`FailsAfter`] fails with.
    pub(crate) const EIO: i32 = 5;

    impl Read for FailsAfter {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            if self.at >= self.fail_at {
                return Err(io::Error::from_raw_os_error(EIO));
            }
            let end = self.fail_at.min(self.data.len()).min(self.at + out.len());
            let n = end.saturating_sub(self.at);
            out[..n].copy_from_slice(&self.data[self.at..end]);
            self.at = end;
            Ok(n)
        }
    }

    /// The digests of `data`, computed here rather than by the code under test.
    pub(crate) fn expected(data: &[u8]) -> FileHashes {
        FileHashes {
            md5: hex::encode(Md5::digest(data)),
            sha1: hex::encode(Sha1::digest(data)),
            sha256: hex::encode(Sha256::digest(data)),
        }
    }

    /// Reads `input` to its end (or error) in reads of the given sizes, in turn.
    fn read_through(input: &mut TeeInput, sizes: &[usize]) -> (Vec<u8>, Option<io::Error>) {
        let mut got = Vec::new();
        for size in sizes.iter().cycle() {
            let mut buf = vec![0u8; (*size).max(1)];
            match input.read(&mut buf) {
                Ok(0) => return (got, None),
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) => return (got, Some(e)),
            }
        }
        (got, None)
    }

    /// A shape of `chunk`-byte chunks with `in_flight` queued, for tests that cut small.
    pub(crate) fn small(chunk: usize, in_flight: usize) -> Shape {
        Shape { chunk, in_flight }
    }

    fn corpus(names: &[&str]) -> Vec<PathBuf> {
        let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
        names.iter().map(|n| data.join(n)).collect()
    }

    /// The reader gets exactly the file's bytes, and the tee'd digests are `all_hashes`, for
    /// plain pcap, pcapng and gzip files (whose stored, compressed bytes are what is hashed),
    /// in 1 MiB chunks and in chunks of a few bytes; a given SHA-256 is reported as given.
    #[test]
    fn tee_gives_the_file_and_its_digests() {
        for path in corpus(&[
            "zeek__wikipedia.pcap",
            "wireshark__many_interfaces.pcapng.1",
            "wireshark__dns+icmp.pcapng.gz",
            "zeek__empty.pcap",
        ]) {
            let bytes = std::fs::read(&path).expect("capture");
            let whole = all_hashes(&path).expect("hashes");
            assert_eq!(whole, expected(&bytes), "{}", path.display());
            for shape in [Shape::DEFAULT, small(7, 1), small(4096, 2)] {
                let file = File::open(&path).expect("capture");
                let (mut input, pending) = tee_from(file, None, shape).expect("tee");
                let (got, err) = read_through(&mut input, &[1 << 20, 3, 100_000]);
                assert!(err.is_none(), "{err:?}");
                assert!(got == bytes, "{}: bytes differ", path.display());
                assert_eq!(pending.join().expect("digests"), whole);
            }
            let file = File::open(&path).expect("capture");
            let (input, pending) = tee(file, Some("given".into())).expect("tee");
            drop(input);
            let hashes = pending.join().expect("digests");
            assert_eq!((hashes.md5, hashes.sha1), (whole.md5, whole.sha1));
            assert_eq!(hashes.sha256, "given");
        }
    }

    /// A reader that stops after a few bytes (and one that never reads) still gets the whole
    /// file's digests: the digest thread keeps reading to the end when nobody listens.
    #[test]
    fn a_reader_that_stops_early_still_gets_whole_file_digests() {
        let data: Vec<u8> = (0..50_000u32).map(|i| (i * 7 % 251) as u8).collect();
        for read_first in [0, 10, 20_000] {
            let source = io::Cursor::new(data.clone());
            let (mut input, pending) = tee_from(source, None, small(64, 2)).expect("tee");
            let mut head = vec![0u8; read_first];
            input.read_exact(&mut head).expect("reads");
            assert_eq!(head, data[..read_first]);
            drop(input);
            assert_eq!(pending.join().expect("digests"), expected(&data));
        }
    }

    /// A read error reaches the reader from its `read`, after every byte before it, and the
    /// digests fail with the same error, also when the reader stopped before it.
    #[test]
    fn a_read_error_reaches_the_reader_and_the_digests() {
        let data = vec![0xab; 10_000];
        for fail_at in [0, 1, 64, 6_400, 6_401] {
            let source = FailsAfter {
                data: data.clone(),
                fail_at,
                at: 0,
            };
            let (mut input, pending) = tee_from(source, None, small(64, 3)).expect("tee");
            let (got, err) = read_through(&mut input, &[50]);
            assert_eq!(got.len(), fail_at);
            assert_eq!(err.and_then(|e| e.raw_os_error()), Some(EIO));
            // After the error the stream is over, as a reader at damage expects.
            assert_eq!(input.read(&mut [0u8; 8]).expect("over"), 0);
            let failed = pending.join().expect_err("digests fail");
            assert_eq!(failed.raw_os_error(), Some(EIO));

            let source = FailsAfter {
                data: data.clone(),
                fail_at,
                at: 0,
            };
            let (input, pending) = tee_from(source, None, small(64, 3)).expect("tee");
            drop(input);
            let failed = pending.join().expect_err("digests fail");
            assert_eq!(failed.raw_os_error(), Some(EIO));
        }
    }

    /// Digests nobody waits for stop being computed; a reader still reading then gets an
    /// error, not a silent early end of the file.
    #[test]
    fn abandoned_digests_stop_and_the_reader_is_told() {
        let data = vec![1u8; 1 << 20];
        let (mut input, pending) =
            tee_from(io::Cursor::new(data.clone()), None, small(16, 1)).expect("tee");
        drop(pending);
        let (got, err) = read_through(&mut input, &[4096]);
        assert!(got.len() < data.len());
        assert!(err.is_some());
    }

    proptest! {
        /// Whatever the chunk size, queue length and read sizes, the reader sees exactly the
        /// source's bytes across chunk boundaries and the digests are those of the bytes.
        #[test]
        fn the_reader_sees_exactly_the_bytes(
            data in proptest::collection::vec(any::<u8>(), 0..3000),
            chunk in 1usize..80,
            in_flight in 1usize..5,
            sizes in proptest::collection::vec(1usize..200, 1..8),
        ) {
            let source = io::Cursor::new(data.clone());
            let (mut input, pending) = tee_from(source, None, small(chunk, in_flight))
                .expect("tee");
            let (got, err) = read_through(&mut input, &sizes);
            prop_assert!(err.is_none());
            prop_assert_eq!(&got, &data);
            prop_assert_eq!(pending.join().expect("digests"), expected(&data));
        }
    }
}
