//! Sessions: the flow key, the session table, the single-pass split, the files and the index.
//!
//! The contract is `shared/design/sessions.md`: every packet lands in exactly one session,
//! byte for byte; TCP and UDP sessions reproduce tshark's `tcp.stream`/`udp.stream`; IP
//! fragments follow their datagram. Nothing here knows about HTTP, XML or the terminal.

#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

pub mod community_id;
pub mod index;
pub mod key;
pub mod output;
pub mod pool;
pub mod sink;
pub mod spill;
pub mod splitter;
pub mod table;
pub mod threaded_file;
