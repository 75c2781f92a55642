//! Vector arithmetic of the embed stage (L2 normalisation, the weighted image+text hybrid) and the
//! storage form of a vector: little-endian f32 bytes, as stored in the database.

use super::error::EmbedError;

/// Scales `v` to unit L2 norm in place. Returns `false`, leaving `v` untouched, when that is impossible:
/// a zero vector, or any NaN or infinite component. Sums in f64 so every finite f32 input is safe.
pub fn l2_normalize(v: &mut [f32]) -> bool {
    if v.iter().any(|x| !x.is_finite()) {
        return false;
    }
    let norm = v.iter().map(|&x| f64::from(x) * f64::from(x)).sum::<f64>().sqrt();
    if norm == 0.0 || !norm.is_finite() {
        return false;
    }
    for x in v.iter_mut() {
        *x = (f64::from(*x) / norm) as f32;
    }
    true
}

/// `normalize(w_img * img + w_txt * txt)`; `None` when the lengths differ or the sum cannot be normalised.
pub fn weighted_hybrid(img: &[f32], txt: &[f32], w_img: f32, w_txt: f32) -> Option<Vec<f32>> {
    if img.len() != txt.len() {
        return None;
    }
    let mut mixed: Vec<f32> = img.iter().zip(txt).map(|(&a, &b)| w_img * a + w_txt * b).collect();
    l2_normalize(&mut mixed).then_some(mixed)
}

/// Dot product; for unit vectors this is the cosine similarity.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(&x, &y)| x * y).sum()
}

/// The L2 norm, summed in f64.
pub fn l2_norm(v: &[f32]) -> f32 {
    v.iter().map(|&x| f64::from(x) * f64::from(x)).sum::<f64>().sqrt() as f32
}

/// The storage form of a vector: each f32 as 4 little-endian bytes, in order.
pub fn vector_to_le_bytes(v: &[f32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(v.len() * 4);
    for x in v {
        out.extend_from_slice(&x.to_le_bytes());
    }
    out
}

/// Reads back [`vector_to_le_bytes`]; fails if the length is not a multiple of 4.
pub fn vector_from_le_bytes(bytes: &[u8]) -> Result<Vec<f32>, EmbedError> {
    if !bytes.len().is_multiple_of(4) {
        return Err(EmbedError::VectorBytes { len: bytes.len() });
    }
    Ok(bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_bytes_are_little_endian() {
        assert_eq!(vector_to_le_bytes(&[1.0, -2.5]), vec![0, 0, 0x80, 0x3f, 0, 0, 0x20, 0xc0]);
        assert_eq!(vector_from_le_bytes(&[0, 0, 0x80, 0x3f]).ok(), Some(vec![1.0]));
    }

    #[test]
    fn ragged_bytes_are_rejected() {
        for len in [1usize, 2, 3, 5, 7] {
            assert!(matches!(vector_from_le_bytes(&vec![0u8; len]), Err(EmbedError::VectorBytes { len: l }) if l == len));
        }
        assert_eq!(vector_from_le_bytes(&[]).ok(), Some(vec![]));
    }

    #[test]
    fn normalize_table() {
        let mut v = [3.0f32, 4.0];
        assert!(l2_normalize(&mut v));
        assert_eq!(v, [0.6, 0.8]);
        for bad in [vec![0.0f32, 0.0], vec![], vec![f32::NAN, 1.0], vec![f32::INFINITY, 0.0]] {
            let mut w = bad.clone();
            assert!(!l2_normalize(&mut w), "{bad:?} should not normalise");
            assert_eq!(format!("{w:?}"), format!("{bad:?}"), "a failed normalisation must not change the input");
        }
    }

    #[test]
    fn hybrid_of_orthogonal_units_follows_the_weights() {
        let h = weighted_hybrid(&[1.0, 0.0], &[0.0, 1.0], 0.6, 0.4).unwrap_or_default();
        let n = (0.6f32 * 0.6 + 0.4 * 0.4).sqrt();
        assert!((h[0] - 0.6 / n).abs() < 1e-6 && (h[1] - 0.4 / n).abs() < 1e-6, "{h:?}");
        assert!(weighted_hybrid(&[1.0], &[1.0, 0.0], 0.5, 0.5).is_none());
        assert!(weighted_hybrid(&[1.0, 0.0], &[-1.0, 0.0], 0.5, 0.5).is_none(), "opposite vectors cancel");
    }

    proptest! {
        #[test]
        fn bytes_round_trip_bit_exact(v in proptest::collection::vec(any::<u32>().prop_map(f32::from_bits), 0..300)) {
            let back = vector_from_le_bytes(&vector_to_le_bytes(&v)).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(back.len(), v.len());
            for (a, b) in back.iter().zip(&v) {
                prop_assert_eq!(a.to_bits(), b.to_bits());
            }
        }

        #[test]
        fn from_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let r = vector_from_le_bytes(&bytes);
            prop_assert_eq!(r.is_ok(), bytes.len() % 4 == 0);
        }

        #[test]
        fn normalized_vectors_have_unit_norm(v in proptest::collection::vec(-1e30f32..1e30f32, 1..800)) {
            let mut w = v.clone();
            if l2_normalize(&mut w) {
                prop_assert!((l2_norm(&w) - 1.0).abs() < 1e-5, "norm {}", l2_norm(&w));
            } else {
                prop_assert!(v.iter().all(|&x| x == 0.0));
            }
        }

        #[test]
        fn normalize_never_panics(v in proptest::collection::vec(any::<u32>().prop_map(f32::from_bits), 0..64)) {
            let mut w = v.clone();
            if l2_normalize(&mut w) {
                prop_assert!((l2_norm(&w) - 1.0).abs() < 1e-5);
            }
        }

        #[test]
        fn hybrid_of_units_is_unit(a in proptest::collection::vec(-1.0f32..1.0, 16), b in proptest::collection::vec(-1.0f32..1.0, 16),
                                   wi in 0.0f32..1.0, wt in 0.01f32..1.0) {
            let (mut a, mut b) = (a, b);
            prop_assume!(l2_normalize(&mut a) && l2_normalize(&mut b));
            if let Some(h) = weighted_hybrid(&a, &b, wi, wt) {
                prop_assert!((l2_norm(&h) - 1.0).abs() < 1e-5);
            }
        }
    }
}
