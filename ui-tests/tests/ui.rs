//! trybuild: programs that must compile (`pass/`) and must not (`fail/`, with the expected
//! compiler output in `.stderr`). The `.stderr` files match the pinned toolchain
//! (`rust-toolchain.toml`); regenerate them with `TRYBUILD=overwrite cargo test -p
//! routines-ui-tests` after a toolchain bump and review the diff.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/pass/**/*.rs");
    cases.compile_fail("tests/fail/**/*.rs");
}
