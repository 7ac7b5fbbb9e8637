//! Downloads across the virtual network, between toy cores that only share files.

use std::net::SocketAddr;
use std::time::Duration;

use p2plab_peer_protocol::{Metrics, Outbox};

use super::*;
use crate::Latency;

/// A core that shares a library and remembers what it was told. Given `chatter`, it dials
/// there and plays ping-pong for [`PINGS`] rounds: protocol traffic beside the transfers.
#[derive(Default)]
struct Sharer {
    library: Library,
    chatter: Option<SocketAddr>,
    notices: Vec<TransferNotice>,
    /// Protocol bytes that reached the core: a transfer must bring none.
    received: usize,
    metrics: Metrics,
}

/// Rounds of ping-pong a chattering [`Sharer`] plays.
const PINGS: usize = 40;

impl Node for Sharer {
    fn handle(&mut self, _now: Instant, input: Input<'_>, out: &mut Outbox) {
        match input {
            Input::Start => {
                if let Some(addr) = self.chatter {
                    out.connect(addr);
                }
            }
            Input::Connected { conn } => out.send(conn, b"ping".to_vec()),
            Input::Received { conn, bytes } => {
                self.received += bytes.len();
                if self.chatter.is_none() || self.received < 4 * PINGS {
                    out.send(conn, bytes.to_vec());
                }
            }
            Input::Command(Command::Transfer(notice)) => self.notices.push(notice),
            _ => {}
        }
    }
    fn poll_timeout(&self) -> Option<Instant> {
        None
    }
    fn metrics(&self) -> &Metrics {
        &self.metrics
    }
    fn library(&self) -> Option<&Library> {
        Some(&self.library)
    }
}

const LATENCY: Duration = Duration::from_millis(10);

/// A file of three whole windows and a bit.
const SIZE: u64 = 3 * WINDOW as u64 + 3392;

/// Node 0 fetches, node 1 holds `song.mp3`.
fn net() -> TestNet<Sharer> {
    let mut net = TestNet::new(Latency::Constant(LATENCY), 1);
    net.add(Sharer::default());
    net.add(Sharer {
        library: Library::synthetic([("song.mp3", SIZE)], 5),
        ..Sharer::default()
    });
    net
}

fn http_from(net: &TestNet<Sharer>, index: u32, name: &str) -> Download {
    Download::Http {
        addr: net.addr(1),
        index,
        name: name.into(),
    }
}

/// Runs until one download ends, and takes it.
fn finish(net: &mut TestNet<Sharer>) -> FinishedDownload {
    assert!(net.run_until_cond(Duration::from_secs(60), |n| n.has_finished_downloads()));
    let mut done = net.take_finished_downloads();
    assert_eq!(done.len(), 1);
    done.remove(0)
}

fn the_song() -> Vec<u8> {
    Library::synthetic([("song.mp3", SIZE)], 5).files()[0]
        .read_all()
        .expect("synthetic files read")
}

#[test]
fn a_download_takes_a_round_trip_per_window_and_ends_at_a_virtual_instant() {
    let mut net = net();
    let id = net.start_download(0, &http_from(&net, 0, "song.mp3"), SIZE);
    let done = finish(&mut net);
    assert_eq!(done.id, id);
    assert_eq!(done.result, Ok(the_song()));
    // Dial and answer (2 latencies), the request (1), then four windows a round trip
    // apart, the last landing one latency after it left: 3 + 3 * 2 + 1 latencies.
    assert_eq!(done.at, Instant::ZERO + LATENCY * 10);
    assert_eq!(
        net.now(),
        done.at,
        "the run stopped when the download ended"
    );
}

#[test]
fn the_cores_hear_notices_and_never_the_bytes() {
    let mut net = net();
    net.record();
    net.start_download(0, &http_from(&net, 0, "song.mp3"), SIZE);
    finish(&mut net);
    net.run_for(Duration::from_secs(60));
    assert!(
        net.take_trace().is_empty(),
        "no protocol message was carried"
    );
    assert_eq!(net.node(0).received + net.node(1).received, 0);
    assert_eq!(
        net.node(0).notices,
        [
            TransferNotice::DownloadStarted,
            TransferNotice::DownloadFinished
        ]
    );
    assert_eq!(
        net.node(1).notices,
        [
            TransferNotice::UploadStarted,
            TransferNotice::UploadFinished
        ]
    );
    assert_eq!(net.in_flight(), 0);
    assert!(
        net.transfers.running.is_empty(),
        "the keep-alive upload let go"
    );
}

#[test]
fn a_napster_data_port_is_found_on_the_holders_host() {
    let mut net = net();
    let addr = SocketAddr::new(net.addr(1).ip(), 6699);
    let download = Download::Napster {
        addr,
        my_nick: "bob".into(),
        name: "SONG.mp3".into(),
    };
    net.start_download(0, &download, SIZE);
    assert_eq!(finish(&mut net).result, Ok(the_song()));
}

#[test]
fn an_unshared_file_is_refused_and_a_wrong_size_is_caught() {
    let mut net = net();
    net.start_download(0, &http_from(&net, 0, "other.mp3"), SIZE);
    assert_eq!(finish(&mut net).result, Err(DownloadError::Status(404)));
    net.start_download(0, &http_from(&net, 0, "song.mp3"), SIZE + 1);
    assert!(matches!(
        finish(&mut net).result,
        Err(DownloadError::SizeMismatch { .. })
    ));
}

#[test]
fn a_partition_refuses_the_dial_and_nobody_at_the_address_is_unreachable() {
    let mut net = net();
    net.partition(&[vec![0]]);
    net.start_download(0, &http_from(&net, 0, "song.mp3"), SIZE);
    assert_eq!(finish(&mut net).result, Err(DownloadError::Unreachable));
    net.heal();
    let nowhere = Download::Http {
        addr: "10.9.9.9:6346".parse().expect("an address"),
        index: 0,
        name: "song.mp3".into(),
    };
    net.start_download(0, &nowhere, SIZE);
    assert_eq!(finish(&mut net).result, Err(DownloadError::Unreachable));
}

#[test]
fn a_holder_that_crashes_mid_file_truncates_the_download() {
    let mut net = net();
    net.start_download(0, &http_from(&net, 0, "song.mp3"), SIZE);
    // The first window has landed at 4 latencies; crash the holder before the second.
    net.run_for(LATENCY * 9 / 2);
    net.crash(1);
    let done = finish(&mut net);
    assert_eq!(
        done.result,
        Err(DownloadError::Truncated {
            received: WINDOW as u64,
            expected: SIZE
        })
    );
}

#[test]
fn downloads_leave_the_protocol_traffic_as_it_was() {
    // The same seed and a latency drawn per message, with and without downloads: every
    // protocol message goes and lands at the same instants, since transfers draw their
    // latencies from a stream of their own.
    let run = |downloads: bool| {
        let mut net = TestNet::new(Latency::Uniform(LATENCY, LATENCY * 3), 9);
        net.record();
        // The holder first, so that the chatterer finds it when it dials at its start.
        let holder = net.add(Sharer {
            library: Library::synthetic([("song.mp3", SIZE)], 5),
            ..Sharer::default()
        });
        let chatter = net.add(Sharer {
            chatter: Some(net.addr(holder)),
            ..Sharer::default()
        });
        if downloads {
            let song = Download::Http {
                addr: net.addr(holder),
                index: 0,
                name: "song.mp3".into(),
            };
            for _ in 0..3 {
                net.start_download(chatter, &song, SIZE);
            }
        }
        net.run_for(Duration::from_secs(60));
        let finished = net.take_finished_downloads();
        (net.take_trace(), finished.len())
    };
    let (quiet, none) = run(false);
    let (busy, three) = run(true);
    assert_eq!((none, three), (0, 3));
    assert_eq!(quiet.len(), 2 * PINGS);
    assert_eq!(quiet, busy);
}
