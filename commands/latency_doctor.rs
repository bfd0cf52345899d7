//! LATENCY DOCTOR
//!
//! Redis's report in words (verbatim text in RESP3): for each event its number of spikes,
//! average, mean deviation, period and worst, then the advice that follows from the events,
//! the slow log settings and whether the process uses transparent huge pages.

use crate::prelude::*;

register_command!("latency-doctor", latency_doctor);

fn latency_doctor(ctx: &mut Ctx, _args: &Args) -> CommandResult {
    let (threshold, slowlog, hz) = {
        let config = ctx.config();
        (
            config.latency_monitor_threshold(),
            config.slowlog_log_slower_than(),
            config.hz(),
        )
    };
    let huge_pages = ctx.stats.process().anon_huge_pages > 0;
    let report = ctx
        .latency
        .doctor(threshold, slowlog, hz, huge_pages, ctx.now_ms / 1000);
    Ok(Reply::Verbatim {
        format: *b"txt",
        text: Bytes::from(report),
    })
}
