//! cargo-fuzz target `og`: the properties of `fuzz_props::og::check`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_props::og::check(data));
