//! cargo-fuzz target `offers`: the properties of `fuzz_props::offers::check`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_props::offers::check(data));
