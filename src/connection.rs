//! One client connection: read bytes, frame requests, run them, write replies.
//!
//! Pipelining: every complete request already buffered is executed in order and all their
//! replies go out in one write. Unsent replies are counted: above the pause mark (the soft or
//! hard `client-output-buffer-limit`, else 256 KiB) no more requests run until the client
//! reads, and past the limits the client is closed, as Redis does. Requests are read meanwhile,
//! up to `client-query-buffer-limit`, past which the client is closed too. A protocol error is
//! answered with Redis's text and the connection is closed (after the replies to the requests
//! before it). I/O errors end the task and are logged at debug level: a client going away is
//! not the server's problem.

use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Buf, BytesMut};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::watch;
use tracing::Instrument;

use crate::clients::{Endpoint, Entry};
use crate::codec::{self, Frame, Limits};
use crate::config::{sds_repr, ClientClass, OutputBufferLimit};
use crate::reply::Reply;
use crate::session::Session;
use crate::shared::Shared;

/// Read buffer growth step, and the size above which an idle buffer is given back.
const READ_CHUNK: usize = 16 * 1024;
const SHRINK_ABOVE: usize = 1024 * 1024;
/// Unsent replies above which no more requests are run until the client reads, when no output
/// buffer limit is set (see [`Settings::pause_at`]).
const PAUSE_ABOVE: usize = 256 * 1024;
/// Requests run under one taking of the keyspace lock before it is let go for others.
const BATCH_MAX: usize = 64;

/// Serve one client until it leaves, breaks the protocol, or the server shuts down.
pub async fn serve(
    stream: TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared>,
    shutdown: watch::Receiver<bool>,
) {
    let endpoint = Endpoint {
        addr: peer.to_string(),
        laddr: stream
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_default(),
        fd: i64::from(stream.as_raw_fd()),
    };
    let session = Session::connected(shared, endpoint);
    let span = tracing::info_span!("client", id = session.client.id, addr = %peer);
    async move {
        tracing::debug!("connected");
        match run(stream, session, shutdown).await {
            Ok(reason) => tracing::debug!(reason, "closed"),
            Err(err) => tracing::debug!(error = %err, "connection ended by an I/O error"),
        }
    }
    .instrument(span)
    .await
}

/// What the connection reads from the configuration before each round, so CONFIG SET takes
/// effect on every connection at its next request.
struct Settings {
    limits: Limits,
    query_limit: u64,
    idle_limit: Option<Duration>,
    output_limit: OutputBufferLimit,
}

impl Settings {
    fn read(session: &Session) -> Settings {
        let config = session.shared().config.read();
        Settings {
            limits: Limits {
                max_bulk_len: config.proto_max_bulk_len(),
                authenticated: !session.client.auth_required(&config),
            },
            query_limit: config.client_query_buffer_limit(),
            // `timeout` seconds without a request closes the client; 0 means never.
            idle_limit: match config.timeout() {
                0 => None,
                secs => Some(Duration::from_secs(secs)),
            },
            output_limit: config.client_output_buffer_limit(ClientClass::Normal),
        }
    }

    /// How much unsent reply data stops the execution of further requests until the client
    /// reads: the soft limit (its clock then runs), else the hard limit (reaching it closes),
    /// else [`PAUSE_ABOVE`], which keeps a client that reads slowly or never from making the
    /// server buffer more than that plus one reply.
    fn pause_at(&self) -> usize {
        let limit = match self.output_limit {
            OutputBufferLimit { soft, .. } if soft > 0 => soft,
            OutputBufferLimit { hard, .. } if hard > 0 => hard,
            _ => PAUSE_ABOVE as u64,
        };
        usize::try_from(limit).unwrap_or(usize::MAX)
    }
}

/// Unsent replies past the output buffer limits, as Redis's `checkClientOutputBufferLimits`
/// judges them: the hard limit at once, the soft one after `soft_seconds` above it. `soft_since`
/// is when the client went (and stayed) above the soft limit. The clock is read only above the
/// soft limit: this runs after every batch, and most batches leave nothing pending.
fn over_output_limit(
    pending: usize,
    limit: &OutputBufferLimit,
    soft_since: &mut Option<Instant>,
    now: impl FnOnce() -> Instant,
) -> bool {
    let pending = pending as u64;
    if limit.hard > 0 && pending >= limit.hard {
        return true;
    }
    if limit.soft > 0 && pending >= limit.soft {
        let now = now();
        let since = *soft_since.get_or_insert(now);
        return now.saturating_duration_since(since) > Duration::from_secs(limit.soft_seconds);
    }
    *soft_since = None;
    false
}

/// Log, in Redis's words, that a client is closed for its unsent replies.
fn closed_for_output(entry: &Entry) -> &'static str {
    tracing::warn!(
        "Client {} scheduled to be closed ASAP for overcoming of output buffer limits.",
        entry.line(Instant::now())
    );
    "output buffer limit reached"
}

async fn run(
    mut stream: TcpStream,
    mut session: Session,
    shutdown: watch::Receiver<bool>,
) -> std::io::Result<&'static str> {
    // Replies are small and latency matters more than packet count: send them at once.
    stream.set_nodelay(true)?;
    let keepalive = session.shared().config.read().tcp_keepalive();
    set_keepalive(&stream, keepalive);
    let mut input = BytesMut::with_capacity(READ_CHUNK);
    // Encoded replies not yet written: what the output buffer limits measure. It grows when
    // a reply needs it, so an idle connection costs only its input buffer.
    let mut output = BytesMut::new();
    let mut parser = codec::Parser::default();
    let entry = Arc::clone(session.entry());
    let shared = Arc::clone(session.shared());
    let mut soft_since: Option<Instant> = None;
    let mut closing = None;
    // The shutdown and CLIENT KILL waits live as long as the connection: made afresh at every
    // wait, each would join and leave its notifier's waiter list once per request.
    let mut shutdown_watch = shutdown.clone();
    let shutdown_changed = shutdown_watch.changed();
    tokio::pin!(shutdown_changed);
    let killed = entry.killed();
    tokio::pin!(killed);
    loop {
        let settings = Settings::read(&session);
        let pause_at = settings.pause_at();
        let Settings {
            mut limits,
            query_limit,
            idle_limit,
            output_limit,
        } = settings;
        // Run every complete request buffered, until the unsent replies reach the pause mark.
        // `drained` says whether the buffered requests ran out (rather than the run pausing).
        // The keyspace lock is held across the buffered requests (at most `BATCH_MAX` in a
        // row) and released at the end of this block, before the next `.await`.
        let mut drained = false;
        // What CLIENT LIST shows while the batch runs, the caller's own line included (as
        // Redis's query buffer still holds the request being executed).
        publish_buffers(&entry, &input, &output);
        // Set by WAIT (the client blocks) and by PSYNC/SYNC (the connection becomes a
        // replica's): the batch stops there, and the lock is released before either waits.
        let mut wait = None;
        let mut handoff = false;
        {
            let mut held = None;
            let mut in_batch = 0;
            while closing.is_none() && output.len() < pause_at {
                match parser.parse(&mut input, &limits) {
                    Ok(Some(Frame::Command(argv))) => {
                        if in_batch == BATCH_MAX {
                            session.end_batch();
                            held = None;
                            in_batch = 0;
                        }
                        in_batch += 1;
                        let reply = session.execute_held(&argv, &shared, &mut held);
                        if let Some(request) = session.client.wait.take() {
                            // CLIENT LIST shows a blocked client's arguments (`argv-mem`).
                            wait = Some((request, argv.iter().map(|a| a.len()).sum::<usize>()));
                            parser.recycle(argv);
                            break;
                        }
                        parser.recycle(argv);
                        if !session.client.silent {
                            codec::encode(&reply, session.client.protocol, &mut output);
                        }
                        if session.client.became_replica {
                            handoff = true;
                            break;
                        }
                        // A request pipelined after a successful AUTH is read with the full
                        // limits.
                        limits.authenticated |= session.client.authenticated;
                        if session.client.close_after_reply {
                            closing = Some("closed on the client's request");
                        }
                    }
                    Ok(Some(Frame::Empty)) => {}
                    Ok(None) => {
                        drained = true;
                        break;
                    }
                    Err(err) => {
                        tracing::debug!(error = %err, "protocol error");
                        codec::encode_protocol_error(&err, &mut output);
                        closing = Some("protocol error");
                    }
                }
            }
            // Counted before the keyspace is let go, so that no INFO misses them.
            session.end_batch();
        }
        if handoff {
            // PSYNC/SYNC made this client a replica: its reply goes out, then the replication
            // service takes the socket over.
            stream.write_all(&output).await?;
            shared.stats.net_written(output.len());
            return crate::replication::serve_replica(stream, input, session, shutdown).await;
        }
        if let Some((request, argv_mem)) = wait {
            // WAIT blocks this client (and only it): the replies before it go out, then it is
            // answered once enough replicas acknowledged or its timeout passed. Meanwhile
            // CLIENT LIST shows it blocked, its request out of the query buffer.
            stream.write_all(&output).await?;
            shared.stats.net_written(output.len());
            output.clear();
            publish_buffers(&entry, &input, &output);
            entry.block(argv_mem);
            let count = tokio::select! {
                count = shared.replication.wait(request) => count,
                _ = &mut shutdown_changed => return Ok("server shutting down"),
                _ = &mut killed => return Ok("killed by CLIENT KILL"),
            };
            entry.unblock(Instant::now());
            if !session.client.silent {
                codec::encode(&Reply::Integer(count), session.client.protocol, &mut output);
            }
            continue;
        }
        // Judged before writing, as Redis judges a reply when it is added, not when it is sent.
        if over_output_limit(output.len(), &output_limit, &mut soft_since, Instant::now) {
            return Ok(closed_for_output(&entry));
        }
        // Let every other connection with requests ready run them first, then write: the
        // replies of one round of the event loop go out back to back, as Redis writes them
        // before it sleeps, so a client waiting on several connections is woken once rather
        // than once per connection.
        if !output.is_empty() {
            BehindReadyTasks::default().await;
        }
        // Write what the socket takes now, without waiting.
        while !output.is_empty() {
            match stream.try_write(&output) {
                Ok(n) => {
                    shared.stats.net_written(n);
                    output.advance(n);
                }
                Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(err) => return Err(err),
            }
        }
        // Drained below the soft limit, its clock stops.
        if over_output_limit(output.len(), &output_limit, &mut soft_since, Instant::now) {
            return Ok(closed_for_output(&entry));
        }
        if output.is_empty() {
            if let Some(reason) = closing {
                return Ok(reason);
            }
            // One huge reply must not leave its capacity behind for the life of the connection.
            if output.capacity() > SHRINK_ABOVE {
                output = BytesMut::new();
            }
        }
        if input.len() as u64 > query_limit {
            tracing::warn!(
                "Closing client that reached max query buffer length: {} (qbuf initial bytes: {})",
                entry.line(Instant::now()),
                String::from_utf8_lossy(&sds_repr(&input[..input.len().min(64)]))
            );
            return Ok("query buffer limit reached");
        }
        // Paused with requests still buffered, and the socket took enough to go on: run them
        // before waiting for anything.
        if !drained && closing.is_none() && output.len() < pause_at {
            continue;
        }
        if input.is_empty() && input.capacity() > SHRINK_ABOVE {
            input = BytesMut::with_capacity(READ_CHUNK);
        }
        if input.capacity() - input.len() < READ_CHUNK / 4 {
            input.reserve(READ_CHUNK);
        }
        // And what it shows while the connection waits.
        publish_buffers(&entry, &input, &output);
        let idle = async {
            match idle_limit {
                Some(limit) => tokio::time::sleep(limit).await,
                None => std::future::pending().await,
            }
        };
        // Above the soft limit, look again once its seconds have passed.
        let soft_deadline = async {
            match soft_since {
                Some(since) => {
                    let at = since
                        + Duration::from_secs(output_limit.soft_seconds)
                        + Duration::from_millis(10);
                    tokio::time::sleep_until(at.into()).await
                }
                None => std::future::pending().await,
            }
        };
        // Requests keep being read while replies wait to be written (up to the query buffer
        // limit), so a client that writes its whole pipeline before reading any reply never
        // deadlocks with us; they are run once the replies drain.
        let readable = tokio::select! {
            ready = stream.readable(), if closing.is_none() => {
                ready?;
                true
            }
            ready = stream.writable(), if !output.is_empty() => {
                ready?;
                false
            }
            _ = soft_deadline => false,
            _ = &mut shutdown_changed => return Ok("server shutting down"),
            _ = &mut killed => return Ok("killed by CLIENT KILL"),
            // As Redis: an idle client past `timeout` is closed without a word.
            _ = idle => return Ok("idle for longer than timeout"),
        };
        if readable {
            match read_some(&stream, &mut input) {
                Ok(0) => return Ok("client closed the connection"),
                Ok(read) => shared.stats.net_read(read),
                Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(err) => return Err(err),
            }
        }
    }
}

/// Publish the connection's buffer sizes for CLIENT LIST (`qbuf`, `qbuf-free`, `obl`...).
fn publish_buffers(entry: &Entry, input: &BytesMut, output: &BytesMut) {
    entry.publish_buffers(
        input.len(),
        input.capacity() - input.len(),
        output.len(),
        output.capacity(),
    );
}

/// Resolves on its second poll, after every task already scheduled has run: the task wakes
/// itself and goes to the back of the run queue. (`tokio::task::yield_now` defers the wake-up
/// until the runtime has polled the sockets again, so the tasks that poll makes ready would
/// run first too, and a reply could wait for a second round of requests.)
#[derive(Default)]
struct BehindReadyTasks {
    yielded: bool,
}

impl std::future::Future for BehindReadyTasks {
    type Output = ();

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        if self.yielded {
            return std::task::Poll::Ready(());
        }
        self.yielded = true;
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    }
}

/// Read what the socket holds into `input`. A read that leaves room in the buffer emptied the
/// socket, so its readiness is cleared at once (as tokio's own `poll_read` does, and as Redis
/// reads once per readable event): otherwise the next wait would find the socket still marked
/// readable and spend a read, and a trip round the loop, learning that it is empty.
fn read_some(stream: &TcpStream, input: &mut BytesMut) -> std::io::Result<usize> {
    let mut read = None;
    let outcome = stream.try_io(tokio::io::Interest::READABLE, || {
        let room = input.capacity() - input.len();
        let n = stream.try_read_buf(input)?;
        read = Some(n);
        if n > 0 && n < room {
            // Reported as "would block" so that `try_io` clears the readiness it saw (not a
            // newer one: data arriving meanwhile keeps the socket marked readable).
            return Err(std::io::ErrorKind::WouldBlock.into());
        }
        Ok(n)
    });
    match (outcome, read) {
        (Ok(n), _) => Ok(n),
        (Err(err), Some(n)) if err.kind() == std::io::ErrorKind::WouldBlock => Ok(n),
        (Err(err), _) => Err(err),
    }
}

/// Apply `tcp-keepalive` to a new connection as Redis does: probes start after `seconds` of
/// silence, follow every third of that (at least 1 s), and 3 unanswered ones drop the peer. 0
/// leaves keepalive off. Like Redis, a CONFIG SET applies to connections accepted afterwards.
fn set_keepalive(stream: &TcpStream, seconds: u64) {
    if seconds == 0 {
        return;
    }
    let idle = Duration::from_secs(seconds);
    let params = socket2::TcpKeepalive::new()
        .with_time(idle)
        .with_interval(Duration::from_secs((seconds / 3).max(1)))
        .with_retries(3);
    if let Err(err) = socket2::SockRef::from(stream).set_tcp_keepalive(&params) {
        tracing::debug!(error = %err, "could not enable TCP keepalive");
    }
}
