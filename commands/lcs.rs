//! LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]
//!
//! The longest common subsequence of the two strings (a missing key is an empty string): the
//! subsequence itself; with LEN its length; with IDX the matching ranges, longest-last-first
//! as Redis walks the table back, optionally only those of at least MINMATCHLEN bytes and
//! with each range's length (WITHMATCHLEN), followed by the total length.
//!
//! The classic dynamic-programming table takes (N+1)*(M+1) 32-bit cells. Redis 7.0.15 bounds
//! it by `proto-max-bulk-len` (512 MiB by default) and refuses larger tables with an error
//! before allocating anything; within that bound the allocation may still fail, which is an
//! error reply too, never an abort.

use crate::prelude::*;

register_command!("lcs", lcs);

fn lcs(ctx: &mut Ctx, args: &Args) -> CommandResult {
    let now = ctx.now_ms;
    let db = ctx.db();
    let a = string_or_empty(db.read(args.key("key1"), now))?;
    let b = string_or_empty(db.read(args.key("key2"), now))?;
    let (want_len, want_idx) = (args.flag("len"), args.flag("idx"));
    if want_len && want_idx {
        return Err(CommandError::err(
            "If you want both the length and indexes, please just use IDX.",
        ));
    }
    // Both arguments are called `len` in Redis 7.0's spec, so MINMATCHLEN is read by token.
    let min_len = args.int("len").unwrap_or(0);
    let with_len = args.flag("withmatchlen");
    let limit = ctx.config().proto_max_bulk_len();
    let table = Table::build(&a, &b, limit)?;
    let total = table.at(a.len(), b.len());
    if want_len {
        return Ok(Reply::Integer(i64::from(total)));
    }
    // Walk back from the bottom-right corner: a byte both strings share at (i, j) belongs to
    // the subsequence; otherwise step towards the larger neighbour. Runs of shared bytes
    // form the ranges IDX reports, the last ones first.
    let mut common = vec![0u8; total as usize];
    let mut ranges = Vec::new();
    let (mut i, mut j, mut k) = (a.len(), b.len(), total as usize);
    // The current run: first and last index in `a`, then in `b`.
    let mut run: Option<(usize, usize, usize, usize)> = None;
    while i > 0 && j > 0 {
        let mut close = false;
        if a[i - 1] == b[j - 1] {
            common[k - 1] = a[i - 1];
            match &mut run {
                None => run = Some((i - 1, i - 1, j - 1, j - 1)),
                Some(r) if r.0 == i && r.2 == j => (r.0, r.2) = (i - 1, j - 1),
                Some(_) => close = true,
            }
            // A run that reached the start of either string cannot grow any more.
            close |= run.is_some_and(|r| r.0 == 0 || r.2 == 0);
            (i, j, k) = (i - 1, j - 1, k - 1);
        } else {
            if table.at(i - 1, j) > table.at(i, j - 1) {
                i -= 1;
            } else {
                j -= 1;
            }
            close = run.is_some();
        }
        if let Some((a_first, a_last, b_first, b_last)) = run.filter(|_| close) {
            let len = a_last - a_first + 1;
            if want_idx && len as i64 >= min_len {
                ranges.push(range_reply(
                    a_first,
                    a_last,
                    b_first,
                    b_last,
                    with_len.then_some(len),
                ));
            }
            run = None;
        }
    }
    if want_idx {
        return Ok(Reply::Map(vec![
            (Reply::bulk_static("matches"), Reply::Array(ranges)),
            (Reply::bulk_static("len"), Reply::Integer(i64::from(total))),
        ]));
    }
    Ok(Reply::Bulk(Bytes::from(common)))
}

/// The string at a key, an empty one for a missing key; LCS words the type error its own way.
fn string_or_empty(value: Option<&Value>) -> Result<Bytes, CommandError> {
    match value {
        None => Ok(Bytes::new()),
        Some(value) => value
            .as_str()
            .map(Str::to_bytes)
            .map_err(|_| CommandError::err("The specified keys must contain string values")),
    }
}

/// `[[a_first, a_last], [b_first, b_last]]`, plus the run's length with WITHMATCHLEN.
fn range_reply(a0: usize, a1: usize, b0: usize, b1: usize, len: Option<usize>) -> Reply {
    let int = |n: usize| Reply::Integer(n as i64);
    let mut item = vec![
        Reply::Array(vec![int(a0), int(a1)]),
        Reply::Array(vec![int(b0), int(b1)]),
    ];
    item.extend(len.map(int));
    Reply::Array(item)
}

/// The dynamic-programming table: cell (i, j) holds the length of the longest common
/// subsequence of the first i bytes of `a` and the first j bytes of `b`.
struct Table {
    cells: Vec<u32>,
    width: usize,
}

impl Table {
    /// The filled table, or Redis's errors: strings too long for 32-bit lengths, a table
    /// larger than `limit` bytes (`proto-max-bulk-len`), or an allocation that failed.
    fn build(a: &[u8], b: &[u8], limit: u64) -> Result<Table, CommandError> {
        let too_long = u32::MAX as usize - 1;
        if a.len() >= too_long || b.len() >= too_long {
            return Err(CommandError::err("String too long for LCS"));
        }
        let failed =
            || CommandError::err("Insufficient memory, failed allocating transient memory for LCS");
        let width = b.len() + 1;
        let size = (a.len() + 1).checked_mul(width).ok_or_else(failed)?;
        let bytes = size
            .checked_mul(std::mem::size_of::<u32>())
            .ok_or_else(failed)?;
        if bytes as u64 > limit {
            return Err(CommandError::err(
                "Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len",
            ));
        }
        let mut cells = Vec::new();
        cells.try_reserve_exact(size).map_err(|_| failed())?;
        cells.resize(size, 0u32);
        for i in 1..=a.len() {
            for j in 1..=b.len() {
                cells[i * width + j] = if a[i - 1] == b[j - 1] {
                    cells[(i - 1) * width + j - 1] + 1
                } else {
                    cells[(i - 1) * width + j].max(cells[i * width + j - 1])
                };
            }
        }
        Ok(Table { cells, width })
    }

    fn at(&self, i: usize, j: usize) -> u32 {
        self.cells[i * self.width + j]
    }
}
