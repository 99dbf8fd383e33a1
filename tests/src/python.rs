//! Python clients from PyPI (`signalrcore`, `pysignalr`) and pysignalr's own
//! integration tests, run from the integration tests.
//!
//! The first test that needs Python creates a virtualenv in
//! `target/python-venv` and installs the pinned packages of
//! `tests/python/requirements.txt` into it (then those of
//! `requirements-no-deps.txt`, without their dependencies); later tests (and later runs)
//! reuse it while that file is unchanged. Test binaries that run at once take
//! turns through a lock file, so the virtualenv is created once.
//!
//! Every process is bounded in time: one still running after its limit is
//! killed with everything it started (it runs in a process group of its own),
//! and the test fails with what it printed so far.

use std::fs::{File, TryLockError};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use hub_core::Hub;
use tokio::io::AsyncReadExt;
use tokio::process::Command;
use tokio::sync::{OnceCell, oneshot};
use tokio::task::JoinHandle;

/// How long one client script may run (its checks take seconds; this is for
/// one that hangs).
pub const SCRIPT_LIMIT: Duration = Duration::from_secs(120);

/// How long creating the virtualenv and installing the packages may take
/// (and so how long a test waits for another test binary doing it).
const INSTALL_LIMIT: Duration = Duration::from_secs(600);

/// `tests/python`: the scripts, the pinned requirements, the conftest.
pub fn python_dir() -> PathBuf {
    crate::repo_root().join("tests/python")
}

/// Cargo's target directory (`CARGO_TARGET_DIR`, else `target`).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::repo_root().join("target"))
}

/// The version `tests/python/requirements.txt` pins `package` to.
pub fn pinned_version(package: &str) -> String {
    let requirements = std::fs::read_to_string(python_dir().join("requirements.txt"))
        .expect("read tests/python/requirements.txt");
    let prefix = format!("{package}==");
    requirements
        .lines()
        .find_map(|line| line.trim().strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("tests/python/requirements.txt pins no `{package}==`"))
        .to_owned()
}

/// The test virtualenv.
#[derive(Debug)]
pub struct Venv {
    /// Its directory (`target/python-venv`).
    pub dir: PathBuf,
}

impl Venv {
    /// Its Python interpreter.
    pub fn python(&self) -> PathBuf {
        self.dir.join("bin/python")
    }

    /// A command running its Python with `args` (start it with [`run`]).
    pub fn command<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut command = Command::new(self.python());
        command
            .args(args)
            .env("PYTHONUNBUFFERED", "1")
            .env("PYTHONDONTWRITEBYTECODE", "1");
        command
    }

    /// Runs `tests/python/<script>` with the names of the `checks` to run and
    /// `env`; fails the test (showing the script's output) unless it passes.
    pub async fn run_checks(&self, script: &str, checks: &[&str], env: &[(&str, &str)]) -> String {
        let mut command = self.command([python_dir().join(script)]);
        command
            .args(checks)
            .envs(env.iter().copied())
            .current_dir(python_dir());
        run(command, script, SCRIPT_LIMIT).await
    }
}

/// The test virtualenv, created (or re-created after `requirements.txt`
/// changed) on first use.
pub async fn venv() -> &'static Venv {
    static VENV: OnceCell<Venv> = OnceCell::const_new();
    VENV.get_or_init(prepare_venv).await
}

async fn prepare_venv() -> Venv {
    let dir = target_dir().join("python-venv");
    let requirements_file = python_dir().join("requirements.txt");
    let no_deps_file = python_dir().join("requirements-no-deps.txt");
    let requirements = std::fs::read_to_string(&requirements_file).expect("read requirements.txt")
        + &std::fs::read_to_string(&no_deps_file).expect("read requirements-no-deps.txt");
    let stamp = dir.join("installed-requirements.txt");
    let venv = Venv { dir: dir.clone() };
    let _lock = install_lock().await;
    if venv.python().exists() && std::fs::read_to_string(&stamp).ok() == Some(requirements.clone())
    {
        return venv;
    }
    if dir.exists() {
        std::fs::remove_dir_all(&dir).expect("remove the old virtualenv");
    }
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let mut create = Command::new(&python);
    create.args(["-m", "venv"]).arg(&dir);
    run(
        create,
        &format!("{python} -m venv (is Python 3 with venv installed?)"),
        INSTALL_LIMIT,
    )
    .await;
    let mut install = venv.command([
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--no-input",
    ]);
    install.arg("-r").arg(&requirements_file);
    run(
        install,
        "pip install -r tests/python/requirements.txt",
        INSTALL_LIMIT,
    )
    .await;
    let mut install_no_deps = venv.command([
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--no-input",
        "--no-deps",
    ]);
    install_no_deps.arg("-r").arg(&no_deps_file);
    run(
        install_no_deps,
        "pip install --no-deps -r tests/python/requirements-no-deps.txt",
        INSTALL_LIMIT,
    )
    .await;
    std::fs::write(&stamp, requirements).expect("write the virtualenv's stamp");
    venv
}

/// The source distribution of the pinned `pysignalr` (which holds its tests),
/// downloaded from PyPI once into the virtualenv's directory.
pub async fn pysignalr_sdist() -> PathBuf {
    let venv = venv().await;
    let version = pinned_version("pysignalr");
    let dir = venv.dir.join("sdist");
    let sdist = dir.join(format!("pysignalr-{version}.tar.gz"));
    let _lock = install_lock().await;
    if !sdist.exists() {
        let mut download = venv.command(["-m", "pip", "download", "--disable-pip-version-check"]);
        download
            // `--no-binary pysignalr`, not `:all:`: that would also build
            // its build backend (hatchling) and its dependencies from source.
            .args(["--no-input", "--no-deps", "--no-binary", "pysignalr"])
            .arg(format!("pysignalr=={version}"))
            .arg("-d")
            .arg(&dir);
        run(download, "pip download pysignalr (sdist)", INSTALL_LIMIT).await;
    }
    assert!(sdist.exists(), "pip download gave no {}", sdist.display());
    sdist
}

/// Held while the virtualenv is created or changed: an exclusive lock on
/// `target/python-venv.lock` (released when dropped, or when the process ends).
#[derive(Debug)]
struct InstallLock {
    _file: File,
}

async fn install_lock() -> InstallLock {
    let target = target_dir();
    std::fs::create_dir_all(&target).expect("create the target directory");
    let path = target.join("python-venv.lock");
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .expect("open the virtualenv lock file");
    let deadline = tokio::time::Instant::now() + INSTALL_LIMIT;
    loop {
        match file.try_lock() {
            Ok(()) => return InstallLock { _file: file },
            Err(TryLockError::WouldBlock) => {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "{} stayed locked for {INSTALL_LIMIT:?} (another test installing?)",
                    path.display()
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(TryLockError::Error(error)) => panic!("lock {}: {error}", path.display()),
        }
    }
}

/// Unpacks the tarball `archive` into `into` (`tar xzf`).
pub async fn unpack(archive: &Path, into: &Path) {
    std::fs::create_dir_all(into).expect("create the unpack directory");
    let mut command = Command::new("tar");
    command.arg("xzf").arg(archive).arg("-C").arg(into);
    run(command, "tar xzf", Duration::from_secs(60)).await;
}

/// Runs `command` for at most `limit` in a process group of its own; fails
/// the test, with its output, unless it exits successfully in time. Returns
/// its standard output.
pub async fn run(mut command: Command, what: &str, limit: Duration) -> String {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let mut child = command
        .spawn()
        .unwrap_or_else(|error| panic!("start {what}: {error}"));
    // Kills the group unless the process ends by itself, including when this
    // test panics while it runs.
    let mut group = ProcessGroup(child.id());
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let stdout = tokio::spawn(async move {
        let mut text = Vec::new();
        let _ = stdout.read_to_end(&mut text).await;
        String::from_utf8_lossy(&text).into_owned()
    });
    let stderr = tokio::spawn(async move {
        let mut text = Vec::new();
        let _ = stderr.read_to_end(&mut text).await;
        String::from_utf8_lossy(&text).into_owned()
    });
    let status = tokio::time::timeout(limit, child.wait()).await;
    match status {
        Ok(_) => group.0 = None, // Ended and reaped: its id may be reused.
        Err(_) => drop(group),
    }
    let collect = |output: JoinHandle<String>| async move {
        tokio::time::timeout(Duration::from_secs(5), output)
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or_else(|| "(not closed by the process's children)".to_owned())
    };
    let (stdout, stderr) = (collect(stdout).await, collect(stderr).await);
    match status {
        Ok(Ok(status)) => assert!(
            status.success(),
            "{what} failed ({status})\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}"
        ),
        Ok(Err(error)) => panic!("wait for {what}: {error}"),
        Err(_) => panic!(
            "{what} still ran after {limit:?} and was killed\n--- stdout so far ---\n{stdout}\n--- stderr ---\n{stderr}"
        ),
    }
    stdout
}

/// The process group of a process started by [`run`] (its id is the
/// process's pid, `process_group(0)`), killed with everything in it when
/// dropped while set.
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

/// The weather hub sample (`samples::weatherhub`: the hub and its login)
/// served in the test's runtime on `127.0.0.1:0`.
#[derive(Debug)]
pub struct WeatherHubServer {
    /// The bound address.
    pub addr: std::net::SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

impl WeatherHubServer {
    /// Serves `hub` (e.g. `samples::weatherhub::hub()`).
    pub async fn start(hub: Hub) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(samples::weatherhub::serve(listener, hub, async move {
            let _ = stopped.await;
        }));
        Self { addr, stop, task }
    }

    /// The hub's URL (`http://127.0.0.1:PORT/weatherHub`).
    pub fn hub_url(&self) -> String {
        format!("http://{}{}", self.addr, samples::weatherhub::PATH)
    }

    /// Shuts the server down gracefully and waits for it.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let result = tokio::time::timeout(Duration::from_secs(15), self.task)
            .await
            .expect("the weather hub stops within 15 s");
        result.expect("server task").expect("server result");
    }
}
