//! The names of the client's files (script, wasm, stylesheet) in the site's `pkg/` folder: the
//! output name, or the output name and content hash the build listed in the hash file
//! (`js: …`, `wasm: …`, `css: …`), read once per hash file rather than at every render; with
//! content-named files, also the stylesheet's text, which the page carries inline.

use leptos::config::LeptosOptions;
use std::{
    collections::HashMap,
    sync::{Arc, Mutex, OnceLock},
};

/// File names without their extension, e.g. `portal.3f9a1c0b2d4e5f60`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientFiles {
    pub js: String,
    pub wasm: String,
    pub css: String,
    /// The stylesheet's text, put in the page's head so that the first paint needs no second
    /// request (on slow 4G that round trip is about 0.6 s, and the client's download waits for
    /// the first paint). Only with content-named files (the hash file names the stylesheet);
    /// `None`, and the stylesheet linked, otherwise or when the file cannot be read or cannot
    /// sit in a `<style>` element.
    pub css_text: Option<Arc<str>>,
    /// The client's chunks (`__wasm_split_manifest.<hash>.json`): for each lazy chunk, the
    /// files it needs. `None` when the build wrote no manifest, or it cannot be read.
    pub split: Option<SplitFiles>,
}

/// The files of the client's chunks, as the build's manifest lists them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SplitFiles {
    /// Each lazy chunk's name as its `#[lazy(…)]` gives it (`partner_chunk`; the manifest's
    /// key adds a number, of the source location) and the paths of the files it needs,
    /// space-separated (`/pkg/split_partner_chunk.<hash>.wasm /pkg/chunk_6.<hash>.wasm`), as
    /// the page's head names them for the loader.
    pub chunks: HashMap<String, Arc<str>>,
}

/// The name of the `<meta>` whose content lists the files of the page's chunk of the client.
/// The loader script preloads them beside the main module (a page's chunk would otherwise be
/// fetched only once the main module runs and the router asks for it, a round trip later);
/// without JavaScript nothing is fetched.
pub const CHUNK_META: &str = "portal-client-chunk";

/// Names, in the page's head, the files of `chunk` (a `#[lazy(…)]` name), when the build
/// split the client and the shell provided the client's files. Called by the lazy route's
/// render on the server, which is done before the head is written (leptos_meta writes the head
/// once the body's first part has rendered, and the route is in it).
pub fn announce_chunk(chunk: &str) {
    use leptos::prelude::*;
    use leptos_meta::Meta;
    let Some(files) = use_context::<Arc<ClientFiles>>() else {
        return;
    };
    let Some(content) = files
        .split
        .as_ref()
        .and_then(|split| split.chunks.get(chunk))
    else {
        tracing::warn!(
            chunk,
            "the client's manifest does not list this chunk: not preloaded"
        );
        return;
    };
    // On the server, a `leptos_meta` tag registers itself with the page's head when rendered.
    let _ = view! { <Meta name=CHUNK_META content=content.to_string() /> }.to_html();
}

/// The client's files for `options` (cached per hash file path).
pub fn client_files(options: &LeptosOptions) -> Arc<ClientFiles> {
    let name = options.output_name.to_string();
    let unhashed = || {
        Arc::new(ClientFiles {
            js: name.clone(),
            wasm: name.clone(),
            css: name.clone(),
            css_text: None,
            split: None,
        })
    };
    if !options.hash_files {
        return unhashed();
    }
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<ClientFiles>>>> = OnceLock::new();
    let path = options.hash_file.to_string();
    let mut cache = CACHE
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(files) = cache.get(&path) {
        return files.clone();
    }
    let files = match std::fs::read_to_string(&path) {
        Ok(text) => {
            let mut files = parse(&name, &text);
            let css_path = format!(
                "{}/{}/{}.css",
                options.site_root, options.site_pkg_dir, files.css
            );
            files.css_text = match std::fs::read_to_string(&css_path) {
                Ok(css) if inline_safe(&css) => Some(css.into()),
                Ok(_) => {
                    tracing::warn!(
                        css_path,
                        "the stylesheet holds `</style`: linked, not inlined"
                    );
                    None
                }
                Err(err) => {
                    tracing::error!(css_path, error = %err, "the stylesheet cannot be read: linked, not inlined");
                    None
                }
            };
            files.split = read_split(options, &text);
            Arc::new(files)
        }
        Err(err) => {
            tracing::error!(path, error = %err, "the client's hash file cannot be read");
            unhashed()
        }
    };
    cache.insert(path, files.clone());
    files
}

/// The names `hash_file` (its text) gives the files of `output_name`.
pub fn parse(output_name: &str, hash_file: &str) -> ClientFiles {
    let named = |kind: &str| {
        hash_of(hash_file, kind)
            .map(|hash| format!("{output_name}.{hash}"))
            .unwrap_or_else(|| output_name.to_string())
    };
    ClientFiles {
        js: named("js"),
        wasm: named("wasm"),
        css: named("css"),
        css_text: None,
        split: None,
    }
}

/// The hash the hash file gives files of `kind` (`js: …`, `manifest: …`).
fn hash_of<'a>(hash_file: &'a str, kind: &str) -> Option<&'a str> {
    hash_file
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(file, _)| file.trim() == kind)
        .map(|(_, hash)| hash.trim())
}

/// The chunks' manifest the hash file names (`manifest: …`, as cargo-leptos writes it), read
/// from the site's `pkg/` folder.
fn read_split(options: &LeptosOptions, hash_file: &str) -> Option<SplitFiles> {
    let manifest = hash_of(hash_file, "manifest")?;
    let path = format!(
        "{}/{}/__wasm_split_manifest.{manifest}.json",
        options.site_root, options.site_pkg_dir
    );
    let chunks: HashMap<String, Vec<String>> = match std::fs::read_to_string(&path)
        .map_err(|err| err.to_string())
        .and_then(|text| serde_json::from_str(&text).map_err(|err| err.to_string()))
    {
        Ok(chunks) => chunks,
        Err(error) => {
            tracing::error!(
                path,
                error,
                "the client's chunk manifest cannot be read: no preloads"
            );
            return None;
        }
    };
    let pkg = &options.site_pkg_dir;
    let chunks = chunks
        .into_iter()
        .map(|(key, files)| {
            let paths: Vec<String> = files
                .iter()
                .map(|file| format!("/{pkg}/{file}.wasm"))
                .collect();
            (chunk_name(&key).to_owned(), Arc::from(paths.join(" ")))
        })
        .collect();
    Some(SplitFiles { chunks })
}

/// A manifest key's chunk name: `partner_chunk_14655162319434264825` (the `#[lazy]` macro
/// adds a hash of the source location) is `partner_chunk`.
fn chunk_name(key: &str) -> &str {
    match key.rsplit_once('_') {
        Some((name, number))
            if !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()) =>
        {
            name
        }
        _ => key,
    }
}

/// Whether `css` can be the text of a `<style>` element: nothing in it may end the element.
fn inline_safe(css: &str) -> bool {
    !css.to_ascii_lowercase().contains("</style")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_file_names_each_file() {
        let files = parse(
            "portal",
            "js: 0123abcd0123abcd\nwasm:ffee0011ffee0011\n\ncss: 77\n",
        );
        assert_eq!(files.js, "portal.0123abcd0123abcd");
        assert_eq!(files.wasm, "portal.ffee0011ffee0011");
        assert_eq!(files.css, "portal.77");
        assert!(inline_safe("nav > a { color: #fff; } /* a > b */"));
        assert!(!inline_safe("a::after { content: '</STYLE>'; }"));
        let partial = parse("portal", "wasm: aa\n");
        assert_eq!(
            (partial.js.as_str(), partial.css.as_str()),
            ("portal", "portal")
        );
    }

    #[test]
    fn the_chunks_manifest_the_hash_file_names_is_read_and_a_missing_one_is_none() {
        let root = std::env::temp_dir().join(format!("portal-split-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(root.join("pkg")).unwrap();
        std::fs::write(
            root.join("pkg/__wasm_split_manifest.abcd1234abcd1234.json"),
            r#"{"configuration_chunk_14655162319434264825": ["split_configuration_chunk.abcd1234abcd1234", "chunk_6.abcd1234abcd1234"],
                "sign_in_chunk_2": ["split_sign_in_chunk.abcd1234abcd1234"]}"#,
        )
        .unwrap();
        let options = LeptosOptions::builder()
            .output_name("portal")
            .site_root(root.to_string_lossy().to_string())
            .site_pkg_dir("pkg")
            .build();
        let hashes = "js: abcd1234abcd1234\nmanifest: abcd1234abcd1234\nsplit: abcd1234abcd1234\n";
        let split = read_split(&options, hashes).expect("the manifest is read");
        assert_eq!(
            &*split.chunks["configuration_chunk"],
            "/pkg/split_configuration_chunk.abcd1234abcd1234.wasm /pkg/chunk_6.abcd1234abcd1234.wasm"
        );
        assert_eq!(
            &*split.chunks["sign_in_chunk"],
            "/pkg/split_sign_in_chunk.abcd1234abcd1234.wasm"
        );
        assert_eq!(split.chunks.len(), 2);
        assert_eq!(chunk_name("partner_chunk"), "partner_chunk");
        assert_eq!(chunk_name("partner_chunk_"), "partner_chunk_");
        // Another build's hash (its manifest is not there), or no manifest at all: no preloads.
        assert_eq!(read_split(&options, "manifest: ffff\n"), None);
        assert_eq!(read_split(&options, "js: abcd1234abcd1234\n"), None);
        std::fs::remove_dir_all(&root).unwrap();
    }
}
