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

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::Hash;

use p2plab_peer_protocol::keywords::{normalize_name, words};
use p2plab_peer_protocol::Query;

use crate::message::FileInfo;

/// Names one indexed file; ids are never reused.
pub type FileId = u64;

/// Why a file was not added.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IndexError {
    /// The user already shares as many files as allowed.
    #[error("already sharing the maximum of {0} files")]
    TooManyFiles(usize),
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
    max_per_user: usize,
    next_id: FileId,
    total_bytes: u64,
}

impl<U: Copy + Eq + Hash> Index<U> {
    /// An empty index that holds at most `max_per_user` files per user.
    pub fn new(max_per_user: usize) -> Self {
        Index {
            files: HashMap::new(),
            postings: HashMap::new(),
            by_user: HashMap::new(),
            max_per_user,
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
    /// [`IndexError::TooManyFiles`] past the per-user bound; [`IndexError::Duplicate`] if
    /// the user already shares a file of that (normalised) name.
    pub fn add(&mut self, user: U, info: FileInfo) -> Result<FileId, IndexError> {
        let key = normalize_name(&info.name);
        let mine = self.by_user.entry(user).or_default();
        if mine.contains_key(&key) {
            return Err(IndexError::Duplicate(info.name));
        }
        if mine.len() >= self.max_per_user {
            return Err(IndexError::TooManyFiles(self.max_per_user));
        }
        let id = self.next_id;
        self.next_id += 1;
        mine.insert(key, id);
        let name_words = words(&info.name);
        for w in &name_words {
            self.postings.entry(w.clone()).or_default().insert(id);
        }
        self.total_bytes += info.size;
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

    /// The file `user` shares under `name` (compared normalised).
    pub fn lookup(&self, user: U, name: &str) -> Option<&FileInfo> {
        let id = self.by_user.get(&user)?.get(&normalize_name(name))?;
        self.files.get(id).map(|e| &e.info)
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
        self.total_bytes -= entry.info.size;
        for w in &entry.words {
            if let Some(list) = self.postings.get_mut(w) {
                list.remove(&id);
                if list.is_empty() {
                    self.postings.remove(w);
                }
            }
        }
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

    fn names<'a>(hits: &[(u32, &'a FileInfo)]) -> Vec<(u32, &'a str)> {
        hits.iter().map(|(u, f)| (*u, f.name.as_str())).collect()
    }

    #[test]
    fn finds_files_with_every_word_in_sharing_order() {
        let mut idx = Index::new(10);
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
        let mut idx = Index::new(10);
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
        let mut idx = Index::new(2);
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
}
