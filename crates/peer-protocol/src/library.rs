//! The files a peer shares: a real folder, or synthetic files for big scenarios.
//!
//! A library is a fixed list, built once. Every file has an index (its position) and a name
//! with no path in it. Whatever a peer is asked for — by index, by name — is looked up in this
//! list; a request's text is never joined onto a filesystem path, so no `../` or absolute
//! name can reach a file the peer does not share. A file is opened only if it is still the
//! regular file that was listed (see `open_listed`), so a link swapped in later leads nowhere.
//! p2plab runs on Unix (it reads inode numbers and opens with `O_NOFOLLOW`).
//!
//! Each file's [`FileMeta`] (hashes, MP3 format) is computed while the library is built, so
//! building reads every shared file once and a search never does.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::keywords::{normalize_name, words, Query};
use crate::metadata::FileMeta;

/// The most files one library may hold; a folder with more is refused.
pub const MAX_FILES: usize = 100_000;

/// The longest file name shared (bytes); Napster and Gnutella carry names in small messages.
pub const MAX_NAME_LEN: usize = 255;

/// Where a shared file's bytes come from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Content {
    /// A regular file inside the shared folder, and which file it was when it was listed.
    Disk {
        /// Where it is.
        path: PathBuf,
        /// The file the folder held under that name when it was shared.
        identity: FileIdentity,
    },
    /// Pseudo-random bytes from a seed: the same seed gives the same bytes everywhere.
    Synthetic { seed: u64 },
}

/// One shared file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedFile {
    /// Its position in the library, as Gnutella's QueryHit and GET carry it.
    pub index: u32,
    /// Its name, without any directory.
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its hashes and, for an MP3, its audio format.
    pub meta: FileMeta,
    content: Content,
}

impl SharedFile {
    /// Opens the file for reading from `offset` (which must not exceed the size).
    ///
    /// # Errors
    /// I/O errors from the disk, or `InvalidInput` for an offset past the end.
    pub fn open_at(&self, offset: u64) -> io::Result<Box<dyn Read + Send>> {
        if offset > self.size {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "offset past the end of the file",
            ));
        }
        let remaining = self.size - offset;
        match &self.content {
            Content::Disk { path, identity } => {
                let mut f = open_listed(path, *identity)?;
                f.seek(SeekFrom::Start(offset))?;
                Ok(Box::new(f.take(remaining)))
            }
            Content::Synthetic { seed } => Ok(Box::new(
                SyntheticReader::new(*seed, offset).take(remaining),
            )),
        }
    }

    /// Reads up to `len` bytes from `offset`: one chunk of an upload, as an upload core asks
    /// for it. Fewer bytes come back only where the file ends.
    ///
    /// # Errors
    /// As [`SharedFile::open_at`].
    pub fn read_at(&self, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        let mut chunk = Vec::with_capacity(len);
        self.open_at(offset)?
            .take(len as u64)
            .read_to_end(&mut chunk)?;
        Ok(chunk)
    }

    /// Reads the whole file into memory (for tests and checks of small files).
    ///
    /// # Errors
    /// As [`SharedFile::open_at`].
    pub fn read_all(&self) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        self.open_at(0)?.read_to_end(&mut out)?;
        Ok(out)
    }
}

/// A library of shared files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Library {
    files: Vec<SharedFile>,
    /// Every (word key, file index) pair of the names, sorted: the files with a given word
    /// are one run of one flat array. Every servent a Gnutella flood reaches searches its
    /// library, so a search looks its words up here instead of splitting every name again.
    words: Vec<(u64, u32)>,
}

/// A word's key in a library's index: its XXH3 hash. Two words may share a key, so what the
/// index finds is checked against the name itself.
fn word_key(word: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(word.as_bytes())
}

impl Library {
    /// The library of `files`, listed in index order.
    fn of(files: Vec<SharedFile>) -> Self {
        let mut words: Vec<(u64, u32)> = files
            .iter()
            .flat_map(|f| words(&f.name).into_iter().map(|w| (word_key(&w), f.index)))
            .collect();
        words.sort_unstable();
        words.dedup();
        Library { files, words }
    }

    /// True when the file at `index` has a word with key `key`.
    fn has_key(&self, index: u32, key: u64) -> bool {
        self.words.binary_search(&(key, index)).is_ok()
    }

    /// A library that shares nothing.
    pub fn empty() -> Self {
        Self::default()
    }

    /// Shares every regular file directly inside `dir`, sorted by name.
    ///
    /// Subfolders, symbolic links, names that are not UTF-8 or are too long, and files that
    /// cannot be read are skipped: what is shared is exactly what `ls` shows as a plain file
    /// in that folder and the peer can serve. Every file is read once here, for its
    /// [`FileMeta`].
    ///
    /// # Errors
    /// I/O errors reading the folder, or more than [`MAX_FILES`] files.
    pub fn from_dir(dir: &Path) -> io::Result<Self> {
        let mut found = Vec::new();
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let meta = std::fs::symlink_metadata(entry.path())?;
            if !meta.file_type().is_file() {
                continue;
            }
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            if name.len() > MAX_NAME_LEN {
                continue;
            }
            found.push((name, meta.len(), entry.path(), FileIdentity::of(&meta)));
            if found.len() > MAX_FILES {
                return Err(io::Error::other(format!(
                    "more than {MAX_FILES} files in {}",
                    dir.display()
                )));
            }
        }
        found.sort_by(|a, b| a.0.cmp(&b.0));
        let files = found
            .into_iter()
            .filter_map(|(name, size, path, identity)| {
                let file = open_listed(&path, identity).ok()?;
                let meta = FileMeta::of_disk(file, &name, size).ok()?;
                Some((name, size, meta, Content::Disk { path, identity }))
            })
            .zip(0u32..)
            .map(|((name, size, meta, content), index)| SharedFile {
                index,
                name,
                size,
                meta,
                content,
            })
            .collect();
        Ok(Library::of(files))
    }

    /// Shares synthetic files: each `(name, size)` gets bytes derived from `seed` and its name,
    /// so two peers given the same file produce the same bytes. Their hashes are those of
    /// these bytes (generated once here to compute them); a `.mp3` gets made-up audio values
    /// ([`crate::Audio::synthetic`]).
    pub fn synthetic<I, S>(specs: I, seed: u64) -> Self
    where
        I: IntoIterator<Item = (S, u64)>,
        S: Into<String>,
    {
        let files = specs
            .into_iter()
            .zip(0u32..)
            .map(|((name, size), index)| {
                let name: String = name.into();
                let seed = seed ^ fnv1a(name.as_bytes());
                let bytes = SyntheticReader::new(seed, 0).take(size);
                let meta = FileMeta::of_synthetic(bytes, &name, size)
                    .expect("synthetic content is generated, and reading it cannot fail");
                SharedFile {
                    index,
                    name,
                    size,
                    meta,
                    content: Content::Synthetic { seed },
                }
            })
            .collect();
        Library::of(files)
    }

    /// All shared files, by index.
    pub fn files(&self) -> &[SharedFile] {
        &self.files
    }

    /// Number of shared files.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// True when nothing is shared.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Total bytes shared (saturating: sizes come from folders and scenario files, and a sum
    /// of huge ones must not wrap).
    pub fn total_bytes(&self) -> u64 {
        self.files
            .iter()
            .fold(0u64, |sum, f| sum.saturating_add(f.size))
    }

    /// The file at `index`, but only if its name is `name` too (as Gnutella's GET requires).
    pub fn by_index(&self, index: u32, name: &str) -> Option<&SharedFile> {
        let file = self.files.get(usize::try_from(index).ok()?)?;
        (normalize_name(&file.name) == normalize_name(name)).then_some(file)
    }

    /// The file with this name (compared after [`normalize_name`]).
    pub fn by_name(&self, name: &str) -> Option<&SharedFile> {
        let wanted = normalize_name(name);
        self.files
            .iter()
            .find(|f| normalize_name(&f.name) == wanted)
    }

    /// The files that match `query` (see [`Query::matches`]), in index order: those listed
    /// under its first word's key that have every other word's key too, and whose name,
    /// checked last, does match.
    pub fn search<'a>(&'a self, query: &'a Query) -> impl Iterator<Item = &'a SharedFile> + 'a {
        let keys: Vec<u64> = query.words().iter().map(|w| word_key(w)).collect();
        // A query with no words has no first key, and finds nothing.
        let first = keys.first().copied();
        let from = self.words.partition_point(|(k, _)| Some(*k) < first);
        self.words[from..]
            .iter()
            .take_while(move |(k, _)| Some(*k) == first)
            .filter(move |(_, i)| keys.iter().skip(1).all(|k| self.has_key(*i, *k)))
            .map(|(_, i)| &self.files[*i as usize])
            .filter(|f| query.matches(&f.name))
    }
}

/// Which file a directory entry named when it was shared: its device and inode.
///
/// A shared folder can change after it was listed. If a shared file is replaced — by a
/// symbolic link to `/etc/passwd`, or by any other file moved in under its name — the
/// identity no longer matches, and the peer refuses to serve it rather than serve what it
/// never shared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileIdentity {
    dev: u64,
    ino: u64,
}

impl FileIdentity {
    fn of(meta: &std::fs::Metadata) -> Self {
        FileIdentity {
            dev: meta.dev(),
            ino: meta.ino(),
        }
    }
}

/// Opens a listed file without following a link in its last component (`O_NOFOLLOW`) and
/// without blocking on a FIFO swapped in under its name (`O_NONBLOCK`, which a regular file
/// ignores), then checks that what opened is the regular file that was listed.
///
/// # Errors
/// `PermissionDenied` if the name now leads to a link, something other than a regular file,
/// or another file than the one shared; the open's own errors otherwise.
fn open_listed(path: &Path, listed: FileIdentity) -> io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    let changed = || {
        io::Error::new(
            io::ErrorKind::PermissionDenied,
            "the shared file was replaced after it was shared",
        )
    };
    // O_NOFOLLOW makes opening a link fail with ELOOP: that is a replaced file too.
    let file = options.open(path).map_err(|e| {
        if e.raw_os_error() == Some(libc::ELOOP) {
            changed()
        } else {
            e
        }
    })?;
    let meta = file.metadata()?;
    if !meta.file_type().is_file() || FileIdentity::of(&meta) != listed {
        return Err(changed());
    }
    Ok(file)
}

/// FNV-1a: a tiny stable hash to mix a file name into a seed (not for security).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// An endless stream of ChaCha8 bytes that can start at any offset.
///
/// The stream is a sequence of 32-bit words (little-endian), so reads of any size at any
/// offset give the same bytes.
struct SyntheticReader {
    rng: ChaCha8Rng,
    /// The current word, of which the first `used` bytes were already returned.
    word: [u8; 4],
    used: usize,
}

impl SyntheticReader {
    fn new(seed: u64, offset: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_word_pos(u128::from(offset / 4));
        let mut reader = SyntheticReader {
            rng,
            word: [0; 4],
            used: 4,
        };
        let skip = (offset % 4) as usize;
        if skip > 0 {
            reader.word = reader.rng.next_u32().to_le_bytes();
            reader.used = skip;
        }
        reader
    }
}

impl Read for SyntheticReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut n = 0;
        while n < buf.len() {
            if self.used == 4 {
                // Fast path: whole words straight from the generator.
                let aligned = (buf.len() - n) / 4 * 4;
                if aligned > 0 {
                    self.rng.fill_bytes(&mut buf[n..n + aligned]);
                    n += aligned;
                    continue;
                }
                self.word = self.rng.next_u32().to_le_bytes();
                self.used = 0;
            }
            let take = (4 - self.used).min(buf.len() - n);
            buf[n..n + take].copy_from_slice(&self.word[self.used..self.used + take]);
            self.used += take;
            n += take;
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn search_finds_exactly_the_matching_names(
            names in proptest::collection::vec("[a-cA-CéÉ0-1 ._-]{0,12}", 0..8),
            query in "[a-cA-CéÉ0-1 ._-]{0,8}",
        ) {
            let library = Library::synthetic(names.iter().map(|n| (n.clone(), 1)), 7);
            let query = Query::parse(&query);
            let found: Vec<u32> = library.search(&query).map(|f| f.index).collect();
            let matching: Vec<u32> = library
                .files()
                .iter()
                .filter(|f| query.matches(&f.name))
                .map(|f| f.index)
                .collect();
            proptest::prop_assert_eq!(found, matching);
        }
    }

    #[test]
    fn synthetic_bytes_are_the_same_from_any_offset() {
        let lib = Library::synthetic([("song.mp3", 1000u64)], 7);
        let f = &lib.files()[0];
        let all = f.read_all().unwrap();
        assert_eq!(all.len(), 1000);
        for offset in [0u64, 1, 3, 4, 5, 999, 1000] {
            let mut tail = Vec::new();
            f.open_at(offset).unwrap().read_to_end(&mut tail).unwrap();
            assert_eq!(tail, all[offset as usize..], "offset {offset}");
        }
        assert!(f.open_at(1001).is_err());
        assert_eq!(
            f.read_at(996, 10).unwrap(),
            all[996..],
            "short only at the end"
        );
        assert_eq!(f.read_at(10, 5).unwrap(), all[10..15]);
    }

    #[test]
    fn the_total_of_huge_sizes_does_not_wrap() {
        let lib = Library::synthetic([("a", u64::MAX - 1), ("b", 5)], 1);
        assert_eq!(lib.total_bytes(), u64::MAX);
    }

    #[test]
    fn tiny_reads_stay_in_step() {
        let lib = Library::synthetic([("x", 10u64)], 1);
        let all = lib.files()[0].read_all().unwrap();
        let mut r = lib.files()[0].open_at(0).unwrap();
        let mut got = Vec::new();
        let mut b = [0u8; 3];
        loop {
            let n = r.read(&mut b).unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&b[..n]);
        }
        assert_eq!(got, all);
    }

    #[test]
    fn same_name_same_seed_same_bytes_different_name_different_bytes() {
        let a = Library::synthetic([("a.mp3", 64u64), ("b.mp3", 64)], 9);
        let b = Library::synthetic([("a.mp3", 64u64)], 9);
        assert_eq!(
            a.files()[0].read_all().unwrap(),
            b.files()[0].read_all().unwrap()
        );
        assert_ne!(
            a.files()[0].read_all().unwrap(),
            a.files()[1].read_all().unwrap()
        );
    }

    #[test]
    fn a_folder_shares_only_its_plain_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("b song.mp3"), b"bbb").unwrap();
        std::fs::write(dir.path().join("a.txt"), b"a").unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/hidden.mp3"), b"h").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", dir.path().join("passwd")).unwrap();
        let lib = Library::from_dir(dir.path()).unwrap();
        let names: Vec<_> = lib.files().iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["a.txt", "b song.mp3"]);
        assert_eq!(
            lib.by_index(1, "B Song.mp3").unwrap().read_all().unwrap(),
            b"bbb"
        );
        assert!(
            lib.by_index(1, "a.txt").is_none(),
            "index and name must agree"
        );
        assert!(lib.by_name("../passwd").is_none());
        assert!(lib.by_name("sub/hidden.mp3").is_none());
        assert_eq!(lib.search(&Query::parse("song")).count(), 1);
    }

    #[test]
    fn an_mp3_in_a_folder_reports_its_true_audio_and_hashes_of_its_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let mp3 = crate::metadata::silent_mp3(192, 48_000, 250).unwrap();
        std::fs::write(dir.path().join("loud song.mp3"), &mp3).unwrap();
        std::fs::write(dir.path().join("notes.txt"), b"abc").unwrap();
        let lib = Library::from_dir(dir.path()).unwrap();
        let song = lib.by_name("loud song.mp3").unwrap();
        let audio = song.meta.audio().unwrap();
        assert_eq!(
            (audio.bitrate_kbps, audio.sample_rate_hz, audio.seconds),
            (192, 48_000, 6)
        );
        let notes = lib.by_name("notes.txt").unwrap();
        assert_eq!(notes.meta.audio(), None);
        assert_eq!(
            notes.meta.urn_sha1().unwrap(),
            "urn:sha1:VGMT4NSHA2AWVOR6EVYXQUGCNSONBWE5"
        );
    }

    #[test]
    fn synthetic_hashes_are_those_of_the_served_bytes() {
        let lib = Library::synthetic([("tune.mp3", 5_000u64), ("data.bin", 700)], 3);
        for f in lib.files() {
            let served = FileMeta::of_disk(&f.read_all().unwrap()[..], "x.bin", f.size).unwrap();
            assert_eq!(f.meta.md5_hex(), served.md5_hex(), "{}", f.name);
            assert_eq!(f.meta.sha1(), served.sha1(), "{}", f.name);
        }
        let tune = lib.files()[0].meta.audio().unwrap();
        assert_eq!((tune.bitrate_kbps, tune.seconds), (128, 1));
        assert_eq!(lib.files()[1].meta.audio(), None);
    }

    #[test]
    fn a_shared_file_swapped_for_a_link_after_sharing_is_not_served() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let secret = outside.path().join("secret.txt");
        std::fs::write(&secret, b"not shared").unwrap();
        let shared = dir.path().join("song.mp3");
        std::fs::write(&shared, b"shared").unwrap();
        let lib = Library::from_dir(dir.path()).unwrap();
        let file = lib.by_name("song.mp3").unwrap();
        assert_eq!(file.read_all().unwrap(), b"shared");

        std::fs::remove_file(&shared).unwrap();
        std::os::unix::fs::symlink(&secret, &shared).unwrap();
        let err = file.read_all().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::PermissionDenied, "{err}");
    }

    #[test]
    fn a_shared_file_replaced_by_another_file_or_a_fifo_is_not_served() {
        let dir = tempfile::tempdir().unwrap();
        let shared = dir.path().join("song.mp3");
        std::fs::write(&shared, b"shared").unwrap();
        let lib = Library::from_dir(dir.path()).unwrap();
        let file = lib.by_name("song.mp3").unwrap();

        // Another file moved in under the same name: a new inode.
        let other = dir.path().join("other");
        std::fs::write(&other, b"moved in").unwrap();
        std::fs::rename(&other, &shared).unwrap();
        let err = file.read_all().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::PermissionDenied, "{err}");

        // A FIFO: opening must neither block nor serve it.
        std::fs::remove_file(&shared).unwrap();
        let status = std::process::Command::new("mkfifo")
            .arg(&shared)
            .status()
            .unwrap();
        assert!(status.success());
        let err = file.read_all().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::PermissionDenied, "{err}");
    }
}
