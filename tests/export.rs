//! `packetpivot export`: the .mtz unzips into Maltego's layout with well-formed XML, and the
//! TDS CSVs have the reference columns in the reference order.

use std::io::Read;
use std::process::Command;

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_packetpivot"))
        .args(args)
        .output()
        .expect("run");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn fixture(rel: &str) -> String {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/maltego/config_export")
        .join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn writes_an_mtz_in_maltegos_layout() {
    let dir = tempfile::tempdir().expect("tmp");
    let mtz = dir.path().join("packetpivot.mtz");
    let (code, stdout, stderr) = run(&[
        "export",
        "mtz",
        "-o",
        mtz.to_str().expect("utf8"),
        "--command",
        "/usr/local/bin/packetpivot",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let n = packetpivot::transforms::TRANSFORMS.len();
    assert!(stdout.contains(&format!("{n} transforms")), "{stdout}");
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&mtz).expect("open")).expect("a zip");
    let names: Vec<String> = (0..zip.len())
        .filter_map(|i| {
            zip.by_index(i)
                .ok()
                .and_then(|f| f.name().ok().map(|n| n.to_string()))
        })
        .collect();
    for must in [
        "Servers/Local.tas",
        "TransformSets/packetpivot.set",
        "Entities/packetpivot.Capture.entity",
        "Entities/packetpivot.Session.entity",
        "EntityCategories/packetpivot.category",
        "version.properties",
        "TransformRepositories/Local/packetpivot.capture-to-sessions.transform",
        "TransformRepositories/Local/packetpivot.capture-to-sessions.transformsettings",
    ] {
        assert!(
            names.iter().any(|n| n == must),
            "{must} missing from {names:?}"
        );
    }
    assert!(names
        .iter()
        .any(|n| n.starts_with("Icons/") && n.ends_with(".png")));
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).expect("entry");
        let name = f.name().map(|n| n.to_string()).unwrap_or_default();
        let mut text = Vec::new();
        f.read_to_end(&mut text).expect("read");
        if [
            ".tas",
            ".transform",
            ".transformsettings",
            ".set",
            ".entity",
            ".category",
            ".xml",
        ]
        .iter()
        .any(|e| name.ends_with(e))
        {
            let text = String::from_utf8(text).expect("utf8");
            let doc = roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
            let root = doc.root_element().tag_name().name().to_string();
            let expected = match name.rsplit('.').next().unwrap_or_default() {
                "tas" => "MaltegoServer",
                "transform" => "MaltegoTransform",
                "transformsettings" => "TransformSettings",
                "set" => "TransformSet",
                "entity" => "MaltegoEntity",
                "category" => "EntityCategory",
                _ => root.as_str(),
            };
            assert_eq!(root, expected, "{name}");
            if name.ends_with(".transformsettings") {
                assert!(
                    text.contains("/usr/local/bin/packetpivot"),
                    "{name}: {text}"
                );
                let route = name
                    .trim_start_matches("TransformRepositories/Local/packetpivot.")
                    .trim_end_matches(".transformsettings");
                assert!(text.contains(&format!("local {route}<")), "{name}: {text}");
            }
            if name == "Entities/packetpivot.Capture.entity" {
                assert!(
                    text.contains("<BaseEntities>") && text.contains("maltego.File"),
                    "{text}"
                );
            }
        }
    }
}

#[test]
fn writes_tds_csvs_with_the_reference_columns() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("tds");
    let (code, _, stderr) = run(&[
        "export",
        "tds",
        "--url",
        "https://tds.example:8443",
        "-o",
        out.to_str().expect("utf8"),
    ]);
    assert_eq!(code, 0, "{stderr}");
    let transforms = std::fs::read_to_string(out.join("transforms.csv")).expect("transforms.csv");
    let settings = std::fs::read_to_string(out.join("settings.csv")).expect("settings.csv");
    let header = |s: &str| s.lines().next().unwrap_or_default().to_string();
    assert_eq!(header(&transforms), header(&fixture("trx/transforms.csv")));
    assert_eq!(header(&settings), header(&fixture("trx/settings.csv")));
    assert!(transforms.contains("https://tds.example:8443/run/capture-to-sessions"));
    assert_eq!(
        transforms.lines().count(),
        packetpivot::transforms::TRANSFORMS.len() + 1,
        "{transforms}"
    );
    assert!(out.join("entities.mtz").is_file());
    let (code, _, stderr) = run(&[
        "export",
        "tds",
        "--url",
        "tds.example",
        "-o",
        out.to_str().expect("utf8"),
    ]);
    assert_eq!(code, 2);
    assert!(stderr.starts_with("packetpivot: --url"), "{stderr}");
}
