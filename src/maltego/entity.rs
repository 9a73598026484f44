//! Entity type names, as constants: code never spells a type as a literal.

/// packetpivot's capture entity (base entity `maltego.File`).
pub const CAPTURE: &str = "packetpivot.Capture";
/// packetpivot's session entity.
pub const SESSION: &str = "packetpivot.Session";
/// Maltego's file entity.
pub const FILE: &str = "maltego.File";
/// IPv4 address.
pub const IPV4: &str = "maltego.IPv4Address";
/// IPv6 address.
pub const IPV6: &str = "maltego.IPv6Address";
/// A port number.
pub const PORT: &str = "maltego.Port";
/// A DNS name.
pub const DNS_NAME: &str = "maltego.DNSName";
/// A web site (HTTP host).
pub const WEBSITE: &str = "maltego.Website";
/// A URL.
pub const URL: &str = "maltego.URL";
/// A MAC address.
pub const MAC: &str = "maltego.MacAddress";
/// A hash (fingerprints).
pub const HASH: &str = "maltego.Hash";
/// A network service.
pub const SERVICE: &str = "maltego.Service";
/// An X.509 certificate.
pub const X509: &str = "maltego.X509Certificate";
/// Accepts any input type.
pub const UNKNOWN: &str = "maltego.Unknown";
/// Maltego's phrase entity (generic text).
pub const PHRASE: &str = "maltego.Phrase";
/// An organisation (a MAC address's vendor, as the IEEE registry names it).
pub const ORGANIZATION: &str = "maltego.Organization";
