//! Optional TLS termination in Akta itself (OpenSSL). Most deployments put a reverse proxy in
//! front; this is for those that do not.

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::service::TowerToHyperService;
use openssl::ssl::{Ssl, SslAcceptor, SslFiletype, SslMethod};
use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use crate::ApiError;

/// An acceptor for the PEM certificate chain and private key, TLS 1.2 and newer with
/// Mozilla's "intermediate" cipher choice.
pub fn acceptor(cert_chain: &Path, key: &Path) -> Result<SslAcceptor, ApiError> {
    let err =
        |what: &str, e: openssl::error::ErrorStack| ApiError::Internal(format!("TLS {what}: {e}"));
    let mut builder =
        SslAcceptor::mozilla_intermediate_v5(SslMethod::tls()).map_err(|e| err("setup", e))?;
    builder
        .set_certificate_chain_file(cert_chain)
        .map_err(|e| err(&format!("certificate {}", cert_chain.display()), e))?;
    builder
        .set_private_key_file(key, SslFiletype::PEM)
        .map_err(|e| err(&format!("key {}", key.display()), e))?;
    builder
        .check_private_key()
        .map_err(|e| err("key does not match certificate", e))?;
    builder.set_alpn_select_callback(|_, client| {
        openssl::ssl::select_next_proto(b"\x08http/1.1", client)
            .ok_or(openssl::ssl::AlpnError::NOACK)
    });
    Ok(builder.build())
}

/// Serves `app` over TLS until `shutdown` resolves, then lets open connections finish
/// (for at most 30 s).
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    tls: SslAcceptor,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let tls = Arc::new(tls);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let ssl = match Ssl::new(tls.context()) {
            Ok(ssl) => ssl,
            Err(e) => {
                tracing::warn!(error = %e, "TLS session setup failed");
                continue;
            }
        };
        let app = app.clone();
        let builder = builder.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let Ok(mut stream) = tokio_openssl::SslStream::new(ssl, tcp) else {
                return;
            };
            // A slow or broken handshake costs this task only, never the accept loop.
            let handshake =
                tokio::time::timeout(Duration::from_secs(10), Pin::new(&mut stream).accept()).await;
            if !matches!(handshake, Ok(Ok(()))) {
                tracing::debug!(%peer, "TLS handshake failed");
                return;
            }
            let service = TowerToHyperService::new(app.layer(axum::Extension(ConnectPeer(peer))));
            let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
            if let Err(e) = watcher.watch(conn.into_owned()).await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
    tokio::select! {
        () = graceful.shutdown() => {},
        () = tokio::time::sleep(Duration::from_secs(30)) => {},
    }
    Ok(())
}

/// The TCP peer of a TLS connection (plain connections use axum's `ConnectInfo`).
#[derive(Debug, Clone, Copy)]
pub struct ConnectPeer(pub SocketAddr);
