#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| sansrtc_dtls::fuzzing::dtls_server(data));
