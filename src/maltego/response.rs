//! `MaltegoTransformResponseMessage` and `MaltegoTransformExceptionMessage`: what a transform
//! answers (`shared/design/maltego.md` sections 4–7).
//!
//! The writer produces what maltego-trx 1.7.0 produces, byte for byte where the content allows
//! (`tests/data/maltego/trx/response_*.xml`):
//!
//! - element order `Value, Weight, DisplayInformation, AdditionalFields, Overlays, IconURL`,
//!   `Entities` before `UIMessages`, both always written;
//! - attributes in alphabetical order, empty elements as `<X></X>`, two-space indentation
//!   between elements only, no XML declaration, no trailing newline, UTF-8;
//! - text escapes `& < >` and CR (as `&#xD;`, so it survives the reader's line-end
//!   normalisation; trx loses it); attributes escape `& < > "` and TAB, LF, CR as character
//!   references (section 7.4). No CDATA, no DTD.
//!
//! Every string goes through [`sanitize`] first, so no value can make the document ill-formed.
//! Links, bookmarks and notes are written as the reserved `link#…`, `bookmark#` and `notes#`
//! fields (section 6), after the entity's own fields. The document is streamed element by
//! element to the writer: memory is bounded by the [`Response`] itself.

use std::borrow::Cow;
use std::io::{self, Write};
use std::sync::Arc;

use super::sanitize::{may_need_sanitizing, sanitize};

/// Default weight of a returned entity (maltego-trx's).
pub const DEFAULT_WEIGHT: i32 = 100;

/// How Maltego merges a returned property into an entity already on the graph (section 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchingRule {
    /// Merge only if the value and this property are equal.
    Strict,
    /// Merge on equal value; the property is overwritten.
    Loose,
}

impl MatchingRule {
    /// The attribute value: `strict` or `loose`.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchingRule::Strict => "strict",
            MatchingRule::Loose => "loose",
        }
    }
}

/// One `AdditionalFields/Field`: a property of the entity.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// Property name (`Name`), e.g. `ipv4-address`. Nearly always a literal, so borrowed:
    /// a 10,000-entity answer has 300,000 fields.
    pub name: Cow<'static, str>,
    /// Label shown in the client (`DisplayName`); an empty one is written as the name, as trx
    /// does (Maltego would otherwise label it "Temp").
    pub display_name: Cow<'static, str>,
    /// The value, a string formatted for the property's type.
    pub value: String,
    /// `MatchingRule`.
    pub matching_rule: MatchingRule,
}

impl Field {
    /// A loose field.
    pub fn new(
        name: impl Into<Cow<'static, str>>,
        display_name: impl Into<Cow<'static, str>>,
        value: impl Into<String>,
    ) -> Field {
        Field {
            name: name.into(),
            display_name: display_name.into(),
            value: value.into(),
            matching_rule: MatchingRule::Loose,
        }
    }

    /// A strict field.
    pub fn strict(
        name: impl Into<Cow<'static, str>>,
        display_name: impl Into<Cow<'static, str>>,
        value: impl Into<String>,
    ) -> Field {
        Field {
            matching_rule: MatchingRule::Strict,
            ..Field::new(name, display_name, value)
        }
    }
}

/// `link#maltego.link.style`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkStyle {
    /// `0`.
    Normal,
    /// `1`.
    Dashed,
    /// `2`.
    Dotted,
    /// `3`.
    DashDot,
}

impl LinkStyle {
    /// The field value, `0` to `3`.
    pub fn as_str(self) -> &'static str {
        match self {
            LinkStyle::Normal => "0",
            LinkStyle::Dashed => "1",
            LinkStyle::Dotted => "2",
            LinkStyle::DashDot => "3",
        }
    }
}

/// `link#maltego.link.direction`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkDirection {
    /// `output-to-input` (trx `reverseLink()`).
    OutputToInput,
    /// `input-to-output`, the client's default.
    InputToOutput,
    /// `bidirectional`.
    Bidirectional,
}

impl LinkDirection {
    /// The field value.
    pub fn as_str(self) -> &'static str {
        match self {
            LinkDirection::OutputToInput => "output-to-input",
            LinkDirection::InputToOutput => "input-to-output",
            LinkDirection::Bidirectional => "bidirectional",
        }
    }
}

/// How the link from the input entity to this entity is drawn (section 6). `None` leaves the
/// client's default.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Link {
    /// `link#maltego.link.label`.
    pub label: Option<String>,
    /// `link#maltego.link.show-label`: `true` → `1` (show), `false` → `2` (hide).
    pub show_label: Option<bool>,
    /// `link#maltego.link.color`, `#RRGGBB`.
    pub color: Option<String>,
    /// `link#maltego.link.thickness` (canari 0–5, the v3 SDK 1–4).
    pub thickness: Option<u8>,
    /// `link#maltego.link.style`.
    pub style: Option<LinkStyle>,
    /// `link#maltego.link.direction`.
    pub direction: Option<LinkDirection>,
}

/// `Overlay/@position`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverlayPosition {
    /// `N`.
    North,
    /// `S`.
    South,
    /// `W`.
    West,
    /// `NW`.
    NorthWest,
    /// `SW`.
    SouthWest,
    /// `C`.
    Center,
}

impl OverlayPosition {
    /// The attribute value.
    pub fn as_str(self) -> &'static str {
        match self {
            OverlayPosition::North => "N",
            OverlayPosition::South => "S",
            OverlayPosition::West => "W",
            OverlayPosition::NorthWest => "NW",
            OverlayPosition::SouthWest => "SW",
            OverlayPosition::Center => "C",
        }
    }
}

/// `Overlay/@type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverlayKind {
    /// `image`: an icon name or URL.
    Image,
    /// `colour` (British, as the XML protocol spells it).
    Colour,
    /// `text`.
    Text,
}

impl OverlayKind {
    /// The attribute value.
    pub fn as_str(self) -> &'static str {
        match self {
            OverlayKind::Image => "image",
            OverlayKind::Colour => "colour",
            OverlayKind::Text => "text",
        }
    }
}

/// One `Overlays/Overlay`: a small decoration on the entity's icon.
#[derive(Debug, Clone, PartialEq)]
pub struct Overlay {
    /// The property whose value is shown, or a literal (`#45e06f`, an icon name).
    pub property_name: String,
    /// Where on the icon.
    pub position: OverlayPosition,
    /// What the value is.
    pub kind: OverlayKind,
}

/// One returned entity.
#[derive(Debug, Clone, PartialEq)]
pub struct Entity {
    /// `maltego.*` or `packetpivot.*` (constants in [`super::entity`]).
    pub entity_type: String,
    /// `<Value>`: sets the type's value property. An entity with an empty value is left out
    /// of the response (section 4: never emit an empty `<Value>`).
    pub value: String,
    /// `<Weight>`, default 100. Written as given (trx cannot write 0; this writer can).
    pub weight: i32,
    /// Detail View sections as (title, HTML body), written `Type="text/html"`.
    pub display_information: Vec<(String, String)>,
    /// Properties, in order.
    pub fields: Vec<Field>,
    /// `<IconURL>`.
    pub icon_url: Option<String>,
    /// The link from the input entity.
    pub link: Link,
    /// `bookmark#`: 0 blue, 1 green, 2 yellow, 3 purple, 4 red; `None` writes nothing.
    pub bookmark: Option<u8>,
    /// `notes#`: a call-out on the graph.
    pub note: Option<String>,
    /// Icon overlays.
    pub overlays: Vec<Overlay>,
}

impl Entity {
    /// An entity with weight 100 and nothing else.
    pub fn new(entity_type: &str, value: impl Into<String>) -> Entity {
        Entity {
            entity_type: entity_type.to_string(),
            value: value.into(),
            weight: DEFAULT_WEIGHT,
            display_information: Vec::new(),
            fields: Vec::new(),
            icon_url: None,
            link: Link::default(),
            bookmark: None,
            note: None,
            overlays: Vec::new(),
        }
    }

    /// Adds a loose field.
    pub fn field(
        &mut self,
        name: impl Into<Cow<'static, str>>,
        display_name: impl Into<Cow<'static, str>>,
        value: impl Into<String>,
    ) -> &mut Entity {
        self.fields.push(Field::new(name, display_name, value));
        self
    }

    /// Adds a strict field.
    pub fn strict_field(
        &mut self,
        name: impl Into<Cow<'static, str>>,
        display_name: impl Into<Cow<'static, str>>,
        value: impl Into<String>,
    ) -> &mut Entity {
        self.fields.push(Field::strict(name, display_name, value));
        self
    }

    /// Adds a custom link property `link#<name>` (trx `addCustomLinkProperty`).
    pub fn link_property(
        &mut self,
        name: impl Into<Cow<'static, str>>,
        display_name: impl Into<Cow<'static, str>>,
        value: impl Into<String>,
    ) -> &mut Entity {
        self.fields.push(Field::new(
            format!("link#{}", name.into()),
            display_name,
            value,
        ));
        self
    }

    /// Adds a Detail View section.
    pub fn display(&mut self, title: &str, html: impl Into<String>) -> &mut Entity {
        self.display_information
            .push((title.to_string(), html.into()));
        self
    }

    /// Adds an overlay.
    pub fn overlay(
        &mut self,
        property_name: &str,
        position: OverlayPosition,
        kind: OverlayKind,
    ) -> &mut Entity {
        self.overlays.push(Overlay {
            property_name: property_name.to_string(),
            position,
            kind,
        });
        self
    }
}

/// `UIMessage/@MessageType`: the four types the client knows (section 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UiMessageKind {
    /// A modal error dialog.
    FatalError,
    /// An orange line in the Output window.
    PartialError,
    /// A plain line in the Output window.
    Inform,
    /// Shown only with the debug filter.
    Debug,
}

impl UiMessageKind {
    /// The attribute value.
    pub fn as_str(self) -> &'static str {
        match self {
            UiMessageKind::FatalError => "FatalError",
            UiMessageKind::PartialError => "PartialError",
            UiMessageKind::Inform => "Inform",
            UiMessageKind::Debug => "Debug",
        }
    }
}

/// A transform's answer: entities, then UI messages.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Response {
    /// Returned entities, in the order they are written.
    pub entities: Vec<Entity>,
    /// Entities already written as XML (see [`Response::render_entities`]): written after
    /// `entities`. Shared, so a kept answer is given again without copying it.
    pub rendered: Option<Arc<RenderedEntities>>,
    /// UI messages, in order.
    pub messages: Vec<(UiMessageKind, String)>,
}

/// Entities written as the XML that goes inside `<Entities>`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RenderedEntities {
    xml: String,
    written: usize,
    empty: usize,
}

impl RenderedEntities {
    /// Size of the XML, in bytes.
    pub fn len(&self) -> usize {
        self.xml.len()
    }

    /// No entity was written.
    pub fn is_empty(&self) -> bool {
        self.written == 0
    }
}

impl Response {
    /// Moves the entities into [`Response::rendered`], written as XML exactly as
    /// [`write_response`] would write them: for an answer that is kept and given again.
    pub fn render_entities(&mut self) {
        let mut x = Xml { w: Vec::new() };
        let mut written = 0;
        let mut empty = 0;
        if let Some(r) = &self.rendered {
            x.w.extend_from_slice(r.xml.as_bytes());
            written = r.written;
            empty = r.empty;
        }
        // Writing into a Vec cannot fail.
        let _ = x.entities(&self.entities, &mut written, &mut empty);
        self.entities.clear();
        self.rendered = Some(Arc::new(RenderedEntities {
            xml: into_string(x.w),
            written,
            empty,
        }));
    }

    /// Adds an `Inform` message.
    pub fn inform(&mut self, m: impl Into<String>) {
        self.messages.push((UiMessageKind::Inform, m.into()));
    }

    /// Adds a `PartialError` message.
    pub fn partial_error(&mut self, m: impl Into<String>) {
        self.messages.push((UiMessageKind::PartialError, m.into()));
    }

    /// Adds a `FatalError` message.
    pub fn fatal_error(&mut self, m: impl Into<String>) {
        self.messages.push((UiMessageKind::FatalError, m.into()));
    }

    /// Adds a `Debug` message.
    pub fn debug(&mut self, m: impl Into<String>) {
        self.messages.push((UiMessageKind::Debug, m.into()));
    }
}

// ---------------------------------------------------------------------------------------------
// Writing

/// Escapes for text content: `& < >`, and CR as a reference so it is not read back as LF.
const fn text_escape(b: u8) -> Option<&'static [u8]> {
    match b {
        b'&' => Some(b"&amp;"),
        b'<' => Some(b"&lt;"),
        b'>' => Some(b"&gt;"),
        b'\r' => Some(b"&#xD;"),
        _ => None,
    }
}

/// Escapes for attribute values: `& < > "`, and TAB, LF, CR as references so attribute-value
/// normalisation does not turn them into spaces.
const fn attr_escape(b: u8) -> Option<&'static [u8]> {
    match b {
        b'"' => Some(b"&quot;"),
        b'\t' => Some(b"&#x9;"),
        b'\n' => Some(b"&#xA;"),
        _ => text_escape(b),
    }
}

/// Bytes that need more than copying in text content or attribute values: what [`sanitize`]
/// may replace and what [`attr_escape`] (a superset of [`text_escape`]) rewrites. A string
/// with none of them (nearly every one) is written in a single copy after one scan.
const NEEDS_CARE: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = may_need_sanitizing(b as u8) || attr_escape(b as u8).is_some();
        b += 1;
    }
    t
};

/// Writes the document; give it a buffered writer (a `Vec`, or a `BufWriter` for anything
/// else): every piece is written separately.
struct Xml<W: Write> {
    w: W,
}

impl<W: Write> Xml<W> {
    fn raw(&mut self, s: &str) -> io::Result<()> {
        self.w.write_all(s.as_bytes())
    }

    /// Sanitises `s`, then writes it with `escape` applied (every escaped byte is ASCII, so
    /// the chunks between them are whole characters).
    fn escaped(&mut self, s: &str, escape: impl Fn(u8) -> Option<&'static [u8]>) -> io::Result<()> {
        if !s.bytes().any(|b| NEEDS_CARE[usize::from(b)]) {
            return self.w.write_all(s.as_bytes());
        }
        let s = sanitize(s);
        let bytes = s.as_bytes();
        let mut start = 0;
        for (i, &b) in bytes.iter().enumerate() {
            if let Some(rep) = escape(b) {
                self.w.write_all(bytes.get(start..i).unwrap_or_default())?;
                self.w.write_all(rep)?;
                start = i + 1;
            }
        }
        self.w.write_all(bytes.get(start..).unwrap_or_default())
    }

    fn newline(&mut self, depth: usize) -> io::Result<()> {
        self.raw("\n")?;
        for _ in 0..depth {
            self.raw("  ")?;
        }
        Ok(())
    }

    /// `<name a="v" …>`; attributes must be given in alphabetical order.
    fn open(&mut self, depth: usize, name: &str, attrs: &[(&str, &str)]) -> io::Result<()> {
        if depth > 0 {
            self.newline(depth)?;
        }
        self.raw("<")?;
        self.raw(name)?;
        for (k, v) in attrs {
            self.raw(" ")?;
            self.raw(k)?;
            self.raw("=\"")?;
            self.escaped(v, attr_escape)?;
            self.raw("\"")?;
        }
        self.raw(">")
    }

    /// `</name>` on its own line.
    fn close(&mut self, depth: usize, name: &str) -> io::Result<()> {
        if depth > 0 {
            self.newline(depth)?;
        } else {
            self.raw("\n")?;
        }
        self.raw("</")?;
        self.raw(name)?;
        self.raw(">")
    }

    /// `<name …>text</name>` on one line.
    fn leaf(
        &mut self,
        depth: usize,
        name: &str,
        attrs: &[(&str, &str)],
        text: &str,
    ) -> io::Result<()> {
        self.open(depth, name, attrs)?;
        self.escaped(text, text_escape)?;
        self.raw("</")?;
        self.raw(name)?;
        self.raw(">")
    }

    fn field(
        &mut self,
        name: &str,
        display: &str,
        rule: MatchingRule,
        value: &str,
    ) -> io::Result<()> {
        let display = if display.is_empty() { name } else { display };
        self.leaf(
            5,
            "Field",
            &[
                ("DisplayName", display),
                ("MatchingRule", rule.as_str()),
                ("Name", name),
            ],
            value,
        )
    }

    fn entity(&mut self, e: &Entity) -> io::Result<()> {
        self.open(3, "Entity", &[("Type", &e.entity_type)])?;
        self.leaf(4, "Value", &[], &e.value)?;
        self.leaf(4, "Weight", &[], &e.weight.to_string())?;
        if !e.display_information.is_empty() {
            self.open(4, "DisplayInformation", &[])?;
            for (title, html) in &e.display_information {
                self.leaf(5, "Label", &[("Name", title), ("Type", "text/html")], html)?;
            }
            self.close(4, "DisplayInformation")?;
        }
        let reserved = reserved_fields(e);
        if !e.fields.is_empty() || !reserved.is_empty() {
            self.open(4, "AdditionalFields", &[])?;
            for f in &e.fields {
                self.field(&f.name, &f.display_name, f.matching_rule, &f.value)?;
            }
            for (name, display, value) in &reserved {
                self.field(name, display, MatchingRule::Loose, value)?;
            }
            self.close(4, "AdditionalFields")?;
        }
        if !e.overlays.is_empty() {
            self.open(4, "Overlays", &[])?;
            for o in &e.overlays {
                self.open(
                    5,
                    "Overlay",
                    &[
                        ("position", o.position.as_str()),
                        ("propertyName", &o.property_name),
                        ("type", o.kind.as_str()),
                    ],
                )?;
                self.raw("</Overlay>")?;
            }
            self.close(4, "Overlays")?;
        }
        if let Some(url) = &e.icon_url {
            self.leaf(4, "IconURL", &[], url)?;
        }
        self.close(3, "Entity")
    }

    /// Every entity with a value, counting those written and those left out for having none.
    fn entities(
        &mut self,
        entities: &[Entity],
        written: &mut usize,
        empty: &mut usize,
    ) -> io::Result<()> {
        for e in entities {
            if e.value.is_empty() {
                *empty += 1;
                continue;
            }
            self.entity(e)?;
            *written += 1;
        }
        Ok(())
    }

    fn finish(mut self) -> io::Result<()> {
        self.w.flush()
    }
}

/// The reserved fields for an entity's link, bookmark and note, as (name, display name,
/// value), with trx's display names (section 6).
fn reserved_fields(e: &Entity) -> Vec<(&'static str, &'static str, String)> {
    let l = &e.link;
    let mut out = Vec::new();
    if let Some(label) = &l.label {
        out.push(("link#maltego.link.label", "Label", label.clone()));
    }
    if let Some(show) = l.show_label {
        let v = if show { "1" } else { "2" };
        out.push(("link#maltego.link.show-label", "ShowLabel", v.to_string()));
    }
    if let Some(style) = l.style {
        out.push((
            "link#maltego.link.style",
            "LinkStyle",
            style.as_str().to_string(),
        ));
    }
    if let Some(color) = &l.color {
        out.push(("link#maltego.link.color", "LinkColor", color.clone()));
    }
    if let Some(t) = l.thickness {
        out.push(("link#maltego.link.thickness", "Thickness", t.to_string()));
    }
    if let Some(d) = l.direction {
        out.push((
            "link#maltego.link.direction",
            "link#maltego.link.direction",
            d.as_str().to_string(),
        ));
    }
    if let Some(b) = e.bookmark {
        out.push(("bookmark#", "Bookmark", b.to_string()));
    }
    if let Some(n) = &e.note {
        out.push(("notes#", "Notes", n.clone()));
    }
    out
}

/// A response document in three pieces, so that kept entities ([`Response::rendered`]) are
/// sent as they are, never copied: `head`, then `shared`, then `tail`.
#[derive(Debug, Clone, Default)]
pub struct Document {
    /// Up to and including `<Entities>`.
    pub head: Vec<u8>,
    /// The rendered entities, if any.
    pub shared: Option<Arc<RenderedEntities>>,
    /// The other entities, the messages and the closing tags.
    pub tail: Vec<u8>,
}

impl Document {
    /// Total size in bytes.
    pub fn len(&self) -> usize {
        self.head.len() + self.shared.as_ref().map_or(0, |s| s.len()) + self.tail.len()
    }

    /// Never true: a document always has its envelope.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl AsRef<[u8]> for RenderedEntities {
    fn as_ref(&self) -> &[u8] {
        self.xml.as_bytes()
    }
}

/// `r` as a `MaltegoTransformResponseMessage` (see the module documentation for the exact
/// form), in pieces. Entities whose value is empty are left out, and a `PartialError` saying
/// how many were is added after the response's own messages.
pub fn response_document(r: &Response) -> Document {
    let mut head = Xml { w: Vec::new() };
    // Writing into a Vec cannot fail.
    let _ = head
        .open(0, "MaltegoMessage", &[])
        .and_then(|()| head.open(1, "MaltegoTransformResponseMessage", &[]))
        .and_then(|()| head.open(2, "Entities", &[]));
    let mut written = 0usize;
    let mut empty = 0usize;
    if let Some(rendered) = &r.rendered {
        written += rendered.written;
        empty += rendered.empty;
    }
    // About what a session entity takes (3.8 kB), so a large answer is not built by doubling.
    let mut tail = Xml {
        w: Vec::with_capacity(1024 + r.entities.len().saturating_mul(4096)),
    };
    let _ = tail.rest(r, written, empty);
    Document {
        head: head.w,
        shared: r.rendered.clone(),
        tail: tail.w,
    }
}

impl<W: Write> Xml<W> {
    /// The entities not rendered yet, then everything after them.
    fn rest(&mut self, r: &Response, mut written: usize, mut empty: usize) -> io::Result<()> {
        self.entities(&r.entities, &mut written, &mut empty)?;
        if written == 0 {
            self.raw("</Entities>")?;
        } else {
            self.close(2, "Entities")?;
        }
        self.open(2, "UIMessages", &[])?;
        for (kind, text) in &r.messages {
            self.leaf(3, "UIMessage", &[("MessageType", kind.as_str())], text)?;
        }
        if empty > 0 {
            let text = format!("{empty} result entities had an empty value and were left out");
            self.leaf(
                3,
                "UIMessage",
                &[("MessageType", UiMessageKind::PartialError.as_str())],
                &text,
            )?;
        }
        if r.messages.is_empty() && empty == 0 {
            self.raw("</UIMessages>")?;
        } else {
            self.close(2, "UIMessages")?;
        }
        self.close(1, "MaltegoTransformResponseMessage")?;
        self.close(0, "MaltegoMessage")
    }
}

/// Streams `r` as a `MaltegoTransformResponseMessage` ([`response_document`], in one piece).
pub fn write_response<W: Write>(w: W, r: &Response) -> io::Result<()> {
    write_document(w, &response_document(r))
}

fn write_document<W: Write>(mut w: W, d: &Document) -> io::Result<()> {
    w.write_all(&d.head)?;
    if let Some(shared) = &d.shared {
        w.write_all(shared.xml.as_bytes())?;
    }
    w.write_all(&d.tail)?;
    w.flush()
}

/// Streams a `MaltegoTransformExceptionMessage` with one exception, with a `code` attribute
/// when given (canari and the Go library write one; trx never does).
pub fn write_exception<W: Write>(w: W, message: &str, code: Option<i32>) -> io::Result<()> {
    write_exceptions(w, &[(message, code)])
}

/// Streams a `MaltegoTransformExceptionMessage` with each (message, code) as an `Exception`
/// (`w` should be buffered, as for [`write_response`]).
pub fn write_exceptions<W: Write>(w: W, exceptions: &[(&str, Option<i32>)]) -> io::Result<()> {
    let mut x = Xml { w };
    x.open(0, "MaltegoMessage", &[])?;
    x.open(1, "MaltegoTransformExceptionMessage", &[])?;
    x.open(2, "Exceptions", &[])?;
    for (message, code) in exceptions {
        match code {
            Some(c) => x.leaf(3, "Exception", &[("code", &c.to_string())], message)?,
            None => x.leaf(3, "Exception", &[], message)?,
        }
    }
    if exceptions.is_empty() {
        x.raw("</Exceptions>")?;
    } else {
        x.close(2, "Exceptions")?;
    }
    x.close(1, "MaltegoTransformExceptionMessage")?;
    x.close(0, "MaltegoMessage")?;
    x.finish()
}

fn into_string(buf: Vec<u8>) -> String {
    // Only `&str` pieces are ever written, so this is always UTF-8.
    String::from_utf8(buf).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// [`write_response`] into a `String`.
pub fn response_to_string(r: &Response) -> String {
    let d = response_document(r);
    let mut buf = Vec::with_capacity(d.len());
    // Writing to a Vec cannot fail.
    let _ = write_document(&mut buf, &d);
    into_string(buf)
}

/// [`write_exception`] into a `String`.
pub fn exception_to_string(message: &str, code: Option<i32>) -> String {
    let mut buf = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = write_exception(&mut buf, message, code);
    into_string(buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::maltego::entity as types;
    use crate::maltego::sanitize::sanitize;

    const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/maltego");

    fn fixture(name: &str) -> String {
        let path = format!("{DATA}/{name}");
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    /// A canonical form of an XML document for semantic comparison (maltego.md section 13.3):
    /// whitespace between elements ignored, attributes sorted, CDATA and text alike, `<a/>`
    /// and `<a></a>` alike, leaf text exact; the children of elements named in `unordered`
    /// are compared as a multiset.
    fn canonical(xml: &str, unordered: &[&str]) -> String {
        let doc = roxmltree::Document::parse(xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
        let mut out = String::new();
        canon(doc.root_element(), unordered, 0, &mut out);
        out
    }

    fn canon(n: roxmltree::Node<'_, '_>, unordered: &[&str], depth: usize, out: &mut String) {
        let name = n.tag_name().name();
        let mut attrs: Vec<_> = n
            .attributes()
            .map(|a| format!("{}={:?}", a.name(), a.value()))
            .collect();
        attrs.sort();
        out.push_str(&format!(
            "{}{} [{}]",
            "  ".repeat(depth),
            name,
            attrs.join(" ")
        ));
        let elements: Vec<_> = n.children().filter(|c| c.is_element()).collect();
        let text: String = n
            .children()
            .filter(|c| c.is_text())
            .filter_map(|c| c.text())
            .collect();
        if elements.is_empty() {
            out.push_str(&format!(" {text:?}\n"));
            return;
        }
        assert!(
            text.trim().is_empty(),
            "mixed content in <{name}>: {text:?}"
        );
        out.push('\n');
        let mut children: Vec<String> = elements
            .iter()
            .map(|c| {
                let mut s = String::new();
                canon(*c, unordered, depth + 1, &mut s);
                s
            })
            .collect();
        if unordered.contains(&name) {
            children.sort();
        }
        for c in children {
            out.push_str(&c);
        }
    }

    fn assert_same(ours: &str, reference: &str, unordered: &[&str]) {
        let a = canonical(ours, unordered);
        let b = canonical(reference, unordered);
        assert_eq!(a, b, "\nours:\n{ours}\nreference:\n{reference}");
    }

    /// The response `trx_build_responses.py` builds for `response_session_example.xml`.
    fn session_example() -> Response {
        let mut r = Response::default();
        let mut s = Entity::new(types::SESSION, "TCP 10.0.0.5:51515 <-> 93.184.216.34:443");
        for (name, disp, strict, val) in [
            ("session.protocol", "Protocol", true, "TCP"),
            ("session.src_ip", "Source IP", true, "10.0.0.5"),
            ("session.src_port", "Source port", true, "51515"),
            ("session.dst_ip", "Destination IP", true, "93.184.216.34"),
            ("session.dst_port", "Destination port", true, "443"),
            ("session.packets", "Packets", false, "42"),
            ("session.bytes", "Bytes", false, "31337"),
            (
                "session.first_seen",
                "First seen",
                false,
                "2024-01-01 00:00:00.000000",
            ),
            (
                "session.last_seen",
                "Last seen",
                false,
                "2024-01-01 00:00:05.250000",
            ),
            (
                "session.pcap",
                "Session pcap",
                false,
                "/cases/out/tcp-000001.pcap",
            ),
        ] {
            if strict {
                s.strict_field(name, disp, val);
            } else {
                s.field(name, disp, val);
            }
        }
        s.link.label = Some("tcp.stream 1".to_string());
        r.entities.push(s);
        let mut ip = Entity::new(types::IPV4, "93.184.216.34");
        ip.strict_field("ipv4-address", "IP Address", "93.184.216.34")
            .field("ipaddress.internal", "Internal", "false");
        r.entities.push(ip);
        let mut port = Entity::new(types::PORT, "443");
        port.strict_field("port.number", "Port number", "443");
        r.entities.push(port);
        r
    }

    #[test]
    fn writes_session_example_as_trx_does() {
        let ours = response_to_string(&session_example());
        let reference = fixture("trx/response_session_example.xml");
        assert_same(&ours, &reference, &[]);
        assert_eq!(ours, reference, "byte-identical to maltego-trx");
    }

    /// Rendered entities (kept for repeats) are written byte for byte as the entities
    /// themselves would be, including entities without a value, entities added after the
    /// rendering, and no entities at all.
    #[test]
    fn writes_rendered_entities_as_the_entities_themselves() {
        let mut with_empty = session_example();
        with_empty.entities.push(Entity::new(types::IPV4, ""));
        for original in [session_example(), with_empty, Response::default()] {
            let direct = response_to_string(&original);
            let mut rendered = original.clone();
            rendered.render_entities();
            assert!(rendered.entities.is_empty());
            assert_eq!(response_to_string(&rendered), direct);
            let mut split = original.clone();
            let later = split.entities.split_off(split.entities.len() / 2);
            split.render_entities();
            split.entities = later;
            assert_eq!(response_to_string(&split), direct);
        }
    }

    #[test]
    fn writes_empty_and_compact_responses() {
        let ours = response_to_string(&Response::default());
        assert_eq!(ours, fixture("trx/response_empty.xml"));
        let mut r = Response::default();
        r.entities.push(Entity::new(types::PHRASE, "compact"));
        assert_same(
            &response_to_string(&r),
            &fixture("trx/response_compact_no_indent.xml"),
            &[],
        );
    }

    #[test]
    fn writes_every_entity_feature() {
        let mut e = Entity::new(types::IPV4, "192.0.2.10");
        e.weight = 42;
        e.strict_field("ipv4-address", "IP Address", "192.0.2.10")
            .field("packetpivot.pcap", "Source capture", "/cases/a.pcap")
            .field("no.display.name", "", "x")
            .display(
                "Summary",
                "<b>Sessions:</b> 3<br/><a href='https://example.org/?a=1&b=2'>link</a>",
            )
            .display("Info", "second label body")
            .link_property("packetpivot.bytes", "Bytes", "1234")
            .field("overlay.text", "Overlay text", "TLS")
            .overlay("overlay.text", OverlayPosition::North, OverlayKind::Text)
            .overlay("#45e06f", OverlayPosition::NorthWest, OverlayKind::Colour)
            .overlay("Champion", OverlayPosition::West, OverlayKind::Image)
            .overlay(
                "overlay.text",
                OverlayPosition::SouthWest,
                OverlayKind::Text,
            )
            .overlay("overlay.text", OverlayPosition::South, OverlayKind::Text)
            .overlay("overlay.text", OverlayPosition::Center, OverlayKind::Text);
        e.link = Link {
            label: Some("tcp/443".to_string()),
            show_label: None,
            color: Some("#FF0000".to_string()),
            thickness: Some(3),
            style: Some(LinkStyle::Dashed),
            direction: Some(LinkDirection::OutputToInput),
        };
        e.bookmark = Some(4);
        e.note = Some("first seen 2024-01-01T00:00:00Z".to_string());
        e.icon_url = Some("https://example.org/icons/session.png".to_string());
        let mut r = Response::default();
        r.entities.push(e);
        r.inform("1 entity returned");
        let ours = response_to_string(&r);
        // Reserved link/bookmark/notes fields come after the entity's own fields here, in
        // call order in trx: the field list is compared as a set (Maltego keys it by name).
        assert_same(
            &ours,
            &fixture("trx/response_entity_all_features.xml"),
            &["AdditionalFields"],
        );
        let strict = ours.find("<Overlays>").zip(ours.find("<IconURL>"));
        assert!(matches!(strict, Some((o, i)) if o < i), "trx element order");
    }

    #[test]
    fn writes_ui_messages_and_error_replies() {
        let mut r = Response::default();
        r.fatal_error("this is a FatalError message");
        r.partial_error("this is a PartialError message");
        r.inform("this is a Inform message");
        r.debug("this is a Debug message");
        // trx passes an unvalidated lower-case type through; this writer has only the four.
        let reference = fixture("trx/response_ui_messages_all_types.xml").replace(
            "\n      <UIMessage MessageType=\"inform\">lowercase type passes through unchanged</UIMessage>",
            "",
        );
        assert_eq!(response_to_string(&r), reference);

        for (file, text) in [
            (
                "trx/response_local_unknown_transform.xml",
                "Unable to find a transform matching 'nope'.",
            ),
            (
                "trx/response_server_error_partialerror.xml",
                "An exception occurred with the transform. Check the logs for more details.",
            ),
        ] {
            let mut r = Response::default();
            r.partial_error(text);
            assert_eq!(response_to_string(&r), fixture(file), "{file}");
        }
    }

    #[test]
    fn writes_exceptions_as_trx_and_canari_do() {
        let mut buf = Vec::new();
        write_exceptions(
            &mut buf,
            &[
                ("Capture file not found: /cases/missing.pcap", None),
                ("second exception <with> & special chars", None),
            ],
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let ours = String::from_utf8(buf).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ours, fixture("trx/response_exception_message.xml"));

        let ours = exception_to_string("explicit code attribute", Some(600));
        assert_same(
            &ours,
            &fixture("canari/response_canari_exception_with_code.xml"),
            &[],
        );
        let mut buf = Vec::new();
        write_exceptions(
            &mut buf,
            &[("Capture file not found", None), ("with code", None)],
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let ours = String::from_utf8(buf).unwrap_or_else(|e| panic!("{e}"));
        assert_same(&ours, &fixture("canari/response_canari_exception.xml"), &[]);
        assert!(exception_to_string("a\0b", None).contains("<Exception>a\u{FFFD}b</Exception>"));
    }

    #[test]
    fn writes_escaping_as_trx_does_but_keeps_cr() {
        let clean = "a<b>&c\"d'e ]]> é ü 中文 😀 tab\tnl\ncr\r end";
        let build = |s: &str| {
            let mut r = Response::default();
            let mut e = Entity::new(types::PHRASE, s);
            e.field("prop<&>\"", "Display \"name\" <&>", s)
                .display("Label <&> \"quoted\"", s);
            r.entities.push(e);
            r.inform(s);
            response_to_string(&r)
        };
        // trx loses CR (its C14N re-parse turns it into LF, section 7.1): compare without it.
        let reference = fixture("trx/response_escaping_no_control_chars.xml");
        assert_same(&build(&clean.replace('\r', "\n")), &reference, &[]);
        let ours = build(clean);
        assert!(ours.contains("cr&#xD; end"), "{ours}");
        assert!(ours.contains("]]&gt;") && !ours.contains("]]>"));
        let doc = roxmltree::Document::parse(&ours).unwrap_or_else(|e| panic!("{e}"));
        let value = doc
            .descendants()
            .find(|n| n.has_tag_name("Value"))
            .and_then(|n| n.text());
        assert_eq!(value, Some(clean));
    }

    #[test]
    fn writes_control_characters_sanitised() {
        let nasty = "nul\0 bel\x07 esc\x1b \u{FFFE}\u{FFFF}";
        let mut r = Response::default();
        let mut e = Entity::new(nasty, nasty);
        e.field(nasty, nasty, nasty).display(nasty, nasty);
        e.note = Some(nasty.to_string());
        r.entities.push(e);
        r.inform(nasty);
        let ours = response_to_string(&r);
        let doc = roxmltree::Document::parse(&ours).unwrap_or_else(|e| panic!("{e}\n{ours}"));
        let want = sanitize(nasty);
        assert_eq!(
            doc.descendants()
                .filter(|n| n.is_element() && n.text() == Some(&want))
                .count(),
            5
        );
    }

    #[test]
    fn writes_no_empty_values() {
        let mut r = Response::default();
        r.entities.push(Entity::new(types::PHRASE, ""));
        r.entities.push(Entity::new(types::PHRASE, "kept"));
        let ours = response_to_string(&r);
        assert!(!ours.contains("<Value></Value>"));
        assert!(ours.contains("<Value>kept</Value>"));
        assert!(ours.contains(
            "<UIMessage MessageType=\"PartialError\">1 result entities had an empty value and were left out</UIMessage>"
        ));
        let mut only_empty = Response::default();
        only_empty.entities.push(Entity::new(types::PHRASE, ""));
        let ours = response_to_string(&only_empty);
        assert!(ours.contains("<Entities></Entities>"), "{ours}");
        canonical(&ours, &[]);
    }

    #[test]
    fn writes_link_show_label_and_bidirectional() {
        let mut e = Entity::new(types::PORT, "443");
        e.link.show_label = Some(false);
        e.link.direction = Some(LinkDirection::Bidirectional);
        e.link.style = Some(LinkStyle::DashDot);
        e.bookmark = Some(0);
        let mut r = Response::default();
        r.entities.push(e);
        let ours = response_to_string(&r);
        for want in [
            r#"<Field DisplayName="ShowLabel" MatchingRule="loose" Name="link#maltego.link.show-label">2</Field>"#,
            r#"Name="link#maltego.link.direction">bidirectional</Field>"#,
            r#"Name="link#maltego.link.style">3</Field>"#,
            r#"<Field DisplayName="Bookmark" MatchingRule="loose" Name="bookmark#">0</Field>"#,
        ] {
            assert!(ours.contains(want), "{want}\n{ours}");
        }
    }

    #[test]
    fn round_trips_through_our_own_request_parser() {
        // Not the same message type, but the same escaping: a value written by the response
        // writer reads back identically with the request parser's text rules.
        let v = "x\r\ny\rz & <w> \"q\" \t";
        let ours = response_to_string(&{
            let mut r = Response::default();
            r.entities.push(Entity::new(types::PHRASE, v));
            r
        });
        let body = ours
            .replace(
                "MaltegoTransformResponseMessage",
                "MaltegoTransformRequestMessage",
            )
            .replace("<UIMessages></UIMessages>", "");
        let req = crate::maltego::request::TransformRequest::parse(body.as_bytes())
            .unwrap_or_else(|e| panic!("{e}\n{body}"));
        assert_eq!(req.value, v);
    }

    fn nasty() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let piece = prop_oneof![
            Just("]]>".to_string()),
            Just("<".to_string()),
            Just("&".to_string()),
            Just("\r".to_string()),
            Just("\r\n".to_string()),
            Just("\"".to_string()),
            Just("\u{FFFE}".to_string()),
            Just("\u{FFFF}".to_string()),
            "[\\x00-\\x1f]",
            "\\PC{0,3}",
            any::<char>().prop_map(String::from),
        ];
        proptest::collection::vec(piece, 0..8).prop_map(|v| v.concat())
    }

    proptest::proptest! {
        #[test]
        fn round_trips_arbitrary_strings(
            value in nasty(), name in nasty(), fvalue in nasty(), label in nasty(),
            html in nasty(), link in nasty(), message in nasty(), ty in nasty(),
        ) {
            let value = format!("v{value}");
            let mut e = Entity::new(&ty, value.clone());
            e.field(name.clone(), label.clone(), fvalue.clone()).display(&label, html.clone());
            e.link.label = Some(link.clone());
            let mut r = Response::default();
            r.entities.push(e);
            r.inform(message.clone());
            let xml = response_to_string(&r);
            let doc = roxmltree::Document::parse(&xml)
                .map_err(|err| proptest::test_runner::TestCaseError::fail(format!("{err}\n{xml}")))?;
            let find = |tag: &'static str| doc.descendants().filter(move |n| n.has_tag_name(tag));
            let s = |x: &str| Some(sanitize(x).into_owned());
            let owned = |x: Option<&str>| x.map(str::to_string);
            // A leaf's text: roxmltree has no text node for an empty element.
            let text = |n: Option<roxmltree::Node<'_, '_>>| n.map(|n| n.text().unwrap_or("").to_string());
            let entity = find("Entity").next();
            proptest::prop_assert_eq!(owned(entity.and_then(|n| n.attribute("Type"))), s(&ty));
            proptest::prop_assert_eq!(text(find("Value").next()), s(&value));
            let fields: Vec<_> = find("Field").collect();
            proptest::prop_assert_eq!(fields.len(), 2);
            let f = fields.first().copied();
            proptest::prop_assert_eq!(owned(f.and_then(|n| n.attribute("Name"))), s(&name));
            let display = if label.is_empty() { &name } else { &label };
            proptest::prop_assert_eq!(owned(f.and_then(|n| n.attribute("DisplayName"))), s(display));
            proptest::prop_assert_eq!(text(f), s(&fvalue));
            proptest::prop_assert_eq!(text(fields.get(1).copied()), s(&link));
            let lab = find("Label").next();
            proptest::prop_assert_eq!(owned(lab.and_then(|n| n.attribute("Name"))), s(&label));
            proptest::prop_assert_eq!(text(lab), s(&html));
            proptest::prop_assert_eq!(text(find("UIMessage").next()), s(&message));

            let ex = exception_to_string(&message, Some(-1));
            let doc = roxmltree::Document::parse(&ex)
                .map_err(|err| proptest::test_runner::TestCaseError::fail(format!("{err}\n{ex}")))?;
            let n = doc.descendants().find(|n| n.has_tag_name("Exception"));
            proptest::prop_assert_eq!(text(n), s(&message));
            proptest::prop_assert_eq!(n.and_then(|n| n.attribute("code")), Some("-1"));
        }
    }
}
