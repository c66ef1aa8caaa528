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
