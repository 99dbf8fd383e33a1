//! Helpers for the browser tests: the Node scripts under `tests/browser/` drive
//! headless Chromium (Debian's `chromium` package, never a downloaded browser)
//! with `playwright-core` against a sample server the Rust test started.

use std::path::PathBuf;
use std::time::Duration;

/// Where Debian's `chromium` package puts the browser.
pub const DEFAULT_CHROMIUM: &str = "/usr/bin/chromium";

/// How long one script may take, browser start and every page included.
pub const SCRIPT_TIMEOUT: Duration = Duration::from_secs(60);

/// The browser: `$CHROMIUM` if set, else [`DEFAULT_CHROMIUM`].
pub fn chromium() -> PathBuf {
    std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_CHROMIUM))
}

/// Fails with a clear message when Chromium or `playwright-core` is missing.
pub fn require_browser() -> PathBuf {
    let chromium = chromium();
    assert!(
        chromium.exists(),
        "Chromium is missing at {}: the browser tests need Debian's chromium package \
         (`apt-get install -y chromium`; .ci/run installs it), or CHROMIUM=/path/to/chromium",
        chromium.display()
    );
    crate::require_node_modules();
    let playwright = crate::repo_root().join("node_modules/playwright-core");
    assert!(
        playwright.exists(),
        "{} is missing: run `npm ci` in the repository root (scripts/test.sh does)",
        playwright.display()
    );
    chromium
}

/// Runs `node --test tests/browser/<script>` against the server at `app_url`,
/// its pages forced to `transport` (`"default"`: the pages choose), and fails
/// the test (printing Node's output) unless every Node test passes in time.
pub async fn run(script: &str, app_url: &str, transport: &str) {
    run_as(script, None, app_url, transport).await;
}

/// [`run`], naming its screenshots `<artifact>-...` instead of after the
/// script (the same page served by another application).
pub async fn run_as(script: &str, artifact: Option<&str>, app_url: &str, transport: &str) {
    let chromium = require_browser();
    let path = crate::repo_root().join("tests/browser").join(script);
    let mut command = crate::node::node_command();
    command
        .arg("--test")
        .arg(&path)
        .env("APP_URL", app_url)
        .env("TRANSPORT", transport)
        .env("CHROMIUM", &chromium)
        .envs(artifact.map(|name| ("ARTIFACT_NAME", name)));
    let what = format!("--test {script} ({transport})");
    let stdout = crate::node::run(command, &what, SCRIPT_TIMEOUT).await;
    // Shown with --nocapture (or when the test fails): which checks ran, and how long they took.
    println!("{stdout}");
}
