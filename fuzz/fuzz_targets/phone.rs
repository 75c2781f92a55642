//! cargo-fuzz target `phone`: the properties of `fuzz_props::phone::check`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_props::phone::check(data));
