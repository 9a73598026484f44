//! Every cap packetpivot enforces, in one place, each with its unit and the reason for its value.
//!
//! Limits are passed around as a value (`Limits`), never read from globals, so tests can
//! shrink them to exercise the paths that hit them.

/// The caps that bound memory, file descriptors and work on hostile input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest packet record or pcapng block accepted, in bytes. Wireshark's own ceiling for
    /// the largest link types (D-Bus, USB) is 128 MiB and 256 KiB for everything else; a
    /// length field above this is treated as damage, never allocated.
    pub max_record_bytes: usize,
    /// Bytes of not-yet-written session data held in memory before the quietest buffers are
    /// flushed to disk. Bounds memory by open sessions rather than by capture size. The
    /// process holds about twice this (allocator overhead, batches on their way to the
    /// writer): at 48 MiB split a peaked at 229 MiB and split b at 253, too near the
    /// 256 MiB target; at 32 MiB, 191 and 231, for 8 % more appends and no slower a split.
    pub write_buffer_bytes: usize,
    /// Session records held in memory during a split (about 300 bytes each); the rest wait
    /// in a spill file beside the output. A UDP flow can get packets until the capture ends
    /// (as in tshark), so every record is kept until the index is written: without this, a
    /// million short sessions would hold 300 MB. 131,072 keeps captures of up to that many
    /// sessions (and any capture's recent ones) entirely in memory, at about 40 MB.
    pub resident_sessions: usize,
    /// Bytes of rendered answers the server keeps for requests repeated on a finished
    /// capture (an analyst running the same transform again). A 10,000-session answer is
    /// about 38 MB; 64 MiB keeps one of those, or hundreds of ordinary ones.
    pub answer_cache_bytes: usize,
    /// Session files kept open at once between flushes. Well under the default
    /// `ulimit -n` of 1024, leaving room for the process's other descriptors.
    pub max_open_files: usize,
    /// Packet records held back while an IP datagram's fragments are incomplete (so that
    /// later packets keep their input order). Past this the oldest datagram is declared
    /// incomplete and its fragments get their own session, as tshark would leave them.
    pub max_held_records: usize,
    /// Bytes of packet data held back for the same reason.
    pub max_held_bytes: usize,
    /// Capture time, in nanoseconds, after which an incomplete datagram is abandoned
    /// (Linux's `ipfrag_time` is 30 s; a reassembler that waits longer only holds memory).
    pub fragment_timeout_ns: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_record_bytes: 128 * 1024 * 1024,
            write_buffer_bytes: 32 * 1024 * 1024,
            resident_sessions: 131_072,
            answer_cache_bytes: 64 * 1024 * 1024,
            max_open_files: 256,
            max_held_records: 65_536,
            max_held_bytes: 32 * 1024 * 1024,
            fragment_timeout_ns: 30_000_000_000,
        }
    }
}
