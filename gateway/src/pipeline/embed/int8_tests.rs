//! The int8 option (issue 17): `scripts/quantize_int8.py` turns the tiny test models into int8-weight
//! copies, and the engine loads them like the fp32 export, with vectors of the same width that stay
//! close to the fp32 ones. Needs the PyPI `onnxruntime` package beside `onnx`
//! (`scripts/setup-test-env.sh` installs it); without it the test fails saying so.

use std::process::Command;

use super::engine_tests::{config, gradient, model_dir, png, python, repo_root, run};
use super::*;

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    dot / (l2_norm(a) * l2_norm(b)).max(1e-12)
}

#[test]
fn int8_copies_load_and_give_vectors_close_to_fp32() {
    let root = repo_root();
    let out = tempfile::tempdir().expect("temp dir");
    let int8_dir = out.path().join("tiny-int8");
    let py = python(&root);
    let output = Command::new(&py)
        .arg(root.join("scripts/quantize_int8.py"))
        .arg(model_dir())
        .arg(&int8_dir)
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", py.display()));
    assert!(
        output.status.success(),
        "scripts/quantize_int8.py failed (it needs `pip install onnxruntime==1.31.1`): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    for file in [VISION_MODEL_FILE, TEXT_MODEL_FILE] {
        let (fp32, int8) = (std::fs::metadata(model_dir().join(file)), std::fs::metadata(int8_dir.join(file)));
        let (fp32, int8) = (fp32.expect("fp32 model").len(), int8.expect("int8 model").len());
        assert!(int8 < fp32, "{file}: int8 {int8} bytes is not smaller than fp32 {fp32}");
    }
    assert!(int8_dir.join(TOKENIZER_FILE).is_file(), "the tokenizer is copied beside the models");

    let items: Vec<EmbedInput> = (1..=8u8)
        .map(|i| EmbedInput::new(format!("red cotton dress size {i} delivery available"), Some(png(&gradient(i * 29)))))
        .collect();
    let fp32 = run(&Embedder::load(model_dir(), config()).expect("fp32 models load"), &items);
    let int8 = run(&Embedder::load(&int8_dir, config()).expect("int8 models load"), &items);
    assert_eq!(fp32.len(), int8.len());
    let mut worst = 1.0f32;
    for (a, b) in fp32.iter().zip(&int8) {
        assert_eq!((a.text.len(), a.hybrid.len()), (b.text.len(), b.hybrid.len()), "same widths");
        let (ai, bi) = (a.image.as_deref().expect("fp32 image vector"), b.image.as_deref().expect("int8 image vector"));
        for (x, y) in [(ai, bi), (a.text.as_slice(), b.text.as_slice()), (a.hybrid.as_slice(), b.hybrid.as_slice())] {
            assert!((l2_norm(y) - 1.0).abs() < 1e-4, "int8 vectors are unit vectors");
            worst = worst.min(cosine(x, y));
        }
    }
    eprintln!("worst cosine between the fp32 and int8 vectors of 8 products: {worst:.4}");
    assert!(worst > 0.99, "int8 vectors drifted from fp32: worst cosine {worst:.4}");
    // The variants differ: the int8 copy is not the fp32 model under another name.
    assert!(fp32.iter().zip(&int8).any(|(a, b)| a.text != b.text), "int8 weights gave bit-identical vectors");
}
