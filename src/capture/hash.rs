//! The capture's evidence hashes: MD5, SHA-1 and SHA-256 of the file's bytes as stored
//! (compressed bytes for a gzip file, as `capinfos` and `sha256sum` compute them).

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

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

const CHUNK: usize = 1 << 20;

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

/// MD5 and SHA-1 of a file, computed in one read; the SHA-256 is given (already known).
pub fn legacy_hashes(path: &Path, sha256: String) -> io::Result<FileHashes> {
    let (md5, sha1, _) = digests(path, false)?;
    Ok(FileHashes { md5, sha1, sha256 })
}

/// All three digests in one read of the file (when no SHA-256 is needed beforehand).
pub fn all_hashes(path: &Path) -> io::Result<FileHashes> {
    let (md5, sha1, sha256) = digests(path, true)?;
    Ok(FileHashes {
        md5,
        sha1,
        sha256: sha256.unwrap_or_default(),
    })
}

/// Chunks queued for the second hashing thread: enough to ride out scheduling jitter.
const CHUNKS_IN_FLIGHT: usize = 4;

/// MD5, SHA-1 and optionally SHA-256 of a file, read once. MD5 has no hardware support and
/// is the slowest of the three, so it runs on this thread while the SHA family (hardware
/// accelerated where the CPU has it) runs on a second one over the same chunks: the digests
/// take as long as MD5 alone rather than as long as all three. The chunk buffers go round
/// between the two threads, so the whole file is read through the same few megabytes.
fn digests(path: &Path, with_sha256: bool) -> io::Result<(String, String, Option<String>)> {
    use std::sync::mpsc::sync_channel;
    let (chunks, received) = sync_channel::<Vec<u8>>(CHUNKS_IN_FLIGHT);
    let (give_back, spare) = sync_channel::<Vec<u8>>(CHUNKS_IN_FLIGHT + 2);
    let shas = std::thread::Builder::new()
        .name("sha-digests".into())
        .spawn(move || {
            let mut sha1 = Sha1::new();
            let mut sha256 = with_sha256.then(Sha256::new);
            for chunk in received {
                sha1.update(&chunk);
                if let Some(h) = sha256.as_mut() {
                    h.update(&chunk);
                }
                // The reader may have stopped; then the buffer is freed.
                let _ = give_back.try_send(chunk);
            }
            (
                hex::encode(sha1.finalize()),
                sha256.map(|h| hex::encode(h.finalize())),
            )
        })?;
    let mut md5 = Md5::new();
    let mut file = File::open(path)?;
    loop {
        let mut buf = spare.try_recv().unwrap_or_default();
        buf.resize(CHUNK, 0);
        let n = read_some(&mut file, &mut buf)?;
        if n == 0 {
            break;
        }
        buf.truncate(n);
        md5.update(&buf);
        if chunks.send(buf).is_err() {
            break;
        }
    }
    drop(chunks);
    let (sha1, sha256) = shas
        .join()
        .map_err(|_| io::Error::other("the SHA hashing thread stopped"))?;
    Ok((hex::encode(md5.finalize()), sha1, sha256))
}

/// SHA-256 of bytes.
pub fn sha256_bytes(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

fn read_some(f: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match f.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}
