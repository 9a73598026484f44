//! Local-mode arguments (`shared/design/maltego.md` section 9).
//!
//! Maltego runs a local transform as `<command> <parameters…> <entity value>
//! <name1=value1#name2=value2#…>`; packetpivot's parameters are `local <transform>`, so what
//! reaches [`parse_local_args`] is `[value, properties?, extra…]`:
//!
//! - the **value is taken verbatim** (as maltego-trx; whether the client escapes it is
//!   unverified);
//! - the properties argument is split on **unescaped `#`**, each part on its **first
//!   unescaped `=`** (canari's rule: `url=http://h/?a=1` keeps its `=`; trx crashes), then
//!   `\#` → `#`, `\=` → `=`, `\\` → `\`; any other backslash is kept as written;
//! - a missing or empty properties argument means no properties; empty parts (`a=1##b=2`, a
//!   trailing `#`) are skipped; a part without `=` becomes an empty-valued property and a
//!   warning; a repeated name is kept (lookups take the last, as trx's dict does);
//! - arguments after the properties are ignored with a warning;
//! - netcap's `&amp;` → `&` mapping is not applied (unverified client behaviour).
//!
//! Warnings are returned in [`LocalArgs::warnings`] for the caller to print on stderr: stdout
//! carries only the Maltego message.

use super::request::TransformRequest;

/// Why local-mode arguments are unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LocalArgsError {
    /// No entity value argument at all (trx prints nothing; packetpivot answers with an
    /// ExceptionMessage).
    #[error("missing entity value: Maltego runs `local <transform> <value> [name=value#…]`")]
    MissingValue,
}

/// Local-mode arguments, split, with what deserves a warning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalArgs {
    /// The entity value, verbatim.
    pub value: String,
    /// Properties as (name, value), in argument order.
    pub fields: Vec<(String, String)>,
    /// One line per oddity (property without `=`, ignored extra arguments).
    pub warnings: Vec<String>,
}

/// Splits local-mode arguments (after the transform name) into the value and the properties;
/// see the module documentation. Use [`parse_local_args_detailed`] to get the warnings.
pub fn parse_local_args(
    args: &[String],
) -> Result<(String, Vec<(String, String)>), LocalArgsError> {
    parse_local_args_detailed(args).map(|a| (a.value, a.fields))
}

/// [`parse_local_args`] with the warnings kept.
pub fn parse_local_args_detailed(args: &[String]) -> Result<LocalArgs, LocalArgsError> {
    let mut it = args.iter();
    let value = it.next().ok_or(LocalArgsError::MissingValue)?.clone();
    let mut warnings = Vec::new();
    let fields = match it.next() {
        Some(props) => split_properties(props, &mut warnings),
        None => Vec::new(),
    };
    let extra = it.len();
    if extra > 0 {
        warnings.push(format!(
            "ignoring {extra} argument(s) after the properties argument"
        ));
    }
    Ok(LocalArgs {
        value,
        fields,
        warnings,
    })
}

/// Builds the request a local transform runs on: `entity_type` is the transform's declared
/// input (local mode sends none), `limit` the local cap (section 9.3: 100 unless overridden);
/// weight 100, no settings, no Genealogy. Warnings are returned for stderr.
pub fn local_request(
    entity_type: &str,
    args: &[String],
    limit: u32,
) -> Result<(TransformRequest, Vec<String>), LocalArgsError> {
    let a = parse_local_args_detailed(args)?;
    let mut r = TransformRequest::new(entity_type, &a.value);
    for (name, value) in &a.fields {
        r = r.with_field(name, value);
    }
    r.soft_limit = limit;
    r.hard_limit = limit;
    Ok((r, a.warnings))
}

/// Default entity cap in local mode: the `Slider` maltego-trx reports there (section 9.3).
pub const LOCAL_DEFAULT_LIMIT: u32 = 100;

/// One character of the properties argument, and whether a backslash escaped it.
type Unit = (char, bool);

fn split_properties(props: &str, warnings: &mut Vec<String>) -> Vec<(String, String)> {
    // Tokenise once: a backslash escapes the next character, whatever it is.
    let mut parts: Vec<Vec<Unit>> = vec![Vec::new()];
    let mut chars = props.chars();
    while let Some(c) = chars.next() {
        let unit = match c {
            '\\' => match chars.next() {
                Some(n) => (n, true),
                None => ('\\', false),
            },
            '#' => {
                parts.push(Vec::new());
                continue;
            }
            c => (c, false),
        };
        if let Some(part) = parts.last_mut() {
            part.push(unit);
        }
    }
    let mut out = Vec::new();
    for part in parts.into_iter().filter(|p| !p.is_empty()) {
        let eq = part.iter().position(|&(c, escaped)| c == '=' && !escaped);
        let (name, value) = match eq {
            Some(i) => (
                part.get(..i).unwrap_or_default(),
                part.get(i + 1..).unwrap_or_default(),
            ),
            None => {
                let name = unescape(&part);
                warnings.push(format!(
                    "property {name:?} has no '=': taken as an empty value"
                ));
                (part.as_slice(), &[][..])
            }
        };
        out.push((unescape(name), unescape(value)));
    }
    out
}

fn unescape(units: &[Unit]) -> String {
    let mut s = String::with_capacity(units.len());
    for &(c, escaped) in units {
        if escaped && !matches!(c, '#' | '=' | '\\') {
            s.push('\\');
        }
        s.push(c);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/maltego/local");

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    /// The argv recorded in a `local/NN_*.txt` fixture, after `local <transform>`, and the
    /// `echo.prop.*` fields trx printed for it (its echo transform sorts them by name).
    fn recorded(name: &str) -> (Vec<String>, Vec<(String, String)>) {
        let path = format!("{DATA}/{name}");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let argv: Vec<String> = text
            .lines()
            .take_while(|l| !l.starts_with("# exit code"))
            .filter_map(|l| l.strip_prefix("#   [").and_then(|l| l.strip_suffix(']')))
            .map(str::to_string)
            .collect();
        let props = text
            .lines()
            .filter_map(|l| l.split_once("Name=\"echo.prop."))
            .filter_map(|(_, rest)| rest.split_once("\">"))
            .filter_map(|(name, rest)| rest.split_once("</Field>").map(|(v, _)| (name, v)))
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        (argv.into_iter().skip(2).collect(), props)
    }

    fn sorted(mut v: Vec<(String, String)>) -> Vec<(String, String)> {
        v.sort();
        v
    }

    #[test]
    fn parses_trx_local_cases() {
        for file in [
            "02_value_and_props.txt",
            "03_value_only.txt",
            "04_escaped_hash_equals_bslash.txt",
            "06_empty_property_value.txt",
            "10_unicode_value.txt",
            "11_mixed_case_transform_name.txt",
            "12_extra_args_ignored.txt",
        ] {
            let (argv, props) = recorded(file);
            let (value, fields) = parse_local_args(&argv).unwrap_or_else(|e| panic!("{file}: {e}"));
            assert_eq!(Some(&value), argv.first(), "{file}: value verbatim");
            assert_eq!(sorted(fields), props, "{file}");
        }
    }

    #[test]
    fn parses_value_and_props() {
        let (value, fields) = parse_local_args(&args(&[
            "192.0.2.7",
            "ipv4-address=192.0.2.7#ipaddress.internal=false",
        ]))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(value, "192.0.2.7");
        assert_eq!(
            fields,
            pairs(&[
                ("ipv4-address", "192.0.2.7"),
                ("ipaddress.internal", "false")
            ])
        );
    }

    #[test]
    fn parses_escapes() {
        let (_, fields) = parse_local_args(&args(&["v", r"path=/cases/a\#b\=c\\d.pcap#other=x"]))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            fields,
            pairs(&[("path", r"/cases/a#b=c\d.pcap"), ("other", "x")])
        );
        // An escaped backslash before '#' leaves the '#' a separator.
        let (_, fields) =
            parse_local_args(&args(&["v", r"a=x\\#b=y"])).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(fields, pairs(&[("a", r"x\"), ("b", "y")]));
        // Other escapes and a trailing backslash are kept as written; escaped '=' in a name.
        let (_, fields) = parse_local_args(&args(&["v", r"k\=1=C:\temp\n#t=end\"]))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(fields, pairs(&[("k=1", r"C:\temp\n"), ("t", r"end\")]));
    }

    #[test]
    fn parses_first_unescaped_equals_as_canari_does() {
        let (_, fields) =
            parse_local_args(&args(&["v", "url=http://h/?a=1"])).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(fields, pairs(&[("url", "http://h/?a=1")]));
    }

    #[test]
    fn parses_value_verbatim_as_trx_does() {
        let (value, fields) = parse_local_args(&args(&[r"value\=with\=equals", ""]))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(value, r"value\=with\=equals");
        assert!(fields.is_empty());
    }

    #[test]
    fn parses_odd_parts_with_warnings() {
        let a = parse_local_args_detailed(&args(&["v", "flag#a=1##a=2#", "extra1", "extra2"]))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(a.fields, pairs(&[("flag", ""), ("a", "1"), ("a", "2")]));
        assert_eq!(a.warnings.len(), 2, "{:?}", a.warnings);
        assert!(a.warnings.iter().any(|w| w.contains("\"flag\"")));
        assert!(a.warnings.iter().any(|w| w.contains("ignoring 2 argument")));
        let a = parse_local_args_detailed(&args(&["v"])).unwrap_or_else(|e| panic!("{e}"));
        assert!(a.fields.is_empty() && a.warnings.is_empty());
    }

    #[test]
    fn rejects_missing_value() {
        let (argv, _) = recorded("08_missing_value_arg.txt");
        assert!(argv.is_empty());
        assert_eq!(parse_local_args(&argv), Err(LocalArgsError::MissingValue));
    }

    #[test]
    fn parses_local_request() {
        let (r, warnings) = local_request(
            "packetpivot.Capture",
            &args(&["/cases/a.pcap", "k=1#k=2"]),
            LOCAL_DEFAULT_LIMIT,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(warnings.is_empty());
        assert_eq!(r.entity_type, "packetpivot.Capture");
        assert_eq!(r.value, "/cases/a.pcap");
        assert_eq!(r.field("k"), Some("2"));
        assert_eq!((r.weight, r.limit()), (100, 100));
    }

    proptest::proptest! {
        #[test]
        fn round_trips_escaped_properties(
            props in proptest::collection::vec(("[^\\x00]{1,8}", "[^\\x00]{0,8}"), 0..5)
        ) {
            let esc = |s: &str| s.replace('\\', r"\\").replace('#', r"\#").replace('=', r"\=");
            let arg: Vec<String> = props.iter().map(|(k, v)| format!("{}={}", esc(k), esc(v))).collect();
            let a = parse_local_args_detailed(&["v".to_string(), arg.join("#")])
                .map_err(|e| proptest::test_runner::TestCaseError::fail(e.to_string()))?;
            let want: Vec<(String, String)> = props.clone();
            proptest::prop_assert_eq!(a.fields, want);
            proptest::prop_assert!(a.warnings.is_empty());
        }
    }
}
