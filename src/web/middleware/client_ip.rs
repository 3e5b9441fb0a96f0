//! The address of the client, as used for address hashes.

use std::net::IpAddr;

use poem::{FromRequest, Request, RequestBody};

/// The client's IP address: the socket peer (`None` when the transport has none, as in
/// in-process tests).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientIp(pub Option<IpAddr>);

impl ClientIp {
    /// The text that is hashed for `ip_hash`; never stored as is.
    pub fn key(&self) -> String {
        self.0
            .map_or_else(|| "unknown".to_owned(), |ip| ip.to_string())
    }
}

impl<'a> FromRequest<'a> for ClientIp {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        Ok(Self(
            req.remote_addr().as_socket_addr().map(|addr| addr.ip()),
        ))
    }
}
