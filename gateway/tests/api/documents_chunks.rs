//! A price list longer than the import's write chunks (issue 16), against the real app on SQLite
//! and PostgreSQL. An import is written 2,000 rows at a time (SQLite splits those again at 1,000,
//! under its parameter limit), with anonymous `?` parameters on SQLite: 4,321 rows cross both
//! boundaries and end on a short chunk. Every row must land once with its own values, every first
//! price and every change must reach `price_history`, and the next version's four partitions must
//! come out exact, whichever chunk a row fell in.

use crate::{
    documents::{counts, upload},
    helpers::spawn_app_with,
};

const SETTINGS: &[(&str, &str)] = &[("JOB_POLL_SECONDS", "0.05")];
const ROWS: usize = 4_321;
/// The second version: the first `REPRICED` rows change price, the last `DROPPED` are gone and
/// `ADDED` new SKUs follow.
const REPRICED: usize = 2_345;
const DROPPED: usize = 600;
const ADDED: usize = 150;

fn first_price(i: usize) -> usize {
    1_000 + i
}

fn list(second: bool) -> Vec<u8> {
    let mut csv = String::from("SKU,Description,Price (KES),Qty\n");
    let kept = if second { ROWS - DROPPED } else { ROWS };
    for i in 0..kept {
        let price = if second && i < REPRICED { 50_000 + i } else { first_price(i) };
        csv.push_str(&format!("SKU-{i:06},Phone model {i} 64GB,{price},{}\n", 1 + i % 9));
    }
    if second {
        for k in 0..ADDED {
            csv.push_str(&format!("NEW-{k:04},Tablet model {k},{},1\n", 20_000 + k));
        }
    }
    csv.into_bytes()
}

fn price_of(texts: &[Option<String>]) -> Vec<f64> {
    texts.iter().map(|t| t.as_deref().and_then(|p| p.parse().ok()).unwrap_or(f64::NAN)).collect()
}

#[tokio::test]
async fn a_list_longer_than_the_write_chunks_lands_row_for_row_and_re_syncs_exactly() {
    let app = spawn_app_with(SETTINGS).await;
    let first = upload(&app, "long.csv", &list(false), "Chunky Phones", true).await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    let document = &first.body["document"];
    assert_eq!(counts(document), [ROWS as i64, 0, 0, 0, 0], "{document}");
    let first_id = document["id"].as_i64().expect("document id");
    assert_eq!(
        app.db.query_i64(&format!("SELECT COUNT(*) FROM offers WHERE source_document_id = {first_id} AND active = 1")).await,
        [ROWS as i64]
    );
    // Rows on each side of the chunk boundaries carry their own row number and price.
    for i in [0, 999, 1_000, 1_999, 2_000, 3_999, 4_000, ROWS - 1] {
        let row = app
            .db
            .query_texts(&format!(
                "SELECT price, title, CAST(source_row AS TEXT) FROM offers WHERE row_key = 'sku:sku-{i:06}'"
            ))
            .await;
        assert_eq!(price_of(&row[..1]), [first_price(i) as f64], "row {i}: {row:?}");
        assert_eq!(row[1].as_deref(), Some(format!("Phone model {i} 64GB").as_str()), "row {i}");
        // The header is row 1.
        assert_eq!(row[2].as_deref(), Some((i + 2).to_string().as_str()), "row {i}");
    }
    assert_eq!(
        app.db.query_i64("SELECT COUNT(*) FROM price_history WHERE old_price IS NULL").await,
        [ROWS as i64],
        "every created offer's first price"
    );

    let second = upload(&app, "long.csv", &list(true), "Chunky Phones", true).await;
    assert_eq!(second.status, 200, "{:?}", second.body);
    let unchanged = ROWS - DROPPED - REPRICED;
    assert_eq!(
        counts(&second.body["document"]),
        [ADDED as i64, REPRICED as i64, unchanged as i64, DROPPED as i64, 0],
        "{}",
        second.body["document"]
    );
    assert_eq!(
        app.db.query_i64("SELECT COUNT(*) FROM offers WHERE row_key IS NOT NULL AND active = 1").await,
        [(ROWS - DROPPED + ADDED) as i64]
    );
    assert_eq!(
        app.db.query_i64("SELECT COUNT(*) FROM offers WHERE row_key IS NOT NULL AND active = 0").await,
        [DROPPED as i64],
        "removed offers are kept, inactive"
    );
    assert_eq!(
        app.db.query_i64("SELECT COUNT(*) FROM price_history").await,
        [(ROWS + ADDED + REPRICED) as i64],
        "first prices, the new SKUs' first prices and one point per change"
    );
    // The last repriced row and the first unchanged one, each side of the 2,000-row chunk.
    let last = REPRICED - 1;
    let change = app
        .db
        .query_texts(&format!(
            "SELECT h.old_price, h.new_price, o.price FROM price_history h JOIN offers o ON o.id = h.offer_id
             WHERE o.row_key = 'sku:sku-{last:06}' AND h.old_price IS NOT NULL"
        ))
        .await;
    assert_eq!(
        price_of(&change),
        [first_price(last) as f64, (50_000 + last) as f64, (50_000 + last) as f64],
        "{change:?}"
    );
    let kept = app
        .db
        .query_i64(&format!(
            "SELECT COUNT(*) FROM price_history h JOIN offers o ON o.id = h.offer_id WHERE o.row_key = 'sku:sku-{REPRICED:06}'"
        ))
        .await;
    assert_eq!(kept, [1], "an unchanged row appends nothing");
}
