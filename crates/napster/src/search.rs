//! The search request (type 200) and what it admits.
//!
//! ```text
//! [FILENAME CONTAINS "artist"] MAX_RESULTS <n> [FILENAME CONTAINS "song"]
//! [LINESPEED <cmp> <link-type>] [BITRATE <cmp> "<kbps>"] [FREQ <cmp> "<hz>"] [LOCAL_ONLY]
//! <cmp> is one of "AT LEAST" "AT BEST" "EQUAL TO"
//!
//! FILENAME CONTAINS "Sneaker Pimps" MAX_RESULTS 75 FILENAME CONTAINS "tesko suicide" BITRATE "AT LEAST" "128"
//! ```
//!
//! Clauses come in any order. Several `FILENAME CONTAINS` are ANDed: their words are pooled
//! into one [`Query`], the shared matcher of p2plab (every word must be a word of the
//! name). Values may be quoted or bare. `LOCAL_ONLY` (and OpenNap's older `LOCAL`) is
//! accepted; with one server it changes nothing. Any other keyword makes the search
//! invalid, as in OpenNap. [`SearchRequest::write`] emits the canonical order: the
//! `FILENAME CONTAINS` clauses, `MAX_RESULTS`, then the filters.

use std::fmt::{self, Write as _};
use std::str::FromStr;

use p2plab_peer_protocol::{CodecError, Query};

use crate::fields::Fields;
use crate::message::FileInfo;
use crate::MAX_RESULTS;

/// The most `FILENAME CONTAINS` clauses in one search; the words they hold are bounded
/// again by [`p2plab_peer_protocol::keywords::MAX_QUERY_WORDS`].
pub const MAX_CLAUSES: usize = 8;

/// How a filter compares a file's value with the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compare {
    /// `"AT LEAST"`: value ≥ limit.
    AtLeast,
    /// `"AT BEST"`: value ≤ limit.
    AtBest,
    /// `"EQUAL TO"`: value = limit.
    EqualTo,
}

impl Compare {
    fn from_wire(text: &str) -> Result<Self, CodecError> {
        match text {
            "AT LEAST" => Ok(Compare::AtLeast),
            "AT BEST" => Ok(Compare::AtBest),
            "EQUAL TO" => Ok(Compare::EqualTo),
            other => Err(CodecError::malformed(format!(
                "unknown comparison {other:?}"
            ))),
        }
    }
}

impl fmt::Display for Compare {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Compare::AtLeast => "AT LEAST",
            Compare::AtBest => "AT BEST",
            Compare::EqualTo => "EQUAL TO",
        })
    }
}

/// A filter: `<cmp> <limit>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit<T> {
    /// The comparison.
    pub compare: Compare,
    /// The limit.
    pub value: T,
}

impl<T: Ord + Copy> Limit<T> {
    /// Does `v` pass?
    pub fn admits(&self, v: T) -> bool {
        match self.compare {
            Compare::AtLeast => v >= self.value,
            Compare::AtBest => v <= self.value,
            Compare::EqualTo => v == self.value,
        }
    }
}

/// A parsed search request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SearchRequest {
    /// The texts of the `FILENAME CONTAINS` clauses, in order.
    pub contains: Vec<String>,
    /// `MAX_RESULTS`, if given; servers cap it anyway.
    pub max_results: Option<u32>,
    /// `LINESPEED`: a filter on the sharer's link type.
    pub linespeed: Option<Limit<u8>>,
    /// `BITRATE`: a filter on the file's bit rate.
    pub bitrate: Option<Limit<u32>>,
    /// `FREQ`: a filter on the file's sample rate.
    pub freq: Option<Limit<u32>>,
    /// `LOCAL_ONLY`: do not ask linked servers (p2plab has one server).
    pub local_only: bool,
}

impl SearchRequest {
    /// What a p2plab peer sends: one clause with the words of `text`, and
    /// `MAX_RESULTS 100`.
    pub fn keywords(text: &str) -> Self {
        SearchRequest {
            contains: vec![Query::parse(text).words().join(" ")],
            max_results: Some(MAX_RESULTS as u32),
            ..SearchRequest::default()
        }
    }

    /// The keyword query: the words of every clause together.
    pub fn query(&self) -> Query {
        Query::parse(&self.contains.join(" "))
    }

    /// Does a file, shared by a user with this link type, pass the filters?
    pub fn admits(&self, file: &FileInfo, link_type: u8) -> bool {
        self.linespeed.is_none_or(|l| l.admits(link_type))
            && self.bitrate.is_none_or(|l| l.admits(file.bitrate))
            && self.freq.is_none_or(|l| l.admits(file.frequency))
    }

    /// Reads a type 200's data.
    ///
    /// # Errors
    /// [`CodecError::Malformed`] — "invalid search request" — for an unknown keyword, a
    /// bad comparison or number, or more than [`MAX_CLAUSES`] clauses.
    pub fn parse(data: &str) -> Result<Self, CodecError> {
        let mut f = Fields::new(data);
        let mut req = SearchRequest::default();
        while !f.is_empty() {
            match f.word("search keyword")? {
                "FILENAME" => {
                    if f.word("CONTAINS")? != "CONTAINS" {
                        return Err(CodecError::malformed("FILENAME without CONTAINS"));
                    }
                    if req.contains.len() == MAX_CLAUSES {
                        return Err(CodecError::malformed("too many FILENAME clauses"));
                    }
                    req.contains.push(f.quoted("search text")?.to_owned());
                }
                "MAX_RESULTS" => req.max_results = Some(value(&mut f, "MAX_RESULTS")?),
                "LINESPEED" => req.linespeed = Some(limit(&mut f, "LINESPEED")?),
                "BITRATE" => req.bitrate = Some(limit(&mut f, "BITRATE")?),
                "FREQ" => req.freq = Some(limit(&mut f, "FREQ")?),
                "LOCAL_ONLY" | "LOCAL" => req.local_only = true,
                other => {
                    return Err(CodecError::malformed(format!(
                        "unknown search keyword {other:?}"
                    )))
                }
            }
        }
        Ok(req)
    }

    /// Writes the canonical form.
    pub fn write(&self, out: &mut String) {
        let mut parts: Vec<String> = self
            .contains
            .iter()
            .map(|text| format!("FILENAME CONTAINS \"{text}\""))
            .collect();
        if let Some(n) = self.max_results {
            parts.push(format!("MAX_RESULTS {n}"));
        }
        if let Some(l) = self.linespeed {
            parts.push(format!("LINESPEED \"{}\" {}", l.compare, l.value));
        }
        if let Some(l) = self.bitrate {
            parts.push(format!("BITRATE \"{}\" \"{}\"", l.compare, l.value));
        }
        if let Some(l) = self.freq {
            parts.push(format!("FREQ \"{}\" \"{}\"", l.compare, l.value));
        }
        if self.local_only {
            parts.push("LOCAL_ONLY".to_owned());
        }
        let _ = write!(out, "{}", parts.join(" "));
    }
}

/// A number, bare (`10`) or quoted (`"128"`).
fn value<T: FromStr>(f: &mut Fields<'_>, what: &str) -> Result<T, CodecError> {
    let mut probe = f.clone();
    match probe.quoted(what) {
        Ok(text) => {
            *f = probe;
            Fields::new(text).number(what)
        }
        Err(_) => f.number(what),
    }
}

/// `<cmp> <value>`, the comparison always quoted.
fn limit<T: FromStr>(f: &mut Fields<'_>, what: &str) -> Result<Limit<T>, CodecError> {
    let compare = Compare::from_wire(f.quoted("comparison")?)?;
    Ok(Limit {
        compare,
        value: value(f, what)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_napster_txt_examples() {
        let req = SearchRequest::parse(
            r#"FILENAME CONTAINS "Sneaker Pimps" MAX_RESULTS 75 FILENAME CONTAINS "tesko suicide" BITRATE "AT LEAST" "128""#,
        )
        .unwrap();
        assert_eq!(req.contains, ["Sneaker Pimps", "tesko suicide"]);
        assert_eq!(req.max_results, Some(75));
        assert_eq!(
            req.bitrate,
            Some(Limit {
                compare: Compare::AtLeast,
                value: 128
            })
        );
        assert_eq!(
            req.query().words(),
            ["sneaker", "pimps", "tesko", "suicide"]
        );

        let req = SearchRequest::parse(
            r#"MAX_RESULTS 100 FILENAME CONTAINS "Ventolin" LINESPEED "EQUAL TO" 10"#,
        )
        .unwrap();
        assert_eq!(
            req.linespeed,
            Some(Limit {
                compare: Compare::EqualTo,
                value: 10
            })
        );
    }

    #[test]
    fn a_peer_sends_one_clause_and_max_results_100() {
        let mut out = String::new();
        SearchRequest::keywords("Daft  punk!").write(&mut out);
        assert_eq!(out, r#"FILENAME CONTAINS "daft punk" MAX_RESULTS 100"#);
    }

    #[test]
    fn filters_compare_as_named() {
        let req = SearchRequest::parse(
            r#"FILENAME CONTAINS "x" FREQ "AT BEST" "44100" LINESPEED "AT LEAST" "3" LOCAL"#,
        )
        .unwrap();
        assert!(req.local_only);
        let mut file = FileInfo {
            name: "x".into(),
            md5: crate::NO_MD5.into(),
            size: 1,
            bitrate: 128,
            frequency: 44_100,
            seconds: 0,
        };
        assert!(req.admits(&file, 3));
        assert!(!req.admits(&file, 2), "link type below AT LEAST");
        file.frequency = 48_000;
        assert!(!req.admits(&file, 7), "frequency above AT BEST");
    }

    #[test]
    fn unknown_keywords_and_bad_values_are_invalid() {
        for bad in [
            r#"FILENAME CONTAINS "x" COLOR "red""#,
            r#"FILENAME HAS "x""#,
            r#"FILENAME CONTAINS x"#,
            r#"BITRATE "ABOUT" "128""#,
            r#"BITRATE "AT LEAST" "fast""#,
            "MAX_RESULTS",
        ] {
            assert!(SearchRequest::parse(bad).is_err(), "{bad}");
        }
        let many = r#"FILENAME CONTAINS "a" "#.repeat(MAX_CLAUSES + 1);
        assert!(SearchRequest::parse(many.trim_end()).is_err());
    }
}
