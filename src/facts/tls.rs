//! TLS handshake facts: ClientHello (SNI, ALPN, JA3, JA4), ServerHello (JA3S) and the
//! certificate chain of TLS 1.2 and older, read from the first bytes of one direction of a
//! TCP stream.
//!
//! [`parse_handshakes`] walks the TLS record layer, joins the payloads of handshake records
//! (a handshake message may be split across several records, and one record may hold
//! several messages) and reads the messages it knows. It stops at the first record that is
//! not TLS, at application data, at a `ChangeCipherSpec` that ends the plaintext (TLS 1.2
//! and older), and at a message longer than its cap. TLS 1.3 certificates are encrypted
//! and therefore never seen; SSLv2-compatible ClientHellos are not parsed.
//!
//! Fingerprints follow their specifications: JA3 and JA3S as salesforce/ja3 defines them
//! and tshark's `tls.handshake.ja3`/`ja3s` compute them (GREASE values removed, decimal,
//! `-`-separated, MD5), JA4 as FoxIO's `technical_details/JA4.md` defines it (the
//! transport is always `t`, TLS over TCP).
//!
//! Every read is bounds-checked; nothing here can panic on input bytes, and memory is
//! bounded by the caps below, not by the size of the input.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use x509_parser::extensions::GeneralName;
use x509_parser::x509::X509Name;

/// A ClientHello or ServerHello longer than this is not parsed. Real hellos are well under
/// 4 KiB (about 2 KiB with post-quantum key shares); 64 KiB leaves room for any legitimate
/// one while a hostile length field cannot make the parser buffer megabytes.
pub const MAX_HELLO_LEN: usize = 64 * 1024;

/// A Certificate message (the whole chain) longer than this is not parsed. Real chains are
/// 2-10 KiB; 256 KiB covers chains with large RSA keys and many intermediates.
pub const MAX_CERT_CHAIN_LEN: usize = 256 * 1024;

/// At most this many certificates are read from one chain (a leaf, intermediates and a root
/// rarely exceed 5); X.509 parsing is the most expensive step, so a chain of thousands of
/// tiny entries must not multiply it.
pub const MAX_CERTIFICATES: usize = 16;

/// A server name longer than this is dropped: DNS names are at most 253 characters, and
/// RFC 6066 host names are DNS names.
pub const MAX_SNI_LEN: usize = 255;

/// Other handshake messages (ServerKeyExchange, CertificateRequest, ...) longer than this end
/// the walk: they are skipped, but must be buffered to find the message after them.
const MAX_OTHER_MESSAGE_LEN: usize = 64 * 1024;

/// The largest record the record layer allows (RFC 5246 §6.2.3: 2^14 plus 2048 bytes of
/// expansion). A longer length field means the bytes are not TLS.
const MAX_RECORD_LEN: usize = (1 << 14) + 2048;

/// Record content types (RFC 8446 §5.1).
mod content {
    pub const CHANGE_CIPHER_SPEC: u8 = 20;
    pub const ALERT: u8 = 21;
    pub const HANDSHAKE: u8 = 22;
    pub const HEARTBEAT: u8 = 24;
}

/// Handshake message types (RFC 8446 §4).
mod msg {
    pub const CLIENT_HELLO: u8 = 1;
    pub const SERVER_HELLO: u8 = 2;
    pub const CERTIFICATE: u8 = 11;
}

/// Extension types (IANA "TLS ExtensionType Values").
mod ext {
    pub const SERVER_NAME: u16 = 0;
    pub const SUPPORTED_GROUPS: u16 = 10;
    pub const EC_POINT_FORMATS: u16 = 11;
    pub const SIGNATURE_ALGORITHMS: u16 = 13;
    pub const ALPN: u16 = 16;
    pub const SUPPORTED_VERSIONS: u16 = 43;
}

/// TLS 1.3's version number.
const TLS13: u16 = 0x0304;

/// The ServerHello random of a HelloRetryRequest: SHA-256 of "HelloRetryRequest"
/// (RFC 8446 §4.1.3).
const HELLO_RETRY_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// What the handshake of one direction of a TLS stream revealed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TlsFacts {
    /// The first ClientHello (a client's second one, after a HelloRetryRequest, is ignored).
    pub client_hello: Option<ClientHello>,
    /// The ServerHello; a HelloRetryRequest only when no real ServerHello follows it.
    pub server_hello: Option<ServerHello>,
    /// The certificates of the first Certificate message, leaf first (TLS 1.2 and older;
    /// entries that are not valid X.509 are left out).
    pub certificates: Vec<Certificate>,
}

/// A ClientHello. Lists hold the values in wire order, GREASE values included; the
/// fingerprints leave GREASE out, as their specifications require.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ClientHello {
    /// `legacy_version` (0x0303 for TLS 1.2 and 1.3 clients).
    pub legacy_version: u16,
    /// The host name of the server_name extension, when present, valid UTF-8 and at most
    /// [`MAX_SNI_LEN`] bytes.
    pub sni: Option<String>,
    /// The ALPN protocol names, in order (bytes that are not UTF-8 shown as U+FFFD).
    pub alpn: Vec<String>,
    /// Offered cipher suites.
    pub cipher_suites: Vec<u16>,
    /// Extension types, in order.
    pub extensions: Vec<u16>,
    /// The supported_groups (elliptic curves) extension.
    pub supported_groups: Vec<u16>,
    /// The ec_point_formats extension.
    pub ec_point_formats: Vec<u8>,
    /// The signature_algorithms extension.
    pub signature_algorithms: Vec<u16>,
    /// The supported_versions extension.
    pub supported_versions: Vec<u16>,
    /// The JA3 string: `SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats`.
    pub ja3: String,
    /// MD5 of [`ClientHello::ja3`], lower-case hex.
    pub ja3_hash: String,
    /// The JA4 fingerprint, e.g. `t13d1516h2_8daaf6152771_e5627efa2ab1`.
    pub ja4: String,
}

/// A ServerHello (or HelloRetryRequest).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ServerHello {
    /// `legacy_version` (0x0303 for TLS 1.2 and 1.3 servers).
    pub version: u16,
    /// The chosen cipher suite.
    pub cipher_suite: u16,
    /// Extension types, in order.
    pub extensions: Vec<u16>,
    /// The supported_versions extension: the negotiated version for TLS 1.3.
    pub selected_version: Option<u16>,
    /// The JA3S string: `SSLVersion,Cipher,SSLExtension`.
    pub ja3s: String,
    /// MD5 of [`ServerHello::ja3s`], lower-case hex.
    pub ja3s_hash: String,
}

/// One X.509 certificate of a chain.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Certificate {
    /// Subject, RDNs in certificate order, `C=US, O=Example, CN=example.com` (as OpenSSL's
    /// `-nameopt sep_comma_plus_space` prints it).
    pub subject: String,
    /// Issuer, in the same form.
    pub issuer: String,
    /// Serial number: the DER integer's bytes, lower-case hex.
    pub serial: String,
    /// Start of validity, RFC 3339 UTC (`2015-11-03T00:00:00Z`).
    pub not_before: String,
    /// End of validity, RFC 3339 UTC.
    pub not_after: String,
    /// Subject alternative names: DNS names, IP addresses, e-mail addresses and URIs.
    pub sans: Vec<String>,
    /// SHA-1 of the DER, lower-case hex.
    pub sha1: String,
    /// SHA-256 of the DER, lower-case hex.
    pub sha256: String,
}

/// Whether a stream that starts with `prefix` could still give [`parse_handshakes`] a
/// handshake message. Its first record must be at the start: a handshake, an alert or a
/// heartbeat record (a ChangeCipherSpec first ends the walk, application data too) of
/// major version 3. `false` is certain, whatever bytes follow; `true` may still come to
/// nothing.
pub fn may_start_handshakes(prefix: &[u8]) -> bool {
    match prefix {
        [] => true,
        [ctype, rest @ ..] => {
            matches!(
                *ctype,
                content::HANDSHAKE | content::ALERT | content::HEARTBEAT
            ) && rest.first().is_none_or(|&major| major == 3)
        }
    }
}

/// Feed the first bytes of one direction of a TCP stream (already in order; may hold
/// several TLS records and a handshake message split across records). Parses what it can:
/// anything that is not a complete, well-formed message is left out.
pub fn parse_handshakes(stream: &[u8]) -> TlsFacts {
    let mut facts = TlsFacts::default();
    let mut got_real_server_hello = false;
    let mut tls13 = false;
    walk_messages(stream, |kind, body| match kind {
        msg::CLIENT_HELLO => {
            if facts.client_hello.is_none() {
                facts.client_hello = parse_client_hello(body);
            }
            Step::Continue
        }
        msg::SERVER_HELLO => {
            if got_real_server_hello {
                return Step::Continue;
            }
            let Some((hello, retry)) = parse_server_hello(body) else {
                return Step::Continue;
            };
            if hello.selected_version.is_some_and(is_tls13) {
                tls13 = true;
            }
            facts.server_hello = Some(hello);
            got_real_server_hello = !retry;
            // After a TLS 1.3 hello a ChangeCipherSpec is only for middleboxes: a
            // ServerHello may still follow a HelloRetryRequest in plaintext.
            if tls13 {
                Step::ContinueThroughCcs
            } else {
                Step::Continue
            }
        }
        msg::CERTIFICATE => {
            if !tls13 {
                facts.certificates = parse_certificate_chain(body);
            }
            // Nothing of interest follows the first Certificate message.
            Step::Stop
        }
        _ => Step::Continue,
    });
    facts
}

/// What [`walk_messages`] does after a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// Read the next message.
    Continue,
    /// Read the next message, and treat a later ChangeCipherSpec as not ending the
    /// plaintext (TLS 1.3 middlebox compatibility).
    ContinueThroughCcs,
    /// Stop the walk.
    Stop,
}

/// The cap on a handshake message of type `kind`.
fn message_cap(kind: u8) -> usize {
    match kind {
        msg::CLIENT_HELLO | msg::SERVER_HELLO => MAX_HELLO_LEN,
        msg::CERTIFICATE => MAX_CERT_CHAIN_LEN,
        _ => MAX_OTHER_MESSAGE_LEN,
    }
}

/// Calls `visit(type, body)` for each complete plaintext handshake message of `stream`, in
/// order, reassembling messages split across records.
fn walk_messages(stream: &[u8], mut visit: impl FnMut(u8, &[u8]) -> Step) {
    // Handshake bytes not yet consumed: at most one partial message (bounded by its cap)
    // plus one record.
    let mut pending: Vec<u8> = Vec::new();
    let mut through_ccs = false;
    let mut at = 0usize;
    while let Some(header) = stream.get(at..at.saturating_add(5)) {
        let &[ctype, major, _minor, len_hi, len_lo] = header else {
            return;
        };
        let len = usize::from(u16::from_be_bytes([len_hi, len_lo]));
        if major != 3 || len > MAX_RECORD_LEN {
            return; // not TLS (SSLv2, another protocol, or garbage)
        }
        let start = at.saturating_add(5);
        let end = start.saturating_add(len);
        // A record cut short by the end of the input still contributes what it holds.
        let payload = stream.get(start..end.min(stream.len())).unwrap_or_default();
        match ctype {
            content::HANDSHAKE => {
                pending.extend_from_slice(payload);
                let mut used = 0usize;
                while let Some(&[kind, a, b, c]) = pending.get(used..used.saturating_add(4)) {
                    let body_len = usize::from(a) << 16 | usize::from(b) << 8 | usize::from(c);
                    if body_len > message_cap(kind) {
                        return;
                    }
                    let body_start = used.saturating_add(4);
                    let body_end = body_start.saturating_add(body_len);
                    let Some(body) = pending.get(body_start..body_end) else {
                        break; // the rest of this message is in a later record
                    };
                    match visit(kind, body) {
                        Step::Continue => {}
                        Step::ContinueThroughCcs => through_ccs = true,
                        Step::Stop => return,
                    }
                    used = body_end;
                }
                pending.drain(..used.min(pending.len()));
            }
            content::CHANGE_CIPHER_SPEC if !through_ccs => return,
            content::CHANGE_CIPHER_SPEC | content::ALERT | content::HEARTBEAT => {}
            // Application data (encrypted) or an unknown content type.
            _ => return,
        }
        if end > stream.len() {
            return;
        }
        at = end;
    }
}

/// A TLS 1.3 version number: the final one or a draft (0x7fNN).
fn is_tls13(version: u16) -> bool {
    version == TLS13 || version >> 8 == 0x7f
}

/// GREASE values (RFC 8701): 0x0a0a, 0x1a1a, ... 0xfafa.
fn is_grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && v >> 8 == v & 0xff
}

/// A bounds-checked reader over a byte slice.
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(rest: &'a [u8]) -> Self {
        Reader { rest }
    }

    fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, tail) = self.rest.split_at_checked(n)?;
        self.rest = tail;
        Some(head)
    }

    fn u8(&mut self) -> Option<u8> {
        let (&b, tail) = self.rest.split_first()?;
        self.rest = tail;
        Some(b)
    }

    fn u16(&mut self) -> Option<u16> {
        let (head, tail) = self.rest.split_first_chunk::<2>()?;
        self.rest = tail;
        Some(u16::from_be_bytes(*head))
    }

    fn u24(&mut self) -> Option<usize> {
        let (&[a, b, c], tail) = self.rest.split_first_chunk::<3>()?;
        self.rest = tail;
        Some(usize::from(a) << 16 | usize::from(b) << 8 | usize::from(c))
    }

    /// A vector with a one-byte length.
    fn vec8(&mut self) -> Option<&'a [u8]> {
        let n = self.u8()?;
        self.take(usize::from(n))
    }

    /// A vector with a two-byte length.
    fn vec16(&mut self) -> Option<&'a [u8]> {
        let n = self.u16()?;
        self.take(usize::from(n))
    }

    /// A vector with a three-byte length.
    fn vec24(&mut self) -> Option<&'a [u8]> {
        let n = self.u24()?;
        self.take(n)
    }
}

/// A list of big-endian u16 values; `None` when its length is odd.
fn u16_list(b: &[u8]) -> Option<Vec<u16>> {
    let pairs = b.chunks_exact(2);
    pairs.remainder().is_empty().then(|| {
        pairs
            .map(|p| p.iter().fold(0u16, |acc, &x| acc << 8 | u16::from(x)))
            .collect()
    })
}

/// A u16 list inside a two-byte-length vector that must fill `data`.
fn u16_vec16(data: &[u8]) -> Vec<u16> {
    let mut r = Reader::new(data);
    r.vec16()
        .filter(|_| r.is_empty())
        .and_then(u16_list)
        .unwrap_or_default()
}

/// Splits an extensions block into (type, data) pairs; `None` when an extension overruns it.
fn extensions(block: &[u8]) -> Option<Vec<(u16, &[u8])>> {
    let mut r = Reader::new(block);
    let mut out = Vec::new();
    while !r.is_empty() {
        let kind = r.u16()?;
        let data = r.vec16()?;
        out.push((kind, data));
    }
    Some(out)
}

/// Reads a ClientHello body (RFC 8446 §4.1.2; RFC 5246 §7.4.1.2).
fn parse_client_hello(body: &[u8]) -> Option<ClientHello> {
    client_hello_and_raw_ja4(body).map(|(hello, _)| hello)
}

/// A ClientHello and its raw JA4 (`JA4_r`, the fingerprint before hashing).
fn client_hello_and_raw_ja4(body: &[u8]) -> Option<(ClientHello, String)> {
    let mut r = Reader::new(body);
    let legacy_version = r.u16()?;
    r.take(32)?; // random
    r.vec8()?; // legacy_session_id
    let cipher_suites = u16_list(r.vec16()?)?;
    r.vec8()?; // legacy_compression_methods
               // Hellos before TLS 1.2 may end here, without an extensions block.
    let exts = if r.is_empty() {
        Vec::new()
    } else {
        extensions(r.vec16()?)?
    };

    let mut hello = ClientHello {
        legacy_version,
        cipher_suites,
        extensions: exts.iter().map(|&(kind, _)| kind).collect(),
        ..ClientHello::default()
    };
    let mut first_alpn: Option<&[u8]> = None;
    let mut seen: Vec<u16> = Vec::new();
    for &(kind, data) in &exts {
        // A repeated extension is illegal; the first one counts.
        if seen.contains(&kind) {
            continue;
        }
        seen.push(kind);
        match kind {
            ext::SERVER_NAME => hello.sni = server_name(data),
            ext::ALPN => {
                let names = alpn_names(data);
                first_alpn = names.first().copied();
                hello.alpn = names
                    .iter()
                    .map(|n| String::from_utf8_lossy(n).into_owned())
                    .collect();
            }
            ext::SUPPORTED_GROUPS => hello.supported_groups = u16_vec16(data),
            ext::EC_POINT_FORMATS => {
                let mut r = Reader::new(data);
                if let Some(formats) = r.vec8().filter(|_| r.is_empty()) {
                    hello.ec_point_formats = formats.to_vec();
                }
            }
            ext::SIGNATURE_ALGORITHMS => hello.signature_algorithms = u16_vec16(data),
            ext::SUPPORTED_VERSIONS => {
                let mut r = Reader::new(data);
                hello.supported_versions = r
                    .vec8()
                    .filter(|_| r.is_empty())
                    .and_then(u16_list)
                    .unwrap_or_default();
            }
            _ => {}
        }
    }
    hello.ja3 = ja3_string(&hello);
    hello.ja3_hash = hex::encode(Md5::digest(hello.ja3.as_bytes()));
    let (ja4, raw) = ja4(&hello, first_alpn);
    hello.ja4 = ja4;
    Some((hello, raw))
}

/// The host name of a server_name extension (RFC 6066 §3).
fn server_name(data: &[u8]) -> Option<String> {
    let mut outer = Reader::new(data);
    let mut list = Reader::new(outer.vec16()?);
    while !list.is_empty() {
        let name_type = list.u8()?;
        let name = list.vec16()?;
        if name_type == 0 {
            if name.is_empty() || name.len() > MAX_SNI_LEN {
                return None;
            }
            return String::from_utf8(name.to_vec()).ok();
        }
    }
    None
}

/// The protocol names of an ALPN extension (RFC 7301 §3.1); empty when malformed.
fn alpn_names(data: &[u8]) -> Vec<&[u8]> {
    let mut outer = Reader::new(data);
    let Some(list) = outer.vec16() else {
        return Vec::new();
    };
    let mut r = Reader::new(list);
    let mut names = Vec::new();
    while !r.is_empty() {
        match r.vec8() {
            Some(name) => names.push(name),
            None => return Vec::new(),
        }
    }
    names
}

/// Decimal values joined by `-`, GREASE left out.
fn ja3_list<T: Copy + Into<u16>>(values: &[T]) -> String {
    let mut s = String::new();
    for v in values.iter().map(|&v| v.into()).filter(|&v| !is_grease(v)) {
        if !s.is_empty() {
            s.push('-');
        }
        let _ = write!(s, "{v}");
    }
    s
}

/// `SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats`.
fn ja3_string(h: &ClientHello) -> String {
    format!(
        "{},{},{},{},{}",
        h.legacy_version,
        ja3_list(&h.cipher_suites),
        ja3_list(&h.extensions),
        ja3_list(&h.supported_groups),
        ja3_list(&h.ec_point_formats),
    )
}

/// Four-digit lower-case hex values joined by `,`.
fn hex_list(values: &[u16]) -> String {
    let mut s = String::new();
    for v in values {
        if !s.is_empty() {
            s.push(',');
        }
        let _ = write!(s, "{v:04x}");
    }
    s
}

/// The first 12 hex digits of SHA-256, or `000000000000` for an empty list (JA4.md).
fn hash12(s: &str) -> String {
    if s.is_empty() {
        return "000000000000".to_owned();
    }
    let mut h = hex::encode(Sha256::digest(s.as_bytes()));
    h.truncate(12);
    h
}

/// The two-character JA4 version code.
fn ja4_version(v: u16) -> &'static str {
    match v {
        0x0304 => "13",
        0x0303 => "12",
        0x0302 => "11",
        0x0301 => "10",
        0x0300 => "s3",
        0x0002 => "s2",
        0xfeff => "d1",
        0xfefd => "d2",
        0xfefc => "d3",
        _ => "00",
    }
}

/// The JA4 ALPN characters: the first and last characters of the first ALPN value when
/// both are ASCII alphanumeric, else the first and last digits of its hex; `00` when there
/// is none or it is empty.
fn ja4_alpn(first: Option<&[u8]>) -> String {
    let Some(value) = first else {
        return "00".to_owned();
    };
    let (Some(&a), Some(&z)) = (value.first(), value.last()) else {
        return "00".to_owned();
    };
    if a.is_ascii_alphanumeric() && z.is_ascii_alphanumeric() {
        return [char::from(a), char::from(z)].iter().collect();
    }
    let digits = hex::encode(value);
    let mut chars = digits.chars();
    match (chars.next(), chars.next_back()) {
        (Some(f), Some(l)) => [f, l].iter().collect(),
        _ => "00".to_owned(),
    }
}

/// JA4 and its raw (`JA4_r`) form, per FoxIO's `technical_details/JA4.md`.
fn ja4(h: &ClientHello, first_alpn: Option<&[u8]>) -> (String, String) {
    let version = if h.extensions.contains(&ext::SUPPORTED_VERSIONS) {
        h.supported_versions
            .iter()
            .copied()
            .filter(|&v| !is_grease(v))
            .max()
    } else {
        None
    }
    .unwrap_or(h.legacy_version);
    let sni = if h.extensions.contains(&ext::SERVER_NAME) {
        'd'
    } else {
        'i'
    };
    let mut ciphers: Vec<u16> = h
        .cipher_suites
        .iter()
        .copied()
        .filter(|&v| !is_grease(v))
        .collect();
    let exts: Vec<u16> = h
        .extensions
        .iter()
        .copied()
        .filter(|&v| !is_grease(v))
        .collect();
    let a = format!(
        "t{}{sni}{:02}{:02}{}",
        ja4_version(version),
        ciphers.len().min(99),
        exts.len().min(99),
        ja4_alpn(first_alpn),
    );
    ciphers.sort_unstable();
    let mut sorted_exts: Vec<u16> = exts
        .into_iter()
        .filter(|&v| v != ext::SERVER_NAME && v != ext::ALPN)
        .collect();
    sorted_exts.sort_unstable();
    let sigs: Vec<u16> = h
        .signature_algorithms
        .iter()
        .copied()
        .filter(|&v| !is_grease(v))
        .collect();
    let b = hex_list(&ciphers);
    let mut c = hex_list(&sorted_exts);
    if !sigs.is_empty() {
        c.push('_');
        c.push_str(&hex_list(&sigs));
    }
    let hashed = format!("{a}_{}_{}", hash12(&b), hash12(&c));
    let raw = format!("{a}_{b}_{c}");
    (hashed, raw)
}

/// Reads a ServerHello body; the flag is set for a HelloRetryRequest.
fn parse_server_hello(body: &[u8]) -> Option<(ServerHello, bool)> {
    let mut r = Reader::new(body);
    let version = r.u16()?;
    let random = r.take(32)?;
    r.vec8()?; // legacy_session_id_echo
    let cipher_suite = r.u16()?;
    r.u8()?; // legacy_compression_method
    let exts = if r.is_empty() {
        Vec::new()
    } else {
        extensions(r.vec16()?)?
    };
    let selected_version = exts
        .iter()
        .find(|&&(kind, _)| kind == ext::SUPPORTED_VERSIONS)
        .and_then(|&(_, data)| <[u8; 2]>::try_from(data).ok())
        .map(u16::from_be_bytes);
    let extensions: Vec<u16> = exts.iter().map(|&(kind, _)| kind).collect();
    let ja3s = format!("{version},{cipher_suite},{}", ja3_list(&extensions));
    let ja3s_hash = hex::encode(Md5::digest(ja3s.as_bytes()));
    let hello = ServerHello {
        version,
        cipher_suite,
        extensions,
        selected_version,
        ja3s,
        ja3s_hash,
    };
    Some((hello, random == HELLO_RETRY_RANDOM))
}

/// Reads a TLS 1.2 Certificate body: a list of DER certificates (RFC 5246 §7.4.2).
fn parse_certificate_chain(body: &[u8]) -> Vec<Certificate> {
    let mut outer = Reader::new(body);
    let Some(list) = outer.vec24() else {
        return Vec::new();
    };
    let mut r = Reader::new(list);
    let mut certs = Vec::new();
    for _ in 0..MAX_CERTIFICATES {
        if r.is_empty() {
            break;
        }
        let Some(der) = r.vec24() else {
            break;
        };
        if let Some(cert) = parse_certificate(der) {
            certs.push(cert);
        }
    }
    certs
}

/// The facts of one DER certificate; `None` when it is not valid X.509.
fn parse_certificate(der: &[u8]) -> Option<Certificate> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let validity = cert.validity();
    let mut sans = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            match name {
                GeneralName::DNSName(s) | GeneralName::RFC822Name(s) | GeneralName::URI(s) => {
                    sans.push((*s).to_owned());
                }
                GeneralName::IPAddress(bytes) => {
                    if let Some(ip) = ip_address(bytes) {
                        sans.push(ip.to_string());
                    }
                }
                _ => {}
            }
        }
    }
    Some(Certificate {
        subject: name_string(cert.subject()),
        issuer: name_string(cert.issuer()),
        serial: hex::encode(cert.raw_serial()),
        not_before: rfc3339(validity.not_before.timestamp()),
        not_after: rfc3339(validity.not_after.timestamp()),
        sans,
        sha1: hex::encode(Sha1::digest(der)),
        sha256: hex::encode(Sha256::digest(der)),
    })
}

/// A distinguished name as OpenSSL's `-nameopt sep_comma_plus_space` prints it: RDNs in
/// certificate order joined by `, `, attributes of one RDN by ` + `, each `type=value` with
/// OpenSSL's short name for the type (its dotted OID when it has none).
fn name_string(name: &X509Name<'_>) -> String {
    let mut out = String::new();
    for (i, rdn) in name.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        for (j, attr) in rdn.iter().enumerate() {
            if j > 0 {
                out.push_str(" + ");
            }
            let oid = attr.attr_type().to_id_string();
            out.push_str(attribute_short_name(&oid).unwrap_or(&oid));
            out.push('=');
            out.push_str(&attribute_value(attr.attr_value()));
        }
    }
    out
}

/// OpenSSL's short names (`objects.txt`) for the attribute types certificates use.
fn attribute_short_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.4.3" => "CN",
        "2.5.4.4" => "SN",
        "2.5.4.5" => "serialNumber",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.9" => "street",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.12" => "title",
        "2.5.4.13" => "description",
        "2.5.4.15" => "businessCategory",
        "2.5.4.17" => "postalCode",
        "2.5.4.41" => "name",
        "2.5.4.42" => "GN",
        "2.5.4.43" => "initials",
        "2.5.4.44" => "generationQualifier",
        "2.5.4.46" => "dnQualifier",
        "2.5.4.65" => "pseudonym",
        "2.5.4.97" => "organizationIdentifier",
        "1.2.840.113549.1.9.1" => "emailAddress",
        "0.9.2342.19200300.100.1.1" => "UID",
        "0.9.2342.19200300.100.1.25" => "DC",
        "1.3.6.1.4.1.311.60.2.1.1" => "jurisdictionL",
        "1.3.6.1.4.1.311.60.2.1.2" => "jurisdictionST",
        "1.3.6.1.4.1.311.60.2.1.3" => "jurisdictionC",
        _ => return None,
    })
}

/// An attribute value: the text of a string type (bytes that are not UTF-8 shown as
/// U+FFFD), else `#` and the hex of its content.
fn attribute_value(value: &x509_parser::asn1_rs::Any<'_>) -> String {
    // Universal tag numbers of the ASN.1 string types (X.680 §8.4).
    // UTF8String, NumericString, PrintableString, T61String, VideotexString, IA5String,
    // GraphicString, VisibleString, GeneralString: one byte per character or UTF-8.
    const BYTE_STRINGS: [u32; 9] = [12, 18, 19, 20, 21, 22, 25, 26, 27];
    const UNIVERSAL_STRING: u32 = 28;
    const BMP_STRING: u32 = 30;
    let data = value.data;
    match value.tag().0 {
        t if BYTE_STRINGS.contains(&t) => String::from_utf8_lossy(data).into_owned(),
        BMP_STRING => {
            let units: Vec<u16> = data
                .chunks_exact(2)
                .map(|p| p.iter().fold(0u16, |acc, &x| acc << 8 | u16::from(x)))
                .collect();
            char::decode_utf16(units)
                .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
                .collect()
        }
        UNIVERSAL_STRING => data
            .chunks_exact(4)
            .map(|p| {
                let v = p.iter().fold(0u32, |acc, &x| acc << 8 | u32::from(x));
                char::from_u32(v).unwrap_or(char::REPLACEMENT_CHARACTER)
            })
            .collect(),
        _ => format!("#{}", hex::encode(data)),
    }
}

/// An iPAddress general name: 4 or 16 bytes.
fn ip_address(bytes: &[u8]) -> Option<IpAddr> {
    if let Ok(v4) = <[u8; 4]>::try_from(bytes) {
        return Some(IpAddr::V4(Ipv4Addr::from(v4)));
    }
    <[u8; 16]>::try_from(bytes)
        .ok()
        .map(|v6| IpAddr::V6(Ipv6Addr::from(v6)))
}

/// A Unix timestamp as RFC 3339 UTC, `YYYY-MM-DDTHH:MM:SSZ`.
fn rfc3339(ts: i64) -> String {
    crate::units::rfc3339_seconds(ts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// One TLS record.
    fn record(ctype: u8, payload: &[u8]) -> Vec<u8> {
        let mut r = vec![ctype, 3, 1];
        r.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        r.extend_from_slice(payload);
        r
    }

    /// One handshake message.
    fn message(kind: u8, body: &[u8]) -> Vec<u8> {
        let mut m = vec![kind];
        m.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        m.extend_from_slice(body);
        m
    }

    fn u16s(values: &[u16]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_be_bytes()).collect()
    }

    fn vec16(data: &[u8]) -> Vec<u8> {
        let mut v = (data.len() as u16).to_be_bytes().to_vec();
        v.extend_from_slice(data);
        v
    }

    fn vec8(data: &[u8]) -> Vec<u8> {
        let mut v = vec![data.len() as u8];
        v.extend_from_slice(data);
        v
    }

    /// A ClientHello body with the given ciphers and (type, data) extensions.
    fn client_hello_body(version: u16, ciphers: &[u16], exts: &[(u16, Vec<u8>)]) -> Vec<u8> {
        let mut b = version.to_be_bytes().to_vec();
        b.extend_from_slice(&[0x11; 32]);
        b.extend_from_slice(&vec8(&[0x22; 32]));
        b.extend_from_slice(&vec16(&u16s(ciphers)));
        b.extend_from_slice(&vec8(&[0]));
        let mut block = Vec::new();
        for (kind, data) in exts {
            block.extend_from_slice(&kind.to_be_bytes());
            block.extend_from_slice(&vec16(data));
        }
        b.extend_from_slice(&vec16(&block));
        b
    }

    fn sni_ext(name: &[u8]) -> Vec<u8> {
        let mut entry = vec![0];
        entry.extend_from_slice(&vec16(name));
        vec16(&entry)
    }

    fn alpn_ext(names: &[&[u8]]) -> Vec<u8> {
        let list: Vec<u8> = names.iter().flat_map(|n| vec8(n)).collect();
        vec16(&list)
    }

    /// The ClientHello of the example in FoxIO-LLC/ja4 technical_details/JA4.md (ciphers,
    /// extension order, ALPN h2, TLS 1.3 and signature algorithms as listed there).
    fn ja4_md_example() -> Vec<u8> {
        let ciphers = [
            0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014,
            0x009c, 0x009d, 0x002f, 0x0035,
        ];
        let sigs = [
            0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601,
        ];
        let order = [
            0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d, 0x0005, 0x0023, 0x0012,
            0x002b, 0xff01, 0x000b, 0x000a, 0x0015,
        ];
        let exts: Vec<(u16, Vec<u8>)> = order
            .iter()
            .map(|&kind| {
                let data = match kind {
                    0x0000 => sni_ext(b"example.com"),
                    0x0010 => alpn_ext(&[b"h2", b"http/1.1"]),
                    0x000d => vec16(&u16s(&sigs)),
                    0x002b => vec8(&u16s(&[0x0304, 0x0303])),
                    0x000a => vec16(&u16s(&[0x001d, 0x0017])),
                    0x000b => vec8(&[0]),
                    _ => Vec::new(),
                };
                (kind, data)
            })
            .collect();
        client_hello_body(0x0303, &ciphers, &exts)
    }

    fn stream_of(body: &[u8]) -> Vec<u8> {
        record(content::HANDSHAKE, &message(msg::CLIENT_HELLO, body))
    }

    fn raw_ja4(stream: &[u8]) -> String {
        let mut raw = None;
        walk_messages(stream, |kind, body| {
            if kind == msg::CLIENT_HELLO && raw.is_none() {
                raw = client_hello_and_raw_ja4(body).map(|(_, r)| r);
            }
            Step::Continue
        });
        raw.expect("a client hello")
    }

    #[test]
    fn parses_ja4_md_example() {
        let facts = parse_handshakes(&stream_of(&ja4_md_example()));
        let h = facts.client_hello.expect("client hello");
        // Expected values from FoxIO-LLC/ja4 technical_details/JA4.md, "Example" and
        // "Raw Output".
        assert_eq!(h.ja4, "t13d1516h2_8daaf6152771_e5627efa2ab1");
        assert_eq!(
            raw_ja4(&stream_of(&ja4_md_example())),
            "t13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,\
             cca8,cca9_0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,\
             ff01_0403,0804,0401,0503,0805,0501,0806,0601"
        );
        assert_eq!(h.sni.as_deref(), Some("example.com"));
        assert_eq!(h.alpn, ["h2", "http/1.1"]);
        assert_eq!(h.supported_versions, [0x0304, 0x0303]);
    }

    #[test]
    fn parses_ja4_md_hash_examples() {
        // FoxIO-LLC/ja4 technical_details/JA4.md, "Cipher hash" and "Extension hash".
        let ciphers = "002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9";
        assert_eq!(hash12(ciphers), "8daaf6152771");
        let exts = "0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01";
        assert_eq!(hash12(exts), "6d807ffa2a79");
        assert_eq!(
            hex::encode(Sha256::digest(
                format!("{exts}_0403,0804,0401,0503,0805,0501,0806,0601").as_bytes()
            )),
            "e5627efa2ab19723084c1033a96c694a45826ab5a460d2d3fd5ffcfe97161c95"
        );
        assert_eq!(hash12(""), "000000000000");
    }

    #[test]
    fn parses_ja4_md_alpn_examples() {
        // FoxIO-LLC/ja4 technical_details/JA4.md, "ALPN Extension Value".
        let cases: [(&[u8], &str); 11] = [
            (b"h2", "h2"),
            (b"http/1.1", "h1"),
            (b"a", "aa"),
            (&[0xab], "ab"),
            (&[0x20], "20"),
            (&[0xab, 0xcd], "ad"),
            (&[0x20, 0x61], "21"),
            (&[0x30, 0xab], "3b"),
            (&[0x61, 0x20], "60"),
            (&[0x30, 0x31, 0xab, 0xcd], "3d"),
            (&[0x30, 0xab, 0xcd, 0x31], "01"),
        ];
        for (value, want) in cases {
            assert_eq!(ja4_alpn(Some(value)), want, "{value:02x?}");
        }
        assert_eq!(ja4_alpn(None), "00");
        assert_eq!(ja4_alpn(Some(b"")), "00");
    }

    #[test]
    fn parses_grease_and_no_extensions() {
        // GREASE in ciphers, extensions, groups and versions; no SNI, no ALPN.
        let body = client_hello_body(
            0x0303,
            &[0x1a1a, 0x1301, 0x002f],
            &[
                (0x2a2a, Vec::new()),
                (ext::SUPPORTED_GROUPS, vec16(&u16s(&[0x3a3a, 0x001d]))),
                (ext::SUPPORTED_VERSIONS, vec8(&u16s(&[0x4a4a, 0x0304]))),
            ],
        );
        let h = parse_handshakes(&stream_of(&body))
            .client_hello
            .expect("client hello");
        assert_eq!(h.ja3, "771,4865-47,10-43,29,");
        assert_eq!(h.cipher_suites, [0x1a1a, 0x1301, 0x002f]);
        assert!(h.ja4.starts_with("t13i020200_"), "{}", h.ja4);
        // 0x1a2a is not GREASE: both bytes must match.
        assert!(!is_grease(0x1a2a) && is_grease(0xfafa) && !is_grease(0x0a0b));

        // TLS 1.0 hello without an extensions block.
        let mut old = 0x0301u16.to_be_bytes().to_vec();
        old.extend_from_slice(&[0; 32]);
        old.extend_from_slice(&[0, 0, 2, 0, 0x2f, 1, 0]);
        let h = parse_handshakes(&stream_of(&old))
            .client_hello
            .expect("client hello");
        assert_eq!(h.ja3, "769,47,,,");
        assert_eq!(h.ja4, format!("t10i010000_{}_000000000000", hash12("002f")));
    }

    #[test]
    fn parses_message_split_across_records() {
        let msg_bytes = message(msg::CLIENT_HELLO, &ja4_md_example());
        let whole = parse_handshakes(&record(content::HANDSHAKE, &msg_bytes));
        assert!(whole.client_hello.is_some());
        for chunk in [1, 2, 3, 5, 100] {
            let stream: Vec<u8> = msg_bytes
                .chunks(chunk)
                .flat_map(|c| record(content::HANDSHAKE, c))
                .collect();
            assert_eq!(parse_handshakes(&stream), whole, "chunk {chunk}");
        }
    }

    #[test]
    fn rejects_oversized_and_non_tls() {
        // A ClientHello whose length field exceeds the cap is not buffered.
        let mut m = vec![msg::CLIENT_HELLO];
        m.extend_from_slice(&((MAX_HELLO_LEN + 1) as u32).to_be_bytes()[1..]);
        assert_eq!(
            parse_handshakes(&record(content::HANDSHAKE, &m)),
            TlsFacts::default()
        );
        // SSLv2-compatible ClientHello, HTTP, application data first: nothing.
        let v2 = [
            0x80, 0x2e, 0x01, 0x03, 0x01, 0x00, 0x15, 0x00, 0x00, 0x00, 0x10,
        ];
        assert_eq!(parse_handshakes(&v2), TlsFacts::default());
        assert_eq!(
            parse_handshakes(b"GET / HTTP/1.1\r\n\r\n"),
            TlsFacts::default()
        );
        let mut app = record(23, &[0; 40]);
        app.extend(stream_of(&ja4_md_example()));
        assert_eq!(parse_handshakes(&app), TlsFacts::default());
        // A record length beyond the record layer's maximum.
        let mut big = vec![content::HANDSHAKE, 3, 3];
        big.extend_from_slice(&((MAX_RECORD_LEN + 1) as u16).to_be_bytes());
        big.extend(std::iter::repeat_n(0, MAX_RECORD_LEN + 1));
        assert_eq!(parse_handshakes(&big), TlsFacts::default());
    }

    #[test]
    fn rejects_malformed_hellos() {
        let body = ja4_md_example();
        // Where the extensions block starts: version, random, session ID, 15 ciphers,
        // compression methods. A hello that ends there is a valid pre-TLS 1.2 hello.
        let no_extensions = 2 + 32 + 33 + 32 + 2;
        // Every other truncation of the body, with a message length that matches it.
        for cut in 0..body.len() {
            let h = parse_handshakes(&stream_of(&body[..cut])).client_hello;
            if cut == no_extensions {
                assert_eq!(h.map(|h| h.extensions.len()), Some(0));
            } else if let Some(h) = h {
                panic!("cut {cut} parsed: {h:?}");
            }
        }
        // An over-long SNI is dropped, the rest of the hello kept.
        let long = vec![b'a'; MAX_SNI_LEN + 1];
        let body = client_hello_body(0x0303, &[0x002f], &[(0, sni_ext(&long))]);
        let h = parse_handshakes(&stream_of(&body))
            .client_hello
            .expect("client hello");
        assert_eq!((h.sni, h.extensions), (None, vec![0]));
    }

    fn server_hello_body(random: [u8; 32], cipher: u16, exts: &[(u16, Vec<u8>)]) -> Vec<u8> {
        let mut b = 0x0303u16.to_be_bytes().to_vec();
        b.extend_from_slice(&random);
        b.extend_from_slice(&vec8(&[0x22; 32]));
        b.extend_from_slice(&cipher.to_be_bytes());
        b.push(0);
        let mut block = Vec::new();
        for (kind, data) in exts {
            block.extend_from_slice(&kind.to_be_bytes());
            block.extend_from_slice(&vec16(data));
        }
        b.extend_from_slice(&vec16(&block));
        b
    }

    #[test]
    fn parses_server_hello_after_hello_retry_request() {
        let v13 = (ext::SUPPORTED_VERSIONS, TLS13.to_be_bytes().to_vec());
        let hrr = server_hello_body(HELLO_RETRY_RANDOM, 0x1301, std::slice::from_ref(&v13));
        let real = server_hello_body([7; 32], 0x1302, &[(0x0033, vec![0; 4]), v13]);
        let mut s = record(content::HANDSHAKE, &message(msg::SERVER_HELLO, &hrr));
        s.extend(record(content::CHANGE_CIPHER_SPEC, &[1]));
        s.extend(record(
            content::HANDSHAKE,
            &message(msg::SERVER_HELLO, &real),
        ));
        s.extend(record(23, &[0; 64]));
        let sh = parse_handshakes(&s).server_hello.expect("server hello");
        assert_eq!(sh.cipher_suite, 0x1302);
        assert_eq!(sh.ja3s, "771,4866,51-43");
        assert_eq!(sh.selected_version, Some(TLS13));
        // Without the second hello the HelloRetryRequest is all there is.
        let only_hrr = record(content::HANDSHAKE, &message(msg::SERVER_HELLO, &hrr));
        let sh = parse_handshakes(&only_hrr).server_hello.expect("hrr");
        assert_eq!(sh.cipher_suite, 0x1301);
        // In TLS 1.2 a ChangeCipherSpec ends the plaintext: what follows is encrypted.
        let tls12 = server_hello_body([7; 32], 0xc02f, &[]);
        let mut s = record(content::HANDSHAKE, &message(msg::SERVER_HELLO, &tls12));
        s.extend(record(content::CHANGE_CIPHER_SPEC, &[1]));
        s.extend(record(
            content::HANDSHAKE,
            &message(msg::CERTIFICATE, &[0, 0, 0]),
        ));
        assert_eq!(
            parse_handshakes(&s).server_hello.map(|h| h.ja3s).as_deref(),
            Some("771,49199,")
        );
    }

    #[test]
    fn parses_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_446_508_800), "2015-11-03T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59Z");
        assert_eq!(rfc3339(253_402_300_799), "9999-12-31T23:59:59Z");
        assert_eq!(rfc3339(-631_152_000), "1950-01-01T00:00:00Z");
    }

    /// tests/data/facts/tls_streams.tsv: name -> bytes.
    fn streams() -> HashMap<String, Vec<u8>> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/facts/tls_streams.tsv"
        );
        let text = std::fs::read_to_string(path).expect("tls_streams.tsv");
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                (f[0].to_owned(), hex::decode(f[4]).expect("hex"))
            })
            .collect()
    }

    /// tests/data/facts/tls_expected.tsv: (name, field, value) in file order.
    fn expected() -> Vec<(String, String, String)> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/facts/tls_expected.tsv"
        );
        let text = std::fs::read_to_string(path).expect("tls_expected.tsv");
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                (f[0].to_owned(), f[1].to_owned(), f[2].to_owned())
            })
            .collect()
    }

    fn join<T: ToString>(v: &[T]) -> String {
        v.iter().map(T::to_string).collect::<Vec<_>>().join(",")
    }

    /// Our value of `field` for the stream, in the TSV's text form.
    fn actual(facts: &TlsFacts, stream: &[u8], field: &str) -> String {
        let none = || "-".to_owned();
        let ch = || facts.client_hello.as_ref().expect("client hello");
        let sh = || facts.server_hello.as_ref().expect("server hello");
        if let Some((idx, what)) = field.strip_prefix("cert").and_then(|f| f.split_once('.')) {
            let c = &facts.certificates[idx.parse::<usize>().expect("index")];
            return match what {
                "subject" => c.subject.clone(),
                "issuer" => c.issuer.clone(),
                "serial" => c.serial.clone(),
                "not_before" => c.not_before.clone(),
                "not_after" => c.not_after.clone(),
                "sans" if c.sans.is_empty() => none(),
                "sans" => c.sans.join(","),
                "sha1" => c.sha1.clone(),
                "sha256" => c.sha256.clone(),
                other => panic!("unknown field {other}"),
            };
        }
        match field {
            "sni" => ch().sni.clone().unwrap_or_else(none),
            "alpn" => ch().alpn.join(","),
            "supported_versions" => join(&ch().supported_versions),
            "legacy_version" => ch().legacy_version.to_string(),
            "ja3_full" => ch().ja3.clone(),
            "ja3" => ch().ja3_hash.clone(),
            "ja4" => ch().ja4.clone(),
            "ja4_r" => raw_ja4(stream),
            "client_hellos" => {
                let mut n = 0;
                walk_messages(stream, |kind, body| {
                    if kind == msg::CLIENT_HELLO && parse_client_hello(body).is_some() {
                        n += 1;
                    }
                    Step::Continue
                });
                n.to_string()
            }
            "ja3s_full" => sh().ja3s.clone(),
            "ja3s" => sh().ja3s_hash.clone(),
            "selected_version" => sh().selected_version.map_or_else(none, |v| v.to_string()),
            "cipher_suite" => sh().cipher_suite.to_string(),
            "server_version" => sh().version.to_string(),
            "certificates" => facts.certificates.len().to_string(),
            other => panic!("unknown field {other}"),
        }
    }

    /// Compares every expected value of tests/data/facts/tls_expected.tsv (tshark 4.0's
    /// SNI, ALPN, JA3 and JA3S; certificate fields read by openssl and python-cryptography)
    /// with ours, on streams of the captures in tests/data.
    #[test]
    fn parses_captured_streams_like_tshark() {
        let streams = streams();
        let mut checked = 0;
        for (name, field, want) in expected() {
            let stream = &streams[&name];
            let facts = parse_handshakes(stream);
            if let Some(base) = field.strip_suffix("_published") {
                // The published outputs of tls-non-ascii-alpn.pcapng print "99" for a
                // non-ASCII ALPN; JA4.md's hex rule gives "bd". Everything else matches.
                let ours = actual(&facts, stream, base);
                assert_eq!(
                    (&ours[..8], &ours[8..10], &ours[10..]),
                    (&want[..8], "bd", &want[10..]),
                    "{name} {field}"
                );
                assert_eq!(&want[8..10], "99");
                continue;
            }
            assert_eq!(actual(&facts, stream, &field), want, "{name} {field}");
            checked += 1;
        }
        assert!(checked > 40, "{checked}");
    }

    #[test]
    fn parses_tls13_server_without_certificates() {
        let streams = streams();
        let facts = parse_handshakes(&streams["openjdk-s"]);
        let sh = facts.server_hello.expect("server hello");
        assert_eq!(sh.selected_version, Some(TLS13));
        assert!(facts.certificates.is_empty() && facts.client_hello.is_none());
    }

    #[test]
    fn parses_every_prefix_without_panicking() {
        let streams = streams();
        let s = &streams["dsb0-s"];
        let whole = parse_handshakes(s);
        assert_eq!(whole.certificates.len(), 2);
        for cut in 0..s.len() {
            let part = parse_handshakes(&s[..cut]);
            // A prefix knows at most what the whole stream knows.
            assert!(part.certificates.len() <= 2);
            if part.server_hello.is_some() {
                assert_eq!(part.server_hello, whole.server_hello);
            }
        }
    }

    /// `stream` with each `(at, byte)` XORed in, `at` wrapped to its length.
    fn mutated(stream: &[u8], flips: &[(usize, u8)]) -> Vec<u8> {
        let mut s = stream.to_vec();
        for &(at, byte) in flips {
            let len = s.len();
            s[at % len] ^= byte;
        }
        s
    }

    fn gives_anything(f: &TlsFacts) -> bool {
        f.client_hello.is_some() || f.server_hello.is_some() || !f.certificates.is_empty()
    }

    #[test]
    fn may_start_handshakes_keeps_every_captured_handshake() {
        let streams = streams();
        let mut kept = 0;
        for (name, s) in &streams {
            if gives_anything(&parse_handshakes(s)) {
                for cut in 0..=s.len().min(24) {
                    assert!(may_start_handshakes(&s[..cut]), "{name} cut {cut}");
                }
                kept += 1;
            }
        }
        // Every stream of tls_streams.tsv that holds a hello or a certificate.
        assert!(kept >= 8, "{kept}");
        for not_tls in [
            &b"GET / HTTP/1.1"[..],
            // Application data (23) first: encrypted, nothing to read.
            &[23, 3, 3, 0, 5],
            &[content::CHANGE_CIPHER_SPEC, 3, 3, 0, 1, 1],
            &[content::HANDSHAKE, 2, 0],
            b"SSH-2.0-",
        ] {
            assert!(!may_start_handshakes(not_tls), "{not_tls:?}");
        }
        assert!(may_start_handshakes(&[]) && may_start_handshakes(&[content::HANDSHAKE]));
    }

    proptest::proptest! {
        #[test]
        fn never_panics_on_arbitrary_bytes(data in proptest::collection::vec(proptest::num::u8::ANY, 0..2048)) {
            let _ = parse_handshakes(&data);
        }

        #[test]
        fn a_mutated_stream_that_gives_a_fact_is_never_ruled_out(
            flips in proptest::collection::vec((0usize..24, proptest::num::u8::ANY), 1..4),
        ) {
            let streams = streams();
            for name in ["openjdk-c", "dsb0-s", "frag38"] {
                let s = mutated(&streams[name], &flips);
                if gives_anything(&parse_handshakes(&s)) {
                    for cut in 0..=s.len().min(24) {
                        proptest::prop_assert!(may_start_handshakes(&s[..cut]), "{name} {cut}");
                    }
                }
            }
        }

        #[test]
        fn never_panics_on_mutated_hellos(
            flips in proptest::collection::vec((0usize..4096, proptest::num::u8::ANY), 1..8),
            cut in 0usize..4096,
        ) {
            let streams = streams();
            for name in ["openjdk-c", "dsb0-s", "frag38"] {
                let mut s = mutated(&streams[name], &flips);
                s.truncate(cut.max(1).min(s.len()));
                let _ = parse_handshakes(&s);
            }
        }
    }
}
