//! `p2plab bench ...`: figures measured on loopback with real sockets.
//!
//! - `napster`: how fast one index server answers searches, and how much memory each indexed
//!   file costs it. The server runs in its own process, so its resident memory can be read
//!   before and after the files are indexed. Sharing peers run here and publish synthetic
//!   files; then N clients speak the OpenNap protocol directly (login, then search after
//!   search, each answered by results and an end marker) for a fixed time.
//! - `chord`: hops and latency of lookups on a ring of N real nodes, against the paper's
//!   ½·log₂ N.

use std::net::SocketAddr;
use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::Args;
use hdrhistogram::Histogram;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

use p2plab_napster::{Login, Message, SearchRequest};
use p2plab_peer_protocol::{FrameReader, Library, WireMessage};
use p2plab_runtime::launch;

use crate::client;

/// Words file names are made of; names have three, queries ask for two.
const VOCABULARY: usize = 200;

/// A `--files` count the index server can hold: 1 up to its budget.
fn files_to_index(text: &str) -> Result<usize, String> {
    let max = p2plab_napster::MAX_INDEXED_FILES;
    match text.parse::<usize>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(format!("expected a number of files from 1 to {max}")),
    }
}

/// `p2plab bench napster` settings.
#[derive(Debug, Args)]
pub struct NapsterBench {
    /// Files to index, spread over the sharing peers (at most the server's index budget,
    /// `MAX_INDEXED_FILES`).
    #[arg(long, default_value_t = 20_000, value_parser = files_to_index)]
    files: usize,
    /// Peers that share the files.
    #[arg(long, default_value_t = 10)]
    sharers: usize,
    /// Clients searching at once, each one search after another.
    #[arg(long, default_value_t = 8)]
    clients: usize,
    /// How long the clients search.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// Seed for file names and queries.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// Runs the benchmark and prints its figures.
pub async fn napster(args: NapsterBench) -> anyhow::Result<ExitCode> {
    let (mut server, addr, control) = spawn_server().await?;
    let pid = server.id().context("the server exited at once")?;
    let before = rss_bytes(pid)?;
    let mut rng = ChaCha8Rng::seed_from_u64(args.seed);
    let mut sharers = Vec::new();
    for s in 0..args.sharers {
        let count = args.files / args.sharers + usize::from(s < args.files % args.sharers);
        let names: Vec<(String, u64)> = (0..count)
            .map(|i| (file_name(&mut rng, s, i), 1_000))
            .collect();
        let library = Library::synthetic(names, args.seed);
        let data_port: SocketAddr = "127.0.0.1:0".parse()?;
        sharers.push(launch::napster_peer(addr, data_port, &format!("sharer{s}"), library).await?);
    }
    wait_until_indexed(control, args.files).await?;
    let after = rss_bytes(pid)?;

    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let mut tasks = tokio::task::JoinSet::new();
    for c in 0..args.clients {
        let seed = args.seed ^ (c as u64 + 1);
        tasks.spawn(search_loop(addr, format!("bench{c}"), seed, deadline));
    }
    let mut latency = Histogram::<u64>::new(3)?;
    let (mut searches, mut results) = (0u64, 0u64);
    while let Some(done) = tasks.join_next().await {
        let (h, n, r) = done??;
        latency.add(h)?;
        searches += n;
        results += r;
    }
    let _ = server.kill().await;
    drop(sharers);

    let per_file = after.saturating_sub(before) as f64 / args.files as f64;
    println!("napster index server benchmark (server in its own process)");
    println!(
        "files indexed       {} from {} sharing peers",
        args.files, args.sharers
    );
    println!(
        "server memory       RSS {:.1} MiB before, {:.1} MiB after: {per_file:.0} bytes per indexed file",
        mib(before),
        mib(after)
    );
    println!(
        "searches            {} clients x {} s: {searches} searches, {:.0} searches/s",
        args.clients,
        args.seconds,
        searches as f64 / args.seconds as f64
    );
    println!(
        "results per search  {:.1} (mean)",
        results as f64 / searches.max(1) as f64
    );
    println!(
        "latency             p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        ms(latency.value_at_quantile(0.5)),
        ms(latency.value_at_quantile(0.99)),
        ms(latency.max())
    );
    Ok(ExitCode::SUCCESS)
}

fn word(rng: &mut ChaCha8Rng) -> String {
    format!("w{}", rng.random_range(0..VOCABULARY))
}

fn file_name(rng: &mut ChaCha8Rng, sharer: usize, i: usize) -> String {
    format!("{} {} {} {sharer}-{i}.mp3", word(rng), word(rng), word(rng))
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn ms(micros: u64) -> f64 {
    micros as f64 / 1000.0
}

/// Starts `p2plab napster server` as a child; returns it, its address and control port.
async fn spawn_server() -> anyhow::Result<(Child, SocketAddr, SocketAddr)> {
    let exe = std::env::current_exe().context("cannot find the p2plab binary")?;
    let mut child = Command::new(exe)
        .args([
            "napster",
            "server",
            "--listen",
            "127.0.0.1:0",
            "--control",
            "127.0.0.1:0",
        ])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .context("cannot start the index server")?;
    let stdout = child.stdout.take().context("no stdout from the server")?;
    let mut lines = BufReader::new(stdout).lines();
    let (mut addr, mut control) = (None, None);
    while addr.is_none() || control.is_none() {
        let line = lines
            .next_line()
            .await?
            .context("the server exited before listening")?;
        if let Some(a) = line.strip_prefix("napster-server listening on ") {
            addr = Some(a.parse()?);
        } else if let Some(c) = line.strip_prefix("control port ") {
            control = Some(c.parse()?);
        }
    }
    // The server goes on printing (where its control token is, then whatever it logs to
    // stdout); a pipe closed under it would make its next line fail, so it is read to the end.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok((
        child,
        addr.context("no address")?,
        control.context("no control port")?,
    ))
}

/// Resident memory of a process, from /proc.
fn rss_bytes(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .context("no VmRSS in /proc")?;
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .context("bad VmRSS line")?
        .parse()?;
    Ok(kib * 1024)
}

async fn wait_until_indexed(control: SocketAddr, files: usize) -> anyhow::Result<()> {
    for _ in 0..1200 {
        let stats = client::node_stats(control).await?;
        if stats.state["files"].as_u64() == Some(files as u64) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("the server did not index {files} files within a minute")
}

/// One client: log in, then search until the deadline. Returns latencies (µs), the number
/// of searches and of results.
async fn search_loop(
    server: SocketAddr,
    nick: String,
    seed: u64,
    deadline: Instant,
) -> anyhow::Result<(Histogram<u64>, u64, u64)> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut stream = TcpStream::connect(server).await?;
    stream.set_nodelay(true)?;
    let login = Login {
        nick,
        password: "x".into(),
        port: 0,
        client_info: "bench".into(),
        link_type: 10,
    };
    stream
        .write_all(&Message::Login { login, build: None }.to_bytes())
        .await?;
    let mut reader = FrameReader::new(p2plab_napster::MAX_DATA_LEN * 4);
    match next(&mut stream, &mut reader).await? {
        Message::LoginAck { .. } => {}
        other => bail!("login refused: {other:?}"),
    }
    let mut latency = Histogram::<u64>::new(3)?;
    let (mut searches, mut results) = (0u64, 0u64);
    while Instant::now() < deadline {
        let query = format!("{} {}", word(&mut rng), word(&mut rng));
        let started = Instant::now();
        stream
            .write_all(&Message::Search(SearchRequest::keywords(&query)).to_bytes())
            .await?;
        loop {
            match next(&mut stream, &mut reader).await? {
                Message::SearchResult(_) => results += 1,
                Message::SearchEnd => break,
                _ => {}
            }
        }
        latency.record(u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX))?;
        searches += 1;
    }
    Ok((latency, searches, results))
}

async fn next(stream: &mut TcpStream, reader: &mut FrameReader) -> anyhow::Result<Message> {
    loop {
        if let Some((msg, _)) = reader.next_message::<Message>()? {
            return Ok(msg);
        }
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            bail!("the server closed the connection");
        }
        reader.extend(&chunk[..n]);
    }
}

/// `p2plab bench chord` settings.
#[derive(Debug, Args)]
pub struct ChordBench {
    /// Nodes in the ring.
    #[arg(long, default_value_t = 32)]
    nodes: usize,
    /// Lookups, each from a random node for a random node's file.
    #[arg(long, default_value_t = 1_000)]
    lookups: usize,
    /// Seconds to let fingers settle once every successor is right.
    #[arg(long, default_value_t = 10)]
    settle: u64,
    /// Milliseconds between runs of `stabilize` on every node. Hundreds of nodes share
    /// this machine's two cores: too short a period saturates them, answers come late,
    /// and nodes time each other out.
    #[arg(long, default_value_t = p2plab_peer_protocol::settings::millis(p2plab_chord::STABILIZE_EVERY))]
    stabilize_ms: u64,
    /// Milliseconds between runs of `fix_fingers` on every node.
    #[arg(long, default_value_t = p2plab_peer_protocol::settings::millis(p2plab_chord::FIX_FINGERS_EVERY))]
    fix_fingers_ms: u64,
    /// Seed for the lookups.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// Builds a ring, lets it stabilize, then times lookups.
pub async fn chord(args: ChordBench) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let mut nodes = Vec::new();
    for i in 0..args.nodes {
        let library = Library::synthetic([(format!("f{i}.bin"), 100u64)], args.seed);
        let join = nodes.first().map(p2plab_runtime::NodeHandle::addr);
        nodes.push(
            launch::chord_node("127.0.0.1:0".parse::<SocketAddr>()?, library, |c| {
                c.join = join;
                c.stabilize_every = Duration::from_millis(args.stabilize_ms);
                c.fix_fingers_every = Duration::from_millis(args.fix_fingers_ms);
            })
            .await?,
        );
    }
    wait_for_ring(&nodes).await?;
    let ring_time = started.elapsed();
    tokio::time::sleep(Duration::from_secs(args.settle)).await;

    let mut rng = ChaCha8Rng::seed_from_u64(args.seed);
    let (mut hops, mut latency) = (Histogram::<u64>::new(3)?, Histogram::<u64>::new(3)?);
    let mut failed = 0;
    for _ in 0..args.lookups {
        let (from, target) = (
            rng.random_range(0..args.nodes),
            rng.random_range(0..args.nodes),
        );
        let t = Instant::now();
        let found = nodes[from].search(&format!("f{target}")).await;
        let elapsed = u64::try_from(t.elapsed().as_micros()).unwrap_or(u64::MAX);
        match found
            .ok()
            .and_then(|h| h.into_iter().find(|h| h.name == format!("f{target}.bin")))
        {
            Some(hit) => {
                hops.record(u64::from(hit.hops.unwrap_or_default()))?;
                latency.record(elapsed)?;
            }
            None => failed += 1,
        }
    }
    for node in &nodes {
        node.crash();
    }
    let n = args.nodes as f64;
    println!(
        "chord lookup benchmark: {} real nodes on loopback",
        args.nodes
    );
    println!(
        "ring formed in      {:.1} s (then {} s for fingers)",
        ring_time.as_secs_f64(),
        args.settle
    );
    println!("lookups             {} ({failed} failed)", args.lookups);
    println!(
        "hops                mean {:.2} (1/2 log2 N = {:.2}), p1 {}, p50 {}, p99 {}, max {}",
        hops.mean(),
        n.log2() / 2.0,
        hops.value_at_quantile(0.01),
        hops.value_at_quantile(0.5),
        hops.value_at_quantile(0.99),
        hops.max()
    );
    println!(
        "latency             mean {:.3} ms, p50 {:.3} ms, p99 {:.3} ms",
        latency.mean() / 1000.0,
        ms(latency.value_at_quantile(0.5)),
        ms(latency.value_at_quantile(0.99))
    );
    Ok(ExitCode::SUCCESS)
}

/// Waits until every node's successor is the next node clockwise (ids from `stats`).
async fn wait_for_ring(nodes: &[p2plab_runtime::NodeHandle]) -> anyhow::Result<()> {
    for _ in 0..2400 {
        let mut ring = Vec::new();
        for node in nodes {
            let view: p2plab_chord::RingView = serde_json::from_value(node.stats().await?.state)?;
            let successor = view.successors.first().map(|s| s.addr);
            // Ids print as hex without leading zeros: longer is larger, then the digits.
            ring.push((
                (view.node.id.len(), view.node.id),
                view.node.addr,
                successor,
            ));
        }
        ring.sort();
        let settled = (0..ring.len()).all(|i| ring[i].2 == Some(ring[(i + 1) % ring.len()].1));
        if settled {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!(
        "the ring of {} nodes did not settle within four minutes",
        nodes.len()
    )
}
