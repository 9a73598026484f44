//! The Maltego-side commands from a shell: `transforms` and `serve`'s refusals.

use std::process::Command;

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_packetpivot"))
        .args(args)
        .env_remove("PACKETPIVOT_CAPTURE_ROOTS")
        .env_remove("PACKETPIVOT_CONFIG")
        .output()
        .expect("run");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn lists_every_transform() {
    let (code, text, _) = run(&["transforms"]);
    assert_eq!(code, 0);
    for name in [
        "capture-to-sessions",
        "capture-to-info",
        "session-to-ips",
        "session-to-ports",
    ] {
        assert!(text.contains(name), "{name} missing:\n{text}");
    }
    let (code, json, _) = run(&["transforms", "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(
        v.as_array().map(|a| a.len()),
        Some(packetpivot::transforms::TRANSFORMS.len())
    );
}

#[test]
fn refuses_to_serve_without_a_root_or_beside_the_evidence() {
    let (code, _, err) = run(&["serve", "--bind", "127.0.0.1:0"]);
    assert_eq!(code, 2);
    assert!(
        err.starts_with("packetpivot: serve needs at least one --capture-root"),
        "{err}"
    );
    let dir = tempfile::tempdir().expect("tmp");
    let root = dir.path().join("evidence");
    std::fs::create_dir_all(&root).expect("mkdir");
    let inside = root.join("data");
    let (code, _, err) = run(&[
        "serve",
        "--bind",
        "127.0.0.1:0",
        "--capture-root",
        root.to_str().expect("utf8"),
        "--data-dir",
        inside.to_str().expect("utf8"),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("apart from the evidence"), "{err}");
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "nonsense = 1\n").expect("write");
    let (code, _, err) = run(&["serve", "--config", bad.to_str().expect("utf8")]);
    assert_eq!(code, 2);
    assert!(err.contains("nonsense"), "{err}");
}

fn data(name: &str) -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn answers_the_pivots_from_the_shell() {
    let wiki = data("zeek__wikipedia.pcap");
    let (code, json, err) = run(&["hosts", &wiki, "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(
        v.as_array().map(|a| a.len()),
        Some(19),
        "tshark: 19 addresses"
    );
    let (code, names, _) = run(&["names", &wiki, "--csv"]);
    assert_eq!(code, 0);
    for expected in [
        "dns,upload.wikimedia.org,8",
        "http-host,www.wikipedia.org,1",
        "dns,meta.wikimedia.org,2",
    ] {
        assert!(names.contains(expected), "{expected} missing:\n{names}");
    }
    let (code, macs, _) = run(&["macs", &wiki]);
    assert_eq!(code, 0);
    assert!(macs.contains("00:13:7f:be:8c:ff  Cisco Systems"), "{macs}");
    let (code, services, _) = run(&["services", &data("zeek__ssh.pcap"), "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&services).expect("json");
    assert!(
        v.as_array()
            .is_some_and(|a| a.iter().any(|s| s["port"] == 22 && s["name"] == "ssh")),
        "{services}"
    );
    let (code, _, err) = run(&["names", "/no/such.pcap"]);
    assert_eq!(code, 1);
    assert!(err.starts_with("packetpivot: /no/such.pcap"), "{err}");
}
