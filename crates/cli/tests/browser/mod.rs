//! Headless Chromium for the page tests: installing it, opening a page, reading what it
//! shows, pressing its buttons, and its console errors. Shared by the player's tests
//! (`file://` pages) and the view's (pages served on loopback).
//!
//! The browser is Debian's `chromium`, driven over the DevTools protocol; when it is missing,
//! `scripts/install-chromium.sh` installs it (as root) or the tests say why they skip.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};

use headless_chrome::protocol::cdp::types::Event;
use headless_chrome::protocol::cdp::Log::LogEntryLevel;
use headless_chrome::protocol::cdp::Page::CaptureScreenshotFormatOption;
use headless_chrome::protocol::cdp::Runtime::ConsoleAPICalledEventTypeOption;
use headless_chrome::{Browser, LaunchOptions, Tab};
use serde_json::Value;

/// Set (to anything) to save the tests' screenshots into docs/src/figures.
pub const SCREENSHOTS_ENV: &str = "P2PLAB_SCREENSHOTS";

/// The workspace's root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The browser, installed once per test run; `None` (after saying why) when this machine
/// lacks it and cannot install it.
pub fn chromium() -> Option<&'static Path> {
    static BROWSER: OnceLock<Option<PathBuf>> = OnceLock::new();
    BROWSER
        .get_or_init(|| {
            let out = Command::new(root().join("scripts/install-chromium.sh"))
                .output()
                .expect("scripts/install-chromium.sh runs");
            let why = String::from_utf8_lossy(&out.stderr);
            match out.status.code() {
                Some(0) => Some(PathBuf::from(
                    String::from_utf8_lossy(&out.stdout).trim().to_owned(),
                )),
                Some(2) => {
                    eprintln!("skipping the browser tests: {why}");
                    None
                }
                _ => panic!("cannot install chromium: {why}"),
            }
        })
        .as_deref()
}

/// One page open in headless Chromium, with every console error and uncaught exception it
/// reported.
pub struct Page {
    tab: Arc<Tab>,
    errors: Arc<Mutex<Vec<String>>>,
    _browser: Browser,
}

impl Page {
    /// Opens `url` in a fresh headless Chromium.
    pub fn open(browser: &Path, url: &str) -> Page {
        let options = LaunchOptions::default_builder()
            .path(Some(browser.to_owned()))
            // Chromium's sandbox refuses to start as root, as CI runs; the page is our own.
            .sandbox(false)
            .window_size(Some((1400, 1000)))
            // Port 0: the operating system picks a free debugging port.
            .port(Some(0))
            .build()
            .expect("launch options");
        let browser = Browser::new(options).expect("chromium starts");
        let tab = browser.new_tab().expect("a tab");
        let errors = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&errors);
        tab.add_event_listener(Arc::new(move |event: &Event| {
            let error = match event {
                Event::RuntimeExceptionThrown(e) => {
                    let details = &e.params.exception_details;
                    let thrown = details.exception.as_ref();
                    Some(
                        thrown
                            .and_then(|x| x.description.clone())
                            .unwrap_or_else(|| {
                                format!("{} at line {}", details.text, details.line_number + 1)
                            }),
                    )
                }
                Event::RuntimeConsoleAPICalled(e)
                    if e.params.Type == ConsoleAPICalledEventTypeOption::Error =>
                {
                    let args = e.params.args.iter().map(|a| match &a.value {
                        Some(v) => v.to_string(),
                        None => a.description.clone().unwrap_or_default(),
                    });
                    Some(format!(
                        "console.error: {}",
                        args.collect::<Vec<_>>().join(" ")
                    ))
                }
                Event::LogEntryAdded(e) if e.params.entry.level == LogEntryLevel::Error => {
                    Some(e.params.entry.text.clone())
                }
                _ => None,
            };
            if let Some(error) = error {
                sink.lock().expect("the error list").push(error);
            }
        }))
        .expect("a console listener");
        tab.enable_runtime().expect("the runtime domain");
        tab.enable_log().expect("the log domain");
        tab.navigate_to(url)
            .and_then(|t| t.wait_until_navigated())
            .expect("the page loads");
        Page {
            tab,
            errors,
            _browser: browser,
        }
    }

    /// The value of a JavaScript expression (a promise is awaited). It comes back as JSON
    /// text: DevTools hands over arrays and objects only as references.
    pub fn eval(&self, js: &str) -> Value {
        let js = format!("Promise.resolve({js}).then((v) => JSON.stringify(v ?? null))");
        let result = self.tab.evaluate(&js, true).expect("the script runs");
        let json = result.value.unwrap_or(Value::Null);
        serde_json::from_str(json.as_str().unwrap_or("null")).expect("JSON comes back")
    }

    pub fn text(&self, js: &str) -> String {
        self.eval(js)
            .as_str()
            .map(str::to_owned)
            .unwrap_or_default()
    }

    /// Clicks the element `selector` picks with the mouse, as a person would: DevTools
    /// scrolls to it, waits for it to stand still and presses at its centre (about a second).
    pub fn mouse_click(&self, selector: &str) {
        self.tab
            .find_element(selector)
            .and_then(|e| e.click().map(|_| ()))
            .unwrap_or_else(|e| panic!("cannot click {selector}: {e}"));
    }

    /// Clicks the button `id` from a script: the same click event, at once.
    pub fn press(&self, id: &str) {
        self.eval(&format!("document.getElementById('{id}').click()"));
    }

    pub fn assert_no_errors(&self) {
        let errors = self.errors.lock().expect("the error list");
        assert!(errors.is_empty(), "the page reported errors: {errors:?}");
    }

    pub fn message_count(&self) -> usize {
        let n = self.eval("document.querySelectorAll('#messages li').length");
        n.as_u64().expect("a count") as usize
    }

    /// Presses "one message forward" until the last message; returns the current message's
    /// line after each press.
    pub fn step_through(&self) -> Vec<String> {
        (0..self.message_count())
            .map(|_| {
                self.press("forward");
                words(&self.text("document.querySelector('#messages li.current')?.textContent"))
            })
            .collect()
    }

    /// The Chord lookup's arrows the picture shows now (shown before or current), in message
    /// order, as (kind, from, to).
    pub fn lookup_drawn(&self) -> Vec<(String, String, String)> {
        let drawn = self.eval(&format!(
            "[...document.querySelectorAll('.arrow.past, .arrow.current')]
               .filter((a) => {LOOKUP_KINDS:?}.includes(a.dataset.kind))
               .map((a) => [a.dataset.kind, a.dataset.from, a.dataset.to])"
        ));
        serde_json::from_value(drawn).expect("arrows")
    }

    /// Plays from the start at `speed` messages a second to the end; returns the frames the
    /// browser drew meanwhile and the milliseconds they took.
    pub fn play(&self, speed: u32) -> (f64, f64) {
        self.eval(&format!(
            "document.getElementById('speed').value = '{speed}'"
        ));
        let measured = self.eval(
            "new Promise((done) => {
               const timeline = document.getElementById('timeline');
               timeline.value = 0;
               timeline.dispatchEvent(new Event('input'));
               const play = document.getElementById('play');
               play.click();
               let frames = 0; const start = performance.now();
               const tick = () => play.textContent === 'play'
                 ? done([frames, performance.now() - start])
                 : (frames++, requestAnimationFrame(tick));
               requestAnimationFrame(tick);
             })",
        );
        let number = |i: usize| measured[i].as_f64().expect("a number");
        (number(0), number(1))
    }

    /// Plays from the start at `speed` messages a second for about `ms` milliseconds, counts
    /// the frames the browser drew meanwhile (one `requestAnimationFrame` callback a frame),
    /// and pauses. Returns the frames, the milliseconds they took and the messages shown.
    pub fn play_for(&self, speed: u32, ms: u32) -> (f64, f64, f64) {
        self.eval(&format!(
            "document.getElementById('speed').value = '{speed}'"
        ));
        let measured = self.eval(&format!(
            "new Promise((done) => {{
               const timeline = document.getElementById('timeline');
               timeline.value = 0;
               timeline.dispatchEvent(new Event('input'));
               const play = document.getElementById('play');
               play.click();
               let frames = 0; const start = performance.now();
               const tick = (t) => {{
                 if (t - start < {ms} && play.textContent === 'pause') {{
                   frames++;
                   requestAnimationFrame(tick);
                 }} else {{
                   const took = performance.now() - start;
                   if (play.textContent === 'pause') play.click();
                   done([frames, took, Number(timeline.value)]);
                 }}
               }};
               requestAnimationFrame(tick);
             }})"
        ));
        let number = |i: usize| measured[i].as_f64().expect("a number");
        (number(0), number(1), number(2))
    }

    /// Counts the frames the browser draws in about `ms` milliseconds with nothing moving:
    /// the most this page, this browser and this machine can draw.
    pub fn idle_frames(&self, ms: u32) -> (f64, f64) {
        let measured = self.eval(&format!(
            "new Promise((done) => {{
               let frames = 0; const start = performance.now();
               const tick = (t) => t - start < {ms}
                 ? (frames++, requestAnimationFrame(tick))
                 : done([frames, performance.now() - start]);
               requestAnimationFrame(tick);
             }})"
        ));
        let number = |i: usize| measured[i].as_f64().expect("a number");
        (number(0), number(1))
    }

    /// Saves what the page shows as docs/src/figures/<name> when [`SCREENSHOTS_ENV`] is set
    /// (so that an ordinary test run rewrites no file of the book); returns where it went.
    pub fn screenshot(&self, name: &str) -> Option<PathBuf> {
        std::env::var_os(SCREENSHOTS_ENV)?;
        let png = self
            .tab
            .capture_screenshot(CaptureScreenshotFormatOption::Png, None, None, true)
            .expect("a screenshot");
        let path = root().join("docs/src/figures").join(name);
        std::fs::write(&path, &png).expect("the screenshot is saved");
        println!("screenshot: {}", path.display());
        Some(path)
    }
}

/// A line with its runs of spaces made one: the page and the terminal align columns
/// differently.
pub fn words(line: &str) -> String {
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The message lines of `p2plab trace` output: `  10 →  20 ms  s2 → s0  Query ...`.
pub fn message_lines(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            w.len() > 6 && w[0].parse::<u64>().is_ok() && w[1] == "→" && w[3] == "ms"
        })
        .map(words)
        .collect()
}

/// The kinds of a Chord lookup's messages: iterative questions and answers, recursive hand-ons
/// and the one answer.
pub const LOOKUP_KINDS: [&str; 5] = [
    "find_successor",
    "closer_nodes",
    "successor_is",
    "route_recursive",
    "recursive_found",
];

/// The lookup's messages among the message lines of `p2plab trace chord` output, as (kind,
/// from, to): the kind is the summary's first word, up to its bracket.
pub fn lookup_lines(text: &str) -> Vec<(String, String, String)> {
    message_lines(text)
        .iter()
        .filter_map(|line| {
            let w: Vec<&str> = line.split_whitespace().collect();
            let kind = w[7].split('(').next().unwrap_or_default();
            LOOKUP_KINDS
                .contains(&kind)
                .then(|| (kind.to_owned(), w[4].to_owned(), w[6].to_owned()))
        })
        .collect()
}

/// Steps `page` through a Chord trace that `p2plab trace chord --routing <routing>` printed
/// as `printed`, and checks what it highlights and draws: the lookup's path lists, node for
/// node, the hops the text lists (the nodes asked, or passed the lookup); the picture marks
/// those nodes; and its arrows are the lookup's messages in order, shaped as routed —
/// iterative: from the searcher to each hop and back; recursive: a chain from the searcher
/// through the hops, and one answer from the last to the searcher.
pub fn assert_lookup_path(page: &Page, printed: &str, routing: &str) {
    let lines = lookup_lines(printed);
    let asks = ["find_successor", "route_recursive"];
    let hops: Vec<&str> = lines
        .iter()
        .filter(|(kind, _, _)| asks.contains(&kind.as_str()))
        .map(|(_, _, to)| to.as_str())
        .collect();
    assert!(hops.len() >= 2, "the lookup crosses the ring: {printed}");
    let origin = lines[0].1.clone();
    page.step_through();
    let path = page.eval("[...document.querySelectorAll('#path li')].map((li) => li.dataset.node)");
    assert_eq!(
        path,
        serde_json::json!(hops),
        "{routing}: the path the page lists"
    );
    let marked =
        page.eval("[...document.querySelectorAll('.node.on-path text')].map((t) => t.textContent)");
    let mut sorted = hops.clone();
    sorted.sort_unstable();
    sorted.dedup();
    let mut marked: Vec<String> = serde_json::from_value(marked).expect("labels");
    marked.sort_unstable();
    assert_eq!(marked, sorted, "{routing}: the nodes the picture marks");
    let drawn = page.lookup_drawn();
    assert_eq!(
        drawn, lines,
        "{routing}: the arrows are the lookup's messages"
    );
    let edge = |kind: &str, from: &str, to: &str| (kind.to_owned(), from.to_owned(), to.to_owned());
    let mut shape = Vec::new();
    match routing {
        "iterative" => {
            for (k, hop) in hops.iter().enumerate() {
                let answer = if k + 1 == hops.len() {
                    "successor_is"
                } else {
                    "closer_nodes"
                };
                shape.push(edge("find_successor", &origin, hop));
                shape.push(edge(answer, hop, &origin));
            }
        }
        "recursive" => {
            let mut at = origin.as_str();
            for hop in &hops {
                shape.push(edge("route_recursive", at, hop));
                at = hop;
            }
            shape.push(edge("recursive_found", at, &origin));
        }
        other => panic!("no routing {other}"),
    }
    assert_eq!(drawn, shape, "{routing}: drawn as routed");
    let counted = page.text(
        "[...document.querySelectorAll('#counters tr')]
           .find((tr) => tr.cells[0].textContent === 'lookup hops')?.cells[1].textContent",
    );
    assert_eq!(counted, format!("{} ({routing})", hops.len()));
}
