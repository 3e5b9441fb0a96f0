//! The HTTP server loop: the site's endpoint on hyper's HTTP/1.1, with keep-alive,
//! vectored writes and a graceful shutdown.
//!
//! poem's own server hands hyper its connections through a boxed I/O type that cannot
//! write vectored, so hyper copied every response body into one buffer before sending
//! it; a cached page of 125 KB was copied once per view. Here hyper gets the TCP stream
//! itself and sends the page's shared parts as they are. (HTTP/2 is left to the reverse
//! proxy in front, which is where TLS ends too.)

use std::{convert::Infallible, future::Future, io, net::SocketAddr, sync::Arc, time::Duration};

use hyper::{body::Incoming, server::conn::http1, service::service_fn};
use hyper_util::rt::{TokioIo, TokioTimer};
use poem::{
    Addr, Endpoint, Request, Response,
    endpoint::BoxEndpoint,
    http::uri::Scheme,
    web::{LocalAddr, RemoteAddr},
};
use tokio::{net::TcpListener, sync::watch, task::JoinSet};

/// How long a client may take to send a request's headers.
const HEADER_TIMEOUT: Duration = Duration::from_secs(30);

/// Serves `app` on `listener` until `shutdown` completes, then stops accepting, lets
/// the requests in flight finish (at most `grace`) and closes idle connections.
pub async fn run(
    listener: TcpListener,
    app: BoxEndpoint<'static, Response>,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
) -> io::Result<()> {
    let app = Arc::new(app);
    let local = LocalAddr(Addr::SocketAddr(listener.local_addr()?));
    let (stopping, stop) = watch::channel(false);
    let mut connections = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    connections.spawn(serve(stream, peer, local.clone(), Arc::clone(&app), stop.clone()));
                }
                // Out of file descriptors and the like: wait a little instead of spinning.
                Err(err) => {
                    tracing::warn!(%err, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    let _ = stopping.send(true);
    let drained = tokio::time::timeout(grace, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            left = connections.len(),
            "requests still running after the grace period; closing them"
        );
        connections.abort_all();
    }
    Ok(())
}

async fn serve(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    local: LocalAddr,
    app: Arc<BoxEndpoint<'static, Response>>,
    mut stop: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let remote = RemoteAddr(Addr::SocketAddr(peer));
    let service = service_fn(move |req: hyper::Request<Incoming>| {
        let app = Arc::clone(&app);
        let request = Request::from((req, local.clone(), remote.clone(), Scheme::HTTP));
        async move {
            let response = app.get_response(request).await;
            Ok::<_, Infallible>(hyper::Response::from(response))
        }
    });
    let connection = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .keep_alive(true)
        .writev(true)
        .serve_connection(TokioIo::new(stream), service);
    let mut connection = std::pin::pin!(connection);
    tokio::select! {
        result = connection.as_mut() => {
            if let Err(err) = result {
                tracing::debug!(%err, %peer, "connection ended with an error");
            }
            return;
        }
        _ = stop.wait_for(|stopping| *stopping) => {}
    }
    // Shutting down: finish the request in flight, answer no more on this connection.
    connection.as_mut().graceful_shutdown();
    let _ = connection.await;
}
