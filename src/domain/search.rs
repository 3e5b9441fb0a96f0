//! Dutch-aware search, the same on SQLite and PostgreSQL: every word is folded (lowercase,
//! diacritics off: "coöperatie" is "cooperatie") and stemmed with Snowball's Dutch stemmer
//! ("registers" is "register") here, in Rust; the databases index those terms (FTS5,
//! `tsvector`) and match queries made of them. A query is words (all must match),
//! `"a phrase"` and `-word`; everything else is taken literally, and since a term holds
//! only ASCII letters and digits, no query can carry the engines' own syntax.

use std::{
    collections::{HashMap, HashSet},
    sync::LazyLock,
};

use rust_stemmers::{Algorithm, Stemmer};

static DUTCH: LazyLock<Stemmer> = LazyLock::new(|| Stemmer::create(Algorithm::Dutch));

/// The most terms a query uses; the rest of a very long query is left out.
pub const MAX_QUERY_TERMS: usize = 32;
/// The longest word that is a term (longer runs are no word anyone searches for).
const MAX_WORD_CHARS: usize = 64;

/// The words of `text`: runs of letters and digits, with their byte offsets.
fn words(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.char_indices()
        .filter(|&(i, c)| {
            c.is_alphanumeric()
                && text[..i]
                    .chars()
                    .next_back()
                    .is_none_or(|before| !before.is_alphanumeric())
        })
        .map(move |(start, _)| {
            let end = text[start..]
                .char_indices()
                .find(|&(_, c)| !c.is_alphanumeric())
                .map_or(text.len(), |(at, _)| start + at);
            (start, &text[start..end])
        })
}

/// The search term of one word: folded to ASCII lowercase and stemmed; `None` for a word
/// that folds to nothing.
pub fn term(word: &str) -> Option<String> {
    if word.chars().count() > MAX_WORD_CHARS {
        return None;
    }
    let folded: String = deunicode::deunicode(word)
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    (!folded.is_empty()).then(|| DUTCH.stem(&folded).into_owned())
}

/// The terms of a text, in order, space-separated: what the index holds.
pub fn index_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (_, word) in words(text) {
        if let Some(term) = term(word) {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(&term);
        }
    }
    out
}

/// A search as a person typed it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Query {
    /// Terms that must all occur.
    pub all: Vec<String>,
    /// Runs of terms that must occur in this order, next to each other.
    pub phrases: Vec<Vec<String>>,
    /// Terms that must not occur.
    pub none: Vec<String>,
}

impl Query {
    /// Reads `words`, `"a phrase"` and `-word`; an unclosed quote runs to the end.
    pub fn parse(text: &str) -> Self {
        let mut query = Self::default();
        let mut budget = MAX_QUERY_TERMS;
        let mut take = |word: &str| -> Option<String> {
            if budget == 0 {
                return None;
            }
            let term = term(word)?;
            budget -= 1;
            Some(term)
        };
        let mut rest = text;
        while !rest.is_empty() {
            let Some(first) = rest.chars().next() else {
                break;
            };
            if first == '"' {
                let inner = &rest[1..];
                let (phrase, after) = inner.split_once('"').unwrap_or((inner, ""));
                let terms: Vec<String> = words(phrase).filter_map(|(_, w)| take(w)).collect();
                match terms.len() {
                    0 => {}
                    1 => query.all.extend(terms),
                    _ => query.phrases.push(terms),
                }
                rest = after;
                continue;
            }
            let end = rest
                .find(|c: char| c.is_whitespace() || c == '"')
                .unwrap_or(rest.len());
            let token = &rest[..end];
            rest = rest[end..].trim_start_matches(char::is_whitespace);
            match token.strip_prefix('-') {
                Some(excluded) if excluded.chars().next().is_some_and(char::is_alphanumeric) => {
                    query
                        .none
                        .extend(words(excluded).filter_map(|(_, w)| take(w)));
                }
                _ => query.all.extend(words(token).filter_map(|(_, w)| take(w))),
            }
        }
        query
    }

    /// Whether the query asks for anything (a query of exclusions alone does not).
    pub fn is_empty(&self) -> bool {
        self.all.is_empty() && self.phrases.is_empty()
    }

    /// Every term a result is found by, for highlighting.
    pub fn wanted(&self) -> HashSet<&str> {
        self.all
            .iter()
            .chain(self.phrases.iter().flatten())
            .map(String::as_str)
            .collect()
    }

    /// The query in FTS5's syntax: each term quoted (a term is letters and digits only).
    pub fn fts5(&self) -> String {
        let mut query = self.fts5_wanted();
        for term in &self.none {
            query.push_str(&format!(" NOT \"{term}\""));
        }
        query
    }

    /// What must occur, in FTS5's syntax, without the exclusions.
    pub fn fts5_wanted(&self) -> String {
        let mut parts: Vec<String> = self.all.iter().map(|t| format!("\"{t}\"")).collect();
        parts.extend(self.phrases.iter().map(|p| format!("\"{}\"", p.join(" "))));
        parts.join(" AND ")
    }

    /// The query for PostgreSQL's `to_tsquery('simple', ...)`.
    pub fn tsquery(&self) -> String {
        let wanted = self.tsquery_wanted("");
        // A query of exclusions only has no wanted part (and is never searched).
        let mut parts: Vec<String> = (!wanted.is_empty()).then_some(wanted).into_iter().collect();
        parts.extend(self.none.iter().map(|t| format!("!{t}")));
        parts.join(" & ")
    }

    /// What must occur in the title (weight A), for `to_tsquery('simple', ...)`, without
    /// the exclusions.
    pub fn tsquery_title(&self) -> String {
        self.tsquery_wanted(":A")
    }

    fn tsquery_wanted(&self, weight: &str) -> String {
        let mut parts: Vec<String> = self.all.iter().map(|t| format!("{t}{weight}")).collect();
        parts.extend(self.phrases.iter().map(|p| {
            let terms: Vec<String> = p.iter().map(|t| format!("{t}{weight}")).collect();
            format!("({})", terms.join(" <-> "))
        }));
        parts.join(" & ")
    }

    /// Whether a document (its terms as [`index_text`] writes them, split: [`terms`])
    /// holds a term the query excludes.
    pub fn excludes(&self, title: &[&str], body: &[&str]) -> bool {
        !self.none.is_empty()
            && title
                .iter()
                .chain(body)
                .any(|term| self.none.iter().any(|t| t == term))
    }

    /// How well a document that holds the query matches it (higher is better): BM25 over
    /// the wanted terms and phrases as FTS5 computes it, a word in the title counting
    /// [`TITLE_WEIGHT`] times; `average_len` is the average number of terms of the
    /// documents compared. Every document compared holds every wanted term, so the
    /// terms' rarity (BM25's IDF) would be the same for each and is left out: working it
    /// out means counting every match of each term, which is what this ranking avoids.
    pub fn score(&self, title: &[&str], body: &[&str], average_len: f64) -> f64 {
        const K1: f64 = 1.2;
        const B: f64 = 0.75;
        let len = (title.len() + body.len()) as f64;
        let norm = K1 * (1.0 - B + B * len / average_len.max(1.0));
        let parts = self
            .all
            .iter()
            .map(std::slice::from_ref)
            .chain(self.phrases.iter().map(Vec::as_slice));
        parts
            .map(|part| {
                let tf = TITLE_WEIGHT * occurrences(title, part) + occurrences(body, part);
                tf * (K1 + 1.0) / (tf + norm)
            })
            .sum()
    }
}

/// The terms of what [`index_text`] wrote.
pub fn terms(index_text: &str) -> Vec<&str> {
    index_text.split(' ').filter(|t| !t.is_empty()).collect()
}

/// How much more a word in a title counts than one in the text.
pub const TITLE_WEIGHT: f64 = 10.0;

/// How often `part` (a run of terms) occurs in `terms`.
fn occurrences(terms: &[&str], part: &[String]) -> f64 {
    if part.is_empty() || terms.len() < part.len() {
        return 0.0;
    }
    terms
        .windows(part.len())
        .filter(|w| w.iter().zip(part).all(|(a, b)| *a == b))
        .count() as f64
}

/// A piece of a snippet: text as it stands, or a word the search found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Piece {
    Text(String),
    Mark(String),
}

/// About `max_words` words of `text` around the first word the query found, with the
/// found words marked; "…" where the text was cut.
pub fn snippet(text: &str, query: &Query, max_words: usize) -> Vec<Piece> {
    Highlighter::new(query).snippet(text, max_words)
}

/// Marks the words a query found, in one snippet after another, stemming each distinct
/// word once (a page of results repeats most of its words).
pub struct Highlighter<'q> {
    wanted: HashSet<&'q str>,
    seen: HashMap<String, bool>,
}

impl<'q> Highlighter<'q> {
    pub fn new(query: &'q Query) -> Self {
        Self {
            wanted: query.wanted(),
            seen: HashMap::new(),
        }
    }

    fn found(&mut self, word: &str) -> bool {
        if let Some(&found) = self.seen.get(word) {
            return found;
        }
        let found = term(word).is_some_and(|t| self.wanted.contains(t.as_str()));
        self.seen.insert(word.to_owned(), found);
        found
    }

    /// [`snippet`] with this highlighter.
    pub fn snippet(&mut self, text: &str, max_words: usize) -> Vec<Piece> {
        let all: Vec<(usize, &str)> = words(text).collect();
        let first = all.iter().position(|(_, w)| self.found(w)).unwrap_or(0);
        let start_word = first.saturating_sub(max_words / 4);
        let end_word = (start_word + max_words).min(all.len());
        let mut pieces = Vec::new();
        let Some(&(start, _)) = all.get(start_word) else {
            return pieces;
        };
        let end = all.get(end_word).map_or(text.len(), |&(at, _)| at);
        let mut text_piece = String::new();
        if start_word > 0 {
            text_piece.push('…');
        }
        let mut at = start;
        for &(word_start, word) in &all[start_word..end_word] {
            text_piece.push_str(&one_line(&text[at..word_start]));
            if self.found(word) {
                if !text_piece.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut text_piece)));
                }
                pieces.push(Piece::Mark(word.to_owned()));
            } else {
                text_piece.push_str(word);
            }
            at = word_start + word.len();
        }
        text_piece.push_str(&one_line(&text[at..end]));
        let cut = end_word < all.len();
        let trimmed = text_piece.trim_end().to_owned();
        text_piece = trimmed;
        if cut {
            text_piece.push_str(" …");
        }
        if !text_piece.is_empty() {
            pieces.push(Piece::Text(text_piece));
        }
        pieces
    }
}

/// Each run of white space as one space.
fn one_line(between: &str) -> String {
    let mut out = String::with_capacity(between.len());
    let mut in_space = false;
    for c in between.chars() {
        if c.is_whitespace() {
            if !in_space {
                out.push(' ');
            }
            in_space = true;
        } else {
            out.push(c);
            in_space = false;
        }
    }
    out
}

/// A snippet as HTML: its text escaped, its found words in `<mark>`.
pub fn snippet_html(pieces: &[Piece]) -> String {
    let mut html = String::new();
    for piece in pieces {
        match piece {
            Piece::Text(text) => escape_into(&mut html, text),
            Piece::Mark(word) => {
                html.push_str("<mark>");
                escape_into(&mut html, word);
                html.push_str("</mark>");
            }
        }
    }
    html
}

/// A snippet as plain text.
pub fn snippet_text(pieces: &[Piece]) -> String {
    pieces
        .iter()
        .map(|p| match p {
            Piece::Text(t) | Piece::Mark(t) => t.as_str(),
        })
        .collect()
}

fn escape_into(out: &mut String, text: &str) {
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
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn plural_and_singular_share_a_term() {
        assert_eq!(term("registers"), term("register"));
        assert_eq!(term("Lerarenregisters"), term("lerarenregister"));
    }

    #[test]
    fn diacritics_fold_away() {
        assert_eq!(term("coöperatie"), term("cooperatie"));
        assert_eq!(term("Één"), term("een"));
        assert_eq!(
            index_text("De coöperatie, één!"),
            index_text("de cooperatie een")
        );
    }

    #[test]
    fn a_query_has_words_phrases_and_exclusions() {
        let q = Query::parse(r#"leraren "het register" -portfolio"#);
        assert_eq!(q.all, [term("leraren").unwrap()]);
        assert_eq!(
            q.phrases,
            [vec![term("het").unwrap(), term("register").unwrap()]]
        );
        assert_eq!(q.none, [term("portfolio").unwrap()]);
        assert_eq!(
            q.fts5(),
            format!(
                "\"{}\" AND \"{} {}\" NOT \"{}\"",
                q.all[0], q.phrases[0][0], q.phrases[0][1], q.none[0]
            )
        );
        assert_eq!(
            q.tsquery_title(),
            format!(
                "{}:A & ({}:A <-> {}:A)",
                q.all[0], q.phrases[0][0], q.phrases[0][1]
            )
        );
        assert!(q.excludes(&[], &terms(&index_text("geen portfolio meer"))));
        let only_not = Query::parse("-portfolio");
        assert_eq!(only_not.tsquery(), format!("!{}", q.none[0]));
        let (title, body) = (index_text("leraren"), index_text("het register"));
        assert!(!q.excludes(&terms(&title), &terms(&body)));
    }

    #[test]
    fn the_title_counts_more_then_how_often_then_how_short() {
        let q = Query::parse("register");
        let doc = |title: &str, body: &str| {
            q.score(&terms(&index_text(title)), &terms(&index_text(body)), 8.0)
        };
        let in_title = doc("Het register", "Een stuk over iets anders dan dit.");
        let twice = doc("Nieuws", "Het register, weer het register, en nog eens.");
        let once = doc(
            "Nieuws",
            "Het register, en verder nog heel veel andere woorden.",
        );
        let once_short = doc("Nieuws", "Het register.");
        assert!(in_title > twice, "{in_title} {twice}");
        assert!(twice > once, "{twice} {once}");
        assert!(once_short > once, "{once_short} {once}");
        // A phrase counts where its words stand together.
        let q = Query::parse("\"het register\"");
        let together = q.score(&[], &terms(&index_text("het register")), 8.0);
        let apart = q.score(&[], &terms(&index_text("register het")), 8.0);
        assert!(together > 0.0 && apart == 0.0, "{together} {apart}");
    }

    #[test]
    fn engine_syntax_is_taken_literally() {
        let q = Query::parse(r#"NEAR(a b) title:x * ( ) ^ "open"#);
        for term in q.all.iter().chain(q.phrases.iter().flatten()) {
            assert!(term.bytes().all(|b| b.is_ascii_alphanumeric()), "{term}");
        }
        assert!(Query::parse("-alleen").is_empty());
        assert!(Query::parse("\" * : ( )").is_empty());
    }

    #[test]
    fn a_long_query_keeps_its_first_terms() {
        let q = Query::parse(&"woord ".repeat(2000));
        assert_eq!(q.all.len(), MAX_QUERY_TERMS);
    }

    #[test]
    fn a_snippet_marks_the_found_words_and_escapes_the_rest() {
        let q = Query::parse("registers");
        let pieces = snippet("Het <b>register</b> & het Register.", &q, 30);
        assert_eq!(
            snippet_html(&pieces),
            "Het &lt;b&gt;<mark>register</mark>&lt;/b&gt; &amp; het <mark>Register</mark>."
        );
    }

    #[test]
    fn a_long_text_is_cut_around_the_first_find() {
        let text = format!("{} register {}", "voor ".repeat(100), "na ".repeat(100));
        let pieces = snippet(&text, &Query::parse("register"), 20);
        let plain = snippet_text(&pieces);
        assert!(plain.starts_with('…') && plain.ends_with('…'), "{plain}");
        assert!(pieces.contains(&Piece::Mark("register".to_owned())));
        assert!(plain.split_whitespace().count() <= 22, "{plain}");
    }

    proptest! {
        #[test]
        fn any_query_is_safe_for_both_engines(text in any::<String>()) {
            let q = Query::parse(&text);
            for term in q.all.iter().chain(q.phrases.iter().flatten()).chain(&q.none) {
                prop_assert!(!term.is_empty() && term.bytes().all(|b| b.is_ascii_alphanumeric()));
            }
            let html = snippet_html(&snippet(&text, &q, 30));
            prop_assert!(!html.replace("<mark>", "").replace("</mark>", "").contains('<'));
        }
    }
}
