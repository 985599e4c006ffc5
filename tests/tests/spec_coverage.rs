//! Every rule id in `spec/*.md` is cited by at least one test (`// spec: ID`).

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

fn rule_ids(text: &str) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    for line in text.lines() {
        let line = line.trim_start();
        if let Some(rest) = line.strip_prefix("- **") {
            if let Some(end) = rest.find("**") {
                ids.insert(rest[..end].to_string());
            }
        }
    }
    ids
}

fn cited_ids(dir: &Path, out: &mut BTreeSet<String>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            cited_ids(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            for line in fs::read_to_string(&path).unwrap().lines() {
                if let Some(rest) = line.trim_start().strip_prefix("// spec:") {
                    out.extend(rest.split(',').map(|s| s.trim().to_string()));
                }
            }
        }
    }
}

#[test]
#[cfg_attr(miri, ignore = "reads the file system, which miri isolates")]
fn every_spec_rule_is_cited_by_a_test() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut rules = BTreeSet::new();
    for entry in fs::read_dir(root.join("spec")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            rules.extend(rule_ids(&fs::read_to_string(&path).unwrap()));
        }
    }
    assert!(rules.len() > 10, "spec parsing found only {rules:?}");
    let mut cited = BTreeSet::new();
    cited_ids(&root.join("tests"), &mut cited);
    cited_ids(&root.join("ui-tests"), &mut cited);
    let missing: Vec<_> = rules.difference(&cited).collect();
    assert!(
        missing.is_empty(),
        "spec rules cited by no test: {missing:?}"
    );
}
