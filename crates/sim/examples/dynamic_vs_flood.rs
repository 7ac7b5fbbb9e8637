//! Dynamic querying against the 0.4 flood on one random overlay, as a Markdown table:
//!
//! ```text
//! cargo run --release -p p2plab-sim --example dynamic_vs_flood -- [NODES [SEARCHES [SEED [LINKS]]]]
//! ```
//!
//! Defaults: 1,024 servents, 20 searches per class, seed 1, 3 links per new servent (a mean
//! degree near 6; Fisk's dynamic querying asks ultrapeers for 15 or more, about 8 links).

use p2plab_sim::gnutella_dynamic::{self, DynamicParams};
use p2plab_sim::graph::GraphKind;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let mut next = |default: u64| -> anyhow::Result<u64> {
        args.next().map_or(Ok(default), |a| Ok(a.parse()?))
    };
    let nodes = usize::try_from(next(1_024)?)?;
    let queries = usize::try_from(next(20)?)?;
    let seed = next(1)?;
    let links = usize::try_from(next(3)?)?;
    let params = DynamicParams {
        nodes,
        graph: GraphKind::Random { links },
        queries,
        seed,
    };
    let table = gnutella_dynamic::run(params)?;
    println!("{}", gnutella_dynamic::markdown(&table));
    Ok(())
}
