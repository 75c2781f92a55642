//! A sender and a relay started together on one address: what
//! `collector relay` runs, and the one call an end-to-end test needs
//! (`RunningRelay::start("127.0.0.1:0", …)`, then post to `waha_url()`).

use super::{NoWebhookAuth, RelayAuth, RelayConfig, start_relay};
use crate::metrics::Metrics;
use crate::sender::{Sender, SenderConfig, SenderError};
use crate::status::RunningServer;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum RelayStartError {
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: String, source: std::io::Error },
    #[error(transparent)]
    NoAuth(#[from] NoWebhookAuth),
    #[error(transparent)]
    Sender(#[from] SenderError),
}

pub struct RunningRelay {
    server: RunningServer,
    sender: Sender,
}

impl RunningRelay {
    /// Checks the webhook authentication, binds `listen` (port 0 picks a
    /// free port), opens the spool and starts both halves.
    pub async fn start(listen: &str, sender: SenderConfig, relay: RelayConfig, metrics: Arc<Metrics>) -> Result<Self, RelayStartError> {
        RelayAuth::decide(&relay)?;
        let listener = TcpListener::bind(listen).map_err(|source| RelayStartError::Bind { addr: listen.to_owned(), source })?;
        let sender = Sender::start(sender, metrics.clone()).await?;
        match start_relay(listener, relay, sender.handle(), metrics) {
            Ok(server) => Ok(Self { server, sender }),
            Err(error) => {
                sender.shutdown().await;
                Err(error)
            }
        }
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    pub fn url(&self) -> String {
        self.server.url()
    }

    pub fn waha_url(&self) -> String {
        format!("{}/waha", self.server.url())
    }

    pub fn evolution_url(&self) -> String {
        format!("{}/evolution", self.server.url())
    }

    pub fn sender(&self) -> &Sender {
        &self.sender
    }

    pub fn metrics(&self) -> &Arc<Metrics> {
        self.sender.metrics()
    }

    /// Stops taking webhooks, lets in-flight ones finish (they are spooled),
    /// then stops the sender; undelivered batches stay in the spool.
    pub async fn stop(self) {
        self.server.stop().await;
        self.sender.shutdown().await;
    }
}
