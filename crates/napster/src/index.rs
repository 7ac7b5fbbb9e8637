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
//! - Ids grow, so a posting list is a sorted vector that a new file only appends to, and
//!   results come in sharing order: the same network gives the same answers. Most words of
//!   real file names are rare (a track number, a title word), so a list of one id is kept
//!   without a vector ([`Postings::One`]).
//! - The index is the server's memory (everything else is per user), so a file costs its
//!   record and a few words of ids, nothing more (`tests/index_memory.rs` counts it):
//!   - the words of a name are not stored but read again from the name when it leaves;
//!   - the two side maps hold only file ids, in [`HashTable`]s that hash the id's file: by
//!     user and normalised name (a user shares a name once; a peer removes a file by name),
//!     and by md5 and size (a resume request, 215). A file with a real md5 (32 hex digits,
//!     not all `0`) is in the second; one shared with [`NO_MD5`](crate::NO_MD5), or with
//!     anything that is not an md5, says nothing about its content and is not.
//!   - Each user's files are an ordered set, by their names' first eight bytes, so a user
//!     who leaves is removed at once (each posting list it touched scanned once), and a
//!     browse reads the first files in name order without sorting them all.
//! - The side maps hash names that come off the network, with std's randomly keyed SipHash
//!   ([`RandomState`]): a client cannot choose names that collide.

use std::collections::{BTreeSet, HashMap};
use std::hash::{BuildHasher, Hash, RandomState};

use hashbrown::HashTable;
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
}

/// The files whose names hold one word, in sharing order.
#[derive(Debug, Clone)]
enum Postings {
    /// The one file with this word: most words are this rare.
    One(FileId),
    /// Two files or more, ids ascending.
    Many(Vec<FileId>),
}

impl Postings {
    fn len(&self) -> usize {
        match self {
            Postings::One(_) => 1,
            Postings::Many(ids) => ids.len(),
        }
    }

    fn ids(&self) -> &[FileId] {
        match self {
            Postings::One(id) => std::slice::from_ref(id),
            Postings::Many(ids) => ids,
        }
    }

    fn contains(&self, id: FileId) -> bool {
        self.ids().binary_search(&id).is_ok()
    }

    /// Adds `id`, newer than every id in the list.
    fn push(&mut self, id: FileId) {
        match self {
            Postings::One(first) => *self = Postings::Many(vec![*first, id]),
            Postings::Many(ids) => ids.push(id),
        }
    }

    /// Keeps the ids `keep` says; returns whether any is left.
    fn retain(&mut self, mut keep: impl FnMut(FileId) -> bool) -> bool {
        match self {
            Postings::One(id) => keep(*id),
            Postings::Many(ids) => {
                ids.retain(|&id| keep(id));
                match ids[..] {
                    [] => false,
                    [only] => {
                        *self = Postings::One(only);
                        true
                    }
                    _ => true,
                }
            }
        }
    }
}

/// The inverted index, generic over how users are named (the server uses connection ids).
#[derive(Debug, Clone)]
pub struct Index<U> {
    files: HashMap<FileId, Entry<U>>,
    postings: HashMap<Box<str>, Postings>,
    /// Each user's files, in the order of their normalised names' first eight bytes
    /// ([`name_prefix`]), then of their ids: a browse reads them in name order without
    /// sorting them all.
    by_user: HashMap<U, BTreeSet<(u64, FileId)>>,
    /// Every file, found by its user and normalised name.
    by_name: HashTable<FileId>,
    /// The files with a real md5, found by md5 and size: what a resume request asks for.
    by_hash: HashTable<FileId>,
    /// Keys the hashes of the two side maps.
    hasher: RandomState,
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
            by_name: HashTable::new(),
            by_hash: HashTable::new(),
            hasher: RandomState::new(),
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
        self.by_user.get(&user).map_or(0, BTreeSet::len)
    }

    /// Indexes a file shared by `user`.
    ///
    /// # Errors
    /// [`IndexError::Duplicate`] if the user already shares a file of that (normalised)
    /// name; [`IndexError::TooManyFiles`], [`IndexError::Full`] or
    /// [`IndexError::TooManyBytes`] past the [`Limits`].
    pub fn add(&mut self, user: U, info: FileInfo) -> Result<FileId, IndexError> {
        let key = normalize_name(&info.name);
        let name_hash = name_hash(&self.hasher, &user, &key);
        let total_bytes = self.room_for(user, &key, name_hash, &info)?;
        let id = self.next_id;
        self.next_id += 1;
        self.by_user
            .entry(user)
            .or_default()
            .insert((name_prefix(&key), id));
        for w in words(&info.name) {
            match self.postings.get_mut(w.as_str()) {
                Some(list) => list.push(id),
                None => {
                    self.postings.insert(w.into_boxed_str(), Postings::One(id));
                }
            }
        }
        let md5_hash = md5_value(&info.md5).map(|md5| md5_hash(&self.hasher, md5, info.size));
        self.total_bytes = total_bytes;
        self.files.insert(id, Entry { user, info });
        let (files, hasher) = (&self.files, &self.hasher);
        self.by_name
            .insert_unique(name_hash, id, |id| name_hash_of(hasher, &files[id]));
        if let Some(hash) = md5_hash {
            self.by_hash.insert_unique(hash, id, |id| {
                md5_hash_of(hasher, &files[id]).unwrap_or_default()
            });
        }
        Ok(id)
    }

    /// Checks that `user` may add a file of normalised name `key` (hashed `name_hash`);
    /// returns the byte total with it.
    fn room_for(
        &self,
        user: U,
        key: &str,
        name_hash: u64,
        info: &FileInfo,
    ) -> Result<u64, IndexError> {
        if self.find_by_name(user, key, name_hash).is_some() {
            return Err(IndexError::Duplicate(info.name.clone()));
        }
        if self.files_of(user) >= self.limits.files_per_user {
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

    /// The id of the file `user` shares under the normalised name `key`.
    fn find_by_name(&self, user: U, key: &str, name_hash: u64) -> Option<FileId> {
        self.by_name
            .find(name_hash, |id| self.is_named(*id, user, key))
            .copied()
    }

    /// True when file `id` is `user`'s and its normalised name is `key`.
    fn is_named(&self, id: FileId, user: U, key: &str) -> bool {
        self.files
            .get(&id)
            .is_some_and(|e| e.user == user && normalize_name(&e.info.name) == key)
    }

    /// The file `user` shares under `name` (compared normalised).
    pub fn lookup(&self, user: U, name: &str) -> Option<&FileInfo> {
        let key = normalize_name(name);
        let id = self.find_by_name(user, &key, name_hash(&self.hasher, &user, &key))?;
        self.files.get(&id).map(|e| &e.info)
    }

    /// The first `limit` files `user` shares, in the order of their normalised names (a
    /// browse's order: the same on every run). The user's files are kept in the order of
    /// their names' first eight bytes, so only files whose names begin alike are sorted
    /// here, and the work is about `limit` files however many the user shares.
    pub fn files_by(&self, user: U, limit: usize) -> Vec<&FileInfo> {
        let mut out: Vec<&FileInfo> = Vec::new();
        let mut alike: Vec<&FileInfo> = Vec::new();
        let mut prefix = None;
        for &(p, id) in self.by_user.get(&user).into_iter().flatten() {
            if prefix != Some(p) {
                if out.len() >= limit {
                    break;
                }
                alike.sort_by_cached_key(|info| normalize_name(&info.name));
                out.append(&mut alike);
                prefix = Some(p);
            }
            if let Some(e) = self.files.get(&id) {
                alike.push(&e.info);
            }
        }
        alike.sort_by_cached_key(|info| normalize_name(&info.name));
        out.append(&mut alike);
        out.truncate(limit);
        out
    }

    /// Stops indexing `user`'s file `name`. Returns whether it was there.
    pub fn remove(&mut self, user: U, name: &str) -> bool {
        let key = normalize_name(name);
        let Some(id) = self.find_by_name(user, &key, name_hash(&self.hasher, &user, &key)) else {
            return false;
        };
        if let Some(mine) = self.by_user.get_mut(&user) {
            mine.remove(&(name_prefix(&key), id));
            if mine.is_empty() {
                self.by_user.remove(&user);
            }
        }
        self.drop_files(&[id]);
        true
    }

    /// Removes every file of `user` at once; returns how many there were.
    pub fn remove_user(&mut self, user: U) -> usize {
        let Some(mine) = self.by_user.remove(&user) else {
            return 0;
        };
        let mut ids: Vec<FileId> = mine.into_iter().map(|(_, id)| id).collect();
        ids.sort_unstable();
        self.drop_files(&ids);
        ids.len()
    }

    /// Takes the files `ids` (ascending) out of the posting lists, the side maps and the
    /// byte total. Each posting list they touch is scanned once, however many of them it
    /// holds: a user of 10,000 files leaving costs the lists' lengths, not 10,000 times.
    fn drop_files(&mut self, ids: &[FileId]) {
        let leaving = |id: FileId| ids.binary_search(&id).is_ok();
        let mut touched: Vec<String> = Vec::new();
        for id in ids {
            let Some(entry) = self.files.get(id) else {
                continue;
            };
            touched.extend(words(&entry.info.name));
            let hash = name_hash_of(&self.hasher, entry);
            if let Ok(found) = self.by_name.find_entry(hash, |other| other == id) {
                found.remove();
            }
            if let Some(hash) = md5_hash_of(&self.hasher, entry) {
                if let Ok(found) = self.by_hash.find_entry(hash, |other| other == id) {
                    found.remove();
                }
            }
        }
        touched.sort_unstable();
        touched.dedup();
        for w in touched {
            if let Some(list) = self.postings.get_mut(w.as_str()) {
                if !list.retain(|id| !leaving(id)) {
                    self.postings.remove(w.as_str());
                }
            }
        }
        for id in ids {
            if let Some(entry) = self.files.remove(id) {
                // The size was added when the file was; saturating only documents that it
                // cannot go below zero.
                self.total_bytes = self.total_bytes.saturating_sub(entry.info.size);
            }
        }
    }

    /// Up to `limit` files whose md5 is `md5` (in either case) and whose size is `size`,
    /// in sharing order, with who shares them: the matches of a resume request. An md5
    /// that is not 32 hex digits, or is all `0`s, finds nothing.
    pub fn with_hash(&self, md5: &str, size: u64, limit: usize) -> Vec<(U, &FileInfo)> {
        let Some(value) = md5_value(md5) else {
            return Vec::new();
        };
        let mut same: Vec<FileId> = self
            .by_hash
            .iter_hash(md5_hash(&self.hasher, value, size))
            .copied()
            .filter(|id| {
                self.files
                    .get(id)
                    .is_some_and(|e| e.info.size == size && md5_value(&e.info.md5) == Some(value))
            })
            .collect();
        same.sort_unstable();
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
            match self.postings.get(w.as_str()) {
                Some(list) => lists.push(list),
                None => return Vec::new(),
            }
        }
        lists.sort_by_key(|list| list.len());
        let Some((rarest, others)) = lists.split_first() else {
            return Vec::new();
        };
        rarest
            .ids()
            .iter()
            .filter(|id| others.iter().all(|list| list.contains(**id)))
            .filter_map(|id| self.files.get(id))
            .filter(|e| admit(e.user, &e.info))
            .take(limit)
            .map(|e| (e.user, &e.info))
            .collect()
    }
}

/// The first eight bytes of a normalised name, as a number that orders as the bytes do
/// (shorter names padded with zeros): names in this order are in name order, except among
/// names that begin with the same eight bytes.
fn name_prefix(key: &str) -> u64 {
    let mut bytes = [0u8; 8];
    let n = key.len().min(8);
    bytes[..n].copy_from_slice(&key.as_bytes()[..n]);
    u64::from_be_bytes(bytes)
}

/// Where the by-name side map files `user`'s file of normalised name `key`.
fn name_hash<U: Hash>(hasher: &RandomState, user: &U, key: &str) -> u64 {
    hasher.hash_one((user, key))
}

/// Where the by-name side map files an indexed file.
fn name_hash_of<U: Hash>(hasher: &RandomState, entry: &Entry<U>) -> u64 {
    name_hash(hasher, &entry.user, &normalize_name(&entry.info.name))
}

/// Where the by-md5 side map files a file of md5 value `md5` and `size` bytes.
fn md5_hash(hasher: &RandomState, md5: u128, size: u64) -> u64 {
    hasher.hash_one((md5, size))
}

/// Where the by-md5 side map files an indexed file; `None` when it has no real md5 and is
/// not in that map.
fn md5_hash_of<U>(hasher: &RandomState, entry: &Entry<U>) -> Option<u64> {
    md5_value(&entry.info.md5).map(|md5| md5_hash(hasher, md5, entry.info.size))
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
    #[test]
    fn a_browse_is_in_name_order_even_where_names_begin_alike_and_stops_at_its_limit() {
        let mut idx = Index::new(limits(10));
        for name in [
            "zz top.mp3",
            "Same prefix b.mp3",
            "same",
            "same prefix a.mp3",
            "SAME  PREFIX c.mp3",
            "a.mp3",
        ] {
            idx.add(1, file(name, 1)).unwrap();
        }
        idx.add(2, file("other.mp3", 1)).unwrap();
        let all: Vec<&str> = idx
            .files_by(1, 100)
            .iter()
            .map(|f| f.name.as_str())
            .collect();
        assert_eq!(
            all,
            [
                "a.mp3",
                "same",
                "same prefix a.mp3",
                "Same prefix b.mp3",
                "SAME  PREFIX c.mp3",
                "zz top.mp3"
            ]
        );
        let first: Vec<&str> = idx.files_by(1, 3).iter().map(|f| f.name.as_str()).collect();
        assert_eq!(first, ["a.mp3", "same", "same prefix a.mp3"]);
        assert!(idx.files_by(3, 100).is_empty());
        assert!(idx.remove(1, "same prefix a.mp3"));
        assert_eq!(idx.files_by(1, 2)[1].name, "same");
        assert_eq!(idx.files_by(1, 3)[2].name, "Same prefix b.mp3");
    }

    /// One step of the model test: user `0..3` adds, removes or leaves, with a name made of
    /// words of a 4-word vocabulary (so names collide, lists grow and shrink).
    #[derive(Debug, Clone)]
    enum Step {
        Add(u32, Vec<u8>),
        Remove(u32, Vec<u8>),
        Leave(u32),
    }

    fn name_of(words: &[u8]) -> String {
        let mut name: Vec<String> = words.iter().map(|w| format!("w{w}")).collect();
        name.push("mp3".into());
        name.join(" ")
    }

    fn step() -> impl proptest::strategy::Strategy<Value = Step> {
        use proptest::prelude::*;
        let name = proptest::collection::vec(0u8..4, 1..4);
        prop_oneof![
            6 => (0u32..3, name.clone()).prop_map(|(u, n)| Step::Add(u, n)),
            3 => (0u32..3, name).prop_map(|(u, n)| Step::Remove(u, n)),
            1 => (0u32..3).prop_map(Step::Leave),
        ]
    }

    proptest::proptest! {
        /// After any sequence of adds and removals, every one-word and two-word search
        /// answers exactly what a scan of the files still shared answers, in sharing order.
        #[test]
        fn searches_answer_what_a_scan_of_the_shared_files_does(
            steps in proptest::collection::vec(step(), 1..60)
        ) {
            let mut idx = Index::new(limits(usize::MAX));
            // The model: (id order, user, normalised name) of the files shared now.
            let mut model: Vec<(u32, String)> = Vec::new();
            for s in steps {
                match s {
                    Step::Add(u, n) => {
                        let name = name_of(&n);
                        let dup = model.iter().any(|(mu, mn)| *mu == u && *mn == name);
                        proptest::prop_assert_eq!(idx.add(u, file(&name, 1)).is_ok(), !dup);
                        if !dup {
                            model.push((u, name));
                        }
                    }
                    Step::Remove(u, n) => {
                        let name = name_of(&n);
                        let at = model.iter().position(|(mu, mn)| *mu == u && *mn == name);
                        proptest::prop_assert_eq!(idx.remove(u, &name), at.is_some());
                        if let Some(at) = at {
                            model.remove(at);
                        }
                    }
                    Step::Leave(u) => {
                        let mine = model.iter().filter(|(mu, _)| *mu == u).count();
                        proptest::prop_assert_eq!(idx.remove_user(u), mine);
                        model.retain(|(mu, _)| *mu != u);
                    }
                }
            }
            proptest::prop_assert_eq!(idx.len(), model.len());
            for query in ["w0", "w1", "w2", "w3", "w0 w1", "w2 w3", "mp3", "w1 mp3"] {
                let q = Query::parse(query);
                let want: Vec<(u32, &str)> = model
                    .iter()
                    .filter(|(_, n)| q.words().iter().all(|w| words(n).contains(w)))
                    .map(|(u, n)| (*u, n.as_str()))
                    .collect();
                let hits = idx.search(&q, usize::MAX, |_, _| true);
                proptest::prop_assert_eq!(names(&hits), want);
            }
        }
    }
}
