#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| sansrtc_ice::fuzzing::agent(data));
