//! What happens on SIGINT and SIGTERM besides actix's own stop.

use printdesk_ws::EventHub;

/// Actix stops on SIGINT or SIGTERM but lets open connections finish, and a WebSocket never
/// does: on the same signals, tell every client to reconnect (elsewhere, or in a moment) so
/// the shutdown takes a second instead of the whole shutdown timeout.
pub(crate) async fn close_sockets_on_stop(hub: EventHub) {
    let terminate = async {
        #[cfg(unix)]
        if let Ok(mut signal) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            signal.recv().await;
            return;
        }
        std::future::pending::<()>().await
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
    hub.shut_down();
}
