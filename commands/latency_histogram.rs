//! LATENCY HISTOGRAM [command ...]
//!
//! Each named command's latency distribution (a container's name stands for its
//! subcommands; unknown names and commands that never ran are left out, a name given twice
//! appears twice), or every command's that ran: `{name: {calls: n, histogram_usec: {top of
//! range in us: calls that took at most that long, ...}}}`, a map in RESP3.

use crate::prelude::*;

register_command!("latency-histogram", latency_histogram);

fn latency_histogram(ctx: &mut Ctx, args: &Args) -> CommandResult {
    let latencies = &ctx.latency.commands;
    let names: Vec<&Bytes> = args.all("command").collect();
    let mut entries = Vec::new();
    if names.is_empty() {
        entries = latencies.all();
    } else {
        for name in names {
            let Some(command) = ctx.table.get_full(name) else {
                continue;
            };
            if let Some(histogram) = latencies.get(&command.full_name) {
                entries.push((command.full_name.clone(), histogram));
            }
            let mut subcommands: Vec<&Command> = command.subcommands.values().collect();
            subcommands.sort_by(|a, b| a.full_name.cmp(&b.full_name));
            for sub in subcommands {
                if let Some(histogram) = latencies.get(&sub.full_name) {
                    entries.push((sub.full_name.clone(), histogram));
                }
            }
        }
    }
    let count = |n: u64| Reply::Integer(i64::try_from(n).unwrap_or(i64::MAX));
    Ok(Reply::Map(
        entries
            .into_iter()
            .map(|(name, histogram)| {
                let cdf = histogram
                    .cumulative()
                    .into_iter()
                    .map(|(micros, calls)| (count(micros), count(calls)))
                    .collect();
                (
                    Reply::Bulk(Bytes::from(name)),
                    Reply::Map(vec![
                        (Reply::bulk_static("calls"), count(histogram.calls())),
                        (Reply::bulk_static("histogram_usec"), Reply::Map(cdf)),
                    ]),
                )
            })
            .collect(),
    ))
}
