//! TypeScript generated from the hubs (`#[hub(typescript)]`): the committed
//! modules are what the hubs generate today, `tsc --strict` compiles them, the
//! chat page's JavaScript is their compiled form, and a typed client runs
//! against the test hub over both protocols.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use tests::{TestServer, node_test_file, repo_root, require_node_modules};
use tokio::process::Command;
use tokio::sync::OnceCell;

const REGENERATE: &str = "run scripts/typescript.sh to regenerate it";

/// Compiles `project` (a tsconfig) into `out_dir` with the npm `typescript`
/// compiler, failing the test with tsc's diagnostics.
async fn tsc(project: &str, out_dir: &Path) {
    require_node_modules();
    let compiler = repo_root().join("node_modules/.bin/tsc");
    assert!(
        compiler.exists(),
        "{} is missing: run `npm ci` in the repository root",
        compiler.display()
    );
    let output = Command::new(&compiler)
        .arg("-p")
        .arg(repo_root().join(project))
        .arg("--outDir")
        .arg(out_dir)
        .current_dir(repo_root())
        .stdin(Stdio::null())
        .output()
        .await
        .expect("run tsc");
    assert!(
        output.status.success(),
        "tsc -p {project} failed ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A fresh output directory under `target/` (inside the repository, so that
/// Node finds `node_modules` and `"type": "module"` from compiled files).
fn out_dir(name: &str) -> PathBuf {
    let dir = repo_root()
        .join("target/typescript-tests")
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// The typed client test, compiled once per test binary.
async fn typed_client() -> &'static Path {
    static COMPILED: OnceCell<PathBuf> = OnceCell::const_new();
    COMPILED
        .get_or_init(|| async {
            let dir = out_dir("typed-client");
            tsc("tests/ts/tsconfig.json", &dir).await;
            dir.join("tests/ts/typed-client.test.js")
        })
        .await
}

#[test]
fn committed_modules_are_what_the_hubs_generate() {
    let directory = samples::typescript::directory();
    for (file, api) in samples::typescript::modules() {
        let path = directory.join(file);
        let committed = std::fs::read_to_string(&path)
            .unwrap_or_else(|error| panic!("read {}: {error}; {REGENERATE}", path.display()));
        assert!(
            committed == api.to_typescript(),
            "{} differs from what the `{}` hub generates; {REGENERATE}",
            path.display(),
            api.name()
        );
    }
}

#[tokio::test]
async fn chat_page_script_is_the_compiled_module() {
    let dir = out_dir("chat-page");
    tsc("samples/typescript/tsconfig.json", &dir).await;
    let compiled = std::fs::read_to_string(dir.join("chat-hub.js")).expect("tsc wrote chat-hub.js");
    let page = repo_root().join("samples/chat/wwwroot/chat-hub.js");
    let committed = std::fs::read_to_string(&page).expect("read the chat page's chat-hub.js");
    assert!(
        committed == compiled,
        "{} is not samples/typescript/chat-hub.ts compiled; {REGENERATE}",
        page.display()
    );
}

async fn run_typed_client(protocol: &str) {
    let script = typed_client().await;
    let server = TestServer::testhub().await;
    let url = server.testhub_url();
    node_test_file(script, &[("HUB_URL", &url), ("HUB_PROTOCOL", protocol)]).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_client_json() {
    run_typed_client("json").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_client_messagepack() {
    run_typed_client("messagepack").await;
}
