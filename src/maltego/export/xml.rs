//! A tiny XML tree and serialiser for the configuration files, in maltego-trx's output form
//! (C14N 2.0 after `indent()`, `shared/design/maltego.md` 7.1): no declaration, attributes
//! sorted by name, empty elements as `<X></X>`, two-space indentation between elements only,
//! no trailing newline. Writing exactly that form lets the tests compare bytes with the trx
//! fixtures.
//!
//! Escaping is done here, not through `maltego::sanitize`, so that this module has no
//! dependency on the rest of the protocol layer. Every character XML 1.0 forbids becomes
//! U+FFFD (the rule of section 7.2); then text escapes `& < >` and CR, attributes `& < "`,
//! TAB, LF and CR (C14N's choices, so `>` stays literal in attributes as in trx's files).

/// What a character XML 1.0 forbids is replaced with.
const REPLACEMENT: char = '\u{FFFD}';

/// True if XML 1.0 allows `c` in a document (the `Char` production).
pub(crate) fn is_xml_char(c: char) -> bool {
    matches!(c,
        '\t' | '\n' | '\r'
        | '\u{20}'..='\u{D7FF}'
        | '\u{E000}'..='\u{FFFD}'
        | '\u{10000}'..='\u{10FFFF}')
}

/// Escapes `s` for text content (`in_attribute == false`) or a double-quoted attribute value,
/// appending to `out`.
fn escape_into(out: &mut String, s: &str, in_attribute: bool) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' if !in_attribute => out.push_str("&gt;"),
            '"' if in_attribute => out.push_str("&quot;"),
            '\t' if in_attribute => out.push_str("&#x9;"),
            '\n' if in_attribute => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            c if is_xml_char(c) => out.push(c),
            _ => out.push(REPLACEMENT),
        }
    }
}

/// What an element holds.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Body {
    Empty,
    Text(String),
    Children(Vec<El>),
}

/// One element: name, attributes (written sorted by name), and either text or children.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct El {
    name: &'static str,
    attrs: Vec<(&'static str, String)>,
    body: Body,
}

impl El {
    /// An element with no attributes and no content.
    pub(crate) fn new(name: &'static str) -> El {
        El {
            name,
            attrs: Vec::new(),
            body: Body::Empty,
        }
    }

    /// Adds an attribute (a later one with the same name is written as well: callers use
    /// distinct names).
    pub(crate) fn attr(mut self, name: &'static str, value: impl Into<String>) -> El {
        self.attrs.push((name, value.into()));
        self
    }

    /// Sets the text content (replacing any children).
    pub(crate) fn text(mut self, text: impl Into<String>) -> El {
        self.body = Body::Text(text.into());
        self
    }

    /// Appends a child element (replacing any text).
    pub(crate) fn child(mut self, child: El) -> El {
        match &mut self.body {
            Body::Children(children) => children.push(child),
            body => *body = Body::Children(vec![child]),
        }
        self
    }

    /// Appends child elements.
    pub(crate) fn children(self, children: impl IntoIterator<Item = El>) -> El {
        children.into_iter().fold(self, El::child)
    }

    /// The document: this element as the root, without declaration or trailing newline.
    pub(crate) fn to_document(&self) -> String {
        let mut out = String::new();
        self.write(&mut out, 0);
        out
    }

    fn write(&self, out: &mut String, depth: usize) {
        out.push('<');
        out.push_str(self.name);
        let mut attrs: Vec<&(&'static str, String)> = self.attrs.iter().collect();
        attrs.sort_by(|a, b| a.0.cmp(b.0));
        for (name, value) in attrs {
            out.push(' ');
            out.push_str(name);
            out.push_str("=\"");
            escape_into(out, value, true);
            out.push('"');
        }
        out.push('>');
        match &self.body {
            Body::Empty => {}
            Body::Text(text) => escape_into(out, text, false),
            Body::Children(children) => {
                for child in children {
                    out.push('\n');
                    push_indent(out, depth + 1);
                    child.write(out, depth + 1);
                }
                out.push('\n');
                push_indent(out, depth);
            }
        }
        out.push_str("</");
        out.push_str(self.name);
        out.push('>');
    }
}

fn push_indent(out: &mut String, depth: usize) {
    for _ in 0..depth {
        out.push_str("  ");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_trx_form() {
        let doc = El::new("A")
            .attr("z", "1")
            .attr("b", "x<y>\"&\t\n\r")
            .child(El::new("B"))
            .child(El::new("C").text("a<b>&c\r\"'"))
            .to_document();
        assert_eq!(
            doc,
            "<A b=\"x&lt;y>&quot;&amp;&#x9;&#xA;&#xD;\" z=\"1\">\n  <B></B>\n  \
             <C>a&lt;b&gt;&amp;c&#xD;\"'</C>\n</A>"
        );
    }

    #[test]
    fn writes_replacement_for_invalid_chars() {
        let doc = El::new("A")
            .attr("a", "x\u{0}y\u{FFFE}")
            .text("\u{1b}]]>\u{FFFF}")
            .to_document();
        assert_eq!(
            doc,
            "<A a=\"x\u{FFFD}y\u{FFFD}\">\u{FFFD}]]&gt;\u{FFFD}</A>"
        );
        let parsed = roxmltree::Document::parse(&doc);
        assert!(parsed.is_ok(), "{parsed:?}");
    }
}
