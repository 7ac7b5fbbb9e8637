//! The roster: where each network's nodes run when the runner does not start them itself —
//! a list of [seats](crate::seat) per network, each with its listen address, its control
//! port and the way to its control token.
//!
//! ```json
//! {
//!   "networks": {
//!     "napster": {
//!       "server": { "listen": "10.77.0.1:8888", "control": "10.77.0.1:9000",
//!                   "token_file": "run/h0/control-10.77.0.1-9000" },
//!       "peers": [
//!         { "listen": "10.77.0.2:6699", "control": "10.77.0.2:9001", "token": "9f2c…" }
//!       ]
//!     },
//!     "gnutella": { "peers": [ { "listen": "gnutella-0.gnutella:6346", "control": "gnutella-0.gnutella:9000" } ] },
//!     "chord": { "peers": [ … ] }
//!   }
//! }
//! ```
//!
//! - `listen` — where the seat's nodes listen, as they advertise it: the runner checks
//!   that the node it starts there says the same, so the report's "where each node ran" is
//!   what the peers really dialled. `host:port`, an IP or a name (resolved once, when the
//!   roster is read: a Kubernetes headless Service names every pod).
//! - `control` — the seat's control port, `host:port` likewise.
//! - the token, one of: `token` (the 64 hex digits), `token_file` (a file holding them,
//!   relative to the roster's folder: a seat's own token file, a mounted Secret), or
//!   neither (the `P2PLAB_CONTROL_TOKEN` variable, else the token file of a seat on this
//!   machine).
//! - `server` — Napster's index server; needed when the scenario runs Napster.
//!
//! Peer `i` of the scenario runs on seat `peers[i]`; a network needs at least as many seats
//! as the scenario's largest node count. A field that does not fit is named by its path and
//! line, as a scenario's are.

use std::collections::BTreeMap;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};

use p2plab_peer_protocol::control::ControlToken;
use p2plab_runtime::control::{token, ControlClient};
use serde::{Deserialize, Deserializer};

use crate::report::Placed;
use crate::spec::{self, Network, Scenario, SpecError};

/// The seats of every network, read and resolved.
#[derive(Debug, Clone)]
pub struct Roster {
    networks: BTreeMap<Network, Seats>,
}

/// One network's seats.
#[derive(Debug, Clone)]
pub struct Seats {
    /// Napster's index server.
    pub server: Option<SeatAt>,
    /// Peer `i` runs on `peers[i]`.
    pub peers: Vec<SeatAt>,
}

/// One seat: where its node listens, and how to reach its control port.
#[derive(Debug, Clone)]
pub struct SeatAt {
    /// The listen address its nodes advertise.
    pub listen: SocketAddr,
    /// Its control port, with the token it obeys.
    pub control: ControlClient,
}

/// The file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RosterFile {
    networks: NetworksFile,
}

/// One field per network (not a map: a field's path then names the network, and a
/// misspelt one is refused with its line).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NetworksFile {
    #[serde(default)]
    napster: Option<SeatsFile>,
    #[serde(default)]
    gnutella: Option<SeatsFile>,
    #[serde(default)]
    chord: Option<SeatsFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeatsFile {
    #[serde(default)]
    server: Option<SeatFile>,
    #[serde(default)]
    peers: Vec<SeatFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeatFile {
    listen: HostPort,
    control: HostPort,
    #[serde(default)]
    token: Option<Token>,
    #[serde(default)]
    token_file: Option<PathBuf>,
}

/// A `host:port` resolved while it is read, so a name that resolves to nothing is named
/// with its line.
#[derive(Debug, Clone, Copy)]
struct HostPort(SocketAddr);

impl<'de> Deserialize<'de> for HostPort {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let found = text
            .to_socket_addrs()
            .map_err(|e| serde::de::Error::custom(format!("cannot resolve {text:?}: {e}")))?
            .next();
        found
            .map(HostPort)
            .ok_or_else(|| serde::de::Error::custom(format!("{text:?} resolves to no address")))
    }
}

/// A token checked while it is read.
#[derive(Debug, Clone)]
struct Token(ControlToken);

impl<'de> Deserialize<'de> for Token {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        ControlToken::parse(&text)
            .map(Token)
            .map_err(serde::de::Error::custom)
    }
}

impl Roster {
    /// Reads and resolves a roster file; token files are found relative to its folder.
    ///
    /// # Errors
    /// [`SpecError`] naming the file, or the field (with its line when the JSON does not
    /// fit), or the token file that cannot be read.
    pub fn load(path: &Path) -> Result<Roster, SpecError> {
        let folder = path.parent().unwrap_or(Path::new("."));
        Roster::parse(&spec::read(path)?, folder)
    }

    /// Parses roster text; token files are found relative to `folder`.
    ///
    /// # Errors
    /// As [`Roster::load`].
    pub fn parse(text: &str, folder: &Path) -> Result<Roster, SpecError> {
        let file: RosterFile = spec::from_json(text)?;
        let NetworksFile {
            napster,
            gnutella,
            chord,
        } = file.networks;
        let listed = [
            (Network::Napster, napster),
            (Network::Gnutella, gnutella),
            (Network::Chord, chord),
        ];
        let mut networks = BTreeMap::new();
        for (network, seats) in listed
            .into_iter()
            .filter_map(|(n, seats)| Some((n, seats?)))
        {
            let at = format!("networks.{network}");
            let server = match seats.server {
                Some(seat) => Some(seat.resolve(&format!("{at}.server"), folder)?),
                None => None,
            };
            let peers = seats
                .peers
                .into_iter()
                .enumerate()
                .map(|(i, seat)| seat.resolve(&format!("{at}.peers[{i}]"), folder))
                .collect::<Result<_, _>>()?;
            networks.insert(network, Seats { server, peers });
        }
        Ok(Roster { networks })
    }

    /// Checks that the roster seats every node `scenario` starts.
    ///
    /// # Errors
    /// [`SpecError::Invalid`] naming the network that lacks seats.
    pub fn check(&self, scenario: &Scenario) -> Result<(), SpecError> {
        let most = scenario.nodes.values().into_iter().max().unwrap_or(0);
        for &network in &scenario.networks {
            let at = format!("networks.{network}");
            let Some(seats) = self.networks.get(&network) else {
                return Err(invalid(
                    &at,
                    format!("the scenario runs {network}, and the roster seats none of it"),
                ));
            };
            if seats.peers.len() < most {
                return Err(invalid(
                    &format!("{at}.peers"),
                    format!(
                        "{} seats, and the scenario runs up to {most} peers",
                        seats.peers.len()
                    ),
                ));
            }
            if network == Network::Napster && seats.server.is_none() {
                return Err(invalid(
                    &format!("{at}.server"),
                    "Napster needs a seat for its index server".to_owned(),
                ));
            }
        }
        Ok(())
    }

    /// The seats of `network` (empty when the roster has none).
    pub fn seats(&self, network: Network) -> Seats {
        self.networks.get(&network).cloned().unwrap_or(Seats {
            server: None,
            peers: Vec::new(),
        })
    }

    /// Where each node of `scenario` runs: the index server and the first peers of every
    /// network, as many as its largest node count.
    pub fn placement(&self, scenario: &Scenario) -> Vec<Placed> {
        let most = scenario.nodes.values().into_iter().max().unwrap_or(0);
        let mut placed = Vec::new();
        for &network in &scenario.networks {
            let seats = self.seats(network);
            let server = seats.server.iter().map(|s| ("server".to_owned(), s));
            let peers = seats.peers.iter().take(most);
            let named = server.chain(peers.enumerate().map(|(i, s)| (format!("p{i}"), s)));
            placed.extend(named.map(|(node, seat)| Placed {
                network,
                node,
                listen: seat.listen,
                control: seat.control.addr(),
            }));
        }
        placed
    }
}

impl SeatFile {
    /// The seat, its token found; `at` is its path in the file.
    fn resolve(self, at: &str, folder: &Path) -> Result<SeatAt, SpecError> {
        let control = self.control.0;
        let client = match (self.token, self.token_file) {
            (Some(_), Some(_)) => {
                return Err(invalid(
                    at,
                    "give `token` or `token_file`, not both".to_owned(),
                ))
            }
            (Some(Token(token)), None) => ControlClient::new(control, token),
            (None, Some(file)) => {
                let path = folder.join(file);
                let text = std::fs::read_to_string(&path).map_err(|e| {
                    invalid(
                        &format!("{at}.token_file"),
                        format!("cannot read {}: {e}", path.display()),
                    )
                })?;
                let token = ControlToken::parse(&text).map_err(|e| {
                    invalid(
                        &format!("{at}.token_file"),
                        format!("{}: {e}", path.display()),
                    )
                })?;
                ControlClient::new(control, token)
            }
            (None, None) => {
                let dir = token::control_dir().map_err(|e| invalid(at, e.to_string()))?;
                ControlClient::find(control, &dir).map_err(|e| invalid(at, e))?
            }
        };
        Ok(SeatAt {
            listen: self.listen.0,
            control: client,
        })
    }
}

fn invalid(field: &str, message: String) -> SpecError {
    SpecError::Invalid {
        field: field.to_owned(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "0707070707070707070707070707070707070707070707070707070707070707";

    fn roster(peers: &str) -> String {
        format!(
            r#"{{
  "networks": {{
    "gnutella": {{
      "peers": [{peers}]
    }}
  }}
}}"#
        )
    }

    #[test]
    fn a_roster_seats_peers_in_order_with_their_tokens() {
        let text = roster(&format!(
            r#"{{ "listen": "127.0.0.1:6346", "control": "127.0.0.1:9000", "token": "{TOKEN}" }},
               {{ "listen": "localhost:6347", "control": "127.0.0.1:9001", "token": "{TOKEN}" }}"#
        ));
        let parsed = Roster::parse(&text, Path::new("."));
        let seats = parsed.map(|r| r.seats(Network::Gnutella)).ok();
        let listens: Vec<u16> = seats
            .iter()
            .flat_map(|s| &s.peers)
            .map(|s| s.listen.port())
            .collect();
        assert_eq!(listens, [6346, 6347]);
    }

    #[test]
    fn a_bad_field_is_named_with_its_line() {
        let text = roster(&format!(
            r#"{{ "listen": "127.0.0.1:6346", "control": "127.0.0.1:9000", "token": "{TOKEN}" }},
      {{ "listen": "127.0.0.1:6347", "control": "nowhere", "token": "{TOKEN}" }}"#
        ));
        let err = Roster::parse(&text, Path::new("."))
            .err()
            .map(|e| e.to_string());
        assert!(
            err.as_deref().is_some_and(|e| e
                .starts_with("networks.gnutella.peers[1].control: cannot resolve \"nowhere\"")
                && e.contains("line 5")),
            "{err:?}"
        );
        let short =
            roster(r#"{ "listen": "127.0.0.1:1", "control": "127.0.0.1:2", "token": "07" }"#);
        let err = Roster::parse(&short, Path::new("."))
            .err()
            .map(|e| e.to_string());
        assert!(
            err.as_deref().is_some_and(
                |e| e.starts_with("networks.gnutella.peers[0].token:") && e.contains("line 4")
            ),
            "{err:?}"
        );
    }

    #[test]
    fn a_missing_token_file_is_named_by_its_field() {
        let text = roster(
            r#"{ "listen": "127.0.0.1:1", "control": "127.0.0.1:2", "token_file": "absent" }"#,
        );
        let dir = tempfile::tempdir().ok();
        let folder = dir.as_ref().map_or(Path::new("/nonexistent"), |d| d.path());
        let err = Roster::parse(&text, folder).err().map(|e| e.to_string());
        assert!(
            err.as_deref().is_some_and(
                |e| e.starts_with("networks.gnutella.peers[0].token_file: cannot read")
            ),
            "{err:?}"
        );
    }

    #[test]
    fn a_roster_too_small_for_the_scenario_says_which_network() {
        let text = roster(&format!(
            r#"{{ "listen": "127.0.0.1:1", "control": "127.0.0.1:2", "token": "{TOKEN}" }}"#
        ));
        let mut scenario = spec::parse(include_str!("../../../scenarios/default.json"))
            .unwrap_or_else(|e| panic!("the default scenario parses: {e}"));
        let roster = Roster::parse(&text, Path::new("."))
            .unwrap_or_else(|e| panic!("the roster parses: {e}"));
        let err = |s: &Scenario| roster.check(s).err().map(|e| e.to_string());
        assert_eq!(
            err(&scenario).as_deref(),
            Some("networks.napster: the scenario runs napster, and the roster seats none of it")
        );
        scenario.networks = vec![Network::Gnutella];
        assert_eq!(
            err(&scenario).as_deref(),
            Some("networks.gnutella.peers: 1 seats, and the scenario runs up to 100 peers")
        );
    }
}
