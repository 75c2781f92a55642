//! The fence's settings: `FETCH_ALLOW_PRIVATE_HOSTS`, a comma-separated list of `host:port`
//! entries that may be fetched even when they resolve to a refused address (an internal image
//! store, a test fixture). `config` reads the variable and reports bad entries at start; the
//! origins of `WHATSAPP_WEB_BASE_URL` and of the image store are added by the pipeline itself.

use url::{Host, Url};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FenceSettings {
    pub allow_private_hosts: Vec<TrustedHost>,
}

/// One trusted `host:port`. The host is kept as `url` prints it (lower-case names, IPv6 in
/// brackets), so it compares equal to a parsed URL's host.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TrustedHost {
    pub host: String,
    pub port: u16,
}

impl TrustedHost {
    /// Parses `host:port` (`[v6]:port` for IPv6). The port is required: trust is per service.
    pub fn parse(entry: &str) -> Result<Self, String> {
        let entry = entry.trim();
        let (host, port) = entry
            .rsplit_once(':')
            .filter(|(host, _)| !host.is_empty() && (!host.contains(':') || (host.starts_with('[') && host.ends_with(']'))))
            .ok_or_else(|| format!("{entry:?} is not host:port (IPv6 as [addr]:port)"))?;
        let port: u16 = port.parse().ok().filter(|p| *p != 0).ok_or_else(|| format!("{entry:?} has no valid port (1-65535)"))?;
        let host = Host::parse(host).map_err(|e| format!("{entry:?}: the host is not valid ({e})"))?;
        Ok(Self { host: host.to_string(), port })
    }

    /// The `host:port` of a URL's origin (the scheme's default port when none is written).
    pub fn of_origin(url: &Url) -> Option<Self> {
        Some(Self { host: url.host()?.to_string(), port: url.port_or_known_default()? })
    }

    /// Whether this entry names `url`'s host and port.
    pub fn matches(&self, url: &Url) -> bool {
        Self::of_origin(url).is_some_and(|origin| origin == *self)
    }
}

impl FenceSettings {
    /// Parses the comma-separated list; every bad entry is reported.
    pub fn parse_list(raw: &str) -> Result<Self, Vec<String>> {
        let (mut hosts, mut problems) = (Vec::new(), Vec::new());
        for entry in raw.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            match TrustedHost::parse(entry) {
                Ok(host) => hosts.push(host),
                Err(problem) => problems.push(problem),
            }
        }
        if problems.is_empty() { Ok(Self { allow_private_hosts: hosts }) } else { Err(problems) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_ipv4_and_ipv6_with_ports() {
        let parsed = FenceSettings::parse_list(" MinIO.internal:9000, 127.0.0.1:8080 ,[::1]:443,").expect("valid");
        let hosts: Vec<(String, u16)> = parsed.allow_private_hosts.into_iter().map(|h| (h.host, h.port)).collect();
        assert_eq!(hosts, [("minio.internal".to_owned(), 9000), ("127.0.0.1".to_owned(), 8080), ("[::1]".to_owned(), 443)]);
    }

    #[test]
    fn reports_every_bad_entry() {
        let problems = FenceSettings::parse_list("localhost,127.0.0.1:0,::1:80,host:http,:80,ok.example:80").expect_err("invalid");
        assert_eq!(problems.len(), 5, "{problems:?}");
    }

    #[test]
    fn matches_urls_by_host_and_effective_port() {
        let trusted = TrustedHost::parse("127.0.0.1:80").expect("valid");
        assert!(trusted.matches(&Url::parse("http://127.0.0.1/x").expect("url")));
        assert!(!trusted.matches(&Url::parse("https://127.0.0.1/x").expect("url")));
        assert!(!trusted.matches(&Url::parse("http://127.0.0.1:81/x").expect("url")));
        let v6 = TrustedHost::parse("[::1]:9000").expect("valid");
        assert!(v6.matches(&Url::parse("http://[::1]:9000/").expect("url")));
    }
}
