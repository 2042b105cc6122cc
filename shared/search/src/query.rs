//! The query language clerks type: words (all must match), `"exact phrase"`, `-exclude`
//! and `field:value` for a few named fields. Parsing never panics; malformed input is a
//! [`QueryError`] with the character position and a German and an English message.

use std::fmt;

/// A parsed query; build it with [`Query::parse`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Query {
    pub(crate) clauses: Vec<Clause>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Clause {
    pub(crate) negated: bool,
    pub(crate) field: Option<QueryField>,
    pub(crate) value: String,
    /// `true` for `"…"`: the words must appear in this order.
    pub(crate) phrase: bool,
}

/// The fields a query may name explicitly (German aliases in brackets).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryField {
    /// `kind:` (`art:`): Eingang, Ausgang, Vermerk, Bescheid, Sonstiges.
    Kind,
    /// `az:`: Aktenzeichen, exact or prefix.
    Reference,
    /// `vz:`: Vorgangszeichen, exact or prefix.
    CaseReference,
    /// `status:`: offen, zdA.
    Status,
    /// `sender:` (`absender:`).
    Sender,
    /// `recipient:` (`empfaenger:`, `empfänger:`).
    Recipient,
    /// `title:` (`titel:`).
    Title,
    /// `year:` (`jahr:`): year of the document date.
    Year,
}

impl QueryField {
    fn from_name(name: &str) -> Option<Self> {
        Some(match name.to_lowercase().as_str() {
            "kind" | "art" => Self::Kind,
            "az" => Self::Reference,
            "vz" => Self::CaseReference,
            "status" => Self::Status,
            "sender" | "absender" => Self::Sender,
            "recipient" | "empfaenger" | "empfänger" => Self::Recipient,
            "title" | "titel" => Self::Title,
            "year" | "jahr" => Self::Year,
            _ => return None,
        })
    }
}

/// What is wrong with a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryErrorKind {
    /// A `"` without its closing partner.
    UnclosedQuote,
    /// `field:` with nothing after it.
    EmptyFieldValue(String),
    /// `name:` where `name` is not a known field.
    UnknownField(String),
    /// A lone `-` or `-""`.
    EmptyExclusion,
    /// `year:` with something that is not a year.
    InvalidYear(String),
}

/// A malformed query: where (character index, 0-based) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError {
    /// Character index into the query string where the problem starts.
    pub position: usize,
    /// The problem.
    pub kind: QueryErrorKind,
}

impl QueryError {
    /// Explanation for clerks.
    pub fn message_de(&self) -> String {
        let p = self.position + 1;
        match &self.kind {
            QueryErrorKind::UnclosedQuote => {
                format!("Das Anführungszeichen an Stelle {p} wird nicht geschlossen.")
            }
            QueryErrorKind::EmptyFieldValue(f) => {
                format!("Nach „{f}:“ an Stelle {p} fehlt der gesuchte Wert.")
            }
            QueryErrorKind::UnknownField(f) => format!(
                "„{f}:“ an Stelle {p} ist kein Suchfeld. Bekannt sind: art, az, vz, status, \
                 absender, empfaenger, titel, jahr."
            ),
            QueryErrorKind::EmptyExclusion => {
                format!("Nach dem Minus an Stelle {p} fehlt das auszuschließende Wort.")
            }
            QueryErrorKind::InvalidYear(v) => {
                format!("„{v}“ an Stelle {p} ist keine Jahreszahl.")
            }
        }
    }

    /// Explanation for developers of specialist software.
    pub fn message_en(&self) -> String {
        let p = self.position + 1;
        match &self.kind {
            QueryErrorKind::UnclosedQuote => format!("the quote at position {p} is never closed"),
            QueryErrorKind::EmptyFieldValue(f) => {
                format!("`{f}:` at position {p} has no value")
            }
            QueryErrorKind::UnknownField(f) => format!(
                "`{f}:` at position {p} is not a search field (known: kind, az, vz, status, \
                 sender, recipient, title, year)"
            ),
            QueryErrorKind::EmptyExclusion => {
                format!("the minus at position {p} excludes nothing")
            }
            QueryErrorKind::InvalidYear(v) => format!("`{v}` at position {p} is not a year"),
        }
    }
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message_en())
    }
}

impl std::error::Error for QueryError {}

impl Query {
    /// Parses the clerk's query string.
    pub fn parse(input: &str) -> Result<Query, QueryError> {
        let chars: Vec<char> = input.chars().collect();
        let mut clauses = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            if chars[i].is_whitespace() {
                i += 1;
                continue;
            }
            let start = i;
            let negated = chars[i] == '-';
            if negated {
                i += 1;
                if i >= chars.len() || chars[i].is_whitespace() {
                    return Err(err(start, QueryErrorKind::EmptyExclusion));
                }
            }
            // `name:` counts as a field only when the name is letters, so `10:30` stays a word.
            let mut field = None;
            let mut j = i;
            while j < chars.len() && chars[j].is_alphabetic() {
                j += 1;
            }
            if j > i && j < chars.len() && chars[j] == ':' {
                let name: String = chars[i..j].iter().collect();
                let Some(f) = QueryField::from_name(&name) else {
                    return Err(err(i, QueryErrorKind::UnknownField(name)));
                };
                field = Some((f, name, i));
                i = j + 1;
            }
            let (value, phrase) = if i < chars.len() && chars[i] == '"' {
                let open = i;
                let Some(len) = chars[i + 1..].iter().position(|&c| c == '"') else {
                    return Err(err(open, QueryErrorKind::UnclosedQuote));
                };
                let v: String = chars[i + 1..i + 1 + len].iter().collect();
                i += len + 2;
                (v, true)
            } else {
                let from = i;
                while i < chars.len() && !chars[i].is_whitespace() && chars[i] != '"' {
                    i += 1;
                }
                (chars[from..i].iter().collect(), false)
            };
            if value.trim().is_empty() {
                return Err(match field {
                    Some((_, name, at)) => err(at, QueryErrorKind::EmptyFieldValue(name)),
                    None if negated => err(start, QueryErrorKind::EmptyExclusion),
                    // An empty `""` asks for nothing; skip it.
                    None => continue,
                });
            }
            let field = field.map(|(f, _, at)| (f, at));
            if let Some((QueryField::Year, at)) = field {
                if value.trim().parse::<i32>().is_err() {
                    return Err(err(at, QueryErrorKind::InvalidYear(value)));
                }
            }
            clauses.push(Clause {
                negated,
                field: field.map(|(f, _)| f),
                value,
                phrase,
            });
        }
        Ok(Query { clauses })
    }

    /// `true` when the query names nothing (empty string): it then matches every document.
    pub fn is_empty(&self) -> bool {
        self.clauses.is_empty()
    }

    /// What Akten and Vorgänge themselves are found by: a Zeichen (prefix) and the words
    /// their Betreff must contain. `None` when the query asks for something only documents
    /// have (a kind, a sender, a title, a year) or excludes words.
    pub fn record_terms(&self) -> Option<RecordTerms> {
        let mut terms = RecordTerms::default();
        let mut free = Vec::new();
        for clause in &self.clauses {
            if clause.negated {
                return None;
            }
            match clause.field {
                None => free.push(clause.value.trim()),
                Some(QueryField::Reference | QueryField::CaseReference) => {
                    terms.reference = clause.value.trim().to_owned();
                }
                Some(_) => return None,
            }
        }
        if terms.reference.is_empty() {
            terms.reference = free.join(" ");
        }
        terms.words = free
            .iter()
            .flat_map(|v| v.split_whitespace())
            .map(str::to_owned)
            .collect();
        (!terms.reference.is_empty() || !terms.words.is_empty()).then_some(terms)
    }
}

/// See [`Query::record_terms`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordTerms {
    /// Matches Zeichen that start with it.
    pub reference: String,
    /// All must occur in the Betreff.
    pub words: Vec<String>,
}

fn err(position: usize, kind: QueryErrorKind) -> QueryError {
    QueryError { position, kind }
}

/// Aktenzeichen-like: starts with a digit and contains `.`, `-` or `/`.
pub(crate) fn looks_like_reference(word: &str) -> bool {
    word.chars().next().is_some_and(|c| c.is_ascii_digit()) && word.contains(['.', '-', '/'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn akten_are_found_by_zeichen_and_betreff_words_only() {
        let terms = |q: &str| Query::parse(q).unwrap().record_terms();
        let t = terms("63.02-0001/2026").unwrap();
        assert_eq!(t.reference, "63.02-0001/2026");
        assert_eq!(t.words, vec!["63.02-0001/2026"]);
        let t = terms("Bahnhofstraße \"Neubau Kita\"").unwrap();
        assert_eq!(t.words, vec!["Bahnhofstraße", "Neubau", "Kita"]);
        assert_eq!(terms("az:63.01 Musterweg").unwrap().reference, "63.01");
        assert_eq!(terms("art:Bescheid Musterweg"), None);
        assert_eq!(terms("Musterweg -Garage"), None);
        assert_eq!(terms(""), None);
    }

    fn clause(negated: bool, field: Option<QueryField>, value: &str, phrase: bool) -> Clause {
        Clause {
            negated,
            field,
            value: value.into(),
            phrase,
        }
    }

    #[test]
    fn parses_words_phrases_exclusions_and_fields() {
        let q = Query::parse(
            r#"Bauantrag "Musterweg 3" -Garage absender:"Max Muster" jahr:2026 az:63.01-"#,
        )
        .unwrap();
        assert_eq!(
            q.clauses,
            vec![
                clause(false, None, "Bauantrag", false),
                clause(false, None, "Musterweg 3", true),
                clause(true, None, "Garage", false),
                clause(false, Some(QueryField::Sender), "Max Muster", true),
                clause(false, Some(QueryField::Year), "2026", false),
                clause(false, Some(QueryField::Reference), "63.01-", false),
            ]
        );
    }

    #[test]
    fn colon_after_digits_is_part_of_the_word() {
        let q = Query::parse("10:30").unwrap();
        assert_eq!(q.clauses, vec![clause(false, None, "10:30", false)]);
    }

    #[test]
    fn malformed_queries_are_errors_with_positions() {
        let e = Query::parse(r#"Antrag "offen"#).unwrap_err();
        assert_eq!((e.position, e.kind), (7, QueryErrorKind::UnclosedQuote));
        let e = Query::parse("titel: Antrag").unwrap_err();
        assert_eq!(e.kind, QueryErrorKind::EmptyFieldValue("titel".into()));
        let e = Query::parse("Antrag farbe:rot").unwrap_err();
        assert_eq!(
            (e.position, e.kind),
            (7, QueryErrorKind::UnknownField("farbe".into()))
        );
        let e = Query::parse("Antrag -").unwrap_err();
        assert_eq!(e.kind, QueryErrorKind::EmptyExclusion);
        let e = Query::parse("jahr:zwanzig").unwrap_err();
        assert_eq!(e.kind, QueryErrorKind::InvalidYear("zwanzig".into()));
        assert!(e.message_de().contains("Jahreszahl"));
        assert!(e.message_en().contains("not a year"));
    }

    #[test]
    fn odd_input_never_panics() {
        for q in [
            "", "\"", "-", ":", "a:", "-\"\"", "\"\"", "ä:ö", "-:x", "--", "az:\"\"",
        ] {
            let _ = Query::parse(q);
        }
        assert!(Query::parse("").unwrap().is_empty());
    }

    #[test]
    fn reference_detection() {
        assert!(looks_like_reference("63.01-0042/2026"));
        assert!(looks_like_reference("63.01-"));
        assert!(!looks_like_reference("2026"));
        assert!(!looks_like_reference("Bau-Antrag"));
    }
}
