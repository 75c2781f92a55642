//! Tests for the rules provider: generated images end to end through `assess_image` and
//! `decide`, the banned-words list, and never-panic properties.

use super::*;
use super::super::image_check::test_images::{encode, noise, shapes};
use super::super::{ImageLimits, assess_image, assess_title};
use image::{ImageFormat, Rgb, RgbImage, imageops};
use proptest::prelude::*;

fn judge(bytes: &[u8], title: &str, description: &str) -> QcDecision {
    let image = assess_image(bytes, &ImageLimits::default());
    let banned = BannedWords::default().find(&format!("{title}\n{description}"));
    decide(&image, &assess_title(title), banned.as_ref())
}

fn jpeg(img: &RgbImage) -> Vec<u8> {
    encode(img, ImageFormat::Jpeg)
}

#[test]
fn generated_images_get_the_expected_decisions() {
    let good_title = "Mahogany coffee table";
    let cases: Vec<(&str, Vec<u8>, Decision, &str)> = vec![
        ("sharp shapes", jpeg(&shapes(320, 240)), Decision::Approved, "passed"),
        ("noise", encode(&noise(300, 300, 5), ImageFormat::Png), Decision::Approved, "passed"),
        ("solid colour", jpeg(&RgbImage::from_pixel(300, 300, Rgb([12, 80, 200]))), Decision::Rejected, "image is blank"),
        ("blurred shapes", jpeg(&imageops::blur(&shapes(320, 240), 6.0)), Decision::Rejected, "image extremely blurred"),
        ("blurred noise", encode(&imageops::blur(&noise(300, 300, 2), 3.0), ImageFormat::Png), Decision::Rejected, "image extremely blurred"),
        ("100x100", jpeg(&shapes(100, 100)), Decision::Rejected, "image too small: 100x100"),
        ("wide but short", jpeg(&shapes(800, 150)), Decision::Rejected, "image too small: 800x150"),
        ("corrupt bytes", b"\xff\xd8\xff\xe0garbage".to_vec(), Decision::Rejected, "image does not decode"),
    ];
    for (name, bytes, decision, reason) in cases {
        let d = judge(&bytes, good_title, "");
        assert_eq!(d.decision, decision, "{name}: {d:?}");
        assert!(d.reason.starts_with(reason), "{name}: {d:?}");
        assert!((0.0..=1.0).contains(&d.confidence));
    }
}

#[test]
fn mildly_blurred_images_are_flagged_not_rejected() {
    // Between the two thresholds: look for a blur radius that lands there, to show the band exists.
    let sharp = shapes(320, 240);
    let flagged = [2.5f32, 3.0, 3.5].iter().find_map(|&sigma| {
        let d = judge(&encode(&imageops::blur(&sharp, sigma), ImageFormat::Png), "Coffee table", "");
        (d.decision == Decision::Flagged).then_some(d)
    });
    let flagged = flagged.expect("some blur radius between sharp and extreme is flagged");
    assert!(flagged.reason.starts_with("image looks blurred"), "{flagged:?}");
}

#[test]
fn title_and_banned_word_outcomes() {
    let sharp = jpeg(&shapes(320, 240));
    let cases = [
        ("", "", Decision::Rejected, "title missing"),
        ("DM for price", "", Decision::Rejected, "title is only a price request"),
        ("+254 712 345 678", "", Decision::Rejected, "title is only a phone number"),
        ("BRAND NEW ORIGINAL SHOES BEST PRICE IN TOWN", "", Decision::Flagged, "title looks like spam: all caps"),
        ("Shoes!!! 🔥🔥🔥🔥🔥", "", Decision::Flagged, "title looks like spam: excessive punctuation, excessive emoji, repeated characters"),
        ("Glock 19 with ammo", "", Decision::Rejected, "banned term: ammo"),
        ("Leather bag", "Master copy, looks original", Decision::Rejected, "banned term: master copy"),
        ("Water pistol for kids", "Weed killer included", Decision::Approved, "passed"),
    ];
    for (title, description, decision, reason) in cases {
        let d = judge(&sharp, title, description);
        assert_eq!((d.decision, d.reason.as_str()).0, decision, "{title}: {d:?}");
        assert!(d.reason.starts_with(reason), "{title}: {d:?}");
    }
}

#[test]
fn banned_words_match_whole_words_plurals_and_phrases() {
    let list = BannedWords::default();
    let hit = |t: &str| list.find(t).map(|m| m.term);
    assert_eq!(hit("Selling FIREARMS cheap").as_deref(), Some("firearm"));
    assert_eq!(hit("AK-47 rifle").as_deref(), Some("ak-47"));
    assert_eq!(hit("ak 47").as_deref(), Some("ak-47"));
    assert_eq!(hit("AK47").as_deref(), Some("ak47"));
    assert_eq!(hit("Fake ID cards").as_deref(), Some("fake id"));
    assert_eq!(hit("fake, id"), Some("fake id".to_owned()));
    assert_eq!(hit("Ammonia cleaner"), None);
    assert_eq!(hit("Heroine costume"), None);
    assert_eq!(hit("replicas"), Some("replica".to_owned()));
    assert_eq!(hit("first-class copy paper"), None);
    assert_eq!(hit(""), None);

    let custom = BannedWords::parse_list(" Tobacco ,\nvape pen,, ");
    assert_eq!(custom.len(), 2);
    assert_eq!(custom.find("Vape  pen refill").map(|m| m.term).as_deref(), Some("vape pen"));
    let both = BannedWords::default().extended_with(custom);
    assert_eq!(both.len(), DEFAULT_BANNED_TERMS.len() + 2);
    assert!(both.find("tobacco").is_some() && both.find("cocaine").is_some());
    assert!(BannedWords::parse_list(" , ").is_empty());
}

#[test]
fn thresholds_are_configurable() {
    let image = assess_image(&jpeg(&shapes(320, 240)), &ImageLimits::default());
    let strict = QcThresholds { min_side: 1000, ..QcThresholds::default() };
    let d = decide_with(&image, &assess_title("Table"), None, &strict);
    assert_eq!((d.decision, d.reason.as_str()), (Decision::Rejected, "image too small: 320x240 (minimum 1000x1000)"));
}

proptest! {
    #[test]
    fn banned_words_never_panic(list in "\\PC{0,80}", text in "\\PC{0,200}") {
        let words = BannedWords::parse_list(&list);
        if let Some(hit) = words.find(&text) {
            prop_assert!(!hit.term.is_empty());
        }
    }

    #[test]
    fn decide_is_total(w in 0u32..2000, h in 0u32..2000, blank: bool, decodes: bool, blur in 0.0f64..1e4, title in "\\PC{0,40}") {
        let image = ImageAssessment { width: w, height: h, format: None, decodes, decode_error: None, is_blank: blank, luma_variance: 0.0, blur_variance: blur };
        let d = decide(&image, &assess_title(&title), None);
        prop_assert!((0.0..=1.0).contains(&d.confidence) && !d.reason.is_empty());
        if d.decision == Decision::Approved {
            prop_assert!(decodes && !blank && w >= 200 && h >= 200);
        }
    }
}
