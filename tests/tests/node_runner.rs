//! The runner of the Node test files fails a file that runs no test, which
//! `node --test` itself reports as passed.

use tests::node::passed_tests;

#[test]
fn a_file_without_tests_counts_as_no_test() {
    let empty = "✔ /repo/tests/js/empty.test.mjs (109.5ms)\nℹ tests 1\nℹ pass 1\nℹ fail 0\n";
    assert_eq!(passed_tests(empty), 0);
    let two = "▶ suite\n  ✔ connects (12ms)\n  ✔ invokes (3ms)\n▶ suite (20ms)\n﹣ skipped (0.1ms) # SKIP\nℹ tests 3\n";
    assert_eq!(passed_tests(two), 2);
}

#[tokio::test]
#[should_panic(expected = "ran no test")]
async fn running_a_file_that_registers_no_test_fails() {
    let dir = std::env::temp_dir().join(format!("node-runner-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("empty.test.mjs");
    std::fs::write(&file, "import { test } from \"node:test\";\n").unwrap();
    tests::node_test_file(&file, &[]).await;
}
