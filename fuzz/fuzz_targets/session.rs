//! Codec + dispatcher + every command on a scratch keyspace with a manual clock (see
//! `redis_clone::fuzzing`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| redis_clone::fuzzing::session(data));
