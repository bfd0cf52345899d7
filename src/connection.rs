//! One client connection: read bytes, frame requests, run them, write replies.
//!
//! Pipelining: every complete request already buffered is executed in order and all their
//! replies go out in one write. A protocol error is answered with Redis's text and the
//! connection is closed (after the replies to the requests before it). I/O errors end the task
//! and are logged at debug level: a client going away is not the server's problem.

use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tracing::Instrument;

use crate::clients::Endpoint;
use crate::codec::{self, Frame, Limits};
use crate::session::Session;
use crate::shared::Shared;

/// Read buffer growth step, and the size above which an idle buffer is given back.
const READ_CHUNK: usize = 16 * 1024;
const SHRINK_ABOVE: usize = 1024 * 1024;
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

async fn run(
    mut stream: TcpStream,
    mut session: Session,
    mut shutdown: watch::Receiver<bool>,
) -> std::io::Result<&'static str> {
    // Replies are small and latency matters more than packet count: send them at once.
    stream.set_nodelay(true)?;
    let mut input = BytesMut::with_capacity(READ_CHUNK);
    let mut output = BytesMut::with_capacity(READ_CHUNK);
    let mut parser = codec::Parser::default();
    let entry = Arc::clone(session.entry());
    let shared = Arc::clone(session.shared());
    loop {
        let (mut limits, query_limit, idle_limit) = {
            let config = session
                .shared()
                .config
                .read()
                .unwrap_or_else(|p| p.into_inner());
            (
                Limits {
                    max_bulk_len: config.proto_max_bulk_len(),
                    authenticated: !session.client.auth_required(&config),
                },
                config.client_query_buffer_limit(),
                // `timeout` seconds without a request closes the client; 0 means never.
                match config.timeout() {
                    0 => None,
                    secs => Some(Duration::from_secs(secs)),
                },
            )
        };
        // The keyspace lock, held across the buffered requests (at most `BATCH_MAX` in a
        // row) and released at the end of this block, before the next `.await`.
        let closing = {
            let mut closing = None;
            let mut held = None;
            let mut in_batch = 0;
            loop {
                match parser.parse(&mut input, &limits) {
                    Ok(Some(Frame::Command(argv))) => {
                        if in_batch == BATCH_MAX {
                            session.flush_stats();
                            held = None;
                            in_batch = 0;
                        }
                        in_batch += 1;
                        let reply = session.execute_held(&argv, &shared, &mut held);
                        parser.recycle(argv);
                        if !session.client.silent {
                            codec::encode(&reply, session.client.protocol, &mut output);
                        }
                        // A request pipelined after a successful AUTH is read with the full limits.
                        limits.authenticated |= session.client.authenticated;
                        if session.client.close_after_reply {
                            closing = Some("closed on the client's request");
                            break;
                        }
                    }
                    Ok(Some(Frame::Empty)) => {}
                    Ok(None) => break,
                    Err(err) => {
                        tracing::debug!(error = %err, "protocol error");
                        codec::encode_protocol_error(&err, &mut output);
                        closing = Some("protocol error");
                        break;
                    }
                }
            }
            // Counted before the keyspace is let go, so that no INFO misses them.
            session.flush_stats();
            closing
        };
        if !output.is_empty() {
            stream.write_all(&output).await?;
            output.clear();
            // One huge reply must not leave its capacity behind for the life of the connection.
            if output.capacity() > SHRINK_ABOVE {
                output = BytesMut::with_capacity(READ_CHUNK);
            }
        }
        if let Some(reason) = closing {
            return Ok(reason);
        }
        if input.len() as u64 > query_limit {
            tracing::warn!(
                bytes = input.len(),
                "closing client that reached the query buffer limit"
            );
            return Ok("query buffer limit reached");
        }
        if input.is_empty() && input.capacity() > SHRINK_ABOVE {
            input = BytesMut::with_capacity(READ_CHUNK);
        }
        if input.capacity() - input.len() < READ_CHUNK / 4 {
            input.reserve(READ_CHUNK);
        }
        let idle = async {
            match idle_limit {
                Some(limit) => tokio::time::sleep(limit).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            read = stream.read_buf(&mut input) => {
                if read? == 0 {
                    return Ok("client closed the connection");
                }
            }
            _ = shutdown.changed() => return Ok("server shutting down"),
            _ = entry.killed() => return Ok("killed by CLIENT KILL"),
            // As Redis: an idle client past `timeout` is closed without a word.
            _ = idle => return Ok("idle for longer than timeout"),
        }
    }
}
