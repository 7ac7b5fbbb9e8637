//! The trace player in a real browser: `p2plab trace ... --html` writes the page, headless
//! Chromium opens it from `file://`, and the test presses the page's own buttons. Stepping
//! through the Gnutella flood must show exactly the messages `p2plab trace gnutella` prints,
//! in order; the Chord player's lookup path must be the hops the trace prints, drawn as the
//! lookup was routed (iterative or recursive). No console error is allowed. With
//! P2PLAB_SCREENSHOTS set, each test saves a screenshot for the book:
//! docs/src/figures/player-<net>.png (and player-chord-recursive.png).

// Each test file uses its own share of the helpers.
#[allow(dead_code)]
mod browser;

use std::path::{Path, PathBuf};
use std::process::Command;

use browser::{assert_lookup_path, chromium, message_lines, Page};

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

/// The `file://` URL of `page`.
fn file_url(page: &Path) -> String {
    format!(
        "file://{}",
        page.canonicalize().expect("the page").display()
    )
}

#[test]
fn the_gnutella_player_shows_the_trace_s_messages_in_order() {
    let Some(browser) = chromium() else { return };
    let (html, printed) = player("gnutella", &["gnutella", "--ttl", "3"]);
    let expected = message_lines(&printed);
    assert!(expected.len() > 10, "the flood has messages: {printed}");
    let page = Page::open(browser, &file_url(&html));
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
    page.screenshot("player-gnutella.png");
}

#[test]
fn the_chord_player_highlights_the_lookup_s_path_as_routed() {
    let Some(browser) = chromium() else { return };
    for (routing, shot) in [
        ("iterative", "player-chord.png"),
        ("recursive", "player-chord-recursive.png"),
    ] {
        let (html, printed) = player(
            &format!("chord-{routing}"),
            &["chord", "--routing", routing],
        );
        let page = Page::open(browser, &file_url(&html));
        assert_lookup_path(&page, &printed, routing);
        page.assert_no_errors();
        page.screenshot(shot);
    }
}
