//! Scenario files: the shipped ones parse, and a bad file is refused with the field and
//! the line and column that are wrong.

#![allow(clippy::unwrap_used)] // a test fails by panicking

use p2plab_scenario::spec::{ChurnProcess, LatencyMs, LogNormalMs, NodeCount, Sessions, Step};
use p2plab_scenario::{load, parse, SpecError};
use p2plab_sim::churn::Lifetime;

const GOOD: &str = r#"{
  "name": "t",
  "networks": ["napster", "chord"],
  "nodes": [16, 64],
  "seed": 1,
  "files": { "count": 10, "copies": 2, "min_size": 1, "max_size": 10 },
  "workload": { "rate": 10, "zipf": 1, "missing_share": 0.1, "download_share": 0.1 },
  "timeline": [
    { "start": { "label": "up" } },
    { "kill_peers": { "label": "20%", "fraction": 0.2 } },
    { "churn": { "label": "churn", "seconds": 5, "joins_per_s": 1, "leaves_per_s": 1 } }
  ]
}"#;

fn syntax(text: &str) -> (String, String, usize, usize) {
    match parse(text).unwrap_err() {
        SpecError::Syntax {
            field,
            message,
            line,
            column,
        } => (field, message, line, column),
        other => panic!("expected a syntax error, got {other}"),
    }
}

/// The field a file that parses but makes no sense is refused for.
fn invalid_field(text: &str) -> String {
    match parse(text) {
        Err(SpecError::Invalid { field, .. }) => field,
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[test]
fn a_good_file_parses_with_defaults() {
    let s = parse(GOOD).unwrap();
    assert_eq!(s.nodes, NodeCount::Sweep(vec![16, 64]));
    assert_eq!(s.nodes.values(), [16, 64]);
    assert_eq!(s.workload.concurrency, 64);
    assert_eq!(s.settings.gnutella.ttl, 4);
    assert!(matches!(s.timeline[2], Step::Churn { crash: false, .. }));
}

#[test]
fn an_unknown_field_is_named_with_its_line_and_column() {
    let bad = GOOD.replace(r#""zipf": 1,"#, r#""zipf": 1, "zipff": 2,"#);
    let (field, message, line, column) = syntax(&bad);
    assert_eq!(field, "workload.zipff");
    assert!(message.contains("unknown field `zipff`"), "{message}");
    // The column of the unknown key's closing quote.
    assert_eq!((line, column), (7, 46));
}

#[test]
fn a_wrong_type_deep_in_the_timeline_is_named() {
    let bad = GOOD.replace(r#""fraction": 0.2"#, r#""fraction": "a fifth""#);
    let (field, message, line, _) = syntax(&bad);
    assert_eq!(field, "timeline[1].kill_peers.fraction");
    assert!(message.contains("invalid type: string"), "{message}");
    assert_eq!(line, 10);
    let err = parse(&bad).unwrap_err().to_string();
    assert!(
        err.starts_with("timeline[1].kill_peers.fraction: invalid type"),
        "{err}"
    );
    assert!(err.ends_with("line 10 column 59"), "{err}");
}

#[test]
fn an_unknown_step_and_network_are_refused() {
    let (field, message, ..) = syntax(&GOOD.replace(r#""churn": {"#, r#""dance": {"#));
    assert_eq!(field, "timeline[2]");
    assert!(message.contains("unknown variant `dance`"), "{message}");
    let (field, ..) = syntax(&GOOD.replace(r#""chord"]"#, r#""kazaa"]"#));
    assert_eq!(field, "networks[1]");
}

#[test]
fn values_that_make_no_sense_are_refused_by_field() {
    let cases = [
        (
            GOOD.replace(r#""fraction": 0.2"#, r#""fraction": 1.5"#),
            "timeline[1].kill_peers.fraction",
        ),
        (
            GOOD.replace(r#""copies": 2"#, r#""copies": 20"#),
            "files.copies",
        ),
        (GOOD.replace("[16, 64]", "[16, 1]"), "nodes[1]"),
        (
            // 200,000 files, 2 copies each: more than a Napster index server holds.
            GOOD.replace(r#""count": 10"#, r#""count": 200000"#),
            "files.count",
        ),
        (
            GOOD.replace(r#""label": "20%""#, r#""label": "up""#),
            "timeline[1].kill_peers.label",
        ),
        (
            GOOD.replace(r#""missing_share": 0.1"#, r#""missing_share": 2"#),
            "workload.missing_share",
        ),
        (
            GOOD.replace(
                r#""start": { "label": "up" }"#,
                r#""wait": { "label": "up", "seconds": 1 }"#,
            ),
            "timeline[0]",
        ),
    ];
    for (text, want) in cases {
        assert_eq!(invalid_field(&text), want);
    }
}

/// GOOD with a `settings` object.
fn with_settings(settings: &str) -> String {
    GOOD.replace(
        r#""timeline": ["#,
        &format!(r#""settings": {settings}, "timeline": ["#),
    )
}

/// The field and message a file is refused for, as the error prints them.
fn refusal(text: &str) -> String {
    match parse(text) {
        Err(e @ SpecError::Invalid { .. }) => e.to_string(),
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[test]
fn a_setting_out_of_range_is_named_by_its_path_with_the_range_the_node_takes() {
    let cases = [
        (
            r#"{ "gnutella": { "degree": 3, "max_peers": 8, "ttl": 9, "ping_ttl": 2,
                "ping_interval_s": 30, "search_window_ms": 1000 } }"#,
            "settings.gnutella.ttl: must be 1..=7, not 9",
        ),
        (
            r#"{ "gnutella": { "degree": 3, "max_peers": 300, "ttl": 4, "ping_ttl": 2,
                "ping_interval_s": 30, "search_window_ms": 1000 } }"#,
            "settings.gnutella.max_peers: must be 1..=256, not 300",
        ),
        (
            r#"{ "gnutella": { "degree": 3, "max_peers": 2, "ttl": 4, "ping_ttl": 2,
                "ping_interval_s": 30, "search_window_ms": 1000 } }"#,
            "settings.gnutella.max_peers: must be at least settings.gnutella.degree (3), not 2",
        ),
        (
            r#"{ "gnutella": { "degree": 3, "max_peers": 8, "ttl": 4, "ping_ttl": 2,
                "ping_interval_s": -1, "search_window_ms": 1000 } }"#,
            "settings.gnutella.ping_interval_s: must be 1ms..=86400s, not 0ns",
        ),
        (
            r#"{ "chord": { "successors": 33, "replicas": 3, "stabilize_ms": 250,
                "fix_fingers_ms": 100, "join_batch": 8 } }"#,
            "settings.chord.successors: must be 1..=32, not 33",
        ),
        (
            r#"{ "chord": { "successors": 2, "replicas": 4, "stabilize_ms": 250,
                "fix_fingers_ms": 100, "join_batch": 8 } }"#,
            "settings.chord.replicas: must be at most one more than settings.chord.successors \
             (2), not 4",
        ),
        (
            r#"{ "chord": { "successors": 8, "replicas": 3, "stabilize_ms": 0,
                "fix_fingers_ms": 100, "join_batch": 8 } }"#,
            "settings.chord.stabilize_ms: must be 1ms..=86400s, not 0ns",
        ),
    ];
    for (settings, want) in cases {
        assert_eq!(refusal(&with_settings(settings)), want);
    }
}

#[test]
fn settings_left_out_take_the_cluster_defaults_of_the_protocol_crates() {
    use p2plab_chord::config as chord;
    use p2plab_gnutella::config as gnutella;
    let s = parse(GOOD).unwrap().settings;
    assert_eq!(s.gnutella.degree, gnutella::CLUSTER_MIN_PEERS);
    assert_eq!(s.gnutella.ttl, gnutella::CLUSTER_TTL);
    assert_eq!(s.gnutella.ping_ttl, gnutella::CLUSTER_PING_TTL);
    assert_eq!(s.gnutella.max_peers, gnutella::DEFAULT_MAX_PEERS);
    let window = std::time::Duration::from_millis(s.gnutella.search_window_ms);
    assert_eq!(window, gnutella::CLUSTER_SEARCH_WINDOW);
    let stabilize = std::time::Duration::from_millis(s.chord.stabilize_ms);
    assert_eq!(stabilize, chord::CLUSTER_STABILIZE_EVERY);
    assert_eq!(s.chord.successors, chord::DEFAULT_SUCCESSORS);
}

/// The settings table of `scenarios/README.md`: (`section.field`, default, valid).
fn readme_settings() -> Vec<(String, String, String)> {
    let readme = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/README.md");
    let text = std::fs::read_to_string(readme).unwrap();
    text.lines()
        .filter_map(|row| {
            let cells: Vec<&str> = row.split('|').map(str::trim).collect();
            match cells.as_slice() {
                ["", name, default, valid, ""] if name.starts_with('`') => Some((
                    name.trim_matches('`').to_owned(),
                    (*default).to_owned(),
                    (*valid).to_owned(),
                )),
                _ => None,
            }
        })
        .collect()
}

/// GOOD with every setting at its default but `field` (`section.name`) at `value`.
fn with_setting(field: &str, value: f64) -> String {
    let mut settings = serde_json::to_value(p2plab_scenario::spec::Settings::default()).unwrap();
    settings.as_object_mut().unwrap().remove("napster");
    let (section, name) = field.split_once('.').unwrap();
    // Whole numbers as integers, which every integer field takes.
    settings[section][name] = if value.fract() == 0.0 {
        serde_json::json!(value as i64)
    } else {
        serde_json::json!(value)
    };
    with_settings(&settings.to_string())
}

#[test]
fn the_readme_states_every_setting_s_default_and_range_as_the_code_has_them() {
    let defaults = serde_json::to_value(p2plab_scenario::spec::Settings::default()).unwrap();
    let rows = readme_settings();
    assert_eq!(rows.len(), 11, "one row per gnutella and chord setting");
    for (field, default, valid) in rows {
        let (section, name) = field.split_once('.').unwrap();
        let code = defaults[section][name].as_f64().unwrap();
        assert_eq!(default.parse::<f64>().unwrap(), code, "{field}'s default");
        // A range, alone or followed by how another setting bounds it.
        let (range, bounded_by_another) = match valid.split_once(", ") {
            Some((range, _)) => (range, true),
            None => (valid.as_str(), false),
        };
        let Some((lo, hi)) = range.split_once("..=") else {
            continue;
        };
        let (lo, hi): (f64, f64) = (lo.parse().unwrap(), hi.parse().unwrap());
        if !bounded_by_another {
            assert!(parse(&with_setting(&field, lo)).is_ok(), "{field} = {lo}");
        }
        assert!(parse(&with_setting(&field, hi)).is_ok(), "{field} = {hi}");
        let past = with_setting(&field, hi + 1.0);
        assert!(refusal(&past).starts_with(&format!("settings.{field}:")));
        if lo >= 1.0 {
            let below = with_setting(&field, lo - 1.0);
            assert!(refusal(&below).starts_with(&format!("settings.{field}:")));
        }
    }
}

#[test]
fn a_wrong_shape_or_a_broken_file_says_what_was_expected_and_where() {
    let (field, message, _, _) = syntax(&GOOD.replace("[16, 64]", r#""many""#));
    assert_eq!(field, "nodes");
    assert!(message.contains("a number of peers, like 100"), "{message}");
    let cut = GOOD.find(r#""rate""#).unwrap();
    let (field, message, line, _) = syntax(&GOOD[..cut]);
    assert_eq!(field, "workload");
    assert!(message.contains("EOF"), "{message}");
    assert!(line > 1);
    let (field, _, _, _) = syntax("{");
    assert_eq!(field, "the file");
}

#[test]
fn every_shipped_scenario_parses() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            seen += 1;
        }
    }
    assert!(seen >= 6, "default plus the five questions, found {seen}");
}

#[test]
fn churn_by_poisson_rates_or_by_sessions_parses_and_a_mix_is_refused() {
    let poisson = GOOD.replace(
        r#""leaves_per_s": 1 }"#,
        r#""leaves_per_s": 1, "process": "poisson" }"#,
    );
    let s = parse(&poisson).unwrap();
    assert!(matches!(
        s.timeline[2],
        Step::Churn {
            process: ChurnProcess::Poisson,
            ..
        }
    ));
    let sessions = GOOD.replace(
        r#""joins_per_s": 1, "leaves_per_s": 1 }"#,
        r#""sessions": {
            "session": { "distribution": "weibull", "shape": 0.5, "scale_secs": 30 },
            "offline": { "distribution": "pareto", "shape": 2, "scale_secs": 10 } } }"#,
    );
    let Step::Churn {
        sessions: Some(Sessions { session, offline }),
        ..
    } = parse(&sessions).unwrap().timeline[2].clone()
    else {
        panic!("a churn step with sessions");
    };
    assert_eq!(
        session,
        Lifetime::Weibull {
            shape: 0.5,
            scale_secs: 30.0
        }
    );
    assert_eq!(
        offline,
        Lifetime::Pareto {
            shape: 2.0,
            scale_secs: 10.0
        }
    );
    let refusals = [
        (
            // Sessions and rates at once.
            sessions.replace(r#""seconds": 5,"#, r#""seconds": 5, "joins_per_s": 1,"#),
            "timeline[2].churn.sessions",
        ),
        (
            sessions.replace(r#""shape": 0.5"#, r#""shape": 0.01"#),
            "timeline[2].churn.sessions.session.shape",
        ),
        (
            sessions.replace(r#""scale_secs": 30"#, r#""scale_secs": 1e-9"#),
            "timeline[2].churn.sessions.session.scale_secs",
        ),
        (
            sessions.replace(r#""scale_secs": 10"#, r#""scale_secs": -1"#),
            "timeline[2].churn.sessions.offline.scale_secs",
        ),
        (
            poisson.replace(r#""joins_per_s": 1"#, r#""joins_per_s": 1e9"#),
            "timeline[2].churn.joins_per_s",
        ),
    ];
    for (text, want) in refusals {
        assert_eq!(invalid_field(&text), want);
    }
    let (field, message, ..) = syntax(&sessions.replace("weibull", "gamma"));
    assert_eq!(field, "timeline[2].churn.sessions.session.distribution");
    assert!(message.contains("unknown variant `gamma`"), "{message}");
}

#[test]
fn simulated_latency_is_a_range_or_a_log_normal() {
    let with_sim = |sim: &str| {
        GOOD.replace(
            r#""timeline": ["#,
            &format!("\"sim\": {sim},\n  \"timeline\": ["),
        )
    };
    let s = parse(&with_sim(r#"{ "latency_ms": [1, 1], "loss": 0 }"#)).unwrap();
    assert_eq!(s.sim.latency_ms.to_string(), "1 ms");
    let s = parse(&with_sim(
        r#"{ "latency_ms": { "median": 20, "sigma": 0.6 }, "loss": 0.01 }"#,
    ))
    .unwrap();
    assert_eq!(
        s.sim.latency_ms,
        LatencyMs::LogNormal(LogNormalMs {
            median: 20.0,
            sigma: 0.6
        })
    );
    assert_eq!(
        s.sim.latency_ms.to_string(),
        "log-normal, median 20 ms, σ 0.6"
    );
    let refusals = [
        (
            r#"{ "latency_ms": { "median": 0, "sigma": 0.6 }, "loss": 0 }"#,
            "sim.latency_ms.median",
        ),
        (
            r#"{ "latency_ms": { "median": 5, "sigma": 9 }, "loss": 0 }"#,
            "sim.latency_ms.sigma",
        ),
        (r#"{ "latency_ms": [2, 1], "loss": 0 }"#, "sim.latency_ms"),
    ];
    for (sim, want) in refusals {
        assert_eq!(invalid_field(&with_sim(sim)), want);
    }
    let (field, message, ..) = syntax(&with_sim(
        r#"{ "latency_ms": { "mean": 5, "sigma": 1 }, "loss": 0 }"#,
    ));
    assert_eq!(field, "sim.latency_ms");
    assert!(message.contains("log-normal"), "{message}");
}
