//! pysignalr's own integration tests, unmodified, against our `weatherhub`
//! sample binary.
//!
//! pysignalr's source distribution (fetched from PyPI at test time, never
//! copied into this repository) ships `tests/test_pysignalr/test_pysignalr.py`:
//! 22 test runs over JSON and MessagePack (connect, tokens, send/receive,
//! client results, groups, two clients, both stream directions, a large
//! payload, hub errors) written against an ASP.NET Core app it runs in Docker.
//! `tests/python/pysignalr_suite/conftest.py`, copied next to their test file,
//! points only their Docker fixture at `weatherhub` (the tests crate's
//! `weatherhub-process`, built with the tests); pytest then runs their file as
//! published, and every one of the 22 must pass.

use std::time::Duration;

use tests::python::{pysignalr_sdist, python_dir, run, target_dir, unpack, venv};

/// How long their suite may run (it takes seconds; this is for one that hangs).
const SUITE_LIMIT: Duration = Duration::from_secs(300);

/// How many test runs their file holds (10 tests over both protocols, 2 without).
const EXPECTED: usize = 22;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pysignalr_integration_tests_pass_against_weatherhub() {
    let venv = venv().await;
    let sdist = pysignalr_sdist().await;
    let weatherhub = env!("CARGO_BIN_EXE_weatherhub-process");

    // A fresh copy of their sources, with our conftest beside their test file.
    let work = target_dir().join("pysignalr-suite");
    if work.exists() {
        std::fs::remove_dir_all(&work).expect("remove the previous copy");
    }
    unpack(&sdist, &work).await;
    let version = tests::python::pinned_version("pysignalr");
    let root = work.join(format!("pysignalr-{version}"));
    let test_dir = root.join("tests/test_pysignalr");
    assert!(
        test_dir.join("test_pysignalr.py").exists(),
        "the sdist has no tests/test_pysignalr/test_pysignalr.py"
    );
    assert!(
        !test_dir.join("conftest.py").exists(),
        "their tests now bring a conftest.py of their own: merge it with ours"
    );
    std::fs::copy(
        python_dir().join("pysignalr_suite/conftest.py"),
        test_dir.join("conftest.py"),
    )
    .expect("copy our conftest.py");

    // In their root, so that their pyproject.toml configures pytest
    // (asyncio_mode = "auto").
    let mut pytest = venv.command(["-m", "pytest", "-p", "no:cacheprovider", "-v"]);
    pytest
        .arg("tests/test_pysignalr/test_pysignalr.py")
        .env("WEATHERHUB_BIN", weatherhub)
        .env("RUST_LOG", "warn")
        .current_dir(&root);
    let output = run(pytest, "pytest test_pysignalr.py", SUITE_LIMIT).await;

    // pytest's summary, e.g. `===== 22 passed, 1 warning in 1.02s =====`:
    // all 22 ran and passed, none was skipped.
    let summary = output
        .lines()
        .rev()
        .find(|line| line.starts_with('=') && line.contains(" in "))
        .unwrap_or_else(|| panic!("no pytest summary line:\n{output}"));
    let counts: Vec<&str> = summary
        .trim_matches(|c: char| c == '=' || c.is_whitespace())
        .split(" in ")
        .next()
        .unwrap_or_default()
        .split(", ")
        .filter(|count| !count.ends_with("warning") && !count.ends_with("warnings"))
        .collect();
    assert_eq!(
        counts,
        [format!("{EXPECTED} passed")],
        "pysignalr's integration tests: {summary}\n{output}"
    );
}
