//! cargo-fuzz target `export`: the properties of `fuzz_props::export::check`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_props::export::check(data));
