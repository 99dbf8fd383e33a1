//! Node.js scripts run from the tests: the official client's test files, and
//! the browser tests that drive Chromium.
//!
//! Every run is bounded in time: a script still running after its limit is
//! killed with everything it started (it runs in a process group of its own:
//! `node --test` starts a second Node process per file, the browser tests a
//! Chromium), and the test fails with what the script printed so far. A test
//! that hangs thus fails in minutes, never stalls the suite.

use std::future::Future;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;

/// How long one script may run (a file of the official-client suite takes
/// seconds; this is for a script that hangs).
pub const SCRIPT_LIMIT: Duration = Duration::from_secs(240);

/// Runs `node --test tests/js/<script>` with `env`, and fails the test (printing
/// Node's output) unless every Node test passes.
pub async fn node_test(script: &str, env: &[(&str, &str)]) {
    node_test_file(&crate::repo_root().join("tests/js").join(script), env).await;
}

/// Runs `node --test <path>` with `env` (a script anywhere, e.g. compiled
/// TypeScript), and fails the test unless every Node test passes.
pub async fn node_test_file(path: &Path, env: &[(&str, &str)]) {
    let mut command = node_command();
    command.arg("--test").arg(path).envs(env.iter().copied());
    run(command, &path.display().to_string(), SCRIPT_LIMIT).await;
}

/// Runs `node tests/js/<script>` (a node:test file run directly, so that it
/// owns its stdin and stdout) and answers its requests: each line the script
/// prints that starts with `@` is passed to `answer`, which does what it asks
/// (stop a server, ...) and returns the line to write back to the script's
/// stdin. Fails the test unless every Node test passes.
pub async fn node_test_interactive<F, Fut>(script: &str, env: &[(&str, &str)], answer: F)
where
    F: FnMut(String) -> Fut,
    Fut: Future<Output = String>,
{
    let path = crate::repo_root().join("tests/js").join(script);
    let mut command = node_command();
    command.arg(&path).envs(env.iter().copied());
    run_answering(command, script, SCRIPT_LIMIT, Some(answer)).await;
}

/// `node --test-reporter=spec` in the repository root, in a process group of
/// its own, killed when dropped.
pub(crate) fn node_command() -> Command {
    crate::require_node_modules();
    let mut command = Command::new("node");
    command
        .arg("--test-reporter=spec")
        .current_dir(crate::repo_root())
        .process_group(0)
        .kill_on_drop(true);
    command
}

/// Runs `command` for at most `limit`; fails the test, with the script's
/// output, unless it exits successfully in time. Returns its standard output.
pub(crate) async fn run(command: Command, what: &str, limit: Duration) -> String {
    type NoAnswers = fn(String) -> std::future::Ready<String>;
    run_answering(command, what, limit, None::<NoAnswers>).await
}

/// [`run`], answering the script's `@` requests when `answer` is given.
async fn run_answering<F, Fut>(
    mut command: Command,
    what: &str,
    limit: Duration,
    mut answer: Option<F>,
) -> String
where
    F: FnMut(String) -> Fut,
    Fut: Future<Output = String>,
{
    command
        .stdin(if answer.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("run node (is Node.js installed?)");
    // Kills the script's processes unless it ends by itself, including when
    // this test panics while the script runs.
    let mut group = ProcessGroup(child.id());
    let mut stdin = child.stdin.take();
    let mut lines = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
    let mut stderr = child.stderr.take().expect("piped stderr");
    let stderr = tokio::spawn(async move {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text).await;
        text
    });
    let mut stdout = String::new();
    let status = tokio::time::timeout(limit, async {
        while let Some(line) = lines.next_line().await.expect("read node's stdout") {
            if let (Some(answer), Some(stdin), Some(request)) =
                (answer.as_mut(), stdin.as_mut(), line.strip_prefix('@'))
            {
                let reply = answer(request.to_owned()).await;
                stdin
                    .write_all(format!("{reply}\n").as_bytes())
                    .await
                    .expect("answer node");
            }
            stdout.push_str(&line);
            stdout.push('\n');
        }
        child.wait().await.expect("node exits")
    })
    .await;
    match status {
        Ok(_) => group.0 = None, // Ended and reaped: its id may be reused.
        Err(_) => drop(group),
    }
    let stderr = tokio::time::timeout(Duration::from_secs(5), stderr)
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_else(|| "(not closed by the script's processes)".to_owned());
    match status {
        Ok(status) => assert!(
            status.success(),
            "node {what} failed ({status})\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}"
        ),
        Err(_) => panic!(
            "node {what} still ran after {limit:?} and was killed\n--- stdout so far ---\n{stdout}\n--- stderr ---\n{stderr}"
        ),
    }
    assert!(
        passed_tests(&stdout) > 0,
        "node {what} ran no test: a file that registers none passes without testing anything\n--- stdout ---\n{stdout}"
    );
    stdout
}

/// How many tests passed, by the spec reporter's `✔ name (duration)` lines.
/// A file that registers no test shows as a passing entry named after the
/// file itself (and `ℹ tests 1`): such entries do not count.
pub fn passed_tests(spec_output: &str) -> usize {
    spec_output
        .lines()
        .filter_map(|line| line.trim_start().strip_prefix("✔ "))
        .filter(|entry| {
            let name = entry.rsplit_once(" (").map_or(*entry, |(name, _)| name);
            let file = name.contains('/')
                && [".mjs", ".js", ".cjs"]
                    .iter()
                    .any(|extension| name.ends_with(extension));
            !file
        })
        .count()
}

/// The process group of a script (its id is node's pid, `process_group(0)`),
/// killed with everything in it when dropped while set.
struct ProcessGroup(Option<u32>);

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        if let Some(id) = self.0 {
            // `kill -KILL -- -ID` signals the whole group.
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{id}")])
                .status();
        }
    }
}
