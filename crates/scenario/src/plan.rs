//! The seeded plan of a run: which files exist, who holds them, and what is asked.
//!
//! Everything random in a run comes from here, from the scenario's seed, so every network
//! gets the same files on the same peers and the same queries in the same order.
//!
//! File names are `t<index> <adjective> <noun>`: the first word is unique to the file, so a
//! query that starts with it names exactly one file in all three networks (Chord files a
//! keyword search under the query's first word); the other two words come from small
//! vocabularies, so that keyword index entries are shared between files as real names are.

use rand::seq::index::sample;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use p2plab_peer_protocol::Library;

use p2plab_sim::graph::Graph;

use crate::spec::{FilesSpec, OverlayModel, WorkloadSpec};

const ADJECTIVES: [&str; 16] = [
    "amber", "blue", "calm", "dark", "early", "fast", "grand", "hollow", "icy", "jolly", "kind",
    "late", "mellow", "north", "odd", "pale",
];

const NOUNS: [&str; 16] = [
    "river", "song", "tide", "road", "forest", "city", "dream", "engine", "garden", "harbor",
    "island", "lantern", "meadow", "night", "ocean", "planet",
];

/// Mixed into the seed for each purpose, so that changing one draw does not shift the others.
mod stream {
    pub const FILES: u64 = 1;
    pub const QUERIES: u64 = 2;
    pub const CONTENT: u64 = 3;
    pub const VICTIMS: u64 = 4;
    pub const OVERLAY: u64 = 5;
    pub const CHURN: u64 = 6;
    pub const PARTITION: u64 = 7;
}

/// One file of the run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedFile {
    /// Its name.
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// The peers (by index) that share it.
    pub holders: Vec<usize>,
}

/// One query of the run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedQuery {
    /// The text searched for.
    pub text: String,
    /// The file it looks for, or `None` for a file that exists nowhere.
    pub file: Option<usize>,
    /// The peer (by index) that asks; the next live peer asks if it is gone.
    pub origin: usize,
    /// Whether a successful answer is downloaded and checked.
    pub download: bool,
}

/// Files and placement for a run with `peers` peers.
#[derive(Clone, Debug)]
pub struct Plan {
    /// All files, by index.
    pub files: Vec<PlannedFile>,
    /// For each peer, the indices of the files it shares.
    pub libraries: Vec<Vec<usize>>,
    seed: u64,
}

/// A seeded RNG for one purpose of one run.
pub fn rng(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

/// The name of file `index`.
pub fn file_name(index: usize) -> String {
    format!(
        "t{index:06} {} {}",
        ADJECTIVES[index % ADJECTIVES.len()],
        NOUNS[(index / ADJECTIVES.len()) % NOUNS.len()]
    )
}

impl Plan {
    /// Places `spec.count` files, `spec.copies` each, on distinct random peers.
    pub fn new(seed: u64, peers: usize, spec: &FilesSpec) -> Self {
        let mut r = rng(seed, stream::FILES);
        let mut libraries = vec![Vec::new(); peers];
        let files = (0..spec.count)
            .map(|i| {
                let size = r.random_range(spec.min_size..=spec.max_size);
                let holders = sample(&mut r, peers, spec.copies.min(peers)).into_vec();
                for &h in &holders {
                    libraries[h].push(i);
                }
                PlannedFile {
                    name: file_name(i),
                    size,
                    holders,
                }
            })
            .collect();
        Plan {
            files,
            libraries,
            seed,
        }
    }

    /// Number of peers.
    pub fn peers(&self) -> usize {
        self.libraries.len()
    }

    /// The seed synthetic contents come from: the same for every copy of a file.
    pub fn content_seed(&self) -> u64 {
        self.seed ^ stream::CONTENT
    }

    /// The names and sizes of the files peer `peer` shares (their bytes come from
    /// [`Plan::content_seed`]).
    pub fn library_files(&self, peer: usize) -> Vec<(String, u64)> {
        self.libraries[peer]
            .iter()
            .map(|&f| (self.files[f].name.clone(), self.files[f].size))
            .collect()
    }

    /// The library peer `peer` shares.
    pub fn library(&self, peer: usize) -> Library {
        Library::synthetic(self.library_files(peer), self.content_seed())
    }

    /// The exact bytes of file `index`, to check downloads against.
    ///
    /// # Errors
    /// Never for synthetic content; the I/O error type comes from the library's reader.
    pub fn content(&self, index: usize) -> std::io::Result<Vec<u8>> {
        let f = &self.files[index];
        let library = Library::synthetic([(f.name.clone(), f.size)], self.content_seed());
        library.files()[0].read_all()
    }

    /// The query sequence of phase number `phase`: the same in every network.
    pub fn queries(&self, phase: u64, count: usize, w: &WorkloadSpec) -> Vec<PlannedQuery> {
        let mut r = rng(self.seed ^ (phase << 8), stream::QUERIES);
        let zipf = Zipf::new(self.files.len(), w.zipf);
        (0..count)
            .map(|_| {
                let origin = r.random_range(0..self.peers());
                let missing = r.random_bool(w.missing_share);
                let download = r.random_bool(w.download_share);
                if missing {
                    // Indices past the last file name files that exist nowhere.
                    let ghost = self.files.len() + r.random_range(0..1_000_000);
                    PlannedQuery {
                        text: query_text(ghost),
                        file: None,
                        origin,
                        download: false,
                    }
                } else {
                    let file = zipf.sample(&mut r);
                    PlannedQuery {
                        text: query_text(file),
                        file: Some(file),
                        origin,
                        download,
                    }
                }
            })
            .collect()
    }

    /// A seeded RNG for choosing victims of phase `phase`.
    pub fn victims_rng(&self, phase: u64) -> ChaCha8Rng {
        rng(self.seed ^ (phase << 8), stream::VICTIMS)
    }

    /// A seeded RNG for the timing of phase `phase`'s churn (Poisson gaps, sessions).
    pub fn churn_rng(&self, phase: u64) -> ChaCha8Rng {
        rng(self.seed ^ (phase << 8), stream::CHURN)
    }

    /// Every peer, in `groups` seeded sides of nearly equal size, each in index order: the
    /// cut of phase `phase`, the same in every network.
    pub fn sides(&self, phase: u64, groups: usize) -> Vec<Vec<usize>> {
        let mut peers: Vec<usize> = (0..self.peers()).collect();
        peers.shuffle(&mut rng(self.seed ^ (phase << 8), stream::PARTITION));
        let groups = groups.max(1);
        (0..groups)
            .map(|g| {
                let mut side =
                    peers[g * peers.len() / groups..(g + 1) * peers.len() / groups].to_vec();
                side.sort_unstable();
                side
            })
            .collect()
    }

    /// The seeded Gnutella overlay of `model` (each servent's `degree` links, at most
    /// `max_peers` per servent), as whom each servent dials at start: its neighbours that
    /// start before it. The later ones dial it in their turn.
    pub fn overlay(&self, model: OverlayModel, degree: usize, max_peers: usize) -> Vec<Vec<usize>> {
        let seed = rng(self.seed, stream::OVERLAY).random();
        let n = self.peers();
        let graph = match model {
            OverlayModel::Random => Graph::random_capped(n, degree, max_peers, seed),
            OverlayModel::PowerLaw => Graph::barabasi_albert_capped(n, degree, max_peers, seed),
        };
        (0..n)
            .map(|i| graph.neighbours(i).range(..i).copied().collect())
            .collect()
    }
}

/// A query for file `index`: its unique first word and its adjective.
pub fn query_text(index: usize) -> String {
    let name = file_name(index);
    name.rsplit_once(' ')
        .map_or(name.clone(), |(head, _)| head.to_owned())
}

/// Zipf's law over `n` ranks by inverse transform on the cumulative weights.
struct Zipf {
    cumulative: Vec<f64>,
}

impl Zipf {
    fn new(n: usize, s: f64) -> Self {
        let mut total = 0.0;
        let cumulative = (1..=n)
            .map(|k| {
                total += 1.0 / (k as f64).powf(s);
                total
            })
            .collect();
        Zipf { cumulative }
    }

    /// A rank from 0 (the most popular).
    fn sample(&self, r: &mut impl Rng) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        let x = r.random_range(0.0..total.max(f64::MIN_POSITIVE));
        self.cumulative
            .partition_point(|&c| c <= x)
            .min(self.cumulative.len().saturating_sub(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use p2plab_peer_protocol::Query;

    fn spec() -> FilesSpec {
        FilesSpec {
            count: 200,
            copies: 3,
            min_size: 10,
            max_size: 100,
        }
    }

    fn workload() -> WorkloadSpec {
        WorkloadSpec {
            rate: 10.0,
            zipf: 1.0,
            missing_share: 0.2,
            download_share: 0.5,
            concurrency: 4,
        }
    }

    #[test]
    fn same_seed_same_plan() {
        let a = Plan::new(7, 50, &spec());
        let b = Plan::new(7, 50, &spec());
        assert_eq!(a.files, b.files);
        assert_eq!(
            a.queries(1, 100, &workload()),
            b.queries(1, 100, &workload())
        );
        assert_ne!(a.files, Plan::new(8, 50, &spec()).files);
    }

    #[test]
    fn copies_are_on_distinct_peers() {
        let plan = Plan::new(1, 10, &spec());
        for f in &plan.files {
            let mut h = f.holders.clone();
            h.sort_unstable();
            h.dedup();
            assert_eq!(h.len(), 3);
        }
        let total: usize = plan.libraries.iter().map(Vec::len).sum();
        assert_eq!(total, 600);
    }

    #[test]
    fn a_query_matches_exactly_its_file() {
        let plan = Plan::new(3, 10, &spec());
        for q in plan.queries(0, 300, &workload()) {
            let query = Query::parse(&q.text);
            let matching: Vec<usize> = (0..plan.files.len())
                .filter(|&i| query.matches(&plan.files[i].name))
                .collect();
            assert_eq!(
                matching,
                q.file.into_iter().collect::<Vec<_>>(),
                "{}",
                q.text
            );
        }
    }

    #[test]
    fn zipf_favours_low_ranks() {
        let z = Zipf::new(100, 1.2);
        let mut r = rng(5, 0);
        let draws: Vec<usize> = (0..5_000).map(|_| z.sample(&mut r)).collect();
        let top = draws.iter().filter(|&&d| d == 0).count();
        let tail = draws.iter().filter(|&&d| d == 99).count();
        assert!(top > 10 * tail.max(1), "top {top}, tail {tail}");
        assert!(draws.iter().all(|&d| d < 100));
    }

    #[test]
    fn content_is_the_same_for_every_copy() {
        let plan = Plan::new(9, 10, &spec());
        let f = &plan.files[0];
        let holder = f.holders[0];
        let lib = plan.library(holder);
        let shared = lib.by_name(&f.name).expect("the holder shares the file");
        assert_eq!(
            shared.read_all().expect("synthetic"),
            plan.content(0).expect("synthetic")
        );
    }

    #[test]
    fn a_cut_puts_every_peer_on_one_side_of_nearly_equal_sides() {
        let plan = Plan::new(4, 101, &spec());
        let sides = plan.sides(2, 3);
        assert_eq!(sides.iter().map(Vec::len).collect::<Vec<_>>(), [33, 34, 34]);
        let mut all: Vec<usize> = sides.concat();
        all.sort_unstable();
        assert_eq!(all, (0..101).collect::<Vec<_>>());
        assert_eq!(sides, plan.sides(2, 3), "the same seed cuts the same way");
        assert_ne!(sides, plan.sides(3, 3), "another phase cuts another way");
    }

    #[test]
    fn the_planned_overlay_dials_only_earlier_servents_and_respects_max_peers() {
        let plan = Plan::new(7, 1000, &spec());
        for model in [OverlayModel::Random, OverlayModel::PowerLaw] {
            let overlay = plan.overlay(model, 2, 6);
            let mut links = vec![0; 1000];
            for (i, picks) in overlay.iter().enumerate() {
                assert!(picks.iter().all(|&j| j < i), "only earlier servents");
                links[i] += picks.len();
                for &j in picks {
                    links[j] += 1;
                }
            }
            let most = links.iter().max().copied().unwrap_or(0);
            assert!(most <= 6, "{model:?}: a servent was planned {most} links");
            let least = links.iter().min().copied().unwrap_or(0);
            assert!(least >= 1, "{model:?}: a servent was planned alone");
            assert_eq!(
                overlay,
                plan.overlay(model, 2, 6),
                "the same seed, the same overlay"
            );
        }
    }
}
