use serde_json::Value;

use super::render;
use crate::config::Routing;
use crate::model::{Figure, Trace};
use crate::{hexdump, run, Network, TraceConfig};

fn trace(network: Network, tweak: impl FnOnce(&mut TraceConfig)) -> Trace {
    let mut config = TraceConfig::new(network);
    tweak(&mut config);
    run(&config).expect("the search finishes")
}

/// The JSON the page embeds, read back the way the page's script reads it.
fn embedded(page: &str) -> Value {
    let start = page
        .find(r#"<script type="application/json" id="trace">"#)
        .expect("the page embeds the trace");
    let rest = &page[start..];
    let body = &rest[rest.find('>').expect("the tag closes") + 1..];
    let body = &body[..body.find("</script>").expect("the data block ends")];
    serde_json::from_str(body).expect("the data block is JSON")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Every traced message is in the page, in order, with its ends, reason and bytes.
fn assert_holds_every_message(trace: &Trace) {
    let data = embedded(&render(trace));
    let messages = data["messages"].as_array().expect("a message list");
    assert_eq!(messages.len(), trace.messages.len());
    for (i, (shown, m)) in messages.iter().zip(&trace.messages).enumerate() {
        let fields = crate::fields(trace.network, &m.bytes);
        assert_eq!(shown["from"], m.from, "message {i}");
        assert_eq!(shown["to"], m.to, "message {i}");
        assert_eq!(shown["kind"], m.kind, "message {i}");
        assert_eq!(shown["summary"], m.summary.as_str(), "message {i}");
        assert_eq!(shown["why"], m.why.as_str(), "message {i}");
        assert_eq!(
            shown["delivered"],
            m.delivered.as_millis() as u64,
            "message {i}"
        );
        assert_eq!(shown["hex"], hex(&m.bytes), "message {i}");
        assert_eq!(
            shown["dump"],
            hexdump::render(&m.bytes, &fields),
            "message {i}"
        );
    }
    assert_eq!(
        data["nodes"].as_array().map(Vec::len),
        Some(trace.labels.len())
    );
}

#[test]
fn the_page_holds_every_napster_message_in_order() {
    let t = trace(Network::Napster, |c| c.nodes = 6);
    assert!(t.messages.len() >= 3, "a search, its results, its end");
    assert_holds_every_message(&t);
}

#[test]
fn the_page_holds_every_gnutella_message_with_the_hop_of_its_receiver() {
    let t = trace(Network::Gnutella, |c| c.ttl = 3);
    assert_holds_every_message(&t);
    let Figure::Flood(flood) = &t.figure else {
        panic!("not a flood")
    };
    let data = embedded(&render(&t));
    let firsts: Vec<(u64, u64)> = data["messages"]
        .as_array()
        .expect("a message list")
        .iter()
        .filter(|m| m["role"] == "ask")
        .map(|m| {
            (
                m["to"].as_u64().expect("an index"),
                m["hop"].as_u64().expect("a hop"),
            )
        })
        .collect();
    assert!(!firsts.is_empty());
    for (to, hop) in firsts {
        assert_eq!(flood.hop[to as usize], Some(hop as u32), "servent {to}");
    }
}

#[test]
fn the_page_numbers_the_chord_lookup_s_jumps_in_order() {
    for (routing, name) in [
        (Routing::Iterative, "iterative"),
        (Routing::Recursive, "recursive"),
    ] {
        numbers_the_jumps(routing, name);
    }
}

fn numbers_the_jumps(routing: Routing, name: &str) {
    let t = trace(Network::Chord, |c| c.routing = routing);
    assert_holds_every_message(&t);
    let Figure::Ring(ring) = &t.figure else {
        panic!("not a ring")
    };
    let data = embedded(&render(&t));
    let jumps: Vec<(u64, u64)> = data["messages"]
        .as_array()
        .expect("a message list")
        .iter()
        .filter_map(|m| Some((m["hop"].as_u64()?, m["to"].as_u64()?)))
        .collect();
    let expected: Vec<(u64, u64)> = ring
        .jumps
        .iter()
        .enumerate()
        .map(|(k, j)| (k as u64 + 1, j.to as u64))
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(jumps, expected, "{name}");
    assert_eq!(data["routing"], name);
    assert_eq!(
        data["key"]["label"],
        format!("key {} = \"{}\"", ring.key, ring.key_word)
    );
}

#[test]
fn the_page_fetches_nothing_and_text_cannot_end_its_script() {
    let t = trace(Network::Napster, |c| {
        c.nodes = 4;
        c.query = "four </script><b>".to_owned();
    });
    let page = render(&t);
    assert_eq!(
        page.matches("</script>").count(),
        2,
        "only the two blocks close"
    );
    assert!(embedded(&page)["title"]
        .as_str()
        .is_some_and(|title| title.contains("</script><b>")));
    let title = page
        .split("<title>")
        .nth(1)
        .and_then(|rest| rest.split("</title>").next())
        .expect("a title");
    assert!(
        title.contains("&lt;/script&gt;&lt;b&gt;") && !title.contains('<'),
        "the title is escaped: {title}"
    );
    // The SVG namespace is a name, never loaded; any other address would be a fetch.
    let outside: Vec<&str> = page
        .match_indices("://")
        .map(|(i, _)| &page[i.saturating_sub("http".len())..])
        .filter(|s| !s.starts_with("http://www.w3.org/2000/svg\""))
        .map(|s| &s[..s.len().min(40)])
        .collect();
    assert!(outside.is_empty(), "addresses in the page: {outside:?}");
    assert!(!page.contains(" src=") && !page.contains("@import"));
}
