//! Measuring a product image for the rules: does it decode (from memory, under limits), how
//! big is it, is it blank, and how sharp is it.
//!
//! Both measures are taken on an 8-bit luminance copy no larger than
//! [`ImageLimits::analysis_max_side`] on its long side (large photos are downscaled first,
//! which also makes the sharpness figure comparable across image sizes):
//! - **luma variance**, the variance of the grey levels (0-255). A solid or nearly solid
//!   image sits below [`BLANK_LUMA_VARIANCE`]; a standard deviation of 4 grey levels is
//!   what JPEG noise on a flat colour produces, while any real photo has far more.
//! - **blur variance**, the variance of the 4-neighbour Laplacian: edges give large values,
//!   smooth (blurred) images small ones. The reject/flag thresholds, and why, are in
//!   [`super::rules`].

use std::io::Cursor;

use image::imageops;
use image::{GrayImage, ImageReader, Limits};

/// Below this luma variance an image is blank (standard deviation under 4 grey levels).
pub const BLANK_LUMA_VARIANCE: f64 = 16.0;

/// Decode caps. Defaults: 8192×8192 pixels and 256 MiB of decoder allocations, analysis at
/// 512 px on the long side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageLimits {
    pub max_width: u32,
    pub max_height: u32,
    pub max_alloc_bytes: u64,
    pub analysis_max_side: u32,
}

impl Default for ImageLimits {
    fn default() -> Self {
        Self { max_width: 8192, max_height: 8192, max_alloc_bytes: 256 * 1024 * 1024, analysis_max_side: 512 }
    }
}

/// What the rules need to know about an image. When `decodes` is false the other numbers
/// are zero and `decode_error` says why.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageAssessment {
    pub width: u32,
    pub height: u32,
    pub format: Option<&'static str>,
    pub decodes: bool,
    pub decode_error: Option<String>,
    pub is_blank: bool,
    pub luma_variance: f64,
    pub blur_variance: f64,
}

impl ImageAssessment {
    fn undecodable(error: String, format: Option<&'static str>) -> Self {
        Self {
            width: 0,
            height: 0,
            format,
            decodes: false,
            decode_error: Some(error),
            is_blank: false,
            luma_variance: 0.0,
            blur_variance: 0.0,
        }
    }
}

/// Decodes `bytes` in memory under `limits` and measures it. Never panics; CPU-bound (run it
/// in `spawn_blocking`).
pub fn assess_image(bytes: &[u8], limits: &ImageLimits) -> ImageAssessment {
    let reader = match ImageReader::new(Cursor::new(bytes)).with_guessed_format() {
        Ok(reader) => reader,
        Err(e) => return ImageAssessment::undecodable(format!("unreadable image: {e}"), None),
    };
    let Some(format) = reader.format() else {
        return ImageAssessment::undecodable("unknown image format".to_owned(), None);
    };
    let format_name = format.extensions_str().first().copied();
    let mut reader = reader;
    let mut decode_limits = Limits::default();
    decode_limits.max_image_width = Some(limits.max_width);
    decode_limits.max_image_height = Some(limits.max_height);
    decode_limits.max_alloc = Some(limits.max_alloc_bytes);
    reader.limits(decode_limits);
    let image = match reader.decode() {
        Ok(image) => image,
        Err(e) => return ImageAssessment::undecodable(format!("image does not decode: {e}"), format_name),
    };
    let (width, height) = (image.width(), image.height());
    let luma = analysis_copy(image.into_luma8(), limits.analysis_max_side);
    let luma_variance = variance(luma.as_raw().iter().map(|&p| f64::from(p)));
    ImageAssessment {
        width,
        height,
        format: format_name,
        decodes: true,
        decode_error: None,
        is_blank: luma_variance < BLANK_LUMA_VARIANCE,
        luma_variance,
        blur_variance: laplacian_variance(&luma),
    }
}

/// Downscales so the long side is at most `max_side`.
fn analysis_copy(luma: GrayImage, max_side: u32) -> GrayImage {
    let (w, h) = luma.dimensions();
    let long = w.max(h);
    if max_side == 0 || long <= max_side {
        return luma;
    }
    let scale = f64::from(max_side) / f64::from(long);
    let nw = ((f64::from(w) * scale).round() as u32).max(1);
    let nh = ((f64::from(h) * scale).round() as u32).max(1);
    // `thumbnail` averages areas: several times faster than `resize` with any filter, and
    // area averaging is what a blur measure wants from a downscale.
    imageops::thumbnail(&luma, nw, nh)
}

/// Population variance in one pass (Welford), 0 for no samples.
fn variance(values: impl Iterator<Item = f64>) -> f64 {
    let (mut n, mut mean, mut m2) = (0u64, 0.0f64, 0.0f64);
    for x in values {
        n += 1;
        let delta = x - mean;
        mean += delta / n as f64;
        m2 += delta * (x - mean);
    }
    if n == 0 { 0.0 } else { m2 / n as f64 }
}

/// Variance of the 4-neighbour Laplacian over interior pixels; 0 for images under 3×3.
fn laplacian_variance(luma: &GrayImage) -> f64 {
    let (w, h) = luma.dimensions();
    if w < 3 || h < 3 {
        return 0.0;
    }
    let (w, h) = (w as usize, h as usize);
    let px = luma.as_raw();
    let at = |x: usize, y: usize| f64::from(px.get(y * w + x).copied().unwrap_or(0));
    variance((1..h - 1).flat_map(|y| {
        (1..w - 1).map(move |x| at(x - 1, y) + at(x + 1, y) + at(x, y - 1) + at(x, y + 1) - 4.0 * at(x, y))
    }))
}

#[cfg(test)]
pub(crate) mod test_images {
    //! Generated test images: deterministic noise, shapes, blur, encoders.
    use image::{ImageFormat, Rgb, RgbImage};

    pub fn noise(w: u32, h: u32, seed: u64) -> RgbImage {
        let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407) | 1;
        RgbImage::from_fn(w, h, |_, _| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let b = state.to_le_bytes();
            Rgb([b[0], b[1], b[2]])
        })
    }

    /// A product-like picture: a light background with a few solid shapes and thin stripes.
    pub fn shapes(w: u32, h: u32) -> RgbImage {
        RgbImage::from_fn(w, h, |x, y| {
            let (fx, fy) = (x as f32 / w as f32, y as f32 / h as f32);
            let in_circle = (fx - 0.35).powi(2) + (fy - 0.4).powi(2) < 0.04;
            let in_rect = (0.55..0.85).contains(&fx) && (0.5..0.9).contains(&fy);
            let stripe = (0.1..0.3).contains(&fy) && (x / 6) % 2 == 0 && fx > 0.6;
            if in_circle {
                Rgb([180, 40, 30])
            } else if in_rect {
                Rgb([30, 60, 160])
            } else if stripe {
                Rgb([20, 20, 20])
            } else {
                Rgb([235, 232, 225])
            }
        })
    }

    pub fn encode(img: &RgbImage, format: ImageFormat) -> Vec<u8> {
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, format).expect("encoding a test image");
        out.into_inner()
    }
}

#[cfg(test)]
mod tests {
    use super::test_images::*;
    use super::*;
    use image::{ImageFormat, Rgb, RgbImage};
    use proptest::prelude::*;

    fn assess(img: &RgbImage, format: ImageFormat) -> ImageAssessment {
        assess_image(&encode(img, format), &ImageLimits::default())
    }

    #[test]
    fn solid_colour_is_blank() {
        let a = assess(&RgbImage::from_pixel(300, 300, Rgb([250, 250, 250])), ImageFormat::Jpeg);
        assert!(a.decodes && a.is_blank, "{a:?}");
        assert_eq!((a.width, a.height, a.format), (300, 300, Some("jpg")));
    }

    #[test]
    fn noise_and_shapes_are_sharp_and_not_blank() {
        for a in [assess(&noise(300, 200, 1), ImageFormat::Png), assess(&shapes(320, 240), ImageFormat::Jpeg)] {
            assert!(a.decodes && !a.is_blank, "{a:?}");
            assert!(a.blur_variance > 200.0, "{a:?}");
        }
    }

    #[test]
    fn blurring_lowers_the_laplacian_variance_by_orders_of_magnitude() {
        let sharp = assess(&shapes(320, 240), ImageFormat::Png);
        let blurred = assess(&imageops::blur(&shapes(320, 240), 6.0), ImageFormat::Png);
        let blurred_noise = assess(&imageops::blur(&noise(300, 300, 7), 3.0), ImageFormat::Png);
        assert!(!blurred.is_blank && !blurred_noise.is_blank, "{blurred:?} {blurred_noise:?}");
        assert!(blurred.blur_variance * 100.0 < sharp.blur_variance, "{} vs {}", blurred.blur_variance, sharp.blur_variance);
        assert!(blurred.blur_variance < 6.0 && blurred_noise.blur_variance < 6.0, "{blurred:?} {blurred_noise:?}");
    }

    #[test]
    fn large_images_are_analysed_downscaled_with_similar_figures() {
        let small = assess(&noise(500, 500, 3), ImageFormat::Png);
        let large = assess(&noise(1200, 900, 3), ImageFormat::Png);
        assert_eq!((large.width, large.height), (1200, 900));
        assert!(!large.is_blank && large.blur_variance > 200.0, "{large:?}");
        assert!(small.blur_variance > 200.0);
    }

    #[test]
    fn corrupt_truncated_and_unknown_bytes_do_not_decode() {
        let mut truncated = encode(&shapes(300, 300), ImageFormat::Png);
        truncated.truncate(truncated.len() / 2);
        let mut bad_jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0];
        bad_jpeg.extend_from_slice(&[0x13; 200]);
        for bytes in [truncated, bad_jpeg, b"<html>not an image</html>".to_vec(), Vec::new()] {
            let a = assess_image(&bytes, &ImageLimits::default());
            assert!(!a.decodes && a.decode_error.is_some() && a.width == 0, "{a:?}");
        }
    }

    #[test]
    fn limits_refuse_huge_dimensions_before_decoding() {
        let limits = ImageLimits { max_width: 1000, max_height: 1000, ..ImageLimits::default() };
        let a = assess_image(&encode(&RgbImage::new(1200, 100), ImageFormat::Png), &limits);
        assert!(!a.decodes, "{a:?}");
        assert!(a.decode_error.unwrap_or_default().contains("limit"));
    }

    #[test]
    fn webp_and_gif_decode() {
        for format in [ImageFormat::WebP, ImageFormat::Gif] {
            let a = assess(&shapes(240, 200), format);
            assert!(a.decodes && (a.width, a.height) == (240, 200), "{format:?}: {a:?}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let a = assess_image(&bytes, &ImageLimits::default());
            prop_assert!(a.decodes || a.decode_error.is_some());
        }

        #[test]
        fn never_panics_on_mangled_pngs(cut in 0usize..2000, flip in 0usize..2000, w in 1u32..40, h in 1u32..40) {
            let mut bytes = encode(&noise(w, h, 9), ImageFormat::Png);
            if let Some(b) = bytes.get_mut(flip) { *b ^= 0x5a; }
            bytes.truncate(cut.max(8));
            let _ = assess_image(&bytes, &ImageLimits::default());
        }
    }
}
