//! Collecting facts during the split: the first bytes of each direction of a session,
//! parsed once the session has shown what it carries.
//!
//! [`FactsSink`] wraps another [`Sink`]: for a session still being inspected it decodes the
//! record again (only the first [`FACT_PACKETS`] packets of a session are looked at, so the
//! cost stays small), appends TCP payload in sequence order to a small per-direction buffer
//! (dropped as soon as its first bytes rule out every fact, see [`could_carry_facts`]) and
//! parses UDP datagrams (DNS) one by one. A session is concluded (its buffers parsed,
//! its facts written as one JSON line, its memory freed) when it has been inspected enough,
//! or when it is the quietest of more than [`MAX_INSPECTING`] sessions under inspection, so
//! memory is bounded by those caps and not by the number of sessions. Total buffered bytes
//! are capped too; past that cap new sessions are not inspected and the count is reported.

use serde::{Deserialize, Serialize};

use super::dns::{parse_dns, parse_dns_tcp, DnsMessage};
use super::http::{self, parse_http_stream, HttpMessage, HttpRequest, HttpResponse};
use super::reference::service_name;
use super::tls::{self, parse_handshakes, TlsFacts};
use crate::capture::decode::{self, Layer, Transport};
use crate::capture::{Interface, Record, Section};
use crate::session::key::FlowKey;
use crate::session::splitter::Sink;
use crate::session::table::{Assignment, Session};
use std::io::Write as _;

/// Packets of a session inspected for facts (both directions together).
pub const FACT_PACKETS: u32 = 24;
/// Bytes kept per direction of a TCP session: a ClientHello, a certificate chain or HTTP
/// headers fit; bulk data is never buffered.
pub const FACT_STREAM_BYTES: usize = 64 * 1024;
/// DNS messages kept per session.
pub const FACT_DNS_MESSAGES: usize = 32;
/// UDP ports whose datagrams are parsed as DNS: DNS, mDNS and LLMNR, as tshark decodes them.
pub const DNS_PORTS: [u16; 3] = [53, 5353, 5355];
/// All fact buffers together.
pub const FACT_BUFFER_BUDGET: usize = 64 * 1024 * 1024;
/// Sessions under inspection at once; the quietest is concluded past this.
pub const MAX_INSPECTING: usize = 16_384;

/// What one session revealed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionFacts {
    /// Session number.
    pub session: u64,
    /// DNS messages (queries and answers).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dns: Vec<DnsMessage>,
    /// HTTP requests seen from the client.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub http_requests: Vec<HttpRequest>,
    /// HTTP responses seen from the server.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub http_responses: Vec<HttpResponse>,
    /// TLS handshake from the client (ClientHello).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_client: Option<TlsFacts>,
    /// TLS handshake from the server (ServerHello, certificates).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_server: Option<TlsFacts>,
    /// The service: from the payload where recognisable, else the IANA name of the port.
    pub service: Option<String>,
    /// `payload` or `port`.
    pub service_source: Option<String>,
}

/// Bytes of a direction that decide whether it can carry a fact (see [`could_carry_facts`]):
/// enough for `HTTP/1.`, the longest method and its space, or a TLS record header.
const SNIFF_BYTES: usize = 16;

#[derive(Default)]
struct Stream {
    next_seq: Option<u32>,
    bytes: Vec<u8>,
    /// Nothing in this direction can become a fact: nothing more is kept.
    ignored: bool,
    /// The first [`SNIFF_BYTES`] have been seen and could start a fact: kept to the end.
    sniffed: bool,
}

impl Stream {
    /// Appends an in-order segment; out-of-order and retransmitted data is ignored (the
    /// handshakes these facts come from are at the start of the stream).
    fn push(&mut self, seq: u32, syn: bool, data: &[u8]) -> usize {
        let start = if syn { seq.wrapping_add(1) } else { seq };
        let expected = *self.next_seq.get_or_insert(start);
        if self.ignored
            || data.is_empty()
            || start != expected
            || self.bytes.len() >= FACT_STREAM_BYTES
        {
            return 0;
        }
        let room = FACT_STREAM_BYTES - self.bytes.len();
        let take = data.get(..data.len().min(room)).unwrap_or_default();
        self.bytes.extend_from_slice(take);
        self.next_seq = Some(start.wrapping_add(data.len() as u32));
        take.len()
    }

    /// Stops keeping this direction when its first bytes rule out every fact; returns the
    /// bytes freed. Checked until the first [`SNIFF_BYTES`] have been seen, so it costs
    /// nothing later.
    fn sniff(&mut self, dns_port: bool) -> usize {
        if self.ignored || self.sniffed || dns_port {
            return 0;
        }
        let prefix = self.bytes.get(..SNIFF_BYTES).unwrap_or(&self.bytes);
        if could_carry_facts(prefix) {
            self.sniffed = prefix.len() == SNIFF_BYTES;
            return 0;
        }
        self.ignored = true;
        std::mem::take(&mut self.bytes).len()
    }
}

/// Whether one direction of a TCP stream that starts with `prefix` could give any of the
/// facts [`analyse`] looks for: an HTTP message, a TLS handshake or an SSH banner. Each is
/// parsed only from the start of the direction's bytes, so a prefix that starts none of them
/// settles it, and the direction's later bytes need not be kept. (DNS over TCP is parsed by
/// port, not by its bytes: the caller keeps those directions.) Most of a capture's bytes are
/// in streams that are none of these (encrypted bulk after the handshake is in the same
/// streams as the handshake; this is about the others: SSH's own data, SMB, databases, the
/// benchmark's random payload): on split a this took the CPU to 0.97x and peak RSS from 204
/// to 184 MiB (keeping no stream at all would have been 0.935x).
fn could_carry_facts(prefix: &[u8]) -> bool {
    super::agrees(prefix, b"SSH-")
        || tls::may_start_handshakes(prefix)
        || http::may_start_stream(prefix)
}

#[derive(Default)]
struct Inspecting {
    /// What the analysis needs of the session: its number, transport and ports.
    number: u64,
    tcp: bool,
    udp: bool,
    client_port: Option<u16>,
    server_port: Option<u16>,
    /// Global packet counter at this session's last packet (for the quiet-first queue).
    last: u64,
    packets: u32,
    to_server: Stream,
    to_client: Stream,
    dns: Vec<DnsMessage>,
}

enum Slot {
    Inspecting(Box<Inspecting>),
    Done,
}

/// Wraps a sink and collects facts on the way; see the module documentation.
pub struct FactsSink<S> {
    inner: S,
    slots: Vec<Slot>,
    out: Box<dyn std::io::Write>,
    write_error: Option<std::io::Error>,
    buffered: usize,
    inspecting: usize,
    /// (session, packet counter) in order of activity; stale entries are skipped.
    queue: std::collections::VecDeque<(usize, u64)>,
    counter: u64,
    /// Sessions whose facts were written.
    pub written: u64,
    /// Sessions not inspected because the buffer budget was reached.
    pub skipped_sessions: u64,
}

impl<S: Sink> FactsSink<S> {
    /// Wraps `inner`; each session's facts go to `out` as one JSON line.
    pub fn new(inner: S, out: Box<dyn std::io::Write>) -> FactsSink<S> {
        FactsSink {
            inner,
            slots: Vec::new(),
            out,
            write_error: None,
            buffered: 0,
            inspecting: 0,
            queue: std::collections::VecDeque::new(),
            counter: 0,
            written: 0,
            skipped_sessions: 0,
        }
    }

    /// Concludes every session still under inspection and returns the inner sink, or the
    /// first error met writing the facts.
    pub fn finish(mut self) -> Result<S, std::io::Error> {
        for i in 0..self.slots.len() {
            self.conclude(i);
        }
        if let Some(e) = self.write_error.take() {
            return Err(e);
        }
        self.out.flush()?;
        Ok(self.inner)
    }

    fn conclude(&mut self, idx: usize) {
        let Some(slot) = self.slots.get_mut(idx) else {
            return;
        };
        let Slot::Inspecting(ins) = std::mem::replace(slot, Slot::Done) else {
            return;
        };
        self.inspecting = self.inspecting.saturating_sub(1);
        self.buffered = self
            .buffered
            .saturating_sub(ins.to_server.bytes.len() + ins.to_client.bytes.len());
        let f = analyse(*ins);
        if (f.service.is_some() || !f.dns.is_empty()) && self.write_error.is_none() {
            let r = serde_json::to_writer(&mut self.out, &f)
                .map_err(std::io::Error::from)
                .and_then(|()| self.out.write_all(b"\n"));
            match r {
                Ok(()) => self.written += 1,
                Err(e) => self.write_error = Some(e),
            }
        }
    }

    /// Concludes the quietest sessions while too many are under inspection, and drops
    /// stale queue entries so the queue stays proportional to the cap.
    fn evict(&mut self) {
        while self.inspecting > MAX_INSPECTING || self.queue.len() > 4 * MAX_INSPECTING + 1024 {
            let Some((idx, stamp)) = self.queue.pop_front() else {
                return;
            };
            let live =
                matches!(self.slots.get(idx), Some(Slot::Inspecting(ins)) if ins.last == stamp);
            if live {
                self.conclude(idx);
            }
        }
    }
}

fn analyse(ins: Inspecting) -> SessionFacts {
    let mut f = SessionFacts {
        session: ins.number,
        dns: ins.dns,
        ..SessionFacts::default()
    };
    if ins.tcp {
        for (bytes, from_client) in [(&ins.to_server.bytes, true), (&ins.to_client.bytes, false)] {
            if bytes.is_empty() {
                continue;
            }
            for message in parse_http_stream(bytes) {
                match message {
                    HttpMessage::Request(r) if from_client => f.http_requests.push(r),
                    HttpMessage::Response(r) if !from_client => f.http_responses.push(r),
                    _ => {}
                }
            }
            let tls = parse_handshakes(bytes);
            if tls.client_hello.is_some()
                || tls.server_hello.is_some()
                || !tls.certificates.is_empty()
            {
                if from_client {
                    f.tls_client = Some(tls);
                } else {
                    f.tls_server = Some(tls);
                }
            }
            if f.dns.is_empty() && (ins.server_port == Some(53) || ins.client_port == Some(53)) {
                if let Some(m) = parse_dns_tcp(bytes) {
                    f.dns.push(m);
                }
            }
        }
    }
    let payload_service = if f.tls_client.is_some() || f.tls_server.is_some() {
        Some("tls")
    } else if !f.http_requests.is_empty() || !f.http_responses.is_empty() {
        Some("http")
    } else if !f.dns.is_empty() {
        Some("dns")
    } else if ins.to_server.bytes.starts_with(b"SSH-") || ins.to_client.bytes.starts_with(b"SSH-") {
        Some("ssh")
    } else {
        None
    };
    let transport = if ins.tcp {
        "tcp"
    } else if ins.udp {
        "udp"
    } else {
        ""
    };
    if let Some(s) = payload_service {
        f.service = Some(s.to_string());
        f.service_source = Some("payload".into());
    } else if let Some(port) = ins.server_port {
        if let Some(name) = service_name(port, transport) {
            f.service = Some(name.to_string());
            f.service_source = Some("port".into());
        }
    }
    f
}

impl<S: Sink> Sink for FactsSink<S> {
    type Error = S::Error;

    fn packet(
        &mut self,
        assignment: Assignment,
        session: &Session,
        record: &Record<'_>,
        interfaces: &[Interface],
        sections: &[Section],
    ) -> Result<(), S::Error> {
        self.inner
            .packet(assignment, session, record, interfaces, sections)?;
        let idx = assignment.session;
        if assignment.new || idx >= self.slots.len() {
            let ip = matches!(session.key, FlowKey::Tcp(..) | FlowKey::Udp(..));
            let slot = if ip && self.buffered < FACT_BUFFER_BUDGET {
                self.inspecting += 1;
                Slot::Inspecting(Box::new(Inspecting {
                    number: session.number,
                    tcp: matches!(session.key, FlowKey::Tcp(..)),
                    udp: matches!(session.key, FlowKey::Udp(..)),
                    client_port: session.client.port,
                    server_port: session.server.port,
                    ..Inspecting::default()
                }))
            } else {
                if ip {
                    self.skipped_sessions += 1;
                }
                Slot::Done
            };
            self.slots.push(slot);
        }
        self.counter += 1;
        let counter = self.counter;
        let Some(Slot::Inspecting(ins)) = self.slots.get_mut(idx) else {
            return Ok(());
        };
        ins.packets += 1;
        ins.last = counter;
        self.queue.push_back((idx, counter));
        let link = interfaces
            .get(record.interface as usize)
            .map(|i| i.link_type)
            .unwrap_or(crate::capture::LinkType(u16::MAX));
        let d = decode::decode(link, record.data);
        if let Layer::Ip(ip) = &d.layer {
            match ip.transport {
                Transport::Tcp(t) => {
                    let stream = if assignment.to_server {
                        &mut ins.to_server
                    } else {
                        &mut ins.to_client
                    };
                    let syn = t.flags & decode::TcpHeader::SYN != 0;
                    self.buffered += stream.push(t.seq, syn, ip.payload);
                    let dns_port = ins.server_port == Some(53) || ins.client_port == Some(53);
                    self.buffered = self.buffered.saturating_sub(stream.sniff(dns_port));
                }
                Transport::Udp { src_port, dst_port }
                    if ins.dns.len() < FACT_DNS_MESSAGES
                        && (DNS_PORTS.contains(&src_port) || DNS_PORTS.contains(&dst_port)) =>
                {
                    if let Some(m) = parse_dns(ip.payload) {
                        ins.dns.push(m);
                    }
                }
                _ => {}
            }
        }
        if ins.packets >= FACT_PACKETS {
            self.conclude(idx);
        }
        self.evict();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream_of(segments: &[&[u8]], dns_port: bool) -> (Stream, usize) {
        let mut s = Stream::default();
        let mut buffered = 0usize;
        let mut seq = 1000u32;
        for seg in segments {
            buffered += s.push(seq, false, seg);
            buffered = buffered.saturating_sub(s.sniff(dns_port));
            seq = seq.wrapping_add(seg.len() as u32);
        }
        (s, buffered)
    }

    #[test]
    fn a_direction_that_starts_no_fact_is_not_kept() {
        let (s, buffered) = stream_of(&[b"\x00\x01\x02\x03 random bulk", b"more bulk"], false);
        assert!(s.ignored && s.bytes.is_empty());
        assert_eq!(buffered, 0);
    }

    #[test]
    fn a_direction_that_may_start_a_fact_is_kept_whole() {
        for first in [
            &b"GET / HTTP/1.1\r\n"[..],
            b"\x16\x03\x01\x00\x05",
            b"SSH-2.0-x\r\n",
        ] {
            let rest = b"\x00\x00 and the rest";
            let (s, buffered) = stream_of(&[first, rest], false);
            assert!(!s.ignored, "{first:?}");
            assert_eq!(s.bytes.len(), buffered);
            assert_eq!(buffered, first.len() + rest.len());
        }
    }

    #[test]
    fn short_first_segments_are_judged_once_enough_bytes_are_in() {
        // "G", "E", "T" could start a request; "GEX" cannot.
        let (s, _) = stream_of(&[b"G", b"E", b"X", b" / HTTP/1.1"], false);
        assert!(s.ignored);
        let (s, _) = stream_of(&[b"G", b"E", b"T", b" / HTTP/1.1\r\n"], false);
        assert!(!s.ignored && s.sniffed);
    }

    #[test]
    fn dns_over_tcp_is_kept_whatever_its_bytes() {
        let (s, buffered) = stream_of(&[b"\x00\x1d\x12\x34\x01\x00"], true);
        assert!(!s.ignored);
        assert_eq!(buffered, 6);
    }
}
