//! Serving files for samples: a URL prefix mapped to a directory or a single
//! file, or content built into the binary at one URL path.

use std::path::{Component, Path, PathBuf};

use bytes::Bytes;
use http::{HeaderValue, Method, Response, StatusCode, header};

use crate::http_util::{Body, empty, response, text};

/// A file or directory served under a URL path.
#[derive(Debug, Clone)]
pub(crate) struct StaticMount {
    /// `/` or `/lib/signalr.js`.
    pub(crate) url_path: String,
    pub(crate) target: PathBuf,
    pub(crate) is_dir: bool,
}

impl StaticMount {
    /// The file a request path maps to, if it is under this mount. Paths with
    /// `..`, backslashes or other non-plain components never match.
    pub(crate) fn resolve(&self, path: &str) -> Option<PathBuf> {
        if !self.is_dir {
            return (path == self.url_path).then(|| self.target.clone());
        }
        let prefix = self.url_path.trim_end_matches('/');
        let rest = path.strip_prefix(prefix)?;
        if !rest.is_empty() && !rest.starts_with('/') {
            return None;
        }
        let decoded = percent_encoding::percent_decode_str(rest)
            .decode_utf8()
            .ok()?;
        let relative = decoded.trim_start_matches('/');
        let relative = if relative.is_empty() || relative.ends_with('/') {
            format!("{relative}index.html")
        } else {
            relative.to_owned()
        };
        if relative.contains('\\') || relative.contains('\0') {
            return None;
        }
        let relative = Path::new(&relative);
        if !relative
            .components()
            .all(|part| matches!(part, Component::Normal(_)))
        {
            return None;
        }
        Some(self.target.join(relative))
    }
}

/// Content served at one URL path (a page built into the binary).
#[derive(Debug, Clone)]
pub(crate) struct StaticContent {
    pub(crate) url_path: String,
    pub(crate) content_type: &'static str,
    pub(crate) body: Bytes,
}

/// Serves `path` from the content given for it, or else from the first
/// mount that has it.
pub(crate) async fn serve(
    contents: &[StaticContent],
    mounts: &[StaticMount],
    method: &Method,
    path: &str,
) -> Option<Response<Body>> {
    if let Some(content) = contents.iter().find(|content| content.url_path == path) {
        return Some(answer(method, content.content_type, content.body.clone()));
    }
    for mount in mounts {
        let Some(file) = mount.resolve(path) else {
            continue;
        };
        let Ok(contents) = tokio::fs::read(&file).await else {
            continue;
        };
        return Some(answer(method, content_type(&file), Bytes::from(contents)));
    }
    None
}

/// `200` with `body` (headers only for HEAD), `405` for other methods.
fn answer(method: &Method, content_type: &'static str, body: Bytes) -> Response<Body> {
    if method != Method::GET && method != Method::HEAD {
        return text(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed");
    }
    let mut response = if method == Method::HEAD {
        empty(StatusCode::OK)
    } else {
        response(StatusCode::OK, content_type, body)
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

fn content_type(file: &Path) -> &'static str {
    match file.extension().and_then(|ext| ext.to_str()).unwrap_or("") {
        "html" | "htm" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(url_path: &str) -> StaticMount {
        StaticMount {
            url_path: url_path.into(),
            target: PathBuf::from("/srv/www"),
            is_dir: true,
        }
    }

    #[test]
    fn maps_paths_under_the_prefix() {
        let mount = dir("/");
        assert_eq!(
            mount.resolve("/"),
            Some(PathBuf::from("/srv/www/index.html"))
        );
        assert_eq!(
            mount.resolve("/app.js"),
            Some(PathBuf::from("/srv/www/app.js"))
        );
        assert_eq!(
            mount.resolve("/a%20b.js"),
            Some(PathBuf::from("/srv/www/a b.js"))
        );
        let mount = dir("/static/");
        assert_eq!(
            mount.resolve("/static/x.css"),
            Some(PathBuf::from("/srv/www/x.css"))
        );
        assert_eq!(mount.resolve("/staticx.css"), None);
    }

    #[test]
    fn refuses_traversal() {
        let mount = dir("/");
        for path in [
            "/../etc/passwd",
            "/a/../../b",
            "/%2e%2e/etc/passwd",
            "/a%5c..%5cb",
            "/x%00",
        ] {
            assert_eq!(mount.resolve(path), None, "{path}");
        }
    }

    #[tokio::test]
    async fn content_given_for_a_path_comes_first() {
        let page = StaticContent {
            url_path: "/".into(),
            content_type: "text/html; charset=utf-8",
            body: Bytes::from_static(b"<p>built in</p>"),
        };
        let served = serve(&[page], &[dir("/")], &Method::GET, "/")
            .await
            .expect("served");
        assert_eq!(served.status(), StatusCode::OK);
        assert_eq!(
            served.headers()[header::CONTENT_TYPE],
            "text/html; charset=utf-8"
        );
        let post = serve(&[], &[], &Method::POST, "/").await;
        assert!(post.is_none(), "nothing there");
    }
}
