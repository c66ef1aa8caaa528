//! The browser's static files: served from the site root with the encodings the build made
//! beforehand (`portal precompress`), conditional requests answered 304, and caching headers.
//!
//! The build names the client's files after their content (`pkg/portal.<hash>.wasm`, `.js`,
//! `.css`, listed in the site root's `hash.txt`), so those are cached for a year as immutable; any
//! other static file (the favicon) for a day, then revalidated. Everything else the portal answers
//! (pages with customer data, server functions, JSON, CSV) is `no-store` (see [`apply`]).

use axum::{
    body::Body,
    extract::{Request, State},
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Router,
};
use leptos::prelude::LeptosOptions;
use std::path::{Path, PathBuf};
use tower::ServiceExt;
use tower_http::{
    compression::CompressionLayer, services::ServeDir, set_header::SetResponseHeaderLayer,
};

/// The cache policy of a content-named file.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// The cache policy of a static file whose name does not change with its content (the
/// favicon): kept a day, then revalidated (304 while unchanged).
pub const REVALIDATE: &str = "public, max-age=86400";
/// The cache policy of everything that is not a static file.
pub const NO_STORE: &str = "no-store";

/// The file the build writes into the site root, naming each client file's content hash
/// (`js: …`, `wasm: …`, `css: …`), in the format cargo-leptos writes beside the binary.
pub const HASH_FILE: &str = "hash.txt";

/// Where the hash file of `site_root` is, when the build wrote one: the site root (this
/// project's build), else beside the running binary (where `cargo leptos` puts it).
pub fn hash_file(site_root: &str) -> Option<PathBuf> {
    let in_site = Path::new(site_root).join(HASH_FILE);
    let in_site = std::path::absolute(&in_site).unwrap_or(in_site);
    if in_site.is_file() {
        return Some(in_site);
    }
    let beside_binary = std::env::current_exe().ok()?.parent()?.join(HASH_FILE);
    beside_binary.is_file().then_some(beside_binary)
}

/// True when `path` names a content-hashed client file: `/pkg/<name>.<hash>.<ext>` with a hash
/// of at least 8 hexadecimal or base64url characters.
pub fn is_content_named(path: &str) -> bool {
    let Some(file) = path.strip_prefix("/pkg/") else {
        return false;
    };
    let mut parts = file.rsplit('.');
    let (Some(_ext), Some(hash), Some(_name)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    hash.len() >= 8
        && hash
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The router's fallback: a static file of the site root if there is one, else the app's own
/// "not found" page.
pub async fn static_or_not_found(
    State(state): State<crate::startup::ServerState>,
    req: Request,
) -> Response {
    let options: LeptosOptions = state.leptos.clone();
    let (parts, body) = req.into_parts();
    // ServeDir sees the whole request: Accept-Encoding picks the precompressed file,
    // If-Modified-Since may answer 304.
    let probe = Request::from_parts(parts.clone(), Body::empty());
    let served = ServeDir::new(options.site_root.as_ref())
        .precompressed_br()
        .precompressed_gzip()
        .append_index_html_on_directories(false)
        .oneshot(probe)
        .await;
    match served {
        Ok(res) if res.status() == StatusCode::OK || res.status() == StatusCode::NOT_MODIFIED => {
            let mut res = res.into_response();
            let policy = if is_content_named(parts.uri.path()) {
                IMMUTABLE
            } else {
                REVALIDATE
            };
            res.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
            res
        }
        _ => {
            let handler =
                leptos_axum::file_and_error_handler::<crate::startup::ServerState, _>(app::shell);
            let req = Request::from_parts(parts.clone(), body);
            handler(parts.uri, State(state), req).await
        }
    }
}

/// How long a page's body may wait for its next part once its HTML has started: the rest is
/// the data the client hydrates from, ready within milliseconds of the HTML.
pub const PAGE_TAIL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Ends a page's body that stalls after it has started. Leptos (0.8.23) sometimes never
/// finishes the stream of data it appends after a rendered page (a race in its resources, seen
/// about once in 20 runs of the HTTP tests on PostgreSQL, more on a single-threaded runtime):
/// the person would get the page but a browser that never stops loading it. The body is ended
/// after [`PAGE_TAIL_TIMEOUT`] without a part, and the stall is logged.
///
/// The same race can stall a render before its first byte: a page (a GET outside `/api/`) that
/// is not ready after [`PAGE_RENDER_TIMEOUT`] is answered 503 with a page that says to reload
/// (which renders it anew), and logged, instead of leaving the browser waiting for ever.
pub async fn end_stalled_pages(req: Request, next: axum::middleware::Next) -> Response {
    let path = req.uri().path().to_owned();
    let res = if app::ssr::is_page_render(req.method(), &path) {
        match tokio::time::timeout(PAGE_RENDER_TIMEOUT, next.run(req)).await {
            Ok(res) => res,
            Err(_) => {
                tracing::error!(path, timeout = ?PAGE_RENDER_TIMEOUT, "page render stalled: answered 503");
                return stalled_page();
            }
        }
    } else {
        next.run(req).await
    };
    let is_html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if !is_html {
        return res;
    }
    // The page is gathered whole before it is sent (pages render completely before their first
    // byte anyway): compressing Leptos's page stream as it came stalled renders in the HTTP
    // tests (the compressed request of a page, never the plain one); a gathered page is
    // compressed in one piece.
    let (parts, body) = res.into_parts();
    match axum::body::to_bytes(
        guard_tail(body, PAGE_TAIL_TIMEOUT, path.clone()),
        usize::MAX,
    )
    .await
    {
        Ok(page) => Response::from_parts(parts, Body::from(page)),
        Err(err) => {
            tracing::error!(path, error = %err, "page body failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// How long a page may take to render before it is given up (pages render in milliseconds;
/// the slowest, a partner-wide report, in well under a second on the demo's data).
pub const PAGE_RENDER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// What a page whose render stalled is answered: 503, try again.
fn stalled_page() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::RETRY_AFTER, "1"),
        ],
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Try again · CSP Portal</title></head><body><main>\
         <h1>This page took too long to prepare</h1>\
         <p>Nothing was changed. Reload the page to try again.</p></main></body></html>",
    )
        .into_response()
}

/// `body`, ended when a part after the first takes longer than `timeout` to come.
pub fn guard_tail(body: Body, timeout: std::time::Duration, path: String) -> Body {
    use futures_util::StreamExt;
    let parts = body.into_data_stream();
    let guarded = futures_util::stream::unfold(
        (parts, false, path),
        move |(mut parts, started, path)| async move {
            let next = if started {
                match tokio::time::timeout(timeout, parts.next()).await {
                    Ok(next) => next,
                    Err(_) => {
                        tracing::warn!(path, ?timeout, "page body stalled after its HTML: ended");
                        return None;
                    }
                }
            } else {
                parts.next().await
            };
            next.map(|part| (part, (parts, true, path)))
        },
    );
    // Fused: a compressing wrapper may poll again after the end.
    Body::from_stream(guarded.fuse())
}

/// Compression of every compressible answer by Accept-Encoding (brotli, then gzip), and
/// `no-store` on every answer that set no cache policy of its own. A precompressed static file
/// already carries its Content-Encoding and passes through as it is.
pub fn apply(router: Router) -> Router {
    router
        .layer(axum::middleware::from_fn(end_stalled_pages))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static(NO_STORE),
        ))
        .layer(CompressionLayer::new().br(true).gzip(true))
}

/// `portal precompress DIR`: writes `FILE.br` (brotli, quality 11) and `FILE.gz` (gzip, zopfli)
/// beside every compressible file under `dir`, when smaller than the file; prints the sizes.
pub fn precompress(dir: &Path) -> std::io::Result<Vec<(PathBuf, u64, u64, u64)>> {
    let mut done = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        for entry in std::fs::read_dir(&folder)? {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let compressible = path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| matches!(e, "wasm" | "js" | "css" | "svg" | "html" | "json"));
            if !compressible {
                continue;
            }
            let raw = std::fs::read(&path)?;
            // Side by side: each takes seconds for the main wasm module.
            let (br, gz) = std::thread::scope(|scope| {
                let gz = scope.spawn(|| gzip_bytes(&raw));
                let br = brotli_bytes(&raw);
                let gz = gz
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                (br, gz)
            });
            let (br, gz) = (br?, gz?);
            for (ext, bytes) in [("br", &br), ("gz", &gz)] {
                let target = PathBuf::from(format!("{}.{ext}", path.display()));
                if bytes.len() < raw.len() {
                    std::fs::write(&target, bytes)?;
                } else if target.exists() {
                    std::fs::remove_file(&target)?;
                }
            }
            done.push((path, raw.len() as u64, br.len() as u64, gz.len() as u64));
        }
    }
    done.sort();
    Ok(done)
}

/// `bytes` compressed with brotli at its highest quality.
pub fn brotli_bytes(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        lgwin: 22,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params)?;
    Ok(out)
}

/// `bytes` compressed as gzip by zopfli: 5 % smaller than zlib's level 9 (the main wasm module:
/// 388 KB against 407 KB), for browsers and proxies that take gzip only. A few seconds a
/// megabyte, once per build.
pub fn gzip_bytes(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    zopfli::compress(
        zopfli::Options::default(),
        zopfli::Format::Gzip,
        bytes,
        &mut out,
    )?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_hashed_client_files_are_content_named() {
        assert!(is_content_named("/pkg/portal.3f9a1c0b2d4e5f60.wasm"));
        assert!(is_content_named("/pkg/portal.3f9a1c0b2d4e5f60.js"));
        assert!(!is_content_named("/pkg/portal.wasm"));
        assert!(!is_content_named("/pkg/portal.css"));
        assert!(!is_content_named("/favicon.svg"));
        assert!(!is_content_named("/customers.3f9a1c0b2d4e5f60.js"));
        assert!(!is_content_named("/pkg/portal.3f9a1c0b/x.js"));
    }

    #[tokio::test(start_paused = true)]
    async fn a_page_body_that_stalls_after_its_html_is_ended_with_what_was_sent() {
        use futures_util::StreamExt;
        let parts = futures_util::stream::iter([Ok::<_, std::io::Error>(
            axum::body::Bytes::from_static(b"<html>the page</html>"),
        )])
        .chain(futures_util::stream::pending());
        let body = guard_tail(
            Body::from_stream(parts),
            std::time::Duration::from_secs(5),
            "/customers".into(),
        );
        // With the clock paused, tokio moves it on when nothing else can run: no real wait.
        let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
        assert_eq!(&bytes[..], b"<html>the page</html>");
    }

    #[tokio::test(start_paused = true)]
    async fn a_page_whose_render_stalls_is_answered_503_and_others_pass() {
        let router = Router::new()
            .route(
                "/customers",
                axum::routing::get(std::future::pending::<&'static str>),
            )
            .route(
                "/customers/1",
                axum::routing::get(|| async { "<html>the page</html>" }),
            )
            .layer(axum::middleware::from_fn(end_stalled_pages));
        let get = |path: &str| Request::get(path).body(Body::empty()).unwrap();
        // With the clock paused, tokio moves it on when nothing else can run: no real wait.
        let stalled = router.clone().oneshot(get("/customers")).await.unwrap();
        assert_eq!(stalled.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(stalled.headers()[header::RETRY_AFTER], "1");
        let text = axum::body::to_bytes(stalled.into_body(), usize::MAX)
            .await
            .unwrap();
        assert!(String::from_utf8_lossy(&text).contains("Reload the page"));
        let fine = router.oneshot(get("/customers/1")).await.unwrap();
        assert_eq!(fine.status(), StatusCode::OK);
    }

    #[tokio::test]
    async fn a_page_body_that_does_not_stall_is_passed_on_whole() {
        use futures_util::StreamExt;
        let parts =
            futures_util::stream::iter(["<html>", "page", "</html>", "<script>data</script>"])
                .map(|s| Ok::<_, std::io::Error>(axum::body::Bytes::from(s)));
        let body = guard_tail(
            Body::from_stream(parts),
            std::time::Duration::from_secs(5),
            "/customers".into(),
        );
        let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
        assert_eq!(&bytes[..], b"<html>page</html><script>data</script>");
    }

    #[test]
    fn precompressed_files_decompress_to_the_original() {
        use std::io::Read;
        let dir = std::env::temp_dir().join(format!("precompress-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(dir.join("pkg")).unwrap();
        let text = "body { color: black; }\n".repeat(200);
        std::fs::write(dir.join("pkg/a.css"), &text).unwrap();
        std::fs::write(dir.join("tiny.svg"), "<svg/>").unwrap();
        std::fs::write(dir.join("photo.png"), text.as_bytes()).unwrap();
        let done = precompress(&dir).unwrap();
        assert_eq!(done.len(), 2, "{done:?}");

        let mut unbrotli = Vec::new();
        brotli::BrotliDecompress(
            &mut &std::fs::read(dir.join("pkg/a.css.br")).unwrap()[..],
            &mut unbrotli,
        )
        .unwrap();
        assert_eq!(unbrotli, text.as_bytes());
        let mut ungzip = String::new();
        flate2::read::GzDecoder::new(&std::fs::read(dir.join("pkg/a.css.gz")).unwrap()[..])
            .read_to_string(&mut ungzip)
            .unwrap();
        assert_eq!(ungzip, text);
        // A file compression would not shrink is served as it is; images are not recompressed.
        assert!(!dir.join("tiny.svg.br").exists());
        assert!(!dir.join("photo.png.br").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
