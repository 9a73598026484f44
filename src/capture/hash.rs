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

/// SHA-256 of a file.
pub fn sha256_file(path: &Path) -> io::Result<String> {
    let mut h = Sha256::new();
    for_each_chunk(path, |c| h.update(c))?;
    Ok(hex::encode(h.finalize()))
}

/// MD5 and SHA-1 of a file, computed in one read; the SHA-256 is given (already known).
pub fn legacy_hashes(path: &Path, sha256: String) -> io::Result<FileHashes> {
    let mut md5 = Md5::new();
    let mut sha1 = Sha1::new();
    for_each_chunk(path, |c| {
        md5.update(c);
        sha1.update(c);
    })?;
    Ok(FileHashes {
        md5: hex::encode(md5.finalize()),
        sha1: hex::encode(sha1.finalize()),
        sha256,
    })
}

/// All three digests in one read of the file (when no SHA-256 is needed beforehand).
pub fn all_hashes(path: &Path) -> io::Result<FileHashes> {
    let mut md5 = Md5::new();
    let mut sha1 = Sha1::new();
    let mut sha256 = Sha256::new();
    for_each_chunk(path, |c| {
        md5.update(c);
        sha1.update(c);
        sha256.update(c);
    })?;
    Ok(FileHashes {
        md5: hex::encode(md5.finalize()),
        sha1: hex::encode(sha1.finalize()),
        sha256: hex::encode(sha256.finalize()),
    })
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
