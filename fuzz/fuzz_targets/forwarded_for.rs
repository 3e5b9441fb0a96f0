//! The X-Forwarded-For resolver: whatever a client or a chain of proxies sends, the
//! answer is the peer unless the peer is a trusted proxy, it is always an address the
//! peer or the header named, and it is a trusted proxy only when every hop the resolver
//! could read was one.

#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use arbitrary::Arbitrary;
use ipnet::IpNet;
use kantlijn::web::middleware::client_ip::{parse_trusted, resolve};
use libfuzzer_sys::fuzz_target;

/// An address; the small families collide often, so trusted ranges, peers and hops meet.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Address {
    /// 10.0.0.x
    Private(u8),
    /// ::ffff:10.0.0.x, which the resolver reads as 10.0.0.x
    Mapped(u8),
    /// 2001:db8::x
    Documentation(u8),
    V4(u32),
    V6(u128),
}

impl Address {
    fn ip(self) -> IpAddr {
        match self {
            Self::Private(x) => Ipv4Addr::new(10, 0, 0, x).into(),
            Self::Mapped(x) => Ipv4Addr::new(10, 0, 0, x).to_ipv6_mapped().into(),
            Self::Documentation(x) => Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, x.into()).into(),
            Self::V4(bits) => Ipv4Addr::from(bits).into(),
            Self::V6(bits) => Ipv6Addr::from(bits).into(),
        }
    }
}

/// One X-Forwarded-For entry as proxies and clients write them, or anything at all.
#[derive(Arbitrary, Debug)]
enum Hop {
    Plain(Address),
    WithPort(Address, u16),
    Bracketed(Address),
    Padded(Address),
    Text(String),
}

impl Hop {
    fn write(&self) -> String {
        match self {
            Self::Plain(a) => a.ip().to_string(),
            Self::WithPort(a, port) => SocketAddr::new(a.ip(), *port).to_string(),
            Self::Bracketed(a) => format!("[{}]", a.ip()),
            Self::Padded(a) => format!("  {}\t", a.ip()),
            Self::Text(text) => text.clone(),
        }
    }
}

#[derive(Arbitrary, Debug)]
struct Input {
    peer: Address,
    trusted: Vec<(Address, u8)>,
    hops: Vec<Hop>,
    /// Also fuzzed: `KANTLIJN_TRUSTED_PROXIES` as typed by an operator.
    trusted_text: String,
}

/// IPv4-mapped IPv6 counts as IPv4, as the resolver documents.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn is_trusted(ip: IpAddr, trusted: &[IpNet]) -> bool {
    trusted.iter().any(|net| net.contains(&ip))
}

/// The address an entry names, with the decorations proxies add: spaces, a port,
/// brackets.
fn named(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    entry
        .parse::<IpAddr>()
        .or_else(|_| entry.parse::<SocketAddr>().map(|s| s.ip()))
        .or_else(|_| entry.trim_start_matches('[').trim_end_matches(']').parse())
        .ok()
        .map(canonical)
}

fuzz_target!(|input: Input| {
    if let Ok(nets) = parse_trusted(&input.trusted_text) {
        let written = nets
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",");
        assert_eq!(
            parse_trusted(&written),
            Ok(nets),
            "from {:?}",
            input.trusted_text
        );
    }

    let trusted: Vec<IpNet> = input
        .trusted
        .iter()
        .filter_map(|(address, prefix)| {
            let ip = address.ip();
            let max = if ip.is_ipv4() { 32 } else { 128 };
            IpNet::new(ip, prefix % (max + 1)).ok()
        })
        .collect();
    let header = input
        .hops
        .iter()
        .map(Hop::write)
        .collect::<Vec<_>>()
        .join(",");
    let peer = canonical(input.peer.ip());
    let answer = resolve(input.peer.ip(), &header, &trusted);

    if !is_trusted(peer, &trusted) {
        assert_eq!(answer, peer, "untrusted peer, header {header:?}");
        return;
    }
    let entries: Vec<Option<IpAddr>> = header.rsplit(',').map(named).collect();
    assert!(
        answer == peer || entries.contains(&Some(answer)),
        "{answer} is neither the peer {peer} nor in {header:?}"
    );
    // The hops the resolver can read: right to left, up to the first unreadable entry.
    let readable: Vec<IpAddr> = entries.iter().map_while(|e| *e).collect();
    match readable.iter().find(|ip| !is_trusted(**ip, &trusted)) {
        Some(client) => assert_eq!(
            answer, *client,
            "the right-most untrusted hop of {header:?}"
        ),
        None => assert!(
            is_trusted(answer, &trusted),
            "every hop of {header:?} is trusted, yet {answer} is not"
        ),
    }
});
