//! `GET /price-history/product/{id}`: one product's prices over time across vendors, as JSON or,
//! with `?format=csv` or `Accept: text/csv`, as a CSV download. Chat offers and the
//! `price_history` rows of vendor documents come from `store::price_history`.

use actix_web::{HttpRequest, HttpResponse, http::header, web};
use serde::{Deserialize, Serialize};

use super::{
    errors::{ApiError, ErrorBody},
    market::product_key,
    openapi::ReadErrors,
    ops,
};
use crate::{
    app::AppState,
    store::price_history::{self, PricePoint},
};

/// Points read at most.
const MAX_POINTS: i64 = 5_000;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PriceHistoryQuery {
    /// `json` (the default) or `csv`; without it, `Accept: text/csv` asks for CSV.
    #[param(example = "csv")]
    format: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PriceHistory {
    /// As requested.
    pub product_id: String,
    /// The normalised key it was matched by.
    pub product_key: String,
    pub points: Vec<PricePoint>,
}

#[utoipa::path(
    get, path = "/price-history/product/{id}", tag = "read",
    summary = "Prices of one product over time, across vendors (CSV with `?format=csv` or `Accept: text/csv`)",
    params(
        ("id" = String, Path, description = "A 16-digit WhatsApp product id, or a product title", example = "Samsung A15 128GB"),
        PriceHistoryQuery,
    ),
    security(("read_token" = []), ("admin_basic" = [])),
    responses(
        (status = 200, description = "Chat offers' prices and vendor documents' price changes of the product, oldest first",
            content((PriceHistory = "application/json"), (String = "text/csv"))),
        (status = 404, description = "No price of this product", body = ErrorBody),
        ReadErrors,
    ),
)]
pub async fn price_history(
    request: HttpRequest,
    path: web::Path<String>,
    query: web::Query<PriceHistoryQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let csv = match query.format.as_deref() {
        None => wants_csv(&request),
        Some("json") => false,
        Some("csv") => true,
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "format {other:?} is not json or csv"
            )));
        }
    };
    let requested = path.into_inner();
    let key = product_key(&requested);
    let points = price_history::points(&state.store.db, &key, MAX_POINTS).await?;
    if points.is_empty() {
        return Err(ApiError::NotFound);
    }
    if !csv {
        return Ok(HttpResponse::Ok().json(PriceHistory {
            product_id: requested,
            product_key: key,
            points,
        }));
    }
    let body = csv_body(&key, &points).map_err(|e| ApiError::Internal(e.into()))?;
    let disposition = format!(
        r#"attachment; filename="price-history-{}.csv""#,
        file_stem(&key)
    );
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((header::CONTENT_DISPOSITION, disposition))
        .body(body))
}

fn wants_csv(request: &HttpRequest) -> bool {
    request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/csv"))
}

const CSV_HEADER: [&str; 14] = [
    "at",
    "at_ms",
    "product_key",
    "price",
    "currency",
    "old_price",
    "old_currency",
    "source",
    "vendor_id",
    "vendor_name",
    "offer_id",
    "chat_id",
    "source_document_id",
    "title",
];

/// A header row, then one row per point; the `csv` crate quotes what needs quoting.
fn csv_body(key: &str, points: &[PricePoint]) -> Result<Vec<u8>, csv::Error> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(CSV_HEADER)?;
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let number = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_default();
    for p in points {
        out.write_record([
            ops::rfc3339(p.at_ms),
            p.at_ms.to_string(),
            key.to_owned(),
            p.price.clone(),
            p.currency.clone(),
            text(&p.old_price),
            text(&p.old_currency),
            p.source.clone(),
            number(p.vendor_id),
            text(&p.vendor_name),
            p.offer_id.to_string(),
            text(&p.chat_id),
            number(p.source_document_id),
            p.title.clone(),
        ])?;
    }
    out.into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))
}

/// The key as a file name: ASCII letters, digits, `.`, `_` and `-`, everything else a `-`
/// (runs collapsed), at most 80 characters.
fn file_stem(key: &str) -> String {
    let mut stem = String::with_capacity(key.len());
    for c in key.chars() {
        let c = if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
            c
        } else {
            '-'
        };
        if !(c == '-' && stem.ends_with('-')) {
            stem.push(c);
        }
    }
    let stem: String = stem.trim_matches('-').chars().take(80).collect();
    if stem.is_empty() {
        "product".to_owned()
    } else {
        stem
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(title: &str, old: Option<&str>) -> PricePoint {
        PricePoint {
            at_ms: 1_700_000_000_000,
            price: "17900".into(),
            old_price: old.map(str::to_owned),
            old_currency: old.map(|_| "KES".to_owned()),
            currency: "KES".into(),
            vendor_id: Some(3),
            vendor_name: Some("Kamau, \"the\" Electronics".into()),
            offer_id: 9,
            chat_id: None,
            source: "document".into(),
            source_document_id: Some(2),
            title: title.into(),
        }
    }

    #[test]
    fn csv_has_a_header_and_quotes_what_needs_it() {
        let body = csv_body("samsung a14", &[point("Samsung A14", Some("18500"))]).expect("csv");
        let text = String::from_utf8(body).expect("utf-8");
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some(CSV_HEADER.join(",").as_str()));
        assert_eq!(
            lines.next(),
            Some(
                r#"2023-11-14T22:13:20.000Z,1700000000000,samsung a14,17900,KES,18500,KES,document,3,"Kamau, ""the"" Electronics",9,,2,Samsung A14"#
            )
        );
        assert_eq!(lines.next(), None);
    }

    #[test]
    fn file_names_keep_only_safe_characters() {
        assert_eq!(file_stem("samsung galaxy a14"), "samsung-galaxy-a14");
        assert_eq!(file_stem("1234567890123456"), "1234567890123456");
        assert_eq!(file_stem("\"; x=../é"), "x-..");
        assert_eq!(file_stem("   "), "product");
        assert_eq!(file_stem(&"a".repeat(200)).len(), 80);
    }
}
