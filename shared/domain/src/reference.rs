//! Aktenzeichen generation. The format is a small template so each tenant can keep the
//! numbering it had on paper; the running number comes from the database, gap-free.

use crate::DomainError;

/// The running number of an Akte within its plan unit and year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReferenceNumber {
    pub nr: i64,
    pub year: i32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Literal(String),
    Code,
    Nr { width: usize },
    Year,
}

/// A parsed Aktenzeichen template such as `{kennzeichen}-{nr:04}/{year}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferenceFormat {
    source: String,
    pieces: Vec<Piece>,
}

impl ReferenceFormat {
    pub const DEFAULT: &'static str = "{kennzeichen}-{nr:04}/{year}";

    pub fn default_format() -> ReferenceFormat {
        // The default template is a constant that the tests below parse.
        Self::parse(Self::DEFAULT).unwrap_or_else(|_| unreachable!("default format parses"))
    }

    pub fn parse(template: &str) -> Result<ReferenceFormat, DomainError> {
        let err = |m: &str| DomainError::new("reference_format", m);
        let mut pieces = Vec::new();
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                pieces.push(Piece::Literal(rest[..open].to_owned()));
            }
            let close = rest[open..].find('}').ok_or_else(|| err("unclosed '{'"))? + open;
            let token = &rest[open + 1..close];
            pieces.push(match token {
                "kennzeichen" => Piece::Code,
                "year" => Piece::Year,
                "nr" => Piece::Nr { width: 0 },
                t if t.starts_with("nr:") => {
                    let width: usize =
                        t[3..].parse().map_err(|_| err("{nr:N} needs a number N"))?;
                    if width > 10 {
                        return Err(err("{nr:N} allows at most 10 digits"));
                    }
                    Piece::Nr { width }
                }
                _ => {
                    return Err(err(
                        "unknown placeholder; use {kennzeichen}, {nr}, {nr:04}, {year}",
                    ))
                }
            });
            rest = &rest[close + 1..];
        }
        if !rest.is_empty() {
            pieces.push(Piece::Literal(rest.to_owned()));
        }
        if pieces
            .iter()
            .any(|p| matches!(p, Piece::Literal(l) if l.contains('}')))
        {
            return Err(err("unmatched '}'"));
        }
        // Unique by construction: numbers count per plan unit (and year, when the template
        // shows it), so the Aktenzeichen needs both the Kennzeichen and the number …
        if !pieces.iter().any(|p| matches!(p, Piece::Nr { .. })) {
            return Err(err("must contain {nr}"));
        }
        if !pieces.iter().any(|p| matches!(p, Piece::Code)) {
            return Err(err("must contain {kennzeichen}"));
        }
        // … told apart by a separator: `{kennzeichen}{nr}` renders 6 + 31 and 63 + 1 alike.
        if pieces
            .windows(2)
            .any(|w| !matches!(w[0], Piece::Literal(_)) && !matches!(w[1], Piece::Literal(_)))
        {
            return Err(err(
                "placeholders must be separated by text, e.g. {kennzeichen}-{nr}",
            ));
        }
        // Aktenzeichen end up in pages, exports and file names: plain characters only.
        let plain = |c: char| c.is_alphanumeric() || " -/._:()".contains(c);
        if pieces
            .iter()
            .any(|p| matches!(p, Piece::Literal(l) if !l.chars().all(plain)))
        {
            return Err(err(
                "text between placeholders may hold letters, digits, spaces and - / . _ : ( )",
            ));
        }
        Ok(ReferenceFormat {
            source: template.to_owned(),
            pieces,
        })
    }

    /// Whether the running number restarts every year (the template shows the year).
    pub fn numbers_per_year(&self) -> bool {
        self.pieces.iter().any(|p| matches!(p, Piece::Year))
    }

    pub fn render(&self, code: &str, number: ReferenceNumber) -> String {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Literal(l) => out.push_str(l),
                Piece::Code => out.push_str(code),
                Piece::Nr { width } => out.push_str(&format!("{:0width$}", number.nr)),
                Piece::Year => out.push_str(&number.year.to_string()),
            }
        }
        out
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Vorgangszeichen: the Aktenzeichen plus the case's running number within the Akte.
    pub fn case_reference(file_reference: &str, nr: i64) -> String {
        format!("{file_reference}-{nr}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_format_renders_like_the_paper_file() {
        let f = ReferenceFormat::default_format();
        let r = f.render("63.01", ReferenceNumber { nr: 42, year: 2026 });
        assert_eq!(r, "63.01-0042/2026");
        assert!(f.numbers_per_year());
        assert_eq!(ReferenceFormat::case_reference(&r, 3), "63.01-0042/2026-3");
    }

    #[test]
    fn custom_formats_and_errors() {
        let f = ReferenceFormat::parse("Az. {kennzeichen}/{nr}").unwrap();
        assert_eq!(
            f.render("10", ReferenceNumber { nr: 7, year: 2026 }),
            "Az. 10/7"
        );
        assert!(!f.numbers_per_year());
        assert!(ReferenceFormat::parse("{kennzeichen}/{year}").is_err());
        assert!(ReferenceFormat::parse("{kennzeichen}-{nr").is_err());
        assert!(ReferenceFormat::parse("{foo}{nr}").is_err());
        assert!(ReferenceFormat::parse("{nr:x}").is_err());
        assert!(ReferenceFormat::parse("{nr}}").is_err());
    }

    #[test]
    fn formats_make_references_unique_by_construction() {
        // The number alone repeats in every plan unit.
        assert!(ReferenceFormat::parse("{nr}").is_err());
        // Without a separator 6 + 31 and 63 + 1 render alike.
        assert!(ReferenceFormat::parse("{kennzeichen}{nr}").is_err());
        assert!(ReferenceFormat::parse("{kennzeichen}-{nr}{year}").is_err());
        // No markup or control characters in the text.
        assert!(ReferenceFormat::parse("<b>{kennzeichen}</b>-{nr}").is_err());
        assert!(ReferenceFormat::parse("{kennzeichen}\u{0}{nr}").is_err());
        assert!(ReferenceFormat::parse("{kennzeichen}-{nr:04}/{year}").is_ok());
        assert!(ReferenceFormat::parse("Az. {kennzeichen} (Nr. {nr})").is_ok());
    }
}
