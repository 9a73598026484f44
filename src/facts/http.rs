//! HTTP/1.x: the start line and the few headers an analyst pivots on, read from the first
//! bytes of a TCP payload (RFC 9112).
//!
//! [`parse_http`] is pure and bounded: it looks at no more than [`MAX_HEAD_LEN`] bytes and
//! [`MAX_HEADER_LINES`] header lines, and it keeps only the start line and the `Host`,
//! `User-Agent`, `Server` and `Content-Type` headers.
//!
//! Content decides, not the port. A request must start with a method from [`METHODS`]
//! (the RFC 9110 methods, PATCH and the WebDAV family; methods are case-sensitive) and end
//! its request line in `HTTP/1.<digit>`; a response must start `HTTP/1.<digit> <3 digits>`.
//! Anything else, HTTP/0.9 (a request line without a version) and HTTP/2's `PRI` preface
//! included, is not HTTP/1.x and gives `None`.
//!
//! Only complete lines count: a start line that is not terminated within the cap gives
//! `None`, and a header line cut off by the end of the segment is ignored rather than kept
//! half-read. Lines may end in CRLF or a bare LF (RFC 9112 2.2); header names match
//! case-insensitively, values are trimmed of spaces and tabs, an obsolete folded line
//! (starting with a space or tab) continues the header before it, and the first occurrence
//! of a repeated header wins (tshark's first `http.host`). Bytes that are not UTF-8 are
//! converted lossily (U+FFFD).

use super::agrees;
use serde::{Deserialize, Serialize};

/// Bytes of a payload examined for the start line and headers. Servers refuse heads much
/// smaller than this (Apache's `LimitRequestFieldSize` is 8190 per line, nginx's
/// `large_client_header_buffers` 4 x 8 KiB), so a real message's interesting headers sit in
/// the first 16 KiB; anything after them is not read.
pub const MAX_HEAD_LEN: usize = 16 * 1024;

/// Header lines examined after the start line: Apache's `LimitRequestFields` default.
/// Together with [`MAX_HEAD_LEN`] this bounds the work on a flood of tiny lines.
pub const MAX_HEADER_LINES: usize = 100;

/// Request methods recognised: RFC 9110 9.3, PATCH (RFC 5789), and WebDAV with its
/// extensions (RFC 4918, 3253 DeltaV, 3648 ordering, 3744 ACL, 4791 CalDAV, 5323 SEARCH,
/// 5842 bindings, 4437 redirect references), as the IANA method registry lists them.
pub const METHODS: &[&str] = &[
    "GET",
    "HEAD",
    "POST",
    "PUT",
    "DELETE",
    "CONNECT",
    "OPTIONS",
    "TRACE",
    "PATCH",
    "PROPFIND",
    "PROPPATCH",
    "MKCOL",
    "COPY",
    "MOVE",
    "LOCK",
    "UNLOCK",
    "VERSION-CONTROL",
    "REPORT",
    "CHECKOUT",
    "CHECKIN",
    "UNCHECKOUT",
    "MKWORKSPACE",
    "UPDATE",
    "LABEL",
    "MERGE",
    "BASELINE-CONTROL",
    "MKACTIVITY",
    "ORDERPATCH",
    "ACL",
    "MKCALENDAR",
    "SEARCH",
    "BIND",
    "UNBIND",
    "REBIND",
    "MKREDIRECTREF",
    "UPDATEREDIRECTREF",
];

/// The start of an HTTP/1.x request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpRequest {
    /// The method, one of [`METHODS`].
    pub method: String,
    /// The request target as sent (origin form `/path?q`, absolute form for proxies,
    /// authority form for CONNECT, `*` for OPTIONS), as tshark's `http.request.uri`.
    pub uri: String,
    /// `HTTP/1.0`, `HTTP/1.1` (any `HTTP/1.<digit>`).
    pub version: String,
    /// The first `Host` header, trimmed (a port, if sent, is kept).
    pub host: Option<String>,
    /// The first `User-Agent` header, trimmed.
    pub user_agent: Option<String>,
}

/// The start of an HTTP/1.x response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpResponse {
    /// `HTTP/1.0`, `HTTP/1.1` (any `HTTP/1.<digit>`).
    pub version: String,
    /// The 3-digit status code.
    pub status: u16,
    /// The reason phrase, trimmed; empty when the server sent none.
    pub reason: String,
    /// The first `Server` header, trimmed.
    pub server: Option<String>,
    /// The first `Content-Type` header, trimmed (parameters such as `charset` kept).
    pub content_type: Option<String>,
}

/// An HTTP/1.x message start: a request or a response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum HttpMessage {
    /// A request.
    Request(HttpRequest),
    /// A response.
    Response(HttpResponse),
}

/// Parses the start of an HTTP/1.x message from the first bytes of a TCP payload.
///
/// Returns `None` when the payload does not start with an HTTP/1.x request or status line
/// terminated within [`MAX_HEAD_LEN`] bytes (empty lines before it are skipped, as RFC 9112
/// 2.2 allows). Headers are read up to the empty line that ends them, the end of the
/// payload, [`MAX_HEAD_LEN`] or [`MAX_HEADER_LINES`], whichever comes first.
#[deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
pub fn parse_http(payload: &[u8]) -> Option<HttpMessage> {
    let head = payload.get(..MAX_HEAD_LEN).unwrap_or(payload);
    let mut lines = Lines(head);
    let start = lines.by_ref().find(|l| !l.is_empty())?;
    let mut message = match status_line(start) {
        Some(r) => HttpMessage::Response(r),
        None => HttpMessage::Request(request_line(start)?),
    };
    // Which kept header the previous line set, for obs-fold continuations.
    let mut last: Option<Field> = None;
    for line in lines.take(MAX_HEADER_LINES) {
        if line.is_empty() {
            break;
        }
        if let Some(rest) = line.strip_prefix(b" ").or_else(|| line.strip_prefix(b"\t")) {
            if let Some(slot) = last.and_then(|f| f.slot(&mut message)) {
                let more = text(trim(rest));
                if let Some(v) = slot {
                    if !more.is_empty() {
                        if !v.is_empty() {
                            v.push(' ');
                        }
                        v.push_str(&more);
                    }
                }
            }
            continue;
        }
        last = None;
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (Some(name), Some(value)) = (line.get(..colon), line.get(colon + 1..)) else {
            continue;
        };
        if name.is_empty() || !name.iter().all(|&b| is_tchar(b)) {
            continue;
        }
        let Some(field) = Field::named(name) else {
            continue;
        };
        if let Some(slot) = field.slot(&mut message) {
            if slot.is_none() {
                *slot = Some(text(trim(value)));
                last = Some(field);
            }
        }
    }
    Some(message)
}

/// Messages read from one direction of a connection: a keep-alive or pipelining client's
/// first requests (a browser sends a handful per connection before the first packets run
/// out). Further messages are not read.
pub const MAX_MESSAGES: usize = 16;

/// Parses the HTTP/1.x messages one direction of a TCP connection starts with (the payload
/// in sequence order), one after the other, at most [`MAX_MESSAGES`].
///
/// Each message is read as [`parse_http`] reads it; the next one starts after its head and
/// its body (RFC 9112 6.3: `Content-Length`, or a chunked `Transfer-Encoding` walked chunk by
/// chunk; a request with neither has no body, and neither has a 1xx, 204 or 304 response).
/// Reading stops at the first bytes that do not start a message, at a head not complete in
/// the buffer, and after a message whose end cannot be known from the bytes alone: a
/// response delimited by the connection's close, or a body not complete in the buffer. (An
/// answer to a HEAD request declares a length it does not send; skipping it lands inside
/// the next message, whose bytes then do not start one, so reading stops there too.)
#[deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
pub fn parse_http_stream(stream: &[u8]) -> Vec<HttpMessage> {
    let mut messages = Vec::new();
    let mut rest = stream;
    while messages.len() < MAX_MESSAGES {
        let Some(message) = parse_http(rest) else {
            break;
        };
        let end = head_len(rest).and_then(|head| {
            let body = body_len(rest.get(..head)?, &message, rest.get(head..)?)?;
            head.checked_add(body)
        });
        messages.push(message);
        match end.and_then(|end| rest.get(end..)) {
            Some(next) if !next.is_empty() => rest = next,
            _ => break,
        }
    }
    messages
}

/// Whether a stream that starts with `prefix` could still give [`parse_http_stream`] a
/// message. Its first message must be at the start (after empty lines): a status line
/// (`HTTP/1.`) or a request line (a method of [`METHODS`] and a space). `false` is certain,
/// whatever bytes follow; `true` may still come to nothing. The facts collector stops
/// buffering a direction once no parser can use it.
pub fn may_start_stream(prefix: &[u8]) -> bool {
    // Any run of CR and LF: more than the empty lines `parse_http` skips, never less.
    let Some(start) = prefix.iter().position(|&b| b != b'\r' && b != b'\n') else {
        return true;
    };
    let line = prefix.get(start..).unwrap_or_default();
    agrees(line, b"HTTP/1.")
        || METHODS
            .iter()
            .any(|m| agrees(line, m.as_bytes()) && line.get(m.len()).is_none_or(|&b| b == b' '))
}

/// The length of the message head at the start of `buf`: empty lines before the start line,
/// the start line and the header lines, through the empty line that ends them. `None` when
/// that empty line is not within [`MAX_HEAD_LEN`] bytes.
fn head_len(buf: &[u8]) -> Option<usize> {
    let head = buf.get(..MAX_HEAD_LEN).unwrap_or(buf);
    let mut offset = 0usize;
    let mut started = false;
    let mut rest = head;
    loop {
        let lf = rest.iter().position(|&b| b == b'\n')?;
        let line = rest.get(..lf)?;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        offset = offset.checked_add(lf + 1)?;
        rest = rest.get(lf + 1..)?;
        if !line.is_empty() {
            started = true;
        } else if started {
            return Some(offset);
        }
    }
}

/// The length of the body after a message head, or `None` when the bytes do not tell it
/// (see [`parse_http_stream`]).
fn body_len(head: &[u8], message: &HttpMessage, after: &[u8]) -> Option<usize> {
    if let HttpMessage::Response(r) = message {
        if (100..200).contains(&r.status) || r.status == 204 || r.status == 304 {
            return Some(0);
        }
    }
    let mut content_length = None;
    let mut transfer_encoding = None;
    for line in Lines(head).skip_while(|l| l.is_empty()).skip(1) {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (Some(name), Some(value)) = (line.get(..colon), line.get(colon + 1..)) else {
            continue;
        };
        if name.eq_ignore_ascii_case(b"content-length") && content_length.is_none() {
            content_length = Some(trim(value));
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            transfer_encoding = Some(trim(value));
        }
    }
    if let Some(codings) = transfer_encoding {
        // Chunked must be the final coding (RFC 9112 6.1); anything else is read to close.
        let last = codings.rsplit(|&b| b == b',').next().map(trim)?;
        return last
            .eq_ignore_ascii_case(b"chunked")
            .then(|| chunked_len(after))
            .flatten();
    }
    match content_length {
        Some(v) if !v.is_empty() && v.iter().all(u8::is_ascii_digit) => {
            std::str::from_utf8(v).ok()?.parse().ok()
        }
        Some(_) => None,
        None if matches!(message, HttpMessage::Request(_)) => Some(0),
        None => None,
    }
}

/// The length of a chunked body at the start of `buf` (chunks, the last chunk and the
/// trailer section), or `None` when it does not end within `buf` or is malformed.
fn chunked_len(buf: &[u8]) -> Option<usize> {
    let mut offset = 0usize;
    loop {
        let rest = buf.get(offset..)?;
        let lf = rest.iter().position(|&b| b == b'\n')?;
        let line = rest.get(..lf)?;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let size = line.split(|&b| b == b';').next().map(trim)?;
        if size.is_empty() || size.len() > 8 || !size.iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        let size = usize::from_str_radix(std::str::from_utf8(size).ok()?, 16).ok()?;
        offset = offset.checked_add(lf + 1)?;
        if size == 0 {
            // Trailer lines, then the empty line that ends the message.
            loop {
                let rest = buf.get(offset..)?;
                let lf = rest.iter().position(|&b| b == b'\n')?;
                let line = rest.get(..lf)?;
                offset = offset.checked_add(lf + 1)?;
                if line.strip_suffix(b"\r").unwrap_or(line).is_empty() {
                    return Some(offset);
                }
            }
        }
        offset = offset.checked_add(size)?;
        let crlf = buf.get(offset..)?;
        offset = offset.checked_add(if crlf.starts_with(b"\r\n") {
            2
        } else if crlf.starts_with(b"\n") {
            1
        } else {
            return None;
        })?;
    }
}

/// The headers kept.
#[derive(Clone, Copy)]
enum Field {
    Host,
    UserAgent,
    Server,
    ContentType,
}

impl Field {
    fn named(name: &[u8]) -> Option<Field> {
        [
            (&b"host"[..], Field::Host),
            (b"user-agent", Field::UserAgent),
            (b"server", Field::Server),
            (b"content-type", Field::ContentType),
        ]
        .into_iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, f)| f)
    }

    /// Where this header is kept in `m`, if `m` keeps it (a request has no `Server`).
    fn slot(self, m: &mut HttpMessage) -> Option<&mut Option<String>> {
        match (self, m) {
            (Field::Host, HttpMessage::Request(r)) => Some(&mut r.host),
            (Field::UserAgent, HttpMessage::Request(r)) => Some(&mut r.user_agent),
            (Field::Server, HttpMessage::Response(r)) => Some(&mut r.server),
            (Field::ContentType, HttpMessage::Response(r)) => Some(&mut r.content_type),
            _ => None,
        }
    }
}

/// The complete lines of a buffer, without their CRLF or LF; an unterminated tail is not a
/// line.
struct Lines<'a>(&'a [u8]);

impl<'a> Iterator for Lines<'a> {
    type Item = &'a [u8];

    #[deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )]
    fn next(&mut self) -> Option<&'a [u8]> {
        let lf = self.0.iter().position(|&b| b == b'\n')?;
        let line = self.0.get(..lf)?;
        self.0 = self.0.get(lf + 1..).unwrap_or_default();
        Some(line.strip_suffix(b"\r").unwrap_or(line))
    }
}

/// `HTTP/1.<digit>`, returned as text.
fn version(b: &[u8]) -> Option<String> {
    match b {
        [b'H', b'T', b'T', b'P', b'/', b'1', b'.', d] if d.is_ascii_digit() => Some(text(b)),
        _ => None,
    }
}

/// `HTTP/1.x SP 3DIGIT [SP reason]`.
#[deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
fn status_line(line: &[u8]) -> Option<HttpResponse> {
    let version = version(line.get(..8)?)?;
    let rest = line.get(8..)?.strip_prefix(b" ")?;
    let (code, reason) = rest.split_at_checked(3)?;
    if !code.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let status = code.iter().fold(0u16, |n, &d| n * 10 + u16::from(d - b'0'));
    let reason = match reason {
        [] => &[][..],
        [b' ', r @ ..] => r,
        _ => return None,
    };
    Some(HttpResponse {
        version,
        status,
        reason: text(trim(reason)),
        server: None,
        content_type: None,
    })
}

/// `method SP request-target SP HTTP/1.x`.
#[deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
fn request_line(line: &[u8]) -> Option<HttpRequest> {
    let sp = line.iter().position(|&b| b == b' ')?;
    let method = std::str::from_utf8(line.get(..sp)?).ok()?;
    if !METHODS.contains(&method) {
        return None;
    }
    let rest = line.get(sp + 1..)?;
    let last = rest.iter().rposition(|&b| b == b' ')?;
    let version = version(rest.get(last + 1..)?)?;
    let uri = trim(rest.get(..last)?);
    if uri.is_empty() || uri.iter().any(|&b| b < 0x20 || b == 0x7f) {
        return None;
    }
    Some(HttpRequest {
        method: method.to_owned(),
        uri: text(uri),
        version,
        host: None,
        user_agent: None,
    })
}

/// A header-name character (RFC 9110 5.6.2 `tchar`).
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// `b` without leading and trailing spaces and tabs.
fn trim(b: &[u8]) -> &[u8] {
    let is_ws = |c: &u8| *c == b' ' || *c == b'\t';
    let start = b.iter().position(|c| !is_ws(c)).unwrap_or(b.len());
    let end = b.iter().rposition(|c| !is_ws(c)).map_or(start, |i| i + 1);
    b.get(start..end).unwrap_or_default()
}

/// Bytes as text, invalid UTF-8 replaced by U+FFFD.
fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::decode::{decode, Layer, Transport};
    use crate::capture::reader::CaptureReader;
    use proptest::prelude::*;
    use std::collections::BTreeSet;
    use std::path::Path;

    fn req(m: Option<HttpMessage>) -> HttpRequest {
        match m {
            Some(HttpMessage::Request(r)) => r,
            other => panic!("not a request: {other:?}"),
        }
    }

    fn resp(m: Option<HttpMessage>) -> HttpResponse {
        match m {
            Some(HttpMessage::Response(r)) => r,
            other => panic!("not a response: {other:?}"),
        }
    }

    fn dash(v: &Option<String>) -> &str {
        v.as_deref().unwrap_or("-")
    }

    /// Compares every row of an expected-values file (tests/data/facts/generate.py) with
    /// what the parser reads from the same payload; returns the frames that are HTTP/1.x.
    fn compare_with_tshark(tsv: &str) -> BTreeSet<u64> {
        let mut frames = BTreeSet::new();
        for line in tsv.lines().filter(|l| !l.starts_with('#')) {
            let c: Vec<&str> = line.split('\t').collect();
            let payload = hex::decode(c[2]).expect("hex");
            let got = parse_http(&payload);
            let frame = c[0];
            match c[1] {
                "req" if c[5] == "-" => {
                    assert_eq!(got, None, "frame {frame}: HTTP/0.9 is not HTTP/1.x");
                    continue;
                }
                "req" => {
                    let r = req(got);
                    let row = [
                        r.method.as_str(),
                        &r.uri,
                        &r.version,
                        dash(&r.host),
                        dash(&r.user_agent),
                    ];
                    assert_eq!(row, c[3..], "frame {frame}");
                }
                "resp" => {
                    let r = resp(got);
                    let status = r.status.to_string();
                    let row = [
                        r.version.as_str(),
                        &status,
                        &r.reason,
                        dash(&r.server),
                        dash(&r.content_type),
                    ];
                    assert_eq!(row, c[3..], "frame {frame}");
                }
                other => panic!("row kind {other}"),
            }
            frames.insert(frame.parse().expect("frame"));
        }
        frames
    }

    /// The 1-based frames of a capture whose TCP payload `parse_http` accepts.
    fn http_frames_of(capture: &str) -> BTreeSet<u64> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data")
            .join(capture);
        let mut reader = CaptureReader::open(&path, &Default::default()).expect("open");
        let mut frames = BTreeSet::new();
        while let Some((rec, interfaces, _)) = reader.next_with_context() {
            let iface = usize::try_from(rec.interface).expect("index");
            let link = interfaces[iface].link_type;
            let Layer::Ip(ip) = decode(link, rec.data).layer else {
                continue;
            };
            if matches!(ip.transport, Transport::Tcp(_)) && parse_http(ip.payload).is_some() {
                frames.insert(rec.index + 1);
            }
        }
        frames
    }

    #[test]
    fn parses_every_http_start_of_wikipedia_like_tshark() {
        let expected =
            compare_with_tshark(include_str!("../../tests/data/facts/http_wikipedia.tsv"));
        assert_eq!(expected.len(), 30);
        // And no other TCP payload of the capture (bodies, continuations) is taken for one.
        assert_eq!(http_frames_of("zeek__wikipedia.pcap"), expected);
    }

    #[test]
    fn parses_nflog_http_like_tshark() {
        let tsv = include_str!("../../tests/data/facts/http_nflog-http.tsv");
        let expected = compare_with_tshark(tsv);
        assert_eq!(expected.len(), 2);
        assert_eq!(http_frames_of("zeek__nflog-http.pcap"), expected);
    }

    #[test]
    fn rejects_http_0_9_requests_of_ipv6_atomic_frag() {
        // tshark calls "GET /bad.html\r\n" a request; it has no version, so it is not 1.x.
        let tsv = include_str!("../../tests/data/facts/http_ipv6-http-atomic-frag.tsv");
        assert!(compare_with_tshark(tsv).is_empty());
        assert!(http_frames_of("zeek__ipv6-http-atomic-frag.pcap").is_empty());
    }

    #[test]
    fn parses_a_request_from_real_bytes() {
        // zeek__nflog-http.pcap frame 6, the whole TCP payload.
        let payload = b"GET / HTTP/1.1\r\n\
            Host: www.example.net\r\n\
            User-Agent: curl/7.50.1\r\n\
            Accept: */*\r\n\
            \r\n";
        assert_eq!(
            req(parse_http(payload)),
            HttpRequest {
                method: "GET".into(),
                uri: "/".into(),
                version: "HTTP/1.1".into(),
                host: Some("www.example.net".into()),
                user_agent: Some("curl/7.50.1".into()),
            }
        );
    }

    #[test]
    fn parses_headers_case_insensitively_trimmed_first_wins() {
        let r = req(parse_http(
            b"PROPFIND /dav/ HTTP/1.1\r\nhOsT: \t a.example:8080 \t\r\nHOST: b\r\n\
              user-agent:x\r\n\r\nHost: after the head\r\n",
        ));
        assert_eq!(r.method, "PROPFIND");
        assert_eq!(r.host.as_deref(), Some("a.example:8080"));
        assert_eq!(r.user_agent.as_deref(), Some("x"));
    }

    #[test]
    fn parses_responses_with_and_without_reason() {
        let r = resp(parse_http(
            b"HTTP/1.1 404 Not  Found \r\nServer: nginx/1.2\r\nContent-Type: text/plain\r\n",
        ));
        assert_eq!((r.status, r.reason.as_str()), (404, "Not  Found"));
        assert_eq!(r.server.as_deref(), Some("nginx/1.2"));
        assert_eq!(r.content_type.as_deref(), Some("text/plain"));
        let r = resp(parse_http(b"HTTP/1.0 200\n\n"));
        assert_eq!(
            (r.version.as_str(), r.status, r.reason.as_str()),
            ("HTTP/1.0", 200, "")
        );
        assert_eq!(r.server, None);
    }

    #[test]
    fn parses_bare_lf_folded_and_lossy_headers() {
        let r = req(parse_http(
            b"\r\nGET /a%20b?q=\xff HTTP/1.0\nUser-Agent: one\n  two\nHost: h\xc3\xa9\xfe\n\n",
        ));
        assert_eq!(r.uri, "/a%20b?q=\u{fffd}");
        assert_eq!(r.user_agent.as_deref(), Some("one two"));
        assert_eq!(r.host.as_deref(), Some("h\u{e9}\u{fffd}"));
    }

    #[test]
    fn parses_only_complete_lines_within_the_caps() {
        // A header cut off by the end of the segment is not kept half-read.
        let r = req(parse_http(b"GET / HTTP/1.1\r\nHost: exa"));
        assert_eq!(r.host, None);
        // Headers past MAX_HEAD_LEN are not read.
        let mut big = b"GET / HTTP/1.1\r\nX-Pad: ".to_vec();
        big.resize(MAX_HEAD_LEN, b'p');
        big.extend_from_slice(b"\r\nHost: late\r\n\r\n");
        assert_eq!(req(parse_http(&big)).host, None);
        // Nor past MAX_HEADER_LINES.
        let mut many = b"GET / HTTP/1.1\r\n".to_vec();
        for _ in 0..MAX_HEADER_LINES {
            many.extend_from_slice(b"X: y\r\n");
        }
        many.extend_from_slice(b"Host: late\r\n\r\n");
        assert_eq!(req(parse_http(&many)).host, None);
        many.drain(16..22);
        assert_eq!(req(parse_http(&many)).host.as_deref(), Some("late"));
    }

    #[test]
    fn rejects_what_is_not_http_1() {
        for bad in [
            &b""[..],
            b"GET / HTTP/1.1",                   // start line not terminated
            b"GET /bad.html\r\n",                // HTTP/0.9
            b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", // HTTP/2 preface
            b"get / HTTP/1.1\r\n",               // methods are case-sensitive
            b"FETCH / HTTP/1.1\r\n",             // not a known method
            b"GET / HTTP/2\r\n",
            b"GET  HTTP/1.1\r\n",      // no target
            b"GET /\x01 HTTP/1.1\r\n", // control byte in the target
            b"HTTP/1.1 20 OK\r\n",
            b"HTTP/1.1 2000 OK\r\n",
            b"HTTP/1.1 abc OK\r\n",
            b"HTTP/2 200\r\n",
            b"SSH-2.0-OpenSSH_8.9\r\n",
            b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\n",
        ] {
            assert_eq!(parse_http(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
        let mut long = b"GET /".to_vec();
        long.resize(MAX_HEAD_LEN, b'a');
        long.extend_from_slice(b" HTTP/1.1\r\n");
        assert_eq!(parse_http(&long), None, "start line longer than the cap");
    }

    #[test]
    fn parses_messages_that_round_trip_through_serde() {
        let m = parse_http(b"HTTP/1.1 200 OK\r\nServer: x\r\n\r\n").expect("http");
        let back: HttpMessage =
            serde_json::from_str(&serde_json::to_string(&m).expect("json")).expect("back");
        assert_eq!(back, m);
    }

    fn uris(messages: &[HttpMessage]) -> Vec<String> {
        messages
            .iter()
            .map(|m| match m {
                HttpMessage::Request(r) => r.uri.clone(),
                HttpMessage::Response(r) => r.status.to_string(),
            })
            .collect()
    }

    #[test]
    fn parses_keep_alive_and_pipelined_requests_one_after_the_other() {
        let stream = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n\
POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello\
PUT /c HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3;x=1\r\nabc\r\n0\r\nT: 1\r\n\r\n\
GET /d HTTP/1.1\r\nHost: y\r\n\r\n";
        assert_eq!(uris(&parse_http_stream(stream)), ["/a", "/b", "/c", "/d"]);
        // The last request's host is its own.
        let last = parse_http_stream(stream).pop().map(|m| req(Some(m)));
        assert_eq!(last.and_then(|r| r.host).as_deref(), Some("y"));
    }

    #[test]
    fn parses_responses_until_one_cannot_be_framed() {
        let stream = b"HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n\
HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok\
HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n\
HTTP/1.0 200 OK\r\n\r\nread until close HTTP/1.1 200 OK\r\n\r\n";
        assert_eq!(
            uris(&parse_http_stream(stream)),
            ["304", "200", "200", "200"]
        );
        // A body not complete in the buffer, or bytes that are no message, end the reading.
        let cut = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort";
        assert_eq!(parse_http_stream(cut).len(), 1);
        let junk = b"GET / HTTP/1.1\r\n\r\n\x16\x03\x01 not http";
        assert_eq!(parse_http_stream(junk).len(), 1);
        let bad_chunk = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n";
        assert_eq!(parse_http_stream(bad_chunk).len(), 1);
        assert!(parse_http_stream(b"").is_empty());
    }

    #[test]
    fn parses_at_most_max_messages_of_a_flood() {
        let stream = b"GET / HTTP/1.1\r\n\r\n".repeat(MAX_MESSAGES * 4);
        assert_eq!(parse_http_stream(&stream).len(), MAX_MESSAGES);
    }

    #[test]
    fn may_start_stream_rules_out_only_what_cannot_start_a_message() {
        for start in [
            &b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"[..],
            b"\r\n\nHTTP/1.0 200 OK\r\n",
            b"MKCOL /x HTTP/1.0\n",
            b"HTTP/1.1 404\r\n",
        ] {
            for cut in 0..=start.len() {
                assert!(may_start_stream(&start[..cut]), "{:?}", &start[..cut]);
            }
        }
        for not_http in [
            &b"\x16\x03\x01\x02\x00"[..],
            b"SSH-2.0-OpenSSH_9.6",
            b"GETX / HTTP/1.1",
            b"GET\t/ HTTP/1.1",
            b"get / HTTP/1.1",
            b"HTTP/2 200",
            b"\r\n\x00",
            b"\x00\x00\x00\x85\xffSMB",
        ] {
            assert!(!may_start_stream(not_http), "{not_http:?}");
        }
    }

    proptest! {
        #[test]
        fn rejects_nothing_by_panicking_on_arbitrary_bytes(
            data in proptest::collection::vec(any::<u8>(), 0..600)
        ) {
            let _ = parse_http(&data);
            let _ = parse_http_stream(&data);
        }

        #[test]
        fn rejects_nothing_by_panicking_in_a_stream_of_messages(
            parts in proptest::collection::vec(
                prop::sample::select(vec![
                    &b"GET / HTTP/1.1\r\n"[..], b"HTTP/1.1 200 OK\r\n", b"\r\n",
                    b"Content-Length: 3\r\n", b"Content-Length: 99999999999999999999\r\n",
                    b"Transfer-Encoding: chunked\r\n", b"ffffffff\r\n", b"0\r\n", b"abc",
                ]),
                0..40,
            )
        ) {
            let _ = parse_http_stream(&parts.concat());
        }

        #[test]
        fn a_stream_that_gives_a_message_is_never_ruled_out(
            lead in proptest::collection::vec(
                prop::sample::select(vec![b'\r', b'\n', b'G', b'H', b' ', b'x']),
                0..4,
            ),
            start in prop::sample::select(vec![
                &b"GET / HTTP/1.1\r\n\r\n"[..], b"HTTP/1.1 200 OK\r\n\r\n",
                b"OPTIONS * HTTP/1.0\n\n", b"HTTP/1.0 301\r\n\r\n", b"GET / HTTP/2\r\n\r\n",
            ]),
            rest in proptest::collection::vec(any::<u8>(), 0..40),
        ) {
            let mut b = lead;
            b.extend_from_slice(start);
            b.extend_from_slice(&rest);
            if !parse_http_stream(&b).is_empty() {
                for cut in 0..=b.len().min(24) {
                    prop_assert!(may_start_stream(&b[..cut]), "{:?}", &b[..cut]);
                }
            }
        }

        #[test]
        fn rejects_nothing_by_panicking_behind_a_valid_start_line(
            start in prop::sample::select(vec![
                &b"GET / HTTP/1.1\r\n"[..], b"HTTP/1.1 200 OK\r\n", b"MKCOL /x HTTP/1.0\n",
            ]),
            rest in proptest::collection::vec(
                prop::sample::select(vec![
                    b'\r', b'\n', b' ', b'\t', b':', b'H', b'o', b's', b't', 0xff, b'x',
                ]),
                0..300,
            )
        ) {
            let mut b = start.to_vec();
            b.extend_from_slice(&rest);
            prop_assert!(parse_http(&b).is_some());
        }
    }
}
