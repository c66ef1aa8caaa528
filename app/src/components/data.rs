//! Resources for a page's data. The server writes each resource's value into the page as JSON;
//! the client reads it back with `serde_json::from_slice`, the reader its server functions use
//! for their answers. Leptos's default resource codec reads with `from_str` instead, so every
//! type a page loads had its JSON reader compiled into the client twice (once per reader).

use leptos::prelude::*;
use leptos::server::codee::{Decoder, Encoder};
use serde::{de::DeserializeOwned, Serialize};

/// JSON, read back from bytes (see the module's text).
pub struct Json;

impl<T: Serialize> Encoder<T> for Json {
    type Error = serde_json::Error;
    type Encoded = String;

    fn encode(value: &T) -> Result<String, serde_json::Error> {
        serde_json::to_string(value)
    }
}

impl<T: DeserializeOwned> Decoder<T> for Json {
    type Error = serde_json::Error;
    type Encoded = str;

    fn decode(text: &str) -> Result<T, serde_json::Error> {
        serde_json::from_slice(text.as_bytes())
    }
}

/// A page's data, loaded on the server and carried to the client in the page.
pub type Data<T> = Resource<T, Json>;

/// `Resource::new` with the [`Json`] codec: `fetch` runs with `source`'s value now and again
/// whenever that value changes.
#[track_caller]
pub fn data<S, T, Fut>(
    source: impl Fn() -> S + Send + Sync + 'static,
    fetch: impl Fn(S) -> Fut + Send + Sync + 'static,
) -> Data<T>
where
    S: Send + Sync + Clone + PartialEq + 'static,
    T: Serialize + DeserializeOwned + Send + Sync + 'static,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    Resource::new_with_options(source, fetch, false)
}

/// `data`'s value, for a `Suspend` inside a `<Transition>` or `<Suspense>` that builds a large
/// view from it. On the server it lets one poll go by before the caller builds its view: when
/// the data have arrived, Leptos (0.8) walks the boundary's children once more to find
/// resources read further down, and a `Suspend` whose future completes at that one poll builds
/// its whole view there, only for that view to be dropped and built again for the page. A
/// future still pending then is built once, for the page. In the browser nothing waits:
/// hydration needs the view at once.
pub async fn loaded<T>(data: Data<T>) -> T
where
    T: Clone + Serialize + DeserializeOwned + Send + Sync + 'static,
{
    let value = data.await;
    #[cfg(feature = "ssr")]
    tokio::task::yield_now().await;
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_reads_back_as_written() {
        let value: Result<Vec<(i64, String)>, String> =
            Ok(vec![(1, "Contoso \u{e9} \"q\"".into())]);
        let text = <Json as Encoder<_>>::encode(&value).unwrap();
        let back: Result<Vec<(i64, String)>, String> = <Json as Decoder<_>>::decode(&text).unwrap();
        assert_eq!(back, value);
        assert!(<Json as Decoder<Vec<i64>>>::decode("[1,").is_err());
    }
}

#[cfg(all(test, feature = "ssr"))]
mod server_tests {
    use super::*;
    use futures_util::FutureExt;

    /// On the server the first poll of `loaded` is pending even when the data are there, so the
    /// walk Leptos makes with one poll when a boundary's data arrive builds no view.
    #[tokio::test]
    async fn on_the_server_loaded_data_wait_one_poll() {
        let _ = any_spawner::Executor::init_tokio();
        let owner = Owner::new();
        owner.set();
        let value: Data<i32> = data(|| (), |_| async { 7 });
        assert_eq!(value.await, 7);
        let mut waiting = Box::pin(loaded(value));
        assert_eq!(waiting.as_mut().now_or_never(), None);
        assert_eq!(waiting.await, 7);
    }
}
