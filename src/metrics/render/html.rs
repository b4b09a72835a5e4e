//! One self-contained HTML page: inline CSS, inline SVG charts, no script
//! and no link to anything outside the page, so it opens offline and from
//! an artifact. Every name on it comes from workflows and reports and is
//! escaped.
//!
//! The chart of each repository and image stacks the severities of what
//! was pushed per week (one bar per week with a release) and marks the
//! weeks with blocked releases. Its parts carry classes and `data-`
//! attributes (`bar`, `sev-CRITICAL`, `blocked`, `data-week`,
//! `data-count`), which the browser test counts.

use std::fmt::Write as _;

use super::tables::{self, Table};
use crate::metrics::counts::Severity;
use crate::metrics::summary::{Summary, Week};

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#1f2328}\
table{border-collapse:collapse;margin:.5em 0 1.5em}th,td{border:1px solid #d0d7de;padding:3px 8px;text-align:left}\
td.n{text-align:right}caption{text-align:left;font-weight:600;padding:4px 0}\
.note{color:#9a6700}svg{display:block;margin:.5em 0 1.5em}\
.sev-CRITICAL{fill:#8b0000}.sev-HIGH{fill:#e5534b}.sev-MEDIUM{fill:#f0a020}.sev-LOW{fill:#9ecbff}.sev-UNKNOWN{fill:#adb5bd}\
.unknown{fill:#fff;stroke:#adb5bd;stroke-dasharray:3 2}.blocked{fill:#000}.axis{stroke:#57606a}\
.legend svg{display:inline;margin:0 2px 0 10px}";

pub(super) fn render(summary: &Summary) -> String {
    let mut out = String::new();
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n");
    let _ = writeln!(
        out,
        "<title>scangate report {} to {}</title>\n<style>{STYLE}</style>\n</head>\n<body>",
        esc(&summary.since),
        esc(&summary.until)
    );
    let _ = writeln!(out, "<h1>scangate report</h1>\n{}", legend());
    table(&mut out, &tables::overview(summary));
    for r in &summary.repositories {
        let _ = writeln!(
            out,
            "<section class=\"repo\" data-repo=\"{0}\">\n<h2>{0}</h2>",
            esc(&r.repo)
        );
        let _ = writeln!(
            out,
            "<p>{}</p>\n<p>{}</p>",
            esc(&tables::coverage_line(r)),
            esc(&tables::stopped_line(r))
        );
        for note in &r.notes {
            let _ = writeln!(out, "<p class=\"note\">{}</p>", esc(note));
        }
        let _ = writeln!(out, "<h3>All images</h3>");
        chart(&mut out, &r.repo, "", &r.weeks);
        for i in &r.images {
            if !i.weeks.is_empty() {
                let _ = writeln!(out, "<h3>{}</h3>", esc(&i.image));
                chart(&mut out, &r.repo, &i.image, &i.weeks);
            }
        }
        table(&mut out, &tables::releases(r));
        table(&mut out, &tables::images(r));
        table(
            &mut out,
            &tables::weeks("Weeks: releases and vulnerabilities pushed", &r.weeks),
        );
        out.push_str("</section>\n");
    }
    out.push_str("</body>\n</html>\n");
    out
}

fn legend() -> String {
    let mut s = String::from("<p class=\"legend\">");
    for sev in Severity::ALL {
        let _ = write!(
            s,
            " <svg width=\"10\" height=\"10\"><rect class=\"sev-{0}\" width=\"10\" height=\"10\"/></svg> {0}",
            sev.name()
        );
    }
    s.push_str(" &#9660; blocked releases (count above the week)</p>");
    s
}

/// Chart geometry.
const BAR: u32 = 28;
const GAP: u32 = 14;
const LEFT: u32 = 44;
const TOP: u32 = 24;
const PLOT: u32 = 160;

/// The stacked bars of `weeks` for `repo` (and `image`, empty for all).
fn chart(out: &mut String, repo: &str, image: &str, weeks: &[Week]) {
    let max = weeks
        .iter()
        .filter_map(|w| w.vulnerabilities.map(|c| c.total()))
        .max()
        .unwrap_or(0)
        .max(1);
    let width =
        LEFT + (BAR + GAP) * u32::try_from(weeks.len()).unwrap_or(u32::MAX / 64).max(1) + GAP;
    let height = TOP + PLOT + 40;
    let _ = writeln!(
        out,
        "<svg class=\"trend\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\" data-repo=\"{}\" data-image=\"{}\" data-weeks=\"{}\">",
        esc(repo),
        esc(image),
        weeks.len()
    );
    let _ = writeln!(
        out,
        "<title>{} vulnerabilities pushed per week</title>\n<line class=\"axis\" x1=\"{LEFT}\" y1=\"{TOP}\" x2=\"{LEFT}\" y2=\"{y}\"/><line class=\"axis\" x1=\"{LEFT}\" y1=\"{y}\" x2=\"{width}\" y2=\"{y}\"/>",
        esc(if image.is_empty() { repo } else { image }),
        y = TOP + PLOT
    );
    let _ = writeln!(
        out,
        "<text x=\"4\" y=\"{}\" font-size=\"11\">{max}</text><text x=\"4\" y=\"{}\" font-size=\"11\">0</text>",
        TOP + 4,
        TOP + PLOT
    );
    let scale = |n: u64| u32::try_from(n * u64::from(PLOT) / max).unwrap_or(PLOT);
    for (i, w) in weeks.iter().enumerate() {
        let x = LEFT + GAP + (BAR + GAP) * u32::try_from(i).unwrap_or(0);
        let _ = writeln!(out, "<g class=\"week\" data-week=\"{}\">", esc(&w.week));
        let mut y = TOP + PLOT;
        match w.vulnerabilities {
            Some(c) => {
                for sev in Severity::ALL.iter().rev() {
                    let n = c.get(*sev);
                    if n == 0 {
                        continue;
                    }
                    let h = scale(n).max(1);
                    y -= h;
                    let _ = writeln!(
                        out,
                        "<rect class=\"bar sev-{0}\" data-week=\"{1}\" data-count=\"{n}\" x=\"{x}\" y=\"{y}\" width=\"{BAR}\" height=\"{h}\"><title>{1}: {n} {0}</title></rect>",
                        sev.name(),
                        esc(&w.week)
                    );
                }
            }
            None if w.pushed > 0 => {
                y -= 12;
                let _ = writeln!(
                    out,
                    "<rect class=\"unknown\" data-week=\"{0}\" x=\"{x}\" y=\"{y}\" width=\"{BAR}\" height=\"12\"><title>{0}: reports unknown (expired)</title></rect>",
                    esc(&w.week)
                );
            }
            None => {}
        }
        if w.blocked > 0 {
            let (cx, top) = (x + BAR / 2, y.saturating_sub(6));
            let _ = writeln!(
                out,
                "<path class=\"blocked\" data-week=\"{0}\" data-count=\"{1}\" d=\"M{cx} {top} l-6 -10 h12 z\"><title>{0}: {1} blocked</title></path><text x=\"{cx}\" y=\"{2}\" font-size=\"10\" text-anchor=\"middle\">{1}</text>",
                esc(&w.week),
                w.blocked,
                top.saturating_sub(12)
            );
        }
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"middle\">{}</text>\n</g>",
            x + BAR / 2,
            TOP + PLOT + 14,
            esc(w.week.split_once('-').map_or(&w.week, |(_, wk)| wk))
        );
    }
    out.push_str("</svg>\n");
}

fn table(out: &mut String, t: &Table) {
    let _ = write!(out, "<table>\n<caption>{}</caption>\n<tr>", esc(&t.caption));
    for h in &t.headings {
        let _ = write!(out, "<th>{}</th>", esc(h));
    }
    out.push_str("</tr>\n");
    let numeric = t.numeric_columns();
    for row in &t.rows {
        out.push_str("<tr>");
        for (c, &right) in row.iter().zip(&numeric) {
            let class = if right { " class=\"n\"" } else { "" };
            let _ = write!(out, "<td{class}>{}</td>", esc(c));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
}

/// Text for HTML content and attribute values.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_are_escaped() {
        assert_eq!(
            super::esc("<img src=x onerror=\"a\">&'"),
            "&lt;img src=x onerror=&quot;a&quot;&gt;&amp;&#39;"
        );
    }
}
