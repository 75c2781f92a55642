//! The vision tower's input: image bytes (already in memory) decoded under limits, resized to 224×224
//! bicubic, scaled to [-1, 1] (rescale 1/255, mean 0.5, std 0.5, as SigLIP's image processor) in NCHW.
//! Nothing here touches the disk.

use std::io::Cursor;

use fast_image_resize as fr;
use image::{ImageError, ImageFormat, ImageReader, RgbImage, imageops::FilterType};

use super::error::ImageRejection;

/// Side of the square SigLIP-base input.
pub const IMAGE_SIZE: u32 = 224;
/// f32 values per preprocessed image: 3 channels × 224 × 224.
pub const VALUES_PER_IMAGE: usize = 3 * (IMAGE_SIZE as usize) * (IMAGE_SIZE as usize);

/// Caps applied before and during decoding, so a hostile file cannot exhaust memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageLimits {
    /// Largest accepted encoded size.
    pub max_bytes: usize,
    pub max_width: u32,
    pub max_height: u32,
    /// Largest buffer the decoder may allocate.
    pub max_alloc: u64,
}

impl Default for ImageLimits {
    fn default() -> Self {
        Self { max_bytes: 10 * 1024 * 1024, max_width: 8192, max_height: 8192, max_alloc: 256 * 1024 * 1024 }
    }
}

/// Formats WhatsApp and Meta's CDN serve; anything else is rejected even if the decoder could read it.
const ACCEPTED_FORMATS: [ImageFormat; 4] = [ImageFormat::Jpeg, ImageFormat::Png, ImageFormat::WebP, ImageFormat::Gif];

/// Decodes `bytes` (first frame of an animation) to 8-bit RGB. Alpha is dropped, as PIL's `convert("RGB")`.
pub fn decode_rgb(bytes: &[u8], limits: &ImageLimits) -> Result<RgbImage, ImageRejection> {
    if bytes.is_empty() {
        return Err(ImageRejection::Empty);
    }
    if bytes.len() > limits.max_bytes {
        return Err(ImageRejection::TooManyBytes { bytes: bytes.len(), limit: limits.max_bytes });
    }
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| ImageRejection::Undecodable(e.to_string()))?;
    match reader.format() {
        Some(format) if ACCEPTED_FORMATS.contains(&format) => {}
        Some(other) => return Err(ImageRejection::UnsupportedFormat(format!("{other:?}"))),
        None => return Err(ImageRejection::UnsupportedFormat("unrecognised".to_owned())),
    }
    let mut decode_limits = image::Limits::default();
    decode_limits.max_image_width = Some(limits.max_width);
    decode_limits.max_image_height = Some(limits.max_height);
    decode_limits.max_alloc = Some(limits.max_alloc);
    reader.limits(decode_limits);
    let decoded = reader.decode().map_err(|e| match e {
        ImageError::Limits(l) => ImageRejection::ExceedsLimits(l.to_string()),
        ImageError::Unsupported(u) => ImageRejection::UnsupportedFormat(u.to_string()),
        other => ImageRejection::Undecodable(other.to_string()),
    })?;
    if decoded.width() == 0 || decoded.height() == 0 {
        return Err(ImageRejection::Empty);
    }
    Ok(decoded.to_rgb8())
}

/// Resizes to 224×224 with Catmull-Rom, the bicubic kernel PIL uses (a = -0.5), without keeping the
/// aspect ratio: SigLIP's processor resizes straight to the square, with no crop.
///
/// `fast_image_resize` does the work: it follows Pillow's convolution and is several times faster
/// than `image::imageops::resize`, which is kept only as a fallback that cannot be reached in practice.
pub fn resize_to_model(rgb: &RgbImage) -> RgbImage {
    if rgb.dimensions() == (IMAGE_SIZE, IMAGE_SIZE) {
        return rgb.clone();
    }
    let (width, height) = rgb.dimensions();
    let resized = fr::images::ImageRef::new(width, height, rgb.as_raw(), fr::PixelType::U8x3).ok().and_then(|src| {
        let mut dst = fr::images::Image::new(IMAGE_SIZE, IMAGE_SIZE, fr::PixelType::U8x3);
        let options = fr::ResizeOptions::new().resize_alg(fr::ResizeAlg::Convolution(fr::FilterType::CatmullRom));
        fr::Resizer::new().resize(&src, &mut dst, &options).ok()?;
        RgbImage::from_raw(IMAGE_SIZE, IMAGE_SIZE, dst.into_vec())
    });
    resized.unwrap_or_else(|| image::imageops::resize(rgb, IMAGE_SIZE, IMAGE_SIZE, FilterType::CatmullRom))
}

/// The model value of an 8-bit channel value: `(v / 255 - 0.5) / 0.5`.
pub fn channel_value(v: u8) -> f32 {
    (f32::from(v) / 255.0 - 0.5) / 0.5
}

/// Writes a 224×224 image into `out` (length [`VALUES_PER_IMAGE`]) as planar R, G, B.
pub fn write_nchw(rgb: &RgbImage, out: &mut [f32]) {
    let lut: [f32; 256] = std::array::from_fn(|v| channel_value(v as u8));
    let plane = (IMAGE_SIZE * IMAGE_SIZE) as usize;
    for (i, px) in rgb.pixels().take(plane).enumerate() {
        for c in 0..3 {
            if let Some(slot) = out.get_mut(c * plane + i) {
                *slot = lut[usize::from(px.0[c])];
            }
        }
    }
}

/// The whole image path for one image: decode, resize, scale, NCHW.
pub fn preprocess_image(bytes: &[u8], limits: &ImageLimits) -> Result<Vec<f32>, ImageRejection> {
    let rgb = resize_to_model(&decode_rgb(bytes, limits)?);
    let mut out = vec![0.0f32; VALUES_PER_IMAGE];
    write_nchw(&rgb, &mut out);
    Ok(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use image::{DynamicImage, Rgb};
    use proptest::prelude::*;

    pub(crate) fn encode(img: &RgbImage, format: ImageFormat) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        let dynamic = DynamicImage::ImageRgb8(img.clone());
        let written = match format {
            ImageFormat::WebP => dynamic.to_rgba8().write_to(&mut out, format),
            _ => dynamic.write_to(&mut out, format),
        };
        assert!(written.is_ok(), "encoding {format:?}: {written:?}");
        out.into_inner()
    }

    pub(crate) fn solid(w: u32, h: u32, rgb: [u8; 3]) -> RgbImage {
        RgbImage::from_pixel(w, h, Rgb(rgb))
    }

    #[test]
    fn channel_values_span_minus_one_to_one() {
        assert_eq!(channel_value(0), -1.0);
        assert_eq!(channel_value(255), 1.0);
        assert!((channel_value(128) - 0.003_921_569).abs() < 1e-6);
        assert!((channel_value(64) - (64.0 / 127.5 - 1.0)).abs() < 1e-6);
    }

    #[test]
    fn solid_colour_gives_known_values_in_every_format() {
        let colour = [255u8, 0, 64];
        let expected = [1.0f32, -1.0, 64.0 / 127.5 - 1.0];
        for format in [ImageFormat::Png, ImageFormat::Gif, ImageFormat::WebP] {
            let bytes = encode(&solid(50, 30, colour), format);
            let out = preprocess_image(&bytes, &ImageLimits::default()).unwrap_or_default();
            assert_eq!(out.len(), VALUES_PER_IMAGE, "{format:?}");
            let plane = VALUES_PER_IMAGE / 3;
            for (c, want) in expected.iter().enumerate() {
                let bad = out[c * plane..(c + 1) * plane].iter().filter(|v| (**v - want).abs() > 1e-6).count();
                assert_eq!(bad, 0, "{format:?} channel {c}: {bad} values differ from {want}");
            }
        }
        // JPEG is lossy: a solid colour comes back within a few levels.
        let bytes = encode(&solid(64, 64, colour), ImageFormat::Jpeg);
        let out = preprocess_image(&bytes, &ImageLimits::default()).unwrap_or_default();
        assert_eq!(out.len(), VALUES_PER_IMAGE);
        let plane = VALUES_PER_IMAGE / 3;
        for (c, want) in expected.iter().enumerate() {
            let mean = out[c * plane..(c + 1) * plane].iter().sum::<f32>() / plane as f32;
            assert!((mean - want).abs() < 0.05, "jpeg channel {c}: mean {mean}, want {want}");
        }
    }

    #[test]
    fn layout_is_planar_rows_then_columns() {
        let img = RgbImage::from_fn(IMAGE_SIZE, IMAGE_SIZE, |x, y| if x < 112 { Rgb([255, 0, 0]) } else if y < 10 { Rgb([0, 255, 0]) } else { Rgb([0, 0, 255]) });
        let out = preprocess_image(&encode(&img, ImageFormat::Png), &ImageLimits::default()).unwrap_or_default();
        let at = |c: usize, y: usize, x: usize| out[c * 224 * 224 + y * 224 + x];
        assert_eq!((at(0, 100, 5), at(1, 100, 5), at(2, 100, 5)), (1.0, -1.0, -1.0));
        assert_eq!((at(0, 3, 200), at(1, 3, 200), at(2, 3, 200)), (-1.0, 1.0, -1.0));
        assert_eq!((at(0, 150, 200), at(1, 150, 200), at(2, 150, 200)), (-1.0, -1.0, 1.0));
    }

    #[test]
    fn rejections_are_typed() {
        let limits = ImageLimits { max_bytes: 10_000, max_width: 64, max_height: 64, ..ImageLimits::default() };
        let png = encode(&solid(100, 20, [1, 2, 3]), ImageFormat::Png);
        assert!(matches!(decode_rgb(&png, &limits), Err(ImageRejection::ExceedsLimits(_))));
        assert!(matches!(decode_rgb(&[], &limits), Err(ImageRejection::Empty)));
        assert!(matches!(decode_rgb(&vec![0u8; 10_001], &limits), Err(ImageRejection::TooManyBytes { bytes: 10_001, limit: 10_000 })));
        assert!(matches!(decode_rgb(b"this is not an image", &limits), Err(ImageRejection::UnsupportedFormat(_))));
        let bmp_header = b"BM\x3a\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00\x28\x00\x00\x00";
        assert!(matches!(decode_rgb(bmp_header, &limits), Err(ImageRejection::UnsupportedFormat(_))));
        let small = encode(&solid(20, 20, [1, 2, 3]), ImageFormat::Png);
        assert!(matches!(decode_rgb(&small[..small.len() / 2], &limits), Err(ImageRejection::Undecodable(_))));
        let tight_alloc = ImageLimits { max_alloc: 100, ..ImageLimits::default() };
        assert!(matches!(decode_rgb(&small, &tight_alloc), Err(ImageRejection::ExceedsLimits(_))));
    }

    proptest! {
        // Decoding and resizing are slow in debug builds; a few dozen cases per property suffice.
        #![proptest_config(ProptestConfig::with_cases(32))]

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let _ = preprocess_image(&bytes, &ImageLimits::default());
        }

        #[test]
        fn corrupted_png_never_panics(flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8)) {
            let mut png = encode(&RgbImage::from_fn(40, 30, |x, y| Rgb([x as u8 * 6, y as u8 * 8, 77])), ImageFormat::Png);
            let len = png.len();
            for (at, byte) in flips {
                png[at % len] = byte;
            }
            if let Ok(values) = preprocess_image(&png, &ImageLimits::default()) {
                prop_assert_eq!(values.len(), VALUES_PER_IMAGE);
            }
        }

        #[test]
        fn any_size_gives_224_square_in_range(w in 1u32..260, h in 1u32..260, seed in any::<u8>()) {
            let img = RgbImage::from_fn(w, h, |x, y| Rgb([(x as u8).wrapping_mul(seed), (y as u8) ^ seed, seed]));
            let values = preprocess_image(&encode(&img, ImageFormat::Png), &ImageLimits::default())
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(values.len(), VALUES_PER_IMAGE);
            prop_assert!(values.iter().all(|v| (-1.0..=1.0).contains(v)));
        }
    }
}
