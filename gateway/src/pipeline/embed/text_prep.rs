//! The text tower's input: already-cleaned text tokenized with the model's `tokenizer.json`, then
//! truncated or padded to exactly 64 ids with pad id 1, as SigLIP was trained (`padding="max_length"`,
//! no attention mask). Padding and truncation are imposed here, whatever the file configures.

use std::path::Path;

use tokenizers::{PaddingDirection, PaddingParams, PaddingStrategy, Tokenizer, TruncationDirection, TruncationParams, TruncationStrategy};

use super::error::EmbedError;

/// SigLIP's text length: position embeddings exist for 64 tokens.
pub const TEXT_LEN: usize = 64;
/// SigLIP's pad id (`</s>`, which is also its end-of-text token).
pub const PAD_ID: u32 = 1;
/// Longest text handed to the tokenizer. 64 tokens never need more, and it bounds the work per item.
pub const MAX_TEXT_BYTES: usize = 4096;

pub struct TextTokenizer {
    inner: Tokenizer,
}

impl std::fmt::Debug for TextTokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextTokenizer").field("vocab_size", &self.vocab_size()).finish()
    }
}

impl TextTokenizer {
    pub fn from_file(path: &Path) -> Result<Self, EmbedError> {
        let inner = Tokenizer::from_file(path).map_err(|e| EmbedError::Tokenizer(format!("{}: {e}", path.display())))?;
        Self::configure(inner)
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, EmbedError> {
        Self::configure(Tokenizer::from_bytes(bytes).map_err(|e| EmbedError::Tokenizer(e.to_string()))?)
    }

    fn configure(mut inner: Tokenizer) -> Result<Self, EmbedError> {
        let pad_token = inner.id_to_token(PAD_ID).unwrap_or_else(|| "</s>".to_owned());
        inner
            .with_truncation(Some(TruncationParams {
                direction: TruncationDirection::Right,
                max_length: TEXT_LEN,
                strategy: TruncationStrategy::LongestFirst,
                stride: 0,
            }))
            .map_err(|e| EmbedError::Tokenizer(e.to_string()))?;
        inner.with_padding(Some(PaddingParams {
            strategy: PaddingStrategy::Fixed(TEXT_LEN),
            direction: PaddingDirection::Right,
            pad_to_multiple_of: None,
            pad_id: PAD_ID,
            pad_type_id: 0,
            pad_token,
        }));
        Ok(Self { inner })
    }

    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    pub fn token_to_id(&self, token: &str) -> Option<u32> {
        self.inner.token_to_id(token)
    }

    /// Exactly [`TEXT_LEN`] ids for `text`, with the end-of-text token the tokenizer adds.
    pub fn encode(&self, text: &str) -> Result<Vec<i64>, EmbedError> {
        let text = clip_to_char_boundary(text, MAX_TEXT_BYTES);
        let encoding = self.inner.encode(text, true).map_err(|e| EmbedError::Tokenizer(e.to_string()))?;
        let mut ids: Vec<i64> = encoding.get_ids().iter().map(|&id| i64::from(id)).collect();
        // The tokenizer already pads and truncates; this keeps the length exact whatever it did.
        ids.resize(TEXT_LEN, i64::from(PAD_ID));
        Ok(ids)
    }

    /// Appends `texts.len() × 64` ids to `out`, row after row: the `input_ids` tensor.
    pub fn encode_into<'a>(&self, texts: impl IntoIterator<Item = &'a str>, out: &mut Vec<i64>) -> Result<(), EmbedError> {
        for text in texts {
            out.extend(self.encode(text)?);
        }
        Ok(())
    }
}

fn clip_to_char_boundary(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The shape `scripts/make_test_models.py` writes, with a four-word vocabulary and no padding configured.
    const TINY: &str = r#"{"version":"1.0","truncation":null,"padding":null,
      "added_tokens":[{"id":0,"content":"<pad>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},
                      {"id":1,"content":"</s>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},
                      {"id":2,"content":"<unk>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true}],
      "normalizer":{"type":"Lowercase"},"pre_tokenizer":{"type":"Whitespace"},
      "post_processor":{"type":"TemplateProcessing","single":[{"Sequence":{"id":"A","type_id":0}},{"SpecialToken":{"id":"</s>","type_id":0}}],
        "pair":[{"Sequence":{"id":"A","type_id":0}},{"SpecialToken":{"id":"</s>","type_id":0}},{"Sequence":{"id":"B","type_id":0}},{"SpecialToken":{"id":"</s>","type_id":0}}],
        "special_tokens":{"</s>":{"id":"</s>","ids":[1],"tokens":["</s>"]}}},
      "decoder":null,
      "model":{"type":"WordLevel","vocab":{"<pad>":0,"</s>":1,"<unk>":2,"red":3,"dress":4,"cotton":5,"shoes":6},"unk_token":"<unk>"}}"#;

    fn tiny() -> TextTokenizer {
        match TextTokenizer::from_bytes(TINY.as_bytes()) {
            Ok(t) => t,
            Err(e) => panic!("tiny tokenizer: {e}"),
        }
    }

    fn padded(prefix: &[i64]) -> Vec<i64> {
        let mut v = prefix.to_vec();
        v.resize(TEXT_LEN, 1);
        v
    }

    #[test]
    fn pads_to_64_with_id_1_after_end_of_text() {
        let t = tiny();
        assert_eq!(t.encode("Red cotton DRESS").ok(), Some(padded(&[3, 5, 4, 1])));
        assert_eq!(t.encode("red handbag!").ok(), Some(padded(&[3, 2, 2, 1])), "unknown words and punctuation map to <unk>");
        assert_eq!(t.encode("").ok(), Some(padded(&[1])));
    }

    #[test]
    fn long_text_is_truncated_keeping_end_of_text() {
        let t = tiny();
        let text = vec!["shoes"; 100].join(" ");
        let ids = t.encode(&text).unwrap_or_default();
        assert_eq!(ids.len(), TEXT_LEN);
        assert!(ids[..63].iter().all(|&id| id == 6), "{ids:?}");
        assert_eq!(ids[63], 1);
    }

    #[test]
    fn batch_rows_follow_input_order() {
        let t = tiny();
        let mut out = Vec::new();
        assert!(t.encode_into(["dress", "shoes red"], &mut out).is_ok());
        assert_eq!(out.len(), 2 * TEXT_LEN);
        assert_eq!(out[..TEXT_LEN], padded(&[4, 1])[..]);
        assert_eq!(out[TEXT_LEN..], padded(&[6, 3, 1])[..]);
    }

    #[test]
    fn broken_tokenizer_json_is_a_typed_error() {
        assert!(matches!(TextTokenizer::from_bytes(b"{not json"), Err(EmbedError::Tokenizer(_))));
        let missing = TextTokenizer::from_file(Path::new("/nonexistent/tokenizer.json"));
        assert!(matches!(missing, Err(EmbedError::Tokenizer(ref m)) if m.contains("/nonexistent/tokenizer.json")));
    }

    #[test]
    fn clipping_respects_char_boundaries() {
        assert_eq!(clip_to_char_boundary("héllo", 2), "h");
        assert_eq!(clip_to_char_boundary("héllo", 3), "hé");
        assert_eq!(clip_to_char_boundary("abc", 10), "abc");
    }

    proptest! {
        #[test]
        fn any_text_gives_64_ids_in_vocabulary(text in "\\PC{0,300}") {
            let t = tiny();
            let ids = t.encode(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(ids.len(), TEXT_LEN);
            prop_assert!(ids.iter().all(|&id| (0..t.vocab_size() as i64).contains(&id)));
            prop_assert!(ids.contains(&1), "end of text or padding is always present");
        }

        #[test]
        fn huge_text_is_bounded(repeat in 1000usize..3000) {
            let ids = tiny().encode(&"é red ".repeat(repeat)).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(ids.len(), TEXT_LEN);
        }
    }
}
