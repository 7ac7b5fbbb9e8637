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
