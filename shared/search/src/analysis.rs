//! German text analysis: the `german` analyzer used for all full-text fields and the
//! `german_plain` analyzer (no stemming, no decompounding) that backs the fuzzy fallback.
//!
//! Pipeline of `german`: split on non-alphanumerics → lowercase → fold umlauts and `ß`
//! (`ä`/`ae` → `a`, `ö`/`oe` → `o`, `ü`/`ue` → `u`, `ß` → `ss`) → drop stop words → emit
//! compound parts at the token's position → Snowball German stemmer.
//!
//! Umlauts fold to the bare vowel rather than to `ae`: the stemmer itself strips umlauts
//! (`Anträge` → `antrag`) but leaves `ae` alone (`antraeg`), so only the bare vowel lets
//! `Anträge`, `Antraege` and `Antrag` meet.

use std::sync::OnceLock;

use rustc_hash::FxHashSet;
use tantivy::tokenizer::{
    Language, RemoveLongFilter, Stemmer, TextAnalyzer, Token, TokenStream, Tokenizer,
};

/// Name under which the stemming analyzer is registered in every index.
pub const GERMAN: &str = "german";
/// Name of the folding-only analyzer (fuzzy fallback field).
pub const GERMAN_PLAIN: &str = "german_plain";

/// Tokens longer than this are noise (hashes, base64) and are dropped.
const MAX_TOKEN_BYTES: usize = 64;
/// Shortest compound part; shorter pieces produce too many false splits.
const MIN_PART_CHARS: usize = 3;

/// The stemming analyzer registered as [`GERMAN`].
pub fn german_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(GermanTokenizer { decompound: true })
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(Stemmer::new(Language::German))
        .build()
}

/// The folding-only analyzer registered as [`GERMAN_PLAIN`].
pub fn german_plain_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(GermanTokenizer { decompound: false })
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .build()
}

/// An analyzer for highlighting hits of `terms` (analysed forms, as in the index): it yields
/// the same tokens as [`german_analyzer`] for every word that can produce one of the terms,
/// and an empty token for any other word. A snippet is cut from a hit's text on every search,
/// and stemming and decompounding every word of it cost more than the search itself; a word
/// can only produce a term when its folded form contains that term (stems and compound parts
/// are pieces of the folded word), so the others are skipped unanalysed.
pub fn highlight_analyzer(terms: Vec<String>) -> TextAnalyzer {
    TextAnalyzer::from(HighlightTokenizer {
        terms: terms.into(),
    })
}

/// Tokens of `text` as the given analyzer produces them (text, position).
pub fn analyze(analyzer: &mut TextAnalyzer, text: &str) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    let mut stream = analyzer.token_stream(text);
    while stream.advance() {
        let t = stream.token();
        out.push((t.text.clone(), t.position));
    }
    out
}

/// Lowercases and folds umlauts, `ß` and their two-letter spellings.
pub fn fold(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    fold_into(word, &mut out);
    out
}

/// [`fold`] into `out` (cleared first), reusing its allocation.
fn fold_into(word: &str, out: &mut String) {
    out.clear();
    // Most words are ASCII: lowercasing them needs no Unicode tables.
    let lower;
    let source = if word
        .bytes()
        .all(|b| b.is_ascii() && !b.is_ascii_uppercase())
    {
        word
    } else if word.is_ascii() {
        lower = word.to_ascii_lowercase();
        lower.as_str()
    } else {
        lower = word.to_lowercase();
        lower.as_str()
    };
    // One pass over the lowercased characters, looking back one and ahead one.
    let mut chars = source.chars().peekable();
    let mut previous = None;
    while let Some(c) = chars.next() {
        let next = chars.peek().copied();
        match c {
            'ä' | 'à' | 'á' | 'â' => out.push('a'),
            'ö' | 'ò' | 'ó' | 'ô' => out.push('o'),
            'ü' | 'ù' | 'ú' | 'û' => out.push('u'),
            'é' | 'è' | 'ê' => out.push('e'),
            'ß' => out.push_str("ss"),
            // `ae`/`oe`/`ue` are the typewriter spellings of umlauts; `que` (Quelle) is not.
            'a' | 'o' if next == Some('e') => {
                out.push(c);
                chars.next();
            }
            'u' if next == Some('e') && previous != Some('q') => {
                out.push('u');
                chars.next();
            }
            _ => out.push(c),
        }
        previous = Some(c);
    }
}

/// Common German function words, authored for Akta (folded when loaded).
const STOP_WORDS: &str = "\
    aber alle allem allen aller alles als also am an andere auch auf aus bei beim bin bis \
    bist da damit dann das dass dem den denn der des dich die dies diese diesem diesen \
    dieser dieses dir doch dort du durch ein eine einem einen einer eines er es etwa euch \
    für gegen hat hatte haben hier ich ihm ihn ihr ihre ihrem ihren ihrer im in ins ist ja \
    jede jedem jeden jeder jedes kann kein keine man mich mir mit nach nicht noch nun nur ob \
    oder ohne sehr sein seine seinem seinen seiner sich sie sind so soll sowie über um und \
    uns unser unter vom von vor war waren was weil wenn wer werden wie wir wird wo zu zum \
    zur zwischen
";

/// Word parts of German administrative language (building, procedure, money, staff, trade,
/// animals, waste, traffic), authored for Akta. Compounds made only of these, with linking
/// `s`/`es`/`n`/`en` between parts, are split.
const WORD_PARTS: &str = "\
    bau neubau umbau anbau abbruch abriss bebauung planung plan gebäude haus wohn wohnung \
    grund grundstück stück flur flurstück garten platz park spiel straße weg brücke verkehr \
    fläche nutzung gelände lage gebiet bereich zone dach keller garage stellplatz anlage \
    werk halle mauer zaun baum wald wasser abwasser kanal leitung netz strom energie wärme \
    heiz solar denkmal schutz natur umwelt lärm luft boden kataster vermessung grenze karte \
    stadt dorf gemeinde kreis land bund orts ort markt friedhof grab schule kinder kind kita \
    jugend sport schwimm bad feuer wehr rettung dienst not ruf antrag anträge genehmigung \
    erlaubnis bescheid bewilligung zulassung anmeldung abmeldung ummeldung meldung anzeige \
    mitteilung schreiben brief akte akten vorgang vermerk protokoll niederschrift bericht \
    gutachten stellungnahme beschluss verfügung widerspruch klage einspruch beschwerde \
    anhörung prüfung entscheidung auftrag vertrag vereinbarung satzung ordnung gesetz recht \
    verfahren frist termin sitzung rat ausschuss vorlage nachweis bescheinigung zeugnis \
    ausweis pass urkunde register verzeichnis liste formular unterlage änderung ergänzung \
    verlängerung befreiung ausnahme förderung zuschuss beihilfe hilfe leistung unterhalt \
    vorschuss erstattung zahlung mahnung vollstreckung pfändung stundung erlass rückzahlung \
    aufsicht kontrolle überwachung ermittlung verstoß ordnungswidrigkeit bußgeld buße strafe \
    sicherheit gefahr abwehr ausschreibung vergabe angebot beschaffung lieferung abnahme \
    sanierung erneuerung unterhaltung pflege reinigung entsorgung sammlung beratung \
    betreuung versorgung erschließung beitrag beiträge einwohner bürger melde wahl stimm \
    zettel ehe geburt sterbe namens name staats angehörigkeit aufenthalt einbürgerung \
    integration gebühr gebühren steuer abgabe geld kosten haushalt kasse rechnung gut \
    schrift konto buchung betrag summe mittel ertrag aufwand investition kredit zins miete \
    pacht kauf verkauf preis lohn gehalt personal stelle stellen beamte beamter arbeit zeit \
    urlaub krankheit reise fortbildung ausbildung bewerbung einstellung versetzung besoldung \
    versicherung rente sozial wohngeld eltern familie senioren heim gewerbe handel betrieb \
    unternehmen gaststätte gast hund hunde tier katze pferd abfall müll rest bio papier \
    tonne container fahrzeug auto kraft fahr rad parken halte verbot schild zeichen ampel \
    bus bahn linie sonder nutzungs ausbau lärmschutz licht beleuchtung fest veranstaltung \
    kultur musik bibliothek museum archiv daten technik software computer
";

/// The fixed word lists. Their sets hash with FxHash: they are only read, with keys that are
/// words of documents and queries, and SipHash was a visible part of indexing's profile.
struct Lexicon {
    stop: FxHashSet<String>,
    parts: FxHashSet<String>,
    /// Characters of the longest part: no longer slice of a word can be one.
    longest_part: usize,
}

fn lexicon() -> &'static Lexicon {
    static LEXICON: OnceLock<Lexicon> = OnceLock::new();
    LEXICON.get_or_init(|| {
        let parts: FxHashSet<String> = WORD_PARTS.split_whitespace().map(fold).collect();
        Lexicon {
            stop: STOP_WORDS.split_whitespace().map(fold).collect(),
            longest_part: parts.iter().map(|p| p.chars().count()).max().unwrap_or(0),
            parts,
        }
    })
}

/// Linking elements (Fugen) allowed after a non-final part.
const LINKS: &[&str] = &["", "s", "es", "n", "en"];
/// Inflection endings allowed after the final part.
const ENDINGS: &[&str] = &["", "e", "en", "n", "s", "es", "er", "ern"];

/// Splits a folded word into dictionary parts (at least two), or `None`.
/// Returns the parts without linking elements; the final part keeps its ending so the
/// stemmer treats it like the free word.
pub fn decompound(word: &str) -> Option<Vec<String>> {
    // Byte offset of every character boundary, the end included: parts are probed as
    // slices of the word, without building a string per probe.
    let bounds: Vec<usize> = word
        .char_indices()
        .map(|(i, _)| i)
        .chain([word.len()])
        .collect();
    let chars = bounds.len() - 1;
    // Over-long tokens are dropped later anyway; skipping them bounds the work per token.
    if chars < 2 * MIN_PART_CHARS || word.len() > MAX_TOKEN_BYTES {
        return None;
    }
    let mut dead_ends = vec![false; chars + 1];
    let parts = split_from(word, &bounds, 0, lexicon(), &mut dead_ends)?;
    (parts.len() >= 2).then_some(parts)
}

/// Longest-first split of the word from character `start` on into parts. `dead_ends`
/// remembers starts that cannot be split, so backtracking stays polynomial.
fn split_from(
    word: &str,
    bounds: &[usize],
    start: usize,
    lex: &Lexicon,
    dead_ends: &mut [bool],
) -> Option<Vec<String>> {
    if dead_ends[start] {
        return None;
    }
    let chars = bounds.len() - 1;
    let rest = chars - start;
    for len in (MIN_PART_CHARS..=rest.min(lex.longest_part)).rev() {
        let after = start + len;
        let part = &word[bounds[start]..bounds[after]];
        if !lex.parts.contains(part) {
            continue;
        }
        let tail = &word[bounds[after]..];
        if ENDINGS.contains(&tail) {
            return Some(vec![word[bounds[start]..].to_owned()]);
        }
        for link in LINKS {
            // Links are ASCII, so their byte length is their length in chars.
            if !tail.starts_with(link) || chars - after - link.len() < MIN_PART_CHARS {
                continue;
            }
            if let Some(mut more) = split_from(word, bounds, after + link.len(), lex, dead_ends) {
                more.insert(0, part.to_owned());
                return Some(more);
            }
        }
    }
    dead_ends[start] = true;
    None
}

/// Splitting, lowercasing, folding, stop words and (optionally) decompounding in one pass.
#[derive(Clone)]
struct GermanTokenizer {
    decompound: bool,
}

impl Tokenizer for GermanTokenizer {
    type TokenStream<'a> = VecTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> VecTokenStream {
        let lex = lexicon();
        let mut tokens = Vec::new();
        let mut position = 0;
        let mut emit = |from: usize, to: usize, tokens: &mut Vec<Token>| {
            let folded = fold(&text[from..to]);
            // Stop words still advance the position so phrases keep their gaps.
            let pos = position;
            position += 1;
            if lex.stop.contains(&folded) {
                return;
            }
            let parts = if self.decompound {
                decompound(&folded)
            } else {
                None
            };
            let mk = |text: String| Token {
                offset_from: from,
                offset_to: to,
                position: pos,
                text,
                position_length: 1,
            };
            tokens.push(mk(folded));
            for part in parts.into_iter().flatten() {
                tokens.push(mk(part));
            }
        };
        for_each_word(text, |from, to| emit(from, to, &mut tokens));
        VecTokenStream {
            tokens,
            next: 0,
            current: Token::default(),
        }
    }
}

/// Calls `f(from, to)` with the byte range of every run of alphanumeric characters.
fn for_each_word(text: &str, mut f: impl FnMut(usize, usize)) {
    let mut start = None;
    for (i, c) in text.char_indices() {
        if c.is_alphanumeric() {
            start.get_or_insert(i);
        } else if let Some(s) = start.take() {
            f(s, i);
        }
    }
    if let Some(s) = start {
        f(s, text.len());
    }
}

/// See [`highlight_analyzer`].
#[derive(Clone)]
struct HighlightTokenizer {
    terms: std::sync::Arc<[String]>,
}

impl Tokenizer for HighlightTokenizer {
    type TokenStream<'a> = VecTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> VecTokenStream {
        let mut full = german_analyzer();
        // About one word per six bytes of German text.
        let mut tokens = Vec::with_capacity(text.len() / 6 + 1);
        let mut position = 0;
        let mut folded = String::new();
        let mut word = |from: usize, to: usize, tokens: &mut Vec<Token>| {
            let pos = position;
            position += 1;
            fold_into(&text[from..to], &mut folded);
            if self.terms.iter().any(|t| folded.contains(t.as_str())) {
                let before = tokens.len();
                let mut stream = full.token_stream(&text[from..to]);
                while stream.advance() {
                    let t = stream.token();
                    tokens.push(Token {
                        offset_from: from,
                        offset_to: to,
                        position: pos,
                        text: t.text.clone(),
                        position_length: 1,
                    });
                }
                if tokens.len() > before {
                    return;
                }
            }
            // Still a token, so that fragments span their words as before.
            tokens.push(Token {
                offset_from: from,
                offset_to: to,
                position: pos,
                text: String::new(),
                position_length: 1,
            });
        };
        for_each_word(text, |from, to| word(from, to, &mut tokens));
        VecTokenStream {
            tokens,
            next: 0,
            current: Token::default(),
        }
    }
}

/// Token stream over eagerly computed tokens (documents are analysed once, so the
/// allocation is not worth avoiding).
struct VecTokenStream {
    tokens: Vec<Token>,
    next: usize,
    current: Token,
}

impl TokenStream for VecTokenStream {
    fn advance(&mut self) -> bool {
        match self.tokens.get_mut(self.next) {
            Some(t) => {
                self.current = std::mem::take(t);
                self.next += 1;
                true
            }
            None => false,
        }
    }

    fn token(&self) -> &Token {
        &self.current
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.current
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(text: &str) -> Vec<String> {
        analyze(&mut german_analyzer(), text)
            .into_iter()
            .map(|(t, _)| t)
            .collect()
    }

    #[test]
    fn folding_meets_both_spellings() {
        assert_eq!(fold("Straße"), fold("Strasse"));
        assert_eq!(fold("Änderung"), fold("Aenderung"));
        assert_eq!(fold("Gebühr"), fold("Gebuehr"));
        assert_eq!(fold("Quelle"), "quelle");
    }

    #[test]
    fn stemming_meets_singular_and_umlaut_plural() {
        assert_eq!(texts("Anträge"), texts("Antrag"));
        assert_eq!(texts("Antraege"), texts("Antrag"));
        assert_eq!(texts("Aenderung"), texts("Änderung"));
        assert_eq!(texts("Straße"), texts("Strasse"));
    }

    #[test]
    fn stop_words_vanish_but_keep_positions() {
        assert!(texts("und").is_empty());
        let toks = analyze(&mut german_analyzer(), "Antrag auf Genehmigung");
        assert_eq!(toks.len(), 2);
        assert_eq!(toks[0].1, 0);
        assert_eq!(toks[1].1, 2);
    }

    #[test]
    fn compounds_emit_parts_at_the_same_position() {
        let toks = analyze(&mut german_analyzer(), "Baugenehmigung erteilt");
        let genehmigung = texts("Genehmigung");
        assert!(toks
            .iter()
            .any(|(t, p)| *p == 0 && [t.clone()] == genehmigung[..]));
        assert!(toks.iter().any(|(t, p)| *p == 0 && t == "bau"));
        assert!(toks.iter().all(|(t, p)| *p == 1 || t != "erteilt"));
        let plural = texts("Bauanträge");
        assert!(plural.contains(&texts("Antrag")[0]));
    }

    /// The plain statement of the split (every prefix as a new string, every length tried),
    /// which [`decompound`] must agree with.
    fn reference_split(chars: &[char], start: usize, dead: &mut [bool]) -> Option<Vec<String>> {
        if dead[start] {
            return None;
        }
        for len in (MIN_PART_CHARS..=chars.len() - start).rev() {
            let part: String = chars[start..start + len].iter().collect();
            if !lexicon().parts.contains(&part) {
                continue;
            }
            let tail: String = chars[start + len..].iter().collect();
            if ENDINGS.contains(&tail.as_str()) {
                return Some(vec![chars[start..].iter().collect()]);
            }
            for link in LINKS {
                let next = start + len + link.len();
                if tail.starts_with(link) && chars.len() - next >= MIN_PART_CHARS {
                    if let Some(mut more) = reference_split(chars, next, dead) {
                        more.insert(0, part.clone());
                        return Some(more);
                    }
                }
            }
        }
        dead[start] = true;
        None
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        #[test]
        fn decompound_agrees_with_the_plain_split(
            pieces in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::sample::select(
                        WORD_PARTS.split_whitespace().map(fold).collect::<Vec<_>>()
                    ),
                    proptest::sample::select(
                        vec!["s", "es", "n", "en", "e", "er", "x", "ß", "é", "ü", "q"]
                            .into_iter()
                            .map(String::from)
                            .collect::<Vec<_>>()
                    ),
                    "[a-zäöüß]{1,4}",
                ],
                1..6,
            )
        ) {
            let word: String = pieces.concat();
            let chars: Vec<char> = word.chars().collect();
            let expected = if chars.len() < 2 * MIN_PART_CHARS || word.len() > MAX_TOKEN_BYTES {
                None
            } else {
                reference_split(&chars, 0, &mut vec![false; chars.len() + 1])
                    .filter(|p| p.len() >= 2)
            };
            proptest::prop_assert_eq!(decompound(&word), expected, "{}", word);
        }
    }

    #[test]
    fn decompounding_handles_linking_s_and_rejects_unknown_words() {
        assert_eq!(
            decompound(&fold("Bebauungsplan")),
            Some(vec!["bebauung".into(), "plan".into()])
        );
        let parts = decompound(&fold("Hundesteuer")).unwrap_or_default();
        assert!(parts.contains(&fold("steuer")), "{parts:?}");
        assert!(decompound(&fold("Gewerbeanmeldung")).is_some());
        assert_eq!(decompound("xylophon"), None);
        assert_eq!(decompound(&fold("Antrag")), None);
        // Pathological input stays cheap.
        assert_eq!(decompound(&"bau".repeat(21).replace("bau", "bax")), None);
        assert!(decompound(&"bau".repeat(20)).is_some());
    }

    #[test]
    fn highlighting_finds_what_the_full_analyzer_finds_and_nothing_else() {
        let text = "Widerspruch gegen die Baugenehmigung vom 3. März; Anträge und Straßenreinigungsgebühren, \
                    die Abwasserleitung.";
        for query in [
            "Widerspruch",
            "Genehmigung",
            "Antrag",
            "Gebühr",
            "Straße",
            "leitung",
            "März",
        ] {
            let terms: Vec<String> = texts(query);
            let full: Vec<(usize, usize)> = {
                let mut a = german_analyzer();
                let mut s = a.token_stream(text);
                let mut v = Vec::new();
                while s.advance() {
                    if terms.contains(&s.token().text) {
                        v.push((s.token().offset_from, s.token().offset_to));
                    }
                }
                v
            };
            let mut h = highlight_analyzer(terms.clone());
            let mut s = h.token_stream(text);
            let mut got = Vec::new();
            let mut words = 0;
            while s.advance() {
                if s.token().text.is_empty() || terms.contains(&s.token().text) {
                    words += 1;
                }
                if terms.contains(&s.token().text) {
                    got.push((s.token().offset_from, s.token().offset_to));
                }
            }
            assert!(!full.is_empty(), "{query}");
            assert_eq!(got, full, "{query}");
            assert!(words >= text.split_whitespace().count(), "{query}");
        }
    }

    #[test]
    fn plain_analyzer_folds_without_stemming() {
        let toks = analyze(&mut german_plain_analyzer(), "Baugenehmigung und Straße");
        let t: Vec<_> = toks.into_iter().map(|(t, _)| t).collect();
        assert_eq!(t, vec!["baugenehmigung".to_string(), "strasse".to_string()]);
    }
}
