//! Persistence as a framework service: the count of changes since the last save (Redis's
//! `server.dirty`), loading the RDB file at startup, SAVE, BGSAVE, save points, the save at
//! shutdown and after FLUSHALL, and the state INFO persistence reports.
//!
//! Handlers reach this only through `Ctx` (`ctx.mark_dirty(n)`, `ctx.save()`,
//! `ctx.bgsave()`...); they never touch files or threads themselves.
//!
//! The change count is kept as a monotonic total of every change since startup plus the total
//! at the last successful save, so "changes since the last save" is their difference and a
//! save that completes in the middle of a command (FLUSHALL writing an empty dump) never hides
//! the command's own changes from whoever compares the total before and after it (replication).
//!
//! BGSAVE without fork: the command marks the snapshot's instant in the keyspace (copy-before-
//! write, see `Keyspace::snapshot_begin`) and a thread copies the keyspace in slices of
//! [`SLICE_KEYS`] keys, taking the lock once per slice, then encodes the copy and writes the
//! file with the lock free. Other clients wait at most one slice.
//!
//! Every file is written crash-safe: a temporary file in `dir`, fsync, rename over
//! `dbfilename`, fsync of the directory. A crash at any moment leaves the old file or the new
//! one, whole.

use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::config::Config;
use crate::keyspace::Keyspace;
use crate::rdb::{self, RdbOptions};
use crate::shared::Shared;

// `exit` starts at 0: nobody decided yet, so the way out saves when save points exist.
/// SHUTDOWN NOSAVE (or no save points): nothing is saved on the way out.
const EXIT_NOSAVE: u8 = 1;
/// Saved before stopping: save again on the way out only if writes slipped in meanwhile.
const EXIT_SAVED: u8 = 2;

/// Keys copied per lock hold by a background save.
pub const SLICE_KEYS: usize = 2_000;

/// After a failed background save, save points wait this long before trying again (Redis's
/// `CONFIG_BGSAVE_RETRY_DELAY`).
const RETRY_DELAY_SECS: i64 = 5;

/// The persistence state shared by every connection.
#[derive(Debug, Default)]
pub struct Persistence {
    /// Every change since startup.
    changes: AtomicU64,
    /// `changes` as it was when the last successful save took its snapshot.
    saved_at: AtomicU64,
    state: Mutex<State>,
    /// Whether the last background save to a file succeeded (true until one fails): read by
    /// every write command's MISCONF check, so kept out of `state`'s lock.
    last_bgsave_ok: AtomicBool,
    /// The server, for the background save thread (set once the state is shared).
    shared: OnceLock<Weak<Shared>>,
    /// What the way out does: decided by SHUTDOWN or by the save a signal triggers
    /// (`EXIT_*`).
    exit: AtomicU8,
}

#[derive(Debug, Default)]
struct State {
    /// The background save in progress, if any.
    bgsave: Option<Bgsave>,
    /// Bumped to abandon a background save: one whose generation is stale never renames its
    /// file over the dump.
    generation: u64,
    /// Unix seconds of the last successful save (startup counts as one, as in Redis).
    last_save: i64,
    last_bgsave_secs: i64,
    last_bgsave_try: i64,
    saves: u64,
    keys_loaded: u64,
    keys_expired: u64,
}

#[derive(Debug)]
struct Bgsave {
    generation: u64,
    started: Instant,
    keys_total: u64,
    keys_processed: Arc<AtomicU64>,
    /// Set when the save is abandoned, so its thread stops writing early.
    cancelled: Arc<std::sync::atomic::AtomicBool>,
}

/// What INFO persistence reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub changes_since_last_save: u64,
    pub bgsave_in_progress: bool,
    pub last_save_time: i64,
    pub last_bgsave_ok: bool,
    pub last_bgsave_time_sec: i64,
    pub current_bgsave_time_sec: i64,
    pub saves: u64,
    pub keys_processed: u64,
    pub keys_total: u64,
    pub last_load_keys_loaded: u64,
    pub last_load_keys_expired: u64,
}

/// Why BGSAVE did not start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BgsaveRefused {
    AlreadyInProgress,
    /// The server's state is not shared yet (never the case once it serves clients).
    NoServer,
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn unix_now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Where and how to write, read from the configuration at the moment a save starts.
#[derive(Debug, Clone)]
struct Target {
    dir: PathBuf,
    file: String,
    options: RdbOptions,
    /// Replication's AUX fields (`repl-stream-db`, `repl-id`, `repl-offset`), taken at the
    /// snapshot's instant, so that a restarted replica can resume with a partial resync.
    repl_aux: Vec<(&'static str, Vec<u8>)>,
}

impl Target {
    fn from(config: &Config) -> Target {
        Target {
            dir: config.dir().to_path_buf(),
            file: config.dbfilename().to_string(),
            options: RdbOptions {
                compression: config.rdbcompression(),
                checksum: config.rdbchecksum(),
                ctime: unix_now(),
                used_mem: crate::stats::process().used_memory,
            },
            repl_aux: Vec::new(),
        }
    }

    fn aux(&self) -> Vec<(&str, &[u8])> {
        self.repl_aux.iter().map(|(k, v)| (*k, &v[..])).collect()
    }
}

/// The temporary file a save of kind `tag` writes in `dir` before renaming it.
fn temp_path(dir: &Path, tag: &str) -> PathBuf {
    dir.join(format!("temp-{}-{tag}.rdb", std::process::id()))
}

/// First half of a crash-safe write: `write` fills the temporary file `temp`, which is
/// flushed and synced. On failure it is removed.
fn write_temp(
    temp: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
) -> Result<(), String> {
    let result = (|| -> std::io::Result<()> {
        let file = File::create(temp)?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        write(&mut out)?;
        let file = out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()
    })();
    result.map_err(|err| {
        let _ = std::fs::remove_file(temp);
        format!("could not write {}: {err}", temp.to_string_lossy())
    })
}

/// Second half: rename the synced temporary file over `dir/name`, then sync the directory so
/// the rename itself survives a crash. A crash at any moment leaves the old file or the new
/// one, whole.
fn commit_temp(temp: &Path, dir: &Path, name: &str) -> Result<(), String> {
    let result = std::fs::rename(temp, dir.join(name)).and_then(|()| File::open(dir)?.sync_all());
    result.map_err(|err| {
        let _ = std::fs::remove_file(temp);
        format!(
            "could not rename {} to {name}: {err}",
            temp.to_string_lossy()
        )
    })
}

/// A whole crash-safe write (SAVE and the saves done in place).
fn write_atomically(
    dir: &Path,
    name: &str,
    tag: &str,
    write: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
) -> Result<(), String> {
    let temp = temp_path(dir, tag);
    write_temp(&temp, write)?;
    commit_temp(&temp, dir, name)
}

impl Persistence {
    pub fn new() -> Persistence {
        Persistence {
            state: Mutex::new(State {
                last_save: unix_now(),
                last_bgsave_secs: -1,
                ..State::default()
            }),
            last_bgsave_ok: AtomicBool::new(true),
            ..Persistence::default()
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // Every update of the state is a few assignments: a poisoned lock still holds a
        // consistent state.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Let background saves reach the server (done once the state is in its `Arc`).
    pub fn attach(&self, shared: &Arc<Shared>) {
        let _ = self.shared.set(Arc::downgrade(shared));
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

    /// Unix seconds of the last successful save (LASTSAVE).
    pub fn last_save(&self) -> i64 {
        self.state().last_save
    }

    pub fn bgsave_in_progress(&self) -> bool {
        self.state().bgsave.is_some()
    }

    /// What INFO persistence shows.
    pub fn report(&self) -> Report {
        let state = self.state();
        let current = state.bgsave.as_ref();
        Report {
            changes_since_last_save: self.dirty(),
            bgsave_in_progress: current.is_some(),
            last_save_time: state.last_save,
            last_bgsave_ok: self.last_bgsave_ok.load(Ordering::Relaxed),
            last_bgsave_time_sec: state.last_bgsave_secs,
            current_bgsave_time_sec: current.map_or(-1, |b| {
                i64::try_from(b.started.elapsed().as_secs()).unwrap_or(0)
            }),
            saves: state.saves,
            keys_processed: current.map_or(0, |b| b.keys_processed.load(Ordering::Relaxed)),
            keys_total: current.map_or(0, |b| b.keys_total),
            last_load_keys_loaded: state.keys_loaded,
            last_load_keys_expired: state.keys_expired,
        }
    }

    /// Whether the last background save to a file failed: write commands (and PING) are
    /// then refused with MISCONF when save points are configured and
    /// `stop-writes-on-bgsave-error` is on (see `context::Settings::misconf_armed`).
    pub fn last_bgsave_failed(&self) -> bool {
        !self.last_bgsave_ok.load(Ordering::Relaxed)
    }

    /// SAVE counts in `rdb_saves` (whether it succeeds or not), as BGSAVE does; the saves
    /// of FLUSHALL, SHUTDOWN and DEBUG RELOAD do not, as in Redis.
    pub fn count_save(&self) {
        self.state().saves += 1;
    }

    /// Write the keyspace now, with the lock held by the caller (SAVE, and the saves of
    /// FLUSHALL, SHUTDOWN, signals and DEBUG RELOAD). SAVE refuses while a background save
    /// runs (the caller says so to the client).
    pub fn save(&self, keyspace: &Keyspace, config: &Config) -> Result<(), String> {
        let mut target = Target::from(config);
        target.repl_aux = self.repl_aux();
        let at = self.changes();
        let started = Instant::now();
        let mut keys = 0;
        write_atomically(&target.dir, &target.file, "save", |out| {
            keys = rdb::encode_with_aux(keyspace, out, &target.options, &target.aux())?.0;
            Ok(())
        })
        .inspect_err(|reason| tracing::warn!("Error saving DB on disk: {reason}"))?;
        self.saved(at);
        let mut state = self.state();
        state.last_save = unix_now();
        drop(state);
        self.last_bgsave_ok.store(true, Ordering::Relaxed);
        tracing::info!(
            keys,
            "DB saved on disk in {:.3} seconds",
            started.elapsed().as_secs_f64()
        );
        Ok(())
    }

    /// Abandon a background save in progress (FLUSHALL, SHUTDOWN): its file is never
    /// renamed over the dump, and it is not counted as a failure.
    pub fn abort_bgsave(&self, keyspace: &mut Keyspace) {
        let mut state = self.state();
        if let Some(abandoned) = state.bgsave.take() {
            abandoned.cancelled.store(true, Ordering::SeqCst);
            state.generation += 1;
            keyspace.snapshot_abort();
            tracing::info!("Background saving abandoned");
        }
    }

    /// Replication's AUX fields for a file written now (with the keyspace locked).
    fn repl_aux(&self) -> Vec<(&'static str, Vec<u8>)> {
        self.shared
            .get()
            .and_then(Weak::upgrade)
            .map(|shared| shared.replication.rdb_aux())
            .unwrap_or_default()
    }

    /// BGSAVE: mark the snapshot's instant in the keyspace (locked by the caller) and start a
    /// thread that copies, encodes and writes it.
    pub fn bgsave(&self, keyspace: &mut Keyspace, config: &Config) -> Result<(), BgsaveRefused> {
        self.start_background(keyspace, config, None)
    }

    /// For a replica's full synchronization: take a snapshot of the keyspace (locked by the
    /// caller) at this instant, as BGSAVE does, and hand it to `deliver` on the saving thread
    /// instead of writing the file (encode it with `rdb::encode` onto the socket, with
    /// `options_for`). It occupies the background save slot while it is copied (INFO shows
    /// `rdb_bgsave_in_progress:1`, as Redis's diskless sync does) but is not a save: the change
    /// count and LASTSAVE do not move. `deliver` is not called when the snapshot is
    /// abandoned (FLUSHALL, SHUTDOWN).
    pub fn snapshot_for(
        &self,
        keyspace: &mut Keyspace,
        config: &Config,
        deliver: Deliver,
    ) -> Result<(), BgsaveRefused> {
        self.start_background(keyspace, config, Some(deliver))
    }

    /// The options a file written now would use (`rdbcompression`, `rdbchecksum`, `ctime`).
    pub fn options_for(config: &Config) -> RdbOptions {
        Target::from(config).options
    }

    fn start_background(
        &self,
        keyspace: &mut Keyspace,
        config: &Config,
        deliver: Option<Deliver>,
    ) -> Result<(), BgsaveRefused> {
        let to_file = deliver.is_none();
        let shared = self
            .shared
            .get()
            .and_then(Weak::upgrade)
            .ok_or(BgsaveRefused::NoServer)?;
        let mut state = self.state();
        if state.bgsave.is_some() {
            return Err(BgsaveRefused::AlreadyInProgress);
        }
        state.generation += 1;
        let generation = state.generation;
        let keys_processed = Arc::new(AtomicU64::new(0));
        let cancelled = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let keys_total = (0..keyspace.len())
            .map(|db| keyspace.sizes(db).0 as u64)
            .sum();
        state.bgsave = Some(Bgsave {
            generation,
            started: Instant::now(),
            keys_total,
            keys_processed: Arc::clone(&keys_processed),
            cancelled: Arc::clone(&cancelled),
        });
        if to_file {
            state.last_bgsave_try = unix_now();
            state.saves += 1;
        }
        drop(state);
        keyspace.snapshot_begin();
        let job = Job {
            shared,
            generation,
            at: self.changes(),
            target: Target {
                repl_aux: self.repl_aux(),
                ..Target::from(config)
            },
            keys_processed,
            cancelled,
            to_file,
            deliver,
        };
        let spawned = std::thread::Builder::new()
            .name("bgsave".into())
            .spawn(move || job.run());
        if let Err(err) = spawned {
            tracing::warn!("Can't save in background: {err}");
            keyspace.snapshot_abort();
            let mut state = self.state();
            state.bgsave = None;
            if to_file {
                self.last_bgsave_ok.store(false, Ordering::Relaxed);
            }
            return Err(BgsaveRefused::NoServer);
        }
        if to_file {
            tracing::info!("Background saving started");
        }
        Ok(())
    }

    /// The timer's check of the save points: start a background save when one is due, as
    /// Redis's cron does (after a failed one, not before 5 seconds have passed).
    pub fn cron(shared: &Arc<Shared>) {
        let persistence = &shared.persistence;
        let (rules, dirty) = {
            let config = shared.config.read();
            (config.save().to_vec(), persistence.dirty())
        };
        if rules.is_empty() {
            return;
        }
        let now = unix_now();
        let due = {
            let state = persistence.state();
            if state.bgsave.is_some() {
                return;
            }
            let may_try =
                now - state.last_bgsave_try > RETRY_DELAY_SECS || !persistence.last_bgsave_failed();
            rules.iter().copied().find(|&(seconds, changes)| {
                dirty >= u64::try_from(changes).unwrap_or(0)
                    && now - state.last_save > seconds
                    && may_try
            })
        };
        let Some((seconds, changes)) = due else {
            return;
        };
        tracing::info!("{changes} changes in {seconds} seconds. Saving...");
        let mut keyspace = shared.lock_keyspace();
        let config = shared.config.read();
        let _ = persistence.bgsave(&mut keyspace, &config);
    }

    /// SHUTDOWN has saved (`saved`) or was told not to: the way out only saves again what
    /// was written in between, or nothing.
    pub fn decide_exit(&self, saved: bool) {
        let mode = if saved { EXIT_SAVED } else { EXIT_NOSAVE };
        self.exit.store(mode, Ordering::SeqCst);
    }

    /// Abandon a background save that will not finish, and remove its temporary files, as
    /// Redis removes its child's.
    fn stop_background(&self, keyspace: &mut Keyspace, config: &Config) {
        self.abort_bgsave(keyspace);
        let prefix = format!("temp-{}-bgsave-", std::process::id());
        if let Ok(entries) = std::fs::read_dir(config.dir()) {
            for entry in entries.flatten() {
                if entry.file_name().to_string_lossy().starts_with(&prefix) {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
    }

    /// On SIGTERM or SIGINT, before the server stops: save when save points are configured,
    /// as Redis does. An error means the save failed and, as in Redis, the server must not
    /// exit ("can't exit").
    pub fn save_before_exit(shared: &Shared) -> Result<(), String> {
        let persistence = &shared.persistence;
        // The keyspace first, then the configuration: the order handlers take them in.
        let mut keyspace = shared.lock_keyspace();
        let config = shared.config.read();
        persistence.stop_background(&mut keyspace, &config);
        if config.save().is_empty() {
            persistence.decide_exit(false);
            return Ok(());
        }
        tracing::info!("Saving the final RDB snapshot before exiting.");
        persistence.save(&keyspace, &config)?;
        persistence.decide_exit(true);
        Ok(())
    }

    /// Once the server has stopped serving: save what was written after the save that
    /// preceded the stop (other clients may have written between that save and the stop),
    /// or, when nothing decided, save if save points are configured.
    pub fn save_on_exit(shared: &Shared) -> Result<(), String> {
        let persistence = &shared.persistence;
        // The keyspace first, then the configuration: the order handlers take them in.
        let mut keyspace = shared.lock_keyspace();
        let config = shared.config.read();
        persistence.stop_background(&mut keyspace, &config);
        let needed = match persistence.exit.load(Ordering::SeqCst) {
            EXIT_NOSAVE => false,
            EXIT_SAVED => persistence.dirty() > 0,
            _ => !config.save().is_empty(),
        };
        if !needed {
            return Ok(());
        }
        tracing::info!("Saving the final RDB snapshot before exiting.");
        persistence.save(&keyspace, &config)
    }

    /// Load `dir`/`dbfilename` into `keyspace` at startup, if the file exists. A file that
    /// cannot be read whole is an error, and the keyspace is then left empty.
    pub fn load(&self, keyspace: &mut Keyspace, config: &Config) -> Result<(), String> {
        let path = config.dir().join(config.dbfilename());
        let file = match File::open(&path) {
            Ok(file) => file,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(err) => return Err(format!("cannot open {}: {err}", path.to_string_lossy())),
        };
        let started = Instant::now();
        let info = load_into(
            keyspace,
            &mut BufReader::with_capacity(1 << 20, file),
            unix_now_ms(),
        )
        .map_err(|err| {
            *keyspace = Keyspace::new(keyspace.len());
            format!("{}: {err}", path.to_string_lossy())
        })?;
        // A replica's own dump says where it was in its master's stream.
        if let Some(shared) = self.shared.get().and_then(Weak::upgrade) {
            shared.replication.restore(&info.aux);
        }
        let mut state = self.state();
        state.keys_loaded = info.keys_loaded;
        state.keys_expired = info.keys_expired;
        drop(state);
        tracing::info!(
            "Done loading RDB, keys loaded: {}, keys expired: {}.",
            info.keys_loaded,
            info.keys_expired
        );
        tracing::info!(
            "DB loaded from disk: {:.3} seconds",
            started.elapsed().as_secs_f64()
        );
        Ok(())
    }
}

/// Why DEBUG RELOAD failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReloadError {
    /// The save before the load failed (the reason is logged).
    Save,
    /// The file could not be loaded (the reason is logged); nothing was changed.
    Load,
}

impl Persistence {
    /// DEBUG RELOAD: save (unless `nosave`), then load the file back. The whole file is
    /// decoded into a fresh keyspace first, so a file that cannot be loaded changes nothing
    /// (Redis has flushed by then); then its keys replace the current ones, or join them with
    /// `noflush` (a key in both is replaced with `merge`, and refused without: Redis stops
    /// the server on such a key, we refuse the reload).
    pub fn reload(
        &self,
        keyspace: &mut Keyspace,
        config: &Config,
        merge: bool,
        noflush: bool,
        nosave: bool,
        now_ms: i64,
    ) -> Result<(), ReloadError> {
        if !nosave {
            self.save(keyspace, config).map_err(|_| ReloadError::Save)?;
        }
        let path = config.dir().join(config.dbfilename());
        let mut fresh = Keyspace::new(keyspace.len());
        // Loaded keys get the access words of the current policy, as Redis's fresh objects.
        let mut seed = now_ms as u64;
        fresh.set_access_clock(keyspace.access_clock(), || {
            seed = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
            seed
        });
        let loaded = File::open(&path)
            .map_err(|err| err.to_string())
            .and_then(|file| {
                load_into(
                    &mut fresh,
                    &mut BufReader::with_capacity(1 << 20, file),
                    now_ms,
                )
                .map_err(|err| err.to_string())
            });
        let info = match loaded {
            Ok(info) => info,
            Err(reason) => {
                tracing::warn!(
                    "DEBUG RELOAD: cannot load {}: {reason}",
                    path.to_string_lossy()
                );
                return Err(ReloadError::Load);
            }
        };
        if let Err((db, key)) = keyspace.absorb(fresh, !noflush, merge, now_ms) {
            tracing::warn!(
                "DEBUG RELOAD NOFLUSH: key '{}' of db {db} is both in memory and in the RDB file (use MERGE)",
                key.escape_ascii()
            );
            return Err(ReloadError::Load);
        }
        let mut state = self.state();
        state.keys_loaded = info.keys_loaded;
        state.keys_expired = info.keys_expired;
        drop(state);
        tracing::warn!("DB reloaded by DEBUG RELOAD");
        Ok(())
    }
}

/// Decode an RDB file from `input` into `keyspace`. A key that appears twice in one database
/// is corruption, as Redis treats it.
pub fn load_into(
    keyspace: &mut Keyspace,
    input: &mut impl std::io::Read,
    now_ms: i64,
) -> Result<rdb::LoadInfo, rdb::RdbError> {
    let databases = keyspace.len();
    rdb::decode_with(input, databases, now_ms, |loaded| {
        let db = keyspace.db(loaded.db);
        if db.contains(&loaded.key, now_ms) {
            return Err(rdb::RdbError::Unsupported {
                offset: 0,
                what: format!(
                    "key '{}' twice in db {}",
                    loaded.key.escape_ascii(),
                    loaded.db
                ),
            });
        }
        db.set(&loaded.key, loaded.value, loaded.expire_at, false, now_ms);
        Ok(())
    })
}

/// One background save, run on its own thread.
struct Job {
    shared: Arc<Shared>,
    generation: u64,
    /// The change count at the snapshot's instant.
    at: u64,
    target: Target,
    keys_processed: Arc<AtomicU64>,
    cancelled: Arc<std::sync::atomic::AtomicBool>,
    /// Whether the snapshot goes to `dbfilename` (BGSAVE) ...
    to_file: bool,
    /// ... or to this function (a replica's full synchronization).
    deliver: Option<Deliver>,
}

/// Receives a background snapshot instead of the file (see `Persistence::snapshot_for`).
pub type Deliver = Box<dyn FnOnce(rdb::Snapshot) + Send>;

impl Job {
    fn run(mut self) {
        let started = Instant::now();
        // One name per save: an abandoned save still writing must never share its file with
        // the next one.
        let temp = temp_path(&self.target.dir, &format!("bgsave-{}", self.generation));
        let snapshot = self.copy();
        let outcome = match (snapshot, self.deliver.take()) {
            (Some(snapshot), Some(deliver)) => {
                // Replication: the snapshot goes to the caller, no file is written.
                let keys = (0..snapshot.dbs.len())
                    .map(|db| snapshot.dbs[db].len() as u64)
                    .sum();
                deliver(snapshot);
                Some((Ok(()), keys))
            }
            (Some(snapshot), None) => {
                let mut keys = 0;
                let written = write_temp(&temp, |out| {
                    let mut out = Cancellable {
                        inner: out,
                        cancelled: &self.cancelled,
                    };
                    keys = rdb::encode_with_aux(
                        &snapshot,
                        &mut out,
                        &self.target.options,
                        &self.target.aux(),
                    )?
                    .0;
                    Ok(())
                });
                // The snapshot is large: free it here, not while holding any lock.
                drop(snapshot);
                Some((written, keys))
            }
            (None, _) => None,
        };
        let persistence = &self.shared.persistence;
        // The rename happens under the state lock, after checking that this save is still
        // the current one: a save abandoned by FLUSHALL or SHUTDOWN (which take this lock to
        // abandon it) never replaces the dump they write.
        let mut state = persistence.state();
        if state.bgsave.as_ref().map(|b| b.generation) != Some(self.generation) {
            let _ = std::fs::remove_file(&temp);
            return;
        }
        let outcome = outcome.map(|(written, keys)| {
            let committed = written.and_then(|()| {
                if self.to_file {
                    commit_temp(&temp, &self.target.dir, &self.target.file)
                } else {
                    Ok(())
                }
            });
            (committed, keys)
        });
        state.bgsave = None;
        let elapsed = started.elapsed();
        state.last_bgsave_secs = i64::try_from(elapsed.as_secs()).unwrap_or(0);
        match outcome {
            None => {
                // Abandoned between the generation check in `copy` and here: not a failure.
                tracing::info!("Background saving abandoned");
            }
            Some((Ok(()), keys)) if !self.to_file => {
                tracing::info!(keys, "Snapshot for a replica taken");
            }
            Some((Ok(()), keys)) => {
                persistence.saved(self.at);
                state.last_save = unix_now();
                persistence.last_bgsave_ok.store(true, Ordering::Relaxed);
                tracing::info!(
                    keys,
                    "Background saving terminated with success in {:.3} seconds",
                    elapsed.as_secs_f64()
                );
            }
            Some((Err(reason), _)) => {
                persistence.last_bgsave_ok.store(false, Ordering::Relaxed);
                tracing::warn!("Background saving error: {reason}");
            }
        }
    }

    /// Copy the keyspace in slices, then merge the copy-before-write logs. `None` when the
    /// save was abandoned (FLUSHALL, SHUTDOWN). A snapshot that FLUSHDB or SWAPDB made
    /// impossible to complete (the old contents are gone) starts again at a new instant.
    fn copy(&mut self) -> Option<rdb::Snapshot> {
        loop {
            if let Some(snapshot) = self.copy_once() {
                return Some(snapshot);
            }
            let mut keyspace = self.shared.lock_keyspace();
            if !self.current() {
                return None;
            }
            tracing::info!("A database was emptied or swapped during the background save: taking the snapshot again");
            keyspace.snapshot_abort();
            keyspace.snapshot_begin();
            self.at = self.shared.persistence.changes();
            self.keys_processed.store(0, Ordering::Relaxed);
        }
    }

    fn copy_once(&self) -> Option<rdb::Snapshot> {
        let databases = self.shared.lock_keyspace().len();
        let mut copied = Vec::with_capacity(databases);
        let mut longest = std::time::Duration::ZERO;
        for db in 0..databases {
            let mut entries = Vec::new();
            let mut cursor = 0;
            loop {
                // Grow the copy outside the lock: a reallocation of a large vector (and the
                // page faults of its new memory) must not happen while clients wait.
                if entries.capacity() - entries.len() < 2 * SLICE_KEYS {
                    entries.reserve(entries.len().max(4 * SLICE_KEYS));
                }
                let keyspace = self.shared.lock_keyspace();
                let locked = Instant::now();
                // Checked under the keyspace lock, where saves are abandoned and started: a
                // later save's snapshot is never mistaken for this one's.
                if !keyspace.snapshot_active() || !self.current() {
                    return None;
                }
                let before = entries.len();
                cursor = keyspace.snapshot_copy(db, cursor, SLICE_KEYS, &mut entries);
                drop(keyspace);
                let held = locked.elapsed();
                longest = longest.max(held);
                // std's mutex is not fair: a thread that locks again right after unlocking
                // keeps a woken waiter out, slice after slice. Stepping aside for as long as
                // the slice held the lock lets the clients waiting for it in first.
                if cursor != 0 {
                    std::thread::sleep(held.max(std::time::Duration::from_micros(200)));
                }
                self.keys_processed
                    .fetch_add((entries.len() - before) as u64, Ordering::Relaxed);
                if cursor == 0 {
                    break;
                }
            }
            copied.push(entries);
        }
        let mut keyspace = self.shared.lock_keyspace();
        if !self.current() {
            return None;
        }
        let logs = keyspace.snapshot_end()?;
        drop(keyspace);
        tracing::info!(
            "Background saving copied the keyspace; the longest lock hold was {:.3} ms",
            longest.as_secs_f64() * 1000.0
        );
        Some(crate::keyspace::assemble_snapshot(copied, logs))
    }

    /// Whether this save is still the one in progress.
    fn current(&self) -> bool {
        let state = self.shared.persistence.state();
        state.bgsave.as_ref().map(|b| b.generation) == Some(self.generation)
    }
}

/// A writer that fails once its save is abandoned, so an abandoned save stops early.
struct Cancellable<'a, W: std::io::Write> {
    inner: &'a mut W,
    cancelled: &'a std::sync::atomic::AtomicBool,
}

impl<W: std::io::Write> std::io::Write for Cancellable<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.cancelled.load(Ordering::Relaxed) {
            return Err(std::io::Error::other("the save was abandoned"));
        }
        self.inner.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
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
