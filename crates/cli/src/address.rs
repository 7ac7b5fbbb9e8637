//! Socket addresses on the command line: `127.0.0.1:7001`, `[::1]:7001`, or a host name
//! such as `localhost:7001`, resolved once when the command starts.

use std::net::{SocketAddr, ToSocketAddrs};

/// Parses `HOST:PORT`, resolving a name to its first address (IPv4 first, as `localhost`
/// usually means 127.0.0.1 to the nodes' loopback listeners).
///
/// # Errors
/// A sentence giving the expected form, or why the name did not resolve.
pub fn parse(text: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = text.parse() {
        return Ok(addr);
    }
    if !text
        .rsplit_once(':')
        .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok())
    {
        return Err(format!(
            "expected HOST:PORT, like 127.0.0.1:7001 or localhost:7001, not {text:?}"
        ));
    }
    let addrs: Vec<SocketAddr> = text
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {text:?}: {e}"))?
        .collect();
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or(addrs.first())
        .copied()
        .ok_or_else(|| format!("{text:?} resolves to no address"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_names_and_mistakes() {
        assert_eq!(
            parse("127.0.0.1:7001"),
            Ok("127.0.0.1:7001".parse().unwrap())
        );
        assert_eq!(parse("[::1]:7001"), Ok("[::1]:7001".parse().unwrap()));
        assert_eq!(
            parse("localhost:7001"),
            Ok("127.0.0.1:7001".parse().unwrap())
        );
        for bad in [
            "7001",
            "localhost",
            "localhost:port",
            ":7001",
            "127.0.0.1:70000",
        ] {
            let err = parse(bad).unwrap_err();
            assert!(err.contains("expected HOST:PORT"), "{bad}: {err}");
        }
    }
}
