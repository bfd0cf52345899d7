//! DEBUG DIGEST and DEBUG DIGEST-VALUE: Redis's SHA-1 fingerprint of a dataset, so two servers
//! (or one before and after a reload) can be compared in one round trip.
//!
//! The figure is Redis's own: each key's digest mixes the key, the value's type and content,
//! and a mark for a deadline (not its time); the SHA-1s of the key digests are XORed together,
//! so the order of the keys does not matter; each non-empty database mixes its number in
//! first. An empty dataset is 20 zero bytes. Pure functions over the keyspace's `Source` view.

use sha1_smol::Sha1;

use crate::keyspace::Value;
use crate::rdb::Source;

pub type Digest = [u8; 20];

fn sha1(data: &[u8]) -> Digest {
    Sha1::from(data).digest().bytes()
}

/// XOR the SHA-1 of `data` into `digest` (order of such steps does not matter).
fn xor_in(digest: &mut Digest, data: &[u8]) {
    for (d, h) in digest.iter_mut().zip(sha1(data)) {
        *d ^= h;
    }
}

/// XOR `data` in, then replace the digest by its own SHA-1 (order matters from here on).
fn mix_in(digest: &mut Digest, data: &[u8]) {
    xor_in(digest, data);
    *digest = sha1(digest);
}

/// Redis's type codes, as the digest mixes them (big-endian 32-bit).
fn type_code(value: &Value) -> u32 {
    match value {
        Value::Str(_) => 0,
    }
}

/// What a value and the presence of a deadline add to a key's digest.
pub fn mix_value(digest: &mut Digest, value: &Value, has_deadline: bool) {
    mix_in(digest, &type_code(value).to_be_bytes());
    match value {
        Value::Str(s) => mix_in(digest, &s.to_bytes()),
    }
    if has_deadline {
        xor_in(digest, b"!!expire!!");
    }
}

/// The digest of every key of every database.
pub fn dataset(source: &impl Source) -> Digest {
    let mut total = [0u8; 20];
    for db in 0..source.databases() {
        if source.sizes(db).0 == 0 {
            continue;
        }
        mix_in(&mut total, &(db as u32).to_be_bytes());
        let _ = source.visit(db, &mut |key, value, deadline| {
            let mut digest = [0u8; 20];
            mix_in(&mut digest, key);
            mix_value(&mut digest, value, deadline.is_some());
            xor_in(&mut total, &digest);
            Ok(())
        });
    }
    total
}

/// Forty lower-case hex digits.
pub fn hex(digest: &Digest) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyspace::{Keyspace, Str};
    use bytes::Bytes;

    fn set(ks: &mut Keyspace, db: usize, key: &'static str, value: &'static str, ttl: bool) {
        let value = Value::Str(Str::encoded(Bytes::from_static(value.as_bytes())));
        let deadline = ttl.then_some(i64::MAX / 2);
        ks.db(db).set(
            &Bytes::from_static(key.as_bytes()),
            value,
            deadline,
            false,
            0,
        );
    }

    #[test]
    fn digests_are_redis_s() {
        // The same data in redis-server 7.0.15 gives these digests.
        let mut ks = Keyspace::new(16);
        assert_eq!(hex(&dataset(&ks)), "0".repeat(40));
        set(&mut ks, 0, "a", "1", false);
        set(&mut ks, 0, "b", "hello", false);
        set(&mut ks, 0, "c", "x", true);
        set(&mut ks, 1, "z", "12345678901234567890123", false);
        assert_eq!(
            hex(&dataset(&ks)),
            "c8483c1f4d4791ad1020a26381561334fc715af1"
        );
        let value = |v: &'static str, ttl: bool| {
            let mut digest = [0u8; 20];
            let value = Value::Str(Str::encoded(Bytes::from_static(v.as_bytes())));
            mix_value(&mut digest, &value, ttl);
            hex(&digest)
        };
        assert_eq!(
            value("1", false),
            "b4fc66738120fba0b5aa500ab5c2bf89cea1c5da"
        );
        assert_eq!(
            value("hello", false),
            "36b23a1456b2dce2c3ed252c456761301dba8060"
        );
        assert_eq!(value("x", true), "0745672cb1bf060476eedeb8a28f5ffe1ff5a2be");
    }
}
