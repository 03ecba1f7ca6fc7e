#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| sansrtc::fuzzing::peer_connection(data));
