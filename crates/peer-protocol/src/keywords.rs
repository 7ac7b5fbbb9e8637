//! The one keyword matcher every search uses, so the three networks answer the same
//! question: a file matches a query when **every** query word is a word of its name.
//!
//! Words are maximal runs of letters and digits, case-folded: `"Daft_Punk - One More Time.mp3"`
//! has the words `daft punk one more time mp3`. Napster's server and Gnutella's servents match
//! this way; Chord stores one index entry per word, so it finds exactly the same files.

/// The most words a query may have; more are a sign of abuse, not of a real search.
pub const MAX_QUERY_WORDS: usize = 16;

/// The runs of letters and digits in `text`, as written.
fn pieces(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
}

/// True when `piece` lower-cases to `word` (which is lower case already). An ASCII piece
/// is compared in place; only other text is lower-cased into a new string.
fn folds_to(piece: &str, word: &str) -> bool {
    if piece.is_ascii() {
        piece.eq_ignore_ascii_case(word)
    } else {
        piece.to_lowercase() == word
    }
}

/// Splits `text` into lower-case words, in order, without duplicates.
pub fn words(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for w in pieces(text) {
        let w = w.to_lowercase();
        if !out.contains(&w) {
            out.push(w);
        }
    }
    out
}

/// The canonical form of a file name, used as an exact-name key (Chord hashes it):
/// lower case, with runs of whitespace folded to one space and the ends trimmed.
pub fn normalize_name(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// A parsed keyword query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    words: Vec<String>,
}

impl Query {
    /// Parses free text; keeps at most [`MAX_QUERY_WORDS`] words.
    pub fn parse(text: &str) -> Self {
        let mut words = words(text);
        words.truncate(MAX_QUERY_WORDS);
        Query { words }
    }

    /// The query's words, lower case.
    pub fn words(&self) -> &[String] {
        &self.words
    }

    /// True for a query with no words, which matches nothing.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// Does a file called `name` match? An empty query matches nothing.
    ///
    /// Every servent a flood reaches asks this of every file it shares, so the name is not
    /// split into a list: each query word looks for a piece of the name that folds to it.
    pub fn matches(&self, name: &str) -> bool {
        !self.words.is_empty()
            && self
                .words
                .iter()
                .all(|w| pieces(name).any(|piece| folds_to(piece, w)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_anything_but_letters_and_digits() {
        assert_eq!(
            words("Daft_Punk - One More Time.mp3"),
            ["daft", "punk", "one", "more", "time", "mp3"]
        );
        assert_eq!(words("a a A"), ["a"]);
        assert!(words(" -_. ").is_empty());
    }

    #[test]
    fn every_word_must_match_whole() {
        let q = Query::parse("punk TIME");
        assert!(q.matches("Daft Punk - One More Time.mp3"));
        assert!(!q.matches("Daft Punk - Around the World.mp3"));
        assert!(
            !Query::parse("pun").matches("Daft Punk.mp3"),
            "no partial words"
        );
        assert!(!Query::parse("").matches("anything"));
    }

    #[test]
    fn matching_folds_case_as_words_does() {
        for (query, name) in [
            ("ÉTÉ", "Un été à Paris.ogg"),
            ("straße", "STRASSE und Straße.mp3"),
            ("ΟΔΟΣ", "οδος ΟΔΟΣ.flac"),
            ("mp3 ONE", "one.MP3"),
        ] {
            let q = Query::parse(query);
            let by_words = q.words().iter().all(|w| words(name).contains(w));
            assert!(by_words, "{query} / {name}");
            assert_eq!(q.matches(name), by_words, "{query} / {name}");
        }
        assert!(!Query::parse("one").matches("onee.mp3"));
        assert!(!Query::parse("été").matches("ete.mp3"));
    }

    proptest::proptest! {
        #[test]
        fn matching_agrees_with_splitting_the_name(query in "[a-zA-ZéÉßΣσ0-9 ._-]{0,12}", name in "[a-zA-ZéÉßΣσς0-9 ._-]{0,24}") {
            let q = Query::parse(&query);
            let by_words = !q.is_empty() && q.words().iter().all(|w| words(&name).contains(w));
            proptest::prop_assert_eq!(q.matches(&name), by_words);
        }
    }

    #[test]
    fn names_normalise_case_and_spacing() {
        assert_eq!(
            normalize_name("  One  More\tTime.MP3 "),
            "one more time.mp3"
        );
    }

    #[test]
    fn queries_are_bounded() {
        let long: String = (0..100).map(|i| format!("w{i} ")).collect();
        assert_eq!(Query::parse(&long).words().len(), MAX_QUERY_WORDS);
    }
}
