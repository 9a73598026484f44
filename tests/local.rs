//! Local mode as Maltego Desktop runs it: `packetpivot local <transform> <value> [props]`.
//! stdout holds one Maltego message and nothing else, logs go to stderr, the exit status is
//! 0 even for errors. The cases mirror shared/maltego/local/ (maltego-trx's local mode).

use std::path::Path;
use std::process::Command;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn local(args: &[&str], data_dir: &Path) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_packetpivot"))
        .arg("local")
        .args(args)
        .env("PACKETPIVOT_DATA_DIR", data_dir)
        .env_remove("PACKETPIVOT_LOG")
        .output()
        .expect("run packetpivot");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// (message kind, entity (type, value) list, UI messages and exception texts)
fn message(stdout: &str) -> (String, Vec<(String, String)>, Vec<String>) {
    let doc = roxmltree::Document::parse(stdout)
        .unwrap_or_else(|e| panic!("stdout is not one XML document ({e}):\n{stdout}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "MaltegoMessage");
    let kind = root
        .children()
        .find(|n| n.is_element())
        .map(|n| n.tag_name().name().to_string())
        .unwrap_or_default();
    let entities = doc
        .descendants()
        .filter(|n| n.has_tag_name("Entity"))
        .map(|e| {
            let v = e
                .children()
                .find(|c| c.has_tag_name("Value"))
                .and_then(|v| v.text())
                .unwrap_or_default();
            (
                e.attribute("Type").unwrap_or_default().to_string(),
                v.to_string(),
            )
        })
        .collect();
    let texts = doc
        .descendants()
        .filter(|n| n.has_tag_name("UIMessage") || n.has_tag_name("Exception"))
        .map(|n| n.text().unwrap_or_default().to_string())
        .collect();
    (kind, entities, texts)
}

fn capture() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/zeek__wikipedia.pcap")
        .display()
        .to_string()
}

#[test]
fn splits_a_capture_as_a_local_transform() {
    let data = tempfile::tempdir().expect("tmp");
    let r = local(&["capture-to-sessions", &capture()], data.path());
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (kind, entities, texts) = message(&r.stdout);
    assert_eq!(kind, "MaltegoTransformResponseMessage");
    // Local mode gets no result limit from Maltego: the default cap of 100 applies.
    assert_eq!(entities.len(), 38);
    assert!(texts.is_empty(), "{texts:?}");
    let r = local(
        &["--limit", "5", "capture-to-sessions", &capture()],
        data.path(),
    );
    let (_, entities, texts) = message(&r.stdout);
    assert_eq!(entities.len(), 5);
    assert!(
        texts
            .iter()
            .any(|t| t.contains("returned 5 of 38 sessions")),
        "{texts:?}"
    );
    // Session files go under the data directory, never beside the capture.
    let dirs: Vec<_> = std::fs::read_dir(data.path())
        .expect("data")
        .flatten()
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    assert_eq!(dirs.len(), 1);
}

#[test]
fn reads_value_and_properties() {
    let data = tempfile::tempdir().expect("tmp");
    let r = local(
        &[
            "session-to-ips",
            "TCP 10.0.0.1:1 → 10.0.0.2:2 #0 @abc",
            "client.address=10.0.0.1#server.address=2001:db8::1#capture.sha256=abc",
        ],
        data.path(),
    );
    assert_eq!(r.code, 0);
    let (kind, entities, _) = message(&r.stdout);
    assert_eq!(kind, "MaltegoTransformResponseMessage");
    assert_eq!(
        entities,
        vec![
            ("maltego.IPv4Address".to_string(), "10.0.0.1".to_string()),
            ("maltego.IPv6Address".to_string(), "2001:db8::1".to_string())
        ]
    );
}

#[test]
fn reads_value_without_properties_and_unicode() {
    let data = tempfile::tempdir().expect("tmp");
    for value in ["plain value", "café 中文 😀"] {
        let r = local(&["session-to-ports", value], data.path());
        assert_eq!(r.code, 0);
        let (kind, entities, texts) = message(&r.stdout);
        assert_eq!(kind, "MaltegoTransformResponseMessage", "{value}");
        assert!(entities.is_empty() && !texts.is_empty(), "{texts:?}");
    }
}

#[test]
fn unescapes_hash_equals_and_backslash() {
    let data = tempfile::tempdir().expect("tmp");
    let r = local(
        &[
            "session-to-ports",
            "v",
            r"client.port=80#server.port=443#note=a\#b\=c\\d",
        ],
        data.path(),
    );
    assert_eq!(r.code, 0);
    let (_, entities, _) = message(&r.stdout);
    assert_eq!(
        entities.iter().map(|(_, v)| v.as_str()).collect::<Vec<_>>(),
        vec!["80", "443"]
    );
    // An unescaped '=' in a value and an empty property value are accepted.
    let r = local(
        &["session-to-ports", "v=w", "client.port=#server.port=22"],
        data.path(),
    );
    let (_, entities, _) = message(&r.stdout);
    assert_eq!(
        entities.iter().map(|(_, v)| v.as_str()).collect::<Vec<_>>(),
        vec!["22"]
    );
}

#[test]
fn reports_errors_as_exception_messages_with_exit_zero() {
    let data = tempfile::tempdir().expect("tmp");
    let cases: [(&[&str], &str); 4] = [
        (
            &["nosuch", "v", "a=b"],
            "No transform found with the name 'nosuch'",
        ),
        (
            &["capture-to-sessions", "/no/such/file.pcap"],
            "/no/such/file.pcap",
        ),
        (
            &["capture-to-sessions", "/etc/hostname"],
            "not a capture file",
        ),
        (
            &["session-to-ips", "v", "client.address=not-an-ip"],
            "not an IP address",
        ),
    ];
    for (args, expect) in cases {
        let r = local(args, data.path());
        assert_eq!(r.code, 0, "{args:?}");
        let (kind, _, texts) = message(&r.stdout);
        assert_eq!(
            kind, "MaltegoTransformExceptionMessage",
            "{args:?}: {}",
            r.stdout
        );
        assert!(
            texts.iter().any(|t| t.contains(expect)),
            "{args:?}: {texts:?}"
        );
    }
    // The missing value argument: still one message on stdout.
    let r = local(&["capture-to-sessions"], data.path());
    assert_eq!(r.code, 0);
    let (kind, _, _) = message(&r.stdout);
    assert_eq!(kind, "MaltegoTransformExceptionMessage");
}

#[test]
fn finds_mixed_case_names_and_ignores_extra_arguments() {
    let data = tempfile::tempdir().expect("tmp");
    let r = local(
        &[
            "Session-To-Ports",
            "v",
            "client.port=1#server.port=2",
            "extra",
            "args",
        ],
        data.path(),
    );
    assert_eq!(r.code, 0);
    let (kind, entities, _) = message(&r.stdout);
    assert_eq!(kind, "MaltegoTransformResponseMessage");
    assert_eq!(entities.len(), 2);
}

#[test]
fn keeps_stdout_for_the_message_only() {
    let data = tempfile::tempdir().expect("tmp");
    let r = local(&["capture-to-sessions", &capture()], data.path());
    let trimmed = r.stdout.trim();
    assert!(
        trimmed.starts_with("<MaltegoMessage>") && trimmed.ends_with("</MaltegoMessage>"),
        "{}",
        r.stdout
    );
}
