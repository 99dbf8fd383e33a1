//! The hub URL: `http://host:port/path?query`, and the URLs derived from it
//! (negotiate, the transports' `?id=`). Only plain `http` and `ws` are
//! reachable: this client has no TLS.

use crate::error::Error;

/// A parsed hub URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HubUrl {
    /// `host` or `[v6]`, as written.
    pub(crate) host: String,
    pub(crate) port: u16,
    /// Starts with `/`.
    pub(crate) path: String,
    /// Without the `?`; may be empty.
    pub(crate) query: String,
}

impl HubUrl {
    /// Parses `http://host[:port][/path][?query]` (`ws://` too; `#fragment` dropped).
    pub(crate) fn parse(url: &str) -> Result<Self, Error> {
        let invalid = |reason: &str| Error::InvalidUrl {
            url: url.to_owned(),
            reason: reason.to_owned(),
        };
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| invalid("no scheme (expected http://)"))?;
        match scheme.to_ascii_lowercase().as_str() {
            "http" | "ws" => {}
            "https" | "wss" => {
                return Err(invalid("TLS is not supported by this client (use http://)"));
            }
            _ => return Err(invalid("the scheme must be http")),
        }
        let rest = rest.split('#').next().unwrap_or_default();
        let end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, rest) = rest.split_at(end);
        if authority.contains('@') {
            return Err(invalid("user information is not supported"));
        }
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) if !port.contains(']') => (
                host,
                port.parse::<u16>()
                    .map_err(|_| invalid("the port is not a number"))?,
            ),
            _ => (authority, 80),
        };
        if host.is_empty() {
            return Err(invalid("no host"));
        }
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let path = if path.is_empty() { "/" } else { path };
        Ok(Self {
            host: host.to_owned(),
            port,
            path: path.to_owned(),
            query: query.to_owned(),
        })
    }

    /// `host:port`, for the `Host` header and for connecting.
    pub(crate) fn authority(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// The host without IPv6 brackets, for connecting.
    pub(crate) fn connect_host(&self) -> &str {
        self.host.trim_start_matches('[').trim_end_matches(']')
    }

    /// `/path?query`.
    pub(crate) fn path_and_query(&self) -> String {
        if self.query.is_empty() {
            self.path.clone()
        } else {
            format!("{}?{}", self.path, self.query)
        }
    }

    /// The negotiate URL: `/negotiate` appended to the path (no double
    /// slash), the query kept, `negotiateVersion=1` added unless present,
    /// and `useStatefulReconnect=true` when asked for.
    pub(crate) fn negotiate(&self, stateful: bool) -> Self {
        let mut url = self.clone();
        url.path = format!("{}/negotiate", url.path.trim_end_matches('/'));
        if !has_parameter(&url.query, "negotiateVersion") {
            url.push_query("negotiateVersion", "1");
        }
        if stateful && !has_parameter(&url.query, "useStatefulReconnect") {
            url.push_query("useStatefulReconnect", "true");
        }
        url
    }

    /// Appends `name=value` (value already URL-safe) to the query.
    pub(crate) fn push_query(&mut self, name: &str, value: &str) {
        if !self.query.is_empty() {
            self.query.push('&');
        }
        self.query.push_str(name);
        self.query.push('=');
        self.query.push_str(value);
    }

    /// This URL with `id=<token>` (the token appended as the JS client
    /// appends it, without encoding: servers make it URL-safe).
    pub(crate) fn with_id(&self, token: Option<&str>) -> Self {
        let mut url = self.clone();
        if let Some(token) = token {
            url.push_query("id", token);
        }
        url
    }

    /// `http://host:port/path?query`.
    pub(crate) fn http(&self) -> String {
        format!("http://{}{}", self.authority(), self.path_and_query())
    }

    /// `ws://host:port/path?query`.
    pub(crate) fn ws(&self) -> String {
        format!("ws://{}{}", self.authority(), self.path_and_query())
    }
}

fn has_parameter(query: &str, name: &str) -> bool {
    query.split('&').any(|pair| {
        pair.split('=')
            .next()
            .unwrap_or_default()
            .eq_ignore_ascii_case(name)
    })
}

/// Percent-encodes a query value (an access token).
pub(crate) fn encode_query_value(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_derives_urls() {
        let url = HubUrl::parse("http://127.0.0.1:5000/hubs/test?x=1#f").unwrap();
        assert_eq!(url.authority(), "127.0.0.1:5000");
        assert_eq!(url.path_and_query(), "/hubs/test?x=1");
        assert_eq!(
            url.negotiate(true).http(),
            "http://127.0.0.1:5000/hubs/test/negotiate?x=1&negotiateVersion=1&useStatefulReconnect=true"
        );
        assert_eq!(
            url.with_id(Some("abc")).ws(),
            "ws://127.0.0.1:5000/hubs/test?x=1&id=abc"
        );
        let slash = HubUrl::parse("http://h/hub/?negotiateVersion=1").unwrap();
        assert_eq!(slash.port, 80);
        assert_eq!(
            slash.negotiate(false).path_and_query(),
            "/hub/negotiate?negotiateVersion=1"
        );
        let v6 = HubUrl::parse("http://[::1]:8080").unwrap();
        assert_eq!(
            (v6.connect_host(), v6.port, v6.path.as_str()),
            ("::1", 8080, "/")
        );
    }

    #[test]
    fn refuses_what_it_cannot_reach() {
        for url in [
            "127.0.0.1:5000/hub",
            "https://h/hub",
            "ftp://h/",
            "http://:80/",
            "http://h:x/",
        ] {
            assert!(
                matches!(HubUrl::parse(url), Err(Error::InvalidUrl { .. })),
                "{url}"
            );
        }
        assert_eq!(encode_query_value("a b/+"), "a%20b%2F%2B");
    }
}
