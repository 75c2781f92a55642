//! cargo-fuzz target `schema`: the properties of `fuzz_props::schema::check`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_props::schema::check(data));
