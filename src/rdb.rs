//! The RDB file format of Redis 7.0, pure: no files, no threads, no clock.
//!
//! * [`encode`] writes the databases of any [`Source`] (the live keyspace for SAVE, a
//!   [`Snapshot`] copied out of it for BGSAVE) to any `io::Write`, as redis-server 7.0.15
//!   writes version 10: the header, the AUX fields (`redis-ver`, `redis-bits`, `ctime`,
//!   `used-mem`, `aof-base`), then per non-empty database SELECTDB, RESIZEDB and its keys (an
//!   EXPIRETIME_MS before each key with a deadline), EOF and the CRC64 of everything before it
//!   (zero when `checksum` is off). Strings are written as Redis writes them: integer-encoded
//!   when the text is a canonical integer that fits 32 bits, LZF-compressed when compression
//!   is on, the string is over 20 bytes and compressing saves at least 4 bytes, raw otherwise.
//! * [`decode`] / [`decode_with`] read versions 1 to 10 from any `io::Read`: every string
//!   encoding (raw, integer, LZF), expiry in seconds and milliseconds, SELECTDB, RESIZEDB, AUX,
//!   the LRU/LFU opcodes (skipped) and the CRC64 trailer (checked when non-zero). Keys whose
//!   deadline is before `now_ms` are dropped, as a Redis master drops them. Value types this
//!   server does not have yet are refused with an error naming the type and the key; a
//!   truncated or corrupt file is refused with the byte offset and what was expected there.
//!
//! The replication helper ships the same bytes over a socket: `encode(&snapshot, &mut socket,
//! &options)` on one side, `decode_with(&mut socket, ...)` on the other.
//!
//! CRC64 is Redis's (Jones polynomial, reflected), from the `crc` crate's `CRC_64_REDIS`. LZF
//! is written here (the format is liblzf's; the `lzf` crate is deprecated), and checked
//! against files redis-server writes and reads (tests/persistence.rs).

use std::fmt;
use std::io::{self, Read, Write};

use bytes::Bytes;

use crate::compact::CompactBytes;
use crate::keyspace::{Str, Value};

/// The RDB version we write (Redis 7.0).
pub const RDB_VERSION: u32 = 10;
/// What `redis-ver` says in the files we write.
pub const AUX_REDIS_VER: &str = crate::REDIS_VERSION;

const OPCODE_FUNCTION_PRE_GA: u8 = 0xF5;
const OPCODE_FUNCTION2: u8 = 0xF6;
const OPCODE_MODULE_AUX: u8 = 0xF7;
const OPCODE_IDLE: u8 = 0xF8;
const OPCODE_FREQ: u8 = 0xF9;
const OPCODE_AUX: u8 = 0xFA;
const OPCODE_RESIZEDB: u8 = 0xFB;
const OPCODE_EXPIRETIME_MS: u8 = 0xFC;
const OPCODE_EXPIRETIME: u8 = 0xFD;
const OPCODE_SELECTDB: u8 = 0xFE;
const OPCODE_EOF: u8 = 0xFF;

const TYPE_STRING: u8 = 0;

const ENC_INT8: u8 = 0;
const ENC_INT16: u8 = 1;
const ENC_INT32: u8 = 2;
const ENC_LZF: u8 = 3;

/// Strings up to this length are tried as integers (Redis: 11, the longest 32-bit integer).
const INT_TRY_MAX: usize = 11;
/// Strings longer than this are tried with LZF when compression is on.
const LZF_MIN: usize = 20;

const CRC64: crc::Crc<u64> = crc::Crc::<u64>::new(&crc::CRC_64_REDIS);

/// How to write a file.
#[derive(Debug, Clone)]
pub struct RdbOptions {
    /// `rdbcompression`: LZF for strings over 20 bytes.
    pub compression: bool,
    /// `rdbchecksum`: write the CRC64 (otherwise zero).
    pub checksum: bool,
    /// The `ctime` AUX field: Unix seconds when the snapshot was taken.
    pub ctime: i64,
    /// The `used-mem` AUX field, in bytes.
    pub used_mem: u64,
}

/// Called with each key, its value and its deadline (Unix ms).
pub type Visitor<'a> = dyn FnMut(&[u8], &Value, Option<i64>) -> io::Result<()> + 'a;

/// What [`encode`] reads the data from: databases, each a sequence of keys with their
/// values and deadlines.
pub trait Source {
    /// How many databases there are.
    fn databases(&self) -> usize;
    /// Keys in database `db`, and how many of them have a deadline (RESIZEDB).
    fn sizes(&self, db: usize) -> (usize, usize);
    /// Call `visit` with every key of database `db`, its value and its deadline (Unix ms),
    /// stopping at the first error.
    fn visit(&self, db: usize, visit: &mut Visitor<'_>) -> io::Result<()>;
}

/// One key copied out of the keyspace.
#[derive(Debug, Clone)]
pub struct SnapshotEntry {
    pub key: CompactBytes,
    pub value: Value,
    pub expire_at: Option<i64>,
}

/// A copy of the databases, taken at one instant (BGSAVE encodes it on another thread).
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub dbs: Vec<Vec<SnapshotEntry>>,
}

impl Source for Snapshot {
    fn databases(&self) -> usize {
        self.dbs.len()
    }

    fn sizes(&self, db: usize) -> (usize, usize) {
        let entries = &self.dbs[db];
        let volatile = entries.iter().filter(|e| e.expire_at.is_some()).count();
        (entries.len(), volatile)
    }

    fn visit(&self, db: usize, visit: &mut Visitor<'_>) -> io::Result<()> {
        for entry in &self.dbs[db] {
            visit(&entry.key, &entry.value, entry.expire_at)?;
        }
        Ok(())
    }
}

/// A writer that keeps the CRC64 of what went through it.
struct CrcWriter<'a, W: Write> {
    inner: &'a mut W,
    digest: crc::Digest<'static, u64>,
    written: u64,
}

impl<W: Write> CrcWriter<'_, W> {
    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.digest.update(bytes);
        self.written += bytes.len() as u64;
        self.inner.write_all(bytes)
    }

    fn put_len(&mut self, len: u64) -> io::Result<()> {
        if len < 1 << 6 {
            self.put(&[len as u8])
        } else if len < 1 << 14 {
            self.put(&[0x40 | (len >> 8) as u8, len as u8])
        } else if len <= u64::from(u32::MAX) {
            let mut buf = [0x80u8; 5];
            buf[1..].copy_from_slice(&(len as u32).to_be_bytes());
            self.put(&buf)
        } else {
            let mut buf = [0x81u8; 9];
            buf[1..].copy_from_slice(&len.to_be_bytes());
            self.put(&buf)
        }
    }

    /// An integer in the smallest of the int8/16/32 string encodings, when it fits one.
    fn put_int_encoded(&mut self, n: i64) -> io::Result<bool> {
        if let Ok(n) = i8::try_from(n) {
            self.put(&[0xC0 | ENC_INT8, n as u8])?;
        } else if let Ok(n) = i16::try_from(n) {
            let b = n.to_le_bytes();
            self.put(&[0xC0 | ENC_INT16, b[0], b[1]])?;
        } else if let Ok(n) = i32::try_from(n) {
            let b = n.to_le_bytes();
            self.put(&[0xC0 | ENC_INT32, b[0], b[1], b[2], b[3]])?;
        } else {
            return Ok(false);
        }
        Ok(true)
    }

    fn put_string(&mut self, bytes: &[u8], compression: bool) -> io::Result<()> {
        if bytes.len() <= INT_TRY_MAX {
            if let Some(n) = crate::args::parse_i64(bytes) {
                // parse_i64 accepts only the canonical text of an integer, so the value reads
                // back as the same bytes.
                if self.put_int_encoded(n)? {
                    return Ok(());
                }
            }
        }
        if compression && bytes.len() > LZF_MIN {
            if let Some(compressed) = lzf_compress(bytes, bytes.len() - 4) {
                self.put(&[0xC0 | ENC_LZF])?;
                self.put_len(compressed.len() as u64)?;
                self.put_len(bytes.len() as u64)?;
                return self.put(&compressed);
            }
        }
        self.put_len(bytes.len() as u64)?;
        self.put(bytes)
    }

    fn put_value(&mut self, value: &Value, compression: bool) -> io::Result<()> {
        match value {
            Value::Str(Str::Int(n)) => {
                if !self.put_int_encoded(*n)? {
                    let text = n.to_string();
                    self.put_len(text.len() as u64)?;
                    self.put(text.as_bytes())?;
                }
                Ok(())
            }
            Value::Str(Str::Embstr(b)) => self.put_string(b, compression),
            Value::Str(Str::Raw(b)) => self.put_string(b, compression),
        }
    }

    fn put_aux(&mut self, key: &str, value: &[u8]) -> io::Result<()> {
        self.put(&[OPCODE_AUX])?;
        self.put_string(key.as_bytes(), false)?;
        self.put_string(value, false)
    }
}

/// The bytes `value` takes in an RDB file as we write it, LZF-compressed when `compression`
/// (`rdbcompression`) and worth it: DEBUG OBJECT's `serializedlength`.
pub fn value_len(value: &Value, compression: bool) -> usize {
    let mut sink = io::sink();
    let mut w = CrcWriter {
        inner: &mut sink,
        digest: CRC64.digest(),
        written: 0,
    };
    // Writing to a sink cannot fail.
    let _ = w.put_value(value, compression);
    usize::try_from(w.written).unwrap_or(usize::MAX)
}

/// Write `source` as an RDB version 10 file to `out`. Returns the number of keys written and
/// the number of bytes.
pub fn encode<S: Source + ?Sized>(
    source: &S,
    out: &mut impl Write,
    options: &RdbOptions,
) -> io::Result<(u64, u64)> {
    encode_with_aux(source, out, options, &[])
}

/// [`encode`] with more AUX fields after `used-mem` (replication adds `repl-stream-db`,
/// `repl-id` and `repl-offset`, where Redis writes them).
pub fn encode_with_aux<S: Source + ?Sized>(
    source: &S,
    out: &mut impl Write,
    options: &RdbOptions,
    extra_aux: &[(&str, &[u8])],
) -> io::Result<(u64, u64)> {
    let mut w = CrcWriter {
        inner: out,
        digest: CRC64.digest(),
        written: 0,
    };
    w.put(format!("REDIS{RDB_VERSION:04}").as_bytes())?;
    w.put_aux("redis-ver", AUX_REDIS_VER.as_bytes())?;
    w.put_aux("redis-bits", (usize::BITS).to_string().as_bytes())?;
    w.put_aux("ctime", options.ctime.to_string().as_bytes())?;
    w.put_aux("used-mem", options.used_mem.to_string().as_bytes())?;
    for (key, value) in extra_aux {
        w.put_aux(key, value)?;
    }
    w.put_aux("aof-base", b"0")?;
    let mut keys = 0u64;
    for db in 0..source.databases() {
        let (size, volatile) = source.sizes(db);
        if size == 0 {
            continue;
        }
        w.put(&[OPCODE_SELECTDB])?;
        w.put_len(db as u64)?;
        w.put(&[OPCODE_RESIZEDB])?;
        w.put_len(size as u64)?;
        w.put_len(volatile as u64)?;
        source.visit(db, &mut |key, value, expire_at| {
            if let Some(at) = expire_at {
                w.put(&[OPCODE_EXPIRETIME_MS])?;
                w.put(&at.to_le_bytes())?;
            }
            w.put(&[TYPE_STRING])?;
            w.put_string(key, false)?;
            w.put_value(value, options.compression)?;
            keys += 1;
            Ok(())
        })?;
    }
    w.put(&[OPCODE_EOF])?;
    let crc = if options.checksum {
        w.digest.clone().finalize()
    } else {
        0
    };
    w.put(&crc.to_le_bytes())?;
    w.inner.flush()?;
    Ok((keys, w.written))
}

/// Why a file was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RdbError {
    /// The bytes at `offset` are not what the format allows there (or the file ends early).
    Corrupt { offset: u64, expected: String },
    /// A value of a type this server does not implement yet.
    UnsupportedType {
        offset: u64,
        type_name: &'static str,
        rdb_type: u8,
        db: usize,
        key: Bytes,
    },
    /// Something else the file holds that we cannot load (functions, module data, more
    /// databases than configured).
    Unsupported { offset: u64, what: String },
    /// The CRC64 at the end does not match the contents.
    Checksum { expected: u64, found: u64 },
    /// Reading failed (not a format problem).
    Io(String),
}

impl fmt::Display for RdbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RdbError::Corrupt { offset, expected } => {
                write!(f, "bad RDB file at byte {offset}: expected {expected}")
            }
            RdbError::UnsupportedType {
                offset,
                type_name,
                rdb_type,
                db,
                key,
            } => write!(
                f,
                "the RDB file holds key '{}' in db {db}, a {type_name} (RDB type {rdb_type}, at byte {offset}), and this server does not implement {type_name}s yet",
                key.escape_ascii()
            ),
            RdbError::Unsupported { offset, what } => {
                write!(f, "the RDB file holds {what} (at byte {offset}), which this server cannot load")
            }
            RdbError::Checksum { expected, found } => write!(
                f,
                "bad RDB file: wrong CRC64 checksum (the file says {expected:016x}, its contents give {found:016x})"
            ),
            RdbError::Io(reason) => write!(f, "cannot read the RDB file: {reason}"),
        }
    }
}

impl std::error::Error for RdbError {}

/// What a file held besides its keys.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadInfo {
    pub version: u32,
    /// AUX fields in file order.
    pub aux: Vec<(Bytes, Bytes)>,
    /// Keys handed to the caller.
    pub keys_loaded: u64,
    /// Keys dropped because their deadline had passed.
    pub keys_expired: u64,
}

/// One loaded key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedKey {
    pub db: usize,
    pub key: Bytes,
    pub value: Value,
    pub expire_at: Option<i64>,
}

/// A whole file, decoded.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    pub info: LoadInfo,
    pub keys: Vec<LoadedKey>,
}

/// Decode a whole file from `input` into memory. `databases` is how many the server has,
/// `now_ms` the time against which deadlines are checked.
pub fn decode(input: &mut impl Read, databases: usize, now_ms: i64) -> Result<Loaded, RdbError> {
    let mut keys = Vec::new();
    let info = decode_with(input, databases, now_ms, |key| {
        keys.push(key);
        Ok(())
    })?;
    Ok(Loaded { info, keys })
}

/// A reader that counts the offset and keeps the CRC64 of what it read.
struct Reader<'a, R: Read> {
    inner: &'a mut R,
    offset: u64,
    digest: crc::Digest<'static, u64>,
}

impl<R: Read> Reader<'_, R> {
    fn corrupt(&self, at: u64, expected: impl Into<String>) -> RdbError {
        RdbError::Corrupt {
            offset: at,
            expected: expected.into(),
        }
    }

    fn fill(&mut self, buf: &mut [u8], what: &str) -> Result<(), RdbError> {
        let mut read = 0;
        while read < buf.len() {
            match self.inner.read(&mut buf[read..]) {
                Ok(0) => {
                    return Err(self.corrupt(
                        self.offset + read as u64,
                        format!("{what} (the file ends there)"),
                    ))
                }
                Ok(n) => read += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(RdbError::Io(e.to_string())),
            }
        }
        self.digest.update(buf);
        self.offset += buf.len() as u64;
        Ok(())
    }

    fn byte(&mut self, what: &str) -> Result<u8, RdbError> {
        let mut b = [0u8; 1];
        self.fill(&mut b, what)?;
        Ok(b[0])
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], RdbError> {
        let mut b = [0u8; N];
        self.fill(&mut b, what)?;
        Ok(b)
    }

    /// A length, or the special string encoding it announces (`Err(kind)` in the inner
    /// result).
    fn len_or_encoding(&mut self, what: &str) -> Result<Result<u64, u8>, RdbError> {
        let at = self.offset;
        let first = self.byte(what)?;
        Ok(match first >> 6 {
            0 => Ok(u64::from(first & 0x3F)),
            1 => {
                let second = self.byte(what)?;
                Ok(u64::from(first & 0x3F) << 8 | u64::from(second))
            }
            2 => match first {
                0x80 => Ok(u64::from(u32::from_be_bytes(self.array(what)?))),
                0x81 => Ok(u64::from_be_bytes(self.array(what)?)),
                _ => {
                    return Err(
                        self.corrupt(at, format!("{what} (unknown length prefix {first:#04x})"))
                    )
                }
            },
            _ => Err(first & 0x3F),
        })
    }

    fn len(&mut self, what: &str) -> Result<u64, RdbError> {
        let at = self.offset;
        match self.len_or_encoding(what)? {
            Ok(n) => Ok(n),
            Err(_) => Err(self.corrupt(at, format!("{what} (found an encoded string)"))),
        }
    }

    fn string(&mut self, what: &str) -> Result<Bytes, RdbError> {
        let at = self.offset;
        match self.len_or_encoding(what)? {
            Ok(len) => self.raw(len, what, at),
            Err(ENC_INT8) => Ok(Bytes::from((self.array::<1>(what)?[0] as i8).to_string())),
            Err(ENC_INT16) => Ok(Bytes::from(
                i16::from_le_bytes(self.array(what)?).to_string(),
            )),
            Err(ENC_INT32) => Ok(Bytes::from(
                i32::from_le_bytes(self.array(what)?).to_string(),
            )),
            Err(ENC_LZF) => {
                let clen = self.len(&format!("{what}: compressed length"))?;
                let len = self.len(&format!("{what}: uncompressed length"))?;
                let data_at = self.offset;
                let compressed = self.raw(clen, &format!("{what}: compressed data"), data_at)?;
                if len == 0 || len > MAX_STRING {
                    return Err(self.corrupt(at, format!("{what} (LZF string of length {len})")));
                }
                lzf_decompress(&compressed, len as usize)
                    .map(Bytes::from)
                    .ok_or_else(|| {
                        self.corrupt(
                            data_at,
                            format!("{what}: LZF data that decompresses to {len} bytes"),
                        )
                    })
            }
            Err(other) => {
                Err(self.corrupt(at, format!("{what} (unknown string encoding {other})")))
            }
        }
    }

    fn raw(&mut self, len: u64, what: &str, at: u64) -> Result<Bytes, RdbError> {
        if len > MAX_STRING {
            return Err(self.corrupt(at, format!("{what} (a length of {len} bytes)")));
        }
        // Read in bounded pieces: a corrupt length must not allocate gigabytes up front.
        let len = len as usize;
        let mut buf = Vec::with_capacity(len.min(1 << 20));
        let mut chunk = [0u8; 8192];
        while buf.len() < len {
            let n = (len - buf.len()).min(chunk.len());
            self.fill(&mut chunk[..n], what)?;
            buf.extend_from_slice(&chunk[..n]);
        }
        Ok(Bytes::from(buf))
    }
}

/// Longest string we accept from a file (Redis's default `proto-max-bulk-len` is 512 MB; a
/// string cannot be longer than the largest one a client could have set).
const MAX_STRING: u64 = 1 << 32;

/// The name of a value type we cannot load, for the error.
fn type_name(rdb_type: u8) -> Option<&'static str> {
    Some(match rdb_type {
        1 | 10 | 14 | 18 => "list",
        2 | 11 | 20 => "set",
        3 | 5 | 12 | 17 => "sorted set",
        4 | 9 | 13 | 16 => "hash",
        6 | 7 => "module value",
        15 | 19 | 21 => "stream",
        _ => return None,
    })
}

/// Decode a file from `input`, handing each live key to `sink` as it is read (keys whose
/// deadline is before `now_ms` are counted and dropped). On error, the keys already handed
/// over must be discarded by the caller: a file is loaded whole or not at all.
pub fn decode_with(
    input: &mut impl Read,
    databases: usize,
    now_ms: i64,
    mut sink: impl FnMut(LoadedKey) -> Result<(), RdbError>,
) -> Result<LoadInfo, RdbError> {
    let mut r = Reader {
        inner: input,
        offset: 0,
        digest: CRC64.digest(),
    };
    let magic: [u8; 9] = r.array("the header REDISnnnn")?;
    if &magic[..5] != b"REDIS" {
        return Err(r.corrupt(0, "the header REDISnnnn (this is not an RDB file)"));
    }
    let version = std::str::from_utf8(&magic[5..])
        .ok()
        .filter(|v| v.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|v| v.parse::<u32>().ok())
        .ok_or_else(|| r.corrupt(5, "a four-digit RDB version"))?;
    if !(1..=RDB_VERSION).contains(&version) {
        return Err(RdbError::Unsupported {
            offset: 5,
            what: format!("RDB format version {version} (this server reads 1 to {RDB_VERSION})"),
        });
    }
    let mut info = LoadInfo {
        version,
        ..LoadInfo::default()
    };
    let mut db = 0usize;
    let mut expire_at: Option<i64> = None;
    loop {
        let at = r.offset;
        let kind = r.byte("an opcode or a value type")?;
        match kind {
            OPCODE_EXPIRETIME => {
                let seconds = i32::from_le_bytes(r.array("a deadline in seconds")?);
                expire_at = Some(i64::from(seconds) * 1000);
                continue;
            }
            OPCODE_EXPIRETIME_MS => {
                expire_at = Some(i64::from_le_bytes(r.array("a deadline in milliseconds")?));
                continue;
            }
            OPCODE_FREQ => {
                r.byte("an LFU frequency")?;
                continue;
            }
            OPCODE_IDLE => {
                r.len("an LRU idle time")?;
                continue;
            }
            OPCODE_SELECTDB => {
                let index = r.len("a database number")?;
                if index >= databases as u64 {
                    return Err(RdbError::Unsupported {
                        offset: at,
                        what: format!(
                            "database {index}, and this server is configured with {databases} databases"
                        ),
                    });
                }
                db = index as usize;
                continue;
            }
            OPCODE_RESIZEDB => {
                r.len("the number of keys (RESIZEDB)")?;
                r.len("the number of keys with a deadline (RESIZEDB)")?;
                continue;
            }
            OPCODE_AUX => {
                let key = r.string("an AUX field name")?;
                let value = r.string("an AUX field value")?;
                info.aux.push((key, value));
                continue;
            }
            OPCODE_MODULE_AUX => {
                return Err(RdbError::Unsupported {
                    offset: at,
                    what: "module data (MODULE_AUX)".to_string(),
                })
            }
            OPCODE_FUNCTION2 | OPCODE_FUNCTION_PRE_GA => {
                return Err(RdbError::Unsupported {
                    offset: at,
                    what: "functions (FUNCTION LOAD libraries)".to_string(),
                })
            }
            OPCODE_EOF => break,
            TYPE_STRING => {
                let key = r.string("a key")?;
                let value = r.string("a string value")?;
                let deadline = expire_at.take();
                if deadline.is_some_and(|when| when < now_ms) {
                    info.keys_expired += 1;
                    continue;
                }
                info.keys_loaded += 1;
                sink(LoadedKey {
                    db,
                    key,
                    value: Value::Str(Str::encoded(value)),
                    expire_at: deadline,
                })?;
            }
            other => {
                let Some(type_name) = type_name(other) else {
                    return Err(r.corrupt(at, format!("an opcode or a value type (found {other})")));
                };
                let key = r.string("a key")?;
                return Err(RdbError::UnsupportedType {
                    offset: at,
                    type_name,
                    rdb_type: other,
                    db,
                    key,
                });
            }
        }
        // A deadline applies to the key right after it only.
        expire_at = None;
    }
    if version >= 5 {
        let computed = r.digest.clone().finalize();
        let stored = u64::from_le_bytes(r.array("the CRC64 checksum")?);
        if stored != 0 && stored != computed {
            return Err(RdbError::Checksum {
                expected: stored,
                found: computed,
            });
        }
    }
    Ok(info)
}

/// Decompress liblzf data into exactly `len` bytes; `None` when the data is malformed or does
/// not produce exactly `len` bytes.
pub fn lzf_decompress(input: &[u8], len: usize) -> Option<Vec<u8>> {
    // Three bytes of back reference produce at most 264 bytes (a ratio of 88): a length far
    // beyond that is a lie, refused before it is allocated.
    if len > input.len().saturating_mul(132) {
        return None;
    }
    let mut out = Vec::with_capacity(len);
    let mut i = 0;
    while i < input.len() {
        let ctrl = usize::from(input[i]);
        i += 1;
        if ctrl < 32 {
            let run = ctrl + 1;
            let literal = input.get(i..i + run)?;
            if out.len() + run > len {
                return None;
            }
            out.extend_from_slice(literal);
            i += run;
        } else {
            let mut run = ctrl >> 5;
            if run == 7 {
                run += usize::from(*input.get(i)?);
                i += 1;
            }
            run += 2;
            let back = ((ctrl & 0x1F) << 8) + usize::from(*input.get(i)?) + 1;
            i += 1;
            if back > out.len() || out.len() + run > len {
                return None;
            }
            let start = out.len() - back;
            // Byte by byte: a reference may overlap what it is producing.
            for k in 0..run {
                let b = out[start + k];
                out.push(b);
            }
        }
    }
    (out.len() == len).then_some(out)
}

/// Compress with liblzf's format; `None` when the result would be longer than `max`.
pub fn lzf_compress(input: &[u8], max: usize) -> Option<Vec<u8>> {
    const HASH_BITS: u32 = 14;
    const MAX_OFFSET: usize = 1 << 13;
    const MAX_MATCH: usize = 264;
    let mut out = Vec::with_capacity(max.min(input.len() + input.len() / 32 + 1));
    let mut table = vec![usize::MAX; 1 << HASH_BITS];
    let hash = |p: &[u8]| -> usize {
        let v = u32::from(p[0]) << 16 | u32::from(p[1]) << 8 | u32::from(p[2]);
        (v.wrapping_mul(2_654_435_761) >> (32 - HASH_BITS)) as usize
    };
    let flush_literals = |out: &mut Vec<u8>, literals: &[u8]| {
        for chunk in literals.chunks(32) {
            out.push((chunk.len() - 1) as u8);
            out.extend_from_slice(chunk);
        }
    };
    let mut literal_start = 0;
    let mut i = 0;
    while i + 2 < input.len() {
        let h = hash(&input[i..]);
        let candidate = table[h];
        table[h] = i;
        if candidate != usize::MAX
            && i - candidate <= MAX_OFFSET
            && input[candidate..candidate + 3] == input[i..i + 3]
        {
            let longest = MAX_MATCH.min(input.len() - i);
            let mut run = 3;
            while run < longest && input[candidate + run] == input[i + run] {
                run += 1;
            }
            flush_literals(&mut out, &input[literal_start..i]);
            let offset = i - candidate - 1;
            let code = run - 2;
            if code < 7 {
                out.push((code << 5 | offset >> 8) as u8);
            } else {
                out.push((7 << 5 | offset >> 8) as u8);
                out.push((code - 7) as u8);
            }
            out.push(offset as u8);
            // Index the positions inside the match too, so later repeats find them.
            for p in i + 1..(i + run).min(input.len().saturating_sub(2)) {
                table[hash(&input[p..])] = p;
            }
            i += run;
            literal_start = i;
            if out.len() > max {
                return None;
            }
        } else {
            i += 1;
        }
    }
    flush_literals(&mut out, &input[literal_start..]);
    (out.len() <= max).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> RdbOptions {
        RdbOptions {
            compression: true,
            checksum: true,
            ctime: 1_700_000_000,
            used_mem: 1_000_000,
        }
    }

    fn entry(key: &str, value: &[u8], expire_at: Option<i64>) -> SnapshotEntry {
        SnapshotEntry {
            key: CompactBytes::new(key.as_bytes()),
            value: Value::Str(Str::encoded(Bytes::copy_from_slice(value))),
            expire_at,
        }
    }

    fn sample() -> Snapshot {
        let long = "abcdefghij".repeat(50);
        Snapshot {
            dbs: vec![
                vec![
                    entry("int", b"12345", None),
                    entry("neg", b"-70000", None),
                    entry("big", b"9223372036854775807", None),
                    entry("text", b"hello", Some(2_000_000_000_000)),
                    entry("long", long.as_bytes(), None),
                    entry("zero-padded", b"007", None),
                    entry("bin", &[0, 255, 13, 10], None),
                ],
                vec![],
                vec![entry("other", b"v", None)],
            ],
        }
    }

    #[test]
    fn crc64_is_redis_s() {
        assert_eq!(CRC64.checksum(b"123456789"), 0xe9c6d914c4b8d9ca);
    }

    #[test]
    fn lzf_round_trips_and_refuses_what_it_cannot_shrink() {
        let inputs: Vec<Vec<u8>> = vec![
            b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".to_vec(),
            "the quick brown fox jumps over the lazy dog; "
                .repeat(40)
                .into_bytes(),
            (0..20_000u32).map(|i| (i % 251) as u8).collect(),
            vec![0; 100_000],
        ];
        for input in inputs {
            let compressed = lzf_compress(&input, input.len() - 4).expect("compressible");
            assert!(compressed.len() < input.len());
            assert_eq!(
                lzf_decompress(&compressed, input.len()),
                Some(input.clone())
            );
        }
        let random: Vec<u8> = (0..200u64)
            .map(|i| (i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as u8)
            .collect();
        assert_eq!(lzf_compress(&random, random.len() - 4), None);
        assert_eq!(
            lzf_decompress(&[0x20, 0x00], 3),
            None,
            "reference before the start"
        );
        assert_eq!(
            lzf_decompress(&[0x05, b'a'], 6),
            None,
            "literal past the end"
        );
        assert_eq!(
            lzf_decompress(&[0x00, b'a', 0xE0, 0xFF, 0x00], 1 << 40),
            None,
            "an impossible length is not allocated"
        );
    }

    #[test]
    fn what_is_written_reads_back() {
        let mut out = Vec::new();
        let (keys, bytes) = encode(&sample(), &mut out, &options()).unwrap();
        assert_eq!((keys, bytes), (8, out.len() as u64));
        let loaded = decode(&mut &out[..], 16, 1_000).unwrap();
        assert_eq!(loaded.info.version, 10);
        assert_eq!(loaded.info.keys_loaded, 8);
        let aux: Vec<String> = loaded
            .info
            .aux
            .iter()
            .map(|(k, v)| format!("{}={}", k.escape_ascii(), v.escape_ascii()))
            .collect();
        assert_eq!(
            aux,
            [
                "redis-ver=7.0.15",
                "redis-bits=64",
                "ctime=1700000000",
                "used-mem=1000000",
                "aof-base=0"
            ]
        );
        let expected: Vec<LoadedKey> = sample()
            .dbs
            .iter()
            .enumerate()
            .flat_map(|(db, entries)| {
                entries.iter().map(move |e| LoadedKey {
                    db,
                    key: Bytes::copy_from_slice(&e.key),
                    value: e.value.clone(),
                    expire_at: e.expire_at,
                })
            })
            .collect();
        assert_eq!(loaded.keys, expected);
    }

    #[test]
    fn strings_are_encoded_as_redis_encodes_them() {
        let mut w = CrcWriter {
            inner: &mut Vec::new(),
            digest: CRC64.digest(),
            written: 0,
        };
        w.put_string(b"12", true).unwrap();
        w.put_string(b"-300", true).unwrap();
        w.put_string(b"100000", true).unwrap();
        w.put_string(b"012", true).unwrap();
        w.put_string(b"12345678901", true).unwrap();
        let out = w.inner.clone();
        assert_eq!(
            out,
            [
                &[0xC0, 12][..],
                &[0xC1, 0xD4, 0xFE],
                &[0xC2, 0xA0, 0x86, 0x01, 0x00],
                &[3, b'0', b'1', b'2'],
                &[11, b'1', b'2', b'3', b'4', b'5', b'6', b'7', b'8', b'9', b'0', b'1'],
            ]
            .concat()
        );
    }

    #[test]
    fn expired_keys_are_dropped_on_load() {
        let mut out = Vec::new();
        encode(&sample(), &mut out, &options()).unwrap();
        let loaded = decode(&mut &out[..], 16, 3_000_000_000_000).unwrap();
        assert_eq!(loaded.info.keys_expired, 1);
        assert!(loaded.keys.iter().all(|k| &k.key[..] != b"text"));
    }

    #[test]
    fn every_truncation_and_every_flipped_byte_is_refused() {
        let mut out = Vec::new();
        encode(&sample(), &mut out, &options()).unwrap();
        for cut in 0..out.len() {
            let err = decode(&mut &out[..cut], 16, 0).unwrap_err();
            assert!(
                matches!(err, RdbError::Corrupt { .. }),
                "cut at {cut}: {err}"
            );
        }
        for at in 0..out.len() {
            for bit in [0x01u8, 0x80] {
                let mut bad = out.clone();
                bad[at] ^= bit;
                assert!(
                    decode(&mut &bad[..], 16, 0).is_err(),
                    "flipping bit {bit:#x} of byte {at} went unnoticed"
                );
            }
        }
    }

    #[test]
    fn random_damage_never_panics() {
        // Without a checksum, damaged contents reach every corner of the parser: it must
        // answer with a result, never panic or allocate what a damaged length claims.
        let mut out = Vec::new();
        let opts = RdbOptions {
            checksum: false,
            ..options()
        };
        encode(&sample(), &mut out, &opts).unwrap();
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut random = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..20_000 {
            let mut bad = out.clone();
            for _ in 0..1 + random() % 4 {
                let at = (random() % bad.len() as u64) as usize;
                match random() % 3 {
                    0 => bad[at] = random() as u8,
                    1 => bad.insert(at, random() as u8),
                    _ => {
                        bad.remove(at);
                    }
                }
            }
            let _ = decode(&mut &bad[..], 16, 0);
        }
    }

    #[test]
    fn other_types_are_refused_by_name() {
        let mut file = b"REDIS0010".to_vec();
        file.extend_from_slice(&[0xFE, 3, 18, 4]);
        file.extend_from_slice(b"mine");
        let err = decode(&mut &file[..], 16, 0).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the RDB file holds key 'mine' in db 3, a list (RDB type 18, at byte 11), and this server does not implement lists yet"
        );
    }

    #[test]
    fn older_versions_load() {
        // Version 3: deadlines in seconds, no checksum at all; LRU/LFU opcodes are skipped.
        let mut v3 = b"REDIS0003".to_vec();
        v3.extend_from_slice(&[OPCODE_SELECTDB, 1]);
        v3.push(OPCODE_EXPIRETIME);
        v3.extend_from_slice(&2_000_000_000i32.to_le_bytes());
        v3.extend_from_slice(&[TYPE_STRING, 1, b'a', 0xC0, 7]);
        v3.extend_from_slice(&[OPCODE_IDLE, 5, OPCODE_FREQ, 3]);
        v3.extend_from_slice(&[TYPE_STRING, 1, b'b', 2, b'h', b'i']);
        v3.push(OPCODE_EOF);
        let loaded = decode(&mut &v3[..], 16, 0).unwrap();
        assert_eq!(loaded.info.version, 3);
        assert_eq!(
            loaded.keys,
            [
                LoadedKey {
                    db: 1,
                    key: Bytes::from_static(b"a"),
                    value: Value::Str(Str::Int(7)),
                    expire_at: Some(2_000_000_000_000),
                },
                LoadedKey {
                    db: 1,
                    key: Bytes::from_static(b"b"),
                    value: Value::Str(Str::encoded(Bytes::from_static(b"hi"))),
                    expire_at: None,
                }
            ]
        );
        // Version 6 with a zero checksum (rdbchecksum no): not checked.
        let mut v6 = b"REDIS0006".to_vec();
        v6.extend_from_slice(&[TYPE_STRING, 1, b'k', 1, b'v', OPCODE_EOF]);
        v6.extend_from_slice(&[0; 8]);
        assert_eq!(decode(&mut &v6[..], 16, 0).unwrap().keys.len(), 1);
        // Versions we cannot know are refused.
        for header in [&b"REDIS0011"[..], b"REDIS0000", b"REDIS00x1", b"RODIS0009"] {
            assert!(decode(&mut &header[..], 16, 0).is_err());
        }
    }

    #[test]
    fn a_database_beyond_the_configured_ones_is_refused() {
        let mut file = b"REDIS0010".to_vec();
        file.extend_from_slice(&[OPCODE_SELECTDB, 20]);
        let err = decode(&mut &file[..], 16, 0).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the RDB file holds database 20, and this server is configured with 16 databases (at byte 9), which this server cannot load"
        );
    }

    #[test]
    fn without_a_checksum_nothing_is_checked() {
        let mut out = Vec::new();
        let opts = RdbOptions {
            checksum: false,
            ..options()
        };
        encode(&sample(), &mut out, &opts).unwrap();
        assert_eq!(&out[out.len() - 8..], &[0; 8]);
        assert_eq!(decode(&mut &out[..], 16, 0).unwrap().keys.len(), 8);
    }
}
