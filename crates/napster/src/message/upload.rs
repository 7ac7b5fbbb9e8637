//! Asking the holder first: 607 upload request, 608 accept, 609 accept failed.
//!
//! OpenNap does not answer a 203 with the holder's address at once. It asks the holder with
//! a 607 naming the downloader and the file; the holder that agrees answers 608, and only
//! then does the downloader get its 204. When the holder does not accept, the server may
//! tell the downloader with 609.
//!
//! ```text
//! type 607, S   <nick> "<filename>" [<speed>]     to the holder: <nick> wants this file
//!               lefty "generic band - generic song.mp3" 7
//! type 608, C   <nick> "<filename>"               the holder: I accept <nick>'s download
//!               lefty "generic band - generic song.mp3"
//! type 609, S   <nick> "<filename>"               to the downloader: <nick> did not accept
//! ```
//!
//! The speed of 607 (the downloader's link type) is in napster.txt's December 2000 edition
//! and missing from OpenNap 0.36, so it is optional. The August 2000 edition writes 609's
//! file name without quotes and the December one with them: p2plab writes them and reads
//! either.

use std::fmt::Write as _;

use p2plab_peer_protocol::CodecError;

use super::NickFile;
use crate::fields::Fields;

/// A 607: a downloader asks, through the server, for one of the holder's files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadRequest {
    /// Who asks (the downloader's nick) and for which file.
    pub asker: NickFile,
    /// The downloader's link type, if the server says.
    pub speed: Option<u8>,
}

impl UploadRequest {
    /// Reads `<nick> "<filename>" [<speed>]`.
    ///
    /// # Errors
    /// [`CodecError::Malformed`] for a bad or missing field, or trailing fields.
    pub fn parse(data: &str) -> Result<Self, CodecError> {
        let mut f = Fields::new(data);
        let nick = f.word("nick")?.to_owned();
        let name = f.quoted("file name")?.to_owned();
        let speed = if f.is_empty() {
            None
        } else {
            Some(f.number("speed")?)
        };
        f.finish()?;
        Ok(UploadRequest {
            asker: NickFile { nick, name },
            speed,
        })
    }

    /// Writes `<nick> "<filename>"`, then ` <speed>` if there is one.
    pub fn write(&self, out: &mut String) {
        self.asker.write(out);
        if let Some(speed) = self.speed {
            let _ = write!(out, " {speed}");
        }
    }
}

/// Reads a 609, `<nick> "<filename>"` or `<nick> <filename>` (the name is then the rest of
/// the data).
///
/// # Errors
/// [`CodecError::Malformed`] for a missing nick or name.
pub fn parse_accept_failed(data: &str) -> Result<NickFile, CodecError> {
    if let Ok(nf) = NickFile::parse(data) {
        return Ok(nf);
    }
    let mut f = Fields::new(data);
    let nick = f.word("nick")?.to_owned();
    let name = f.rest().to_owned();
    if name.is_empty() {
        return Err(CodecError::malformed("609 names no file"));
    }
    Ok(NickFile { nick, name })
}
