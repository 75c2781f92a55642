//! cargo-fuzz target `price`: the properties of `fuzz_props::price::check`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_props::price::check(data));
