//! Lame duck mode: stop accepting, tell clients to move on, then close them gradually and exit.

use crate::client::CloseReason;
use crate::server::ServerState;
use std::sync::Arc;
use std::time::Duration;
use tracing::info;

/// The longest pause between two client closes, as in nats-server.
const CLOSE_INTERVAL_MAX: Duration = Duration::from_secs(1);

/// Runs lame duck mode after the listener has been closed; returns when it is time to exit.
pub(crate) async fn run(state: Arc<ServerState>) {
    let options = state.options();
    let clients = state.clients_snapshot();
    if clients.is_empty() {
        return;
    }
    state.send_lame_duck_info();
    tokio::time::sleep(options.lame_duck_grace_period).await;
    info!("Closing existing clients");
    let spread = options
        .lame_duck_duration
        .checked_sub(options.lame_duck_grace_period)
        .filter(|d| !d.is_zero())
        .unwrap_or(Duration::from_secs(1));
    let interval = (spread / clients.len() as u32).min(CLOSE_INTERVAL_MAX);
    let last = clients.len() - 1;
    for (index, client) in clients.into_iter().enumerate() {
        client.close(CloseReason::ServerShutdown, true);
        if index < last && !interval.is_zero() {
            tokio::time::sleep(interval).await;
        }
    }
}
