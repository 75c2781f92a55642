//! `gateway::pipeline::hydrate`: the page readers only.

pub mod hydrate {
    #[path = "../../../../../gateway/src/pipeline/hydrate/charset.rs"]
    pub mod charset;
    #[path = "../../../../../gateway/src/pipeline/hydrate/og.rs"]
    pub mod og;
    #[path = "../../../../../gateway/src/pipeline/hydrate/page.rs"]
    mod page;

    pub use page::{ImageSource, PageError, ProductMeta, TitleSource};
}
