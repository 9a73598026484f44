//! Reference data embedded in the binary: the IEEE OUI registries (MAC address prefix →
//! organisation) and the IANA service-name registry (port and transport → service name).
//!
//! The tables live in `data/` as gzip'd TSV files written by
//! `scripts/update_reference_data.py` (sources, versions and dates in `data/SOURCES.md`;
//! [`reference_info`] names them in one line). They are compiled in with
//! [`include_bytes!`], so nothing is read from disk or the network at run time. Each table
//! is decompressed and indexed once, on its first lookup; after that a lookup is a binary
//! search in a sorted array.
//!
//! Corrupt or truncated embedded data never panics: a table that cannot be decompressed is
//! empty (every lookup returns `None`) and malformed lines are skipped.

use std::io::Read;
use std::sync::OnceLock;

use flate2::read::GzDecoder;

/// `data/oui.tsv.gz`: `PREFIX<TAB>ORGANISATION` lines, PREFIX 6, 7 or 9 upper-case hex digits.
static OUI_GZ: &[u8] = include_bytes!("../../data/oui.tsv.gz");
/// `data/services.tsv.gz`: `PORT<TAB>TRANSPORT<TAB>NAME<TAB>DESCRIPTION` lines.
static SERVICES_GZ: &[u8] = include_bytes!("../../data/services.tsv.gz");
/// `data/reference_info.txt`: one line naming the sources and their dates.
static INFO: &str = include_str!("../../data/reference_info.txt");

/// Upper bound on a decompressed table (the real ones are a few MB): a corrupt stream
/// cannot make us allocate without limit.
const MAX_DECOMPRESSED: u64 = 64 << 20;

/// Transports named in the services table, in the order of their index in a key.
const TRANSPORTS: [&str; 4] = ["tcp", "udp", "sctp", "dccp"];

/// Prefix lengths in hex digits, longest first (MA-S/IAB 36 bits, MA-M 28, MA-L 24).
const PREFIX_DIGITS: [usize; 3] = [9, 7, 6];

/// A byte range in a table's text.
#[derive(Clone, Copy, Debug)]
struct Span {
    start: u32,
    len: u32,
}

impl Span {
    fn new(start: usize, len: usize) -> Option<Span> {
        Some(Span {
            start: u32::try_from(start).ok()?,
            len: u32::try_from(len).ok()?,
        })
    }

    fn get(self, text: &str) -> Option<&str> {
        let start = usize::try_from(self.start).ok()?;
        let end = start.checked_add(usize::try_from(self.len).ok()?)?;
        text.get(start..end)
    }
}

/// Decompresses an embedded table; any error (bad gzip, bad UTF-8, too large) gives "".
fn gunzip(bytes: &[u8]) -> String {
    let mut text = String::new();
    let mut reader = GzDecoder::new(bytes).take(MAX_DECOMPRESSED);
    match reader.read_to_string(&mut text) {
        Ok(_) => text,
        Err(_) => String::new(),
    }
}

/// Iterates over the data lines of a table (comments and blank lines skipped), with the
/// byte offset of each line's start in `text`.
fn data_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut offset = 0usize;
    text.split('\n').filter_map(move |line| {
        let start = offset;
        offset = offset.saturating_add(line.len()).saturating_add(1);
        let line = line.strip_suffix('\r').unwrap_or(line);
        (!line.is_empty() && !line.starts_with('#')).then_some((start, line))
    })
}

/// Sorts `(key, value)` pairs by key and keeps the first of equal keys (stable sort).
fn sorted_unique<K: Ord + Copy, V>(mut rows: Vec<(K, V)>) -> Vec<(K, V)> {
    rows.sort_by_key(|row| row.0);
    rows.dedup_by_key(|row| row.0);
    rows.shrink_to_fit();
    rows
}

/// The OUI registries, one sorted array per prefix length.
struct OuiTable {
    text: String,
    /// Index `i` holds the prefixes of `PREFIX_DIGITS[i]` hex digits.
    levels: [Vec<(u64, Span)>; 3],
}

impl OuiTable {
    fn from_gz(bytes: &[u8]) -> OuiTable {
        let text = gunzip(bytes);
        let mut levels: [Vec<(u64, Span)>; 3] = [Vec::new(), Vec::new(), Vec::new()];
        for (start, line) in data_lines(&text) {
            let mut fields = fields(line);
            let (Some((_, prefix)), Some((name_at, name))) = (fields.next(), fields.next()) else {
                continue;
            };
            let name = name.trim_end();
            let Some(level) = PREFIX_DIGITS.iter().position(|&d| d == prefix.len()) else {
                continue;
            };
            if name.is_empty() || !prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
                continue;
            }
            let Ok(key) = u64::from_str_radix(prefix, 16) else {
                continue;
            };
            let Some(span) = Span::new(start + name_at, name.len()) else {
                continue;
            };
            levels[level].push((key, span));
        }
        OuiTable {
            text,
            levels: levels.map(sorted_unique),
        }
    }

    fn lookup(&self, mac: &[u8; 6]) -> Option<&str> {
        let addr = mac.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        for (digits, level) in PREFIX_DIGITS.iter().zip(&self.levels) {
            let key = addr >> (48 - 4 * digits);
            if let Ok(i) = level.binary_search_by_key(&key, |row| row.0) {
                return level.get(i)?.1.get(&self.text);
            }
        }
        None
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.levels.iter().map(Vec::len).sum()
    }
}

/// The IANA service names, sorted by `(port << 2) | transport index`.
struct ServiceTable {
    text: String,
    rows: Vec<(u32, (Span, Span))>,
}

impl ServiceTable {
    fn from_gz(bytes: &[u8]) -> ServiceTable {
        let text = gunzip(bytes);
        let mut rows = Vec::new();
        for (start, line) in data_lines(&text) {
            let mut fields = fields(line);
            let (Some((_, port)), Some((_, transport)), Some((name_at, name))) =
                (fields.next(), fields.next(), fields.next())
            else {
                continue;
            };
            let (desc_at, description) = fields.next().unwrap_or((line.len(), ""));
            let (Ok(port), Some(t)) = (port.parse::<u16>(), transport_index(transport)) else {
                continue;
            };
            if name.is_empty() {
                continue;
            }
            let (Some(name_span), Some(desc_span)) = (
                Span::new(start + name_at, name.len()),
                Span::new(start + desc_at, description.len()),
            ) else {
                continue;
            };
            rows.push(((u32::from(port) << 2) | t, (name_span, desc_span)));
        }
        ServiceTable {
            text,
            rows: sorted_unique(rows),
        }
    }

    fn lookup(&self, port: u16, transport: &str) -> Option<(&str, &str)> {
        let key = (u32::from(port) << 2) | transport_index(transport)?;
        let i = self.rows.binary_search_by_key(&key, |row| row.0).ok()?;
        let (name, description) = self.rows.get(i)?.1;
        Some((name.get(&self.text)?, description.get(&self.text)?))
    }
}

/// The tab-separated fields of `line`, each with its byte offset in `line`.
fn fields(line: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut offset = 0usize;
    line.split('\t').map(move |field| {
        let at = offset;
        offset = offset.saturating_add(field.len()).saturating_add(1);
        (at, field)
    })
}

/// `tcp` → 0, `udp` → 1, `sctp` → 2, `dccp` → 3 (ASCII case-insensitive).
fn transport_index(transport: &str) -> Option<u32> {
    let i = TRANSPORTS
        .iter()
        .position(|t| t.eq_ignore_ascii_case(transport))?;
    u32::try_from(i).ok()
}

fn oui_table() -> &'static OuiTable {
    static TABLE: OnceLock<OuiTable> = OnceLock::new();
    TABLE.get_or_init(|| OuiTable::from_gz(OUI_GZ))
}

fn service_table() -> &'static ServiceTable {
    static TABLE: OnceLock<ServiceTable> = OnceLock::new();
    TABLE.get_or_init(|| ServiceTable::from_gz(SERVICES_GZ))
}

/// The organisation the IEEE registered `mac`'s prefix to, e.g. `00:13:7f:…` →
/// `"Cisco Systems, Inc"`.
///
/// Longest prefix first: an MA-S or IAB assignment (36 bits), then MA-M (28 bits), then
/// MA-L (24 bits), so an address in a block that IEEE subdivided names the sub-assignee
/// rather than "IEEE Registration Authority". The address bits are matched as they are:
/// a locally administered or group (multicast) address gives `None` unless its prefix is
/// itself listed (a few historical MA-L blocks such as `02:60:8c` 3COM are). The name is
/// the registry's organisation name, not a short form.
pub fn mac_vendor(mac: &[u8; 6]) -> Option<&'static str> {
    oui_table().lookup(mac)
}

/// IANA's service name for `port` over `transport` (`"tcp"`, `"udp"`, `"sctp"` or
/// `"dccp"`, any ASCII case), e.g. 80/tcp → `"http"`, 53/udp → `"domain"`.
///
/// Where IANA lists several names for one port and transport the first (primary) one is
/// returned. Unassigned or reserved ports and unknown transports give `None`.
pub fn service_name(port: u16, transport: &str) -> Option<&'static str> {
    service_table()
        .lookup(port, transport)
        .map(|(name, _)| name)
}

/// IANA's description of the service on `port` over `transport`, e.g. 22/tcp →
/// `"The Secure Shell (SSH) Protocol"`; `None` where [`service_name`] is `None` or the
/// registry gives no description.
pub fn service_description(port: u16, transport: &str) -> Option<&'static str> {
    service_table()
        .lookup(port, transport)
        .map(|(_, description)| description)
        .filter(|d| !d.is_empty())
}

/// One line naming the embedded reference data's sources, versions and dates (the package
/// each table was taken from; see `data/SOURCES.md`).
pub fn reference_info() -> &'static str {
    INFO.trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mac(s: &str) -> [u8; 6] {
        let mut out = [0u8; 6];
        for (slot, part) in out.iter_mut().zip(s.split(':')) {
            *slot = u8::from_str_radix(part, 16).unwrap();
        }
        out
    }

    #[test]
    fn embedded_tables_load() {
        assert!(oui_table().len() > 50_000, "{}", oui_table().len());
        for level in &oui_table().levels {
            assert!(!level.is_empty());
        }
        assert!(service_table().rows.len() > 10_000);
    }

    #[test]
    fn known_vendors_ma_l() {
        assert_eq!(
            mac_vendor(&mac("00:13:7f:be:8c:ff")),
            Some("Cisco Systems, Inc")
        );
        // The hosts of tests/data/zeek__wikipedia.pcap. tshark 4.0's manuf says
        // Cisco, IntelCor, Apple, Dell, Universa(l Global Scientific Industrial Co., Ltd.),
        // SuperMic: short names of its own; ours are IEEE's organisation names.
        let cases = [
            (
                "00:24:7e:e0:1d:b5",
                "Universal Global Scientific Industrial., Ltd",
            ),
            ("00:16:76:23:d9:e3", "Intel Corporate"),
            ("00:17:f2:d7:cf:65", "Apple, Inc."),
            ("00:23:32:b6:0c:46", "Apple, Inc."),
            ("00:1a:a0:ba:f3:5d", "Dell Inc."),
            ("f0:4d:a2:47:ba:25", "Dell Inc."),
            ("00:30:48:bd:3e:c4", "Super Micro Computer, Inc."),
        ];
        for (addr, vendor) in cases {
            assert_eq!(mac_vendor(&mac(addr)), Some(vendor), "{addr}");
        }
    }

    #[test]
    fn longest_prefix_wins() {
        // MA-S inside an IEEE-RA MA-L block.
        assert_eq!(
            mac_vendor(&mac("00:1b:c5:00:00:01")),
            Some("Converging Systems Inc.")
        );
        // MA-M.
        assert_eq!(
            mac_vendor(&mac("00:55:da:01:23:45")),
            Some("Shinko Technos co.,ltd.")
        );
        // IAB (closed 36-bit registry).
        assert_eq!(
            mac_vendor(&mac("00:50:c2:7d:50:00")),
            Some("DEUTA-WERKE GmbH")
        );
        assert_eq!(mac_vendor(&mac("00:50:c2:00:0a:bc")), Some("T.L.S. Corp."));
        assert_eq!(
            mac_vendor(&mac("00:50:c2:ff:f1:23")),
            Some("MSR-Solutions GmbH")
        );
    }

    #[test]
    fn locally_administered_and_group_addresses() {
        assert_eq!(mac_vendor(&mac("02:00:00:00:00:01")), None);
        assert_eq!(mac_vendor(&mac("da:a1:19:00:00:01")), None);
        assert_eq!(mac_vendor(&mac("ff:ff:ff:ff:ff:ff")), None);
        assert_eq!(mac_vendor(&mac("01:00:5e:00:00:fb")), None);
        // Listed historical blocks with the U/L bit set are still named.
        assert_eq!(mac_vendor(&mac("02:60:8c:12:34:56")), Some("3COM"));
    }

    #[test]
    fn well_known_ports() {
        assert_eq!(service_name(80, "tcp"), Some("http"));
        assert_eq!(service_name(443, "tcp"), Some("https"));
        assert_eq!(service_name(53, "udp"), Some("domain"));
        assert_eq!(service_name(22, "tcp"), Some("ssh"));
        assert_eq!(service_name(5353, "udp"), Some("mdns"));
        assert_eq!(service_name(80, "sctp"), Some("http"));
        assert_eq!(service_name(443, "TCP"), Some("https"));
        // A port range in the registry (x11 6000-6063) is expanded.
        assert_eq!(service_name(6010, "tcp"), Some("x11"));
        assert_eq!(
            service_description(22, "tcp"),
            Some("The Secure Shell (SSH) Protocol")
        );
    }

    #[test]
    fn unknown_ports_and_transports() {
        assert_eq!(service_name(4, "tcp"), None); // unassigned
        assert_eq!(service_name(65535, "udp"), None);
        assert_eq!(service_name(80, "icmp"), None);
        assert_eq!(service_name(80, ""), None);
        assert_eq!(service_description(4, "tcp"), None);
    }

    #[test]
    fn corrupt_data_gives_empty_tables() {
        for bad in [&b""[..], b"not gzip at all", &OUI_GZ[..OUI_GZ.len() / 2]] {
            let oui = OuiTable::from_gz(bad);
            assert_eq!(oui.lookup(&mac("00:13:7f:00:00:00")), None);
            let svc = ServiceTable::from_gz(bad);
            assert_eq!(svc.lookup(80, "tcp"), None);
        }
    }

    #[test]
    fn malformed_lines_are_skipped() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(
            &mut gz,
            b"# header\n00137F\tCisco\nZZZZZZ\tBad\n0013\tShort\n\n00247E\t\n001676\tIntel\tx\r\n",
        )
        .unwrap();
        let oui = OuiTable::from_gz(&gz.finish().unwrap());
        assert_eq!(oui.len(), 2);
        assert_eq!(oui.lookup(&mac("00:13:7f:01:02:03")), Some("Cisco"));
        assert_eq!(oui.lookup(&mac("00:16:76:01:02:03")), Some("Intel"));
        assert_eq!(oui.lookup(&mac("00:24:7e:01:02:03")), None);

        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(
            &mut gz,
            b"80\ttcp\thttp\tWeb\n70000\ttcp\tbig\t\n81\tipx\tno\t\n82\tudp\n83\tudp\tx\n",
        )
        .unwrap();
        let svc = ServiceTable::from_gz(&gz.finish().unwrap());
        assert_eq!(svc.lookup(80, "tcp"), Some(("http", "Web")));
        assert_eq!(svc.lookup(83, "udp"), Some(("x", "")));
        assert_eq!(svc.rows.len(), 2);
    }

    #[test]
    fn many_random_lookups() {
        // 100k pseudo-random addresses (xorshift); a timing smoke test without asserts on
        // time: it must simply finish quickly.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut named = 0usize;
        for _ in 0..100_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let b = state.to_be_bytes();
            let addr = [b[0] & 0xfc, b[1], b[2], b[3], b[4], b[5]];
            named += usize::from(mac_vendor(&addr).is_some());
        }
        assert!(named > 0);
        let mut ports = 0usize;
        for port in 0..=u16::MAX {
            ports += usize::from(service_name(port, "tcp").is_some());
        }
        assert!(ports > 5_000);
    }

    #[test]
    fn info_names_sources() {
        let info = reference_info();
        assert!(!info.contains('\n'));
        assert!(
            info.contains("oui-data") && info.contains("ieee-data"),
            "{info}"
        );
        assert!(info.contains("libwireshark-data"), "{info}");
    }
}
