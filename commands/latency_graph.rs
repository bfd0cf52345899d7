//! LATENCY GRAPH event
//!
//! The event's samples as an ASCII bar graph (verbatim text in RESP3): a title with the
//! highest and lowest latency shown and the highest ever, then one column per sampled second,
//! labelled with how long ago it was. An event without samples is an error.

use crate::prelude::*;

register_command!("latency-graph", latency_graph);

fn latency_graph(ctx: &mut Ctx, args: &Args) -> CommandResult {
    let event = args.bytes("event");
    match ctx.latency.graph(event, ctx.now_ms / 1000) {
        Some(text) => Ok(Reply::Verbatim {
            format: *b"txt",
            text: Bytes::from(text),
        }),
        None => {
            let mut text = b"ERR No samples available for event '".to_vec();
            text.extend_from_slice(event);
            text.push(b'\'');
            Err(CommandError::Bytes(text))
        }
    }
}
