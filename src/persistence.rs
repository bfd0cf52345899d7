//! Persistence as a framework service: the count of changes since the last save (Redis's
//! `server.dirty`), and (later in this file) loading and saving RDB snapshots.
//!
//! Handlers reach this only through `Ctx` (`ctx.mark_dirty(n)`); they never touch files or
//! threads themselves.
//!
//! The change count is kept as a monotonic total of every change since startup plus the total
//! at the last successful save, so "changes since the last save" is their difference and a
//! save that completes in the middle of a command (FLUSHALL writing an empty dump) never hides
//! the command's own changes from whoever compares the total before and after it (replication).

use std::sync::atomic::{AtomicU64, Ordering};

/// The persistence state shared by every connection.
#[derive(Debug, Default)]
pub struct Persistence {
    /// Every change since startup.
    changes: AtomicU64,
    /// `changes` as it was when the last successful save took its snapshot.
    saved_at: AtomicU64,
}

impl Persistence {
    pub fn new() -> Persistence {
        Persistence::default()
    }

    /// Count `n` changes to the dataset (what Redis adds to `server.dirty`).
    pub fn mark_dirty(&self, n: u64) {
        self.changes.fetch_add(n, Ordering::SeqCst);
    }

    /// Every change since startup: compare it before and after a command to learn whether
    /// the command changed the dataset.
    pub fn changes(&self) -> u64 {
        self.changes.load(Ordering::SeqCst)
    }

    /// Changes since the last successful save (INFO's `rdb_changes_since_last_save`).
    pub fn dirty(&self) -> u64 {
        self.changes()
            .saturating_sub(self.saved_at.load(Ordering::SeqCst))
    }

    /// A save whose snapshot was taken when `changes()` was `at` has completed.
    pub fn saved(&self, at: u64) {
        self.saved_at.fetch_max(at, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dirty_counts_changes_since_the_last_save() {
        let p = Persistence::new();
        p.mark_dirty(3);
        assert_eq!(p.dirty(), 3);
        let at = p.changes();
        p.mark_dirty(2);
        p.saved(at);
        assert_eq!(p.dirty(), 2);
        assert_eq!(p.changes(), 5);
    }
}
