//! cargo-fuzz target `charset`: the properties of `fuzz_props::charset::check`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_props::charset::check(data));
