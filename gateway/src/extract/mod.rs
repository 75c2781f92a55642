//! Pure parsers that turn message text into marketplace facts: phone numbers,
//! prices, offers and WhatsApp product/catalog links. Nothing in here touches
//! the network, the database or the clock; every function takes `&str` and
//! returns values, so each is table-tested and property-tested.

pub mod phone;
