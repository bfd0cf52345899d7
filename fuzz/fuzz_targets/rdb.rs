//! RDB files: arbitrary bytes loaded as a dump, then saved and loaded again (see
//! `redis_clone::fuzzing`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| redis_clone::fuzzing::rdb(data));
