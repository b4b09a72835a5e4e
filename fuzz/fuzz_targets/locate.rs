//! `scangate::locate` over arbitrary UTF-8: split into lines, read block
//! collections at every level it finds, and, when the text parses as YAML,
//! locate every job with `JobLayout::find`. Nothing here may panic, whatever
//! the input; errors (`Shape`, `Unlocatable`) are fine.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scangate::layout::JobLayout;
use scangate::locate::{self, Collection, Lines};

/// Walks the entries of `range` and recurses into their children, both as
/// mappings and as sequences, a few levels deep.
fn walk(lines: &Lines<'_>, range: std::ops::Range<usize>, first: Option<usize>, depth: u32) {
    if depth == 0 || range.is_empty() {
        return;
    }
    for kind in [Collection::Mapping, Collection::Sequence] {
        let Ok(entries) = locate::entries(lines, range.clone(), kind, first) else {
            continue;
        };
        for e in &entries {
            assert!(e.lines.start <= e.head && e.head < e.lines.end, "{e:?}");
            assert!(
                e.lines.end <= range.end && e.lines.start >= range.start,
                "{e:?}"
            );
            let _ = locate::inline_value(lines, e);
            let _ = locate::dedent(lines, e.body(), e.indent);
            let _ = lines.slice(e.lines.clone());
            walk(lines, e.children(), None, depth - 1);
            if let Some(col) = e.content_column {
                walk(lines, e.body(), Some(col), depth - 1);
            }
        }
        if kind == Collection::Mapping {
            let _ = locate::find(&entries, "jobs");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // `Lines::new` documents that its text ends with `\n`, as
    // `Source::text` always does.
    let mut text = text.to_owned();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    let lines = Lines::new(&text);
    for i in 0..lines.len() {
        let line = lines.line(i);
        let _ = lines.content_indent(i);
        let _ = locate::key_of(line);
        if let Some(col) = locate::content_indent(line) {
            let _ = locate::key_of(&line[col..]);
        }
    }
    walk(&lines, 0..lines.len(), None, 6);

    let Ok(doc) = yaml_serde::from_str::<yaml_serde::Value>(&text) else {
        return;
    };
    let _ = scangate::layout::anchor_lines(&text);
    for (id, job) in scangate::gate::jobs(&doc) {
        if let Ok(layout) = JobLayout::find(&lines, &id) {
            assert!(layout.entry.lines.end <= lines.len());
            let _ = layout.cross_check(&lines, job, &|_| true);
            for i in 0..layout.steps.len() {
                let _ = layout.step_keys(&lines, i);
            }
            let _ = scangate::style::Style::measure(&lines, &layout);
        }
    }
});
