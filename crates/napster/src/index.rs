//! The server's inverted keyword index.
//!
//! Every shared file gets a [`FileId`]. For every word of its name (the words of
//! [`p2plab_peer_protocol::keywords`]), a **posting list** holds the ids of the files whose
//! name has that word. A search for `daft punk` reads the postings of `daft` and of `punk`
//! and keeps the ids in both — it never looks at a file that lacks a query word.
//!
//! ```text
//! "daft"  → {1, 7}          file 1: "Daft Punk - One More Time.mp3"   (user A)
//! "punk"  → {1, 3, 7}       file 3: "Punk Rock 101.ogg"                (user B)
//! "time"  → {1}             file 7: "daft punk live.mp3"               (user B)
//! ```
//!
//! ## Implementation notes
//!
//! - Intersection starts from the **rarest** word: the cost is the length of the shortest
//!   posting list times the number of words, not the number of files.
//! - Posting lists are ordered sets and ids grow, so results come in sharing order and the
//!   same network gives the same answers.
//! - Each user's files are kept together, so a user who leaves is removed at once: each of
//!   its files leaves the postings of its own words and nothing else is touched.
//! - A side map finds files by md5 and size, for resume requests (215), in one lookup: a
//!   file with a real md5 (32 hex digits, not all `0`) is in it once, so it holds no more
//!   than the index does. A file shared with [`NO_MD5`](crate::NO_MD5), or with
//!   anything that is not an md5, says nothing about its content and is not in it.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::Hash;

use p2plab_peer_protocol::keywords::{normalize_name, words};
use p2plab_peer_protocol::Query;

use crate::message::FileInfo;

/// Names one indexed file; ids are never reused.
pub type FileId = u64;

/// How much an [`Index`] holds at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Files per user.
    pub files_per_user: usize,
    /// Files in all.
    pub files: usize,
    /// Bytes in all: what the indexed files' sizes add up to.
    pub bytes: u64,
}

/// Why a file was not added. The texts of the limits are the 404s the server sends.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IndexError {
    /// The user already shares as many files as allowed (OpenNap's wording).
    #[error("You may only share {0} files.")]
    TooManyFiles(usize),
    /// The index holds as many files as allowed.
    #[error("The server's index is full: at most {0} files.")]
    Full(usize),
    /// The file would take the indexed bytes past the limit.
    #[error("The server's index is full: at most {0} bytes.")]
    TooManyBytes(u64),
    /// The user already shares a file with this name.
    #[error("already sharing {0:?}")]
    Duplicate(String),
}

/// One indexed file and who shares it.
#[derive(Debug, Clone)]
struct Entry<U> {
    user: U,
    info: FileInfo,
    words: Vec<String>,
}

/// The inverted index, generic over how users are named (the server uses connection ids).
#[derive(Debug, Clone)]
pub struct Index<U> {
    files: HashMap<FileId, Entry<U>>,
    postings: HashMap<String, BTreeSet<FileId>>,
    /// Each user's files, by normalised name.
    by_user: HashMap<U, BTreeMap<String, FileId>>,
    /// The files with a real md5, by md5 and size: what a resume request asks for.
    by_hash: HashMap<(u128, u64), BTreeSet<FileId>>,
    limits: Limits,
    next_id: FileId,
    /// The indexed files' sizes added up; never more than `limits.bytes`, so it cannot wrap.
    total_bytes: u64,
}

impl<U: Copy + Eq + Hash> Index<U> {
    /// An empty index that holds at most what `limits` says.
    pub fn new(limits: Limits) -> Self {
        Index {
            files: HashMap::new(),
            postings: HashMap::new(),
            by_user: HashMap::new(),
            by_hash: HashMap::new(),
            limits,
            next_id: 0,
            total_bytes: 0,
        }
    }

    /// Files indexed.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// True when nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Bytes in all indexed files.
    pub fn total_bytes(&self) -> u64 {
        self.total_bytes
    }

    /// Distinct words indexed (the number of posting lists).
    pub fn word_count(&self) -> usize {
        self.postings.len()
    }

    /// How many files `user` shares.
    pub fn files_of(&self, user: U) -> usize {
        self.by_user.get(&user).map_or(0, BTreeMap::len)
    }

    /// Indexes a file shared by `user`.
    ///
    /// # Errors
    /// [`IndexError::Duplicate`] if the user already shares a file of that (normalised)
    /// name; [`IndexError::TooManyFiles`], [`IndexError::Full`] or
    /// [`IndexError::TooManyBytes`] past the [`Limits`].
    pub fn add(&mut self, user: U, info: FileInfo) -> Result<FileId, IndexError> {
        let key = normalize_name(&info.name);
        let total_bytes = self.room_for(user, &key, &info)?;
        let id = self.next_id;
        self.next_id += 1;
        self.by_user.entry(user).or_default().insert(key, id);
        let name_words = words(&info.name);
        for w in &name_words {
            self.postings.entry(w.clone()).or_default().insert(id);
        }
        if let Some(md5) = md5_value(&info.md5) {
            self.by_hash.entry((md5, info.size)).or_default().insert(id);
        }
        self.total_bytes = total_bytes;
        self.files.insert(
            id,
            Entry {
                user,
                info,
                words: name_words,
            },
        );
        Ok(id)
    }

    /// Checks that `user` may add a file of normalised name `key`; returns the byte total
    /// with it.
    fn room_for(&self, user: U, key: &str, info: &FileInfo) -> Result<u64, IndexError> {
        let mine = self.by_user.get(&user);
        if mine.is_some_and(|m| m.contains_key(key)) {
            return Err(IndexError::Duplicate(info.name.clone()));
        }
        if mine.map_or(0, BTreeMap::len) >= self.limits.files_per_user {
            return Err(IndexError::TooManyFiles(self.limits.files_per_user));
        }
        if self.files.len() >= self.limits.files {
            return Err(IndexError::Full(self.limits.files));
        }
        self.total_bytes
            .checked_add(info.size)
            .filter(|total| *total <= self.limits.bytes)
            .ok_or(IndexError::TooManyBytes(self.limits.bytes))
    }

    /// The file `user` shares under `name` (compared normalised).
    pub fn lookup(&self, user: U, name: &str) -> Option<&FileInfo> {
        let id = self.by_user.get(&user)?.get(&normalize_name(name))?;
        self.files.get(id).map(|e| &e.info)
    }

    /// The files `user` shares, in the order of their normalised names (a browse's order:
    /// the same on every run).
    pub fn files_by(&self, user: U) -> impl Iterator<Item = &FileInfo> {
        self.by_user
            .get(&user)
            .into_iter()
            .flat_map(BTreeMap::values)
            .filter_map(|id| self.files.get(id).map(|e| &e.info))
    }

    /// Stops indexing `user`'s file `name`. Returns whether it was there.
    pub fn remove(&mut self, user: U, name: &str) -> bool {
        let Some(mine) = self.by_user.get_mut(&user) else {
            return false;
        };
        let Some(id) = mine.remove(&normalize_name(name)) else {
            return false;
        };
        if mine.is_empty() {
            self.by_user.remove(&user);
        }
        self.drop_file(id);
        true
    }

    /// Removes every file of `user` at once; returns how many there were.
    pub fn remove_user(&mut self, user: U) -> usize {
        let Some(mine) = self.by_user.remove(&user) else {
            return 0;
        };
        for id in mine.values() {
            self.drop_file(*id);
        }
        mine.len()
    }

    fn drop_file(&mut self, id: FileId) {
        let Some(entry) = self.files.remove(&id) else {
            return;
        };
        // The size was added when the file was; saturating only documents that it cannot
        // go below zero.
        self.total_bytes = self.total_bytes.saturating_sub(entry.info.size);
        for w in &entry.words {
            if let Some(list) = self.postings.get_mut(w) {
                list.remove(&id);
                if list.is_empty() {
                    self.postings.remove(w);
                }
            }
        }
        if let Some(md5) = md5_value(&entry.info.md5) {
            let key = (md5, entry.info.size);
            if let Some(same) = self.by_hash.get_mut(&key) {
                same.remove(&id);
                if same.is_empty() {
                    self.by_hash.remove(&key);
                }
            }
        }
    }

    /// Up to `limit` files whose md5 is `md5` (in either case) and whose size is `size`,
    /// in sharing order, with who shares them: the matches of a resume request. An md5
    /// that is not 32 hex digits, or is all `0`s, finds nothing.
    pub fn with_hash(&self, md5: &str, size: u64, limit: usize) -> Vec<(U, &FileInfo)> {
        let Some(same) = md5_value(md5).and_then(|md5| self.by_hash.get(&(md5, size))) else {
            return Vec::new();
        };
        same.iter()
            .filter_map(|id| self.files.get(id))
            .take(limit)
            .map(|e| (e.user, &e.info))
            .collect()
    }

    /// Up to `limit` files whose names hold every word of `query` and that pass `admit`,
    /// in sharing order, with who shares them. An empty query finds nothing.
    pub fn search(
        &self,
        query: &Query,
        limit: usize,
        mut admit: impl FnMut(U, &FileInfo) -> bool,
    ) -> Vec<(U, &FileInfo)> {
        let mut lists = Vec::with_capacity(query.words().len());
        for w in query.words() {
            match self.postings.get(w) {
                Some(list) => lists.push(list),
                None => return Vec::new(),
            }
        }
        lists.sort_by_key(|list| list.len());
        let Some((rarest, others)) = lists.split_first() else {
            return Vec::new();
        };
        rarest
            .iter()
            .filter(|id| others.iter().all(|list| list.contains(id)))
            .filter_map(|id| self.files.get(id))
            .filter(|e| admit(e.user, &e.info))
            .take(limit)
            .map(|e| (e.user, &e.info))
            .collect()
    }
}

/// The md5 field as a number, if it is a real md5: 32 hex digits, not all `0`. Kept as
/// a number, the side map's key costs no allocation and ignores the digits' case.
fn md5_value(md5: &str) -> Option<u128> {
    if md5.len() != 32 || !md5.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u128::from_str_radix(md5, 16).ok().filter(|&v| v != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, size: u64) -> FileInfo {
        FileInfo {
            name: name.into(),
            md5: crate::NO_MD5.into(),
            size,
            bitrate: 128,
            frequency: 44_100,
            seconds: 0,
        }
    }

    fn limits(files_per_user: usize) -> Limits {
        Limits {
            files_per_user,
            files: usize::MAX,
            bytes: u64::MAX,
        }
    }

    fn names<'a>(hits: &[(u32, &'a FileInfo)]) -> Vec<(u32, &'a str)> {
        hits.iter().map(|(u, f)| (*u, f.name.as_str())).collect()
    }

    #[test]
    fn finds_files_with_every_word_in_sharing_order() {
        let mut idx = Index::new(limits(10));
        idx.add(1, file("Daft Punk - One More Time.mp3", 5))
            .unwrap();
        idx.add(2, file("Punk Rock 101.ogg", 6)).unwrap();
        idx.add(2, file("daft punk live.mp3", 7)).unwrap();
        let hits = idx.search(&Query::parse("PUNK daft"), 100, |_, _| true);
        assert_eq!(
            names(&hits),
            [
                (1, "Daft Punk - One More Time.mp3"),
                (2, "daft punk live.mp3")
            ]
        );
        assert!(idx
            .search(&Query::parse("punk jazz"), 100, |_, _| true)
            .is_empty());
        assert!(idx.search(&Query::parse(""), 100, |_, _| true).is_empty());
        assert_eq!(idx.search(&Query::parse("punk"), 2, |_, _| true).len(), 2);
        let only_b = idx.search(&Query::parse("punk"), 100, |u, _| u == 2);
        assert_eq!(only_b.len(), 2);
        assert_eq!(idx.total_bytes(), 18);
    }

    #[test]
    fn removing_a_user_removes_all_its_postings() {
        let mut idx = Index::new(limits(10));
        idx.add(1, file("alpha beta.mp3", 1)).unwrap();
        idx.add(1, file("gamma.mp3", 1)).unwrap();
        idx.add(2, file("alpha.mp3", 1)).unwrap();
        assert_eq!(idx.remove_user(1), 2);
        assert_eq!(idx.len(), 1);
        assert_eq!(idx.files_of(1), 0);
        // Only "alpha" and "mp3" remain as words: beta and gamma left with user 1.
        assert_eq!(idx.word_count(), 2);
        let hits = idx.search(&Query::parse("alpha"), 100, |_, _| true);
        assert_eq!(names(&hits), [(2, "alpha.mp3")]);
        assert_eq!(idx.remove_user(1), 0);
    }

    #[test]
    fn single_files_come_and_go_by_normalised_name() {
        let mut idx = Index::new(limits(2));
        idx.add(1, file("One  Song.mp3", 1)).unwrap();
        assert_eq!(
            idx.add(1, file("one song.MP3", 1)),
            Err(IndexError::Duplicate("one song.MP3".into()))
        );
        idx.add(1, file("two.mp3", 1)).unwrap();
        assert_eq!(
            idx.add(1, file("three.mp3", 1)),
            Err(IndexError::TooManyFiles(2))
        );
        assert!(idx.lookup(1, "one song.mp3").is_some());
        assert!(idx.lookup(2, "one song.mp3").is_none());
        assert!(idx.remove(1, "ONE SONG.mp3"));
        assert!(!idx.remove(1, "ONE SONG.mp3"));
        assert!(idx
            .search(&Query::parse("song"), 10, |_, _| true)
            .is_empty());
    }

    #[test]
    fn the_limits_in_all_hold_across_users_and_free_up_as_files_go() {
        let mut idx = Index::new(Limits {
            files_per_user: 10,
            files: 2,
            bytes: 100,
        });
        idx.add(1, file("one.mp3", 60)).unwrap();
        assert_eq!(
            idx.add(2, file("big.mp3", 41)),
            Err(IndexError::TooManyBytes(100))
        );
        idx.add(2, file("two.mp3", 40)).unwrap();
        assert_eq!(idx.add(3, file("three.mp3", 0)), Err(IndexError::Full(2)));
        assert_eq!(idx.total_bytes(), 100);
        assert_eq!(idx.remove_user(1), 1);
        idx.add(3, file("three.mp3", 60)).unwrap();
        assert_eq!(idx.total_bytes(), 100);
    }

    fn hashed(name: &str, md5: &str, size: u64) -> FileInfo {
        FileInfo {
            md5: md5.into(),
            ..file(name, size)
        }
    }

    const MD5: &str = "b92870e0d41bc8e698cf2f0a1ddfeac7";

    #[test]
    fn files_are_found_by_md5_and_size_and_leave_the_map_with_their_user() {
        let mut idx = Index::new(limits(10));
        idx.add(1, hashed("a.mp3", MD5, 5)).unwrap();
        idx.add(2, hashed("b.mp3", &MD5.to_uppercase(), 5)).unwrap();
        idx.add(2, hashed("c.mp3", MD5, 6)).unwrap();
        idx.add(3, hashed("d.mp3", "not an md5", 5)).unwrap();
        idx.add(3, hashed("e.mp3", crate::NO_MD5, 5)).unwrap();
        assert_eq!(
            names(&idx.with_hash(MD5, 5, 100)),
            [(1, "a.mp3"), (2, "b.mp3")]
        );
        assert_eq!(names(&idx.with_hash(MD5, 5, 1)), [(1, "a.mp3")]);
        assert_eq!(names(&idx.with_hash(MD5, 6, 100)), [(2, "c.mp3")]);
        assert!(idx.with_hash("not an md5", 5, 100).is_empty());
        assert!(idx.with_hash(crate::NO_MD5, 5, 100).is_empty());
        assert!(idx.with_hash(&format!("+{}", &MD5[1..]), 5, 100).is_empty());
        assert_eq!(idx.remove_user(1), 1);
        assert!(idx.remove(2, "c.mp3"));
        assert_eq!(names(&idx.with_hash(MD5, 5, 100)), [(2, "b.mp3")]);
        assert!(idx.with_hash(MD5, 6, 100).is_empty());
        assert_eq!(idx.by_hash.len(), 1, "emptied keys are gone");
    }

    #[test]
    fn sizes_near_2_to_the_64_are_refused_rather_than_wrapped() {
        let mut idx = Index::new(limits(10));
        idx.add(1, file("huge.mp3", u64::MAX - 1)).unwrap();
        idx.add(1, file("small.mp3", 1)).unwrap();
        assert_eq!(
            idx.add(1, file("one more.mp3", 1)),
            Err(IndexError::TooManyBytes(u64::MAX))
        );
        assert_eq!(idx.total_bytes(), u64::MAX);
        assert!(idx.remove(1, "huge.mp3"));
        assert_eq!(idx.total_bytes(), 1);
    }
}
