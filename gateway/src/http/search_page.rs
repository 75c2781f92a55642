//! The search page's glue (issue 15): `GET /search`, `POST /search/image` and
//! `GET /products/{id}/similar` asked for as HTML become the page of
//! [`views::search`](super::views::search). Offers are linked to the chat and
//! message they came from (looked up here: a search result names its chat's title,
//! not its id); a refusal is shown in the page under the status the JSON API gives.

use std::collections::HashMap;

use actix_web::{HttpResponse, ResponseError, http::StatusCode, http::header};

use super::{
    errors::ApiError,
    request_context,
    similar::SimilarResults,
    views::{
        format,
        layout::{self, urlencode},
        search::{Card, ChatLink, Outcome, SearchForm, SearchView, search_page},
    },
};
use crate::{
    app::AppState,
    search::{SearchAnswer, SearchResult},
    store::market,
};

/// `GET /search` as a page: the form alone on a fresh visit, else the answer or the refusal.
pub async fn search(state: &AppState, form: SearchForm) -> HttpResponse {
    if form.is_blank() {
        return render(state, "Search", &form, Outcome::Blank);
    }
    let paged = form.cursor.as_deref().is_some_and(|c| !c.trim().is_empty());
    let outcome = match state.search.search(form.clone()).await {
        Ok(answer) => answer_outcome(state, answer, paged).await,
        Err(error) => Err(ApiError::from(error)),
    };
    match outcome {
        Ok(outcome) => render(state, "Search", &form, outcome),
        Err(error) => refused(state, "Search", &form, error),
    }
}

/// A visual answer (an uploaded image, a product's neighbours) as a page under `heading`.
pub fn visual(state: &AppState, heading: &str, answer: Result<SimilarResults, ApiError>) -> HttpResponse {
    let form = SearchForm::default();
    match answer {
        Ok(found) => {
            let cards = found
                .results
                .into_iter()
                .map(|hit| Card {
                    similar_href: similar_href(state, &hit.id),
                    kind: hit.kind.to_owned(),
                    title: hit.title.unwrap_or_else(|| "(not hydrated yet)".into()),
                    id: hit.id,
                    price: None,
                    who: None,
                    chat: None,
                    image_url: hit.image_url,
                    score: f64::from(hit.score),
                })
                .collect();
            let outcome = Outcome::Answer { cards, mode: found.mode.to_owned(), took_ms: found.took_ms as f64, next_cursor: None, paged: false };
            render(state, heading, &form, outcome)
        }
        Err(error) => refused(state, heading, &form, error),
    }
}

/// Where "more like this" goes: the image+text neighbours with the image model, the text
/// ones with only the text model, nowhere without either.
fn similar_href(state: &AppState, product_id: &str) -> Option<String> {
    let base = format!("/products/{}/similar", urlencode(product_id));
    if state.semantic.image_enabled() {
        Some(base)
    } else if state.semantic.text_enabled() {
        Some(format!("{base}?space=text"))
    } else {
        None
    }
}

async fn answer_outcome(state: &AppState, answer: SearchAnswer, paged: bool) -> Result<Outcome, ApiError> {
    let offer_ids: Vec<i64> = answer.results.iter().filter(|r| r.kind == "offer").filter_map(|r| r.id.parse().ok()).collect();
    let sources: HashMap<i64, market::OfferSource> =
        market::offer_sources(&state.store.db, &offer_ids).await?.into_iter().map(|s| (s.id, s)).collect();
    let cards = answer.results.into_iter().map(|r| card(state, r, &sources)).collect();
    Ok(Outcome::Answer { cards, mode: answer.mode.label().to_owned(), took_ms: answer.took_ms, next_cursor: answer.next_cursor, paged })
}

fn card(state: &AppState, r: SearchResult, sources: &HashMap<i64, market::OfferSource>) -> Card {
    let is_product = r.kind == "product";
    let source = r.id.parse::<i64>().ok().filter(|_| !is_product).and_then(|id| sources.get(&id));
    let chat = match (r.chat_title, source) {
        (title, Some(s)) => Some(ChatLink {
            title: title.unwrap_or_else(|| s.chat_id.clone()),
            href: Some(format!("/admin/whatsapp/{}#m{}", urlencode(&s.chat_id), s.source_message_pk)),
        }),
        (Some(title), None) => Some(ChatLink { title, href: None }),
        (None, None) => None,
    };
    Card {
        similar_href: if is_product { similar_href(state, &r.id) } else { None },
        price: r.price.as_deref().map(|p| format::price(r.currency.as_deref().unwrap_or(""), Some(p)).trim().to_owned()),
        who: r.vendor.or(r.seller),
        kind: r.kind,
        id: r.id,
        title: r.title,
        chat,
        image_url: r.image_url,
        score: r.score,
    }
}

fn render(state: &AppState, heading: &str, form: &SearchForm, outcome: Outcome) -> HttpResponse {
    let view = SearchView { heading, form, image_search: state.semantic.image_enabled(), outcome };
    layout::ok_with_images(search_page(&view))
}

/// The page with the refusal's message, under the JSON answer's status and headers
/// (`Retry-After`); building that answer also logs an unexpected error, once.
fn refused(state: &AppState, heading: &str, form: &SearchForm, error: ApiError) -> HttpResponse {
    let json = error.error_response();
    let request_id = request_context::current_request_id().unwrap_or_default();
    let message = match &error {
        ApiError::Internal(_) => "Something went wrong on our side; try again.".to_owned(),
        other => capitalised(&other.to_string()),
    };
    let view = SearchView { heading, form, image_search: state.semantic.image_enabled(), outcome: Outcome::Refused { message, request_id } };
    let status = if json.status().is_success() { StatusCode::INTERNAL_SERVER_ERROR } else { json.status() };
    let mut response = layout::respond(status, search_page(&view));
    if let Some(retry) = json.headers().get(header::RETRY_AFTER) {
        response.headers_mut().insert(header::RETRY_AFTER, retry.clone());
    }
    response
}

fn capitalised(message: &str) -> String {
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
