//! The *splice* stage: put a rewritten region into the original text. Every
//! byte outside the region is copied unchanged; [`Spliced`] says where the
//! region ended up so verification can prove it.

use std::ops::Range;

use crate::locate::Lines;
use crate::render::jobs::Rewrite;

/// The text after a splice and the byte ranges of the region before and after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spliced {
    pub text: String,
    /// The replaced bytes in the old text.
    pub old: Range<usize>,
    /// The new bytes in the new text.
    pub new: Range<usize>,
}

/// Replaces `rewrite.lines` of `lines` with `rewrite.text`.
pub fn splice(lines: &Lines<'_>, text: &str, rewrite: &Rewrite) -> Spliced {
    let start = lines.offset(rewrite.lines.start);
    let end = lines.offset(rewrite.lines.end);
    let mut out = String::with_capacity(text.len() + rewrite.text.len());
    out.push_str(&text[..start]);
    out.push_str(&rewrite.text);
    out.push_str(&text[end..]);
    Spliced {
        text: out,
        old: start..end,
        new: start..start + rewrite.text.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_region_changes() {
        let text = "a\nb\nc\n";
        let lines = Lines::new(text);
        let s = splice(
            &lines,
            text,
            &Rewrite {
                lines: 1..2,
                text: "x\ny\n".into(),
            },
        );
        assert_eq!(s.text, "a\nx\ny\nc\n");
        assert_eq!((s.old, s.new), (2..4, 2..6));
    }
}
