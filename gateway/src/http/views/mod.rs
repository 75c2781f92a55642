//! The admin console's markup: one shared layout with the navigation
//! (`layout`), how times and prices are written (`format`), and one module
//! per page. Handlers decide between JSON and HTML; these only render.

pub mod chats;
pub mod diagnostics;
pub mod documents;
pub mod format;
pub mod jobs;
pub mod layout;
pub mod market;
pub mod products;
pub mod search;
