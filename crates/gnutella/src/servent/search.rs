//! Searching: starting a Query, answering others' Queries, collecting QueryHits.
//!
//! A search sends one Query (minimum speed 0, the query text as criteria) to every neighbour
//! and then waits `search_window`: QueryHits trickle back from servents at different
//! distances, and there is no way to know when the last has come. An ultrapeer searches
//! dynamically instead (`dynamic.rs`): its matching leaves and a probe first, then one link
//! more per step, and the search reports when the dynamic query stops. Hits are reported together
//! when the window closes, one per (holder address, file index), each stamped with when it
//! arrived ([`Hit::arrived`]): the first and the last of them tell how the answer grew
//! inside the window, which the window's own length does not.
//!
//! A QueryHit that comes after its search closed is *late*: not returned (the answer is out),
//! but counted against the search it answered, for the last [`MAX_CLOSED_SEARCHES`] searches
//! ([`Servent::late_hits`]), so that a "not found" the window caused can be told from one the
//! flood caused.
//!
//! Answering uses the shared keyword matcher, so Gnutella finds exactly what Napster's index
//! and Chord's keyword entries find. Matches are packed into as few QueryHits as
//! [`MAX_HITS_PER_QUERYHIT`] and [`MAX_PAYLOAD`] allow. Each result names its file by HUGE's
//! `urn:sha1:` in the record's extension block, and each QueryHit ends with p2plab's
//! [`VendorTrailer`]: servents that check hits drop those without them as spam.

use std::collections::VecDeque;
use std::net::SocketAddr;

use p2plab_peer_protocol::keywords;
use p2plab_peer_protocol::{
    ConnId, Download, Event, Hit, Holder, Instant, Outbox, RequestId, SearchError, SharedFile,
};

use super::dynamic::{Searcher, MAX_LIFETIME_HOPS};
use super::Servent;
use crate::config::Role;
use crate::descriptor::{Descriptor, Payload};
use crate::guid::Guid;
use crate::header::PayloadType;
use crate::message::query_status::STOP;
use crate::message::{HitRecord, Query, QueryHit, QueryStatus, VendorTrailer};
use crate::routing::Seen;
use crate::{MAX_CLOSED_SEARCHES, MAX_HITS_PER_QUERYHIT, MAX_HITS_PER_SEARCH, MAX_PAYLOAD};

/// One of our searches, collecting hits.
#[derive(Debug)]
pub(super) struct Search {
    request: RequestId,
    /// The query's text, kept to name the search once it has closed.
    text: String,
    started: Instant,
    pub(super) deadline: Instant,
    hits: Vec<Hit>,
    /// When the first QueryHit came, and the links it crossed: the lookup's latency and path
    /// length.
    first: Option<(Instant, u32)>,
    /// As a leaf: the ultrapeers it went to that read Query Status Responses, how many
    /// neighbours it went to in all, and the share last reported to them.
    status: LeafStatus,
}

/// What a leaf's search tells the ultrapeers that query for it dynamically (`dynamic.rs`).
#[derive(Debug, Default)]
struct LeafStatus {
    readers: Vec<ConnId>,
    searched_via: usize,
    reported: u16,
}

/// A search whose window has closed, and the QueryHits that came for it since.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LateHits {
    /// The query's text.
    pub query: String,
    /// QueryHits that arrived after the window closed.
    pub hits: u32,
    /// The search's Query descriptor ID, which the QueryHits answer.
    guid: Guid,
}

impl LateHits {
    /// The search's Query descriptor ID: the flood's name wherever it went, so a
    /// servent's [`Servent::shadowed`] floods can be matched to this search.
    pub fn guid(&self) -> Guid {
        self.guid
    }
}

/// The searches that closed lately, newest last, at most [`MAX_CLOSED_SEARCHES`].
#[derive(Debug, Default)]
pub(super) struct Closed(VecDeque<LateHits>);

impl Closed {
    fn close(&mut self, guid: Guid, query: String) {
        if self.0.len() >= MAX_CLOSED_SEARCHES {
            self.0.pop_front();
        }
        self.0.push_back(LateHits {
            query,
            hits: 0,
            guid,
        });
    }

    /// Counts a late QueryHit; false if it answers no search we remember.
    fn late(&mut self, guid: Guid) -> bool {
        let search = self.0.iter_mut().rev().find(|c| c.guid == guid);
        search.map(|c| c.hits = c.hits.saturating_add(1)).is_some()
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = &LateHits> {
        self.0.iter()
    }
}

/// Where to download a hit from: Gnutella hits carry the address already.
pub(super) fn locate(hit: Hit) -> Result<Download, SearchError> {
    hit.http_download()
        .map_err(|_| SearchError::Refused("not a gnutella hit".into()))
}

impl Servent {
    pub(super) fn start_search(
        &mut self,
        now: Instant,
        request: RequestId,
        text: &str,
        out: &mut Outbox,
    ) {
        let open = self.open_conns();
        if open.is_empty() {
            let why = SearchError::NotConnected("no gnutella neighbours".into());
            out.report(Event::SearchDone {
                request,
                result: Err(why),
            });
            return;
        }
        let ultrapeer = self.config.role == Role::Ultrapeer;
        if ultrapeer && !self.dynamic_has_room() {
            let why = SearchError::NotReady("too many searches under way".into());
            out.report(Event::SearchDone {
                request,
                result: Err(why),
            });
            return;
        }
        let guid = Guid::random(&mut self.rng);
        self.routes
            .put(now, (PayloadType::Query.code(), guid), Seen::local());
        let query = Query::new(text);
        let d = Descriptor::new(guid, self.config.ttl, Payload::Query(query.clone()));
        // An ultrapeer's search lasts as long as its dynamic query, which reports it; the
        // deadline is only the backstop of the query's lifetime.
        let window = if ultrapeer {
            self.config.hop_wait * MAX_LIFETIME_HOPS
        } else {
            self.config.search_window
        };
        let status = LeafStatus {
            readers: self.status_readers(),
            searched_via: open.len(),
            reported: 0,
        };
        self.searches.insert(
            guid,
            Search {
                request,
                text: text.to_owned(),
                started: now,
                deadline: now + window,
                hits: Vec::new(),
                first: None,
                status,
            },
        );
        if ultrapeer {
            self.start_dynamic(now, Searcher::Own, &d, &query, 0, out);
        } else {
            for conn in open {
                self.send(conn, &d, out);
            }
        }
    }

    /// Answers a Query from our library, back on the connection it came from; how many
    /// results it sent.
    pub(super) fn answer_query(
        &mut self,
        from: ConnId,
        d: &Descriptor,
        query: &Query,
        out: &mut Outbox,
    ) -> usize {
        if !query.speed.admits(self.config.speed_kbps) {
            return 0;
        }
        let wanted = keywords::Query::parse(&query.text());
        let records: Vec<HitRecord> = self
            .config
            .library
            .search(&wanted)
            .filter_map(record_for)
            .collect();
        let ttl = self.reply_ttl(d);
        let answered = records.len();
        for results in pack(records) {
            let hit = self.own_query_hit(results);
            let reply = Descriptor::new(d.guid, ttl, Payload::QueryHit(hit));
            self.send(from, &reply, out);
        }
        answered
    }

    fn own_query_hit(&self, results: Vec<HitRecord>) -> QueryHit {
        let (ip, port) = self.advertised_v4();
        let trailer = VendorTrailer {
            push_needed: port == 0,
        };
        QueryHit {
            port,
            ip,
            speed: self.config.speed_kbps,
            results,
            trailer: trailer.to_bytes().to_vec(),
            servent_id: self.servent_id,
        }
    }

    /// Adds a QueryHit's results to the search it answers, and counts the new ones kept:
    /// towards an ultrapeer's dynamic query, or, as a leaf, in the status it reports to the
    /// ultrapeers querying for it.
    pub(super) fn collect_hits(
        &mut self,
        now: Instant,
        d: &Descriptor,
        qh: &QueryHit,
        out: &mut Outbox,
    ) {
        let Some(search) = self.searches.get_mut(&d.guid) else {
            self.closed.late(d.guid);
            self.metrics.record_drop("late");
            return;
        };
        let links = d.links_crossed();
        search.first.get_or_insert((now, links));
        let addr = SocketAddr::from((qh.ip, qh.port));
        let arrived = now.saturating_since(search.started);
        let mut kept = 0;
        for record in &qh.results {
            let hit = Hit {
                name: record.name_text().into_owned(),
                size: u64::from(record.size),
                holder: Holder::Http {
                    addr,
                    index: record.index,
                },
                hops: Some(links),
                arrived: Some(arrived),
            };
            let known = search.hits.iter().any(|h| h.holder == hit.holder);
            if !known && search.hits.len() < MAX_HITS_PER_SEARCH {
                search.hits.push(hit);
                kept += 1;
            }
        }
        let share = QueryStatus::share(search.hits.len(), search.status.searched_via);
        let tell = !search.status.readers.is_empty() && share.kept > search.status.reported;
        if tell {
            search.status.reported = share.kept;
        }
        let readers = if tell {
            search.status.readers.clone()
        } else {
            Vec::new()
        };
        self.count_own_results(d.guid, kept);
        self.send_status(d.guid, share, &readers, out);
    }

    /// Reports a search's hits and records it as a lookup; as a leaf, tells the ultrapeers
    /// querying for it to stop.
    pub(super) fn finish_search(&mut self, guid: Guid, out: &mut Outbox) {
        let Some(search) = self.searches.remove(&guid) else {
            return;
        };
        let stop = QueryStatus { kept: STOP };
        self.send_status(guid, stop, &search.status.readers, out);
        self.closed.close(guid, search.text);
        if let Some((at, hops)) = search.first {
            self.metrics
                .record_lookup(hops, at.saturating_since(search.started));
        }
        out.report(Event::SearchDone {
            request: search.request,
            result: Ok(search.hits),
        });
    }
}

/// The fixed bytes of one of our QueryHits: its header fields, trailer and servent ID.
const OWN_HIT_OVERHEAD: usize = QueryHit::MIN_LEN + VendorTrailer::LEN;

/// The record answering for `file` — `urn:sha1:` in its extension block — unless it cannot be
/// carried: its size must fit the 32-bit field and the record must fit a QueryHit on its own.
fn record_for(file: &SharedFile) -> Option<HitRecord> {
    let size = u32::try_from(file.size).ok()?;
    let mut record = HitRecord::new(file.index, size, &file.name);
    record.extra = file
        .meta
        .urn_sha1()
        .map(String::into_bytes)
        .unwrap_or_default();
    (OWN_HIT_OVERHEAD + record.len() <= MAX_PAYLOAD).then_some(record)
}

/// Splits records into QueryHit-sized groups: at most [`MAX_HITS_PER_QUERYHIT`] records and
/// [`MAX_PAYLOAD`] bytes each.
fn pack(records: Vec<HitRecord>) -> Vec<Vec<HitRecord>> {
    let mut groups: Vec<Vec<HitRecord>> = Vec::new();
    let mut len = OWN_HIT_OVERHEAD;
    for record in records {
        let full = groups
            .last()
            .is_none_or(|g| g.len() >= MAX_HITS_PER_QUERYHIT || len + record.len() > MAX_PAYLOAD);
        if full {
            groups.push(Vec::new());
            len = OWN_HIT_OVERHEAD;
        }
        len += record.len();
        if let Some(group) = groups.last_mut() {
            group.push(record);
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A library holding `abc.txt` (the bytes "abc"), from a real folder.
    fn abc_library() -> p2plab_peer_protocol::Library {
        let dir = tempfile::tempdir().expect("a temporary folder");
        std::fs::write(dir.path().join("abc.txt"), b"abc").expect("written");
        p2plab_peer_protocol::Library::from_dir(dir.path()).expect("listed")
    }

    #[test]
    fn our_query_hit_with_one_result_byte_by_byte() {
        let library = abc_library();
        let record = record_for(&library.files()[0]).unwrap();
        let hit = QueryHit {
            port: 6346,
            ip: std::net::Ipv4Addr::new(10, 0, 0, 1),
            speed: 1000,
            results: vec![record],
            trailer: VendorTrailer { push_needed: false }.to_bytes().to_vec(),
            servent_id: Guid([0x5A; 16]),
        };
        let mut want = vec![1, 0xCA, 0x18, 10, 0, 0, 1, 0xE8, 0x03, 0, 0]; // 1 hit, port, IP, speed
        want.extend_from_slice(&[0, 0, 0, 0, 3, 0, 0, 0]); // index 0, size 3
        want.extend_from_slice(b"abc.txt\0urn:sha1:VGMT4NSHA2AWVOR6EVYXQUGCNSONBWE5\0");
        want.extend_from_slice(b"PLAB\x02\x10\x01"); // QHD: vendor, open data size, flags
        want.extend_from_slice(&[0x5A; 16]); // servent id
        let mut bytes = Vec::new();
        hit.encode(&mut bytes);
        assert_eq!(bytes, want);
        assert_eq!(hit.len(), want.len());
        assert_eq!(
            QueryHit::decode(&bytes).unwrap(),
            hit,
            "reads its own hit back"
        );
    }

    #[test]
    fn packing_respects_both_the_count_and_the_byte_limit() {
        let small: Vec<HitRecord> = (0..70).map(|i| HitRecord::new(i, 1, "a.mp3")).collect();
        let sizes: Vec<usize> = pack(small).iter().map(Vec::len).collect();
        assert_eq!(sizes, [MAX_HITS_PER_QUERYHIT, MAX_HITS_PER_QUERYHIT, 6]);
        let name = "n".repeat(250);
        let big: Vec<HitRecord> = (0..40).map(|i| HitRecord::new(i, 1, &name)).collect();
        for group in pack(big) {
            let len: usize = OWN_HIT_OVERHEAD + group.iter().map(HitRecord::len).sum::<usize>();
            assert!(len <= MAX_PAYLOAD, "{len} bytes");
        }
        assert!(pack(Vec::new()).is_empty());
    }
}
