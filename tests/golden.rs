//! Golden interaction scripts (`tests/scripts/**/*.txt`): each script's output must match
//! its stored expectations. Rewrite them with `ELECTSIM_REWRITE=1 cargo test --test golden`.

use std::path::{Path, PathBuf};

fn scripts(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            scripts(&p, out);
        } else if p.extension().is_some_and(|e| e == "txt") {
            out.push(p);
        }
    }
}

#[test]
fn golden_scripts_match() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scripts");
    let mut files = Vec::new();
    scripts(&root, &mut files);
    assert!(!files.is_empty(), "no scripts under {}", root.display());
    let rewrite = std::env::var_os("ELECTSIM_REWRITE").is_some();
    let mut failures = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let actual = electsim::script::run_script(&text);
        if rewrite {
            std::fs::write(f, &actual).unwrap();
        } else if actual != text {
            let first = text
                .lines()
                .zip(actual.lines())
                .position(|(a, b)| a != b)
                .unwrap_or(0);
            failures.push(format!(
                "{}: first difference at line {}\n  expected: {:?}\n  actual:   {:?}",
                f.display(),
                first + 1,
                text.lines().nth(first).unwrap_or(""),
                actual.lines().nth(first).unwrap_or("")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "golden scripts differ (rerun with ELECTSIM_REWRITE=1 and review the diff):\n{}",
        failures.join("\n")
    );
}
