//! Golden interaction scripts (`tests/scripts/**/*.txt`): each script's output must match
//! its stored expectations. Rewrite them with `ELECTSIM_REWRITE=1 cargo test --test golden`.

mod common;

use std::path::Path;

#[test]
fn golden_scripts_match() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scripts");
    let mut files = common::files_under(&root);
    files.retain(|p| p.extension().is_some_and(|e| e == "txt"));
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
