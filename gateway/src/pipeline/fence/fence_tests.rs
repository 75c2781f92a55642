//! The URL check as a table, and the fenced client against real sockets: a loopback listener
//! that is not trusted never sees a connection, whether it is named by an IP literal, reached
//! through DNS (`localhost`), or through a redirect from a trusted server.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use url::Url;

use super::{BlockedRange, Fence, FenceRefusal};
use crate::pipeline::fetch::{FetchError, FetchSettings, Fetcher};
use crate::pipeline::hydrate::UserAgentPool;

fn check(fence: &Fence, url: &str) -> Result<(), FenceRefusal> {
    fence.check_url(&Url::parse(url).expect("url"))
}

#[test]
fn urls_are_checked_before_any_lookup() {
    let fence = Fence::trusting(&["127.0.0.1:8080", "minio.internal:9000"]);
    let loopback = Err(FenceRefusal::Address(BlockedRange::Loopback));
    let cases: &[(&str, Result<(), FenceRefusal>)] = &[
        ("https://cdn.example.com/a.jpg", Ok(())),
        ("http://127.0.0.1:8080/ok", Ok(())),
        ("http://minio.internal:9000/bucket/a.jpg", Ok(())),
        ("http://127.0.0.1:8081/", loopback),
        ("http://2130706433/", loopback),
        ("http://0x7f.1/", loopback),
        ("http://[::1]/", loopback),
        ("http://[::ffff:127.0.0.1]:8080/", loopback),
        ("http://169.254.169.254/latest/meta-data/", Err(FenceRefusal::Address(BlockedRange::LinkLocal))),
        ("http://[::ffff:a9fe:a9fe]/", Err(FenceRefusal::Address(BlockedRange::LinkLocal))),
        ("http://10.0.0.5/", Err(FenceRefusal::Address(BlockedRange::Private))),
        ("http://100.100.100.200/", Err(FenceRefusal::Address(BlockedRange::SharedCgnat))),
        ("http://[fd12::1]/", Err(FenceRefusal::Address(BlockedRange::UniqueLocal))),
        ("http://0.0.0.0:8080/", Err(FenceRefusal::Address(BlockedRange::Unspecified))),
        ("http://minio.internal:22/", Err(FenceRefusal::UntrustedPort)),
        ("http://user:pass@cdn.example.com/a.jpg", Err(FenceRefusal::UserInfo)),
        ("http://user@127.0.0.1:8080/", Err(FenceRefusal::UserInfo)),
        ("ftp://cdn.example.com/a.jpg", Err(FenceRefusal::Scheme)),
        ("file:///etc/passwd", Err(FenceRefusal::Scheme)),
    ];
    for (url, expected) in cases {
        assert_eq!(check(&fence, url), *expected, "{url}");
    }
}

/// A listener that counts the connections it accepts and answers each with `response`.
async fn listener(response: String) -> (u16, Arc<AtomicUsize>) {
    let socket = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = socket.local_addr().expect("address").port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = socket.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            let response = response.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf).await;
                let _ = stream.write_all(response.as_bytes()).await;
            });
        }
    });
    (port, accepted)
}

fn ok_page() -> String {
    "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok".to_owned()
}

fn redirect_to(location: &str) -> String {
    format!("HTTP/1.1 302 Found\r\nlocation: {location}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
}

fn fetcher(fence: Fence) -> Fetcher {
    let settings = FetchSettings { timeout: Duration::from_secs(5), max_bytes: 1_024, per_host: 2 };
    Fetcher::new(settings, UserAgentPool::default(), Arc::new(fence)).expect("client")
}

async fn get(fetcher: &Fetcher, url: &str) -> Result<u16, FetchError> {
    fetcher.get(&Url::parse(url).expect("url")).await.map(|f| f.status)
}

#[tokio::test]
async fn a_name_resolving_to_loopback_is_refused_unless_trusted() {
    let (port, accepted) = listener(ok_page()).await;
    let url = format!("http://localhost:{port}/");
    let refused = get(&fetcher(Fence::trusting(&[])), &url).await;
    assert!(matches!(refused, Err(FetchError::Blocked(FenceRefusal::Address(BlockedRange::Loopback)))), "{refused:?}");
    assert_eq!(accepted.load(Ordering::SeqCst), 0, "the resolver dropped every address");

    let trusted = fetcher(Fence::trusting(&[&format!("localhost:{port}")]));
    assert_eq!(get(&trusted, &url).await.expect("trusted"), 200);
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
    // Trust is per port: the same name elsewhere is refused before any lookup.
    let other = get(&trusted, &format!("http://localhost:{}/", port.wrapping_add(1).max(1))).await;
    assert!(matches!(other, Err(FetchError::Blocked(FenceRefusal::UntrustedPort))), "{other:?}");
}

#[tokio::test]
async fn every_redirect_hop_is_checked() {
    let (target, accepted) = listener(ok_page()).await;
    for location in [format!("http://127.0.0.1:{target}/x"), format!("http://localhost:{target}/x"), format!("http://u:p@127.0.0.1:{target}/")] {
        let (trusted, _) = listener(redirect_to(&location)).await;
        let fetcher = fetcher(Fence::trusting(&[&format!("127.0.0.1:{trusted}")]));
        let result = get(&fetcher, &format!("http://127.0.0.1:{trusted}/start")).await;
        assert!(matches!(result, Err(FetchError::Blocked(_))), "{location}: {result:?}");
        assert!(!result.as_ref().err().is_some_and(FetchError::is_transient));
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 0, "no hop reached the untrusted port");

    // A redirect between trusted servers is followed.
    let (second, reached) = listener(ok_page()).await;
    let (first, _) = listener(redirect_to(&format!("http://127.0.0.1:{second}/y"))).await;
    let fetcher = fetcher(Fence::trusting(&[&format!("127.0.0.1:{first}"), &format!("127.0.0.1:{second}")]));
    assert_eq!(get(&fetcher, &format!("http://127.0.0.1:{first}/")).await.expect("followed"), 200);
    assert_eq!(reached.load(Ordering::SeqCst), 1);
}
