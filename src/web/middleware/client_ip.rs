//! The real client address: the socket peer, or behind a trusted proxy the right-most
//! X-Forwarded-For entry that is not itself a trusted proxy.

use std::net::IpAddr;

use ipnet::IpNet;
use poem::{FromRequest, Request, RequestBody};

use crate::{
    app::AppState,
    security::{AddressHash, Keys},
};

/// The client's IP address; `None` only when the transport has no peer address (as in
/// in-process tests without one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientIp(pub Option<IpAddr>);

impl ClientIp {
    /// The client's `ip_hash`, keyed like the rate limits: an IPv6 address by its /64.
    /// The address itself is never stored.
    pub fn address_hash(&self, keys: &Keys) -> AddressHash {
        let Some(ip) = self.0 else {
            return AddressHash::of(keys.ip_hash("unknown"));
        };
        match limit_key(Some(ip)) {
            IpAddr::V6(network) => AddressHash {
                stored: keys.ip_hash(&format!("{network}/64")),
                whole_address: Some(keys.ip_hash(&canonical(ip).to_string())),
            },
            v4 => AddressHash::of(keys.ip_hash(&v4.to_string())),
        }
    }

    /// Reads the client address of a request under the configured trusted proxies.
    pub fn of(req: &Request, trusted: &[IpNet]) -> Self {
        let peer = req.remote_addr().as_socket_addr().map(|addr| addr.ip());
        let forwarded = req
            .headers()
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>()
            .join(",");
        Self(peer.map(|peer| resolve(peer, &forwarded, trusted)))
    }
}

impl<'a> FromRequest<'a> for ClientIp {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        let trusted = req
            .data::<AppState>()
            .map(|s| s.settings.trusted_proxies.as_slice())
            .unwrap_or_default();
        Ok(Self::of(req, trusted))
    }
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn is_trusted(ip: IpAddr, trusted: &[IpNet]) -> bool {
    trusted.iter().any(|net| net.contains(&ip))
}

/// The client address for a request from `peer` carrying `forwarded` (the joined
/// X-Forwarded-For values). Headers from untrusted peers are ignored; behind trusted
/// proxies the walk goes right to left and stops at the first untrusted address.
pub fn resolve(peer: IpAddr, forwarded: &str, trusted: &[IpNet]) -> IpAddr {
    let peer = canonical(peer);
    if !is_trusted(peer, trusted) {
        return peer;
    }
    let mut client = peer;
    for entry in forwarded.rsplit(',') {
        let entry = entry.trim();
        let Some(ip) = parse_entry(entry) else {
            // An unreadable entry ends the trusted chain: keep the last good address.
            break;
        };
        client = canonical(ip);
        if !is_trusted(client, trusted) {
            break;
        }
    }
    client
}

/// An X-Forwarded-For entry: an address, possibly with a port or in brackets.
fn parse_entry(entry: &str) -> Option<IpAddr> {
    if let Ok(ip) = entry.parse() {
        return Some(ip);
    }
    if let Ok(addr) = entry.parse::<std::net::SocketAddr>() {
        return Some(addr.ip());
    }
    entry
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()
}

/// Parses `KANTLIJN_TRUSTED_PROXIES`: comma-separated addresses and CIDR ranges.
pub fn parse_trusted(value: &str) -> Result<Vec<IpNet>, String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|item| {
            item.parse::<IpNet>()
                .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("{item:?} is not an IP address or CIDR range"))
        })
        .collect()
}

/// The key rate limits count under: IPv4 as is, IPv6 cut to its /64 (one subscriber
/// usually holds a whole /64).
pub fn limit_key(ip: Option<IpAddr>) -> IpAddr {
    match ip.map(canonical) {
        Some(IpAddr::V6(v6)) => {
            let segments = v6.segments();
            IpAddr::V6(std::net::Ipv6Addr::new(
                segments[0],
                segments[1],
                segments[2],
                segments[3],
                0,
                0,
                0,
                0,
            ))
        }
        Some(v4) => v4,
        None => IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn untrusted_peer_is_the_client_whatever_it_claims() {
        let trusted = parse_trusted("10.0.0.1").unwrap();
        assert_eq!(
            resolve(ip("203.0.113.9"), "198.51.100.1", &trusted),
            ip("203.0.113.9")
        );
        assert_eq!(resolve(ip("203.0.113.9"), "", &[]), ip("203.0.113.9"));
    }

    #[test]
    fn trusted_proxy_yields_the_rightmost_untrusted_entry() {
        let trusted = parse_trusted("10.0.0.0/8, 192.0.2.7").unwrap();
        // A client can prepend anything; only what our proxies appended counts.
        assert_eq!(
            resolve(ip("10.0.0.1"), "1.2.3.4, 198.51.100.1, 192.0.2.7", &trusted),
            ip("198.51.100.1")
        );
        assert_eq!(
            resolve(ip("10.0.0.1"), "198.51.100.1", &trusted),
            ip("198.51.100.1")
        );
        assert_eq!(resolve(ip("10.0.0.1"), "", &trusted), ip("10.0.0.1"));
        assert_eq!(
            resolve(ip("10.0.0.1"), "10.1.1.1, 10.2.2.2", &trusted),
            ip("10.1.1.1")
        );
        assert_eq!(
            resolve(ip("10.0.0.1"), "198.51.100.1:4711", &trusted),
            ip("198.51.100.1")
        );
        assert_eq!(
            resolve(ip("10.0.0.1"), "[2001:db8::1]", &trusted),
            ip("2001:db8::1")
        );
        assert_eq!(
            resolve(ip("10.0.0.1"), "198.51.100.1, rommel", &trusted),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn ipv4_mapped_ipv6_peers_count_as_ipv4() {
        let trusted = parse_trusted("127.0.0.1").unwrap();
        assert_eq!(
            resolve(ip("::ffff:127.0.0.1"), "198.51.100.1", &trusted),
            ip("198.51.100.1")
        );
    }

    #[test]
    fn trusted_list_parses_addresses_and_ranges() {
        assert_eq!(parse_trusted("").unwrap(), vec![]);
        assert_eq!(
            parse_trusted("127.0.0.1, ::1, 10.0.0.0/8").unwrap().len(),
            3
        );
        assert!(parse_trusted("10.0.0.0/33").is_err());
        assert!(parse_trusted("proxy.example").is_err());
    }

    #[test]
    fn ipv6_is_keyed_by_its_64() {
        assert_eq!(
            limit_key(Some(ip("2001:db8:1:2:aaaa::1"))),
            limit_key(Some(ip("2001:db8:1:2:bbbb::2")))
        );
        assert_ne!(
            limit_key(Some(ip("2001:db8:1:2::1"))),
            limit_key(Some(ip("2001:db8:1:3::1")))
        );
        assert_eq!(limit_key(Some(ip("192.0.2.1"))), ip("192.0.2.1"));
        assert_ne!(
            limit_key(Some(ip("192.0.2.1"))),
            limit_key(Some(ip("192.0.2.2")))
        );
    }
}
