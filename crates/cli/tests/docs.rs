//! The book in `docs/` stays true to the binary: every `p2plab` command quoted in a ```sh
//! block parses with the current command line, and every figure, link and include the
//! chapters point at exists, and every trace the book shows is what the code prints today.
//!
//! A command is checked by the real binary's own parser: with `P2PLAB_CHECK_ARGS` set it
//! parses its command line and stops, so nothing starts, binds a port or writes a file.

mod common;

use std::path::{Path, PathBuf};

use common::parses;

fn book() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/src")
}

fn markdown_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).expect("docs/src is readable");
    for entry in entries.map(|e| e.expect("a directory entry").path()) {
        if entry.is_dir() {
            markdown_files(&entry, out);
        } else if entry.extension().is_some_and(|e| e == "md") {
            out.push(entry);
        }
    }
    out.sort();
}

/// Splits a command line the way a POSIX shell would, for the simple lines the book
/// quotes: quotes and backslashes, and it stops at a comment or at `>`, `|`, `&`, `;`.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('"'), '\\') => word.get_or_insert_default().extend(chars.next()),
            (Some(_), c) => word.get_or_insert_default().push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                word.get_or_insert_default();
            }
            (None, '\\') => word.get_or_insert_default().extend(chars.next()),
            (None, '#') if word.is_none() => break,
            (None, '>' | '|' | '&' | ';') => break,
            (None, c) if c.is_whitespace() => words.extend(word.take()),
            (None, c) => word.get_or_insert_default().push(c),
        }
    }
    words.extend(word);
    words
}

/// The `p2plab ...` lines of the ```sh blocks of one chapter.
fn commands(markdown: &str) -> Vec<String> {
    let mut in_sh = false;
    let mut out = Vec::new();
    for line in markdown.lines().map(str::trim) {
        if let Some(info) = line.strip_prefix("```") {
            in_sh = !in_sh && matches!(info.trim(), "sh" | "bash" | "console");
        } else if in_sh && line.starts_with("p2plab ") {
            out.push(line.to_owned());
        }
    }
    out
}

#[test]
fn the_splitter_follows_shell_quoting() {
    assert_eq!(
        shell_words(r#"p2plab get --control 1:2 "A \"B\" C.mp3" --out /tmp/x  # note"#),
        [
            "p2plab",
            "get",
            "--control",
            "1:2",
            r#"A "B" C.mp3"#,
            "--out",
            "/tmp/x"
        ]
    );
    assert_eq!(
        shell_words("p2plab trace chord > x.txt"),
        ["p2plab", "trace", "chord"]
    );
    assert_eq!(
        shell_words("p2plab search 'four seasons' &"),
        ["p2plab", "search", "four seasons"]
    );
    assert_eq!(shell_words("p2plab x#a"), ["p2plab", "x#a"]);
}

#[test]
fn every_p2plab_command_in_the_book_parses() {
    let mut files = Vec::new();
    markdown_files(&book(), &mut files);
    let mut checked = 0;
    let mut refused = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("a chapter");
        for line in commands(&text) {
            let words = shell_words(&line);
            if let Err(why) = parses(&words[1..]) {
                refused.push(format!("{}: {line}\n{why}", file.display()));
            }
            checked += 1;
        }
    }
    assert!(checked >= 20, "the book quotes commands ({checked} found)");
    assert!(refused.is_empty(), "refused:\n{}", refused.join("\n"));
}

/// `n` as the book writes it: 1,000 for 1000.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The defaults the book states in prose, each beside the phrase that states it: when a
/// default changes, the sentence has to change with it.
#[test]
fn the_defaults_the_book_states_are_the_code_s() {
    use p2plab_chord::config as chord;
    use p2plab_gnutella::config as gnutella;
    let readme = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md");
    let every_second = |d: std::time::Duration| d == std::time::Duration::from_secs(1);
    let stated = [
        (
            readme,
            format!("with the default ({})", gnutella::DEFAULT_MIN_PEERS),
            true,
        ),
        (
            book().join("05-chord.md"),
            "**stabilize** (every second by default)".to_owned(),
            every_second(chord::STABILIZE_EVERY),
        ),
        (
            book().join("view.md"),
            format!(
                "A trace goes up to {} nodes (`--nodes {}`;",
                thousands(p2plab_trace::MAX_NODES),
                p2plab_trace::MAX_NODES
            ),
            true,
        ),
        (
            book().join("simulator.md"),
            format!("at the default {} ms", chord::FIX_FINGERS_EVERY.as_millis()),
            true,
        ),
    ];
    for (file, phrase, code_agrees) in stated {
        let text = std::fs::read_to_string(&file).expect("a chapter");
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            text.contains(&phrase) && code_agrees,
            "{}: \"{phrase}\" no longer matches the code",
            file.display()
        );
    }
}

/// Link targets `](target)` and include paths `{{#include path}}` in `text`.
fn targets(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for part in text.split("](").skip(1) {
        if let Some(end) = part.find(')') {
            out.push(part[..end].to_owned());
        }
    }
    for part in text.split("{{#include ").skip(1) {
        if let Some(end) = part.find("}}") {
            out.push(part[..end].split(':').next().unwrap_or_default().to_owned());
        }
    }
    out.retain(|t| !t.starts_with("http") && !t.starts_with('#'));
    out
}

#[test]
fn every_figure_link_and_include_exists() {
    let root = book();
    let mut files = Vec::new();
    markdown_files(&root, &mut files);
    let mut missing = Vec::new();
    let mut figures = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).expect("a chapter");
        // Generated fragments are included into chapters, so their links are relative to
        // the book's root like the chapters'.
        let base = if file.starts_with(root.join("generated")) {
            root.clone()
        } else {
            file.parent().expect("a directory").to_path_buf()
        };
        for target in targets(&text) {
            figures += usize::from(target.ends_with(".svg"));
            if !base.join(&target).exists() {
                missing.push(format!("{}: {target}", file.display()));
            }
        }
    }
    assert!(figures >= 5, "the book shows figures ({figures} found)");
    assert!(missing.is_empty(), "missing:\n{}", missing.join("\n"));
}

/// Every limit the threat model names, as the code has it, in the form the appendix writes
/// it: `` `NAME` = value``.
fn limits() -> Vec<(&'static str, String)> {
    use p2plab_chord as chord;
    use p2plab_gnutella as gnutella;
    use p2plab_napster as napster;
    use p2plab_peer_protocol::{control, transfer};
    use p2plab_runtime::limits;
    let secs = |d: std::time::Duration| format!("{} s", d.as_secs());
    vec![
        ("MAX_CONNECTIONS", limits::MAX_CONNECTIONS.to_string()),
        ("MAX_UNIDENTIFIED", limits::MAX_UNIDENTIFIED.to_string()),
        ("IDENTIFY_TIMEOUT", secs(limits::IDENTIFY_TIMEOUT)),
        ("MAX_QUEUED_BYTES", limits::MAX_QUEUED_BYTES.to_string()),
        ("WRITE_TIMEOUT", secs(limits::WRITE_TIMEOUT)),
        ("MAX_INBOX_CHUNKS", limits::MAX_INBOX_CHUNKS.to_string()),
        ("MAX_UPLOADS", limits::MAX_UPLOADS.to_string()),
        ("MAX_PUSHES", limits::MAX_PUSHES.to_string()),
        ("MAX_PUSH_WAITS", limits::MAX_PUSH_WAITS.to_string()),
        ("CONNECT_TIMEOUT", secs(limits::CONNECT_TIMEOUT)),
        ("MAX_LATENCY", secs(limits::MAX_LATENCY)),
        ("MAX_SESSIONS", control::MAX_SESSIONS.to_string()),
        ("IDLE_TIMEOUT", secs(control::IDLE_TIMEOUT)),
        ("MAX_LINE_LEN", control::MAX_LINE_LEN.to_string()),
        (
            "MAX_BYTES_BACK",
            p2plab_scenario::seat::MAX_BYTES_BACK.to_string(),
        ),
        ("LOGIN_TIMEOUT", secs(napster::LOGIN_TIMEOUT)),
        (
            "MAX_PENDING_LOGINS",
            napster::MAX_PENDING_LOGINS.to_string(),
        ),
        (
            "MAX_PENDING_LOGINS_PER_ADDRESS",
            napster::MAX_PENDING_LOGINS_PER_ADDRESS.to_string(),
        ),
        ("MAX_DATA_LEN", napster::MAX_DATA_LEN.to_string()),
        (
            "MAX_FILES_PER_USER",
            napster::MAX_FILES_PER_USER.to_string(),
        ),
        ("MAX_INDEXED_FILES", napster::MAX_INDEXED_FILES.to_string()),
        ("MAX_INDEXED_BYTES", napster::MAX_INDEXED_BYTES.to_string()),
        ("MAX_RESULTS", napster::MAX_RESULTS.to_string()),
        (
            "MAX_REQUEST_LEN",
            napster::transfer::MAX_REQUEST_LEN.to_string(),
        ),
        ("MAX_REASON_LEN", napster::MAX_REASON_LEN.to_string()),
        (
            "MAX_HOTLIST_PER_USER",
            napster::MAX_HOTLIST_PER_USER.to_string(),
        ),
        (
            "MAX_HOTLIST_ENTRIES",
            napster::MAX_HOTLIST_ENTRIES.to_string(),
        ),
        (
            "MAX_OFFSET_LEN",
            napster::transfer::MAX_OFFSET_LEN.to_string(),
        ),
        (
            "MAX_PENDING_HANDSHAKES",
            gnutella::MAX_PENDING_HANDSHAKES.to_string(),
        ),
        ("MAX_HANDSHAKE_LEN", gnutella::MAX_HANDSHAKE_LEN.to_string()),
        ("MAX_PAYLOAD", gnutella::MAX_PAYLOAD.to_string()),
        (
            "MAX_PINGS_PER_WINDOW",
            gnutella::MAX_PINGS_PER_WINDOW.to_string(),
        ),
        ("PING_WINDOW", secs(gnutella::PING_WINDOW)),
        (
            "MAX_QUERIES_PER_WINDOW",
            gnutella::MAX_QUERIES_PER_WINDOW.to_string(),
        ),
        ("QUERY_WINDOW", secs(gnutella::QUERY_WINDOW)),
        (
            "MAX_QUERIES_FORWARDED_PER_WINDOW",
            gnutella::MAX_QUERIES_FORWARDED_PER_WINDOW.to_string(),
        ),
        ("MAX_TTL", gnutella::MAX_TTL.to_string()),
        (
            "MAX_DYNAMIC_PER_SEARCHER",
            gnutella::servent::MAX_DYNAMIC_PER_SEARCHER.to_string(),
        ),
        (
            "MAX_DYNAMIC_QUERIES",
            gnutella::servent::MAX_DYNAMIC_QUERIES.to_string(),
        ),
        (
            "ROUTE_TABLE_CAPACITY",
            gnutella::ROUTE_TABLE_CAPACITY.to_string(),
        ),
        ("MAX_HEAD_LEN", transfer::MAX_HEAD_LEN.to_string()),
        ("MAX_LINK_KEYS", chord::MAX_LINK_KEYS.to_string()),
        ("MAX_LINK_RECORDS", chord::MAX_LINK_RECORDS.to_string()),
        ("MAX_STORED_KEYS", chord::MAX_STORED_KEYS.to_string()),
        ("MAX_STORED_RECORDS", chord::MAX_STORED_RECORDS.to_string()),
    ]
}

/// Every `fn name(` in the workspace's Rust sources.
fn function_names() -> std::collections::HashSet<String> {
    fn walk(dir: &Path, names: &mut std::collections::HashSet<String>) {
        for entry in std::fs::read_dir(dir)
            .expect("a source folder")
            .map(|e| e.expect("an entry"))
        {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, names);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("a source file");
                for part in text.split("fn ").skip(1) {
                    let name: String = part
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    names.insert(name);
                }
            }
        }
    }
    let mut names = std::collections::HashSet::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join(".."),
        &mut names,
    );
    names
}

#[test]
fn the_threat_model_gives_the_limits_the_code_has_and_names_real_tests() {
    let text = std::fs::read_to_string(book().join("threat-model.md")).expect("the appendix");
    let limits = limits();
    let mut wrong = Vec::new();
    for part in text.split('`').skip(1).step_by(2) {
        let rest = text.split(&format!("`{part}` = ")).nth(1);
        let Some(rest) = rest else { continue };
        match limits.iter().find(|(name, _)| *name == part) {
            Some((_, value)) if rest.starts_with(value.as_str()) => {}
            Some((_, value)) => wrong.push(format!("`{part}` is {value} in the code")),
            None => wrong.push(format!("`{part}` is not a limit this test knows")),
        }
    }
    for (name, value) in &limits {
        if !text.contains(&format!("`{name}` = {value}")) {
            wrong.push(format!("`{name}` = {value} is not in the appendix"));
        }
    }
    let functions = function_names();
    let fuzz_targets = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/fuzz_targets");
    for row in text.lines().filter(|l| l.starts_with('|')) {
        let Some(tests) = row.trim_end_matches('|').rsplit('|').next() else {
            continue;
        };
        for name in tests.split('`').skip(1).step_by(2) {
            let fuzzed = fuzz_targets.join(format!("{name}.rs")).exists();
            if name.contains('_') && !functions.contains(name) && !fuzzed {
                wrong.push(format!("no test or fuzz target named {name}"));
            }
        }
    }
    wrong.sort();
    wrong.dedup();
    assert!(
        wrong.is_empty(),
        "docs/src/threat-model.md:\n{}",
        wrong.join("\n")
    );
}

/// Every trace in `scripts/traces.list` (the list `scripts/docs-figures.sh` runs) printed,
/// drawn and made into a player again, byte for byte as committed: the traces run on virtual time with fixed
/// seeds, so a change to a core, a message or a picture that the book would show
/// differently fails here until the figures are regenerated.
#[test]
fn the_committed_traces_are_what_the_code_prints() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let list = std::fs::read_to_string(root.join("scripts/traces.list")).expect("the list");
    let scratch = std::env::temp_dir().join(format!("p2plab-traces-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).expect("a scratch folder");
    let mut stale = Vec::new();
    for line in list
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
    {
        let mut words = line.split_whitespace();
        let text = words.next().expect("a file name");
        let mut args = vec!["trace".to_owned()];
        // The files this line draws, each with the folder of docs/src it is committed in.
        let mut drawn = Vec::new();
        while let Some(w) = words.next() {
            args.push(w.to_owned());
            let folder = match w {
                "--svg" => "figures",
                "--html" => "players",
                _ => continue,
            };
            let name = words.next().expect("--svg and --html name a file");
            drawn.push((folder, name));
            args.push(scratch.join(name).display().to_string());
        }
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_p2plab"))
            .args(&args)
            .output()
            .expect("p2plab runs");
        assert!(out.status.success(), "p2plab {}: {:?}", args.join(" "), out);
        let committed = std::fs::read(book().join("generated").join(text)).expect(text);
        if out.stdout != committed {
            stale.push(text.to_owned());
        }
        for (folder, name) in drawn {
            let fresh = std::fs::read(scratch.join(name)).expect("the file was written");
            if fresh != std::fs::read(book().join(folder).join(name)).expect(name) {
                stale.push(name.to_owned());
            }
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    assert!(
        stale.is_empty(),
        "stale in docs/src: {stale:?}; run scripts/docs-figures.sh --traces-only"
    );
}
