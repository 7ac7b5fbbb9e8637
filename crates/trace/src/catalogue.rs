//! The files the nodes of a trace share: a small catalogue of classical pieces, each node
//! holding a few of them, chosen from the seed. With the default query "four seasons" two
//! pieces match, held by a handful of nodes — enough answers to see, few enough to follow.

use p2plab_peer_protocol::Library;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The pieces.
pub const PIECES: [&str; 16] = [
    "Bach - Goldberg Variations.mp3",
    "Beethoven - Moonlight Sonata.mp3",
    "Satie - Gymnopedie No 1.mp3",
    "Holst - The Planets - Mars.mp3",
    "Debussy - Clair de Lune.mp3",
    "Mozart - Eine kleine Nachtmusik.mp3",
    "Vivaldi - Four Seasons - Spring.mp3",
    "Vivaldi - Four Seasons - Winter.mp3",
    "Chopin - Nocturne Op 9 No 2.mp3",
    "Grieg - Morning Mood.mp3",
    "Grieg - In the Hall of the Mountain King.mp3",
    "Pachelbel - Canon in D.mp3",
    "Ravel - Bolero.mp3",
    "Dvorak - New World Symphony.mp3",
    "Tchaikovsky - Swan Lake.mp3",
    "Wagner - Ride of the Valkyries.mp3",
];

/// Pieces each node shares.
pub const PER_NODE: usize = 2;

/// The library of node `i`: [`PER_NODE`] distinct pieces of 3 to 9 MB, the same for the same
/// seed on every network, so the three traces search the same files.
pub fn library(i: usize, seed: u64) -> Library {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let mut picked: Vec<&str> = Vec::new();
    while picked.len() < PER_NODE {
        let piece = PIECES[rng.random_range(0..PIECES.len())];
        if !picked.contains(&piece) {
            picked.push(piece);
        }
    }
    let files: Vec<(String, u64)> = picked
        .into_iter()
        .map(|p| (p.to_owned(), rng.random_range(3_000_000..9_000_000)))
        .collect();
    Library::synthetic(files, seed)
}
