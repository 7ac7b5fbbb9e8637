//! Dynamic querying against the TTL-7 flood on the engine: a file a quarter of the
//! servents hold is found at a fraction of the flood's Query messages, and a file one
//! servent holds is still found every time.

use p2plab_sim::gnutella_dynamic::{self, DynamicParams, SHARES};
use p2plab_sim::graph::GraphKind;

#[test]
fn dynamic_querying_finds_what_the_flood_finds_and_spares_it_for_common_files() {
    let table = gnutella_dynamic::run(DynamicParams {
        nodes: 600,
        graph: GraphKind::Random { links: 3 },
        queries: 6,
        seed: 4,
    })
    .expect("valid parameters");
    assert_eq!(
        table.rows.len(),
        2 * (SHARES.len() + 1),
        "flood and dynamic per class"
    );
    for pair in table.rows.chunks(2) {
        let (flood, dynamic) = (&pair[0], &pair[1]);
        assert!(!flood.dynamic && dynamic.dynamic);
        assert_eq!(flood.holders, dynamic.holders);
        assert_eq!(flood.found, 1.0, "the flood reaches every holder's file");
        assert_eq!(
            dynamic.found, 1.0,
            "{} holders: found every time",
            dynamic.holders
        );
        assert!(dynamic.links > 0.0 && flood.links == 0.0);
    }
    let rare = &table.rows[..2];
    assert_eq!(rare[0].holders, 1);
    assert_eq!(rare[1].results, 1.0, "the one holder's answer came back");
    let common = &table.rows[table.rows.len() - 2..];
    assert!(
        common[1].query_msgs * 3.0 < common[0].query_msgs,
        "a quarter of the servents hold it: {} Queries against the flood's {}",
        common[1].query_msgs,
        common[0].query_msgs
    );
    assert!(common[1].reach < common[0].reach, "and asks fewer servents");
}
