//! Tests of the whole engine on the real ONNX Runtime with the tiny models of
//! `scripts/make_test_models.py`.
//!
//! Models: `EMBED_TEST_MODEL_DIR` if set, else `<repo>/.cache/embed-test-models`, generated on first use
//! with `$EMBED_TEST_PYTHON` (else `<repo>/.venv/bin/python`, else `python3`), which needs the PyPI
//! packages `onnx==1.23.2` and `tokenizers`.
//! Runtime: `ORT_DYLIB_PATH` if set, else the cache of `scripts/fetch_onnxruntime.sh`.
//! Either missing makes these tests fail, saying what to run: they never pass without running a model.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use bytes::Bytes;
use image::{ImageFormat, Rgb, RgbImage};

use super::image_prep::tests::{encode, solid};
use super::*;

const ORT_CACHE_LIB: &str = ".cache/onnxruntime/1.31.1/libonnxruntime.so.1.31.1";

pub(super) fn repo_root() -> PathBuf {
    let starts = [PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from(file!())];
    starts
        .iter()
        .flat_map(|p| p.ancestors().map(Path::to_path_buf).collect::<Vec<_>>())
        .find(|dir| dir.join("scripts/make_test_models.py").is_file())
        .expect("cannot find the repository root (a directory with scripts/make_test_models.py) above CARGO_MANIFEST_DIR or this file")
}

pub(super) fn python(root: &Path) -> PathBuf {
    if let Some(p) = std::env::var_os("EMBED_TEST_PYTHON") {
        return PathBuf::from(p);
    }
    let venv = root.join(".venv/bin/python");
    if venv.is_file() { venv } else { PathBuf::from("python3") }
}

fn generate_models(dir: &Path, extra_args: &[&str]) -> Result<(), String> {
    let root = repo_root();
    let py = python(&root);
    let output = Command::new(&py)
        .arg(root.join("scripts/make_test_models.py"))
        .arg(dir)
        .args(extra_args)
        .output()
        .map_err(|e| format!("running {}: {e}", py.display()))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "scripts/make_test_models.py failed with {} (it needs `pip install onnx==1.23.2 tokenizers`; set EMBED_TEST_PYTHON to a python that has them): {}",
            py.display(),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

fn has_models(dir: &Path) -> bool {
    [VISION_MODEL_FILE, TEXT_MODEL_FILE, TOKENIZER_FILE].iter().all(|f| dir.join(f).is_file())
}

/// The tiny model directory, generated once per process when absent.
pub(super) fn model_dir() -> &'static Path {
    static DIR: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        if let Some(dir) = std::env::var_os("EMBED_TEST_MODEL_DIR").map(PathBuf::from) {
            return if has_models(&dir) {
                Ok(dir)
            } else {
                Err(format!("EMBED_TEST_MODEL_DIR={} lacks vision_model.onnx, text_model.onnx or tokenizer.json", dir.display()))
            };
        }
        let dir = repo_root().join(".cache/embed-test-models");
        if !has_models(&dir) {
            generate_models(&dir, &[])?;
        }
        Ok(dir)
    });
    match dir {
        Ok(dir) => dir,
        Err(e) => panic!("no test models: {e}"),
    }
}

fn dylib() -> PathBuf {
    if let Some(p) = std::env::var_os("ORT_DYLIB_PATH").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        assert!(p.is_file(), "ORT_DYLIB_PATH={} does not exist; run scripts/fetch_onnxruntime.sh", p.display());
        return p;
    }
    let cached = repo_root().join(ORT_CACHE_LIB);
    assert!(
        cached.is_file(),
        "ONNX Runtime not found: ORT_DYLIB_PATH is unset and {} is missing. Run scripts/fetch_onnxruntime.sh (or export ORT_DYLIB_PATH=$(scripts/fetch_onnxruntime.sh))",
        cached.display()
    );
    cached
}

pub(super) fn config() -> EmbedConfig {
    EmbedConfig { ort_dylib_path: Some(dylib()), intra_threads: 1, ..EmbedConfig::default() }
}

fn load(config: EmbedConfig) -> Embedder {
    match Embedder::load(model_dir(), config) {
        Ok(e) => e,
        Err(e) => panic!("loading the tiny models: {e}"),
    }
}

pub(super) fn png(img: &RgbImage) -> Bytes {
    Bytes::from(encode(img, ImageFormat::Png))
}

pub(super) fn gradient(seed: u8) -> RgbImage {
    RgbImage::from_fn(97, 61, |x, y| Rgb([(x as u8).wrapping_mul(seed), (y as u8).wrapping_mul(3), seed]))
}

fn assert_unit(v: &[f32], what: &str) {
    assert!((l2_norm(v) - 1.0).abs() < 1e-5, "{what}: norm {}", l2_norm(v));
}

pub(super) fn run(embedder: &Embedder, items: &[EmbedInput]) -> Vec<Embedding> {
    match embedder.embed_batch_blocking(items) {
        Ok((out, _)) => out,
        Err(e) => panic!("embedding: {e}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_gives_unit_vectors_with_the_weights_used() {
    let embedder = load(config());
    assert!(embedder.dim() > 0);
    let items = vec![
        EmbedInput::new("red cotton dress", Some(png(&solid(40, 40, [200, 10, 10])))),
        EmbedInput::new("leather shoes", Some(Bytes::from(encode(&gradient(5), ImageFormat::Jpeg)))),
        EmbedInput::text_only("samsung phone charger"),
    ];
    let (out, timings) = embedder.embed_batch_timed(items).await.expect("embed_batch");
    assert_eq!(out.len(), 3);
    assert_eq!((timings.images, timings.texts), (2, 3));
    for (i, e) in out.iter().enumerate() {
        assert_eq!(e.dim, embedder.dim());
        assert_eq!((e.text.len(), e.hybrid.len()), (e.dim, e.dim));
        assert_unit(&e.text, "text");
        assert_unit(&e.hybrid, "hybrid");
        if i < 2 {
            let img = e.image.as_deref().expect("image vector");
            assert_unit(img, "image");
            assert_eq!((e.image_weight, e.text_weight, &e.image_status), (0.6, 0.4, &ImageStatus::Embedded));
            let expected = weighted_hybrid(img, &e.text, 0.6, 0.4).expect("hybrid");
            assert!(e.hybrid.iter().zip(&expected).all(|(a, b)| (a - b).abs() < 1e-6));
            assert!(dot(&e.hybrid, img) > 0.0 && dot(&e.hybrid, &e.text) > 0.0);
        }
    }
    let text_only = &out[2];
    assert!(text_only.is_text_only());
    assert_eq!((text_only.image_weight, text_only.text_weight, &text_only.image_status), (0.0, 1.0, &ImageStatus::Missing));
    assert_eq!(text_only.hybrid, text_only.text);
}

#[test]
fn output_is_deterministic_and_independent_of_batching() {
    let embedder = load(config());
    let items: Vec<EmbedInput> = (0..5u8)
        .map(|i| EmbedInput::new(format!("blue denim jeans size {i}"), Some(png(&gradient(i * 40 + 1)))))
        .collect();
    let first = run(&embedder, &items);
    let again = run(&embedder, &items);
    assert_eq!(first, again, "same input, same process: identical vectors");
    let reloaded = run(&load(config()), &items);
    assert_eq!(first, reloaded, "a second load gives identical vectors");
    let chunked = run(&load(EmbedConfig { max_batch: 2, ..config() }), &items);
    let alone = run(&embedder, &items[3..4]);
    for (a, b) in first.iter().zip(&chunked).chain(std::iter::once((&first[3], &alone[0]))) {
        assert!(a.hybrid.iter().zip(&b.hybrid).all(|(x, y)| (x - y).abs() < 1e-5), "batching changed a vector");
    }
}

#[test]
fn different_inputs_give_different_vectors() {
    let embedder = load(config());
    let out = run(
        &embedder,
        &[
            EmbedInput::new("red dress", Some(png(&solid(30, 30, [220, 20, 20])))),
            EmbedInput::new("red dress", Some(png(&solid(30, 30, [20, 20, 220])))),
            EmbedInput::new("red dress", Some(png(&gradient(7)))),
            EmbedInput::new("kitchen blender", Some(png(&gradient(7)))),
        ],
    );
    let image = |i: usize| out[i].image.clone().expect("image vector");
    for (a, b) in [(0, 1), (0, 2), (1, 2)] {
        assert!(dot(&image(a), &image(b)) < 0.999, "images {a} and {b} gave the same vector");
    }
    assert_eq!(image(2), image(3), "the same image gives the same image vector");
    assert_eq!(out[0].text, out[1].text, "the same text gives the same text vector");
    assert!(dot(&out[2].text, &out[3].text) < 0.999, "different texts gave the same vector");
    assert!(dot(&out[2].hybrid, &out[3].hybrid) < 0.9999);
}

#[test]
fn rejected_images_give_flagged_text_only_embeddings() {
    let limits = ImageLimits { max_bytes: 2_000, ..ImageLimits::default() };
    let embedder = load(EmbedConfig { image_limits: limits, ..config() });
    let noisy = RgbImage::from_fn(200, 200, |x, y| Rgb([(x * y) as u8, (x ^ y) as u8, (x + 3 * y) as u8]));
    let out = run(
        &embedder,
        &[
            EmbedInput::new("watch", Some(Bytes::from_static(b"<html>not an image</html>"))),
            EmbedInput::new("watch", Some(png(&noisy))),
            EmbedInput::new("watch", Some(Bytes::new())),
            EmbedInput::new("watch", Some(png(&solid(8, 8, [1, 2, 3])))),
        ],
    );
    assert!(matches!(out[0].image_status, ImageStatus::Rejected(ImageRejection::UnsupportedFormat(_))), "{:?}", out[0].image_status);
    assert!(matches!(out[1].image_status, ImageStatus::Rejected(ImageRejection::TooManyBytes { limit: 2_000, .. })), "{:?}", out[1].image_status);
    assert!(matches!(out[2].image_status, ImageStatus::Rejected(ImageRejection::Empty)));
    for e in &out[..3] {
        assert!(e.is_text_only());
        assert_eq!((e.image_weight, e.text_weight), (0.0, 1.0));
        assert_eq!(e.hybrid, out[0].text);
    }
    assert_eq!(out[3].image_status, ImageStatus::Embedded);
}

#[test]
fn generated_tokenizer_pads_to_64_with_id_1() {
    let tok = TextTokenizer::from_file(&model_dir().join(TOKENIZER_FILE)).expect("tokenizer");
    assert_eq!((tok.token_to_id("<pad>"), tok.token_to_id("</s>"), tok.token_to_id("<unk>")), (Some(0), Some(1), Some(2)));
    let id = |w: &str| i64::from(tok.token_to_id(w).expect(w));
    let mut expected = vec![id("red"), id("cotton"), id("dress"), 2, 1];
    expected.resize(TEXT_LEN, 1);
    assert_eq!(tok.encode("Red cotton DRESS zzz").expect("encode"), expected);
    let long = tok.encode(&"phone ".repeat(200)).expect("encode");
    assert_eq!(long.len(), TEXT_LEN);
    assert!(long[..63].iter().all(|&i| i == id("phone")) && long[63] == 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_batches_share_a_bounded_pool() {
    let embedder = load(EmbedConfig { sessions: 2, ..config() });
    let batch = |k: u8| -> Vec<EmbedInput> {
        (0..3u8).map(|i| EmbedInput::new(format!("bag {k} {i}"), Some(png(&gradient(k * 3 + i + 1))))).collect()
    };
    let expected: Vec<Vec<Embedding>> = (0..8u8).map(|k| run(&embedder, &batch(k))).collect();
    let tasks: Vec<_> = (0..8u8)
        .map(|k| {
            let e = embedder.clone();
            let items = batch(k);
            tokio::spawn(async move { e.embed_batch(items).await })
        })
        .collect();
    for (k, task) in tasks.into_iter().enumerate() {
        let got = task.await.expect("join").expect("embed_batch");
        assert_eq!(got, expected[k], "batch {k} differs when run concurrently");
    }
    assert_eq!(embedder.inner.permits.available_permits(), 2, "every permit came back");
    assert_eq!(embedder.embed_batch(Vec::new()).await.expect("empty batch").len(), 0);
}

#[test]
fn missing_files_are_named() {
    let dir = std::env::temp_dir().join(format!("embed-missing-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let err = Embedder::load(&dir, config()).expect_err("empty dir must fail");
    assert!(matches!(&err, EmbedError::MissingModelFile { path } if path.ends_with(VISION_MODEL_FILE)), "{err}");
    std::fs::copy(model_dir().join(VISION_MODEL_FILE), dir.join(VISION_MODEL_FILE)).expect("copy");
    std::fs::create_dir_all(dir.join("onnx")).expect("onnx dir");
    std::fs::copy(model_dir().join(TEXT_MODEL_FILE), dir.join("onnx").join(TEXT_MODEL_FILE)).expect("copy");
    let err = Embedder::load(&dir, config()).expect_err("no tokenizer must fail");
    assert!(matches!(&err, EmbedError::MissingModelFile { path } if path.ends_with(TOKENIZER_FILE)), "{err}");
    assert!(err.to_string().contains("EMBED_MODEL_DIR"), "{err}");
    std::fs::copy(model_dir().join(TOKENIZER_FILE), dir.join(TOKENIZER_FILE)).expect("copy");
    assert!(Embedder::load(&dir, config()).is_ok(), "text_model.onnx under onnx/ is found, as the export lays it out");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn wrong_io_names_are_reported_by_name() {
    for (rename, tower, name) in [("pixel_values=image", Tower::Vision, "pixel_values"), ("pooler_output=embeds", Tower::Vision, "pooler_output"), ("input_ids=ids", Tower::Text, "input_ids")] {
        let dir = std::env::temp_dir().join(format!("embed-io-{}-{}", std::process::id(), name));
        generate_models(&dir, &["--rename", rename]).unwrap_or_else(|e| panic!("{e}"));
        let err = Embedder::load(&dir, config()).expect_err("a renamed IO must fail");
        match &err {
            EmbedError::ModelIo { tower: t, problem } => {
                assert!(*t == tower && problem.contains(name), "{err}");
            }
            other => panic!("expected ModelIo, got {other}"),
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn runtime_absence_names_the_variable_and_the_script() {
    let err = resolve_dylib_path(Some(Path::new("/nonexistent/libonnxruntime.so"))).expect_err("missing library");
    let message = err.to_string();
    assert!(matches!(err, EmbedError::RuntimeNotFound { .. }));
    assert!(message.contains("ORT_DYLIB_PATH") && message.contains("scripts/fetch_onnxruntime.sh"), "{message}");
    assert!(resolve_dylib_path(Some(&dylib())).is_ok());
}

#[test]
fn invalid_configs_are_refused_before_loading() {
    for bad in [
        EmbedConfig { image_weight: -0.1, ..config() },
        EmbedConfig { text_weight: 0.0, ..config() },
        EmbedConfig { image_weight: f32::NAN, ..config() },
        EmbedConfig { sessions: 0, ..config() },
        EmbedConfig { max_batch: 0, ..config() },
    ] {
        assert!(matches!(Embedder::load(model_dir(), bad), Err(EmbedError::InvalidConfig(_))));
    }
}

#[test]
fn stored_bytes_round_trip_real_embeddings() {
    let out = run(&load(config()), &[EmbedInput::new("silk skirt", Some(png(&gradient(9))))]);
    let e = &out[0];
    for v in [e.image.as_deref().expect("image"), &e.text, &e.hybrid] {
        let bytes = vector_to_le_bytes(v);
        assert_eq!(bytes.len(), 4 * e.dim);
        assert_eq!(vector_from_le_bytes(&bytes).expect("decode"), v);
    }
}
