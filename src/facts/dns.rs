//! DNS: the header, questions and answers of one message (RFC 1035 4.1), as an analyst
//! pivots on them.
//!
//! [`parse_dns`] reads a UDP payload, [`parse_dns_tcp`] a TCP payload that starts with the
//! 2-byte length prefix of RFC 1035 4.2.2. Both are pure and bounded: every read is checked,
//! every list has a named cap ([`MAX_QUESTIONS`], [`MAX_ANSWERS`], [`MAX_TXT_STRINGS`]) and
//! every name is cut at [`MAX_NAME_LEN`] wire octets after at most [`MAX_POINTER_HOPS`]
//! compression pointers.
//!
//! Restrictions, each deliberate:
//! - A compression pointer must point strictly before the label sequence that contains it.
//!   Real compressors only ever refer back to a name already written, and the rule makes a
//!   pointer loop impossible. A pointer that breaks it ends the name where it stands.
//! - Only the Answer section is kept; authority and additional records are not read.
//! - A problem the rest of the message survives (a bad pointer, a name that is too long, a
//!   record cut short) is not an error: what was read is returned, and the problem is
//!   listed in [`DnsMessage::anomalies`] by the stable name of its [`DnsAnomaly`].
//! - A message is rejected (`None`) only when it is clearly not DNS: shorter than the
//!   header, a reserved opcode, a query that asks nothing, or a first record that cannot
//!   be read at all.
//!
//! Names are written as tshark writes `dns.qry.name`: labels as sent (case kept), joined
//! with dots, no trailing dot, the root as `<Root>`, and bytes that are not printable
//! escaped the way Wireshark's `format_text` does (see [`DnsQuestion::name`]).

use std::borrow::Cow;
use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Serialize};

/// Longest name kept, in wire octets (length octets and the final zero included): RFC 1035
/// 2.3.4 allows 255. Suricata's `MAX_NAME_LEN` is the same; dnsmasq's 1025 is for its
/// escaped presentation form, which we do not build on the wire limit. Labels past the cap
/// are dropped and the name is flagged [`DnsAnomaly::NameTooLong`].
pub const MAX_NAME_LEN: usize = 255;

/// Longest label, in octets (RFC 1035 2.3.4). The 6-bit length field cannot say more, so
/// this is a property of the format rather than a check; it is named so the limit is visible.
pub const MAX_LABEL_LEN: usize = 63;

/// Compression pointers followed in one name. Pointers only go backwards here, so a loop
/// cannot happen; the cap bounds the work a long chain can cost (a real name uses one).
pub const MAX_POINTER_HOPS: usize = 128;

/// Questions kept. A real query asks one (RFC 9619 makes QDCOUNT > 1 invalid for QUERY);
/// mDNS packs several, rarely more than a handful. Further questions are skipped (so the
/// answers after them are still found) and flagged [`DnsAnomaly::TooManyQuestions`].
pub const MAX_QUESTIONS: usize = 16;

/// Answers kept: more than a round-robin address set or a CNAME chain needs (the largest
/// real responses we have seen carry about 20). Further answers are not read and the
/// message is flagged [`DnsAnomaly::TooManyAnswers`].
pub const MAX_ANSWERS: usize = 64;

/// Character-strings kept per TXT record. SPF and DKIM records split long values into
/// 255-octet strings, so 64 covers 16 KiB of text; further strings are dropped and the
/// record is flagged [`DnsAnomaly::TooManyTxtStrings`].
pub const MAX_TXT_STRINGS: usize = 64;

/// Length of the fixed DNS header.
const HEADER_LEN: usize = 12;

/// One DNS message: header fields, questions and answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnsMessage {
    /// Transaction ID.
    pub id: u16,
    /// QR bit: the message is a response.
    pub response: bool,
    /// OPCODE (0 query, 1 inverse query, 2 status, 4 notify, 5 update, 6 DSO).
    pub opcode: u8,
    /// RCODE from the header (the 4 low bits; EDNS extended codes are not combined in).
    pub rcode: u8,
    /// The questions, at most [`MAX_QUESTIONS`].
    pub questions: Vec<DnsQuestion>,
    /// The Answer section, at most [`MAX_ANSWERS`] records. Empty lists and a clear TC bit
    /// are left out of `facts.jsonl` (most queries have neither answers nor anomalies, and a
    /// million DNS sessions wrote 0.5 GB of facts).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub answers: Vec<DnsRecord>,
    /// TC bit: the sender truncated the message (the client should retry over TCP).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub truncated_flag: bool,
    /// Problems found, each once, by [`DnsAnomaly::as_str`] name, in the order found.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub anomalies: Vec<String>,
}

/// One entry of the Question section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnsQuestion {
    /// The name asked for, as tshark's `dns.qry.name` shows it: labels as sent joined by
    /// `.`, no trailing dot, `<Root>` for the root. Printable characters (valid UTF-8
    /// included) stay as they are; ASCII controls become C escapes (`\t`, `\n`, ... or
    /// octal `\000`), other control and format characters `\uXXXX`, and invalid UTF-8
    /// U+FFFD. A `.` inside a label is not escaped, as in tshark.
    pub name: String,
    /// QTYPE (see [`type_name`]).
    pub qtype: u16,
    /// QCLASS as sent (1 = IN; mDNS sets the top bit to ask for a unicast reply).
    pub qclass: u16,
}

/// One resource record of the Answer section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnsRecord {
    /// Owner name, written like [`DnsQuestion::name`].
    pub name: String,
    /// TYPE (see [`type_name`]).
    pub rtype: u16,
    /// TTL in seconds, as sent.
    pub ttl: u32,
    /// The RDATA, decoded for the types an analyst pivots on.
    pub data: DnsData,
}

/// The RDATA of a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DnsData {
    /// An IPv4 address (type A).
    A(Ipv4Addr),
    /// An IPv6 address (type AAAA).
    Aaaa(Ipv6Addr),
    /// A domain name (CNAME, NS, PTR), written like [`DnsQuestion::name`].
    Name(String),
    /// A mail exchanger (MX).
    Mx {
        /// Preference (lower is preferred).
        preference: u16,
        /// The exchange host, written like [`DnsQuestion::name`].
        exchange: String,
    },
    /// The character-strings of a TXT record, at most [`MAX_TXT_STRINGS`], escaped like names.
    Txt(Vec<String>),
    /// Any other type, or a record of the types above whose RDATA is malformed
    /// ([`DnsAnomaly::BadRdata`]): only its length is kept.
    Other {
        /// RDLENGTH.
        len: u16,
    },
}

/// A problem in a message that parsing survived. [`DnsAnomaly::as_str`] gives the stable
/// snake_case name stored in [`DnsMessage::anomalies`] (serde uses the same names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DnsAnomaly {
    /// The message ends before all the questions and answers its header counts.
    Truncated,
    /// A compression pointer that does not point before its own label sequence, or leads
    /// to labels that run off the end of the message: the name ends there.
    BadPointer,
    /// A name needed more than [`MAX_POINTER_HOPS`] pointers: the name ends there.
    PointerLimit,
    /// A name longer than [`MAX_NAME_LEN`] wire octets: the labels past it are dropped.
    NameTooLong,
    /// A label type other than a plain label or a pointer (0x40 extended, 0x80 reserved).
    InvalidLabelType,
    /// More than [`MAX_QUESTIONS`] questions: the rest are skipped.
    TooManyQuestions,
    /// More than [`MAX_ANSWERS`] answers: the rest are not read.
    TooManyAnswers,
    /// RDATA that does not fit its type (an A record that is not 4 octets, a name that
    /// does not end where the RDATA does, a TXT string that runs past it).
    BadRdata,
    /// More than [`MAX_TXT_STRINGS`] strings in one TXT record: the rest are dropped.
    TooManyTxtStrings,
    /// The reserved Z bit of the header is set.
    ZFlagSet,
    /// The TCP length prefix announces more bytes than the payload holds (the message
    /// continues in a later segment): what is present was parsed.
    TcpLengthExceedsPayload,
}

impl DnsAnomaly {
    /// The stable snake_case name of the anomaly.
    pub const fn as_str(self) -> &'static str {
        match self {
            DnsAnomaly::Truncated => "truncated",
            DnsAnomaly::BadPointer => "bad_pointer",
            DnsAnomaly::PointerLimit => "pointer_limit",
            DnsAnomaly::NameTooLong => "name_too_long",
            DnsAnomaly::InvalidLabelType => "invalid_label_type",
            DnsAnomaly::TooManyQuestions => "too_many_questions",
            DnsAnomaly::TooManyAnswers => "too_many_answers",
            DnsAnomaly::BadRdata => "bad_rdata",
            DnsAnomaly::TooManyTxtStrings => "too_many_txt_strings",
            DnsAnomaly::ZFlagSet => "z_flag_set",
            DnsAnomaly::TcpLengthExceedsPayload => "tcp_length_exceeds_payload",
        }
    }
}

impl std::fmt::Display for DnsAnomaly {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The anomalies of one message, each kept once.
#[derive(Default)]
struct Anomalies(Vec<DnsAnomaly>);

impl Anomalies {
    fn add(&mut self, a: DnsAnomaly) {
        if !self.0.contains(&a) {
            self.0.push(a);
        }
    }
}

/// Parses one DNS message from a UDP payload.
///
/// Returns `None` when the bytes are clearly not DNS: shorter than the 12-byte header, a
/// reserved opcode (3, 7-15), a query (QR = 0) with QDCOUNT 0, or a first question (or,
/// without questions, a first answer) that cannot be read. Anything else is returned with
/// what could be read and its problems in [`DnsMessage::anomalies`].
#[deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
pub fn parse_dns(payload: &[u8]) -> Option<DnsMessage> {
    let id = be16(payload, 0)?;
    let flags = be16(payload, 2)?;
    let qdcount = usize::from(be16(payload, 4)?);
    let ancount = usize::from(be16(payload, 6)?);
    // NSCOUNT and ARCOUNT are not needed, but a message must hold the whole header.
    be16(payload, 10)?;
    let response = flags & 0x8000 != 0;
    let opcode = u8::try_from((flags >> 11) & 0xF).ok()?;
    if !matches!(opcode, 0 | 1 | 2 | 4 | 5 | 6) || (qdcount == 0 && !response) {
        return None;
    }
    let mut anomalies = Anomalies::default();
    if flags & 0x0040 != 0 {
        anomalies.add(DnsAnomaly::ZFlagSet);
    }

    let mut pos = HEADER_LEN;
    let mut questions = Vec::with_capacity(qdcount.min(MAX_QUESTIONS));
    let mut complete = true;
    for i in 0..qdcount {
        let read = if i < MAX_QUESTIONS {
            read_question(payload, pos, &mut anomalies).map(|(q, next)| {
                questions.push(q);
                next
            })
        } else {
            anomalies.add(DnsAnomaly::TooManyQuestions);
            skip_name(payload, pos).and_then(|next| {
                payload
                    .get(next..next + 4)
                    .map(|_| next + 4)
                    .ok_or(DnsAnomaly::Truncated)
            })
        };
        match read {
            Ok(next) => pos = next,
            Err(_) if i == 0 => return None,
            Err(a) => {
                anomalies.add(a);
                complete = false;
                break;
            }
        }
    }

    let mut answers = Vec::with_capacity(ancount.min(MAX_ANSWERS));
    if complete {
        for i in 0..ancount {
            if i >= MAX_ANSWERS {
                anomalies.add(DnsAnomaly::TooManyAnswers);
                break;
            }
            match read_record(payload, pos, &mut anomalies) {
                Ok((r, next)) => {
                    answers.push(r);
                    pos = next;
                }
                Err(_) if i == 0 && qdcount == 0 => return None,
                Err(a) => {
                    anomalies.add(a);
                    break;
                }
            }
        }
    }

    Some(DnsMessage {
        id,
        response,
        opcode,
        rcode: u8::try_from(flags & 0xF).ok()?,
        questions,
        answers,
        truncated_flag: flags & 0x0200 != 0,
        anomalies: anomalies.0.iter().map(|a| a.as_str().to_owned()).collect(),
    })
}

/// Parses one DNS message from a TCP payload that starts with the 2-byte length prefix
/// (RFC 1035 4.2.2). Only the first message is read when a segment carries several; when
/// the prefix announces more bytes than are present, what is present is parsed and flagged
/// [`DnsAnomaly::TcpLengthExceedsPayload`]. `None` as for [`parse_dns`].
#[deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
pub fn parse_dns_tcp(payload: &[u8]) -> Option<DnsMessage> {
    let len = usize::from(be16(payload, 0)?);
    let body = payload.get(2..)?;
    match body.get(..len) {
        Some(msg) => parse_dns(msg),
        None => {
            let mut m = parse_dns(body)?;
            let name = DnsAnomaly::TcpLengthExceedsPayload.as_str();
            if !m.anomalies.iter().any(|a| a == name) {
                m.anomalies.push(name.to_owned());
            }
            Some(m)
        }
    }
}

/// The mnemonic of a record type as IANA registers it and tshark shows it (`A`, `AAAA`,
/// `HTTPS`, ...; 255 is `ANY`), or `TYPE<n>` (RFC 3597) for an unassigned one.
pub fn type_name(t: u16) -> Cow<'static, str> {
    let name = match t {
        1 => "A",
        2 => "NS",
        3 => "MD",
        4 => "MF",
        5 => "CNAME",
        6 => "SOA",
        7 => "MB",
        8 => "MG",
        9 => "MR",
        10 => "NULL",
        11 => "WKS",
        12 => "PTR",
        13 => "HINFO",
        14 => "MINFO",
        15 => "MX",
        16 => "TXT",
        17 => "RP",
        18 => "AFSDB",
        19 => "X25",
        20 => "ISDN",
        21 => "RT",
        22 => "NSAP",
        23 => "NSAP-PTR",
        24 => "SIG",
        25 => "KEY",
        26 => "PX",
        27 => "GPOS",
        28 => "AAAA",
        29 => "LOC",
        30 => "NXT",
        31 => "EID",
        32 => "NIMLOC",
        33 => "SRV",
        34 => "ATMA",
        35 => "NAPTR",
        36 => "KX",
        37 => "CERT",
        38 => "A6",
        39 => "DNAME",
        40 => "SINK",
        41 => "OPT",
        42 => "APL",
        43 => "DS",
        44 => "SSHFP",
        45 => "IPSECKEY",
        46 => "RRSIG",
        47 => "NSEC",
        48 => "DNSKEY",
        49 => "DHCID",
        50 => "NSEC3",
        51 => "NSEC3PARAM",
        52 => "TLSA",
        53 => "SMIMEA",
        55 => "HIP",
        56 => "NINFO",
        57 => "RKEY",
        58 => "TALINK",
        59 => "CDS",
        60 => "CDNSKEY",
        61 => "OPENPGPKEY",
        62 => "CSYNC",
        63 => "ZONEMD",
        64 => "SVCB",
        65 => "HTTPS",
        99 => "SPF",
        100 => "UINFO",
        101 => "UID",
        102 => "GID",
        103 => "UNSPEC",
        104 => "NID",
        105 => "L32",
        106 => "L64",
        107 => "LP",
        108 => "EUI48",
        109 => "EUI64",
        249 => "TKEY",
        250 => "TSIG",
        251 => "IXFR",
        252 => "AXFR",
        253 => "MAILB",
        254 => "MAILA",
        255 => "ANY",
        256 => "URI",
        257 => "CAA",
        258 => "AVC",
        259 => "DOA",
        260 => "AMTRELAY",
        261 => "RESINFO",
        32768 => "TA",
        32769 => "DLV",
        _ => return Cow::Owned(format!("TYPE{t}")),
    };
    Cow::Borrowed(name)
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(
        b.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

/// Reads a question at `pos`; returns it and the offset after it.
#[deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
fn read_question(
    msg: &[u8],
    pos: usize,
    anomalies: &mut Anomalies,
) -> Result<(DnsQuestion, usize), DnsAnomaly> {
    let (name, at) = read_name(msg, pos, anomalies)?;
    let qtype = be16(msg, at).ok_or(DnsAnomaly::Truncated)?;
    let qclass = be16(msg, at + 2).ok_or(DnsAnomaly::Truncated)?;
    Ok((
        DnsQuestion {
            name,
            qtype,
            qclass,
        },
        at + 4,
    ))
}

/// Reads a resource record at `pos`; returns it and the offset after it.
#[deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
fn read_record(
    msg: &[u8],
    pos: usize,
    anomalies: &mut Anomalies,
) -> Result<(DnsRecord, usize), DnsAnomaly> {
    let (name, at) = read_name(msg, pos, anomalies)?;
    let rtype = be16(msg, at).ok_or(DnsAnomaly::Truncated)?;
    // at + 2: CLASS, not kept.
    let ttl = be32(msg, at + 4).ok_or(DnsAnomaly::Truncated)?;
    let rdlength = be16(msg, at + 8).ok_or(DnsAnomaly::Truncated)?;
    let start = at + 10;
    let end = start + usize::from(rdlength);
    let rdata = msg.get(start..end).ok_or(DnsAnomaly::Truncated)?;
    let other = DnsData::Other { len: rdlength };
    let data = match rtype {
        1 => match <[u8; 4]>::try_from(rdata) {
            Ok(a) => DnsData::A(Ipv4Addr::from(a)),
            Err(_) => bad(anomalies, other),
        },
        28 => match <[u8; 16]>::try_from(rdata) {
            Ok(a) => DnsData::Aaaa(Ipv6Addr::from(a)),
            Err(_) => bad(anomalies, other),
        },
        2 | 5 | 12 => match rdata_name(msg, start, end, anomalies) {
            Some(n) => DnsData::Name(n),
            None => other,
        },
        15 => match (be16(rdata, 0), rdata_name(msg, start + 2, end, anomalies)) {
            (Some(preference), Some(exchange)) => DnsData::Mx {
                preference,
                exchange,
            },
            (None, _) => bad(anomalies, other),
            (Some(_), None) => other,
        },
        16 => DnsData::Txt(txt_strings(rdata, anomalies)),
        _ => other,
    };
    Ok((
        DnsRecord {
            name,
            rtype,
            ttl,
            data,
        },
        end,
    ))
}

/// Flags [`DnsAnomaly::BadRdata`] and returns `data`.
fn bad(anomalies: &mut Anomalies, data: DnsData) -> DnsData {
    anomalies.add(DnsAnomaly::BadRdata);
    data
}

/// Reads a name that must fill the RDATA from `start` to `end` exactly (it may point
/// back into the message). `None`, flagged, when it cannot be read or runs past `end`.
fn rdata_name(msg: &[u8], start: usize, end: usize, anomalies: &mut Anomalies) -> Option<String> {
    if start > end {
        anomalies.add(DnsAnomaly::BadRdata);
        return None;
    }
    match read_name(msg, start, anomalies) {
        Ok((name, next)) if next == end => Some(name),
        Ok((name, next)) if next < end => {
            anomalies.add(DnsAnomaly::BadRdata);
            Some(name)
        }
        Ok(_) => {
            anomalies.add(DnsAnomaly::BadRdata);
            None
        }
        Err(a) => {
            anomalies.add(a);
            anomalies.add(DnsAnomaly::BadRdata);
            None
        }
    }
}

/// The character-strings of TXT RDATA, escaped like names, at most [`MAX_TXT_STRINGS`].
#[deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
fn txt_strings(rdata: &[u8], anomalies: &mut Anomalies) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = rdata;
    while let Some((&len, tail)) = rest.split_first() {
        let Some(s) = tail.get(..usize::from(len)) else {
            anomalies.add(DnsAnomaly::BadRdata);
            break;
        };
        if out.len() == MAX_TXT_STRINGS {
            anomalies.add(DnsAnomaly::TooManyTxtStrings);
            break;
        }
        let mut text = String::new();
        push_text(&mut text, s);
        out.push(text);
        rest = tail.get(usize::from(len)..).unwrap_or_default();
    }
    out
}

/// Reads the name at `start`, following compression pointers backwards.
///
/// Returns the name and the offset just after it in place (after its final zero or its
/// first pointer). Fails only when that offset cannot be found: the message ends inside
/// the name ([`DnsAnomaly::Truncated`]) or the name holds an unknown label type before any
/// pointer ([`DnsAnomaly::InvalidLabelType`]). Problems after the first pointer end the
/// name early, flagged, since the offset after it is already known.
#[deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
fn read_name(
    msg: &[u8],
    start: usize,
    anomalies: &mut Anomalies,
) -> Result<(String, usize), DnsAnomaly> {
    let mut out = String::new();
    let mut pos = start;
    // Start of the label sequence being read: a pointer must go before it.
    let mut segment = start;
    // Offset just after the name in place, known at its final zero or first pointer.
    let mut end: Option<usize> = None;
    // Wire octets of the labels kept so far, plus the final zero.
    let mut wire = 1;
    let mut labels = 0usize;
    let mut terminated = false;
    let mut capped = false;
    let mut hops = 0;
    loop {
        // Past the first pointer, running out of bytes means the pointer led astray.
        let cut = |end: Option<usize>, anomalies: &mut Anomalies| match end {
            None => Err(DnsAnomaly::Truncated),
            Some(_) => {
                anomalies.add(DnsAnomaly::BadPointer);
                Ok(())
            }
        };
        let Some(&len) = msg.get(pos) else {
            cut(end, anomalies)?;
            break;
        };
        match len & 0xC0 {
            0x00 if len == 0 => {
                end.get_or_insert(pos + 1);
                terminated = true;
                break;
            }
            0x00 => {
                // At most MAX_LABEL_LEN: the length has 6 bits.
                let n = usize::from(len);
                let Some(label) = msg.get(pos + 1..pos + 1 + n) else {
                    cut(end, anomalies)?;
                    break;
                };
                if !capped {
                    if wire + n + 1 > MAX_NAME_LEN {
                        capped = true;
                        anomalies.add(DnsAnomaly::NameTooLong);
                    } else {
                        wire += n + 1;
                        if labels > 0 {
                            out.push('.');
                        }
                        push_text(&mut out, label);
                        labels += 1;
                    }
                }
                if capped && end.is_some() {
                    break;
                }
                pos += 1 + n;
            }
            0xC0 => {
                let Some(ptr) = be16(msg, pos) else {
                    cut(end, anomalies)?;
                    break;
                };
                end.get_or_insert(pos + 2);
                if capped {
                    break;
                }
                let target = usize::from(ptr & 0x3FFF);
                if target >= segment {
                    anomalies.add(DnsAnomaly::BadPointer);
                    break;
                }
                hops += 1;
                if hops > MAX_POINTER_HOPS {
                    anomalies.add(DnsAnomaly::PointerLimit);
                    break;
                }
                pos = target;
                segment = target;
            }
            _ => {
                if end.is_none() {
                    return Err(DnsAnomaly::InvalidLabelType);
                }
                anomalies.add(DnsAnomaly::InvalidLabelType);
                break;
            }
        }
    }
    let end = end.ok_or(DnsAnomaly::Truncated)?;
    if labels == 0 && terminated {
        out.push_str("<Root>");
    }
    Ok((out, end))
}

/// Skips the name at `pos` without reading it: returns the offset after it in place.
#[deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
fn skip_name(msg: &[u8], mut pos: usize) -> Result<usize, DnsAnomaly> {
    loop {
        let len = *msg.get(pos).ok_or(DnsAnomaly::Truncated)?;
        match len & 0xC0 {
            0x00 if len == 0 => return Ok(pos + 1),
            0x00 => pos += 1 + usize::from(len),
            0xC0 => {
                return msg
                    .get(pos + 1)
                    .map(|_| pos + 2)
                    .ok_or(DnsAnomaly::Truncated)
            }
            _ => return Err(DnsAnomaly::InvalidLabelType),
        }
    }
}

/// Appends `bytes` as Wireshark's `format_text` shows them: invalid UTF-8 as U+FFFD,
/// printable characters as they are, ASCII controls as C escapes (`\t`) or octal (`\033`),
/// other control and format characters as `\uXXXX`.
///
/// Two known differences, both on invalid input: Wireshark decodes overlong and surrogate
/// sequences permissively where we write U+FFFD per byte, and it also escapes unassigned
/// code points, which needs Unicode tables we do not carry.
fn push_text(out: &mut String, bytes: &[u8]) {
    for c in String::from_utf8_lossy(bytes).chars() {
        match c {
            ' '..='~' => out.push(c),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x0b' => out.push_str("\\v"),
            c if c.is_ascii() => {
                let _ = write!(out, "\\{:03o}", u32::from(c));
            }
            c if c.is_control() || is_format_char(c) => {
                let _ = if u32::from(c) > 0xFFFF {
                    write!(out, "\\U{:08X}", u32::from(c))
                } else {
                    write!(out, "\\u{:04X}", u32::from(c))
                };
            }
            c => out.push(c),
        }
    }
}

/// The Unicode format characters (general category Cf), which do not print.
fn is_format_char(c: char) -> bool {
    matches!(u32::from(c),
        0x00AD
        | 0x0600..=0x0605
        | 0x061C
        | 0x06DD
        | 0x070F
        | 0x0890..=0x0891
        | 0x08E2
        | 0x180E
        | 0x200B..=0x200F
        | 0x202A..=0x202E
        | 0x2060..=0x2064
        | 0x2066..=0x206F
        | 0xFEFF
        | 0xFFF9..=0xFFFB
        | 0x110BD
        | 0x110CD
        | 0x13430..=0x1343F
        | 0x1BCA0..=0x1BCA3
        | 0x1D173..=0x1D17A
        | 0xE0001
        | 0xE0020..=0xE007F)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A query built from labels: ID 0x1234, RD, one question of type A, class IN.
    fn query(labels: &[&[u8]]) -> Vec<u8> {
        let mut b = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
        for l in labels {
            b.push(u8::try_from(l.len()).expect("label"));
            b.extend_from_slice(l);
        }
        b.extend_from_slice(&[0, 0, 1, 0, 1]);
        b
    }

    fn hex(s: &str) -> Vec<u8> {
        hex::decode(s).expect("hex")
    }

    #[test]
    fn facts_json_leaves_out_empty_parts_and_reads_them_back() {
        let m = parse_dns(&query(&[b"example", b"org"])).expect("parses");
        let line = serde_json::to_string(&m).expect("serialises");
        assert!(!line.contains("answers"), "{line}");
        assert!(!line.contains("truncated_flag"), "{line}");
        assert!(!line.contains("anomalies"), "{line}");
        let back: DnsMessage = serde_json::from_str(&line).expect("reads back");
        assert_eq!(back, m);
        // Lines written before the fields were left out still read.
        let full = r#"{"id":1,"response":false,"opcode":0,"rcode":0,"questions":[],"answers":[],"truncated_flag":true,"anomalies":["x"]}"#;
        let old: DnsMessage = serde_json::from_str(full).expect("old layout");
        assert!(old.truncated_flag && old.anomalies == ["x"]);
    }

    /// tshark's data column for a record (see tests/data/facts/generate.py).
    fn data_columns(d: &DnsData) -> Vec<String> {
        match d {
            DnsData::A(a) => vec![a.to_string()],
            DnsData::Aaaa(a) => vec![a.to_string()],
            DnsData::Name(n) => vec![n.clone()],
            DnsData::Mx {
                preference,
                exchange,
            } => vec![preference.to_string(), exchange.clone()],
            DnsData::Txt(t) => t.clone(),
            DnsData::Other { len } => vec![format!("len={len}")],
        }
    }

    /// Parses every message of an expected-values file and compares it with tshark's rows.
    fn compare_with_tshark(tsv: &str) -> usize {
        let mut messages = 0;
        let mut current: Option<(String, DnsMessage, usize, usize)> = None;
        let finish = |c: &Option<(String, DnsMessage, usize, usize)>| {
            if let Some((frame, m, q, a)) = c {
                assert_eq!(m.questions.len(), *q, "frame {frame}: questions");
                assert_eq!(m.answers.len(), *a, "frame {frame}: answers");
            }
        };
        for line in tsv.lines().filter(|l| !l.starts_with('#')) {
            let cols: Vec<&str> = line.split('\t').collect();
            let frame = cols[0].to_owned();
            match cols[1] {
                "msg" => {
                    finish(&current);
                    let m = parse_dns(&hex(cols[2]))
                        .unwrap_or_else(|| panic!("frame {frame}: not parsed"));
                    assert_eq!(m.id.to_string(), cols[3], "frame {frame}: id");
                    assert_eq!(u8::from(m.response).to_string(), cols[4], "frame {frame}");
                    assert_eq!(m.opcode.to_string(), cols[5], "frame {frame}: opcode");
                    assert_eq!(m.rcode.to_string(), cols[6], "frame {frame}: rcode");
                    assert_eq!(u8::from(m.truncated_flag).to_string(), cols[7]);
                    assert!(m.anomalies.is_empty(), "frame {frame}: {:?}", m.anomalies);
                    current = Some((frame, m, 0, 0));
                    messages += 1;
                }
                "q" => {
                    let (f, m, q, _) = current.as_mut().expect("msg row first");
                    let got = m.questions.get(*q).unwrap_or_else(|| panic!("frame {f}"));
                    assert_eq!(got.name, cols[2], "frame {f}: qry.name");
                    assert_eq!(got.qtype.to_string(), cols[3], "frame {f}: qry.type");
                    assert_eq!(got.qclass.to_string(), cols[4], "frame {f}: qry.class");
                    *q += 1;
                }
                "an" => {
                    let (f, m, _, a) = current.as_mut().expect("msg row first");
                    let got = m.answers.get(*a).unwrap_or_else(|| panic!("frame {f}"));
                    assert_eq!(got.name, cols[2], "frame {f}: resp.name");
                    assert_eq!(got.rtype.to_string(), cols[3], "frame {f}: resp.type");
                    assert_eq!(got.ttl.to_string(), cols[4], "frame {f}: resp.ttl");
                    assert_eq!(data_columns(&got.data), cols[5..], "frame {f}: data");
                    *a += 1;
                }
                other => panic!("row kind {other}"),
            }
        }
        finish(&current);
        messages
    }

    #[test]
    fn parses_every_dns_message_of_wikipedia_like_tshark() {
        let n = compare_with_tshark(include_str!("../../tests/data/facts/dns_wikipedia.tsv"));
        assert_eq!(n, 28);
    }

    #[test]
    fn parses_every_dns_message_of_dns_icmp_like_tshark() {
        let n = compare_with_tshark(include_str!("../../tests/data/facts/dns_dns-icmp.tsv"));
        assert_eq!(n, 11);
    }

    #[test]
    fn parses_reassembled_fragmented_dns_like_tshark() {
        // Frame 8 is the 3230-byte TXT response tshark reassembled from frames 6-8.
        let tsv = include_str!("../../tests/data/facts/dns_ipv6-fragmented-dns.tsv");
        assert_eq!(compare_with_tshark(tsv), 5);
    }

    #[test]
    fn parses_every_dns_message_of_communityid_like_tshark() {
        let tsv = include_str!("../../tests/data/facts/dns_communityid.tsv");
        assert_eq!(compare_with_tshark(tsv), 3);
    }

    #[test]
    fn parses_every_port_53_payload_the_decoder_finds_as_tshark_does() {
        use crate::capture::decode::{decode, Layer, Transport};
        use crate::capture::reader::CaptureReader;
        // (capture, expected values, frames whose DNS is quoted inside an ICMP error, which
        // the decoder rightly keys as ICMP).
        let captures = [
            (
                "zeek__wikipedia.pcap",
                include_str!("../../tests/data/facts/dns_wikipedia.tsv"),
                &[][..],
            ),
            (
                "wireshark__communityid.pcap",
                include_str!("../../tests/data/facts/dns_communityid.tsv"),
                &[41][..],
            ),
        ];
        for (capture, tsv, in_icmp) in captures {
            let expected: Vec<(u64, Vec<u8>)> = tsv
                .lines()
                .map(|l| l.split('\t').collect::<Vec<_>>())
                .filter(|c| c.get(1) == Some(&"msg"))
                .map(|c| (c[0].parse().expect("frame"), hex(c[2])))
                .filter(|(frame, _)| !in_icmp.contains(frame))
                .collect();
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/data")
                .join(capture);
            let mut reader = CaptureReader::open(&path, &Default::default()).expect("open");
            let mut found = Vec::new();
            while let Some((rec, interfaces, _)) = reader.next_with_context() {
                let link = interfaces[usize::try_from(rec.interface).expect("idx")].link_type;
                let Layer::Ip(ip) = decode(link, rec.data).layer else {
                    continue;
                };
                if let Transport::Udp { src_port, dst_port } = ip.transport {
                    if src_port == 53 || dst_port == 53 {
                        assert!(parse_dns(ip.payload).is_some(), "{capture} {}", rec.index);
                        found.push((rec.index + 1, ip.payload.to_vec()));
                    }
                }
            }
            assert_eq!(found, expected, "{capture}");
        }
    }

    #[test]
    fn parses_a_response_from_real_bytes() {
        // wireshark__dns+icmp.pcapng.gz frame 25, the UDP payload.
        let msg = [
            0x21, 0x21, 0x81, 0x80, // 0x00: id 0x2121, flags: response, RD, RA, NOERROR
            0x00, 0x01, 0x00, 0x01, // 0x04: QDCOUNT 1, ANCOUNT 1
            0x00, 0x00, 0x00, 0x00, // 0x08: NSCOUNT 0, ARCOUNT 0
            0x03, b'w', b'w', b'w', // 0x0c: "www" (the pointer below targets 0x0c)
            0x09, b'w', b'i', b'r', b'e', b's', b'h', b'a', b'r', b'k', // 0x10: "wireshark"
            0x03, b'o', b'r', b'g', 0x00, // 0x1a: "org", root
            0x00, 0x01, 0x00, 0x01, // 0x1f: type A, class IN
            0xc0, 0x0c, // 0x23: answer name: pointer to 0x0c
            0x00, 0x01, 0x00, 0x01, // 0x25: type A, class IN
            0x00, 0x00, 0x02, 0x58, // 0x29: TTL 600
            0x00, 0x04, 0xae, 0x89, 0x2a, 0x41, // 0x2d: RDLENGTH 4, 174.137.42.65
        ];
        let m = parse_dns(&msg).expect("dns");
        assert_eq!(m.id, 0x2121);
        assert!(m.response && !m.truncated_flag);
        assert_eq!((m.opcode, m.rcode), (0, 0));
        assert_eq!(
            m.questions,
            vec![DnsQuestion {
                name: "www.wireshark.org".into(),
                qtype: 1,
                qclass: 1
            }]
        );
        assert_eq!(
            m.answers,
            vec![DnsRecord {
                name: "www.wireshark.org".into(),
                rtype: 1,
                ttl: 600,
                data: DnsData::A(Ipv4Addr::new(174, 137, 42, 65)),
            }]
        );
        assert!(m.anomalies.is_empty());
    }

    #[test]
    fn parses_ptr_and_nxdomain_from_real_bytes() {
        // wireshark__dns+icmp.pcapng.gz frame 3: PTR for 8.8.8.8.in-addr.arpa.
        let m = parse_dns(&hex(concat!(
            "528e81800001000100000000013801380138013807696e2d61646472046172706100000c0001",
            "c00c000c00010000acb7002013676f6f676c652d7075626c69632d646e732d6106676f6f676c65",
            "03636f6d00"
        )))
        .expect("dns");
        assert_eq!(m.questions[0].name, "8.8.8.8.in-addr.arpa");
        assert_eq!(
            m.answers[0].data,
            DnsData::Name("google-public-dns-a.google.com".into())
        );
        assert_eq!(m.answers[0].ttl, 44215);
        // zeek__wikipedia.pcap frame 19: NXDOMAIN (rcode 3) with an SOA in authority.
        let m = parse_dns(&hex(concat!(
            "673c858300010000000100000675706c6f61640977696b696d65646961036f7267046e6373610475",
            "6975630365647500001c0001c02100060001000003840023036e7330c021066e6574646576c02100",
            "0063e300000e100000038400093a8000000384"
        )))
        .expect("dns");
        assert_eq!(m.rcode, 3);
        assert_eq!(m.questions[0].name, "upload.wikimedia.org.ncsa.uiuc.edu");
        assert!(m.answers.is_empty() && m.anomalies.is_empty());
    }

    #[test]
    fn parses_tcp_length_prefix() {
        let q = query(&[b"example", b"com"]);
        let mut tcp = u16::try_from(q.len()).expect("len").to_be_bytes().to_vec();
        tcp.extend_from_slice(&q);
        tcp.extend_from_slice(&q); // a second, pipelined message is not read
        let m = parse_dns_tcp(&tcp).expect("dns");
        assert_eq!(m.questions[0].name, "example.com");
        assert!(m.anomalies.is_empty());
        assert_eq!(Some(m), parse_dns(&q));
        // The prefix says more than the segment holds.
        let mut short = 200u16.to_be_bytes().to_vec();
        short.extend_from_slice(&q);
        let m = parse_dns_tcp(&short).expect("dns");
        assert_eq!(m.anomalies, vec!["tcp_length_exceeds_payload"]);
    }

    #[test]
    fn parses_names_escaped_like_tshark() {
        // tshark 4.0.17 shows this name as the expected string below.
        let q = query(&[
            b"a b",
            b"x.y",
            b"\x00\x01",
            b"\xff",
            "\u{e9}t\u{e9}".as_bytes(),
            b"back\\slash",
            b"UPPER",
        ]);
        let m = parse_dns(&q).expect("dns");
        assert_eq!(
            m.questions[0].name,
            "a b.x.y.\\000\\001.\u{fffd}.\u{e9}t\u{e9}.back\\slash.UPPER"
        );
        let q = query(&[
            b"\xc2\x80\x07\x0a\x0d\x0b\x0c\x08\x1b",
            b"z\xe2\x80\x8bz",
            b"\t",
        ]);
        assert_eq!(
            parse_dns(&q).expect("dns").questions[0].name,
            "\\u0080\\a\\n\\r\\v\\f\\b\\033.z\\u200Bz.\\t"
        );
        assert_eq!(
            parse_dns(&query(&[])).expect("dns").questions[0].name,
            "<Root>"
        );
    }

    #[test]
    fn parses_mx_txt_and_other_records() {
        let mut b = vec![0, 7, 0x81, 0x80, 0, 1, 0, 4, 0, 0, 0, 0];
        b.extend_from_slice(&[1, b'x', 0, 0, 15, 0, 1]); // 0x0c: "x" MX IN
                                                         // MX 10 mail.<x>
        b.extend_from_slice(&[0xc0, 12, 0, 15, 0, 1, 0, 0, 0, 60, 0, 9, 0, 10]);
        b.extend_from_slice(&[4, b'm', b'a', b'i', b'l', 0xc0, 12]);
        // TXT "hi" "" "a\tb"
        b.extend_from_slice(&[0xc0, 12, 0, 16, 0, 1, 0, 0, 0, 60, 0, 8]);
        b.extend_from_slice(&[2, b'h', b'i', 0, 3, b'a', b'\t', b'b']);
        // SRV: kept as its length
        b.extend_from_slice(&[0xc0, 12, 0, 33, 0, 1, 0, 0, 0, 60, 0, 3, 1, 2, 3]);
        // AAAA ::1
        b.extend_from_slice(&[0xc0, 12, 0, 28, 0, 1, 0xff, 0xff, 0xff, 0xff, 0, 16]);
        b.extend_from_slice(&[0; 15]);
        b.push(1);
        let m = parse_dns(&b).expect("dns");
        let data: Vec<_> = m.answers.iter().map(|a| a.data.clone()).collect();
        assert_eq!(
            data,
            vec![
                DnsData::Mx {
                    preference: 10,
                    exchange: "mail.x".into()
                },
                DnsData::Txt(vec!["hi".into(), String::new(), "a\\tb".into()]),
                DnsData::Other { len: 3 },
                DnsData::Aaaa(Ipv6Addr::LOCALHOST),
            ]
        );
        assert_eq!(m.answers[3].ttl, u32::MAX);
        assert!(m.anomalies.is_empty(), "{:?}", m.anomalies);
    }

    #[test]
    fn parses_header_only_response() {
        // A REFUSED response that echoes no question.
        let m = parse_dns(&[0, 9, 0x81, 0x05, 0, 0, 0, 0, 0, 0, 0, 0]).expect("dns");
        assert_eq!(m.rcode, 5);
        assert!(m.questions.is_empty() && m.answers.is_empty());
    }

    #[test]
    fn parses_forward_and_self_pointers_as_flagged_partial_names() {
        // Question name "a" then a pointer to itself (0x0c): "a" is kept, the loop is not.
        let mut b = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
        b.extend_from_slice(&[1, b'a', 0xc0, 0x0c, 0, 1, 0, 1]);
        let m = parse_dns(&b).expect("dns");
        assert_eq!(m.questions[0].name, "a");
        assert_eq!(m.questions[0].qtype, 1);
        assert_eq!(m.anomalies, vec!["bad_pointer"]);
        // A pointer forward, to the answer that follows.
        let mut b = vec![0x12, 0x34, 0x81, 0x00, 0, 1, 0, 1, 0, 0, 0, 0];
        b.extend_from_slice(&[0xc0, 18, 0, 1, 0, 1]); // 0x0c: -> 0x12
        b.extend_from_slice(&[1, b'b', 0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 4, 10, 0, 0, 1]);
        let m = parse_dns(&b).expect("dns");
        assert_eq!(m.questions[0].name, "");
        assert_eq!(m.answers[0].name, "b");
        assert_eq!(m.answers[0].data, DnsData::A(Ipv4Addr::new(10, 0, 0, 1)));
        assert_eq!(m.anomalies, vec!["bad_pointer"]);
    }

    #[test]
    fn parses_pointer_chains_up_to_the_hop_cap() {
        // Question "z" at 0x0c; a NULL record whose RDATA is a chain of pointers, each to
        // the one before (the first to "z"); then an A record named by the last pointer.
        let build = |hops: usize| {
            let mut b = vec![0x12, 0x34, 0x81, 0x00, 0, 1, 0, 2, 0, 0, 0, 0];
            b.extend_from_slice(&[1, b'z', 0, 0, 1, 0, 1]);
            let rdlength = u16::try_from(2 * hops).expect("small");
            b.extend_from_slice(&[0xc0, 12, 0, 10, 0, 1, 0, 0, 0, 1]);
            b.extend_from_slice(&rdlength.to_be_bytes());
            let mut prev = 12u16;
            for _ in 0..hops {
                let at = u16::try_from(b.len()).expect("small");
                b.extend_from_slice(&(0xc000 | prev).to_be_bytes());
                prev = at;
            }
            b.extend_from_slice(&(0xc000 | prev).to_be_bytes());
            b.extend_from_slice(&[0, 1, 0, 1, 0, 0, 0, 1, 0, 4, 1, 2, 3, 4]);
            b
        };
        let m = parse_dns(&build(MAX_POINTER_HOPS - 1)).expect("dns");
        assert_eq!(m.answers[1].name, "z");
        assert!(m.anomalies.is_empty());
        let m = parse_dns(&build(MAX_POINTER_HOPS)).expect("dns");
        assert_eq!(m.answers[1].name, "");
        assert_eq!(m.anomalies, vec!["pointer_limit"]);
        assert_eq!(m.answers[1].data, DnsData::A(Ipv4Addr::new(1, 2, 3, 4)));
    }

    #[test]
    fn parses_long_names_cut_at_the_cap() {
        let l63 = [b'x'; 63];
        // 3 x 63 + a 61-octet label: 4 * 64 - 2 + 1 = 255 wire octets, the longest legal.
        let l61 = [b'y'; 61];
        let m = parse_dns(&query(&[&l63, &l63, &l63, &l61])).expect("dns");
        assert_eq!(m.questions[0].name.len(), 253);
        assert!(m.anomalies.is_empty());
        let l62 = [b'y'; 62];
        let m = parse_dns(&query(&[&l63, &l63, &l63, &l62, b"z"])).expect("dns");
        assert_eq!(m.questions[0].name.len(), 3 * 64 - 1);
        assert_eq!(
            m.questions[0].qtype, 1,
            "the question after the name is found"
        );
        assert_eq!(m.anomalies, vec!["name_too_long"]);
    }

    #[test]
    fn parses_at_most_the_capped_questions_and_answers() {
        let mut b = vec![0, 1, 0x81, 0x80, 0, 20, 0, 70, 0, 0, 0, 0];
        for _ in 0..20 {
            b.extend_from_slice(&[1, b'q', 0, 0, 1, 0, 1]);
        }
        for _ in 0..70 {
            b.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 5, 0, 4, 1, 1, 1, 1]);
        }
        let m = parse_dns(&b).expect("dns");
        assert_eq!(m.questions.len(), MAX_QUESTIONS);
        assert_eq!(m.answers.len(), MAX_ANSWERS);
        assert_eq!(m.answers[0].name, "q");
        assert_eq!(m.anomalies, vec!["too_many_questions", "too_many_answers"]);
    }

    #[test]
    fn parses_truncated_and_malformed_records_with_flags() {
        // Two answers counted, the second cut short; the first has a 3-octet A record.
        let mut b = vec![0, 1, 0x81, 0xc0, 0, 1, 0, 2, 0, 0, 0, 0];
        b.extend_from_slice(&[1, b'q', 0, 0, 1, 0, 1]);
        b.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 5, 0, 3, 1, 1, 1]);
        b.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0]);
        let m = parse_dns(&b).expect("dns");
        assert_eq!(m.answers.len(), 1);
        assert_eq!(m.answers[0].data, DnsData::Other { len: 3 });
        assert_eq!(m.anomalies, vec!["z_flag_set", "bad_rdata", "truncated"]);
        // A CNAME whose name runs past its RDLENGTH.
        let mut b = vec![0, 1, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0];
        b.extend_from_slice(&[1, b'q', 0, 0, 5, 0, 1]);
        b.extend_from_slice(&[0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 5, 0, 2, 1, b'c', 0]);
        let m = parse_dns(&b).expect("dns");
        assert_eq!(m.answers.len(), 1);
        assert_eq!(m.answers[0].data, DnsData::Other { len: 2 });
        assert_eq!(m.anomalies, vec!["bad_rdata"]);
    }

    #[test]
    fn rejects_what_is_clearly_not_dns() {
        assert_eq!(parse_dns(&[]), None);
        assert_eq!(parse_dns(&[0; 11]), None, "shorter than the header");
        assert_eq!(parse_dns(&[0; 12]), None, "a query asking nothing");
        let mut q = query(&[b"a"]);
        q[2] = 0x18; // opcode 3: reserved
        assert_eq!(parse_dns(&q), None);
        assert_eq!(parse_dns(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"), None);
        let q = query(&[b"example"]);
        assert_eq!(parse_dns(&q[..q.len() - 1]), None, "first question cut");
        let mut q = query(&[b"a"]);
        q[12] = 0x41; // extended label type
        assert_eq!(parse_dns(&q), None);
        assert_eq!(parse_dns_tcp(&[0]), None);
        assert_eq!(parse_dns_tcp(&[0, 0]), None);
    }

    #[test]
    fn rejects_response_without_questions_whose_first_answer_is_unreadable() {
        assert_eq!(
            parse_dns(&[0, 1, 0x81, 0x80, 0, 0, 0, 1, 0, 0, 0, 0, 3]),
            None
        );
    }

    #[test]
    fn parses_type_names() {
        assert_eq!(type_name(1), "A");
        assert_eq!(type_name(28), "AAAA");
        assert_eq!(type_name(65), "HTTPS");
        assert_eq!(type_name(255), "ANY");
        assert_eq!(type_name(54), "TYPE54");
        assert_eq!(type_name(65535), "TYPE65535");
    }

    #[test]
    fn parses_anomaly_names_as_serde_does() {
        for a in [DnsAnomaly::Truncated, DnsAnomaly::TcpLengthExceedsPayload] {
            let json = serde_json::to_string(&a).expect("json");
            assert_eq!(json, format!("\"{}\"", a.as_str()));
        }
        let m = parse_dns(&query(&[b"a"])).expect("dns");
        let back: DnsMessage =
            serde_json::from_str(&serde_json::to_string(&m).expect("json")).expect("back");
        assert_eq!(back, m);
    }

    proptest! {
        #[test]
        fn rejects_nothing_by_panicking_on_arbitrary_bytes(
            data in proptest::collection::vec(any::<u8>(), 0..600)
        ) {
            let _ = parse_dns(&data);
            let _ = parse_dns_tcp(&data);
        }

        #[test]
        fn rejects_nothing_by_panicking_behind_a_plausible_header(
            counts in any::<[u8; 8]>(),
            body in proptest::collection::vec(any::<u8>(), 0..400)
        ) {
            let mut b = vec![0x12, 0x34, 0x81, 0x80];
            b.extend_from_slice(&counts);
            b.extend_from_slice(&body);
            if let Some(m) = parse_dns(&b) {
                prop_assert!(m.questions.len() <= MAX_QUESTIONS);
                prop_assert!(m.answers.len() <= MAX_ANSWERS);
            }
        }
    }
}
