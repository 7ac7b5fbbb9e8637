//! Telling the server what a user shares: 100 share, 102 remove, 110 unshare all.
//!
//! ```text
//! type 100, C   "<filename>" <md5> <size> <bitrate> <frequency> <time>
//!               "band - song.mp3" b92870e0d41bc8e698cf2f0a1ddfeac7 443332 128 44100 60
//! type 102, C   <filename>        (the whole data is the name: no quotes)
//! type 110, C   (no data)
//! ```
//!
//! A p2plab peer announces what its library computed for each file ([`FileMeta`]): the md5 of
//! its first [`NAPSTER_MD5_LEN`] bytes, and for an MP3 the bit rate, sample rate and play
//! length of its frame headers (made-up but consistent values for synthetic `.mp3`s). A file
//! that is not audio has none of those and announces `0 0 0`, so a `BITRATE` or `FREQ`
//! filter never finds it by a rate it does not have.
//!
//! [`FileMeta`]: p2plab_peer_protocol::FileMeta
//! [`NAPSTER_MD5_LEN`]: p2plab_peer_protocol::metadata::NAPSTER_MD5_LEN

use std::fmt::Write as _;

use p2plab_peer_protocol::{CodecError, SharedFile};

use crate::fields::Fields;

/// A shared file as the server indexes it and as search results describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInfo {
    /// The name, as the sharer wrote it.
    pub name: String,
    /// The md5 field: 32 hex digits (any word is accepted from the wire).
    pub md5: String,
    /// Size in bytes.
    pub size: u64,
    /// MP3 bit rate in kbit/s.
    pub bitrate: u32,
    /// Sample rate in Hz.
    pub frequency: u32,
    /// Play length in seconds.
    pub seconds: u32,
}

impl FileInfo {
    /// How a peer announces one of its library's files (see the module docs).
    pub fn from_shared(file: &SharedFile) -> Self {
        let audio = file.meta.audio();
        FileInfo {
            name: file.name.clone(),
            md5: file.meta.md5_hex(),
            size: file.size,
            bitrate: audio.map_or(0, |a| a.bitrate_kbps),
            frequency: audio.map_or(0, |a| a.sample_rate_hz),
            seconds: audio.map_or(0, |a| a.seconds),
        }
    }

    /// Reads the six fields from the front of `f`.
    ///
    /// # Errors
    /// [`CodecError::Malformed`] for a missing or unparsable field.
    pub fn parse(f: &mut Fields<'_>) -> Result<Self, CodecError> {
        Ok(FileInfo {
            name: f.quoted("file name")?.to_owned(),
            md5: f.word("md5")?.to_owned(),
            size: f.number("size")?,
            bitrate: f.number("bitrate")?,
            frequency: f.number("frequency")?,
            seconds: f.number("length")?,
        })
    }

    /// Writes the six fields.
    pub fn write(&self, out: &mut String) {
        let _ = write!(
            out,
            "\"{}\" {} {} {} {} {}",
            self.name, self.md5, self.size, self.bitrate, self.frequency, self.seconds
        );
    }
}

/// Reads a type 100 share.
///
/// # Errors
/// [`CodecError::Malformed`] for a bad field or trailing fields.
pub fn parse_share(data: &str) -> Result<FileInfo, CodecError> {
    let mut f = Fields::new(data);
    let info = FileInfo::parse(&mut f)?;
    f.finish()?;
    Ok(info)
}

/// Reads a type 102 remove: the whole data is the name. Quotes around it, which some
/// clients add, are taken off.
///
/// # Errors
/// [`CodecError::Malformed`] for an empty name.
pub fn parse_remove(data: &str) -> Result<String, CodecError> {
    let name = data
        .strip_prefix('"')
        .and_then(|d| d.strip_suffix('"'))
        .unwrap_or(data);
    if name.is_empty() {
        return Err(CodecError::malformed("empty file name"));
    }
    Ok(name.to_owned())
}
