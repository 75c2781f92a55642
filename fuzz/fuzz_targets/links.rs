//! cargo-fuzz target `links`: the properties of `fuzz_props::links::check`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_props::links::check(data));
