//! `MaltegoTransformRequestMessage`: what the Maltego client (through a TDS) sends a transform
//! (`shared/design/maltego.md` sections 3 and 3.2).
//!
//! ```text
//! MaltegoMessage/MaltegoTransformRequestMessage
//!   Entities/Entity[@Type]            the first one only; others are skipped
//!     Genealogy/Type[@Name]           most specific first
//!     AdditionalFields/Field[@Name]   properties, in document order
//!     Value, Weight
//!   TransformFields/Field[@Name]      settings; globals as "global#<name>"
//!   Limits[@SoftLimit, @HardLimit]
//! ```
//!
//! Where packetpivot differs from maltego-trx (section 3.1 has the evidence):
//!
//! - text is text **plus CDATA plus character and predefined-entity references**, with XML
//!   line-end normalisation (CRLF and CR become LF; `&#13;` stays CR), as canari reads it;
//!   nothing is trimmed (neither library trims);
//! - any `DOCTYPE` is refused ([`RequestError::Doctype`]): no DTD, no entity expansion;
//! - a missing `Weight` is 100, missing `Limits` is soft 12 and hard = soft, a negative limit
//!   counts as absent; a non-integer weight or limit is an error naming the element and the
//!   value ([`RequestError::BadNumber`]), never a message on stdout;
//! - no `Entity` is an error ([`RequestError::NoEntity`]);
//! - v2 short type names are mapped to `maltego.*` ([`resolve_type`]).
//!
//! Encodings: UTF-8 (with or without BOM), UTF-16 with a BOM, and a declared ISO-8859-1,
//! US-ASCII or windows-1252 are read; anything else is [`RequestError::UnsupportedEncoding`].
//!
//! Every string taken from the request goes through [`sanitize`]. Parsing never panics;
//! memory is bounded by the size of the body (the server caps it).

use std::borrow::Cow;

use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;
use quick_xml::XmlVersion;

use super::entity;
use super::sanitize::sanitize;

/// Weight of a request entity that has no `<Weight>` (maltego-trx's default).
pub const DEFAULT_WEIGHT: i32 = 100;
/// `SoftLimit` when the request has no `<Limits>`: the slider value of every real sample and
/// the Maltego CE cap (section 8).
pub const DEFAULT_SOFT_LIMIT: u32 = 12;

/// Why a request body could not be used. Each message names the problem precisely enough to be
/// sent back to the analyst as the text of a `MaltegoTransformExceptionMessage`.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// The body is empty or only whitespace (a TDS probing the URL).
    #[error("empty request: no MaltegoTransformRequestMessage in the body")]
    Empty,
    /// The bytes are not valid UTF-8 (and no other encoding was declared).
    #[error("request is not valid UTF-8 at line {line}, column {column}")]
    NotUtf8 {
        /// 1-based line of the first invalid byte.
        line: usize,
        /// 1-based column (in characters) of the first invalid byte.
        column: usize,
    },
    /// The XML declaration names an encoding this parser does not read.
    #[error("unsupported XML encoding {0:?}: send UTF-8")]
    UnsupportedEncoding(String),
    /// Not well-formed XML.
    #[error("malformed XML at line {line}, column {column}: {what}")]
    Malformed {
        /// 1-based line.
        line: usize,
        /// 1-based column, in characters.
        column: usize,
        /// What is wrong.
        what: String,
    },
    /// The body has a `<!DOCTYPE>`; DTDs and entity declarations are refused.
    #[error(
        "DOCTYPE declarations are refused in transform requests (no DTD or entity declarations)"
    )]
    Doctype,
    /// Well-formed XML, but not a `MaltegoMessage` with a `MaltegoTransformRequestMessage`.
    #[error("not a Maltego transform request: {0}")]
    NotRequest(String),
    /// The request names no entity.
    #[error("the request has no entity (MaltegoTransformRequestMessage/Entities/Entity)")]
    NoEntity,
    /// The first entity has neither a `Type` attribute nor a `Genealogy`.
    #[error("the request entity has no type (no Type attribute, no Genealogy)")]
    NoType,
    /// The first entity has no `<Value>` element.
    #[error("the request entity has no <Value>")]
    NoValue,
    /// A `Weight` or limit that is not an integer.
    #[error("{what} is not an integer: {value:?}")]
    BadNumber {
        /// The element or attribute, e.g. `Weight` or `Limits/@SoftLimit`.
        what: &'static str,
        /// The text found there.
        value: String,
    },
}

/// One transform request, from the XML body ([`TransformRequest::parse`]) or built for local
/// mode and tests ([`TransformRequest::new`]). Every string is sanitised.
#[derive(Debug, Clone, PartialEq)]
pub struct TransformRequest {
    /// The input type: the first (most specific) `Genealogy/Type/@Name`, else `Entity/@Type`,
    /// with v2 short names mapped by [`resolve_type`].
    pub entity_type: String,
    /// Every type named in `Genealogy`, most specific first, mapped by [`resolve_type`].
    pub genealogy: Vec<String>,
    /// `<Value>`: text, CDATA and references, line ends normalised, not trimmed.
    pub value: String,
    /// `<Weight>`, [`DEFAULT_WEIGHT`] when absent or empty.
    pub weight: i32,
    /// `AdditionalFields/Field` as (name, value), in document order, repeats kept.
    pub fields: Vec<(String, String)>,
    /// `TransformFields/Field` as (name, value), in document order; global settings keep their
    /// `global#` prefix.
    pub transform_fields: Vec<(String, String)>,
    /// `Limits/@SoftLimit` (the slider), [`DEFAULT_SOFT_LIMIT`] when absent or negative.
    pub soft_limit: u32,
    /// `Limits/@HardLimit`, `soft_limit` when absent or negative.
    pub hard_limit: u32,
}

impl TransformRequest {
    /// A request for `value` of `entity_type` (short names mapped by [`resolve_type`]), with the
    /// defaults of a request that says nothing else: weight 100, limits 12/12, no fields, no
    /// settings, no Genealogy. Local mode sets its own limits afterwards.
    pub fn new(entity_type: &str, value: &str) -> TransformRequest {
        TransformRequest {
            entity_type: sanitize(&resolve_type(entity_type)).into_owned(),
            genealogy: Vec::new(),
            value: sanitize(value).into_owned(),
            weight: DEFAULT_WEIGHT,
            fields: Vec::new(),
            transform_fields: Vec::new(),
            soft_limit: DEFAULT_SOFT_LIMIT,
            hard_limit: DEFAULT_SOFT_LIMIT,
        }
    }

    /// Adds an entity field (builder style, for local mode and tests).
    pub fn with_field(mut self, name: &str, value: &str) -> TransformRequest {
        self.fields
            .push((sanitize(name).into_owned(), sanitize(value).into_owned()));
        self
    }

    /// Adds a transform setting (builder style, for tests).
    pub fn with_setting(mut self, name: &str, value: &str) -> TransformRequest {
        self.transform_fields
            .push((sanitize(name).into_owned(), sanitize(value).into_owned()));
        self
    }

    /// Parses a request body. See the module documentation for what is accepted and how.
    pub fn parse(body: &[u8]) -> Result<TransformRequest, RequestError> {
        let text = decode(body)?;
        if text.trim().is_empty() {
            return Err(RequestError::Empty);
        }
        parse_str(&text)
    }

    /// The value of entity field `name`; the last occurrence wins. When the field is absent and
    /// the input is one of the standard types maltego-trx renames properties for (section
    /// 11.2), the v2 name is looked up too: `field("whois-info")` on a `maltego.Domain` also
    /// finds a legacy `whois`. [`TransformRequest::fields`] itself is kept as sent.
    pub fn field(&self, name: &str) -> Option<&str> {
        last(&self.fields, name).or_else(|| {
            LEGACY_PROPERTIES
                .iter()
                .filter(|(ty, v3, _)| *v3 == name && self.has_type(ty))
                .find_map(|(_, _, v2)| last(&self.fields, v2))
        })
    }

    /// The value of transform setting `name`; the last occurrence wins. An exact match comes
    /// first; failing that, `setting("api_key")` also finds the global setting
    /// `global#api_key` (global settings arrive with the prefix, section 3).
    pub fn setting(&self, name: &str) -> Option<&str> {
        last(&self.transform_fields, name).or_else(|| {
            if name.starts_with(GLOBAL_PREFIX) {
                None
            } else {
                let global = format!("{GLOBAL_PREFIX}{name}");
                last(&self.transform_fields, &global)
            }
        })
    }

    /// How many entities the answer may hold: `min(soft_limit, hard_limit)`.
    pub fn limit(&self) -> usize {
        let n = self.soft_limit.min(self.hard_limit);
        usize::try_from(n).unwrap_or(usize::MAX)
    }

    /// True if the input is of type `t` (short names mapped by [`resolve_type`]): the resolved
    /// type or any Genealogy type. Every entity is a `maltego.Unknown`, the root of the tree.
    pub fn has_type(&self, t: &str) -> bool {
        let t = resolve_type(t);
        t == entity::UNKNOWN || self.entity_type == t || self.genealogy.iter().any(|g| *g == t)
    }
}

/// Prefix of global transform settings (`decorator_registry.TransformSetting.id` in trx).
const GLOBAL_PREFIX: &str = "global#";

/// maltego-trx's v2 → v3 property renames (section 11.2) as (type, v3 name, v2 name), for
/// [`TransformRequest::field`]. trx's `countrysc → url` (sic) and the `affiliation.*`,
/// `BuiltWithTechnology`, `NominatimLocation` and `FacebookObject` groups are left out.
const LEGACY_PROPERTIES: &[(&str, &str, &str)] = &[
    ("maltego.Person", "person.firstnames", "firstname"),
    ("maltego.Person", "person.lastname", "lastname"),
    ("maltego.Domain", "whois-info", "whois"),
    ("maltego.IPv4Address", "whois-info", "whois"),
    ("maltego.URL", "short-title", "maltego.v2.value.property"),
    ("maltego.URL", "url", "theurl"),
    ("maltego.URL", "title", "fulltitle"),
    ("maltego.Document", "title", "maltego.v2.value.property"),
    ("maltego.Document", "url", "link"),
    ("maltego.Document", "document.meta-data", "metainfo"),
    ("maltego.Location", "location.area", "area"),
    ("maltego.Location", "longitude", "long"),
    ("maltego.Location", "latitude", "lat"),
    (
        "maltego.PhoneNumber",
        "phonenumber.countrycode",
        "countrycode",
    ),
    ("maltego.PhoneNumber", "phonenumber.citycode", "citycode"),
    ("maltego.PhoneNumber", "phonenumber.areacode", "areacode"),
    (
        "maltego.PhoneNumber",
        "phonenumber.lastnumbers",
        "lastnumbers",
    ),
    ("maltego.Service", "banner.text", "banner"),
    ("maltego.Service", "port.number", "port"),
    ("maltego.Alias", "alias", "properties.alias"),
    ("maltego.Device", "device", "properties.device"),
    ("maltego.GPS", "gps.coordinate", "properties.gps"),
    ("maltego.CircularArea", "radius", "area"),
    ("maltego.Image", "description", "properties.image"),
    ("maltego.Image", "url", "fullImage"),
];

fn last<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .rev()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// Maps a v2 short type name to its `maltego.*` name (section 3.2): a name with a dot is kept,
/// `IPAddress` → `maltego.IPv4Address`, `ASNumber` → `maltego.AS`, any other `X` →
/// `maltego.X`. Surrounding whitespace is dropped.
pub fn resolve_type(t: &str) -> Cow<'_, str> {
    let t = t.trim();
    if t.is_empty() || t.contains('.') {
        return Cow::Borrowed(t);
    }
    match t {
        "IPAddress" => Cow::Borrowed(entity::IPV4),
        "ASNumber" => Cow::Borrowed("maltego.AS"),
        _ => Cow::Owned(format!("maltego.{t}")),
    }
}

// ---------------------------------------------------------------------------------------------
// Decoding

/// Turns the body into text: BOM first, then the declared encoding, then UTF-8.
fn decode(body: &[u8]) -> Result<Cow<'_, str>, RequestError> {
    if let Some(rest) = body.strip_prefix(b"\xEF\xBB\xBF") {
        return utf8(rest).map(Cow::Borrowed);
    }
    if let Some(rest) = body.strip_prefix(b"\xFF\xFE") {
        return utf16(rest, u16::from_le_bytes).map(Cow::Owned);
    }
    if let Some(rest) = body.strip_prefix(b"\xFE\xFF") {
        return utf16(rest, u16::from_be_bytes).map(Cow::Owned);
    }
    let declared = declared_encoding(body).map(|e| e.to_ascii_lowercase());
    match declared.as_deref() {
        None | Some("utf-8" | "utf8") => utf8(body).map(Cow::Borrowed),
        Some(
            "iso-8859-1" | "iso8859-1" | "iso_8859-1" | "latin1" | "latin-1" | "l1" | "us-ascii"
            | "ascii",
        ) => Ok(Cow::Owned(body.iter().map(|&b| char::from(b)).collect())),
        Some("windows-1252" | "cp1252") => {
            Ok(Cow::Owned(body.iter().map(|&b| cp1252(b)).collect()))
        }
        Some(other) => Err(RequestError::UnsupportedEncoding(other.to_string())),
    }
}

fn utf8(b: &[u8]) -> Result<&str, RequestError> {
    std::str::from_utf8(b).map_err(|e| {
        let valid = b.get(..e.valid_up_to()).unwrap_or_default();
        let (line, column) =
            line_column(std::str::from_utf8(valid).unwrap_or_default(), valid.len());
        RequestError::NotUtf8 { line, column }
    })
}

fn utf16(b: &[u8], unit: fn([u8; 2]) -> u16) -> Result<String, RequestError> {
    let units = b.chunks(2).map(|c| match *c {
        [x, y] => unit([x, y]),
        _ => 0xFFFD,
    });
    let mut out = String::with_capacity(b.len() / 2);
    for c in char::decode_utf16(units) {
        match c {
            Ok(c) => out.push(c),
            Err(_) => {
                let (line, column) = line_column(&out, out.len());
                return Err(RequestError::Malformed {
                    line,
                    column,
                    what: "invalid UTF-16 (unpaired surrogate)".to_string(),
                });
            }
        }
    }
    Ok(out)
}

/// The `encoding` pseudo-attribute of an XML declaration at the very start of `body`.
fn declared_encoding(body: &[u8]) -> Option<&str> {
    let head = body.get(..body.len().min(256))?;
    let head = head.strip_prefix(b"<?xml")?;
    let end = head.windows(2).position(|w| w == b"?>")?;
    let decl = std::str::from_utf8(head.get(..end)?).ok()?;
    let at = decl.find("encoding")?;
    let rest = decl.get(at + "encoding".len()..)?.trim_start();
    let rest = rest.strip_prefix('=')?.trim_start();
    let quote = rest.chars().next().filter(|q| *q == '"' || *q == '\'')?;
    let rest = rest.get(1..)?;
    let close = rest.find(quote)?;
    rest.get(..close)
}

/// windows-1252 byte → char (0x80–0x9F differ from ISO-8859-1; undefined bytes map to the C1
/// control of the same number, as browsers do).
fn cp1252(b: u8) -> char {
    const HIGH: [char; 32] = [
        '\u{20AC}', '\u{81}', '\u{201A}', '\u{192}', '\u{201E}', '\u{2026}', '\u{2020}',
        '\u{2021}', '\u{2C6}', '\u{2030}', '\u{160}', '\u{2039}', '\u{152}', '\u{8D}', '\u{17D}',
        '\u{8F}', '\u{90}', '\u{2018}', '\u{2019}', '\u{201C}', '\u{201D}', '\u{2022}', '\u{2013}',
        '\u{2014}', '\u{2DC}', '\u{2122}', '\u{161}', '\u{203A}', '\u{153}', '\u{9D}', '\u{17E}',
        '\u{178}',
    ];
    match b {
        0x80..=0x9F => HIGH
            .get(usize::from(b - 0x80))
            .copied()
            .unwrap_or(char::from(b)),
        _ => char::from(b),
    }
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = text.get(..offset).unwrap_or_default();
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).unwrap_or_default().chars().count() + 1;
    (line, column)
}

// ---------------------------------------------------------------------------------------------
// Parsing

/// Where an element sits; only the places the request format defines are tracked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ctx {
    Message,
    Request,
    Entities,
    /// The first `Entity`, whose content is read.
    Entity,
    /// A second or later `Entity`: skipped.
    OtherEntity,
    Genealogy,
    AdditionalFields,
    EntityField,
    Value,
    Weight,
    TransformFields,
    Setting,
    /// Anything else: tolerated and skipped.
    Other,
}

impl Ctx {
    fn collects_text(self) -> bool {
        matches!(
            self,
            Ctx::EntityField | Ctx::Value | Ctx::Weight | Ctx::Setting
        )
    }
}

#[derive(Default)]
struct Draft {
    seen_request: bool,
    entities: usize,
    entity_type: Option<String>,
    genealogy: Vec<String>,
    value: Option<String>,
    weight: Option<String>,
    fields: Vec<(String, String)>,
    transform_fields: Vec<(String, String)>,
    soft: Option<String>,
    hard: Option<String>,
    /// Name of the `Field` being read.
    field_name: Option<String>,
    text: String,
}

struct Parser<'a> {
    text: &'a str,
    reader: Reader<&'a [u8]>,
}

impl<'a> Parser<'a> {
    fn error_at(&self, offset: u64, what: impl Into<String>) -> RequestError {
        let offset = usize::try_from(offset).unwrap_or(usize::MAX);
        let (line, column) = line_column(self.text, offset);
        RequestError::Malformed {
            line,
            column,
            what: what.into(),
        }
    }

    fn xml_error(&self, e: &quick_xml::Error) -> RequestError {
        let at = match self.reader.error_position() {
            0 => self.reader.buffer_position(),
            p => p,
        };
        self.error_at(at, e.to_string())
    }

    /// Checks every attribute of `e` for well-formedness (quoting, duplicates, references),
    /// whether or not it is read.
    fn check_attributes(&self, e: &BytesStart<'_>, at: u64) -> Result<(), RequestError> {
        for a in e.attributes() {
            let a = a.map_err(|err| self.error_at(at, err.to_string()))?;
            a.normalized_value(XmlVersion::Implicit1_0)
                .map_err(|err| self.error_at(at, err.to_string()))?;
        }
        Ok(())
    }

    /// The value of attribute `name` of `e`, unescaped and normalised as XML requires.
    fn attribute(
        &self,
        e: &BytesStart<'_>,
        at: u64,
        name: &str,
    ) -> Result<Option<String>, RequestError> {
        for a in e.attributes() {
            let a = a.map_err(|err| self.error_at(at, err.to_string()))?;
            if a.key.local_name().as_ref() == name {
                let v = a
                    .normalized_value(XmlVersion::Implicit1_0)
                    .map_err(|err| self.error_at(at, err.to_string()))?;
                return Ok(Some(sanitize(&v).into_owned()));
            }
        }
        Ok(None)
    }
}

fn parse_str(text: &str) -> Result<TransformRequest, RequestError> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().expand_empty_elements = true;
    reader.config_mut().check_end_names = true;
    let mut p = Parser { text, reader };
    let mut stack: Vec<Ctx> = Vec::new();
    let mut root_seen = false;
    let mut d = Draft::default();

    loop {
        let at = p.reader.buffer_position();
        let event = match p.reader.read_event() {
            Ok(ev) => ev,
            Err(e) => return Err(p.xml_error(&e)),
        };
        match event {
            Event::DocType(_) => return Err(RequestError::Doctype),
            Event::Start(e) => {
                p.check_attributes(&e, at)?;
                let parent = stack.last().copied();
                let name = e.name();
                let name = name.local_name();
                let name = name.as_ref();
                if parent.is_none() {
                    if root_seen {
                        return Err(p.error_at(at, format!("a second root element <{name}>")));
                    }
                    root_seen = true;
                }
                let ctx = match (parent, name) {
                    (None, "MaltegoMessage") => Ctx::Message,
                    (None, other) => {
                        return Err(RequestError::NotRequest(format!(
                            "the root element is <{}>, not <MaltegoMessage>",
                            sanitize(other)
                        )))
                    }
                    (Some(Ctx::Message), "MaltegoTransformRequestMessage") => {
                        d.seen_request = true;
                        Ctx::Request
                    }
                    (Some(Ctx::Request), "Entities") => Ctx::Entities,
                    (Some(Ctx::Entities), "Entity") => {
                        d.entities += 1;
                        if d.entities == 1 {
                            d.entity_type = p.attribute(&e, at, "Type")?;
                            Ctx::Entity
                        } else {
                            Ctx::OtherEntity
                        }
                    }
                    (Some(Ctx::Entity), "Genealogy") => Ctx::Genealogy,
                    (Some(Ctx::Genealogy), "Type") => {
                        if let Some(t) = p.attribute(&e, at, "Name")? {
                            if !t.trim().is_empty() {
                                d.genealogy.push(resolve_type(&t).into_owned());
                            }
                        }
                        Ctx::Other
                    }
                    (Some(Ctx::Entity), "AdditionalFields") => Ctx::AdditionalFields,
                    (Some(Ctx::AdditionalFields), "Field") => {
                        d.field_name = p.attribute(&e, at, "Name")?;
                        d.text.clear();
                        Ctx::EntityField
                    }
                    (Some(Ctx::Entity), "Value") => {
                        d.text.clear();
                        Ctx::Value
                    }
                    (Some(Ctx::Entity), "Weight") => {
                        d.text.clear();
                        Ctx::Weight
                    }
                    (Some(Ctx::Request), "TransformFields") => Ctx::TransformFields,
                    (Some(Ctx::TransformFields), "Field") => {
                        d.field_name = p.attribute(&e, at, "Name")?;
                        d.text.clear();
                        Ctx::Setting
                    }
                    (Some(Ctx::Request), "Limits") => {
                        d.soft = p.attribute(&e, at, "SoftLimit")?;
                        d.hard = p.attribute(&e, at, "HardLimit")?;
                        Ctx::Other
                    }
                    _ => Ctx::Other,
                };
                stack.push(ctx);
            }
            Event::End(_) => {
                let Some(ctx) = stack.pop() else {
                    return Err(p.error_at(at, "end tag without a start tag"));
                };
                let text = if ctx.collects_text() {
                    std::mem::take(&mut d.text)
                } else {
                    String::new()
                };
                match ctx {
                    Ctx::EntityField => {
                        if let Some(name) = d.field_name.take() {
                            d.fields.push((name, sanitize(&text).into_owned()));
                        }
                    }
                    Ctx::Setting => {
                        if let Some(name) = d.field_name.take() {
                            d.transform_fields
                                .push((name, sanitize(&text).into_owned()));
                        }
                    }
                    Ctx::Value => d.value = Some(sanitize(&text).into_owned()),
                    Ctx::Weight => d.weight = Some(text),
                    _ => {}
                }
            }
            Event::Text(t) => match stack.last() {
                Some(ctx) if ctx.collects_text() => d.text.push_str(&t.xml10_content()),
                Some(_) => {}
                None => {
                    if !t.trim().is_empty() {
                        let what = if root_seen {
                            "text after the root element"
                        } else {
                            "text before the root element (is this XML?)"
                        };
                        return Err(p.error_at(at, what));
                    }
                }
            },
            Event::CData(c) => match stack.last() {
                Some(ctx) if ctx.collects_text() => d.text.push_str(&c.xml10_content()),
                Some(_) => {}
                None => return Err(p.error_at(at, "CDATA outside the root element")),
            },
            Event::GeneralRef(r) => {
                let c = match r.resolve_char_ref() {
                    Ok(Some(c)) => c,
                    Ok(None) => match &*r {
                        "lt" => '<',
                        "gt" => '>',
                        "amp" => '&',
                        "apos" => '\'',
                        "quot" => '"',
                        other => {
                            return Err(
                                p.error_at(at, format!("undefined entity &{};", sanitize(other)))
                            )
                        }
                    },
                    Err(e) => return Err(p.error_at(at, e.to_string())),
                };
                match stack.last() {
                    Some(ctx) if ctx.collects_text() => d.text.push(c),
                    Some(_) => {}
                    None => return Err(p.error_at(at, "reference outside the root element")),
                }
            }
            Event::Eof => break,
            // The declaration (its encoding was handled by `decode`), comments and processing
            // instructions carry nothing a request needs. `Empty` cannot occur
            // (`expand_empty_elements`).
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) | Event::Empty(_) => {}
        }
    }

    if !stack.is_empty() {
        let end = u64::try_from(text.len()).unwrap_or(u64::MAX);
        return Err(p.error_at(end, "unexpected end of input: the document is truncated"));
    }
    if !root_seen {
        return Err(p.error_at(0, "no root element"));
    }
    if !d.seen_request {
        return Err(RequestError::NotRequest(
            "no <MaltegoTransformRequestMessage> in <MaltegoMessage>".to_string(),
        ));
    }
    finish(d)
}

fn finish(d: Draft) -> Result<TransformRequest, RequestError> {
    if d.entities == 0 {
        return Err(RequestError::NoEntity);
    }
    let entity_type = match d.genealogy.first() {
        Some(t) => t.clone(),
        None => match d.entity_type.as_deref().map(resolve_type) {
            Some(t) if !t.is_empty() => t.into_owned(),
            _ => return Err(RequestError::NoType),
        },
    };
    let value = d.value.ok_or(RequestError::NoValue)?;
    let weight = match d.weight.as_deref().map(str::trim) {
        None | Some("") => DEFAULT_WEIGHT,
        Some(w) => {
            let n: i64 = w.parse().map_err(|_| RequestError::BadNumber {
                what: "Weight",
                value: sanitize(w).into_owned(),
            })?;
            i32::try_from(n).unwrap_or(if n < 0 { i32::MIN } else { i32::MAX })
        }
    };
    let soft = limit(d.soft.as_deref(), "Limits/@SoftLimit")?.unwrap_or(DEFAULT_SOFT_LIMIT);
    let hard = limit(d.hard.as_deref(), "Limits/@HardLimit")?.unwrap_or(soft);
    Ok(TransformRequest {
        entity_type,
        genealogy: d.genealogy,
        value,
        weight,
        fields: d.fields,
        transform_fields: d.transform_fields,
        soft_limit: soft,
        hard_limit: hard,
    })
}

/// A limit attribute: absent, empty or negative → `None`; larger than `u32::MAX` → `u32::MAX`.
fn limit(v: Option<&str>, what: &'static str) -> Result<Option<u32>, RequestError> {
    let Some(v) = v.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let n: i64 = v.parse().map_err(|_| RequestError::BadNumber {
        what,
        value: v.to_string(),
    })?;
    if n < 0 {
        return Ok(None);
    }
    Ok(Some(u32::try_from(n).unwrap_or(u32::MAX)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/maltego");

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!("{DATA}/{name}");
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn request(name: &str) -> TransformRequest {
        let body = fixture(&format!("requests/{name}"));
        TransformRequest::parse(&body).unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    fn error(name: &str) -> RequestError {
        let body = fixture(&format!("requests/{name}"));
        match TransformRequest::parse(&body) {
            Ok(r) => panic!("{name}: parsed as {r:?}"),
            Err(e) => e,
        }
    }

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn parses_full_pcap_entity() {
        let r = request("request_full_pcap_entity.xml");
        assert_eq!(r.entity_type, "packetpivot.Pcap");
        assert_eq!(r.genealogy, ["packetpivot.Pcap", "maltego.File"]);
        assert_eq!(r.value, "a b&c.pcap");
        assert_eq!(r.weight, 0);
        assert_eq!(
            r.fields,
            pairs(&[
                ("pcap.path", "/cases/2024-001/a b&c.pcap"),
                (
                    "pcap.sha256",
                    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
                ),
                ("description", "a b&c.pcap"),
                ("notes#", "analyst note"),
            ])
        );
        assert_eq!(
            r.transform_fields,
            pairs(&[
                ("packetpivot.output_dir", "/cases/2024-001/out"),
                ("packetpivot.max_sessions", "500"),
                ("global#api_key", "s3cr3t"),
            ])
        );
        assert_eq!((r.soft_limit, r.hard_limit, r.limit()), (12, 10000, 12));
        assert_eq!(r.field("notes#"), Some("analyst note"));
        assert_eq!(r.setting("packetpivot.max_sessions"), Some("500"));
        assert_eq!(r.setting("api_key"), Some("s3cr3t"));
        assert_eq!(r.setting("global#api_key"), Some("s3cr3t"));
        assert_eq!(r.setting("global#nope"), None);
        assert!(r.has_type("maltego.File") && r.has_type("File") && r.has_type(entity::UNKNOWN));
        assert!(!r.has_type("maltego.Phrase"));
    }

    #[test]
    fn parses_legacy_short_type_with_genealogy() {
        let r = request("request_domain_legacy_type.xml");
        assert_eq!(r.entity_type, "maltego.Domain");
        assert_eq!(r.genealogy, ["maltego.Domain"]);
        assert_eq!(r.value, "example.com");
        assert_eq!(r.weight, 0);
        assert_eq!(
            r.fields,
            pairs(&[
                ("fqdn", "example.com"),
                ("whois", "legacy v2 property name")
            ])
        );
        // Section 11.2: the v3 name finds the v2 property; the list stays as sent.
        assert_eq!(r.field("whois-info"), Some("legacy v2 property name"));
        assert_eq!(r.field("whois"), Some("legacy v2 property name"));
        assert!(r.transform_fields.is_empty());
        assert_eq!((r.soft_limit, r.hard_limit), (12, 12));
    }

    #[test]
    fn parses_website_sent_as_dnsname() {
        let r = request("request_website_sent_as_dnsname.xml");
        assert_eq!(r.entity_type, entity::WEBSITE);
        assert_eq!(r.genealogy, [entity::WEBSITE, entity::DNS_NAME]);
        assert!(r.has_type(entity::DNS_NAME) && r.has_type("DNSName"));
        assert_eq!(r.value, "www.example.org");
        assert_eq!(
            r.fields,
            pairs(&[
                ("fqdn", "www.example.org"),
                ("website.ssl-enabled", "true"),
                ("ports", "80,443"),
            ])
        );
        assert_eq!((r.soft_limit, r.hard_limit, r.limit()), (255, 255, 255));
    }

    #[test]
    fn parses_cdata_values() {
        let r = request("request_cdata_values.xml");
        assert_eq!(r.entity_type, entity::PHRASE);
        assert_eq!(r.value, "<cdata & text>");
        assert_eq!(r.weight, 100);
        assert_eq!(r.fields, pairs(&[("text", "<cdata & text>")]));
        assert_eq!(r.transform_fields, pairs(&[("opt", "x&y")]));
        assert_eq!(r.setting("opt"), Some("x&y"));
    }

    #[test]
    fn parses_mixed_text_and_cdata() {
        assert_eq!(
            request("request_mixed_text_and_cdata.xml").value,
            "left <mid> right"
        );
    }

    #[test]
    fn parses_empty_value() {
        let r = request("request_empty_value.xml");
        assert_eq!(r.value, "");
        assert_eq!(r.fields, pairs(&[("empty", "")]));
        assert_eq!(r.field("empty"), Some(""));
    }

    #[test]
    fn parses_missing_limits_and_weight_as_defaults() {
        let r = request("request_no_limits.xml");
        assert_eq!(r.value, "no limits element");
        assert_eq!((r.soft_limit, r.hard_limit, r.limit()), (12, 12, 12));
        let r = request("request_no_weight.xml");
        assert_eq!(r.value, "no weight element");
        assert_eq!(r.weight, DEFAULT_WEIGHT);
    }

    #[test]
    fn parses_first_of_two_entities() {
        let r = request("request_two_entities.xml");
        assert_eq!(r.entity_type, entity::IPV4);
        assert_eq!(r.value, "192.0.2.1");
        assert_eq!(r.weight, 100);
    }

    #[test]
    fn parses_declared_encodings() {
        let r = request("request_latin1_declared.xml");
        assert_eq!(r.value, "café");
        let r = request("request_utf8_with_declaration.xml");
        assert_eq!(r.value, "café 中文 😀 A<>");
        assert_eq!(r.fields, pairs(&[("note", "multi\nline\ttab")]));
    }

    #[test]
    fn parses_canari_built_requests() {
        for name in [
            "request_canari_built.xml",
            "request_canari_built_pretty.xml",
        ] {
            let body = fixture(&format!("canari/{name}"));
            let r = TransformRequest::parse(&body).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(r.entity_type, "packetpivot.Pcap", "{name}");
            assert!(r.genealogy.is_empty());
            assert_eq!(r.value, "a b&c.pcap");
            assert_eq!(r.weight, 0);
            assert_eq!(
                r.fields,
                pairs(&[("pcap.path", "/cases/2024-001/a b&c.pcap")])
            );
            assert_eq!(
                r.transform_fields,
                pairs(&[("packetpivot.output_dir", "/cases/2024-001/out")])
            );
            assert_eq!((r.soft_limit, r.hard_limit, r.limit()), (12, 10000, 12));
        }
    }

    #[test]
    fn rejects_bad_numbers_naming_the_element() {
        match error("request_bad_weight_and_limits.xml") {
            RequestError::BadNumber { what, value } => {
                assert_eq!((what, value.as_str()), ("Weight", "heavy"));
            }
            e => panic!("{e:?}"),
        }
        let body = br#"<MaltegoMessage><MaltegoTransformRequestMessage><Entities><Entity Type="maltego.Phrase"><Value>v</Value></Entity></Entities><Limits SoftLimit="lots" HardLimit="-1"/></MaltegoTransformRequestMessage></MaltegoMessage>"#;
        let e = TransformRequest::parse(body).map(|_| ()).unwrap_err();
        assert_eq!(
            e.to_string(),
            r#"Limits/@SoftLimit is not an integer: "lots""#
        );
    }

    #[test]
    fn parses_negative_limits_as_absent() {
        let body = br#"<MaltegoMessage><MaltegoTransformRequestMessage><Entities><Entity Type="maltego.Phrase"><Value>v</Value><Weight> -5 </Weight></Entity></Entities><Limits SoftLimit="50" HardLimit="-1"/></MaltegoTransformRequestMessage></MaltegoMessage>"#;
        let r = TransformRequest::parse(body).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((r.weight, r.soft_limit, r.hard_limit), (-5, 50, 50));
        let body = br#"<MaltegoMessage><MaltegoTransformRequestMessage><Entities><Entity Type="maltego.Phrase"><Value>v</Value></Entity></Entities><Limits SoftLimit="-3" HardLimit="99999999999"/></MaltegoTransformRequestMessage></MaltegoMessage>"#;
        let r = TransformRequest::parse(body).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((r.soft_limit, r.hard_limit, r.limit()), (12, u32::MAX, 12));
    }

    #[test]
    fn rejects_doctype_with_internal_entity() {
        let e = error("request_doctype_internal_entity.xml");
        assert!(matches!(e, RequestError::Doctype), "{e:?}");
        assert!(e.to_string().contains("DOCTYPE"));
    }

    #[test]
    fn rejects_no_entities() {
        assert!(matches!(
            error("request_no_entities.xml"),
            RequestError::NoEntity
        ));
    }

    #[test]
    fn rejects_malformed_with_position() {
        match error("request_malformed_not_xml.txt") {
            RequestError::Malformed { line, column, what } => {
                assert_eq!((line, column), (1, 1), "{what}");
            }
            e => panic!("{e:?}"),
        }
        match error("request_malformed_truncated.xml") {
            RequestError::Malformed { line, column, what } => {
                // expat: "no element found: line 1, column 104" (0-based); ours is 1-based.
                assert_eq!((line, column), (1, 105), "{what}");
                assert!(what.contains("truncated"), "{what}");
            }
            e => panic!("{e:?}"),
        }
    }

    #[test]
    fn rejects_every_malformed_shape() {
        let cases: &[(&[u8], &str)] = &[
            (b"", "empty"),
            (b"  \n\t ", "empty"),
            (b"<MaltegoMessage><a></b></MaltegoMessage>", "malformed"),
            (
                b"<MaltegoMessage>\n<Value>&bogus;</Value></MaltegoMessage>",
                "malformed",
            ),
            (b"<MaltegoMessage>a & b</MaltegoMessage>", "malformed"),
            (b"<MaltegoMessage></MaltegoMessage><x/>", "malformed"),
            (b"<MaltegoMessage></MaltegoMessage>junk", "malformed"),
            (
                b"<MaltegoMessage a='1' a='2'></MaltegoMessage>",
                "malformed",
            ),
            (b"<MaltegoMessage a='&nope;'></MaltegoMessage>", "malformed"),
            (b"<MaltegoMessage><!-- x --><![CDATA[", "malformed"),
            (b"<MaltegoMessage>&#0;</MaltegoMessage>", "malformed"),
            (
                b"<MaltegoMessage><Unclosed attr='x></MaltegoMessage>",
                "malformed",
            ),
            (b"<html><body/></html>", "not-request"),
            (b"<MaltegoMessage><Other/></MaltegoMessage>", "not-request"),
            (b"<MaltegoMessage>\xff</MaltegoMessage>", "utf8"),
            (
                b"<?xml version='1.0' encoding='EBCDIC'?><MaltegoMessage/>",
                "encoding",
            ),
        ];
        for (body, want) in cases {
            let got = match TransformRequest::parse(body) {
                Ok(r) => panic!("{:?}: parsed {r:?}", String::from_utf8_lossy(body)),
                Err(RequestError::Empty) => "empty",
                Err(RequestError::Malformed { .. }) => "malformed",
                Err(RequestError::NotRequest(_)) => "not-request",
                Err(RequestError::NotUtf8 {
                    line: 1,
                    column: 17,
                }) => "utf8",
                Err(RequestError::UnsupportedEncoding(_)) => "encoding",
                Err(e) => panic!("{:?}: {e:?}", String::from_utf8_lossy(body)),
            };
            assert_eq!(
                got,
                *want,
                "{:?}: {:?}",
                String::from_utf8_lossy(body),
                TransformRequest::parse(body)
            );
        }
    }

    #[test]
    fn rejects_entity_without_type_or_value() {
        let no_type = b"<MaltegoMessage><MaltegoTransformRequestMessage><Entities><Entity><Value>v</Value></Entity></Entities></MaltegoTransformRequestMessage></MaltegoMessage>";
        assert!(matches!(
            TransformRequest::parse(no_type),
            Err(RequestError::NoType)
        ));
        let no_value = b"<MaltegoMessage><MaltegoTransformRequestMessage><Entities><Entity Type='a.B'/></Entities></MaltegoTransformRequestMessage></MaltegoMessage>";
        assert!(matches!(
            TransformRequest::parse(no_value),
            Err(RequestError::NoValue)
        ));
    }

    #[test]
    fn parses_references_line_ends_and_unknown_markup() {
        let body = "\u{FEFF}<?xml version='1.0'?><!-- c --><MaltegoMessage><MaltegoTransformRequestMessage extra='1'>\
            <Entities><Entity Type='IPAddress'><Unknown><Value>ignored</Value></Unknown>\
            <Value>a&#13;b\r\nc\rd&#x41;&#66;&quot;&apos;<i>x</i>e\u{1}</Value>\
            <AdditionalFields><Field Name='a&amp;b' DisplayName='x'>1</Field><Field>no name</Field>\
            <Field Name='k'>first</Field><Field Name='k'>second</Field></AdditionalFields>\
            </Entity><Entity Type='x.Y'><Value>second</Value><Weight>bad</Weight></Entity></Entities>\
            <?pi x?></MaltegoTransformRequestMessage></MaltegoMessage>\n";
        let mut bytes = Vec::new();
        bytes.extend_from_slice(b"\xEF\xBB\xBF");
        bytes.extend_from_slice(body.trim_start_matches('\u{FEFF}').as_bytes());
        let r = TransformRequest::parse(&bytes).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.entity_type, entity::IPV4);
        assert_eq!(r.value, "a\rb\nc\ndAB\"'e\u{FFFD}");
        assert_eq!(
            r.fields,
            pairs(&[("a&b", "1"), ("k", "first"), ("k", "second")])
        );
        assert_eq!(r.field("k"), Some("second"));
        assert_eq!(r.weight, DEFAULT_WEIGHT);
    }

    #[test]
    fn parses_utf16_and_cp1252() {
        let xml = "<MaltegoMessage><MaltegoTransformRequestMessage><Entities><Entity Type='ASNumber'><Value>é😀</Value></Entity></Entities></MaltegoTransformRequestMessage></MaltegoMessage>";
        let mut le = vec![0xFF, 0xFE];
        le.extend(xml.encode_utf16().flat_map(u16::to_le_bytes));
        let mut be = vec![0xFE, 0xFF];
        be.extend(xml.encode_utf16().flat_map(u16::to_be_bytes));
        for body in [le, be] {
            let r = TransformRequest::parse(&body).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(
                (r.entity_type.as_str(), r.value.as_str()),
                ("maltego.AS", "é😀")
            );
        }
        let body = b"<?xml version=\"1.0\" encoding=\"Windows-1252\"?><MaltegoMessage><MaltegoTransformRequestMessage><Entities><Entity Type='Phrase'><Value>\x80\xe9</Value></Entity></Entities></MaltegoTransformRequestMessage></MaltegoMessage>";
        let r = TransformRequest::parse(body).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.value, "€é");
    }

    #[test]
    fn parses_every_fixture_without_panicking() {
        let dir = format!("{DATA}/requests");
        let mut n = 0;
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{dir}: {e}")) {
            let path = entry.map(|e| e.path()).unwrap_or_else(|e| panic!("{e}"));
            let body = std::fs::read(&path).unwrap_or_else(|e| panic!("{e}"));
            let _ = TransformRequest::parse(&body);
            // Every prefix too: truncation anywhere is an error, never a panic.
            for cut in 0..body.len() {
                let _ = TransformRequest::parse(body.get(..cut).unwrap_or_default());
            }
            n += 1;
        }
        assert_eq!(n, 16);
    }

    #[test]
    fn parses_new_with_defaults() {
        let r = TransformRequest::new("Domain", "example.com\0").with_field("fqdn", "example.com");
        assert_eq!(r.entity_type, "maltego.Domain");
        assert_eq!(r.value, "example.com\u{FFFD}");
        assert_eq!(
            (r.weight, r.soft_limit, r.hard_limit, r.limit()),
            (100, 12, 12, 12)
        );
        assert_eq!(r.field("fqdn"), Some("example.com"));
        assert_eq!(resolve_type(" IPAddress "), entity::IPV4);
        assert_eq!(resolve_type("packetpivot.Session"), entity::SESSION);
        assert_eq!(resolve_type("Website"), entity::WEBSITE);
    }

    proptest::proptest! {
        #[test]
        fn parses_arbitrary_bytes_without_panicking(body in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let _ = TransformRequest::parse(&body);
        }
    }
}
