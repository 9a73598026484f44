//! Data flows one way: the engine (`src/capture`, `src/session`) never reaches for the edges
//! (CLI, terminal, HTTP, XML). This test keeps it that way.

use std::path::Path;

const FORBIDDEN: [&str; 7] = [
    "crate::cli",
    "crate::server",
    "crate::maltego",
    "actix",
    "quick_xml",
    "indicatif",
    "clap",
];

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let p = entry.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn engine_never_imports_the_edges() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&root.join("capture"), &mut files);
    rust_files(&root.join("session"), &mut files);
    assert!(files.len() > 5);
    let mut offences = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).expect("read");
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            for word in FORBIDDEN {
                if code.contains(word) {
                    offences.push(format!("{}:{}: {}", f.display(), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(offences.is_empty(), "{}", offences.join("\n"));
}
