//! What a shared file tells about itself: the hashes peers name it by and, for an MP3, how
//! it sounds.
//!
//! Napster's share (100) and results (201) carry an md5, a bit rate, a sample rate and a play
//! length; Gnutella servents since HUGE name every result `urn:sha1:<base32>`. All of it is
//! computed once, when a library is built ([`crate::Library::from_dir`],
//! [`crate::Library::synthetic`]), so answering a search never reads a file.
//!
//! What is read is bounded: the md5 covers [`NAPSTER_MD5_LEN`] bytes, the SHA-1 only files up
//! to [`MAX_SHA1_LEN`], and an MP3's frame headers are walked over at most [`MAX_MP3_SCAN`].
//!
//! Synthetic files are pseudo-random bytes, not audio: their md5 and SHA-1 are the true hashes
//! of the bytes a download serves, but a synthetic `.mp3` has no frames to read, so it carries
//! made-up audio values, consistent with its size ([`Audio::synthetic`]).

use std::io::{self, Read};

use md5::{Digest, Md5};
use sha1::Sha1;

/// How many leading bytes of a file Napster's md5 covers: 299,008 (73 × 4096).
///
/// The Napster-era clients never hashed whole files, only their first ~300 KB, and did not
/// agree on the exact count: the Perl client `MP3::Napster` (its `Registry.pm`) lists 300,000
/// bytes for the Linux `nap` client, 300,032 for the Windows client and 299,008 as "recommended
/// by the opennap spec". p2plab takes 299,008, the figure of OpenNap's protocol document, which
/// is the one the wire format p2plab follows comes from: an md5 means something only between
/// clients that cut the file at the same length, and the published figure is the one a
/// third-party client can be expected to use. A file shorter than this is hashed whole.
pub const NAPSTER_MD5_LEN: u64 = 299_008;

/// The most bytes of an MP3 whose frame headers are walked: 16 MiB, seven minutes at
/// 320 kbit/s, a quarter of an hour at 128. The walk keeps the bytes in memory, so the bound
/// is what one file may cost; past it, the play length is estimated from the average bit rate
/// of the frames that were read.
pub const MAX_MP3_SCAN: usize = 16 << 20;

/// The largest file that gets a SHA-1: `u32::MAX` bytes. A Gnutella QueryHit carries sizes in
/// 32 bits, so a bigger file is never a result and its `urn:sha1:` would have nowhere to go;
/// the bound also keeps one huge file from holding up the library build.
pub const MAX_SHA1_LEN: u64 = u32::MAX as u64;

/// The bit rate given to synthetic `.mp3` files (kbit/s): a made-up value, the commonest
/// encoding of the Napster years.
pub const SYNTHETIC_BITRATE_KBPS: u32 = 128;

/// The sample rate given to synthetic `.mp3` files (Hz): a made-up value, that of a CD.
pub const SYNTHETIC_SAMPLE_RATE_HZ: u32 = 44_100;

/// How much is read at a time while hashing.
const READ_CHUNK: usize = 64 * 1024;

/// The audio format of an MP3, as its MPEG frame headers give it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Audio {
    /// Bit rate in kbit/s: the average over the frames read, so a VBR file gets its mean.
    pub bitrate_kbps: u32,
    /// Sample rate in Hz, from the first frame.
    pub sample_rate_hz: u32,
    /// Play length in whole seconds (rounded): the frames' durations added up.
    pub seconds: u32,
}

impl Audio {
    /// The made-up audio of a synthetic `.mp3` of `size` bytes: [`SYNTHETIC_BITRATE_KBPS`],
    /// [`SYNTHETIC_SAMPLE_RATE_HZ`], and as many seconds as `size` bytes last at that bit rate
    /// (rounded up, so only an empty file plays for no time).
    pub fn synthetic(size: u64) -> Self {
        let bytes_per_second = u64::from(SYNTHETIC_BITRATE_KBPS) * 1000 / 8;
        Audio {
            bitrate_kbps: SYNTHETIC_BITRATE_KBPS,
            sample_rate_hz: SYNTHETIC_SAMPLE_RATE_HZ,
            seconds: u32::try_from(size.div_ceil(bytes_per_second)).unwrap_or(u32::MAX),
        }
    }

    /// Reads the MPEG audio frames at the start of a file of `size` bytes (`head` is at most
    /// [`MAX_MP3_SCAN`] of them), or `None` when there are none.
    fn from_frames(head: &[u8], size: u64) -> Option<Self> {
        let meta = mp3_metadata::read_from_slice(head).ok()?;
        let frames = u64::try_from(meta.frames.len()).ok()?;
        let total: u64 = meta.frames.iter().map(|f| u64::from(f.bitrate)).sum();
        let bitrate = total.checked_div(frames)?;
        let sample_rate = u32::from(meta.frames.first()?.sampling_freq);
        if bitrate == 0 || sample_rate == 0 {
            return None;
        }
        let seconds = if head.len() as u64 >= size {
            meta.duration.as_secs_f64()
        } else {
            // Only the head was walked: the rest is assumed to run at the same average rate.
            size as f64 * 8.0 / (bitrate as f64 * 1000.0)
        };
        Some(Audio {
            bitrate_kbps: u32::try_from(bitrate).ok()?,
            sample_rate_hz: sample_rate,
            // A float-to-int `as` saturates; play lengths are far from u32::MAX seconds.
            seconds: seconds.round() as u32,
        })
    }
}

/// A shared file's hashes and audio format, computed when its library is built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileMeta {
    /// MD5 of the first [`NAPSTER_MD5_LEN`] bytes.
    md5: [u8; 16],
    /// SHA-1 of the whole file, unless it is bigger than [`MAX_SHA1_LEN`].
    sha1: Option<[u8; 20]>,
    /// For an MP3 with readable frames, or a synthetic `.mp3`.
    audio: Option<Audio>,
}

impl FileMeta {
    /// Hashes a file from a folder, and reads its frame headers if its name ends in `.mp3`.
    ///
    /// # Errors
    /// I/O errors from `content`.
    pub(crate) fn of_disk(content: impl Read, name: &str, size: u64) -> io::Result<Self> {
        let keep = if is_mp3_name(name) { MAX_MP3_SCAN } else { 0 };
        let (mut meta, head) = digest(content, size, keep)?;
        meta.audio = (keep > 0)
            .then(|| Audio::from_frames(&head, size))
            .flatten();
        Ok(meta)
    }

    /// Hashes a synthetic file; a `.mp3` gets [`Audio::synthetic`].
    ///
    /// # Errors
    /// I/O errors from `content` (synthetic content has none).
    pub(crate) fn of_synthetic(content: impl Read, name: &str, size: u64) -> io::Result<Self> {
        let (mut meta, _) = digest(content, size, 0)?;
        meta.audio = is_mp3_name(name).then(|| Audio::synthetic(size));
        Ok(meta)
    }

    /// The md5 as Napster carries it: 32 lowercase hex digits.
    pub fn md5_hex(&self) -> String {
        hex::encode(self.md5)
    }

    /// The SHA-1 of the whole file, if it was hashed.
    pub fn sha1(&self) -> Option<[u8; 20]> {
        self.sha1
    }

    /// The file's HUGE name, `urn:sha1:` and its SHA-1 in base32 (RFC 4648 alphabet, no
    /// padding: 32 characters), if it was hashed.
    pub fn urn_sha1(&self) -> Option<String> {
        let sha1 = self.sha1?;
        Some(format!(
            "urn:sha1:{}",
            data_encoding::BASE32_NOPAD.encode(&sha1)
        ))
    }

    /// The audio format, for an MP3.
    pub fn audio(&self) -> Option<Audio> {
        self.audio
    }
}

/// True when `name` ends in `.mp3`, in any case.
fn is_mp3_name(name: &str) -> bool {
    name.rsplit_once('.')
        .is_some_and(|(_, ext)| ext.eq_ignore_ascii_case("mp3"))
}

/// Reads `content` (a file of `size` bytes) once: the md5 of its first [`NAPSTER_MD5_LEN`]
/// bytes, the SHA-1 of all of it (if it is no bigger than [`MAX_SHA1_LEN`]), and its first
/// `keep` bytes. The audio is left for the caller to fill in.
fn digest(content: impl Read, size: u64, keep: usize) -> io::Result<(FileMeta, Vec<u8>)> {
    let whole = size <= MAX_SHA1_LEN;
    let wanted = if whole {
        size
    } else {
        NAPSTER_MD5_LEN.max(keep as u64)
    };
    let (mut md5, mut sha1) = (Md5::new(), Sha1::new());
    let mut head = Vec::new();
    let mut buf = vec![0u8; READ_CHUNK];
    let mut content = content.take(wanted);
    let mut at = 0u64;
    loop {
        let n = match content.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let chunk = &buf[..n];
        let md5_left = usize::try_from(NAPSTER_MD5_LEN.saturating_sub(at)).unwrap_or(usize::MAX);
        md5.update(&chunk[..n.min(md5_left)]);
        if whole {
            sha1.update(chunk);
        }
        let keep_left = keep.saturating_sub(head.len());
        head.extend_from_slice(&chunk[..n.min(keep_left)]);
        at += n as u64;
    }
    let meta = FileMeta {
        md5: md5.finalize().into(),
        sha1: whole.then(|| sha1.finalize().into()),
        audio: None,
    };
    Ok((meta, head))
}

/// An MPEG-1 Layer III stream of `frames` silent frames at `bitrate_kbps` and
/// `sample_rate_hz`, with no padding, or `None` for a rate MPEG-1 Layer III does not have.
///
/// A real MP3 made on the spot: p2plab's tests share it from a folder to check that what a
/// search reports is what the frame headers say. Each frame is its 4-byte header (sync,
/// MPEG-1, Layer III, no CRC, stereo) then zeros, `144 × bitrate / sample rate` bytes in all,
/// and plays 1152 samples.
pub fn silent_mp3(bitrate_kbps: u32, sample_rate_hz: u32, frames: usize) -> Option<Vec<u8>> {
    const BITRATES: [u32; 14] = [
        32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
    ];
    const SAMPLE_RATES: [u32; 3] = [44_100, 48_000, 32_000];
    let rate_index = BITRATES.iter().position(|&b| b == bitrate_kbps)? + 1;
    let sample_index = SAMPLE_RATES.iter().position(|&s| s == sample_rate_hz)?;
    let header = [
        0xFF,
        0xFB,
        u8::try_from(rate_index << 4 | sample_index << 2).ok()?,
        0x00,
    ];
    let len = usize::try_from(144 * bitrate_kbps * 1000 / sample_rate_hz).ok()?;
    let mut frame = vec![0u8; len];
    frame[..4].copy_from_slice(&header);
    Some(frame.repeat(frames))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta_of(bytes: &[u8], name: &str) -> FileMeta {
        FileMeta::of_disk(bytes, name, bytes.len() as u64).expect("in memory")
    }

    #[test]
    fn the_napster_md5_covers_exactly_the_first_299008_bytes() {
        let a = vec![b'a'; 400_000];
        assert_eq!(
            meta_of(&a, "a.bin").md5_hex(),
            "9517c5128acf7d536db61cc23728a29f",
            "md5 of 299,008 'a's"
        );
        let mut past = a.clone();
        past[299_008] = b'b';
        assert_eq!(meta_of(&past, "a.bin").md5, meta_of(&a, "a.bin").md5);
        let mut last = a.clone();
        last[299_007] = b'b';
        assert_ne!(meta_of(&last, "a.bin").md5, meta_of(&a, "a.bin").md5);
        assert_ne!(meta_of(&past, "a.bin").sha1, meta_of(&a, "a.bin").sha1);
    }

    #[test]
    fn urn_sha1_is_the_base32_sha1_of_the_whole_file() {
        assert_eq!(
            meta_of(b"abc", "abc.txt").urn_sha1().unwrap(),
            "urn:sha1:VGMT4NSHA2AWVOR6EVYXQUGCNSONBWE5"
        );
        let bytes: Vec<u8> = (0..=255u8).cycle().take(307_200).collect();
        let meta = meta_of(&bytes, "ramp.bin");
        assert_eq!(meta.md5_hex(), "4962f0e4e3d59af538859af5d79fdbfd");
        assert_eq!(
            meta.urn_sha1().unwrap(),
            "urn:sha1:QWFBWVSQPC37JTVSPRRSVYM4XZOWS2BX"
        );
        assert_eq!(meta.audio(), None, "not an MP3 by name");
    }

    #[test]
    fn a_constant_bit_rate_mp3_reports_its_frame_headers() {
        // 383 frames of 1152 samples at 44.1 kHz play 10.005 s.
        let mp3 = silent_mp3(128, 44_100, 383).unwrap();
        assert_eq!(
            mp3.len(),
            383 * 417,
            "144 * 128000 / 44100 = 417 bytes a frame"
        );
        let audio = meta_of(&mp3, "Song.MP3").audio().unwrap();
        assert_eq!(
            audio,
            Audio {
                bitrate_kbps: 128,
                sample_rate_hz: 44_100,
                seconds: 10
            }
        );
        let other = silent_mp3(192, 48_000, 250).unwrap(); // 250 * 1152 / 48000 = 6 s
        assert_eq!(
            meta_of(&other, "b.mp3").audio().unwrap(),
            Audio {
                bitrate_kbps: 192,
                sample_rate_hz: 48_000,
                seconds: 6
            }
        );
    }

    #[test]
    fn a_variable_bit_rate_mp3_reports_its_average_and_true_length() {
        let mut vbr = silent_mp3(128, 44_100, 200).unwrap();
        vbr.extend(silent_mp3(192, 44_100, 200).unwrap());
        let audio = meta_of(&vbr, "vbr.mp3").audio().unwrap();
        assert_eq!(audio.bitrate_kbps, 160);
        assert_eq!(audio.seconds, 10, "400 frames * 1152 / 44100 = 10.45 s");
    }

    #[test]
    fn an_mp3_name_without_frames_has_no_audio_and_synthetic_mp3s_have_made_up_audio() {
        assert_eq!(meta_of(b"not audio at all", "fake.mp3").audio(), None);
        assert_eq!(silent_mp3(129, 44_100, 1), None);
        assert_eq!(
            Audio::synthetic(32_001),
            Audio {
                bitrate_kbps: 128,
                sample_rate_hz: 44_100,
                seconds: 3
            },
            "16,000 bytes a second at 128 kbit/s, rounded up"
        );
    }

    #[test]
    fn a_file_past_the_sha1_bound_is_read_only_for_its_md5() {
        let endless = io::repeat(b'a');
        let meta = FileMeta::of_synthetic(endless, "huge.mp3", u64::MAX).unwrap();
        assert_eq!(meta.sha1(), None);
        assert_eq!(meta.urn_sha1(), None);
        assert_eq!(meta.md5_hex(), "9517c5128acf7d536db61cc23728a29f");
    }
}
