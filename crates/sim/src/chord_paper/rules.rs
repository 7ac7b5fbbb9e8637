//! The two lookup rules every experiment runs under, side by side.
//!
//! **paper**: the papers' simulator (SIGCOMM 2001 §6): the next hop is the closest
//! preceding *finger* (Fig. 4), and "the simulator does not retry queries: if a query is
//! forwarded to a node that is down, the query simply fails" (§6.5). **p2plab**: the
//! successor list is consulted too, and a dead hop is skipped for the next-best node.
//! Both are the same core with [`LookupRules`] set at birth; the paper's rows reproduce
//! the published values, p2plab's show what the successor list and the retries buy.

use p2plab_chord::LookupRules;

use crate::chord::RingParams;

/// Both rules, the paper's first, as every table lists them.
pub const BOTH: [LookupRules; 2] = [LookupRules::Paper, LookupRules::P2plab];

/// The rules' name in a table.
pub fn name(rules: LookupRules) -> &'static str {
    match rules {
        LookupRules::Paper => "paper",
        LookupRules::P2plab => "p2plab",
    }
}

/// `ring` with its nodes following `rules`.
pub fn with(ring: &RingParams, rules: LookupRules) -> RingParams {
    RingParams {
        lookup_rules: rules,
        ..ring.clone()
    }
}

/// The note every table carries on what the two rules are.
pub fn note(ring: &RingParams) -> String {
    format!(
        "Rules 'paper': next hop = closest preceding finger only, one next hop per answer, \
         a dead hop fails the lookup (the SIGCOMM 2001 simulator: \"the simulator does not \
         retry queries: if a query is forwarded to a node that is down, the query simply \
         fails\", §6.5). Rules 'p2plab': fingers and the {}-entry successor list, {} \
         candidates per answer, a dead hop skipped for the next-best.",
        ring.successors,
        p2plab_chord::CLOSER_NODES
    )
}
