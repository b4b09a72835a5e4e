//! The *splice* stage: put rewritten regions into the original text. Every
//! byte outside the regions is copied unchanged; [`Spliced`] says where each
//! region ended up so verification can prove it.

use std::ops::Range;

use crate::locate::Lines;
use crate::render::jobs::Rewrite;

/// Where one rewritten region is, in the old text and in the new.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    pub old: Range<usize>,
    pub new: Range<usize>,
}

/// The text after a splice and its regions, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spliced {
    pub text: String,
    pub regions: Vec<Region>,
}

/// Replaces the lines of every rewrite at once. Rewrites cover distinct jobs,
/// so their line ranges do not overlap; they are applied in file order.
pub fn splice(lines: &Lines<'_>, text: &str, rewrites: &[Rewrite]) -> Spliced {
    let mut order: Vec<&Rewrite> = rewrites.iter().collect();
    order.sort_by_key(|r| r.lines.start);
    let mut out =
        String::with_capacity(text.len() + rewrites.iter().map(|r| r.text.len()).sum::<usize>());
    let mut regions = Vec::with_capacity(order.len());
    let mut at = 0;
    for rewrite in order {
        let start = lines.offset(rewrite.lines.start).max(at);
        let end = lines.offset(rewrite.lines.end).max(start);
        out.push_str(&text[at..start]);
        let new_start = out.len();
        out.push_str(&rewrite.text);
        regions.push(Region {
            old: start..end,
            new: new_start..out.len(),
        });
        at = end;
    }
    out.push_str(&text[at..]);
    Spliced { text: out, regions }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_regions_change() {
        let text = "a\nb\nc\nd\n";
        let lines = Lines::new(text);
        let s = splice(
            &lines,
            text,
            &[
                Rewrite {
                    lines: 3..4,
                    text: "z\n".into(),
                },
                Rewrite {
                    lines: 1..2,
                    text: "x\ny\n".into(),
                },
            ],
        );
        assert_eq!(s.text, "a\nx\ny\nc\nz\n");
        assert_eq!(
            s.regions[0],
            Region {
                old: 2..4,
                new: 2..6
            }
        );
        assert_eq!(
            s.regions[1],
            Region {
                old: 6..8,
                new: 8..10
            }
        );
    }
}
