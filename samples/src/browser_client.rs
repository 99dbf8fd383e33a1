//! The official SignalR browser client the sample pages load
//! (`@microsoft/signalr` and its MessagePack protocol, from npm), found when
//! a sample starts: in the `node_modules` directory given with
//! `--node-modules`, else `./node_modules`, else the repository's.

use std::path::{Path, PathBuf};

/// The content type of the built-in pages.
pub const HTML: &str = "text/html; charset=utf-8";
/// The content type of the built-in scripts.
pub const JAVASCRIPT: &str = "text/javascript; charset=utf-8";

const SIGNALR: &str = "@microsoft/signalr/dist/browser/signalr.min.js";
const MSGPACK: &str =
    "@microsoft/signalr-protocol-msgpack/dist/browser/signalr-protocol-msgpack.min.js";

/// The browser builds of the official client.
#[derive(Debug, Clone)]
pub struct BrowserClient {
    /// `signalr.min.js`.
    pub signalr: PathBuf,
    /// `signalr-protocol-msgpack.min.js`.
    pub msgpack: PathBuf,
}

impl BrowserClient {
    /// Finds both builds under `node_modules` (when given: there only; else
    /// `./node_modules`, then the repository's). The error is one line that
    /// says how to fix it.
    pub fn locate(node_modules: Option<&Path>) -> Result<Self, String> {
        let candidates: Vec<PathBuf> = match node_modules {
            Some(dir) => vec![dir.to_owned()],
            None => vec![
                PathBuf::from("node_modules"),
                crate::repo_root().join("node_modules"),
            ],
        };
        candidates
            .iter()
            .map(|dir| Self {
                signalr: dir.join(SIGNALR),
                msgpack: dir.join(MSGPACK),
            })
            .find(|client| client.signalr.is_file() && client.msgpack.is_file())
            .ok_or_else(|| match node_modules {
                Some(dir) => format!(
                    "the official SignalR browser client is not in {}: run `npm ci` where that node_modules is, or give another with --node-modules DIR",
                    dir.display()
                ),
                None => "the official SignalR browser client (npm @microsoft/signalr) is not installed: run `npm ci` in the repository, or give its node_modules with --node-modules DIR".to_owned(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_client_is_one_line_saying_how_to_fix_it() {
        let error = BrowserClient::locate(Some(Path::new("/nonexistent"))).unwrap_err();
        assert!(!error.contains('\n'));
        assert!(
            error.contains("npm ci") && error.contains("--node-modules"),
            "{error}"
        );
    }
}
