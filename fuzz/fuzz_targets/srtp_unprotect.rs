#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| sansrtc_srtp::fuzzing::unprotect(data));
