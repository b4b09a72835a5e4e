//! The summary as a terminal table, Markdown, JSON or one HTML page. Every
//! format lays out the same [`tables`], so they cannot disagree.

mod html;
mod markdown;
pub mod tables;
mod text;

use super::summary::Summary;

/// An output format of `scangate report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Markdown,
    Json,
    Html,
}

/// The summary in `format`, ending with a newline.
pub fn render(format: Format, summary: &Summary) -> String {
    match format {
        Format::Text => text::render(summary),
        Format::Markdown => markdown::render(summary),
        Format::Json => summary.to_json(),
        Format::Html => html::render(summary),
    }
}
