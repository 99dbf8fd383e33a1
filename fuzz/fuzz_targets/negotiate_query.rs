#![no_main]

libfuzzer_sys::fuzz_target!(
    |data: &[u8]| signalr_fuzz::transport_checks::check_negotiate_query(data)
);
