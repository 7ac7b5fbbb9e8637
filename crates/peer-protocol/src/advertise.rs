//! The address a node advertises: the one it tells its peers to reach it at.
//!
//! Every node puts an address of its own into what it sends. A Gnutella servent puts it in
//! its Pongs (where to connect) and its QueryHits (where to download); a Chord node in
//! every node reference, so in its successors' and fingers' tables and in the index entries
//! that name its files; a Napster peer gives its data port when it logs in, and the index
//! server, as OpenNap does, takes the IP from the connection the login came on. Peers dial
//! that address, and a node that advertises one they cannot reach is found but never
//! reached: its downloads fail, and a Chord node that joined with it never enters anyone's
//! ring.
//!
//! So where a node listens decides what it advertises ([`Listen::advertised`]):
//!
//! - A node that listens on one address advertises that address, with the port it bound.
//! - A node that listens on every interface (`0.0.0.0` or `::`) has no address to tell: the
//!   unspecified address means "any of mine" to the kernel, and "nowhere" to a peer. It
//!   needs `--advertise IP`, this host's address on its peers' network, and refuses to
//!   start without one ([`AdvertiseError::EveryInterface`]).
//! - `--advertise` may also name an address the node does not listen on (a router that
//!   forwards the port to this host), with two exceptions that can never be reached: an
//!   unspecified address, and anything but loopback for a node that listens on loopback.
//!
//! And per connection ([`may_tell`]): a loopback address reaches only the machine it is
//! said on, so a node that advertises one must not tell it to a peer off loopback. The
//! runtime's driver checks that on every connection before the core sees it.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

/// Where a node listens, and the address it advertises if that is not the one it listens
/// on (see the module's rule).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Listen {
    /// The address the node binds (port 0: any free one).
    pub addr: SocketAddr,
    /// The IP the node tells its peers instead of `addr`'s; the port is always the one
    /// bound.
    pub advertise: Option<IpAddr>,
}

impl From<SocketAddr> for Listen {
    /// Listening on `addr` and advertising it.
    fn from(addr: SocketAddr) -> Self {
        Listen {
            addr,
            advertise: None,
        }
    }
}

impl Listen {
    /// Listens on `addr`, advertising `advertise` if given.
    pub fn new(addr: SocketAddr, advertise: Option<IpAddr>) -> Self {
        Listen { addr, advertise }
    }

    /// Checks the rule before anything is bound, so a node that could not advertise an
    /// address never starts listening.
    ///
    /// # Errors
    /// As [`Listen::advertised`].
    pub fn check(&self) -> Result<(), AdvertiseError> {
        self.advertised(self.addr).map(drop)
    }

    /// The address to advertise once the listener is bound at `bound` (which gives the
    /// port when `addr` asked for port 0).
    ///
    /// # Errors
    /// [`AdvertiseError`] when the rule leaves no address peers could reach.
    pub fn advertised(&self, bound: SocketAddr) -> Result<SocketAddr, AdvertiseError> {
        let listen = canonical(bound.ip());
        match self.advertise.map(canonical) {
            None if listen.is_unspecified() => Err(AdvertiseError::EveryInterface(self.addr)),
            None => Ok(bound),
            Some(ip) if ip.is_unspecified() => Err(AdvertiseError::Unspecified(ip)),
            Some(ip) if listen.is_loopback() && !ip.is_loopback() => {
                Err(AdvertiseError::LoopbackListener {
                    listen: self.addr,
                    advertise: ip,
                })
            }
            Some(ip) => Ok(SocketAddr::new(ip, bound.port())),
        }
    }
}

/// Why a node has no address to advertise. Each names the flag to change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AdvertiseError {
    /// It listens on every interface and was not told which address to advertise.
    EveryInterface(SocketAddr),
    /// It was told to advertise the unspecified address.
    Unspecified(IpAddr),
    /// It listens on loopback, which nothing off this machine reaches, yet was told to
    /// advertise another address.
    LoopbackListener {
        /// Where it listens.
        listen: SocketAddr,
        /// What it was told to advertise.
        advertise: IpAddr,
    },
}

impl fmt::Display for AdvertiseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AdvertiseError::EveryInterface(listen) => write!(
                f,
                "--listen {listen} is every interface, and peers cannot dial that: add \
                 --advertise IP with this host's address on the peers' network \
                 (--advertise 127.0.0.1 when they all run on this machine)"
            ),
            AdvertiseError::Unspecified(ip) => write!(
                f,
                "--advertise {ip} names no host; give this host's address on the peers' network"
            ),
            AdvertiseError::LoopbackListener { listen, advertise } => write!(
                f,
                "--listen {listen} is reached only from this machine, so peers at \
                 --advertise {advertise} would find nothing there: listen on {advertise} or \
                 on every interface"
            ),
        }
    }
}

impl std::error::Error for AdvertiseError {}

/// Whether a node advertising `advertised` may tell it to a peer at `peer`: never an
/// unspecified address, and a loopback one only to a peer on loopback too (one off it
/// would dial its own machine).
pub fn may_tell(advertised: SocketAddr, peer: IpAddr) -> bool {
    let ip = canonical(advertised.ip());
    !ip.is_unspecified() && (!ip.is_loopback() || canonical(peer).is_loopback())
}

/// An IPv4 address written as IPv6 (`::ffff:127.0.0.1`, as a dual-stack socket reports
/// IPv4 peers) as the IPv4 address it is, so the checks above see what it is.
fn canonical(ip: IpAddr) -> IpAddr {
    ip.to_canonical()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(text: &str) -> SocketAddr {
        text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn a_node_on_one_address_advertises_it_with_the_bound_port() {
        let listen = Listen::from(addr("10.77.0.2:0"));
        assert_eq!(listen.check(), Ok(()));
        assert_eq!(
            listen.advertised(addr("10.77.0.2:41000")),
            Ok(addr("10.77.0.2:41000"))
        );
        let loopback = Listen::from(addr("127.0.0.1:0"));
        assert_eq!(
            loopback.advertised(addr("127.0.0.1:41001")),
            Ok(addr("127.0.0.1:41001"))
        );
    }

    #[test]
    fn every_interface_needs_an_address_to_advertise() {
        for any in ["0.0.0.0:7400", "[::]:7400"] {
            let bare = Listen::from(addr(any));
            let err = bare.check().unwrap_err();
            assert_eq!(err, AdvertiseError::EveryInterface(addr(any)));
            assert!(err.to_string().contains("--advertise"), "{err}");
            let told = Listen::new(addr(any), Some(ip("192.168.1.23")));
            assert_eq!(
                told.advertised(addr(any)),
                Ok(addr("192.168.1.23:7400")),
                "the port is the bound one"
            );
        }
        let told = Listen::new(addr("0.0.0.0:0"), Some(ip("127.0.0.1")));
        assert_eq!(
            told.advertised(addr("0.0.0.0:40999")),
            Ok(addr("127.0.0.1:40999"))
        );
    }

    #[test]
    fn unreachable_advertisements_are_refused_by_flag() {
        let nowhere = Listen::new(addr("0.0.0.0:0"), Some(ip("0.0.0.0")));
        let err = nowhere.check().unwrap_err();
        assert_eq!(err, AdvertiseError::Unspecified(ip("0.0.0.0")));
        assert!(err.to_string().starts_with("--advertise 0.0.0.0"), "{err}");
        let hidden = Listen::new(addr("127.0.0.1:0"), Some(ip("10.77.0.2")));
        let err = hidden.check().unwrap_err();
        assert!(
            matches!(err, AdvertiseError::LoopbackListener { .. }),
            "{err}"
        );
        assert!(err.to_string().contains("--listen 127.0.0.1:0"), "{err}");
        // An address forwarded to this host by a router is the user's to know.
        let forwarded = Listen::new(addr("10.77.0.2:6346"), Some(ip("203.0.113.9")));
        assert_eq!(forwarded.check(), Ok(()));
    }

    #[test]
    fn a_loopback_address_is_told_only_on_loopback() {
        let on_loopback = addr("127.0.0.1:6346");
        assert!(may_tell(on_loopback, ip("127.0.0.1")));
        assert!(may_tell(on_loopback, ip("127.3.2.1")), "all of 127/8");
        assert!(may_tell(on_loopback, ip("::ffff:127.0.0.1")), "mapped");
        assert!(!may_tell(on_loopback, ip("10.77.0.3")));
        assert!(!may_tell(addr("[::1]:6346"), ip("10.77.0.3")));
        let on_lan = addr("10.77.0.2:6346");
        assert!(may_tell(on_lan, ip("10.77.0.3")));
        assert!(
            may_tell(on_lan, ip("127.0.0.1")),
            "a LAN address works here too"
        );
        for unspecified in ["0.0.0.0:6346", "[::]:6346", "[::ffff:0.0.0.0]:6346"] {
            assert!(
                !may_tell(addr(unspecified), ip("127.0.0.1")),
                "{unspecified}"
            );
            assert!(
                !may_tell(addr(unspecified), ip("10.77.0.3")),
                "{unspecified}"
            );
        }
    }
}
