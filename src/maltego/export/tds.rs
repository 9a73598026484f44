//! TDS import files (`shared/design/maltego.md` 10.1): `transforms.csv` and `settings.csv` with
//! maltego-trx 1.7.0's columns, in its order, but quoted per RFC 4180 (trx leaves `"` inside a
//! field unescaped). A field is quoted only when it holds `,`, `"`, CR or LF (as trx quotes only
//! fields with commas), quotes inside are doubled. Records end with LF, as trx's files do
//! (RFC 4180 names CRLF; the TDS imports trx's LF files). trx's chunking into `_1-2.csv`, …
//! files (`csv_line_limit`) is not reproduced: the TDS imports one file of any length.

use super::{Project, SettingSpec};

/// Header of `transforms.csv` (trx 1.7.0, with `outputEntities`).
pub const TRANSFORMS_HEADER: [&str; 13] = [
    "Owner",
    "Author",
    "Disclaimer",
    "Description",
    "Version",
    "Name",
    "UIName",
    "URL",
    "entityName",
    "oAuthSettingId",
    "transformSettingIDs",
    "seedIDs",
    "outputEntities",
];

/// Header of `settings.csv` (trx 1.7.0).
pub const SETTINGS_HEADER: [&str; 6] = [
    "Name",
    "Type",
    "Display",
    "DefaultValue",
    "Optional",
    "Popup",
];

/// `transforms.csv`: one row per transform. `URL` is `base_url` (trailing `/` dropped) +
/// `/run/` + route name; `UIName` the display name (or route name) + the project's suffix;
/// `transformSettingIDs` the transform's settings, then every global as `global#<name>`;
/// `oAuthSettingId` is always empty (no OAuth).
pub fn transforms_csv(project: &Project<'_>, base_url: &str) -> String {
    let base = base_url.trim_end_matches('/');
    let mut out = String::new();
    push_record(&mut out, TRANSFORMS_HEADER);
    for t in &project.transforms {
        let display = if t.display_name.is_empty() {
            t.name
        } else {
            t.display_name
        };
        let ui_name = format!("{display}{}", project.display_name_suffix);
        let url = format!("{base}/run/{}", t.name);
        let setting_ids: Vec<String> = t
            .settings
            .iter()
            .map(|s| s.name.to_string())
            .chain(project.global_settings.iter().map(global_name))
            .collect();
        let setting_ids = setting_ids.join(";");
        let seeds = project.seed_ids.join(";");
        let outputs = t.outputs.join(";");
        push_record(
            &mut out,
            [
                project.owner,
                project.author,
                t.disclaimer,
                t.description,
                project.version,
                t.name,
                &ui_name,
                &url,
                t.input,
                "",
                &setting_ids,
                &seeds,
                &outputs,
            ],
        );
    }
    out
}

/// `settings.csv`: the globals first (as `global#<name>`), then every transform's settings
/// in order of first appearance, each name once (trx's order).
pub fn settings_csv(project: &Project<'_>) -> String {
    let mut out = String::new();
    push_record(&mut out, SETTINGS_HEADER);
    let mut seen: Vec<String> = Vec::new();
    let globals = project.global_settings.iter().map(|s| (global_name(s), s));
    let locals = project
        .transforms
        .iter()
        .flat_map(|t| t.settings.iter())
        .map(|s| (s.name.to_string(), s));
    for (name, s) in globals.chain(locals) {
        if seen.contains(&name) {
            continue;
        }
        push_record(
            &mut out,
            [
                name.as_str(),
                s.kind,
                s.display_name,
                s.default,
                if s.optional { "True" } else { "False" },
                if s.popup { "Yes" } else { "No" },
            ],
        );
        seen.push(name);
    }
    out
}

fn global_name(s: &SettingSpec<'_>) -> String {
    format!("global#{}", s.name)
}

/// Appends one record and its LF.
fn push_record<'f>(out: &mut String, fields: impl IntoIterator<Item = &'f str>) {
    for (i, field) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_field(out, field);
    }
    out.push('\n');
}

/// Appends one field, quoted if it holds `,`, `"`, CR or LF.
fn push_field(out: &mut String, field: &str) {
    if field.contains([',', '"', '\r', '\n']) {
        out.push('"');
        out.push_str(&field.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(field);
    }
}

#[cfg(test)]
mod tests {
    use super::super::{SettingSpec, TransformSpec};
    use super::*;

    const TRX_TRANSFORMS: &str =
        include_str!("../../../tests/data/maltego/config_export/trx/transforms.csv");
    const TRX_SETTINGS: &str =
        include_str!("../../../tests/data/maltego/config_export/trx/settings.csv");

    /// A strict RFC 4180 parser (LF or CRLF record ends): records of fields.
    fn parse_csv(s: &str) -> Vec<Vec<String>> {
        let mut records = Vec::new();
        let mut record = Vec::new();
        let mut field = String::new();
        let mut chars = s.chars().peekable();
        let mut quoted = false;
        let mut at_field_start = true;
        while let Some(c) = chars.next() {
            if quoted {
                if c == '"' {
                    if chars.peek() == Some(&'"') {
                        chars.next();
                        field.push('"');
                    } else {
                        quoted = false;
                        let next = chars.peek();
                        assert!(
                            matches!(next, None | Some(',') | Some('\n') | Some('\r')),
                            "text after closing quote: {next:?}"
                        );
                    }
                } else {
                    field.push(c);
                }
                continue;
            }
            match c {
                '"' => {
                    assert!(at_field_start, "quote inside an unquoted field");
                    quoted = true;
                    at_field_start = false;
                }
                ',' => {
                    record.push(std::mem::take(&mut field));
                    at_field_start = true;
                }
                '\r' | '\n' => {
                    if c == '\r' {
                        assert_eq!(chars.next(), Some('\n'), "bare CR");
                    }
                    record.push(std::mem::take(&mut field));
                    records.push(std::mem::take(&mut record));
                    at_field_start = true;
                }
                c => {
                    field.push(c);
                    at_field_start = false;
                }
            }
        }
        assert!(!quoted, "unterminated quoted field");
        assert!(field.is_empty() && record.is_empty(), "no final line end");
        records
    }

    /// The project of `shared/maltego/regen/trx_export_config.py`.
    fn trx_project() -> Project<'static> {
        let out_dir = SettingSpec {
            name: "packetpivot.output_dir",
            display_name: "Output directory",
            description: "",
            kind: "string",
            default: "/tmp/packetpivot",
            optional: true,
            popup: true,
        };
        let max_sessions = SettingSpec {
            name: "packetpivot.max_sessions",
            display_name: "Max sessions",
            description: "",
            kind: "int",
            default: "500",
            optional: true,
            popup: false,
        };
        Project {
            id_prefix: "",
            owner: "packetpivot project",
            author: "Analyst <analyst@example.org>",
            version: "0.1",
            display_name_suffix: " [packetpivot]",
            seed_ids: &["packetpivot"],
            global_settings: vec![SettingSpec {
                name: "api_key",
                display_name: "API Key",
                description: "",
                kind: "string",
                default: "",
                optional: false,
                popup: false,
            }],
            set_name: "packetpivot",
            set_description: "Packet capture pivots",
            transforms: vec![
                TransformSpec {
                    name: "pcaptosessions",
                    display_name: "To Sessions",
                    description: "Split a capture into TCP/UDP sessions, one pcap per session.",
                    disclaimer: "Writes files to disk, \"really\", ok?",
                    input: "packetpivot.Pcap",
                    outputs: &["packetpivot.Session"],
                    settings: vec![out_dir.clone(), max_sessions],
                },
                TransformSpec {
                    name: "sessiontoips",
                    display_name: "Session To I Ps",
                    description: "Session endpoints as IP addresses",
                    disclaimer: "",
                    input: "packetpivot.Session",
                    outputs: &["maltego.IPv4Address", "maltego.IPv6Address"],
                    settings: vec![],
                },
            ],
            entities: vec![],
        }
    }

    #[test]
    fn writes_trx_headers() {
        let p = trx_project();
        let ours = transforms_csv(&p, "https://transforms.example.org");
        assert_eq!(ours.lines().next(), TRX_TRANSFORMS.lines().next());
        let ours = settings_csv(&p);
        assert_eq!(ours.lines().next(), TRX_SETTINGS.lines().next());
    }

    #[test]
    fn writes_transforms_csv_like_trx_but_rfc4180() {
        let p = trx_project();
        let ours = transforms_csv(&p, "https://transforms.example.org/");
        // trx's one defect (10.1): the quotes inside the disclaimer are not doubled.
        let expected = TRX_TRANSFORMS.replace(
            "\"Writes files to disk, \"really\", ok?\"",
            "\"Writes files to disk, \"\"really\"\", ok?\"",
        );
        assert_ne!(expected, TRX_TRANSFORMS);
        assert_eq!(ours, expected);
        let records = parse_csv(&ours);
        assert_eq!(records.len(), 3);
        assert!(records.iter().all(|r| r.len() == TRANSFORMS_HEADER.len()));
        assert_eq!(records[1][2], "Writes files to disk, \"really\", ok?");
        assert_eq!(
            records[1][7],
            "https://transforms.example.org/run/pcaptosessions"
        );
    }

    #[test]
    fn writes_settings_csv_like_trx() {
        let p = trx_project();
        assert_eq!(settings_csv(&p), TRX_SETTINGS);
    }

    #[test]
    fn writes_each_setting_once() {
        let mut p = trx_project();
        let shared = p.transforms[0].settings[0].clone();
        p.transforms[1].settings.push(shared);
        let records = parse_csv(&settings_csv(&p));
        let names: Vec<&str> = records.iter().map(|r| r[0].as_str()).collect();
        assert_eq!(
            names,
            [
                "Name",
                "global#api_key",
                "packetpivot.output_dir",
                "packetpivot.max_sessions"
            ]
        );
        let t = parse_csv(&transforms_csv(&p, "http://h"));
        assert_eq!(t[2][10], "packetpivot.output_dir;global#api_key");
    }

    #[test]
    fn round_trips_quoting() {
        let mut p = trx_project();
        let nasty = "Sessions, \"carved\"\nfrom a capture\r\nwith \"\" and ,,";
        p.transforms[0].description = nasty;
        p.transforms[1].display_name = "";
        p.global_settings[0].display_name = "Key, \"secret\"";
        let records = parse_csv(&transforms_csv(&p, "http://127.0.0.1:8080"));
        assert_eq!(records[1][3], nasty);
        assert_eq!(records[2][6], "sessiontoips [packetpivot]");
        assert_eq!(records[2][7], "http://127.0.0.1:8080/run/sessiontoips");
        let records = parse_csv(&settings_csv(&p));
        assert_eq!(records[1][2], "Key, \"secret\"");
        assert!(records.iter().all(|r| r.len() == SETTINGS_HEADER.len()));
    }

    #[test]
    fn writes_headers_only_without_transforms() {
        let mut p = trx_project();
        p.transforms.clear();
        p.global_settings.clear();
        assert_eq!(
            transforms_csv(&p, ""),
            format!("{}\n", TRANSFORMS_HEADER.join(","))
        );
        assert_eq!(settings_csv(&p), format!("{}\n", SETTINGS_HEADER.join(",")));
    }
}
