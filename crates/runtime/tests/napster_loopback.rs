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

    // A push nobody asked for is refused as napster.txt §4.2 lets a downloader refuse.
    let mut s = tokio::net::TcpStream::connect(alice.addr()).await.unwrap();
    assert_eq!(common::read_exact(&mut s, 1).await, b"1");
    let unasked = common::exchange(&mut s, &[b"SEND", br#"mallory "song.mp3" 10"#]).await;
    assert_eq!(unasked, b"INVALID REQUEST");
}

/// Reads one client↔server frame: its type and its data.
async fn read_frame(s: &mut tokio::net::TcpStream) -> (u16, Vec<u8>) {
    let head = common::read_exact(s, 4).await;
    let len = usize::from(u16::from_le_bytes([head[0], head[1]]));
    let ty = u16::from_le_bytes([head[2], head[3]]);
    (ty, common::read_exact(s, len).await)
}

/// Accepts one push on `data` and speaks the downloader's part by hand (napster.txt §4.2):
/// `1`, then the holder's `SEND` and header, checked to be `header`; then `offset`, and
/// what follows until the holder closes.
async fn take_push(data: &tokio::net::TcpListener, header: &str, offset: &str) -> Vec<u8> {
    use tokio::io::AsyncWriteExt;
    let accepted = tokio::time::timeout(Duration::from_secs(10), data.accept());
    let (mut s, _) = accepted.await.unwrap().unwrap();
    s.write_all(b"1").await.unwrap();
    let want = format!("SEND{header}");
    let got = common::read_exact(&mut s, want.len()).await;
    assert_eq!(String::from_utf8_lossy(&got), want);
    common::exchange(&mut s, &[offset.as_bytes()]).await
}

/// Frames a message as a client or server writes it.
fn frame(msg: &p2plab_napster::Message) -> Vec<u8> {
    use p2plab_peer_protocol::WireMessage;
    msg.to_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_firewalled_peer_serves_its_files_by_push_through_the_server() {
    use p2plab_napster::message::{Login, NickFile};
    use p2plab_napster::Message;
    use tokio::io::AsyncWriteExt;

    let server = launch::napster_server(common::any_port(), Default::default())
        .await
        .unwrap();
    let song: Vec<u8> = (0..150_000u32).map(|i| (i * 13 % 251) as u8).collect();
    let w = folder(&[("Air - Kelly Watch the Stars.mp3", &song)]);
    let empty = folder(&[]);
    let walled = launch::napster_firewalled_peer(
        server.addr(),
        common::any_port(),
        "walled",
        Library::from_dir(w.path()).unwrap(),
    )
    .await
    .unwrap();
    let dave = peer(server.addr(), "dave", empty.path()).await;

    // Nobody can connect to it.
    assert!(tokio::net::TcpStream::connect(walled.addr()).await.is_err());

    // A p2plab downloader: 203, a 204 with port 0, 500, and the holder's connection.
    let name = "Air - Kelly Watch the Stars.mp3";
    search_until(&dave, "kelly", |h| h.len() == 1).await;
    let out = empty.path().join("kelly.mp3");
    let fetched = dave.get(name, &out, false).await.unwrap();
    assert_eq!(fetched.bytes, song.len() as u64);
    assert_eq!(fetched.from, "walled@127.0.0.1");
    assert_eq!(std::fs::read(&out).unwrap(), song);

    // A hand-made downloader resumes at byte 100,000: it logs in with a data port of its
    // own, sends 500, and answers the holder's header with its offset.
    let data = tokio::net::TcpListener::bind(common::any_port())
        .await
        .unwrap();
    let mut me = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    let login = Message::Login {
        login: Login {
            nick: "raw".into(),
            password: "x".into(),
            port: data.local_addr().unwrap().port(),
            client_info: "raw".into(),
            link_type: 7,
        },
        build: None,
    };
    me.write_all(&frame(&login)).await.unwrap();
    assert_eq!(read_frame(&mut me).await.0, 3, "login ack");
    let ask = NickFile {
        nick: "walled".into(),
        name: name.into(),
    };
    me.write_all(&frame(&Message::DownloadFirewall(ask)))
        .await
        .unwrap();
    let header = format!("walled \"{name}\" {}", song.len());
    let rest = take_push(&data, &header, "100000").await;
    assert_eq!(rest, song[100_000..]);

    // Both transfers went out as uploads, each reported to the server (220, 221).
    let sent = walled.stats().await.unwrap().metrics.sent;
    assert_eq!(sent["uploading"].messages, 2);
    let mut done = 0;
    for _ in 0..200 {
        done = walled
            .stats()
            .await
            .unwrap()
            .metrics
            .sent
            .get("upload_done")
            .map_or(0, |t| t.messages);
        if done == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(done, 2);
}

/// A 501 from a server (here a hand-made one) for a file the holder does not share moves
/// nothing; one for a file it shares brings exactly that file.
#[tokio::test]
async fn a_firewalled_peer_pushes_only_what_it_shares() {
    use p2plab_napster::message::Endpoint;
    use p2plab_napster::{Message, NO_MD5};
    use tokio::io::AsyncWriteExt;

    let index = tokio::net::TcpListener::bind(common::any_port())
        .await
        .unwrap();
    let data = tokio::net::TcpListener::bind(common::any_port())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let shared = dir.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::write(shared.join("song.mp3"), b"0123456789").unwrap();
    std::fs::write(dir.path().join("secret.txt"), b"top secret").unwrap();
    let walled = launch::napster_firewalled_peer(
        index.local_addr().unwrap(),
        common::any_port(),
        "walled",
        Library::from_dir(&shared).unwrap(),
    )
    .await
    .unwrap();

    let (mut conn, _) = index.accept().await.unwrap();
    let (ty, login) = read_frame(&mut conn).await;
    assert_eq!(ty, 2);
    assert!(
        String::from_utf8_lossy(&login).starts_with("walled p2plab 0 "),
        "logs in with data port 0"
    );
    let push = |name: &str| {
        frame(&Message::UploadFirewall(Endpoint {
            nick: "bob".into(),
            ip: std::net::Ipv4Addr::LOCALHOST,
            port: data.local_addr().unwrap().port(),
            name: name.into(),
            md5: NO_MD5.into(),
            link_type: 7,
        }))
    };
    let mut script = frame(&Message::LoginAck {
        email: "x@y".into(),
    });
    for name in ["../secret.txt", "secret.txt", "song.mp3"] {
        script.extend(push(name));
    }
    conn.write_all(&script).await.unwrap();

    // The one connection that comes is for the shared file, and it resumes at byte 4.
    let rest = take_push(&data, "walled \"song.mp3\" 10", "4").await;
    assert_eq!(rest, b"456789");
    let dropped = walled.stats().await.unwrap().metrics.dropped;
    assert_eq!(dropped.get("push_unshared"), Some(&2));
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
