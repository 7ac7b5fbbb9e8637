//! `p2plab view` on loopback: the server answers only its own page, with its token; the
//! replay page steps through the messages `p2plab trace` prints; the live page's counters go
//! from nothing to the run's own report; a simulated run's log replays to its final
//! counters, and zooming into a node shows the links its snapshot holds, at any size. The
//! browser tests drive headless Chromium; with P2PLAB_SCREENSHOTS set they save
//! docs/src/figures/view-replay.png, view-live.png, view-chord-recursive.png, view-1000.png,
//! view-sim-replay.png, view-zoom.png and view-ring.png.

// Each test file uses its own share of the helpers.
#[allow(dead_code)]
mod browser;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use browser::{assert_lookup_path, chromium, message_lines, Page};
use serde_json::Value;

/// A small scenario for the live view: three networks of four peers, a query phase, a crash.
const SCENARIO: &str = r#"{
  "name": "live view test",
  "networks": ["napster", "gnutella", "chord"],
  "nodes": 4,
  "seed": 5,
  "files": { "count": 8, "copies": 2, "min_size": 100, "max_size": 1000 },
  "workload": { "rate": 100, "zipf": 0.8, "missing_share": 0.2, "download_share": 0.0, "concurrency": 8 },
  "settings": {
    "gnutella": { "degree": 2, "max_peers": 4, "ttl": 7, "ping_ttl": 2, "ping_interval_s": 30, "search_window_ms": 300 },
    "chord": { "successors": 3, "replicas": 2, "stabilize_ms": 100, "fix_fingers_ms": 50, "join_batch": 2 }
  },
  "timeline": [
    { "start": { "label": "start", "settle_s": 1.0 } },
    { "queries": { "label": "ask", "count": 12 } },
    { "kill_peers": { "label": "crash", "fraction": 0.25 } }
  ]
}"#;

/// How often a test looks again at a page or a socket while it waits.
const POLL: Duration = Duration::from_millis(100);

/// The most looks a test takes before it gives up on what it waits for (a minute of them):
/// the live run takes a few seconds; a run that never ends fails the test.
const MAX_POLLS: usize = 600;

/// A running `p2plab view`, killed when dropped.
struct View {
    child: Child,
    /// The URL it printed, with its token.
    url: String,
    /// `127.0.0.1:<port>`.
    addr: String,
}

impl View {
    fn start(args: &[&str]) -> View {
        let mut child = Command::new(env!("CARGO_BIN_EXE_p2plab"))
            .arg("view")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("p2plab view starts");
        let mut stdout = BufReader::new(child.stdout.take().expect("its output"));
        let mut url = String::new();
        stdout.read_line(&mut url).expect("the URL line");
        // The rest (the report's tables) is read and dropped, so the child never blocks on
        // a full pipe.
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        let url = url.trim().to_owned();
        let addr = url
            .strip_prefix("http://")
            .and_then(|rest| rest.split_once('/'))
            .map(|(addr, _)| addr.to_owned())
            .unwrap_or_else(|| panic!("not a URL: {url:?}"));
        View { child, url, addr }
    }

    fn token(&self) -> &str {
        self.url.split_once("token=").map_or("", |(_, t)| t)
    }

    /// Sends a GET for `path` with `headers` (Host is the server's unless given) and returns
    /// the answer's status and the rest of it; an event stream is read up to its first event.
    fn get(&self, path: &str, headers: &[&str]) -> (u16, String) {
        let mut stream = TcpStream::connect(&self.addr).expect("the view listens");
        stream
            .set_read_timeout(Some(POLL * MAX_POLLS as u32 / 10))
            .expect("a read timeout");
        let host = if headers.iter().any(|h| h.starts_with("Host:")) {
            String::new()
        } else {
            format!("Host: {}\r\n", self.addr)
        };
        let extra: String = headers.iter().map(|h| format!("{h}\r\n")).collect();
        let request = format!("GET {path} HTTP/1.1\r\n{host}{extra}Connection: close\r\n\r\n");
        stream
            .write_all(request.as_bytes())
            .expect("the request goes");
        let mut answer = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = stream.read(&mut buf).expect("the answer comes");
            answer.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&answer);
            // An event ends with a blank line (inside the chunked body's framing).
            let streaming = text.contains("content-type: text/event-stream");
            let event = text
                .split_once("\ndata:")
                .is_some_and(|(_, rest)| rest.contains("\n\n"));
            if n == 0 || (streaming && event) {
                break;
            }
        }
        let text = String::from_utf8(answer).expect("a text answer");
        let status = text
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no status line: {text:?}"));
        (status, text)
    }
}

impl Drop for View {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Writes the live test's scenario into `dir`.
fn scenario_file(dir: &Path) -> String {
    let file = dir.join("live.json");
    std::fs::write(&file, SCENARIO).expect("the scenario is written");
    file.display().to_string()
}

fn scratch(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("p2plab-view-{name}-"))
        .tempdir()
        .expect("a scratch folder")
}

#[test]
fn the_server_answers_only_its_own_page_with_its_token() {
    let view = View::start(&["trace", "napster"]);
    let token = view.token().to_owned();
    let with_token = format!("/?token={token}");
    let (status, page) = view.get(&with_token, &[]);
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("\"network\":\"napster\""), "the trace's data");
    assert!(
        !page.to_ascii_lowercase().contains("access-control-"),
        "no CORS header"
    );

    let refused = [
        (String::from("/"), vec![]),
        (format!("/?token={}", "0".repeat(token.len())), vec![]),
        (
            String::from("/"),
            vec![String::from("Authorization: Bearer nope")],
        ),
    ];
    for (path, headers) in &refused {
        let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
        let (status, answer) = view.get(path, &headers);
        assert_eq!(status, 401, "{path} {headers:?}: {answer}");
        assert!(!answer.contains("\"network\""), "no data without the token");
    }
    let bearer = format!("Authorization: Bearer {token}");
    assert_eq!(view.get("/", &[&bearer]).0, 200, "the token as a header");

    let port = view.addr.rsplit(':').next().expect("a port");
    let rebound = format!("Host: attacker.example:{port}");
    let foreign = ["Origin: http://attacker.example", "Origin: null"];
    let (status, answer) = view.get(&with_token, &[&rebound]);
    assert_eq!(status, 403, "a name that is not the view's: {answer}");
    assert!(!answer.contains("\"network\""));
    for origin in foreign {
        let (status, answer) = view.get(&with_token, &[origin]);
        assert_eq!(status, 403, "{origin}: {answer}");
        assert!(!answer.contains("\"network\""));
    }
    let own = format!("Origin: http://{}", view.addr);
    assert_eq!(view.get(&with_token, &[&own]).0, 200, "its own origin");
}

#[test]
fn the_live_stream_needs_the_token_and_takes_a_bounded_number_of_pages() {
    let dir = scratch("stream");
    let out = dir.path().join("out").display().to_string();
    let view = View::start(&["scenario", &scenario_file(dir.path()), "--out", &out]);
    let (status, answer) = view.get("/events", &[]);
    assert_eq!(status, 401, "{answer}");
    assert!(!answer.contains("\"title\""), "no data without the token");
    let events = format!("/events?token={}", view.token());
    let (status, first) = view.get(&events, &[]);
    assert_eq!(status, 200, "{first}");
    assert!(first.contains("\"title\":\"live view test\""), "{first}");
    // Streams held open until the view refuses one: it must, well before this many.
    let mut held = Vec::new();
    let refused = loop {
        assert!(held.len() < NO_LIMIT, "the view took {NO_LIMIT} streams");
        let mut s = TcpStream::connect(&view.addr).expect("the view listens");
        let request = format!("GET {events} HTTP/1.1\r\nHost: {}\r\n\r\n", view.addr);
        s.write_all(request.as_bytes()).expect("the request goes");
        let mut line = String::new();
        BufReader::new(s.try_clone().expect("a second handle"))
            .read_line(&mut line)
            .expect("a status line");
        if !line.contains(" 200 ") {
            break line;
        }
        held.push(s);
    };
    assert!(refused.contains(" 503 "), "{refused}");
    assert!(!held.is_empty(), "a page may watch");
    drop(held);
    // The server finds a page gone at its next write to it (the run's next change, or the
    // stream's keep-alive), and frees its place.
    let freed = (0..MAX_POLLS).any(|_| {
        let ok = view.get(&events, &[]).0 == 200;
        if !ok {
            std::thread::sleep(POLL);
        }
        ok
    });
    assert!(freed, "a page that goes frees its place");
}

/// More event streams than any view should take at once.
const NO_LIMIT: usize = 100;

#[test]
fn the_replay_page_steps_through_the_trace_s_messages_in_order() {
    let Some(browser) = chromium() else { return };
    let printed = Command::new(env!("CARGO_BIN_EXE_p2plab"))
        .args(["trace", "gnutella", "--ttl", "3"])
        .output()
        .expect("p2plab trace runs");
    let expected = message_lines(&String::from_utf8(printed.stdout).expect("text"));
    assert!(expected.len() > 10, "the flood has messages");
    let view = View::start(&["trace", "gnutella", "--ttl", "3"]);
    let page = Page::open(browser, &view.url);
    page.assert_no_errors();
    assert_eq!(page.message_count(), expected.len());
    assert_eq!(page.step_through(), expected);
    page.assert_no_errors();
    page.screenshot("view-replay.png");
}

#[test]
fn the_replay_page_highlights_the_chord_lookup_s_path_as_routed() {
    let Some(browser) = chromium() else { return };
    for routing in ["iterative", "recursive"] {
        let args = ["trace", "chord", "--routing", routing];
        let printed = Command::new(env!("CARGO_BIN_EXE_p2plab"))
            .args(args)
            .output()
            .expect("p2plab trace runs");
        assert!(printed.status.success(), "{printed:?}");
        let printed = String::from_utf8(printed.stdout).expect("text");
        let view = View::start(&args);
        let page = Page::open(browser, &view.url);
        assert_lookup_path(&page, &printed, routing);
        page.assert_no_errors();
        if routing == "recursive" {
            page.screenshot("view-chord-recursive.png");
        }
    }
}

/// The network the frame-rate test replays: the size at which the page must stay usable.
const LARGE: usize = 1_000;

/// How long the frame-rate test plays, in ms: long enough for hundreds of frames.
const FPS_WINDOW_MS: u32 = 5_000;

/// The fastest speed the player offers, in messages a second.
const FASTEST: u32 = 100;

/// A thousand servents' flood, replayed in the view at the player's fastest speed: the page
/// loads without error, draws every servent and keeps drawing while it plays. The frame rate
/// is printed (as one `view-fps` line, for scripts/view-fps.sh), never asserted: it is the
/// machine's as much as the page's.
#[test]
fn a_thousand_servents_flood_keeps_drawing_while_it_plays() {
    let Some(browser) = chromium() else { return };
    let nodes = LARGE.to_string();
    let view = View::start(&["trace", "gnutella", "--nodes", &nodes]);
    let page = Page::open(browser, &view.url);
    page.assert_no_errors();
    let drawn = page.eval("document.querySelectorAll('#picture .node').length");
    assert_eq!(drawn.as_u64(), Some(LARGE as u64), "every servent drawn");
    let messages = page.message_count();
    assert!(
        messages > LARGE,
        "the flood crosses every servent: {messages}"
    );
    let (idle, idle_ms) = page.idle_frames(FPS_WINDOW_MS / 5);
    let (frames, ms, shown) = page.play_for(FASTEST, FPS_WINDOW_MS);
    assert!(frames > 0.0, "the page drew while playing");
    assert!(shown > 0.0, "the replay moved on");
    page.assert_no_errors();
    page.screenshot("view-1000.png");
    println!(
        "view-fps nodes={LARGE} messages={messages} speed={FASTEST} frames={frames} ms={ms:.0} \
         fps={:.1} shown={shown} idle_fps={:.1}",
        frames * 1000.0 / ms,
        idle * 1000.0 / idle_ms
    );
}

/// The text of the live page's counter `counter` in the row `phase` of `network`.
fn counter(page: &Page, network: &str, phase: &str, counter: &str) -> String {
    page.text(&format!(
        "document.querySelector('section[data-network=\"{network}\"] \
         tr[data-phase=\"{phase}\"] td[data-counter=\"{counter}\"]')?.textContent"
    ))
}

/// Checks that `network`'s table on the page shows each of `phases` (phase reports as JSON,
/// from a report or a log) as the run counted it, that its overall row adds them up, and
/// that the one peer the scenario crashes is counted as crashed.
fn assert_counters_show<'a>(
    page: &Page,
    network: &str,
    phases: impl IntoIterator<Item = &'a Value>,
) {
    let mut queries = 0;
    for phase in phases {
        let label = phase["label"].as_str().expect("a label");
        let number = |key: &str| phase[key].as_u64().expect("a count");
        let shown = |name: &str| counter(page, network, label, name);
        assert_eq!(
            shown("queries"),
            number("queries").to_string(),
            "{network} {label}"
        );
        let found = format!("{}/{}", number("found"), number("findable"));
        assert_eq!(shown("found"), found, "{network} {label}");
        let upkeep = number("upkeep_messages").to_string();
        assert_eq!(shown("upkeep"), upkeep, "{network} {label}");
        let peers = number("live_peers").to_string();
        assert_eq!(shown("peers"), peers, "{network} {label}");
        queries += number("queries");
    }
    assert!(queries > 0, "{network}: the run asked");
    let overall = counter(page, network, "overall", "queries");
    assert_eq!(overall, queries.to_string(), "{network}: overall");
    let members = page.text(&format!(
        "document.querySelector('section[data-network=\"{network}\"] .members').textContent"
    ));
    assert!(members.contains("crashed 1"), "{network}: {members}");
}

/// Looks at the page until `done` holds for its status line; returns the line.
fn wait_for(page: &Page, what: &str, done: impl Fn(&str) -> bool) -> String {
    for _ in 0..MAX_POLLS {
        let status = page.text("document.getElementById('status').textContent");
        if done(&status) {
            return status;
        }
        std::thread::sleep(POLL);
    }
    panic!("the page never showed {what}");
}

#[test]
fn the_live_page_shows_the_run_s_counters_as_they_come() {
    let Some(browser) = chromium() else { return };
    let dir = scratch("live");
    let out = dir.path().join("out");
    let out_arg = out.display().to_string();
    let view = View::start(&["scenario", &scenario_file(dir.path()), "--out", &out_arg]);
    let page = Page::open(browser, &view.url);
    wait_for(&page, "the first event", |s| s != "connecting");
    let networks = ["napster", "gnutella", "chord"];
    for network in networks {
        let before = counter(&page, network, "overall", "queries");
        assert_eq!(before, "0", "{network}: nothing asked yet");
    }
    let status = wait_for(&page, "the run's end", |s| s.starts_with("over: report"));
    let report: Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("report.json")).expect("the run wrote its report"),
    )
    .expect("the report is JSON");
    let runs = &report["runs"][0]["networks"];
    for (k, network) in networks.iter().enumerate() {
        let made = &runs[k];
        assert_eq!(made["network"], *network, "{status}");
        let phases = made["phases"].as_array().expect("phases");
        assert_counters_show(&page, network, phases);
    }
    page.assert_no_errors();
    page.screenshot("view-live.png");
}

/// A simulated run of the live test's scenario, replayed from its log (written to `log`).
fn simulated(dir: &Path, log: &Path) -> View {
    let out = dir.join("out").display().to_string();
    let log = log.display().to_string();
    let file = scenario_file(dir);
    View::start(&["scenario", &file, "--sim", "--log", &log, "--out", &out])
}

/// The log a view wrote, as JSON.
fn read_log(log: &Path) -> Value {
    let text = std::fs::read_to_string(log).expect("the view wrote its log");
    serde_json::from_str(&text).expect("the log is JSON")
}

/// The body of a `view.get` answer (after its headers).
fn body(answer: &str) -> &str {
    answer.split_once("\r\n\r\n").map_or("", |(_, b)| b)
}

#[test]
fn the_replay_s_routes_need_the_token_and_its_log_is_the_same_each_run() {
    let dir = scratch("routes");
    let (first, second) = (dir.path().join("a.json"), dir.path().join("b.json"));
    let view = simulated(dir.path(), &first);
    drop(simulated(dir.path(), &second));
    let bytes = |p: &Path| std::fs::read(p).expect("a log");
    assert!(
        bytes(&first) == bytes(&second),
        "one seed, one log, byte for byte"
    );
    let steps = read_log(&first)["events"].as_array().expect("events").len();

    let token = view.token().to_owned();
    let end = format!("/shown?step={steps}&token={token}");
    let node = format!("/node?network=chord&place=0&step={steps}&token={token}");
    for path in ["/shown?step=1", "/node?network=chord&place=0"] {
        let (status, answer) = view.get(path, &[]);
        assert_eq!(status, 401, "{path}: {answer}");
        assert!(
            !answer.contains("\"title\"") && !answer.contains("\"roles\""),
            "{path}"
        );
    }
    for path in [&end, &node] {
        let (status, answer) = view.get(path, &["Origin: http://attacker.example"]);
        assert_eq!(status, 403, "{path}: {answer}");
        assert!(
            !answer.contains("\"title\"") && !answer.contains("\"roles\""),
            "{path}"
        );
        let (status, answer) = view.get(path, &[]);
        assert_eq!(status, 200, "{path}: {answer}");
        assert!(!answer.to_ascii_lowercase().contains("access-control-"));
    }
    let (_, shown) = view.get(&end, &[]);
    let shown = body(&shown).to_owned();
    assert!(
        shown.contains(&format!("\"step\":{steps},\"steps\":{steps}")),
        "{shown}"
    );
    let missing = format!("/node?network=chord&place=999&token={token}");
    assert_eq!(view.get(&missing, &[]).0, 404, "no such node");

    // The file replays as the run did.
    let file = first.display().to_string();
    let again = View::start(&["replay", &file]);
    let end = format!("/shown?step={steps}&token={}", again.token());
    let (status, replayed) = again.get(&end, &[]);
    assert_eq!(status, 200);
    assert_eq!(body(&replayed), shown, "the file replays as the run did");
}

/// Looks at the page until the status line says the replay shows step `step` of its log.
fn wait_for_step(page: &Page, step: usize) -> String {
    wait_for(page, &format!("step {step}"), |s| {
        s.starts_with(&format!("replay: step {step} of "))
    })
}

/// The last report of each phase of `network` in a log, by label.
fn logged_phases<'a>(log: &'a Value, network: &str) -> Vec<&'a Value> {
    let events = log["events"].as_array().expect("events");
    events
        .iter()
        .filter(|e| e["event"]["kind"] == "phase" && e["event"]["data"]["network"] == network)
        .map(|e| &e["event"]["data"]["report"])
        .collect()
}

/// The names of the nodes a log's node links to in `role` (the log's field name).
fn logged_links(world: &Value, place: usize, field: &str) -> Vec<String> {
    let nodes = world["nodes"].as_array().expect("nodes");
    let name = |p: &Value| nodes[p.as_u64().expect("a place") as usize]["name"].clone();
    let links = &nodes[place][field];
    let places: Vec<Value> = match links {
        Value::Array(a) => a.clone(),
        Value::Null => Vec::new(),
        one => vec![one.clone()],
    };
    places
        .iter()
        .map(|p| name(p).as_str().expect("a name").to_owned())
        .collect()
}

/// The names the zoom panel lists for `role`.
fn zoomed_links(page: &Page, role: &str) -> Vec<String> {
    let names = page.eval(&format!(
        "[...document.querySelectorAll('#zoom li[data-role=\"{role}\"] [data-place]')]
           .map((s) => s.textContent)"
    ));
    serde_json::from_value(names).expect("names")
}

/// Checks that the zoom panel shows node `place` of `world` with exactly its links.
fn assert_zoom_shows(page: &Page, world: &Value, place: usize, roles: &[(&str, &str)]) {
    let name = world["nodes"][place]["name"].as_str().expect("a name");
    for _ in 0..MAX_POLLS {
        let title = page.text("document.getElementById('zoom-title').textContent");
        if title.contains(&format!(": {name},")) {
            break;
        }
        std::thread::sleep(POLL);
    }
    for (role, field) in roles {
        let logged = logged_links(world, place, field);
        assert_eq!(zoomed_links(page, role), logged, "{name}: {role}");
    }
}

#[test]
fn a_simulated_run_replays_to_its_log_s_final_counters_and_zooms_into_a_node() {
    let Some(browser) = chromium() else { return };
    let dir = scratch("sim");
    let log_file = dir.path().join("log.json");
    let view = simulated(dir.path(), &log_file);
    let log = read_log(&log_file);
    let steps = log["events"].as_array().expect("events").len();
    let page = Page::open(browser, &view.url);
    wait_for_step(&page, 0);
    page.eval("document.getElementById('speed').value = '10000'");
    page.press("play");
    wait_for_step(&page, steps);
    for network in ["napster", "gnutella", "chord"] {
        let phases = logged_phases(&log, network);
        assert!(!phases.is_empty(), "{network}: the log has phases");
        assert_counters_show(&page, network, phases);
        let mode = page.text(&format!(
            "document.querySelector('section[data-network=\"{network}\"] .picture').dataset.mode"
        ));
        assert_eq!(
            mode, "dots",
            "{network}: a small network is drawn node by node"
        );
    }
    page.assert_no_errors();
    page.screenshot("view-sim-replay.png");

    // Back to the first phase's end, then into one Chord node's neighbourhood there.
    let events = log["events"].as_array().expect("events");
    let world_at = events
        .iter()
        .position(|e| e["event"]["kind"] == "world" && e["event"]["data"]["network"] == "chord")
        .expect("a Chord snapshot");
    let world = &events[world_at]["event"]["data"];
    page.eval(&format!(
        "(() => {{ const t = document.getElementById('timeline');
           t.value = {}; t.dispatchEvent(new Event('input')); }})()",
        world_at + 1
    ));
    wait_for_step(&page, world_at + 1);
    let place = 2;
    page.mouse_click(&format!(
        "section[data-network=\"chord\"] .dots .node[data-place=\"{place}\"] circle"
    ));
    let chord = [
        ("predecessor", "predecessor"),
        ("successor", "successors"),
        ("finger", "fingers"),
    ];
    assert_zoom_shows(&page, world, place, &chord);
    assert!(
        !zoomed_links(&page, "successor").is_empty(),
        "a joined node has successors"
    );
    page.assert_no_errors();
    page.eval("window.scrollTo(0, 0)");
    page.screenshot("view-zoom.png");
}

/// Nodes in the ring the aggregate test builds, unless `VIEW_RING_NODES_ENV` says otherwise:
/// past the page's drawing limit (1,000), so it shows distributions, and built in seconds.
const RING_NODES: usize = 2_000;

/// Set to the ring's size for scripts/view-ring.sh (100000: the size the page must stay
/// usable at).
const VIEW_RING_NODES_ENV: &str = "P2PLAB_VIEW_RING_NODES";

/// Zooms the responsiveness test makes, each to the node's first successor.
const ZOOMS: usize = 20;

/// A simulated Chord ring too large to draw: the page shows distributions whose bars count
/// every node, zooms into the busiest node with exactly the links its snapshot holds, and
/// walks the ring successor by successor. How long the server took to build the ring, to
/// show the end, and each zoom, and the frames drawn meanwhile, are printed (one
/// `view-ring` line for scripts/view-ring.sh), never asserted.
#[test]
fn a_large_ring_shows_distributions_and_zooms_into_a_node_s_real_links() {
    let Some(browser) = chromium() else { return };
    let nodes: usize = std::env::var(VIEW_RING_NODES_ENV)
        .ok()
        .map_or(RING_NODES, |n| n.parse().expect("a number of nodes"));
    let dir = scratch("ring");
    let log_file = dir.path().join("ring.json");
    let log_arg = log_file.display().to_string();
    let started = std::time::Instant::now();
    let view = View::start(&["ring", "--nodes", &nodes.to_string(), "--log", &log_arg]);
    let build_s = started.elapsed().as_secs_f64();
    let log = read_log(&log_file);
    let world = &log["events"][0]["event"];
    assert_eq!(world["kind"], "world");
    let world = &world["data"];
    let page = Page::open(browser, &view.url);
    wait_for_step(&page, 0);
    let end_ms = page.eval(
        "new Promise((done) => {
           const t0 = performance.now();
           document.getElementById('end').click();
           const look = () => document.querySelector('.picture[data-mode=\"aggregate\"]')
             ? done(performance.now() - t0) : requestAnimationFrame(look);
           requestAnimationFrame(look);
         })",
    );
    let bars = page.eval(
        "[...document.querySelectorAll('svg[data-histogram=\"degree\"] rect')]
           .reduce((sum, r) => sum + Number(r.dataset.count), 0)",
    );
    assert_eq!(
        bars.as_u64(),
        Some(nodes as u64),
        "the bars count every node"
    );
    assert_eq!(
        page.eval("document.querySelectorAll('.dots .node').length")
            .as_u64(),
        Some(0),
        "no node is drawn one by one"
    );
    let busiest = page.eval("Number(document.querySelector('input.place').value)");
    let busiest = busiest.as_u64().expect("a place") as usize;
    page.eval("document.querySelector('.picture form button').click()");
    let chord = [
        ("predecessor", "predecessor"),
        ("successor", "successors"),
        ("finger", "fingers"),
    ];
    assert_zoom_shows(&page, world, busiest, &chord);
    let walk = page.eval(&format!(
        "new Promise(async (done) => {{
           let frames = 0, counting = true;
           const tick = () => {{ if (counting) {{ frames++; requestAnimationFrame(tick); }} }};
           requestAnimationFrame(tick);
           const title = document.getElementById('zoom-title');
           const times = [], start = performance.now();
           for (let k = 0; k < {ZOOMS}; k++) {{
             const before = title.textContent, t0 = performance.now();
             document.querySelector('#zoom li[data-role=\"successor\"] [data-place]').click();
             while (title.textContent === before) await new Promise((r) => requestAnimationFrame(r));
             times.push(performance.now() - t0);
           }}
           counting = false;
           done([frames, performance.now() - start, times.sort((a, b) => a - b)]);
         }})"
    ));
    let (frames, ms) = (
        walk[0].as_f64().expect("frames"),
        walk[1].as_f64().expect("ms"),
    );
    let times: Vec<f64> = serde_json::from_value(walk[2].clone()).expect("times");
    assert_eq!(times.len(), ZOOMS, "every zoom was drawn");
    let (idle, idle_ms) = page.idle_frames(1_000);
    page.assert_no_errors();
    page.screenshot("view-ring.png");
    println!(
        "view-ring nodes={nodes} build_s={build_s:.0} end_ms={:.0} zooms={ZOOMS} \
         zoom_ms_median={:.0} zoom_ms_max={:.0} fps={:.1} idle_fps={:.1}",
        end_ms.as_f64().unwrap_or(f64::NAN),
        times[ZOOMS / 2],
        times[ZOOMS - 1],
        frames * 1000.0 / ms,
        idle * 1000.0 / idle_ms
    );
}
