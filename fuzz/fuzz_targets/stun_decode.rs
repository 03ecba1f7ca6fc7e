#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| sansrtc_stun::fuzzing::decode(data));
