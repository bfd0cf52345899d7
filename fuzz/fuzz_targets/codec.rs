//! Request framing: arbitrary bytes, parsed whole and in pieces (see `redis_clone::fuzzing`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| redis_clone::fuzzing::codec(data));
