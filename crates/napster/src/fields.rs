//! Reading the fields of a message's data.
//!
//! Napster data is a line of fields separated by single spaces. A field is either a bare
//! word (a nick, a number, an md5) or a double-quoted string (a file name, the client info).
//! Quotes inside a quoted string are not escaped (napster.txt §1), so a quoted field ends at
//! the first `"` that is followed by a space or by the end of the data: `"a "b" c" 5` reads
//! as `a "b" c` and then `5`. That is as far as any reader can go; names are still safest
//! without quotes, and the [`Peer`](crate::Peer) does not share names that hold one.

use std::str::FromStr;

use p2plab_peer_protocol::CodecError;

/// A cursor over the fields of one message's data.
#[derive(Debug, Clone)]
pub struct Fields<'a> {
    rest: &'a str,
}

impl<'a> Fields<'a> {
    /// Starts reading `data`.
    pub fn new(data: &'a str) -> Self {
        Fields { rest: data }
    }

    /// True when every field was read.
    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// The next bare word.
    ///
    /// # Errors
    /// [`CodecError::Malformed`] if no field is left or the field is empty.
    pub fn word(&mut self, what: &str) -> Result<&'a str, CodecError> {
        let (word, rest) = match self.rest.find(' ') {
            Some(i) => (&self.rest[..i], &self.rest[i + 1..]),
            None => (self.rest, ""),
        };
        if word.is_empty() {
            return Err(CodecError::malformed(format!("missing {what}")));
        }
        self.rest = rest;
        Ok(word)
    }

    /// The next bare word, parsed as a number (or anything else with [`FromStr`]).
    ///
    /// # Errors
    /// [`CodecError::Malformed`] if the field is missing or does not parse.
    pub fn number<T: FromStr>(&mut self, what: &str) -> Result<T, CodecError> {
        let word = self.word(what)?;
        if !word.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CodecError::malformed(format!("{what} is not a number")));
        }
        word.parse()
            .map_err(|_| CodecError::malformed(format!("{what} is out of range")))
    }

    /// The next double-quoted field, without its quotes.
    ///
    /// # Errors
    /// [`CodecError::Malformed`] if the field does not start with `"` or never closes.
    pub fn quoted(&mut self, what: &str) -> Result<&'a str, CodecError> {
        let body = self
            .rest
            .strip_prefix('"')
            .ok_or_else(|| CodecError::malformed(format!("{what} is not quoted")))?;
        let end = closing_quote(body)
            .ok_or_else(|| CodecError::malformed(format!("{what} has no closing quote")))?;
        let value = &body[..end];
        let after = &body[end + 1..];
        self.rest = after.strip_prefix(' ').unwrap_or(after);
        Ok(value)
    }

    /// Everything not yet read, as one field (for free text such as error messages).
    pub fn rest(&mut self) -> &'a str {
        std::mem::take(&mut self.rest)
    }

    /// Checks that nothing is left.
    ///
    /// # Errors
    /// [`CodecError::Malformed`] if fields remain.
    pub fn finish(&self) -> Result<(), CodecError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(CodecError::malformed(format!(
                "unexpected trailing fields: {:?}",
                self.rest
            )))
        }
    }
}

/// The index of the quote that closes a quoted field whose opening quote was just consumed:
/// the first `"` followed by a space or by the end.
fn closing_quote(body: &str) -> Option<usize> {
    body.match_indices('"')
        .map(|(i, _)| i)
        .find(|&i| matches!(body.as_bytes().get(i + 1), None | Some(b' ')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_words_quotes_and_numbers() {
        let mut f = Fields::new(r#"foo badpass 6699 "nap v0.8" 3"#);
        assert_eq!(f.word("nick"), Ok("foo"));
        assert_eq!(f.word("password"), Ok("badpass"));
        assert_eq!(f.number::<u16>("port"), Ok(6699));
        assert_eq!(f.quoted("client"), Ok("nap v0.8"));
        assert_eq!(f.number::<u8>("link"), Ok(3));
        assert!(f.is_empty());
        assert_eq!(f.finish(), Ok(()));
    }

    #[test]
    fn inner_quotes_end_only_before_a_space_or_the_end() {
        let mut f = Fields::new(r#""say "hi"there" 5"#);
        assert_eq!(f.quoted("name"), Ok(r#"say "hi"there"#));
        assert_eq!(f.number::<u32>("n"), Ok(5));
        assert_eq!(Fields::new(r#""""#).quoted("name"), Ok(""));
    }

    #[test]
    fn rejects_what_does_not_fit() {
        assert!(Fields::new("").word("nick").is_err());
        assert!(Fields::new(" x").word("nick").is_err(), "double space");
        assert!(Fields::new("-1").number::<u32>("n").is_err());
        assert!(Fields::new("+1").number::<u32>("n").is_err());
        assert!(Fields::new("70000").number::<u16>("port").is_err());
        assert!(Fields::new("noquote").quoted("name").is_err());
        assert!(Fields::new(r#""open"#).quoted("name").is_err());
        assert!(Fields::new("a b").finish().is_err());
    }
}
