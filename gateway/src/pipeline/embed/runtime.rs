//! ONNX Runtime plumbing: the one process-wide environment loaded from `libonnxruntime.so`
//! (`ort` load-dynamic), tower sessions checked against the SigLIP export's input and output names,
//! and a run that returns each row's `pooler_output`.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ort::environment::Environment;
use ort::session::Session;
use ort::value::{PrimitiveTensorElementType, TensorElementType, TensorRef};

use super::error::{EmbedError, Tower};
use super::image_prep::IMAGE_SIZE;
use super::text_prep::TEXT_LEN;

/// The tower output used as the embedding; `last_hidden_state` may be present too and is ignored.
pub const POOLER_OUTPUT: &str = "pooler_output";

/// ONNX Runtime holds one library per process; the environment built over it is shared by all sessions.
static ENVIRONMENT: Mutex<Option<(PathBuf, Environment)>> = Mutex::new(None);

/// The library to load: the configured path, else `ORT_DYLIB_PATH`. It must exist: loading a missing
/// library later would make `ort` panic, so absence is reported here instead.
pub fn resolve_dylib_path(configured: Option<&Path>) -> Result<PathBuf, EmbedError> {
    let path = match configured {
        Some(p) => p.to_path_buf(),
        None => match std::env::var_os("ORT_DYLIB_PATH") {
            Some(v) if !v.is_empty() => PathBuf::from(v),
            _ => {
                return Err(EmbedError::RuntimeNotFound {
                    reason: "ORT_DYLIB_PATH is not set and no library path is configured".to_owned(),
                });
            }
        },
    };
    if !path.is_file() {
        return Err(EmbedError::RuntimeNotFound { reason: format!("{} does not exist", path.display()) });
    }
    Ok(path)
}

/// Loads ONNX Runtime once per process and returns its environment. Later calls reuse it; asking for
/// another library path then only logs a warning, because a process cannot hold two runtimes.
pub fn environment(configured: Option<&Path>) -> Result<Environment, EmbedError> {
    let mut slot = ENVIRONMENT.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((loaded, env)) = slot.as_ref() {
        if let Some(wanted) = configured.filter(|p| *p != loaded.as_path()) {
            tracing::warn!(loaded = %loaded.display(), wanted = %wanted.display(), "ONNX Runtime is already loaded; keeping the first library");
        }
        return Ok(env.clone());
    }
    let path = resolve_dylib_path(configured)?;
    let load_err = |reason: String| EmbedError::RuntimeLoad { path: path.clone(), reason };
    let env = ort::init_from(&path)
        .map_err(|e| load_err(e.to_string()))?
        .with_name("soko-embed")
        .build()
        .map_err(|e| load_err(e.to_string()))?;
    tracing::info!(library = %path.display(), "ONNX Runtime loaded");
    *slot = Some((path, env.clone()));
    Ok(env)
}

/// Opens one tower and checks its inputs and outputs against the SigLIP export.
pub fn open_tower(env: &Environment, tower: Tower, path: &Path, intra_threads: usize) -> Result<Session, EmbedError> {
    let session_err = |source: ort::Error| EmbedError::Session { tower, source };
    let session = Session::builder(env)
        .map_err(session_err)?
        .with_intra_threads(intra_threads)
        .map_err(|e| session_err(e.into()))?
        .with_inter_threads(1)
        .map_err(|e| session_err(e.into()))?
        .commit_from_file(path)
        .map_err(session_err)?;
    check_io(tower, &session)?;
    Ok(session)
}

fn expected_input(tower: Tower) -> (&'static str, TensorElementType, Vec<i64>) {
    match tower {
        Tower::Vision => ("pixel_values", TensorElementType::Float32, vec![-1, 3, i64::from(IMAGE_SIZE), i64::from(IMAGE_SIZE)]),
        Tower::Text => ("input_ids", TensorElementType::Int64, vec![-1, TEXT_LEN as i64]),
    }
}

/// Names, element types and fixed dimensions must match, so a wrong export fails at start-up, by name.
pub fn check_io(tower: Tower, session: &Session) -> Result<(), EmbedError> {
    let problem = |problem: String| EmbedError::ModelIo { tower, problem };
    let (name, dtype, dims) = expected_input(tower);
    let inputs: Vec<&str> = session.inputs().iter().map(|o| o.name()).collect();
    let Some(input) = session.inputs().iter().find(|o| o.name() == name) else {
        return Err(problem(format!("input `{name}` is missing (the model's inputs: {inputs:?})")));
    };
    if let Some(extra) = inputs.iter().find(|n| **n != name) {
        return Err(problem(format!("unexpected input `{extra}`: the SigLIP export takes only `{name}`")));
    }
    if input.dtype().tensor_type() != Some(dtype) {
        return Err(problem(format!("input `{name}` is {:?}, expected a {dtype:?} tensor", input.dtype())));
    }
    let shape: &[i64] = input.dtype().tensor_shape().map(|s| &**s).unwrap_or(&[]);
    let fits = shape.len() == dims.len() && shape.iter().zip(&dims).all(|(&got, &want)| want < 0 || got < 0 || got == want);
    if !fits {
        return Err(problem(format!("input `{name}` has shape {shape:?}, expected {dims:?} (-1: any)")));
    }
    let outputs: Vec<&str> = session.outputs().iter().map(|o| o.name()).collect();
    let Some(output) = session.outputs().iter().find(|o| o.name() == POOLER_OUTPUT) else {
        return Err(problem(format!("output `{POOLER_OUTPUT}` is missing (the model's outputs: {outputs:?})")));
    };
    if output.dtype().tensor_type() != Some(TensorElementType::Float32) {
        return Err(problem(format!("output `{POOLER_OUTPUT}` is {:?}, expected Float32", output.dtype())));
    }
    Ok(())
}

/// Runs a tower on a batch of `rows` inputs laid out row after row in `data`, and returns the
/// `pooler_output` rows (`rows × dim` values, not yet normalised) and `dim`.
pub fn run_pooled<T: PrimitiveTensorElementType + Clone + std::fmt::Debug + 'static>(
    session: &mut Session,
    tower: Tower,
    rows: usize,
    data: &[T],
) -> Result<(Vec<f32>, usize), EmbedError> {
    let (name, _, dims) = expected_input(tower);
    let mut shape: Vec<usize> = dims.iter().map(|&d| usize::try_from(d).unwrap_or(0)).collect();
    shape[0] = rows;
    let infer_err = |source: ort::Error| EmbedError::Inference { tower, source };
    let input = TensorRef::from_array_view((shape, data)).map_err(infer_err)?;
    let outputs = session.run(ort::inputs![name => input]).map_err(infer_err)?;
    let bad = |problem: String| EmbedError::BadOutput { tower, problem };
    let pooled = outputs.get(POOLER_OUTPUT).ok_or_else(|| bad(format!("no `{POOLER_OUTPUT}`")))?;
    let (out_shape, values) = pooled.try_extract_tensor::<f32>().map_err(infer_err)?;
    let dim = match **out_shape {
        [n, d] if n == rows as i64 && d > 0 => d as usize,
        _ => return Err(bad(format!("`{POOLER_OUTPUT}` of shape {:?} for {rows} inputs", &**out_shape))),
    };
    if values.len() != rows * dim {
        return Err(bad(format!("{} values for a {rows}×{dim} `{POOLER_OUTPUT}`", values.len())));
    }
    Ok((values.to_vec(), dim))
}
