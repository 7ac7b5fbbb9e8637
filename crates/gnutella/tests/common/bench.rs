//! A single servent driven by hand, with a clock the test moves: for checking exactly which
//! bytes go where.

use std::net::SocketAddr;
use std::sync::Arc;

use p2plab_gnutella::handshake::{CONNECT_04, OK_04};
use p2plab_gnutella::{Descriptor, Guid, Payload, Ping, Servent, ServentConfig};
use p2plab_peer_protocol::{
    ConnId, ConnIds, Effect, Effects, Input, Instant, Library, Node, Outbox, WireMessage,
};

/// A servent and what its driver keeps beside it (the effect queue, the connection ids), with
/// a clock the test moves by hand.
pub struct Bench {
    pub servent: Servent,
    pub effects: Effects,
    pub conn_ids: ConnIds,
    pub now: Instant,
}

impl Bench {
    pub fn new(tweak: impl FnOnce(&mut ServentConfig)) -> Self {
        let advertise: SocketAddr = "10.0.0.1:6346".parse().expect("addr");
        let library = Library::synthetic([("abba gold.mp3", 4_000), ("queen.ogg", 10)], 3);
        let mut config = ServentConfig::new(advertise, Arc::new(library));
        config.min_peers = 0;
        tweak(&mut config);
        let mut bench = Bench {
            servent: Servent::new(config),
            effects: Effects::new(),
            conn_ids: ConnIds::new(),
            now: Instant::ZERO,
        };
        bench.input(Input::Start);
        bench
    }

    pub fn input(&mut self, input: Input<'_>) -> Vec<Effect> {
        let mut out = Outbox::new(&mut self.effects, &mut self.conn_ids);
        self.servent.handle(self.now, input, &mut out);
        std::iter::from_fn(|| self.effects.pop()).collect()
    }

    pub fn accept(&mut self) -> ConnId {
        let conn = self.conn_ids.next_id();
        let remote = "10.9.9.9:40000".parse().expect("addr");
        self.input(Input::Accepted { conn, remote });
        conn
    }

    pub fn recv(&mut self, conn: ConnId, bytes: &[u8]) -> Vec<Effect> {
        self.input(Input::Received { conn, bytes })
    }

    /// Accepts a 0.4 neighbour and completes its handshake.
    pub fn neighbour(&mut self) -> ConnId {
        let conn = self.accept();
        let effects = self.recv(conn, CONNECT_04);
        assert_eq!(sent_bytes(&effects, conn)[..OK_04.len()], *OK_04);
        conn
    }
}

pub fn sent_bytes(effects: &[Effect], to: ConnId) -> Vec<u8> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Send { conn, bytes } if *conn == to => Some(bytes.clone()),
            _ => None,
        })
        .flatten()
        .collect()
}

pub fn descriptors(effects: &[Effect], to: ConnId) -> Vec<Descriptor> {
    let mut bytes = &sent_bytes(effects, to)[..];
    let mut found = Vec::new();
    while let Ok((d, used)) = Descriptor::decode(bytes) {
        found.push(d);
        bytes = &bytes[used..];
    }
    found
}

pub fn closed(effects: &[Effect], which: ConnId) -> bool {
    effects
        .iter()
        .any(|e| matches!(e, Effect::Close { conn } if *conn == which))
}

pub fn ping(guid: u8, ttl: u8) -> Vec<u8> {
    Descriptor::new(Guid([guid; 16]), ttl, Payload::Ping(Ping::default())).to_bytes()
}
