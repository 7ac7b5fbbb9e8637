//! Gnutella floods on the engine reach exactly the BFS ball of radius TTL and send exactly
//! the Queries a shortest-path flood sends, on random and power-law overlays.

use p2plab_sim::gnutella_scale::{self, ScaleParams};
use p2plab_sim::graph::{flood_bound, GraphKind};

fn params(graph: GraphKind) -> ScaleParams {
    ScaleParams {
        nodes: 200,
        graph,
        ttl_max: 5,
        queries: 8,
        seed: 3,
    }
}

fn check(graph: GraphKind) {
    let table = gnutella_scale::run(params(graph)).expect("valid parameters");
    assert_eq!(
        table.overlay.missing, 0,
        "every planned edge became a connection"
    );
    assert_eq!(table.overlay.extra, 0, "and no other connection was made");
    let mut last_reach = 0.0;
    for r in &table.rows {
        assert_eq!(
            r.reach, r.ball,
            "TTL {}: the flood fills the BFS ball",
            r.ttl
        );
        assert_eq!(
            r.query_msgs, r.query_msgs_expected,
            "TTL {}: Query count",
            r.ttl
        );
        assert!(
            r.query_msgs >= r.reach,
            "a servent reached costs at least one message"
        );
        assert!(r.reach >= last_reach, "a larger TTL never reaches less");
        // PROTOCOLS.md §5: no flood reaches more than the tree of the largest degree.
        let bound = flood_bound(table.max_degree as f64, u32::from(r.ttl));
        assert!(
            r.reach <= bound,
            "TTL {}: reach {} over bound {bound}",
            r.ttl,
            r.reach
        );
        last_reach = r.reach;
    }
    let deepest = table.rows.last().expect("five rows");
    assert_eq!(
        deepest.found, 1.0,
        "TTL 5 covers 200 servents of these graphs"
    );
    assert!(deepest.hit_msgs > 0.0, "answers travel back hop by hop");
}

#[test]
fn floods_on_a_random_overlay_fill_the_bfs_ball() {
    check(GraphKind::Random { links: 2 });
}

#[test]
fn floods_on_a_power_law_overlay_fill_the_bfs_ball() {
    check(GraphKind::BarabasiAlbert { m: 2 });
}

#[test]
fn the_same_seed_gives_the_same_table() {
    let run = || gnutella_scale::run(params(GraphKind::BarabasiAlbert { m: 2 })).expect("valid");
    assert_eq!(run().rows, run().rows);
}
