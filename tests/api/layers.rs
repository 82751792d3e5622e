//! The layers, proved by reading `src/`: `domain` uses nothing of ours; `db` uses no service,
//! door or plumbing above it; `service` uses no door; the doors (`rest`, `graphql`) never touch
//! `db` or each other; the shared plumbing (`http`) knows neither door. Only `startup` (and
//! `main`) join everything.

use std::collections::BTreeSet;
use std::path::Path;

/// (layer folder, what it may not use; `*` means anything but itself).
const RULES: &[(&str, &[&str])] = &[
    ("domain", &["*"]),
    ("db", &["service", "rest", "graphql", "http", "startup"]),
    ("service", &["rest", "graphql", "http", "startup"]),
    ("rest", &["db", "graphql", "startup"]),
    ("graphql", &["db", "rest", "startup"]),
    ("http", &["rest", "graphql", "startup"]),
];

/// The top-level modules of ours a piece of source names: `crate::x`, `crate::{x, y::z}`, and
/// `super::super::x` (which from a layer's file reaches the crate root). Comments are skipped.
fn modules_used(source: &str) -> BTreeSet<String> {
    let code: String = source
        .lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n");
    let mut found = BTreeSet::new();
    for prefix in ["crate::", "super::super::"] {
        let mut rest = code.as_str();
        while let Some(i) = rest.find(prefix) {
            rest = &rest[i + prefix.len()..];
            if let Some(group) = rest.strip_prefix('{') {
                // Top-level names of a group: split at commas outside nested braces.
                let (mut depth, mut name, mut at_start) = (0usize, String::new(), true);
                for c in group.chars() {
                    match c {
                        '{' => depth += 1,
                        '}' if depth == 0 => break,
                        '}' => depth -= 1,
                        ',' if depth == 0 => {
                            if !name.is_empty() {
                                found.insert(std::mem::take(&mut name));
                            }
                            at_start = true;
                            continue;
                        }
                        _ => {}
                    }
                    if depth == 0 && at_start {
                        if c.is_alphanumeric() || c == '_' {
                            name.push(c);
                        } else if !name.is_empty() {
                            found.insert(std::mem::take(&mut name));
                            at_start = false;
                        }
                    }
                }
                if !name.is_empty() {
                    found.insert(name);
                }
            } else {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    found.insert(name);
                }
            }
        }
    }
    found
}

/// Every breach of the rules in one layer's sources: (file, module it must not use).
fn breaches(layer: &str, files: &[(String, String)]) -> Vec<(String, String)> {
    let forbidden = RULES
        .iter()
        .find(|(l, _)| *l == layer)
        .map_or(&[][..], |(_, f)| *f);
    let mut out = Vec::new();
    for (path, source) in files {
        for used in modules_used(source) {
            let refused = if forbidden == ["*"] {
                used != layer
            } else {
                forbidden.contains(&used.as_str())
            };
            if refused {
                out.push((path.clone(), used));
            }
        }
    }
    out
}

fn sources(dir: &Path) -> Vec<(String, String)> {
    let mut files = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return files;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).expect("read a source file");
            files.push((path.display().to_string(), text));
        }
    }
    files
}

#[test]
fn no_layer_reaches_past_its_lines() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = Vec::new();
    for (layer, _) in RULES {
        let files = sources(&src.join(layer));
        assert!(!files.is_empty(), "src/{layer} has sources");
        all.extend(breaches(layer, &files));
    }
    assert!(all.is_empty(), "layers reached past their lines: {all:#?}");
}

#[test]
fn the_layer_check_sees_each_kind_of_breach() {
    let file = |text: &str| vec![("x.rs".to_owned(), text.to_owned())];
    // Plain paths, groups, nested groups, and the crate root through `super::super`.
    assert_eq!(
        breaches("rest", &file("use crate::db::opportunities;")),
        [("x.rs".to_owned(), "db".to_owned())]
    );
    assert_eq!(
        breaches("graphql", &file("use crate::{domain::x, rest::{a, b}};")).len(),
        1
    );
    assert_eq!(
        breaches("http", &file("use crate::{graphql, rest};")).len(),
        2
    );
    assert_eq!(
        breaches("db", &file("let s = super::super::service::x();")).len(),
        1
    );
    assert_eq!(
        breaches("domain", &file("use crate::error::AppError;")).len(),
        1
    );
    // What is allowed, and comments, are not breaches.
    assert!(breaches("domain", &file("use crate::domain::page::Page;")).is_empty());
    assert!(breaches("rest", &file("use crate::service::x; // not crate::db")).is_empty());
}
