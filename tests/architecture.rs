#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test
//! The library's top-level modules import each other without a circle, so
//! the stages read in one direction (source → locate → detect → plan →
//! render → splice → verify → report, with check, pr and admission above).
//!
//! The graph is drawn from the text: every `crate::` path in `src/**/*.rs`
//! (outside comments and `#[cfg(test)]` modules, which may look anywhere),
//! including `use crate::{a, b::c}` groups, names the top-level module it
//! reaches; names re-exported by `lib.rs` (`crate::Error`) count as the
//! module they come from. The binary (`main.rs`, `src/cli/`) is outside the
//! library and not part of the graph.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Graph = BTreeMap<String, BTreeMap<String, BTreeSet<String>>>;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file without comments and without its test module.
fn code(text: &str) -> String {
    let text = text
        .find("#[cfg(test)]\nmod tests")
        .map_or(text, |at| &text[..at]);
    text.lines()
        .map(|l| l.split_once("//").map_or(l, |(code, _)| code))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The first identifier of each item of the `{…}` group that starts
/// `text` (just after its brace).
fn group_heads(text: &str) -> Vec<String> {
    let mut items = vec![String::new()];
    let mut depth = 0;
    for c in text.chars() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => items.push(String::new()),
            c => items.last_mut().unwrap().push(c),
        }
    }
    items
        .iter()
        .map(|item| ident(item.trim_start()))
        .filter(|name| !name.is_empty())
        .collect()
}

/// The identifier `text` starts with.
fn ident(text: &str) -> String {
    text.chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

/// Every top-level name after `crate::` in `code`.
fn crate_paths(code: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue; // `scangate::` or another crate's path
        }
        if let Some(group) = rest.strip_prefix('{') {
            names.extend(group_heads(group));
        } else {
            names.push(ident(rest));
        }
    }
    names
}

/// `lib.rs`'s `pub use module::{A, B}` re-exports: name → module.
fn reexports(lib: &str) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    for line in lib.lines() {
        let Some(path) = line.trim().strip_prefix("pub use ") else {
            continue;
        };
        let path = path.trim_end_matches(';');
        let Some((module, names)) = path.split_once("::") else {
            continue;
        };
        let names = names.trim_start_matches('{').trim_end_matches('}');
        for name in names.split(',') {
            map.insert(name.trim().to_owned(), module.to_owned());
        }
    }
    map
}

/// module → (imported module → the files that import it).
fn graph() -> Graph {
    let root = src();
    let lib = std::fs::read_to_string(root.join("lib.rs")).unwrap();
    let modules: BTreeSet<String> = lib
        .lines()
        .filter_map(|l| l.trim().strip_prefix("pub mod "))
        .map(|m| m.trim_end_matches(';').to_owned())
        .collect();
    let reexported = reexports(&lib);
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let mut graph = Graph::new();
    for file in files {
        let rel = file.strip_prefix(&root).unwrap();
        let first = rel.components().next().unwrap().as_os_str();
        let module = first.to_string_lossy().trim_end_matches(".rs").to_owned();
        if !modules.contains(&module) {
            continue; // lib.rs, main.rs, the binary's cli/
        }
        let text = std::fs::read_to_string(&file).unwrap();
        for name in crate_paths(&code(&text)) {
            let target = reexported.get(&name).cloned().unwrap_or(name);
            if target != module && modules.contains(&target) {
                graph
                    .entry(module.clone())
                    .or_default()
                    .entry(target)
                    .or_default()
                    .insert(rel.display().to_string());
            }
        }
    }
    graph
}

/// The modules `from` reaches by following imports.
fn reach(graph: &Graph, from: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![from.to_owned()];
    while let Some(m) = todo.pop() {
        for next in graph.get(&m).into_iter().flat_map(|t| t.keys()) {
            if seen.insert(next.clone()) {
                todo.push(next.clone());
            }
        }
    }
    seen
}

/// The groups of modules that all reach each other (the strongly connected
/// components with more than one module): each holds at least one circle.
fn tangles(graph: &Graph) -> BTreeSet<BTreeSet<String>> {
    let reached: BTreeMap<&String, BTreeSet<String>> =
        graph.keys().map(|m| (m, reach(graph, m))).collect();
    graph
        .keys()
        .filter(|m| reached[m].contains(*m))
        .map(|m| {
            reached[m]
                .iter()
                .filter(|n| reached.get(n).is_some_and(|r| r.contains(m)))
                .cloned()
                .collect()
        })
        .collect()
}

/// A tangle's imports among its own modules, one a line, with the files
/// that make them.
fn describe(graph: &Graph, tangle: &BTreeSet<String>) -> String {
    let mut lines = Vec::new();
    for from in tangle {
        for (to, files) in &graph[from] {
            if tangle.contains(to) {
                let files: Vec<&str> = files.iter().map(String::as_str).collect();
                lines.push(format!("  {from} → {to} ({})", files.join(", ")));
            }
        }
    }
    lines.join("\n")
}

#[test]
fn the_library_modules_import_each_other_without_a_circle() {
    let graph = graph();
    let tangles: Vec<String> = tangles(&graph)
        .iter()
        .map(|t| describe(&graph, t))
        .collect();
    assert!(
        tangles.is_empty(),
        "import circles among src/ modules; the modules of each group reach each other (a line: module → what it imports, from which files):\n{}",
        tangles.join("\n\n")
    );
}

#[test]
fn the_reader_sees_every_kind_of_crate_path() {
    let text = "use crate::a::X;\nuse crate::{b, c::{D, E}, f::G};\n// crate::commented\nlet x = crate::h::y();\nscangate::i::J;\n#[cfg(test)]\nmod tests {\n use crate::k;\n}\n";
    assert_eq!(crate_paths(&code(text)), ["a", "b", "c", "f", "h"]);
}

#[test]
fn a_circle_is_found_and_shown() {
    let mut graph = Graph::new();
    for (from, to) in [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"), ("d", "e")] {
        graph
            .entry(from.to_owned())
            .or_default()
            .entry(to.to_owned())
            .or_default()
            .insert(format!("src/{from}.rs"));
    }
    let found = tangles(&graph);
    let abc: BTreeSet<String> = ["a", "b", "c"].map(String::from).into();
    assert_eq!(found, BTreeSet::from([abc.clone()]));
    let shown = describe(&graph, &abc);
    assert!(shown.contains("c → a (src/c.rs)"), "{shown}");
    assert!(!shown.contains("c → d"), "{shown}");
}
