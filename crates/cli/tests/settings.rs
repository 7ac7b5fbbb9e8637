//! A node's flags are checked by its config's own `validate()`: a bad value is refused
//! before anything starts, naming the flag and the range the node takes.

mod common;

use common::parses;

/// What the binary says when it refuses `line`.
fn refusal(line: &str) -> String {
    let args: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
    match parses(&args) {
        Err(message) => message,
        Ok(()) => panic!("`{line}` was accepted"),
    }
}

#[test]
fn a_bad_flag_is_refused_by_name_with_its_range() {
    let cases = [
        (
            "gnutella node --share . --ttl 9",
            "--ttl must be 1..=7, not 9",
        ),
        (
            "gnutella node --share . --max-peers 300",
            "--max-peers must be 1..=256, not 300",
        ),
        (
            "gnutella node --share . --max-peers 2",
            "--max-peers must be at least --min-peers (4), not 2",
        ),
        (
            "gnutella node --share . --search-window-ms 0",
            "--search-window-ms must be 1ms..=86400s, not 0ns",
        ),
        (
            "chord node --share . --id-bits 161",
            "--id-bits must be 1..=160, not 161",
        ),
        (
            "chord node --share . --successors 1",
            "--replicas must be at most one more than --successors (1), not 3",
        ),
        (
            "chord node --share . --stabilize-ms 0",
            "--stabilize-ms must be 1ms..=86400s, not 0ns",
        ),
    ];
    for (line, want) in cases {
        let message = refusal(line);
        assert!(message.contains(want), "`{line}`: {message}");
    }
}

#[test]
fn the_defaults_and_their_bounds_are_accepted() {
    for line in [
        "gnutella node --share .",
        "gnutella node --share . --ttl 1 --ping-ttl 7 --min-peers 0 --max-peers 256",
        "chord node --share .",
        "chord node --share . --id-bits 1 --successors 32 --replicas 33",
    ] {
        let args: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
        assert_eq!(parses(&args), Ok(()), "`{line}`");
    }
}

/// Every node command takes `--advertise`, and every one refuses to listen on every
/// interface without it, naming the flag, before anything starts.
#[test]
fn every_interface_needs_advertise_on_every_node_command() {
    for node in [
        "napster server",
        "napster peer --server 127.0.0.1:8888 --share .",
        "gnutella node --share .",
        "chord node --share .",
    ] {
        let bare = format!("{node} --listen 0.0.0.0:7400");
        let message = refusal(&bare);
        assert!(
            message.contains("--listen 0.0.0.0:7400 is every interface")
                && message.contains("--advertise"),
            "`{bare}`: {message}"
        );
        let told = format!("{bare} --advertise 192.168.1.23");
        let args: Vec<String> = told.split_whitespace().map(str::to_owned).collect();
        assert_eq!(parses(&args), Ok(()), "`{told}`");
        let hidden = format!("{node} --listen 127.0.0.1:7400 --advertise 192.168.1.23");
        let message = refusal(&hidden);
        assert!(
            message.contains("reached only from this machine"),
            "`{hidden}`: {message}"
        );
    }
}
