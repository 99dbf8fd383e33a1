//! Compile-time behaviour of `#[hub]` and `#[hub_client]`: what they accept
//! (`ui/pass`) and the errors, with their spans, for what they refuse (`ui/fail`).
//!
//! Regenerate the expected `.stderr` files with
//! `TRYBUILD=overwrite cargo test -p hub-macros --test ui`, then read them.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass/*.rs");
    cases.compile_fail("tests/ui/fail/*.rs");
}
