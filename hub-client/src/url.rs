//! The hub URL: `http[s]://host:port/path?query`, and the URLs derived from
//! it (negotiate, the transports' `?id=`). `https` and `wss` need the `tls`
//! feature.

use crate::error::Error;

/// A parsed hub URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HubUrl {
    /// `https`/`wss`: the connection is TLS.
    pub(crate) tls: bool,
    /// `host` or `[v6]`, as written.
    pub(crate) host: String,
    pub(crate) port: u16,
    /// Starts with `/`.
    pub(crate) path: String,
    /// Without the `?`; may be empty.
    pub(crate) query: String,
}

impl HubUrl {
    /// Parses `http[s]://host[:port][/path][?query]` (`ws[s]://` too;
    /// `#fragment` dropped). The port defaults to 80, or 443 with TLS.
    pub(crate) fn parse(url: &str) -> Result<Self, Error> {
        Self::parse_with(url, cfg!(feature = "tls"))
    }

    /// [`parse`](Self::parse), accepting `https`/`wss` only when `tls_available` (the
    /// feature is on).
    fn parse_with(url: &str, tls_available: bool) -> Result<Self, Error> {
        let invalid = |reason: &str| Error::InvalidUrl {
            url: url.to_owned(),
            reason: reason.to_owned(),
        };
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| invalid("no scheme (expected http://)"))?;
        let tls = match scheme.to_ascii_lowercase().as_str() {
            "http" | "ws" => false,
            "https" | "wss" if tls_available => true,
            "https" | "wss" => return Err(invalid(NO_TLS)),
            _ => return Err(invalid("the scheme must be http or https")),
        };
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
            _ => (authority, if tls { 443 } else { 80 }),
        };
        if host.is_empty() {
            return Err(invalid("no host"));
        }
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let path = if path.is_empty() { "/" } else { path };
        Ok(Self {
            tls,
            host: host.to_owned(),
            port,
            path: path.to_owned(),
            query: query.to_owned(),
        })
    }

    /// `host:port`, for the `Host` header and the URLs; `host` alone on
    /// the scheme's default port (as browsers send it).
    pub(crate) fn authority(&self) -> String {
        if self.port == if self.tls { 443 } else { 80 } {
            self.host.clone()
        } else {
            format!("{}:{}", self.host, self.port)
        }
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

    /// `http[s]://host:port/path?query`.
    pub(crate) fn http(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}{}", self.authority(), self.path_and_query())
    }

    /// `ws[s]://host:port/path?query`.
    pub(crate) fn ws(&self) -> String {
        let scheme = if self.tls { "wss" } else { "ws" };
        format!("{scheme}://{}{}", self.authority(), self.path_and_query())
    }
}

/// Why an `https` URL is refused without the `tls` feature.
pub(crate) const NO_TLS: &str =
    "https:// and wss:// need the `tls` feature of hub-client, which this build leaves off";

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

    #[test]
    #[cfg(feature = "tls")]
    fn parses_tls_urls() {
        let url = HubUrl::parse("https://example.com/hubs/chat?x=1").unwrap();
        assert!(url.tls);
        assert_eq!(url.port, 443);
        assert_eq!(
            url.negotiate(false).http(),
            "https://example.com/hubs/chat/negotiate?x=1&negotiateVersion=1"
        );
        assert_eq!(
            url.with_id(Some("abc")).ws(),
            "wss://example.com/hubs/chat?x=1&id=abc"
        );
        let wss = HubUrl::parse("WSS://[::1]:8443/hub").unwrap();
        assert_eq!((wss.tls, wss.connect_host(), wss.port), (true, "::1", 8443));
        assert_eq!(wss.http(), "https://[::1]:8443/hub");
        let plain = HubUrl::parse("ws://h/hub").unwrap();
        assert_eq!((plain.tls, plain.port), (false, 80));
        assert_eq!(plain.authority(), "h");
        assert_eq!(HubUrl::parse("https://h:80/").unwrap().authority(), "h:80");
    }

    /// What `parse` does without the feature (which the workspace's
    /// dev-dependencies always turn on for this crate's tests).
    #[test]
    fn refuses_https_without_the_feature() {
        for url in ["https://h/hub", "wss://h:8443/hub"] {
            if !cfg!(feature = "tls") {
                assert!(HubUrl::parse(url).is_err(), "{url}");
            }
            let Err(Error::InvalidUrl { reason, .. }) = HubUrl::parse_with(url, false) else {
                panic!("{url} accepted without the tls feature");
            };
            assert!(reason.contains("`tls` feature"), "{reason}");
        }
    }
}
