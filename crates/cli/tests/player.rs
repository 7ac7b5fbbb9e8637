//! The trace player in a real browser: `p2plab trace ... --html` writes the page, headless
//! Chromium opens it from `file://`, and the test presses the page's own buttons. Stepping
//! through the Gnutella flood must show exactly the messages `p2plab trace gnutella` prints,
//! in order; the Chord player's lookup path must be the trace's jumps. No console error is
//! allowed. Each test saves a screenshot for the book: docs/src/figures/player-<net>.png.
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
use p2plab_trace::{run, Figure, Network, TraceConfig};
use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The browser, installed once per test run; `None` (after saying why) when this machine
/// lacks it and cannot install it.
fn chromium() -> Option<&'static Path> {
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

/// Runs `p2plab trace <args> --html <scratch>/<name>.html`; returns the page and what the
/// command printed.
fn player(name: &str, args: &[&str]) -> (PathBuf, String) {
    let dir = std::env::temp_dir().join(format!("p2plab-player-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch folder");
    let page = dir.join(format!("{name}.html"));
    let out = Command::new(env!("CARGO_BIN_EXE_p2plab"))
        .arg("trace")
        .args(args)
        .arg("--html")
        .arg(&page)
        .output()
        .expect("p2plab runs");
    assert!(out.status.success(), "p2plab trace {args:?}: {out:?}");
    (page, String::from_utf8(out.stdout).expect("text output"))
}

/// One page open in headless Chromium, with every console error and uncaught exception it
/// reported.
struct Page {
    tab: Arc<Tab>,
    errors: Arc<Mutex<Vec<String>>>,
    _browser: Browser,
}

impl Page {
    fn open(browser: &Path, page: &Path) -> Page {
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
        let url = format!(
            "file://{}",
            page.canonicalize().expect("the page").display()
        );
        tab.navigate_to(&url)
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
    fn eval(&self, js: &str) -> Value {
        let js = format!("Promise.resolve({js}).then((v) => JSON.stringify(v ?? null))");
        let result = self.tab.evaluate(&js, true).expect("the script runs");
        let json = result.value.unwrap_or(Value::Null);
        serde_json::from_str(json.as_str().unwrap_or("null")).expect("JSON comes back")
    }

    fn text(&self, js: &str) -> String {
        self.eval(js)
            .as_str()
            .map(str::to_owned)
            .unwrap_or_default()
    }

    /// Clicks the element `selector` picks with the mouse, as a person would: DevTools
    /// scrolls to it, waits for it to stand still and presses at its centre (about a second).
    fn mouse_click(&self, selector: &str) {
        self.tab
            .find_element(selector)
            .and_then(|e| e.click().map(|_| ()))
            .unwrap_or_else(|e| panic!("cannot click {selector}: {e}"));
    }

    /// Clicks the button `id` from a script: the same click event, at once.
    fn press(&self, id: &str) {
        self.eval(&format!("document.getElementById('{id}').click()"));
    }

    fn assert_no_errors(&self) {
        let errors = self.errors.lock().expect("the error list");
        assert!(errors.is_empty(), "the page reported errors: {errors:?}");
    }

    fn message_count(&self) -> usize {
        let n = self.eval("document.querySelectorAll('#messages li').length");
        n.as_u64().expect("a count") as usize
    }

    /// Presses "one message forward" until the last message; returns the current message's
    /// line after each press.
    fn step_through(&self) -> Vec<String> {
        (0..self.message_count())
            .map(|_| {
                self.press("forward");
                words(&self.text("document.querySelector('#messages li.current')?.textContent"))
            })
            .collect()
    }

    /// Plays from the start at `speed` messages a second to the end; returns the frames the
    /// browser drew meanwhile and the milliseconds they took.
    fn play(&self, speed: u32) -> (f64, f64) {
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

    /// Saves what the page shows as docs/src/figures/<name>.
    fn screenshot(&self, name: &str) -> PathBuf {
        let png = self
            .tab
            .capture_screenshot(CaptureScreenshotFormatOption::Png, None, None, true)
            .expect("a screenshot");
        let path = root().join("docs/src/figures").join(name);
        std::fs::write(&path, &png).expect("the screenshot is saved");
        path
    }
}

/// A line with its runs of spaces made one: the page and the terminal align columns
/// differently.
fn words(line: &str) -> String {
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The message lines of `p2plab trace` output: `  10 →  20 ms  s2 → s0  Query ...`.
fn message_lines(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            w.len() > 6 && w[0].parse::<u64>().is_ok() && w[1] == "→" && w[3] == "ms"
        })
        .map(words)
        .collect()
}

#[test]
fn the_gnutella_player_shows_the_trace_s_messages_in_order() {
    let Some(browser) = chromium() else { return };
    let (html, printed) = player("gnutella", &["gnutella", "--ttl", "3"]);
    let expected = message_lines(&printed);
    assert!(expected.len() > 10, "the flood has messages: {printed}");
    let page = Page::open(browser, &html);
    page.assert_no_errors();
    assert_eq!(page.message_count(), expected.len());
    assert_eq!(page.step_through(), expected);

    page.mouse_click("#back");
    let shown = page.eval("Number(document.getElementById('timeline').value)");
    assert_eq!(shown.as_u64(), Some(expected.len() as u64 - 1), "one back");

    let hex = Command::new(env!("CARGO_BIN_EXE_p2plab"))
        .args(["trace", "gnutella", "--ttl", "3", "--hex", "query"])
        .output()
        .expect("p2plab runs");
    let hex = String::from_utf8(hex.stdout).expect("text output");
    let dump = hex
        .split_once('\n')
        .map(|(_, dump)| dump)
        .expect("a heading");
    page.mouse_click("#messages li:first-child");
    assert_eq!(
        page.text("document.querySelector('#detail pre').textContent"),
        dump
    );

    let (frames, ms) = page.play(30);
    assert!(frames > 0.0, "the page drew while playing");
    println!(
        "playing {} messages at 30/s: {frames} frames in {ms:.0} ms, {:.1} frames/s",
        expected.len(),
        frames * 1000.0 / ms
    );
    let shown = page.eval("Number(document.getElementById('timeline').value)");
    assert_eq!(
        shown.as_u64(),
        Some(expected.len() as u64),
        "played to the end"
    );

    let middle = expected.len() * 2 / 3;
    page.eval(&format!(
        "(() => {{ const t = document.getElementById('timeline');
         t.value = {middle}; t.dispatchEvent(new Event('input')); }})()"
    ));
    assert_eq!(
        page.text("document.querySelector('#messages li.current').textContent"),
        page.text(&format!(
            "document.querySelectorAll('#messages li')[{}].textContent",
            middle - 1
        )),
        "scrubbing to {middle} makes message {middle} current"
    );
    page.assert_no_errors();
    println!(
        "screenshot: {}",
        page.screenshot("player-gnutella.png").display()
    );
}

#[test]
fn the_chord_player_highlights_the_lookup_s_path() {
    let Some(browser) = chromium() else { return };
    let (html, _) = player("chord", &["chord"]);
    let trace = run(&TraceConfig::new(Network::Chord)).expect("the chord trace");
    let Figure::Ring(ring) = &trace.figure else {
        panic!("not a ring")
    };
    let hops: Vec<&str> = ring.jumps.iter().map(|j| trace.label(j.to)).collect();
    assert!(hops.len() >= 2, "the lookup crosses the ring: {hops:?}");
    let page = Page::open(browser, &html);
    page.step_through();
    let path = page.eval("[...document.querySelectorAll('#path li')].map((li) => li.dataset.node)");
    assert_eq!(path, serde_json::json!(hops), "the path the page lists");
    let marked =
        page.eval("[...document.querySelectorAll('.node.on-path text')].map((t) => t.textContent)");
    let mut sorted = hops.clone();
    sorted.sort_unstable();
    sorted.dedup();
    let mut marked: Vec<String> = serde_json::from_value(marked).expect("labels");
    marked.sort_unstable();
    assert_eq!(marked, sorted, "the nodes the picture marks");
    page.assert_no_errors();
    println!(
        "screenshot: {}",
        page.screenshot("player-chord.png").display()
    );
}
