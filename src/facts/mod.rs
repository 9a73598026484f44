//! Application facts an analyst pivots on, parsed from the first packets of a session:
//! DNS, HTTP, TLS, and the reference data (IEEE OUI, IANA service names) that name them.
//!
//! Every parser here is pure and bounded: it takes bytes, returns what it could read or
//! `None`, never allocates more than its named caps and never panics on hostile input. A
//! fact that cannot be parsed is skipped, not guessed.

pub mod collect;
pub mod dns;
pub mod http;
pub mod pivots;
pub mod reference;
pub mod tls;

/// Whether `a` and `b` agree as far as both go (one is a prefix of the other): whether bytes
/// that start with `a` could still start with `b`. The prefix checks that let the collector
/// drop a stream early are made of it.
pub(crate) fn agrees(a: &[u8], b: &[u8]) -> bool {
    a.iter().zip(b).all(|(x, y)| x == y)
}
