//! The evidence report as a printable page: the organisation and period, a bar chart of work
//! by level (claimed beside evidenced) as inline SVG with a text alternative, every figure,
//! the requirements table, and what each level means in plain English. Readable on A4 paper
//! (a print stylesheet) and by a screen reader (headings, table headers, captions). It holds
//! no script and loads nothing: the response's content security policy allows neither.

use std::collections::HashMap;
use std::fmt::Write;

use crate::domain::ladder::LadderLevel;
use crate::domain::report::{EvidenceReport, LevelCount, ReportSection};

/// The glossary terms the page explains the levels with.
pub const GLOSSARY_TERMS: &[&str] = &[
    "Co-production",
    "Involvement",
    "Consultation",
    "Informing",
    "Collaboration",
    "User-led",
];

/// Text made safe for HTML content and attribute values.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
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

fn words(level: LadderLevel) -> String {
    let mut w = level.as_str().replace('_', " ");
    if let Some(first) = w.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    if level == LadderLevel::CoProduction {
        w = "Co-production".to_owned();
    }
    w
}

/// What a level means: the glossary's words where it has the term, otherwise the guide's.
fn meaning(level: LadderLevel, glossary: &HashMap<String, String>) -> String {
    let key = match level {
        LadderLevel::CoProduction => "co-production",
        LadderLevel::Involvement => "involvement",
        LadderLevel::Consultation => "consultation",
        LadderLevel::Informing => "informing",
        LadderLevel::NoEngagement => "no engagement",
    };
    glossary.get(key).cloned().unwrap_or_else(|| {
        match level {
            LadderLevel::Informing => {
                "Telling people about a service or a decision, without asking them for their views."
            }
            LadderLevel::NoEngagement => {
                "People with lived experience or carers are not part of the work at all."
            }
            _ => "",
        }
        .to_owned()
    })
}

const STYLE: &str = "body{font-family:system-ui,Arial,sans-serif;font-size:12pt;line-height:1.45;color:#111;max-width:60em;margin:1.5em auto;padding:0 1em}\
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.25em;margin-top:1.4em;border-bottom:1px solid #999}\
table{border-collapse:collapse;width:100%;margin:.5em 0}th,td{border:1px solid #888;padding:.25em .5em;text-align:left;vertical-align:top}\
td.n{text-align:right}caption{text-align:left;font-weight:bold;padding:.3em 0}\
.met{font-weight:bold}.not_met{font-weight:bold;text-decoration:underline}.key span{display:inline-block;width:1em;height:1em;vertical-align:middle;margin:0 .3em 0 1em;border:1px solid #000}\
@page{size:A4;margin:15mm}@media print{body{max-width:none;margin:0;font-size:10.5pt}h2{break-after:avoid}table,figure{break-inside:avoid}a{color:inherit;text-decoration:none}}";

/// The chart: for each level a pair of bars, claimed (hatched grey) beside evidenced (black).
fn chart(levels: &[LevelCount]) -> String {
    let max = levels
        .iter()
        .map(|l| l.claimed.max(l.evidenced))
        .max()
        .unwrap_or(0)
        .max(1);
    let (width, bar_area, bar_w, gap) = (640, 200.0, 28, 120);
    let height = 270;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-labelledby=\"chart-title chart-desc\" viewBox=\"0 0 {width} {height}\" width=\"100%\" style=\"max-width:{width}px\">\
         <title id=\"chart-title\">Pieces of work by level: claimed beside evidenced</title><desc id=\"chart-desc\">"
    );
    let described: Vec<String> = levels
        .iter()
        .map(|l| {
            format!(
                "{}: {} claimed, {} evidenced",
                words(l.level),
                l.claimed,
                l.evidenced
            )
        })
        .collect();
    svg.push_str(&esc(&described.join("; ")));
    svg.push_str("</desc><defs><pattern id=\"hatch\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#ddd\"/><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#555\" stroke-width=\"2\"/></pattern></defs>");
    let _ = write!(
        svg,
        "<line x1=\"20\" y1=\"{base}\" x2=\"{x2}\" y2=\"{base}\" stroke=\"#000\"/>",
        base = 20.0 + bar_area,
        x2 = width - 10
    );
    for (i, l) in levels.iter().enumerate() {
        let x = 40 + i as i32 * gap;
        let level = l.level.as_str();
        for (j, (kind, value, fill)) in [
            ("claimed", l.claimed, "url(#hatch)"),
            ("evidenced", l.evidenced, "#111"),
        ]
        .into_iter()
        .enumerate()
        {
            let h = bar_area * value as f64 / max as f64;
            let bx = x + j as i32 * (bar_w + 4);
            let _ = write!(
                svg,
                "<g class=\"bar-pair-{level}\"><rect class=\"bar {kind}\" data-level=\"{level}\" data-kind=\"{kind}\" data-value=\"{value}\" x=\"{bx}\" y=\"{y:.1}\" width=\"{bar_w}\" height=\"{h:.1}\" fill=\"{fill}\" stroke=\"#000\"><title>{name}, {kind}: {value}</title></rect>\
                 <text x=\"{tx}\" y=\"{ty:.1}\" font-size=\"11\" text-anchor=\"middle\">{value}</text></g>",
                y = 20.0 + bar_area - h,
                name = esc(&words(l.level)),
                tx = bx + bar_w / 2,
                ty = 20.0 + bar_area - h - 3.0,
            );
        }
        let _ = write!(
            svg,
            "<text x=\"{tx}\" y=\"{ty}\" font-size=\"12\" text-anchor=\"middle\">{name}</text>",
            tx = x + bar_w + 2,
            ty = 20.0 + bar_area + 18.0,
            name = esc(&words(l.level))
        );
    }
    svg.push_str("</svg>");
    svg
}

pub fn render(report: &EvidenceReport, glossary: &HashMap<String, String>) -> String {
    let s = &report.subject;
    let mut page = String::with_capacity(32 * 1024);
    let title = format!(
        "Co-production evidence report: {}{}",
        s.provider_name,
        s.contract_title
            .as_ref()
            .map(|t| format!(" ({t})"))
            .unwrap_or_default()
    );
    let last_day = report.period.to - chrono::Duration::days(1);
    let _ = write!(
        page,
        "<!DOCTYPE html><html lang=\"en-GB\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>{STYLE}</style></head><body><main>\
         <h1>{title}</h1>\
         <p>Provider: <strong>{provider}</strong>{contract}. Period: <strong>{from}</strong> to <strong>{last}</strong> inclusive. \
         Computed {computed}; the evidence is judged as it stood at {at}.</p>",
        title = esc(&title),
        provider = esc(&s.provider_name),
        contract = s
            .contract_title
            .as_ref()
            .map(|t| format!(". Contract: <strong>{}</strong>", esc(t)))
            .unwrap_or_default(),
        from = report.period.from.format("%-d %B %Y"),
        last = last_day.format("%-d %B %Y"),
        computed = report.computed_at.format("%-d %B %Y %H:%M UTC"),
        at = report.evidence_at.format("%-d %B %Y %H:%M UTC"),
    );
    if report.small_numbers_suppressed {
        page.push_str("<p>Counts of fewer than 5 people are shown as \u{201c}fewer than 5\u{201d}, and other counts of people are rounded to the nearest 5, so that nobody can be picked out of a small group.</p>");
    }

    // Work by level, the chart and its table.
    page.push_str("<h2 id=\"levels\">Work by level: claimed beside evidenced</h2><figure>");
    page.push_str(&chart(&report.levels));
    page.push_str("<figcaption><span class=\"key\"><span style=\"background:#ccc\"></span>Claimed (hatched)<span style=\"background:#111\"></span>Evidenced</span></figcaption></figure>");
    page.push_str("<table><caption>Pieces of work at each level</caption><thead><tr><th scope=\"col\">Level</th><th scope=\"col\">Claimed</th><th scope=\"col\">Evidenced</th><th scope=\"col\">Share evidenced</th></tr></thead><tbody>");
    for l in &report.levels {
        let _ = write!(
            page,
            "<tr><th scope=\"row\">{}</th><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            esc(&words(l.level)),
            l.claimed,
            l.evidenced,
            l.evidenced_share
                .map(|v| format!("{v:.1}%"))
                .unwrap_or_else(|| "no data".to_owned())
        );
    }
    let _ = write!(
        page,
        "</tbody></table><p>Claimed as collaboration or user-led (beside the ladder): {}.{}</p>",
        report.claimed_beside_ladder,
        report
            .position
            .map(|p| format!(
                " The provider's position on the ladder (the level at least half its work reaches): <strong>{}</strong>.",
                esc(&words(p))
            ))
            .unwrap_or_default()
    );

    if !report.overclaimed.is_empty() {
        page.push_str("<h2 id=\"overclaimed\">Work claimed higher than its evidence</h2><table><caption>Each piece, and the co-production criteria it did not meet</caption><thead><tr><th scope=\"col\">Work</th><th scope=\"col\">Claimed</th><th scope=\"col\">Evidenced</th><th scope=\"col\">Criteria not met</th></tr></thead><tbody>");
        for o in &report.overclaimed {
            let failing: Vec<String> = o
                .failing
                .iter()
                .map(|c| {
                    let name = c.criterion.as_str().replace('_', " ");
                    if c.reason.is_empty() {
                        esc(&name)
                    } else {
                        format!("{}: {}", esc(&name), esc(&c.reason))
                    }
                })
                .collect();
            let _ = write!(
                page,
                "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&o.title),
                esc(&o.claimed_mode.as_str().replace('_', " ")),
                esc(&words(o.evidenced_level)),
                failing.join("<br>")
            );
        }
        page.push_str("</tbody></table>");
    }

    // The requirements.
    if !report.requirements.is_empty() {
        page.push_str("<h2 id=\"requirements\">Contract requirements</h2><table><caption>Each requirement, its figure and whether it was met</caption><thead><tr><th scope=\"col\">Requirement</th><th scope=\"col\">Threshold</th><th scope=\"col\">Figure</th><th scope=\"col\">Met</th></tr></thead><tbody>");
        for r in &report.requirements {
            let q = &r.requirement;
            let threshold = match (q.target_level, q.threshold) {
                (Some(l), _) => words(l),
                (None, Some(t)) => {
                    let rel = if q.metric.at_most() {
                        "at most"
                    } else {
                        "at least"
                    };
                    if q.metric.is_percentage() {
                        format!("{rel} {t}%")
                    } else {
                        format!("{rel} {t}")
                    }
                }
                (None, None) => String::new(),
            };
            let status = r.status.as_str();
            let _ = write!(
                page,
                "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td class=\"{status}\">{}</td></tr>",
                esc(&q.label),
                esc(&threshold),
                esc(&r.display),
                match status {
                    "met" => "Met",
                    "not_met" => "Not met",
                    "no_data" => "No data",
                    _ => "Withheld (fewer than 5 people)",
                }
            );
        }
        page.push_str("</tbody></table>");
    }

    // Every figure, section by section.
    for section in ReportSection::ALL {
        let figures: Vec<_> = report
            .figures
            .iter()
            .filter(|f| f.section == section)
            .collect();
        if figures.is_empty() {
            continue;
        }
        let heading = match section {
            ReportSection::Work => "Work",
            ReportSection::People => "People",
            ReportSection::Hours => "Hours",
            ReportSection::Sessions => "Sessions and interview panels",
            ReportSection::Payments => "Payments",
            ReportSection::Feedback => "The feedback loop",
            ReportSection::FiveValues => "The Five Values",
            ReportSection::Ladder => "Position on the ladder",
            ReportSection::Requirements => "Requirements",
        };
        let _ = write!(
            page,
            "<h2 id=\"{id}\">{heading}</h2><table><caption>{heading}: figures for the period</caption><thead><tr><th scope=\"col\">Figure</th><th scope=\"col\">Value</th></tr></thead><tbody>",
            id = section.as_str()
        );
        for f in figures {
            let _ = write!(
                page,
                "<tr><th scope=\"row\">{}</th><td class=\"n\">{}</td></tr>",
                esc(&f.label),
                esc(&f.display)
            );
        }
        page.push_str("</tbody></table>");
    }

    if let Some(a) = &report.self_assessment {
        let _ = write!(
            page,
            "<h2 id=\"self-assessment\">The provider's self-assessment beside the evidence</h2><table><caption>The latest answers to the guide's ten questions (submitted {submitted})</caption><tbody>\
             <tr><th scope=\"row\">Where the provider says it sits</th><td>{current}</td></tr>\
             <tr><th scope=\"row\">Where the evidence puts it</th><td>{evidenced}</td></tr>\
             <tr><th scope=\"row\">Where it wants to be</th><td>{target}</td></tr>\
             <tr><th scope=\"row\">Staff knowledge, confidence (1-5)</th><td>{k}, {c}</td></tr>\
             <tr><th scope=\"row\">Commitment (1-10)</th><td>{commit}</td></tr>\
             <tr><th scope=\"row\">Prepared to pay</th><td>{pay}</td></tr>\
             <tr><th scope=\"row\">Barriers</th><td>{barriers}</td></tr>\
             <tr><th scope=\"row\">Successes</th><td>{successes}</td></tr></tbody></table>",
            submitted = a.submitted_at.format("%-d %B %Y"),
            current = esc(&words(a.current_level)),
            evidenced = a.evidenced_position.map(|p| esc(&words(p))).unwrap_or_else(|| "no data".to_owned()),
            target = esc(&words(a.target_level)),
            k = a.staff_knowledge,
            c = a.staff_confidence,
            commit = a.commitment,
            pay = esc(a.prepared_to_pay.as_str()),
            barriers = esc(&a.barriers.iter().map(|b| b.as_str().replace('_', " ")).collect::<Vec<_>>().join(", ")),
            successes = esc(a.successes.as_deref().unwrap_or("")),
        );
    }

    page.push_str("<h2 id=\"levels-explained\">What the levels mean</h2><dl>");
    for level in LadderLevel::ALL.iter().rev() {
        let _ = write!(
            page,
            "<dt><strong>{}</strong></dt><dd>{}</dd>",
            esc(&words(*level)),
            esc(&meaning(*level, glossary))
        );
    }
    page.push_str("</dl><p>A piece of work is evidenced as co-production only when people with lived experience or carers joined from the start, took part to the end, had an equal say in the decisions, were paid or otherwise recognised, and the work had a clear ending or continuous feedback.</p></main></body></html>");
    page
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            esc("<script>\"a\" & 'b'</script>"),
            "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/script&gt;"
        );
    }
}
