#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| signalr_fuzz::protocol_checks::check_sse_lp_bodies(data));
