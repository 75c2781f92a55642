//! Embedding throughput of the embed stage, with where the time goes (image decode and resize versus
//! tokenizing versus each tower's inference). A plain timing harness (`harness = false`), not criterion:
//! a SigLIP-sized batch takes seconds, and the figures wanted are rates and shares, not distributions.
//!
//! Run: `cargo bench -p gateway --bench embed`, with
//! - `ORT_DYLIB_PATH` (or the cache of `scripts/fetch_onnxruntime.sh`);
//! - the tiny models in `EMBED_TEST_MODEL_DIR` or `<repo>/.cache/embed-test-models`
//!   (`python3 scripts/make_test_models.py .cache/embed-test-models`);
//! - optionally `EMBED_BENCH_SIGLIP_DIR`: random-weight SigLIP-base-sized models
//!   (`shared/tools/make_siglip_sized.py`), measured too when set;
//! - optionally `EMBED_BENCH_SIGLIP_INT8_DIR`: the same models quantised to int8 weights
//!   (`scripts/quantize_int8.py`), measured beside them, with the ratio of their rates and the mean
//!   cosine between the two variants' vectors of a fixed sample of 32 products;
//! - `EMBED_BENCH_SECS` (default 8) seconds per configuration, `EMBED_BENCH_BATCH` (default 16),
//!   `EMBED_BENCH_THREADS` (default: all cores) ONNX Runtime threads.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bytes::Bytes;
use gateway::pipeline::embed::{BatchTimings, EmbedConfig, EmbedInput, Embedder};
use image::{ImageFormat, Rgb, RgbImage};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn repo_root() -> Option<PathBuf> {
    [PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from(file!())]
        .iter()
        .flat_map(|p| p.ancestors().map(Path::to_path_buf).collect::<Vec<_>>())
        .find(|d| d.join("scripts/make_test_models.py").is_file())
}

/// A product-photo stand-in: smooth gradients, a few shapes and mild noise, as a JPEG of `side`².
fn product_jpeg(seed: u32, side: u32) -> Bytes {
    let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    let img = RgbImage::from_fn(side, side, |x, y| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let noise = (state % 16) as u8;
        let inside = (x as i64 - side as i64 / 2).pow(2) + (y as i64 - side as i64 / 2).pow(2) < (side as i64 / 3).pow(2);
        let base = if inside { [200u8, (seed * 37 % 255) as u8, 40] } else { [(x * 255 / side) as u8, (y * 255 / side) as u8, 180] };
        Rgb([base[0].saturating_add(noise), base[1].saturating_add(noise), base[2].saturating_sub(noise)])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    if let Err(e) = img.write_to(&mut out, ImageFormat::Jpeg) {
        panic!("encoding the benchmark image: {e}");
    }
    Bytes::from(out.into_inner())
}

fn products(count: usize, side: u32) -> Vec<EmbedInput> {
    let words = ["red", "cotton", "dress", "size", "medium", "leather", "shoes", "samsung", "phone", "original", "delivery", "available"];
    (0..count)
        .map(|i| {
            let text: Vec<&str> = (0..12).map(|k| words[(i * 7 + k * 5) % words.len()]).collect();
            EmbedInput::new(text.join(" "), Some(product_jpeg(i as u32 + 1, side)))
        })
        .collect()
}

fn pct(part: Duration, total: Duration) -> f64 {
    100.0 * part.as_secs_f64() / total.as_secs_f64().max(1e-9)
}

/// Products per second through `model_dir`'s models.
fn measure(label: &str, model_dir: &Path, config: &EmbedConfig, batch: usize, seconds: f64, side: u32) -> f64 {
    let embedder = match Embedder::load(model_dir, config.clone()) {
        Ok(e) => e,
        Err(e) => panic!("loading {}: {e}", model_dir.display()),
    };
    let items = products(batch, side);
    let image_bytes: usize = items.iter().filter_map(|i| i.image.as_ref().map(Bytes::len)).sum::<usize>() / batch;
    if let Err(e) = embedder.embed_batch_blocking(&items) {
        panic!("warm-up batch: {e}");
    }
    let mut timings = BatchTimings::default();
    let mut batches = 0usize;
    let started = Instant::now();
    while started.elapsed().as_secs_f64() < seconds || batches < 2 {
        match embedder.embed_batch_blocking(&items) {
            Ok((_, t)) => timings.add(&t),
            Err(e) => panic!("batch: {e}"),
        }
        batches += 1;
    }
    let wall = started.elapsed();
    let n = (batches * batch) as f64;
    println!(
        "{label}: dim {} batch {batch} threads {} images {side}x{side} JPEG (~{} KB): {:.1} products/s over {:.1} s \
         ({batches} batches; one product = one image + one text)",
        embedder.dim(),
        config.intra_threads,
        image_bytes / 1024,
        n / wall.as_secs_f64(),
        wall.as_secs_f64()
    );
    println!(
        "  time share: decode+resize {:.1}%, tokenize {:.1}%, vision inference {:.1}%, text inference {:.1}%, other {:.1}%",
        pct(timings.decode_resize, wall),
        pct(timings.tokenize, wall),
        pct(timings.vision_inference, wall),
        pct(timings.text_inference, wall),
        pct(wall.saturating_sub(timings.decode_resize + timings.tokenize + timings.vision_inference + timings.text_inference), wall)
    );
    println!(
        "  per item: decode+resize {:.2} ms/image; inference alone: vision {:.1} images/s, text {:.1} texts/s",
        timings.decode_resize.as_secs_f64() * 1000.0 / timings.images.max(1) as f64,
        timings.images as f64 / timings.vision_inference.as_secs_f64().max(1e-9),
        timings.texts as f64 / timings.text_inference.as_secs_f64().max(1e-9)
    );
    n / wall.as_secs_f64()
}

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| f64::from(*x) * f64::from(*y)).sum();
    let norm = |v: &[f32]| v.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    dot / (norm(a) * norm(b)).max(1e-12)
}

/// Mean cosine between the fp32 and the int8 models' vectors (image, text, hybrid) of the same
/// 32 products: how much the quantisation moves them.
fn agreement(fp32: &Path, int8: &Path, config: &EmbedConfig, side: u32) -> [f64; 3] {
    let items = products(32, side);
    let embed = |dir: &Path| match Embedder::load(dir, config.clone()).and_then(|e| e.embed_batch_blocking(&items)) {
        Ok((vectors, _)) => vectors,
        Err(e) => panic!("embedding the sample with {}: {e}", dir.display()),
    };
    let (a, b) = (embed(fp32), embed(int8));
    let mean = |pick: &dyn Fn(&gateway::pipeline::embed::Embedding) -> Option<&[f32]>| {
        let pairs: Vec<f64> = a.iter().zip(&b).filter_map(|(x, y)| Some(cosine(pick(x)?, pick(y)?))).collect();
        pairs.iter().sum::<f64>() / pairs.len().max(1) as f64
    };
    [mean(&|e| e.image.as_deref()), mean(&|e| Some(e.text.as_slice())), mean(&|e| Some(e.hybrid.as_slice()))]
}

/// `make_siglip_sized.py` writes no tokenizer: borrow the tiny one (its ids are all below 32,000)
/// through a directory of symlinks, leaving the given directory untouched.
fn with_tokenizer(dir: &Path, tiny: &Path) -> PathBuf {
    if dir.join("tokenizer.json").is_file() {
        return dir.to_path_buf();
    }
    let name = dir.file_name().map_or_else(|| "models".into(), |n| n.to_string_lossy().into_owned());
    let linked = std::env::temp_dir().join(format!("embed-bench-{}-{name}", std::process::id()));
    let made = std::fs::create_dir_all(&linked).and_then(|()| {
        for (from, name) in [(dir, "vision_model.onnx"), (dir, "text_model.onnx"), (tiny, "tokenizer.json")] {
            let target = linked.join(name);
            let _ = std::fs::remove_file(&target);
            std::os::unix::fs::symlink(from.join(name), target)?;
        }
        Ok(())
    });
    if let Err(e) = made {
        panic!("linking the SigLIP-sized models with a tokenizer in {}: {e}", linked.display());
    }
    linked
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument is not supported by this harness.
    let root = repo_root();
    let dylib = std::env::var_os("ORT_DYLIB_PATH")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| root.as_ref().map(|r| r.join(".cache/onnxruntime/1.31.1/libonnxruntime.so.1.31.1")))
        .filter(|p| p.is_file())
        .unwrap_or_else(|| panic!("ONNX Runtime not found: set ORT_DYLIB_PATH or run scripts/fetch_onnxruntime.sh"));
    let tiny = std::env::var_os("EMBED_TEST_MODEL_DIR")
        .map(PathBuf::from)
        .or_else(|| root.as_ref().map(|r| r.join(".cache/embed-test-models")))
        .filter(|d| d.join("vision_model.onnx").is_file())
        .unwrap_or_else(|| panic!("no tiny models: run python3 scripts/make_test_models.py .cache/embed-test-models"));
    let seconds: f64 = env_or("EMBED_BENCH_SECS", 8.0);
    let batch: usize = env_or("EMBED_BENCH_BATCH", 16);
    let threads: usize = env_or("EMBED_BENCH_THREADS", std::thread::available_parallelism().map_or(1, |n| n.get()));
    let config = EmbedConfig { ort_dylib_path: Some(dylib), intra_threads: threads, max_batch: batch, ..EmbedConfig::default() };

    for side in [800, 320] {
        measure("tiny test models", &tiny, &config, batch, seconds, side);
    }
    match std::env::var_os("EMBED_BENCH_SIGLIP_DIR").map(PathBuf::from) {
        Some(dir) => {
            let dir = with_tokenizer(&dir, &tiny);
            let fp32 = measure("SigLIP-base-sized random weights", &dir, &config, batch, seconds.max(20.0), 800);
            if let Some(int8_dir) = std::env::var_os("EMBED_BENCH_SIGLIP_INT8_DIR").map(PathBuf::from) {
                let int8_dir = with_tokenizer(&int8_dir, &tiny);
                let int8 = measure("SigLIP-base-sized random weights, int8", &int8_dir, &config, batch, seconds.max(20.0), 800);
                let [image, text, hybrid] = agreement(&dir, &int8_dir, &config, 800);
                println!(
                    "int8 / fp32: {:.2}x the products/s; mean cosine between their vectors of 32 products: image {image:.4}, text {text:.4}, hybrid {hybrid:.4}",
                    int8 / fp32.max(1e-9)
                );
            }
        }
        None => println!("SigLIP-sized models skipped: set EMBED_BENCH_SIGLIP_DIR (shared/tools/make_siglip_sized.py writes them)"),
    }
}
