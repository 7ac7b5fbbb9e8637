//! [`NodeSpec`]: one node to start, with every setting it runs with — the one description
//! of a node that both engines build from, and the JSON document a child process gets.
//!
//! The timeline decides everything about a node (its bootstrap list, its seed, its nick)
//! and says it here; the engine only adds where it listens and which files it shares (the
//! plan's, for the peer it is). A child process reads the same document
//! (`p2plab node --spec FILE`), checked by the same [`ChildSpec::parse`], so no setting is
//! re-encoded as command-line flags and checked a second time with other literals.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use p2plab_peer_protocol::{Library, Listen};
use p2plab_runtime::launch::Launcher;
use p2plab_runtime::NodeHandle;
use serde::{Deserialize, Serialize};

use crate::spec::{self, ChordSettings, GnutellaSettings, NetworkSettings, SpecError};

/// What kind of node, and everything it is configured with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum NodeSpec {
    /// Napster's index server.
    NapsterServer {
        /// Where it listens, if the scenario names a port (`settings.napster.server`).
        #[serde(default)]
        listen: Option<SocketAddr>,
    },
    /// A Napster peer.
    NapsterPeer {
        /// The index server's address.
        server: SocketAddr,
        /// The nick it logs in with.
        nick: String,
    },
    /// A Gnutella servent.
    Gnutella {
        /// TTLs, degree and periods.
        settings: GnutellaSettings,
        /// The servents it dials at start.
        bootstrap: Vec<SocketAddr>,
        /// Seed of its descriptor ids and servent id.
        seed: u64,
    },
    /// A Chord node.
    Chord {
        /// Successor list, replicas and periods.
        settings: ChordSettings,
        /// The ring member it joins through (`None`: it creates the ring).
        join: Option<SocketAddr>,
        /// Seed of its request ids and timer jitter.
        seed: u64,
    },
}

impl NodeSpec {
    /// Sets a servent's configuration from a [`NodeSpec::Gnutella`] (nothing otherwise).
    pub fn configure_servent(&self, c: &mut p2plab_gnutella::ServentConfig) {
        if let NodeSpec::Gnutella {
            settings,
            bootstrap,
            seed,
        } = self
        {
            settings.configure(c);
            c.bootstrap.clone_from(bootstrap);
            c.seed = *seed;
        }
    }

    /// Sets a Chord node's configuration from a [`NodeSpec::Chord`] (nothing otherwise).
    pub fn configure_chord(&self, c: &mut p2plab_chord::ChordConfig) {
        if let NodeSpec::Chord {
            settings,
            join,
            seed,
        } = self
        {
            settings.configure(c);
            c.join = *join;
            c.seed = *seed;
        }
    }

    /// Starts this node on real sockets in this process with `launcher` (whose fabric it
    /// sees), listening on `listen` and sharing `library`.
    ///
    /// # Errors
    /// If the address cannot be bound, or would advertise nothing peers can reach.
    pub async fn launch(
        &self,
        launcher: &Launcher,
        listen: impl Into<Listen>,
        library: Library,
    ) -> std::io::Result<NodeHandle> {
        let listen = listen.into();
        match self {
            NodeSpec::NapsterServer { .. } => {
                launcher.napster_server(listen, Default::default()).await
            }
            NodeSpec::NapsterPeer { server, nick } => {
                launcher.napster_peer(*server, listen, nick, library).await
            }
            NodeSpec::Gnutella { .. } => {
                let configure = |c: &mut _| self.configure_servent(c);
                launcher.gnutella_servent(listen, library, configure).await
            }
            NodeSpec::Chord { .. } => {
                let configure = |c: &mut _| self.configure_chord(c);
                launcher.chord_node(listen, library, configure).await
            }
        }
    }

    /// The kind of node, as its stats name it.
    pub fn kind(&self) -> &'static str {
        match self {
            NodeSpec::NapsterServer { .. } => "napster-server",
            NodeSpec::NapsterPeer { .. } => "napster-peer",
            NodeSpec::Gnutella { .. } => "gnutella",
            NodeSpec::Chord { .. } => "chord",
        }
    }

    /// Checks the settings, naming a bad field by its path under `at`.
    pub(crate) fn validate(&self, at: &str) -> Result<(), SpecError> {
        match self {
            NodeSpec::Gnutella { settings, .. } => {
                settings.validate(&format!("{at}.gnutella.settings"))
            }
            NodeSpec::Chord { settings, .. } => settings.validate(&format!("{at}.chord.settings")),
            NodeSpec::NapsterServer { .. } | NodeSpec::NapsterPeer { .. } => Ok(()),
        }
    }
}

/// The document a child process is started with: the node, where it listens and what it
/// advertises, its control port and the folder it shares.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChildSpec {
    /// The node.
    pub node: NodeSpec,
    /// Where it listens (a Napster peer's data port).
    pub listen: SocketAddr,
    /// The IP it advertises instead of `listen`'s, as `--advertise` gives it (needed when
    /// `listen` is every interface; see `p2plab_peer_protocol::advertise`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advertise: Option<IpAddr>,
    /// Its control port.
    pub control: SocketAddr,
    /// The folder it shares (none for Napster's index server).
    #[serde(default)]
    pub share: Option<PathBuf>,
}

impl ChildSpec {
    /// Parses and checks a child's document; a bad field is named by its path and line.
    ///
    /// # Errors
    /// [`SpecError`] as for a scenario file.
    pub fn parse(text: &str) -> Result<ChildSpec, SpecError> {
        let child: ChildSpec = spec::from_json(text)?;
        child.node.validate("node")?;
        Ok(child)
    }

    /// Reads and checks a child's document from a file.
    ///
    /// # Errors
    /// [`SpecError`] naming the file, or the field.
    pub fn load(path: &Path) -> Result<ChildSpec, SpecError> {
        ChildSpec::parse(&spec::read(path)?)
    }
}

/// The Napster nick of peer `i`.
pub fn nick(i: usize) -> String {
    format!("p{i}")
}

/// The peer a Napster nick names, if it is one of [`nick`]'s.
pub fn peer_of_nick(nick: &str) -> Option<usize> {
    nick.strip_prefix('p')?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_document_round_trips_and_a_bad_setting_is_named_by_its_path() {
        let child = ChildSpec {
            node: NodeSpec::Gnutella {
                settings: GnutellaSettings::default(),
                bootstrap: vec![SocketAddr::from(([127, 0, 0, 1], 6346))],
                seed: 7,
            },
            listen: SocketAddr::from(([0, 0, 0, 0], 0)),
            advertise: Some(IpAddr::from([127, 0, 0, 1])),
            control: SocketAddr::from(([127, 0, 0, 1], 0)),
            share: Some("/tmp/p3".into()),
        };
        let text = serde_json::to_string_pretty(&child).unwrap_or_default();
        assert_eq!(ChildSpec::parse(&text).ok(), Some(child));
        let bad = text.replace("\"ttl\": 4", "\"ttl\": 9");
        let err = ChildSpec::parse(&bad).err().map(|e| e.to_string());
        assert!(
            err.as_deref()
                .is_some_and(|e| e.starts_with("node.gnutella.settings.ttl:")),
            "{err:?}"
        );
        let typo = text.replace("\"seed\"", "\"sead\"");
        let err = ChildSpec::parse(&typo).err().map(|e| e.to_string());
        assert!(
            err.as_deref().is_some_and(|e| e.contains("line")),
            "{err:?}"
        );
    }

    #[test]
    fn nicks_name_their_peers() {
        assert_eq!(peer_of_nick(&nick(42)), Some(42));
        assert_eq!(peer_of_nick("bob"), None);
    }
}
