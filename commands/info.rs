//! INFO [section [section ...]]
//!
//! The server's state and counters as `field:value` lines under `# Section` headers, in
//! Redis's layout and field names, so monitoring tools and `redis-cli --stat` read it. Without
//! a section (or with `default`) the default sections; `all` adds the per-command statistics;
//! `everything` is the same here (we have no modules). Unknown sections are skipped. Fields
//! for features we do not have (persistence, replicas, clusters) carry the values Redis shows
//! when those features are idle.

use std::fmt::Write;

use crate::prelude::*;

register_command!("info", info);

/// Every section, in the order Redis prints them, and whether `default` includes it.
const SECTIONS: &[(&str, bool)] = &[
    ("server", true),
    ("clients", true),
    ("memory", true),
    ("persistence", true),
    ("stats", true),
    ("replication", true),
    ("cpu", true),
    ("modules", true),
    ("commandstats", false),
    ("errorstats", true),
    ("latencystats", false),
    ("cluster", true),
    ("keyspace", true),
];

fn info(ctx: &mut Ctx, args: &Args) -> CommandResult {
    let asked: Vec<String> = args
        .all("section")
        .map(|s| String::from_utf8_lossy(s).to_ascii_lowercase())
        .collect();
    let wanted = |name: &str, default: bool| {
        if asked.is_empty() {
            return default;
        }
        asked.iter().any(|a| match a.as_str() {
            "all" | "everything" => true,
            "default" => default,
            other => other == name,
        })
    };
    let mut out = String::new();
    for &(name, default) in SECTIONS {
        if !wanted(name, default) {
            continue;
        }
        if !out.is_empty() {
            out.push_str("\r\n");
        }
        section(ctx, name, &mut out);
    }
    // A verbatim text in RESP3, as Redis sends it; a plain bulk string in RESP2.
    Ok(Reply::Verbatim {
        format: *b"txt",
        text: Bytes::from(out),
    })
}

/// Appends one `field:value` line.
fn line(out: &mut String, field: &str, value: impl std::fmt::Display) {
    let _ = write!(out, "{field}:{value}\r\n");
}

/// Redis's `bytesToHuman`: B below 1 KiB, then K, M, G, T, P with two decimals.
fn human(bytes: u64) -> String {
    let n = bytes as f64;
    let units = ["K", "M", "G", "T", "P"];
    if bytes < 1024 {
        return format!("{bytes}B");
    }
    let mut scale = 1024.0;
    for (i, unit) in units.iter().enumerate() {
        if n < scale * 1024.0 || i == units.len() - 1 {
            return format!("{:.2}{unit}", n / scale);
        }
        scale *= 1024.0;
    }
    format!("{bytes}B")
}

fn section(ctx: &mut Ctx, name: &str, out: &mut String) {
    match name {
        "server" => server(ctx, out),
        "clients" => clients(ctx, out),
        "memory" => memory(ctx, out),
        "persistence" => persistence(ctx, out),
        "stats" => stats(ctx, out),
        "replication" => replication(ctx, out),
        "cpu" => cpu(ctx, out),
        "modules" => out.push_str("# Modules\r\n"),
        "commandstats" => commandstats(ctx, out),
        "errorstats" => errorstats(ctx, out),
        "latencystats" => latencystats(ctx, out),
        "cluster" => {
            out.push_str("# Cluster\r\n");
            line(out, "cluster_enabled", 0);
        }
        "keyspace" => keyspace(ctx, out),
        _ => {}
    }
}

fn server(ctx: &mut Ctx, out: &mut String) {
    let process = ctx.stats.process();
    let config = ctx.config();
    let uptime = ctx.stats.uptime().as_secs();
    let now_us = u64::try_from(ctx.now_ms).unwrap_or(0) * 1000;
    out.push_str("# Server\r\n");
    line(out, "redis_version", REDIS_VERSION);
    line(out, "redis_clone_version", VERSION);
    line(out, "redis_git_sha1", "00000000");
    line(out, "redis_git_dirty", 0);
    line(out, "redis_build_id", "0");
    line(out, "redis_mode", "standalone");
    line(out, "os", &process.os);
    line(out, "arch_bits", usize::BITS);
    line(out, "monotonic_clock", "POSIX clock_gettime");
    line(out, "multiplexing_api", "epoll");
    line(out, "atomicvar_api", "c11-builtin");
    line(out, "gcc_version", "0.0.0");
    line(out, "process_id", process.pid);
    line(out, "process_supervised", "no");
    line(out, "run_id", &ctx.stats.run_id);
    line(out, "tcp_port", config.port());
    line(out, "server_time_usec", now_us);
    line(out, "uptime_in_seconds", uptime);
    line(out, "uptime_in_days", uptime / 86400);
    line(out, "hz", config.hz());
    line(out, "configured_hz", config.hz());
    // Redis's LRU clock: seconds, in 24 bits.
    line(out, "lru_clock", (now_us / 1_000_000) & ((1 << 24) - 1));
    line(out, "executable", &process.executable);
    let file = config
        .config_file()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    line(out, "config_file", file);
    line(out, "io_threads_active", 0);
}

fn clients(ctx: &mut Ctx, out: &mut String) {
    out.push_str("# Clients\r\n");
    line(out, "connected_clients", ctx.stats.connected_clients());
    line(out, "cluster_connections", 0);
    line(out, "maxclients", ctx.config().maxclients());
    line(out, "client_recent_max_input_buffer", 0);
    line(out, "client_recent_max_output_buffer", 0);
    line(out, "blocked_clients", 0);
    line(out, "tracking_clients", 0);
    line(out, "clients_in_timeout_table", 0);
}

fn memory(ctx: &mut Ctx, out: &mut String) {
    let process = ctx.stats.process();
    let config = ctx.config();
    let used = process.used_memory;
    let peak = ctx.stats.peak_memory(used);
    let startup = ctx.stats.startup_memory();
    let dataset = used.saturating_sub(startup);
    let percent = |part: u64, whole: u64| {
        if whole == 0 {
            0.0
        } else {
            part as f64 * 100.0 / whole as f64
        }
    };
    let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    out.push_str("# Memory\r\n");
    line(out, "used_memory", used);
    line(out, "used_memory_human", human(used));
    line(out, "used_memory_rss", process.rss);
    line(out, "used_memory_rss_human", human(process.rss));
    line(out, "used_memory_peak", peak);
    line(out, "used_memory_peak_human", human(peak));
    line(
        out,
        "used_memory_peak_perc",
        format!("{:.2}%", percent(used, peak)),
    );
    line(out, "used_memory_overhead", startup);
    line(out, "used_memory_startup", startup);
    line(out, "used_memory_dataset", dataset);
    line(
        out,
        "used_memory_dataset_perc",
        format!("{:.2}%", percent(dataset, used)),
    );
    line(out, "allocator_allocated", used);
    line(out, "allocator_active", used);
    line(out, "allocator_resident", process.rss);
    line(out, "total_system_memory", process.total_system_memory);
    line(
        out,
        "total_system_memory_human",
        human(process.total_system_memory),
    );
    for field in ["used_memory_lua", "used_memory_vm_eval"] {
        line(out, field, 0);
    }
    line(out, "used_memory_lua_human", "0B");
    for field in [
        "used_memory_scripts_eval",
        "number_of_cached_scripts",
        "number_of_functions",
        "number_of_libraries",
        "used_memory_vm_functions",
        "used_memory_vm_total",
    ] {
        line(out, field, 0);
    }
    line(out, "used_memory_vm_total_human", "0B");
    line(out, "used_memory_functions", 0);
    line(out, "used_memory_scripts", 0);
    line(out, "used_memory_scripts_human", "0B");
    line(out, "maxmemory", config.maxmemory());
    line(out, "maxmemory_human", human(config.maxmemory()));
    line(out, "maxmemory_policy", config.maxmemory_policy());
    line(out, "allocator_frag_ratio", "1.00");
    line(out, "allocator_frag_bytes", 0);
    line(
        out,
        "allocator_rss_ratio",
        format!("{:.2}", ratio(process.rss, used)),
    );
    line(out, "allocator_rss_bytes", process.rss.saturating_sub(used));
    line(out, "rss_overhead_ratio", "1.00");
    line(out, "rss_overhead_bytes", 0);
    line(
        out,
        "mem_fragmentation_ratio",
        format!("{:.2}", ratio(process.rss, used)),
    );
    line(
        out,
        "mem_fragmentation_bytes",
        process.rss.saturating_sub(used),
    );
    for field in [
        "mem_not_counted_for_evict",
        "mem_replication_backlog",
        "mem_total_replication_buffers",
        "mem_clients_slaves",
        "mem_clients_normal",
        "mem_cluster_links",
        "mem_aof_buffer",
    ] {
        line(out, field, 0);
    }
    line(out, "mem_allocator", "libc");
    for field in [
        "active_defrag_running",
        "lazyfree_pending_objects",
        "lazyfreed_objects",
    ] {
        line(out, field, 0);
    }
}

fn persistence(ctx: &mut Ctx, out: &mut String) {
    let appendonly = ctx.config().appendonly();
    out.push_str("# Persistence\r\n");
    for field in [
        "loading",
        "async_loading",
        "current_cow_peak",
        "current_cow_size",
        "current_cow_size_age",
    ] {
        line(out, field, 0);
    }
    line(out, "current_fork_perc", "0.00");
    let rdb = ctx.persistence.report();
    line(out, "current_save_keys_processed", rdb.keys_processed);
    line(out, "current_save_keys_total", rdb.keys_total);
    line(
        out,
        "rdb_changes_since_last_save",
        rdb.changes_since_last_save,
    );
    line(
        out,
        "rdb_bgsave_in_progress",
        u8::from(rdb.bgsave_in_progress),
    );
    line(out, "rdb_last_save_time", rdb.last_save_time);
    line(
        out,
        "rdb_last_bgsave_status",
        if rdb.last_bgsave_ok { "ok" } else { "err" },
    );
    line(out, "rdb_last_bgsave_time_sec", rdb.last_bgsave_time_sec);
    line(
        out,
        "rdb_current_bgsave_time_sec",
        rdb.current_bgsave_time_sec,
    );
    line(out, "rdb_saves", rdb.saves);
    // No fork, so no copy-on-write pages to count.
    line(out, "rdb_last_cow_size", 0);
    line(
        out,
        "rdb_last_load_keys_expired",
        rdb.last_load_keys_expired,
    );
    line(out, "rdb_last_load_keys_loaded", rdb.last_load_keys_loaded);
    line(out, "aof_enabled", u8::from(appendonly));
    line(out, "aof_rewrite_in_progress", 0);
    line(out, "aof_rewrite_scheduled", 0);
    line(out, "aof_last_rewrite_time_sec", -1);
    line(out, "aof_current_rewrite_time_sec", -1);
    line(out, "aof_last_bgrewrite_status", "ok");
    line(out, "aof_rewrites", 0);
    line(out, "aof_rewrites_consecutive_failures", 0);
    line(out, "aof_last_write_status", "ok");
    line(out, "aof_last_cow_size", 0);
    line(out, "module_fork_in_progress", 0);
    line(out, "module_fork_last_cow_size", 0);
}

fn stats(ctx: &mut Ctx, out: &mut String) {
    let stats = ctx.stats;
    out.push_str("# Stats\r\n");
    line(
        out,
        "total_connections_received",
        stats.total_connections_received(),
    );
    line(
        out,
        "total_commands_processed",
        stats.total_commands_processed(),
    );
    line(
        out,
        "instantaneous_ops_per_sec",
        stats.instantaneous_ops_per_sec(),
    );
    line(out, "total_net_input_bytes", stats.total_net_input_bytes());
    line(
        out,
        "total_net_output_bytes",
        stats.total_net_output_bytes(),
    );
    for field in ["total_net_repl_input_bytes", "total_net_repl_output_bytes"] {
        line(out, field, 0);
    }
    let kbps = |rate: f64| format!("{rate:.2}");
    line(
        out,
        "instantaneous_input_kbps",
        kbps(stats.instantaneous_input_kbps()),
    );
    line(
        out,
        "instantaneous_output_kbps",
        kbps(stats.instantaneous_output_kbps()),
    );
    for field in [
        "instantaneous_input_repl_kbps",
        "instantaneous_output_repl_kbps",
    ] {
        line(out, field, "0.00");
    }
    line(out, "rejected_connections", stats.rejected_connections());
    let (full, partial_ok, partial_err) = ctx.replication.sync_counts();
    line(out, "sync_full", full);
    line(out, "sync_partial_ok", partial_ok);
    line(out, "sync_partial_err", partial_err);
    let counters = ctx.keyspace.counters();
    line(out, "expired_keys", stats.expired_keys() + counters.expired);
    line(
        out,
        "expired_stale_perc",
        format!("{:.2}", stats.expired_stale_perc()),
    );
    line(
        out,
        "expired_time_cap_reached_count",
        stats.expired_time_cap_reached_count(),
    );
    line(
        out,
        "expire_cycle_cpu_milliseconds",
        stats.expire_cycle_cpu_milliseconds(),
    );
    line(out, "evicted_keys", stats.evicted_keys());
    for field in [
        "evicted_clients",
        "total_eviction_exceeded_time",
        "current_eviction_exceeded_time",
    ] {
        line(out, field, 0);
    }
    line(out, "keyspace_hits", counters.hits);
    line(out, "keyspace_misses", counters.misses);
    for field in [
        "pubsub_channels",
        "pubsub_patterns",
        "pubsubshard_channels",
        "latest_fork_usec",
        "total_forks",
        "migrate_cached_sockets",
        "slave_expires_tracked_keys",
        "active_defrag_hits",
        "active_defrag_misses",
        "active_defrag_key_hits",
        "active_defrag_key_misses",
        "total_active_defrag_time",
        "current_active_defrag_time",
        "tracking_total_keys",
        "tracking_total_items",
        "tracking_total_prefixes",
        "unexpected_error_replies",
    ] {
        line(out, field, 0);
    }
    line(out, "total_error_replies", stats.total_error_replies());
    line(out, "dump_payload_sanitizations", 0);
    line(out, "total_reads_processed", stats.total_reads_processed());
    line(
        out,
        "total_writes_processed",
        stats.total_writes_processed(),
    );
    for field in [
        "io_threaded_reads_processed",
        "io_threaded_writes_processed",
        "reply_buffer_shrinks",
        "reply_buffer_expands",
    ] {
        line(out, field, 0);
    }
}

fn replication(ctx: &mut Ctx, out: &mut String) {
    ctx.replication_info(out);
}

fn cpu(ctx: &mut Ctx, out: &mut String) {
    let p = ctx.stats.process();
    out.push_str("# CPU\r\n");
    line(out, "used_cpu_sys", format!("{:.6}", p.cpu_sys));
    line(out, "used_cpu_user", format!("{:.6}", p.cpu_user));
    line(
        out,
        "used_cpu_sys_children",
        format!("{:.6}", p.cpu_sys_children),
    );
    line(
        out,
        "used_cpu_user_children",
        format!("{:.6}", p.cpu_user_children),
    );
    // We have no single main thread: the whole process's figures.
    line(out, "used_cpu_sys_main_thread", format!("{:.6}", p.cpu_sys));
    line(
        out,
        "used_cpu_user_main_thread",
        format!("{:.6}", p.cpu_user),
    );
}

fn commandstats(ctx: &mut Ctx, out: &mut String) {
    out.push_str("# Commandstats\r\n");
    for (name, s) in ctx.stats.commands() {
        let per_call = if s.calls == 0 {
            0.0
        } else {
            s.usec as f64 / s.calls as f64
        };
        let _ = write!(
            out,
            "cmdstat_{name}:calls={},usec={},usec_per_call={per_call:.2},rejected_calls={},failed_calls={}\r\n",
            s.calls, s.usec, s.rejected_calls, s.failed_calls
        );
    }
}

fn errorstats(ctx: &mut Ctx, out: &mut String) {
    out.push_str("# Errorstats\r\n");
    for (code, count) in ctx.stats.errors() {
        let _ = write!(out, "errorstat_{code}:count={count}\r\n");
    }
}

fn keyspace(ctx: &mut Ctx, out: &mut String) {
    out.push_str("# Keyspace\r\n");
    for index in 0..ctx.keyspace.len() {
        let db = ctx.keyspace.db(index);
        let keys = db.len();
        if keys == 0 {
            continue;
        }
        let expires = db.volatile_len();
        let _ = write!(out, "db{index}:keys={keys},expires={expires},avg_ttl=0\r\n");
    }
}

fn latencystats(ctx: &mut Ctx, out: &mut String) {
    out.push_str("# Latencystats\r\n");
    let percentiles = ctx.config().latency_tracking_info_percentiles();
    for text in ctx.latency.commands.info_lines(&percentiles) {
        out.push_str(&text);
        out.push_str("\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_sizes_as_redis_prints_them() {
        assert_eq!(human(0), "0B");
        assert_eq!(human(1023), "1023B");
        assert_eq!(human(1024), "1.00K");
        assert_eq!(human(917_064), "895.57K");
        assert_eq!(human(6_631_424), "6.32M");
        assert_eq!(human(25_276_510_208), "23.54G");
    }
}
