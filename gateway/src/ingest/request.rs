//! What ingest needs to know about an HTTP request, without knowing the web
//! framework: its headers through [`RequestHeaders`], the socket peer, and
//! the content-type rule. The HTTP layer implements the trait for its header
//! map and hands the body over as bytes it read under the size cap.

use std::net::IpAddr;

/// Read access to request headers, by lowercase name.
pub trait RequestHeaders {
    fn header(&self, name: &str) -> Option<&[u8]>;

    fn header_text(&self, name: &str) -> Option<&str> {
        self.header(name).and_then(|value| std::str::from_utf8(value).ok())
    }
}

/// One ingest request, as the checks before the body see it.
pub struct IngestRequest<'a> {
    pub headers: &'a dyn RequestHeaders,
    /// The socket peer; `None` when the transport does not say.
    pub peer: Option<IpAddr>,
}

/// `application/json`, with any parameters, or a `+json` structured suffix.
pub fn is_json_content_type(value: Option<&str>) -> bool {
    let Some(value) = value else { return false };
    let essence = value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

#[cfg(test)]
mod tests {
    use super::is_json_content_type;

    #[test]
    fn json_and_json_suffixes_are_accepted() {
        for ok in ["application/json", "Application/JSON; charset=utf-8", "application/vnd.soko+json"] {
            assert!(is_json_content_type(Some(ok)), "{ok}");
        }
        for bad in ["text/plain", "application/jsonx", "json", ""] {
            assert!(!is_json_content_type(Some(bad)), "{bad}");
        }
        assert!(!is_json_content_type(None));
    }
}
