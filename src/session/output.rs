//! A capture's output directory: built in a temporary directory beside its final place and
//! renamed into `<out>/<sha256>/` only when complete, so a crash or an error never leaves a
//! directory that looks finished. A finished directory is found by the capture's SHA-256 and
//! reused without splitting again. The capture itself is only ever opened for reading.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use super::index::{self, CaptureFacts, Entries, Index, IndexHead};
use super::sink::{FileSink, SinkError};
use super::spill::{Sessions, SpillError};
use super::splitter::{self, NullSink, SplitFailure, SplitOptions};
use super::threaded_file::ThreadedFile;
use crate::capture::hash::{self, FileHashes};
use crate::capture::reader::CaptureReader;
use crate::capture::writer::Encoder;
use crate::capture::CaptureError;
use crate::capture::Interface;
use crate::facts::collect::{FactsSink, SessionFacts};

/// Name of the index file in each output directory.
pub const INDEX_FILE: &str = "index.json";
/// Name of the application facts file (DNS, HTTP, TLS, services; one session per line).
pub const FACTS_FILE: &str = "facts.jsonl";

/// Why a split could not be completed.
#[derive(Debug, thiserror::Error)]
pub enum SplitError {
    /// The capture could not be read.
    #[error(transparent)]
    Capture(#[from] CaptureError),
    /// The output could not be written.
    #[error("{}: {what}: {source}", path.display())]
    Output {
        /// The path that failed.
        path: PathBuf,
        /// What was being done.
        what: &'static str,
        /// The underlying error.
        source: io::Error,
    },
    /// The session spill file failed (usually: the output file system is full).
    #[error(transparent)]
    Spill(#[from] SpillError),
    /// A finished output directory exists but its index cannot be read.
    #[error("{}: existing output is unreadable ({reason})", path.display())]
    CorruptOutput {
        /// The index path.
        path: PathBuf,
        /// The parse error.
        reason: String,
    },
}

/// What to do when the output's file system is full (the spill file fails that way too).
const NO_SPACE_HINT: &str =
    "free space in the output directory's file system, or choose another with -o";

impl SplitError {
    /// What the user can do about it.
    pub fn hint(&self) -> &'static str {
        match self {
            SplitError::Capture(e) => e.hint(),
            SplitError::Output { source, .. } if source.kind() == io::ErrorKind::StorageFull => {
                NO_SPACE_HINT
            }
            SplitError::Output { .. } => "choose a writable output directory with -o",
            SplitError::Spill(_) => NO_SPACE_HINT,
            SplitError::CorruptOutput { .. } => "remove that directory and run again",
        }
    }
}

/// The result of [`split_to_directory`].
#[derive(Debug)]
pub struct SplitOutcome {
    /// The finished directory.
    pub dir: PathBuf,
    /// Its index, without the session list (read `index.json` for that).
    pub index: IndexHead,
    /// The directory already existed: nothing was split.
    pub reused: bool,
}

fn out_err<'a>(path: &'a Path, what: &'static str) -> impl FnOnce(io::Error) -> SplitError + 'a {
    move |source| SplitError::Output {
        path: path.to_path_buf(),
        what,
        source,
    }
}

/// The directory name of a capture's output: its SHA-256, plus the settings that change the
/// split when they are not the defaults.
pub fn directory_name(sha256: &str, options: &SplitOptions) -> String {
    let mut name = sha256.to_string();
    if let Some(ns) = options.udp_idle_timeout_ns {
        name.push_str(&format!(".udp-idle-{}ms", ns / 1_000_000));
    }
    if options.skip_facts {
        name.push_str(".no-facts");
    }
    name
}

/// Reads a finished directory's whole index, sessions included.
pub fn read_index(dir: &Path) -> Result<Index, SplitError> {
    read_json(dir)
}

/// Reads a finished directory's index without keeping its session list (streamed past).
pub fn read_index_head(dir: &Path) -> Result<IndexHead, SplitError> {
    read_json(dir)
}

fn read_json<T: serde::de::DeserializeOwned>(dir: &Path) -> Result<T, SplitError> {
    let path = dir.join(INDEX_FILE);
    let file = fs::File::open(&path).map_err(out_err(&path, "cannot read index"))?;
    serde_json::from_reader(io::BufReader::new(file)).map_err(|e| SplitError::CorruptOutput {
        path,
        reason: e.to_string(),
    })
}

/// Writes `index.json` into `dir`, streaming the session entries; the write calls run on a
/// thread of their own while the entries are formatted.
fn write_index(dir: &Path, head: &IndexHead, entries: &Entries<'_>) -> Result<(), SplitError> {
    let path = dir.join(INDEX_FILE);
    let mut file = ThreadedFile::create(&path).map_err(out_err(&path, "cannot write"))?;
    match entries.write_index(head, &mut file) {
        Ok(()) => file.finish().map_err(out_err(&path, "cannot write")),
        Err(index::Stop::Write(e)) => Err(out_err(&path, "cannot write")(e)),
        Err(index::Stop::Spill(e)) => Err(e.into()),
    }
}

/// Reads a finished directory's `facts.jsonl`: one session's facts per line, in the order
/// sessions were concluded.
pub fn read_facts(dir: &Path) -> Result<Vec<SessionFacts>, SplitError> {
    let path = dir.join(FACTS_FILE);
    let file = fs::File::open(&path).map_err(out_err(&path, "cannot read facts"))?;
    parse_facts(file, &path)
}

fn parse_facts(file: fs::File, path: &Path) -> Result<Vec<SessionFacts>, SplitError> {
    use std::io::BufRead;
    let mut out = Vec::new();
    for (n, line) in io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(out_err(path, "cannot read facts"))?;
        if line.trim().is_empty() {
            continue;
        }
        let f = serde_json::from_str(&line).map_err(|e| SplitError::CorruptOutput {
            path: path.to_path_buf(),
            reason: format!("line {}: {e}", n + 1),
        })?;
        out.push(f);
    }
    Ok(out)
}

fn hash_err(path: &Path) -> impl FnOnce(io::Error) -> SplitError + '_ {
    move |source| {
        SplitError::Capture(CaptureError::Io {
            path: path.to_path_buf(),
            source,
        })
    }
}

/// Whether `out` holds a finished directory for some capture split with `options`: only then
/// can this capture's output already exist, and only then is it worth hashing the capture
/// before splitting it.
fn may_hold_finished(out: &Path, options: &SplitOptions) -> bool {
    let suffix = directory_name("", options);
    let Ok(entries) = fs::read_dir(out) else {
        return false;
    };
    entries.flatten().any(|e| {
        let name = e.file_name();
        let name = name.to_string_lossy();
        let sha = name.strip_suffix(suffix.as_str()).unwrap_or("");
        sha.len() == 64
            && sha.bytes().all(|b| b.is_ascii_hexdigit())
            && e.path().join(INDEX_FILE).is_file()
    })
}

/// The head of a finished directory written by this index version, or `None` when there is
/// none. A directory from an older version (other index layout, fewer facts) is stale: it is
/// split again and replaced, never answered from.
fn current_head(dir: &Path) -> Result<Option<IndexHead>, SplitError> {
    if !dir.join(INDEX_FILE).is_file() {
        return Ok(None);
    }
    match read_index_head(dir) {
        Ok(head) if head.index_version == index::INDEX_VERSION => Ok(Some(head)),
        Ok(_) => Ok(None),
        Err(e) => Err(e),
    }
}

/// A finished directory's outcome, reused.
fn reused(dir: PathBuf, index: IndexHead) -> SplitOutcome {
    SplitOutcome {
        dir,
        index,
        reused: true,
    }
}

/// Moves a stale finished directory out of the way of a new one and removes it.
fn remove_stale(final_dir: &Path, out: &Path) -> Result<(), SplitError> {
    if !final_dir.exists() {
        return Ok(());
    }
    let aside = tempfile::Builder::new()
        .prefix(".stale.")
        .tempdir_in(out)
        .map_err(out_err(
            out,
            "cannot create a directory in the output directory",
        ))?
        .keep();
    let target = aside.join("old");
    fs::rename(final_dir, &target).map_err(out_err(final_dir, "cannot replace stale output"))?;
    fs::remove_dir_all(&aside).map_err(out_err(&aside, "cannot remove stale output"))
}

/// Splits `capture` into `<out>/<sha256>/`, or finds that directory already finished.
///
/// The capture is read once, by the digest thread ([`CaptureReader::open_hashing`]): it
/// computes MD5 while a second thread computes SHA-1 and SHA-256 of the same chunks, and the
/// split thread's reader copies its bytes out of those chunks rather than reading the file
/// again. The session files are written on another thread (see [`FileSink`]), so the split
/// thread only copies, decodes and encodes. Only when `out` already holds finished output is
/// the SHA-256 computed first, in a read of its own, to find out whether this capture is
/// among it; the digest thread then computes MD5 and SHA-1 only.
pub fn split_to_directory(
    capture: &Path,
    out: &Path,
    options: &SplitOptions,
    progress: Arc<AtomicU64>,
) -> Result<SplitOutcome, SplitError> {
    let known_sha256 = if may_hold_finished(out, options) {
        // A file that is not a capture is refused before it is hashed whole.
        CaptureReader::open(capture, &options.limits)?;
        let sha256 = hash::sha256_file(capture).map_err(hash_err(capture))?;
        let final_dir = out.join(directory_name(&sha256, options));
        if let Some(head) = current_head(&final_dir)? {
            return Ok(reused(final_dir, head));
        }
        Some(sha256)
    } else {
        None
    };
    // Open before anything is made: a file that is not a capture is refused here (and its
    // digest thread stopped after a chunk or so).
    let (mut reader, digests) =
        CaptureReader::open_hashing(capture, &options.limits, progress, known_sha256.clone())?;
    fs::create_dir_all(out).map_err(out_err(out, "cannot create output directory"))?;
    let tmp = tempfile::Builder::new()
        .prefix(&format!(
            ".{}.",
            known_sha256.as_deref().unwrap_or("packetpivot-split")
        ))
        .suffix(".partial")
        .tempdir_in(out)
        .map_err(out_err(
            out,
            "cannot create a directory in the output directory",
        ))?;
    let format = reader.format();
    let files_sink =
        FileSink::new(tmp.path(), format, options.limits.write_buffer_bytes).map_err(sink_err)?;
    // Session records beyond the resident budget go to an anonymous file beside the output.
    let sessions = Sessions::spilling(tmp.path(), options.limits.resident_sessions)?;
    let started = std::time::Instant::now();
    let passed;
    let (result, written) = if options.skip_facts {
        let mut sink = files_sink;
        let result =
            splitter::split_with(&mut reader, options, sessions, &mut sink).map_err(failure)?;
        passed = started.elapsed();
        (result, sink.finish().map_err(sink_err)?)
    } else {
        let facts_path = tmp.path().join(FACTS_FILE);
        let out = Box::new(
            ThreadedFile::create(&facts_path)
                .map_err(out_err(&facts_path, "cannot write facts"))?,
        );
        let mut sink = FactsSink::new(files_sink, out);
        let result =
            splitter::split_with(&mut reader, options, sessions, &mut sink).map_err(failure)?;
        passed = started.elapsed();
        let files_sink = sink
            .finish()
            .map_err(out_err(&facts_path, "cannot write facts"))?;
        (result, files_sink.finish().map_err(sink_err)?)
    };
    let files_done = started.elapsed();
    let (spill_writes, spill_reads) = result.sessions.spill_traffic();
    tracing::debug!(
        sessions = result.sessions.len(),
        spill_writes,
        spill_reads,
        "session records (chunks written to and read back from the spill file)"
    );
    tracing::debug!(
        files = result.sessions.len(),
        opens = written.opens,
        rehashed = written.rehashed,
        bytes = written.bytes,
        "session files (opens above the file count are appends to a file flushed before)"
    );
    let hashes = reader.finish_hashes(digests).map_err(hash_err(capture))?;
    let final_dir = out.join(directory_name(&hashes.sha256, options));
    if let Some(head) = current_head(&final_dir)? {
        // Finished by another process meanwhile: keep its output, drop ours.
        return Ok(reused(final_dir, head));
    }
    let extension = Encoder::extension(format);
    let facts = facts(capture, &reader, hashes, options);
    let index = index::build_head(&facts, &result)?;
    let entries = Entries {
        sessions: &result.sessions,
        interfaces: reader.interfaces(),
        extension,
        file_hashes: Some(&written.sha256),
    };
    write_index(tmp.path(), &index, &entries)?;
    tracing::debug!(
        pass_s = passed.as_secs_f64(),
        files_s = files_done.as_secs_f64(),
        index_s = started.elapsed().as_secs_f64(),
        "split phases (seconds since the pass began: pass done, files written, index written)"
    );
    remove_stale(&final_dir, out)?;
    let tmp_path = tmp.keep();
    match fs::rename(&tmp_path, &final_dir) {
        Ok(()) => Ok(SplitOutcome {
            dir: final_dir,
            index,
            reused: false,
        }),
        Err(e) => {
            let _ = fs::remove_dir_all(&tmp_path);
            // Another process finished the same capture first: use its result.
            if let Some(head) = current_head(&final_dir)? {
                Ok(reused(final_dir, head))
            } else {
                Err(out_err(
                    &final_dir,
                    "cannot move the finished output into place",
                )(e))
            }
        }
    }
}

/// The sessions of a capture, listed without writing anything.
pub struct Listing {
    /// The index head.
    pub head: IndexHead,
    /// The sessions (all in memory: a listing has no output directory to spill into).
    pub sessions: Sessions,
    /// The capture's interfaces.
    pub interfaces: Vec<Interface>,
    /// The extension session files would have.
    pub extension: &'static str,
}

impl Listing {
    /// The session entries, made one at a time.
    pub fn entries(&self) -> Entries<'_> {
        Entries {
            sessions: &self.sessions,
            interfaces: &self.interfaces,
            extension: self.extension,
            file_hashes: None,
        }
    }
}

/// Whether a listing computes the capture's digests (MD5, SHA-1, SHA-256).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Digests {
    /// Compute them (on a second thread, during the pass): the head is shown.
    Compute,
    /// Leave them out, as empty strings: the caller shows only the sessions, and hashing
    /// would make a listing three times slower than the pass itself.
    Skip,
}

/// Lists the sessions of a capture without writing anything.
pub fn list_sessions(
    capture: &Path,
    options: &SplitOptions,
    digests: Digests,
    progress: Arc<AtomicU64>,
) -> Result<Listing, SplitError> {
    list_into(capture, options, digests, progress, &mut NullSink)
}

/// Lists the sessions of a capture with their application facts, writing no session file
/// (the facts pass through an anonymous temporary file).
pub fn list_with_facts(
    capture: &Path,
    options: &SplitOptions,
    progress: Arc<AtomicU64>,
) -> Result<(Listing, Vec<SessionFacts>), SplitError> {
    use std::io::Seek;
    let scratch = Path::new("(temporary facts file)");
    let mut tmp = tempfile::tempfile().map_err(out_err(scratch, "cannot create"))?;
    let writer = tmp.try_clone().map_err(out_err(scratch, "cannot create"))?;
    let mut sink = FactsSink::new(NullSink, Box::new(io::BufWriter::new(writer)));
    let listing = list_into(capture, options, Digests::Compute, progress, &mut sink)?;
    sink.finish().map_err(out_err(scratch, "cannot write"))?;
    tmp.rewind().map_err(out_err(scratch, "cannot read"))?;
    Ok((listing, parse_facts(tmp, scratch)?))
}

/// One pass into a sink that cannot fail. When `digests` asks for them, the capture's
/// digests are computed on other threads from the same read of the file as the pass (see
/// [`CaptureReader::open_hashing`]); otherwise the reader reads the file itself.
fn list_into<S: splitter::Sink<Error = std::convert::Infallible>>(
    capture: &Path,
    options: &SplitOptions,
    digests: Digests,
    progress: Arc<AtomicU64>,
    sink: &mut S,
) -> Result<Listing, SplitError> {
    let (mut reader, pending) = match digests {
        Digests::Compute => {
            let (reader, pending) =
                CaptureReader::open_hashing(capture, &options.limits, progress, None)?;
            (reader, Some(pending))
        }
        Digests::Skip => (
            CaptureReader::open_with_progress(capture, &options.limits, progress)?,
            None,
        ),
    };
    // Every session stays in memory here: there is no output directory to spill into.
    let result = match splitter::split(&mut reader, options, sink) {
        Ok(r) => r,
        Err(SplitFailure::Sink(never)) => match never {},
        Err(SplitFailure::Spill(e)) => return Err(e.into()),
    };
    let hashes = match pending {
        Some(pending) => reader.finish_hashes(pending).map_err(hash_err(capture))?,
        None => FileHashes {
            md5: String::new(),
            sha1: String::new(),
            sha256: String::new(),
        },
    };
    let head = index::build_head(&facts(capture, &reader, hashes, options), &result)?;
    Ok(Listing {
        head,
        sessions: result.sessions,
        interfaces: reader.interfaces().to_vec(),
        extension: Encoder::extension(reader.format()),
    })
}

fn facts<'a>(
    capture: &'a Path,
    reader: &'a CaptureReader,
    hashes: FileHashes,
    options: &SplitOptions,
) -> CaptureFacts<'a> {
    CaptureFacts {
        path: capture,
        size: reader.file_size(),
        hashes,
        format: reader.format(),
        compressed: reader.compressed(),
        interfaces: reader.interfaces(),
        udp_idle_timeout_ns: options.udp_idle_timeout_ns,
    }
}

fn failure(e: SplitFailure<SinkError>) -> SplitError {
    match e {
        SplitFailure::Sink(e) => sink_err(e),
        SplitFailure::Spill(e) => SplitError::Spill(e),
    }
}

fn sink_err(e: SinkError) -> SplitError {
    SplitError::Output {
        path: e.path,
        what: "cannot write session file",
        source: e.source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::Limits;

    fn files_of(dir: &Path) -> Vec<(String, Vec<u8>)> {
        let mut files: Vec<(String, Vec<u8>)> = fs::read_dir(dir)
            .expect("output directory")
            .map(|e| {
                let e = e.expect("directory entry");
                let name = e.file_name().to_string_lossy().into_owned();
                (name, fs::read(e.path()).expect("session file"))
            })
            .collect();
        files.sort();
        files
    }

    /// A write budget of one byte flushes every buffer after every packet, so every file is
    /// created once and then appended to, record by record, its encoder parked in between
    /// (pcapng: sections and interfaces) and its digest taken from disk at the end. The
    /// files and the index must come out byte for byte as with the default budget.
    #[test]
    fn a_tiny_write_budget_gives_the_same_files_and_index() {
        for capture in [
            "wireshark__many_interfaces.pcapng.1",
            "pcapng-test-generator__le-test202.pcapng",
            "zeek__wikipedia.pcap",
            "wireshark__dns+icmp.pcapng.gz",
        ] {
            let input = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/data")
                .join(capture);
            let mut outputs = Vec::new();
            for budget in [Limits::default().write_buffer_bytes, 1] {
                let out = tempfile::tempdir().expect("temporary directory");
                let options = SplitOptions {
                    limits: Limits {
                        write_buffer_bytes: budget,
                        ..Limits::default()
                    },
                    ..SplitOptions::default()
                };
                let done = split_to_directory(&input, out.path(), &options, Arc::default())
                    .expect("split");
                outputs.push(files_of(&done.dir));
            }
            assert!(outputs[0].len() > 2, "{capture}: no session files");
            assert_eq!(outputs[0], outputs[1], "{capture}");
        }
    }

    #[test]
    fn a_full_file_system_is_told_to_free_space() {
        let full = SplitError::Output {
            path: PathBuf::from("out/facts.jsonl"),
            what: "cannot write facts",
            source: io::Error::from_raw_os_error(28),
        };
        assert_eq!(full.hint(), NO_SPACE_HINT);
        let denied = SplitError::Output {
            path: PathBuf::from("out"),
            what: "cannot create output directory",
            source: io::Error::from(io::ErrorKind::PermissionDenied),
        };
        assert_eq!(denied.hint(), "choose a writable output directory with -o");
    }

    fn corpus() -> Vec<PathBuf> {
        let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
        let mut captures: Vec<PathBuf> = fs::read_dir(&data)
            .expect("tests/data")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file() && !p.extension().is_some_and(|e| e == "tsv" || e == "md"))
            .collect();
        captures.sort();
        captures
    }

    /// The index's entries are written without serde (`push_entry_json`); each must be the
    /// bytes serde_json writes for the same session's `SessionEntry`, with and without a
    /// file digest, for every session of the corpus.
    #[test]
    fn entries_are_written_as_serde_writes_them() {
        let mut sessions = 0;
        for input in corpus() {
            let Ok(listing) = list_sessions(
                &input,
                &SplitOptions::default(),
                Digests::Skip,
                Arc::default(),
            ) else {
                continue;
            };
            listing
                .sessions
                .try_for_each(|s| -> Result<(), SpillError> {
                    let digest = [s.number as u8 ^ 0x5a; 32];
                    for hash in [None, Some(&digest)] {
                        let mut fast = Vec::new();
                        index::push_entry_json(
                            &mut fast,
                            s,
                            &listing.interfaces,
                            listing.extension,
                            hash,
                        );
                        let entry = index::session_entry(
                            s,
                            &listing.interfaces,
                            listing.extension,
                            hash.map(hex::encode),
                        );
                        let serde = serde_json::to_vec(&entry).expect("serialises");
                        assert_eq!(
                            String::from_utf8_lossy(&fast),
                            String::from_utf8_lossy(&serde),
                            "{} session {}",
                            input.display(),
                            s.number
                        );
                    }
                    sessions += 1;
                    Ok(())
                })
                .expect("in memory");
        }
        assert!(sessions > 900, "only {sessions} sessions compared");
    }

    /// A whole `index.json`, written with the head through serde and the entries streamed
    /// into it, is the document serde_json lays out for the same index: parsed back and
    /// written again through `to_writer_lines`, it comes out byte for byte (the empty
    /// capture's empty session list included).
    #[test]
    fn the_index_is_the_document_serde_lays_out() {
        let mut compared = 0;
        for input in corpus() {
            let out = tempfile::tempdir().expect("temporary directory");
            let Ok(done) =
                split_to_directory(&input, out.path(), &SplitOptions::default(), Arc::default())
            else {
                continue;
            };
            let written = fs::read(done.dir.join(INDEX_FILE)).expect("index");
            let index = read_index(&done.dir).expect("parses");
            let mut again = Vec::new();
            index::to_writer_lines(
                &mut again,
                &index::IndexOut::new(&index.head, &index.sessions),
            )
            .expect("serialises");
            again.push(b'\n');
            assert_eq!(
                String::from_utf8_lossy(&written),
                String::from_utf8_lossy(&again),
                "{}",
                input.display()
            );
            compared += 1;
        }
        assert!(compared >= 30, "only {compared} captures compared");
    }

    /// With two session records in memory (chunks of one), nearly every packet reads its
    /// session back from the spill file and writes another out. Every capture of the test
    /// corpus must still give the same files and the same index, and no spill file may be
    /// left in the output directory.
    #[test]
    fn spilling_session_records_changes_nothing() {
        let captures = corpus();
        let mut compared = 0;
        for input in &captures {
            let mut outputs = Vec::new();
            for resident_sessions in [Limits::default().resident_sessions, 2] {
                let out = tempfile::tempdir().expect("temporary directory");
                let options = SplitOptions {
                    limits: Limits {
                        resident_sessions,
                        ..Limits::default()
                    },
                    ..SplitOptions::default()
                };
                match split_to_directory(input, out.path(), &options, Arc::default()) {
                    Ok(done) => outputs.push(Some(files_of(&done.dir))),
                    Err(_) => outputs.push(None),
                }
            }
            assert_eq!(outputs[0], outputs[1], "{}", input.display());
            if outputs[0].as_ref().is_some_and(|f| f.len() > 4) {
                compared += 1;
            }
        }
        assert!(
            compared >= 20,
            "only {compared} captures with sessions compared"
        );
    }
}
