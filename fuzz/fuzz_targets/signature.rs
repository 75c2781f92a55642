//! cargo-fuzz target `signature`: the properties of `fuzz_props::signature::check`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_props::signature::check(data));
