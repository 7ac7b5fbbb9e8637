//! The floods this servent saw *shadowed*: a duplicate Query that came with more TTL left
//! than the copy seen first, so the flood went on from here with less reach than the
//! shorter path gave ([`crate::routing::Seen`]). Their descriptor IDs are kept, newest last,
//! so that a report can match them to the searches that missed (by the searcher's closed
//! searches, [`super::LateHits::guid`]) and tell a miss the overlay's shape caused from a
//! loss.

use std::collections::VecDeque;

use crate::guid::Guid;
use crate::MAX_SHADOWED_REMEMBERED;

/// The descriptor IDs of the lately shadowed Queries, each once, at most
/// [`MAX_SHADOWED_REMEMBERED`]; older ones are forgotten.
#[derive(Debug, Default)]
pub(super) struct Shadowed(VecDeque<Guid>);

impl Shadowed {
    /// Notes that a copy of the Query `guid` was shadowed.
    pub(super) fn note(&mut self, guid: Guid) {
        if self.0.contains(&guid) {
            return;
        }
        if self.0.len() >= MAX_SHADOWED_REMEMBERED {
            self.0.pop_front();
        }
        self.0.push_back(guid);
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = &Guid> {
        self.0.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_flood_is_kept_once_and_the_oldest_go_first() {
        let guid = |i: usize| Guid((i as u128).to_le_bytes());
        let mut s = Shadowed::default();
        s.note(guid(0));
        s.note(guid(0));
        assert_eq!(s.iter().count(), 1);
        for i in 1..=MAX_SHADOWED_REMEMBERED {
            s.note(guid(i));
        }
        assert_eq!(s.iter().count(), MAX_SHADOWED_REMEMBERED);
        assert_eq!(s.iter().next(), Some(&guid(1)), "the first was forgotten");
    }
}
