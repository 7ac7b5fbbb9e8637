//! Napster end to end on real loopback sockets: an index server, peers sharing real folders,
//! a search, a download, and what happens when the holder and then the server die; and the
//! questions about users (browse, whois, ping) asked through a peer's control port.

#![allow(clippy::unwrap_used)] // a test fails by panicking

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use tokio::io::AsyncWriteExt;

use p2plab_napster::peer::DEFAULT_LINK_TYPE;
use p2plab_peer_protocol::{Hit, Library};
use p2plab_peer_protocol::control::{ControlReply, ControlRequest};
use p2plab_peer_protocol::{Answer, Hit, Holder, Library, Question};
use p2plab_runtime::control::{self, ControlClient, ControlOptions};
use p2plab_runtime::{launch, NodeError, NodeHandle};

fn folder(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in files {
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    dir
}

async fn peer(server: SocketAddr, nick: &str, dir: &Path) -> NodeHandle {
    launch::napster_peer(
        server,
        common::any_port(),
        nick,
        Library::from_dir(dir).unwrap(),
    )
    .await
    .unwrap()
}

/// Searches until `done` holds for the hits (peers log in and share asynchronously), at most
/// a bounded number of times.
async fn search_until(node: &NodeHandle, query: &str, done: impl Fn(&[Hit]) -> bool) -> Vec<Hit> {
    for _ in 0..200 {
        if let Ok(hits) = node.search(query).await {
            if done(&hits) {
                return hits;
            }
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("search for {query:?} never reached the expected state");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_download_and_the_single_point_of_failure() {
    let server = launch::napster_server(common::any_port(), Default::default())
        .await
        .unwrap();
    let song: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let a = folder(&[
        ("Daft Punk - Around the World.mp3", &song),
        ("notes.txt", b"hello"),
    ]);
    let b = folder(&[("Air - La Femme d'Argent.mp3", b"air")]);
    let c = folder(&[("Daft Punk - Da Funk.mp3", b"funk")]);
    let empty = folder(&[]);
    let alice = peer(server.addr(), "alice", a.path()).await;
    let _bob = peer(server.addr(), "bob", b.path()).await;
    let _carol = peer(server.addr(), "carol", c.path()).await;
    let dave = peer(server.addr(), "dave", empty.path()).await;

    let hits = search_until(&dave, "daft punk", |h| h.len() == 2).await;
    let mut names: Vec<_> = hits.iter().map(|h| h.name.as_str()).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "Daft Punk - Around the World.mp3",
            "Daft Punk - Da Funk.mp3"
        ]
    );
    let world = hits.iter().find(|h| h.name.contains("World")).unwrap();
    assert_eq!(world.size, song.len() as u64);
    assert_eq!(world.holder.to_string(), "alice@127.0.0.1");

    let out = empty.path().join("downloaded.mp3");
    let fetched = dave
        .get("Daft Punk - Around the World.mp3", &out, false)
        .await
        .unwrap();
    assert_eq!(fetched.bytes, song.len() as u64);
    assert_eq!(std::fs::read(&out).unwrap(), song);

    // The holder dies: its files leave the index with its connection.
    alice.crash();
    search_until(&dave, "world", |h| h.is_empty()).await;
    let gone = dave
        .get("Daft Punk - Around the World.mp3", &out, true)
        .await;
    assert!(matches!(gone, Err(NodeError::NotFound(_))), "{gone:?}");

    // The server dies: nobody can search any more.
    server.crash();
    let mut last = None;
    for _ in 0..200 {
        match dave.search("funk").await {
            Err(e) => {
                last = Some(e);
                break;
            }
            Ok(_) => tokio::time::sleep(Duration::from_millis(25)).await,
        }
    }
    let err = last.expect("searches must fail once the index server is gone");
    assert!(
        err.to_string().contains("not connected"),
        "unclear error: {err}"
    );
}

/// Speaks Napster's data-port protocol by hand: the `1` greeting, `GET`, the request.
async fn data_port_reply(addr: SocketAddr, request: &str) -> Vec<u8> {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    assert_eq!(common::read_exact(&mut s, 1).await, b"1");
    common::exchange(&mut s, &[b"GET", request.as_bytes()]).await
}

#[tokio::test]
async fn the_data_port_serves_only_shared_files() {
    let server = launch::napster_server(common::any_port(), Default::default())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let shared = dir.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::write(shared.join("song.mp3"), b"0123456789").unwrap();
    std::fs::write(dir.path().join("secret.txt"), b"top secret").unwrap();
    let alice = peer(server.addr(), "alice", &shared).await;

    // The size is the whole file's; the bytes start at the offset.
    assert_eq!(
        data_port_reply(alice.addr(), r#"bob "song.mp3" 4"#).await,
        b"10456789"
    );
    for request in [
        r#"bob "../secret.txt" 0"#,
        r#"bob "secret.txt" 0"#,
        r#"bob "/etc/passwd" 0"#,
    ] {
        assert_eq!(
            data_port_reply(alice.addr(), request).await,
            b"FILE NOT SHARED",
            "{request}"
        );
    }
    assert_eq!(
        data_port_reply(alice.addr(), r#"bob "song.mp3" 11"#).await,
        b"INVALID REQUEST"
    );
}

/// Reads `n` Napster frames from `stream`, as (type, data as text).
async fn frames(stream: &mut tokio::net::TcpStream, n: usize) -> Vec<(u16, String)> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let (kind, data) = common::read_napster_frame(stream).await;
        out.push((kind, String::from_utf8(data).unwrap()));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_raw_client_keeps_a_hotlist_pings_the_server_and_is_told_what_is_wrong() {
    let server = launch::napster_server(common::any_port(), Default::default())
        .await
        .unwrap();
    let mut raw = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    let login = common::napster_frame(2, "watcher secret 0 \"raw 1.0\" 0");
    raw.write_all(&login).await.unwrap();
    let greeting: Vec<u16> = frames(&mut raw, 5).await.iter().map(|f| f.0).collect();
    assert_eq!(greeting, [3, 621, 621, 621, 214]);

    let mut script = common::napster_frame(207, "dave");
    script.extend(common::napster_frame(100, ""));
    script.extend(common::napster_frame(750, "watcher"));
    raw.write_all(&script).await.unwrap();
    let unparsable = "parameters are unparsable: file name is not quoted";
    assert_eq!(
        frames(&mut raw, 3).await,
        [
            (301, "dave".to_owned()),
            (404, unparsable.to_owned()),
            (750, String::new())
        ]
    );

    // dave signs on, and then its machine dies.
    let dir = folder(&[]);
    let dave = peer(server.addr(), "dave", dir.path()).await;
    let signon = format!("dave {DEFAULT_LINK_TYPE}");
    assert_eq!(frames(&mut raw, 1).await, [(209, signon)]);
    dave.crash();
    assert_eq!(frames(&mut raw, 1).await, [(210, "dave".to_owned())]);
}

/// Asks `question` through the control port until `done` holds for the reply (peers log
/// in, share and leave asynchronously), at most a bounded number of times.
async fn ask_until(
    client: &ControlClient,
    question: &Question,
    done: impl Fn(&ControlReply) -> bool,
) -> ControlReply {
    let request = ControlRequest::Ask {
        question: question.clone(),
    };
    for _ in 0..200 {
        let reply = client.ask(&request, Duration::from_secs(20)).await.unwrap();
        if done(&reply) {
            return reply;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{question:?} never got the expected reply");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browse_whois_and_ping_through_a_peers_control_port() {
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let server = launch::napster_server(common::any_port(), Default::default())
        .await
        .unwrap();
    let a = folder(&[("Air - Sexy Boy.mp3", b"sexy"), ("notes.txt", b"hello")]);
    let empty = folder(&[]);
    let alice = peer(server.addr(), "alice", a.path()).await;
    let dave = peer(server.addr(), "dave", empty.path()).await;
    let run = empty.path().join("run");
    let served = control::serve(&dave, common::any_port(), &ControlOptions::new(run.clone()))
        .await
        .unwrap();
    let client = ControlClient::find(served.addr, &run).unwrap();

    let browse = Question::Browse {
        nick: "alice".into(),
    };
    let files = ask_until(
        &client,
        &browse,
        |r| matches!(r, ControlReply::Answer { answer: Answer::Files { hits } } if hits.len() == 2),
    )
    .await;
    let ControlReply::Answer {
        answer: Answer::Files { hits },
    } = files
    else {
        unreachable!("ask_until checked it")
    };
    let listed: Vec<(&str, u64, String)> = hits
        .iter()
        .map(|h| (h.name.as_str(), h.size, h.holder.to_string()))
        .collect();
    assert_eq!(
        listed,
        [
            ("Air - Sexy Boy.mp3", 4, "alice@127.0.0.1".to_owned()),
            ("notes.txt", 5, "alice@127.0.0.1".to_owned()),
        ]
    );
    assert!(matches!(&hits[0].holder, Holder::Napster { nick, .. } if nick == "alice"));

    let whois = Question::Whois {
        nick: "alice".into(),
    };
    let reply = ask_until(&client, &whois, |_| true).await;
    let ControlReply::Answer {
        answer: Answer::Online(info),
    } = reply
    else {
        panic!("alice is online: {reply:?}")
    };
    assert_eq!(
        (info.shared, info.client.as_str(), info.status.as_str()),
        (2, "p2plab 0.1", "Active")
    );

    let ping = Question::Ping {
        nick: "alice".into(),
    };
    let reply = ask_until(&client, &ping, |_| true).await;
    assert!(
        matches!(&reply, ControlReply::Answer { answer: Answer::Pong { nick, .. } } if nick == "alice"),
        "{reply:?}"
    );

    let never = Question::Whois { nick: "zed".into() };
    assert_eq!(
        ask_until(&client, &never, |_| true).await,
        ControlReply::Error {
            message: "the network refused: User is not currently online.".into()
        }
    );

    alice.crash();
    let gone = ask_until(&client, &whois, |r| {
        matches!(
            r,
            ControlReply::Answer {
                answer: Answer::Offline { .. }
            }
        )
    })
    .await;
    let ControlReply::Answer {
        answer: Answer::Offline { last_seen_unix, .. },
    } = gone
    else {
        unreachable!("ask_until checked it")
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(
        (started..=now).contains(&last_seen_unix),
        "last seen {last_seen_unix} is a calendar time within the test ({started}..={now})"
    );
    let reply = ask_until(&client, &ping, |_| true).await;
    assert_eq!(
        reply,
        ControlReply::Error {
            message: "the network refused: ping failed, alice is not online".into()
        }
    );
}
