//! The listening side: binding the configured addresses, accepting clients, the active expiry
//! timer, and graceful shutdown (stop accepting, let connections finish the replies in flight,
//! then return).

use std::future::Future;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};

use crate::config::Config;
use crate::connection;
use crate::shared::Shared;

/// Time given to incremental rehashing per timer tick (Redis spends 1 ms per database cron).
const REHASH_BUDGET: Duration = Duration::from_millis(1);

/// How long shutdown waits for connections to finish before giving up on them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Bind every address of the `bind` directive on `port`. An address written with a leading
/// `-` is optional: failing to bind it (no IPv6, say) is not an error. Any other failure is,
/// and its message names the address.
pub fn bind(config: &Config) -> Result<Vec<std::net::TcpListener>, String> {
    let port = config.port();
    let mut listeners = Vec::new();
    for entry in config.bind() {
        let (optional, host) = match entry.strip_prefix('-') {
            Some(host) => (true, host.to_string()),
            None => (false, entry.clone()),
        };
        let host = match host.as_str() {
            "*" => "0.0.0.0".to_string(),
            "::*" => "::".to_string(),
            _ => host,
        };
        match bind_one(&host, port, config.tcp_backlog()) {
            Ok(listener) => listeners.push(listener),
            Err(err) if optional => {
                tracing::debug!(address = %host, error = %err, "skipped optional bind address")
            }
            Err(err) => return Err(format!("could not listen on {host} port {port}: {err}")),
        }
    }
    if listeners.is_empty() {
        return Err(format!(
            "no address to listen on (bind '{}')",
            config.bind().join(" ")
        ));
    }
    Ok(listeners)
}

/// One listening socket, as Redis makes it: SO_REUSEADDR (a restart does not wait for old
/// connections in TIME_WAIT), IPv6 sockets for IPv6 only (so `* -::*` binds both families on
/// one port), and `tcp-backlog` pending connections.
fn bind_one(host: &str, port: u16, backlog: u32) -> std::io::Result<std::net::TcpListener> {
    let addr: SocketAddr = (host, port).to_socket_addrs()?.next().ok_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, "address did not resolve")
    })?;
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(addr),
        socket2::Type::STREAM,
        Some(socket2::Protocol::TCP),
    )?;
    socket.set_reuse_address(true)?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.bind(&addr.into())?;
    socket.listen(i32::try_from(backlog).unwrap_or(i32::MAX))?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}

/// Serve until `shutdown` resolves, then stop accepting and wait (up to a grace period) for the
/// connections to finish what they were doing.
pub async fn run(
    shared: Arc<Shared>,
    listeners: Vec<std::net::TcpListener>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    // Every connection holds a clone of `alive`; when all are dropped, `all_done` wakes.
    let (alive, mut all_done) = mpsc::channel::<()>(1);

    let mut accept_tasks = Vec::new();
    for listener in listeners {
        let listener = TcpListener::from_std(listener)?;
        let shared = Arc::clone(&shared);
        let stop_rx = stop_rx.clone();
        let alive = alive.clone();
        accept_tasks.push(tokio::spawn(accept_loop(listener, shared, stop_rx, alive)));
    }
    let expiry = tokio::spawn(expiry_loop(Arc::clone(&shared), stop_rx.clone()));
    let link = tokio::spawn(crate::replication::run_link(
        Arc::clone(&shared),
        stop_rx.clone(),
    ));
    let repl_cron = tokio::spawn(crate::replication::run_cron(
        Arc::clone(&shared),
        stop_rx.clone(),
    ));
    drop(alive);

    shutdown.await;
    tracing::info!("shutting down: no new connections, finishing replies in flight");
    let _ = stop_tx.send(true);
    for task in accept_tasks {
        let _ = task.await;
    }
    let _ = expiry.await;
    let _ = link.await;
    let _ = repl_cron.await;
    if tokio::time::timeout(SHUTDOWN_GRACE, all_done.recv())
        .await
        .is_err()
    {
        tracing::warn!("some connections did not finish within the grace period");
    }
    Ok(())
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
    alive: mpsc::Sender<()>,
) {
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let Some(slot) = ClientSlot::take(&shared) else {
                        shared.stats.connection_rejected();
                        tokio::spawn(refuse(stream));
                        continue;
                    };
                    // As Redis: maxclients first, then protected mode.
                    if refused_by_protected_mode(&shared, &peer) {
                        shared.stats.connection_rejected();
                        tokio::spawn(async move {
                            deny(stream).await;
                            drop(slot);
                        });
                        continue;
                    }
                    let shared = Arc::clone(&shared);
                    let stop = stop.clone();
                    let alive = alive.clone();
                    tokio::spawn(async move {
                        connection::serve(stream, peer, shared, stop).await;
                        drop(slot);
                        drop(alive);
                    });
                }
                Err(err) => {
                    // Out of file descriptors and similar: say so, back off briefly, go on.
                    tracing::warn!(error = %err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            _ = stop.changed() => return,
        }
    }
}

/// One of `maxclients` connection slots, given back when dropped.
struct ClientSlot(Arc<Shared>);

impl ClientSlot {
    fn take(shared: &Arc<Shared>) -> Option<ClientSlot> {
        let limit = shared.config.read().maxclients() as usize;
        let previous = shared.clients.fetch_add(1, Ordering::SeqCst);
        if previous >= limit {
            shared.clients.fetch_sub(1, Ordering::SeqCst);
            return None;
        }
        Some(ClientSlot(Arc::clone(shared)))
    }
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        self.0.clients.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Over `maxclients`: tell the client as Redis does, then close.
async fn refuse(mut stream: tokio::net::TcpStream) {
    use tokio::io::AsyncWriteExt;
    tracing::warn!("refused a client: maxclients reached");
    let _ = stream
        .write_all(b"-ERR max number of clients reached\r\n")
        .await;
}

/// Redis's protected mode: while `protected-mode` is on and the default user has no password,
/// only clients from the loopback interface are served. Redis 7.0 applies it whatever `bind`
/// says (checked against redis-server 7.0.15 bound to `0.0.0.0` and to a single address).
pub fn refused_by_protected_mode(shared: &Shared, peer: &SocketAddr) -> bool {
    let config = shared.config.read();
    config.protected_mode() && config.requirepass().is_empty() && !is_loopback_peer(peer)
}

/// Redis's `connIsLocal`: the peer's address, as text, is `127.*` or `::1`. (An IPv4 address
/// mapped into IPv6 is not local by that rule, and not by ours.)
pub fn is_loopback_peer(peer: &SocketAddr) -> bool {
    match peer {
        SocketAddr::V4(v4) => v4.ip().octets()[0] == 127,
        SocketAddr::V6(v6) => *v6.ip() == std::net::Ipv6Addr::LOCALHOST,
    }
}

/// Redis's reply to a client refused by protected mode, sent before the connection is closed.
pub const PROTECTED_MODE_DENIED: &[u8] = b"-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";

/// Protected mode refused this client: say why, as Redis does, then close without reading.
async fn deny(mut stream: tokio::net::TcpStream) {
    use tokio::io::AsyncWriteExt;
    let peer = stream
        .peer_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    tracing::debug!(addr = %peer, "refused a non-loopback client: protected mode");
    let _ = stream.write_all(PROTECTED_MODE_DENIED).await;
}

/// Run the active expiry cycle `hz` times a second, spending at most a quarter of each period.
async fn expiry_loop(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15 ^ u64::from(std::process::id());
    loop {
        let hz = shared.config.read().hz().max(1);
        let period = Duration::from_millis(1000 / u64::from(hz));
        tokio::select! {
            _ = tokio::time::sleep(period) => {}
            _ = stop.changed() => return,
        }
        if !shared.active_expire.load(Ordering::Relaxed) {
            shared.lock_keyspace().rehash_for(REHASH_BUDGET);
            continue;
        }
        let removed = shared.active_expire_cycle(period / 4, || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        });
        if removed > 0 {
            tracing::trace!(removed, "active expiry");
        }
        // Save points (and BGSAVE's retry after a failure), as Redis's cron checks them.
        crate::persistence::Persistence::cron(&shared);
        // Active rehashing, as Redis's cron does: a table that stops being written to would
        // otherwise stay mid-resize, with lookups checking two tables.
        shared.lock_keyspace().rehash_for(REHASH_BUDGET);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_127_slash_8_and_ipv6_localhost_only() {
        let local = |s: &str| is_loopback_peer(&s.parse::<SocketAddr>().expect("address"));
        assert!(local("127.0.0.1:5000"));
        assert!(local("127.255.3.4:5000"));
        assert!(local("[::1]:5000"));
        assert!(!local("192.0.2.2:5000"));
        assert!(!local("10.0.0.1:5000"));
        assert!(!local("[::ffff:127.0.0.1]:5000"));
        assert!(!local("[fe80::1]:5000"));
    }
}
