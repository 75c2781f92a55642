//! The LLM rows request and the checks on its answer.

use std::collections::HashSet;

use serde_json::{Value, json};

use super::*;

fn unread(row: u32, cells: &[&str]) -> UnreadRow {
    UnreadRow {
        sheet: Some("Prices".into()),
        row,
        columns: Some(vec!["Item".to_owned(), "Price (KES)".to_owned()].into()),
        cells: cells.iter().map(|c| (*c).to_owned()).collect(),
    }
}

fn answer(content: &str) -> Vec<u8> {
    json!({"choices": [{"finish_reason": "stop", "message": {"content": content}}]})
        .to_string()
        .into_bytes()
}

fn check(item: Value, sent: &[UnreadRow]) -> Result<(usize, crate::domain::DocumentRow), (Option<usize>, String)> {
    check_item(&item, sent, &mut HashSet::new(), "KES")
}

#[test]
fn the_request_carries_each_row_with_its_columns_under_a_strict_schema() {
    let base = Url::parse("http://127.0.0.1:9/v1/").expect("url");
    let long = "x".repeat(400);
    let rows = [unread(7, &["Samsung A14 going for", "18.5k"]), unread(9, &[long.as_str()])];
    let (url, body) = request(&base, " local-model ", &rows).expect("request");
    assert_eq!(url.as_str(), "http://127.0.0.1:9/v1/chat/completions");
    assert_eq!(body["model"], "local-model");
    assert_eq!(body["response_format"]["json_schema"]["strict"], true);
    let user: Value = serde_json::from_str(body["messages"][1]["content"].as_str().expect("text")).expect("json");
    assert_eq!(user["rows"][0], json!({"id": 0, "sheet": "Prices", "columns": ["Item", "Price (KES)"], "cells": ["Samsung A14 going for", "18.5k"]}));
    assert_eq!(user["rows"][1]["cells"][0].as_str().map(str::len), Some(300));
    assert!(request(&Url::parse("ftp://host/").expect("url"), "m", &rows).is_err());
}

#[test]
fn answers_are_parsed_fenced_or_not_and_cut_or_refused_ones_are_errors() {
    let items = parse_answer(&answer(r#"{"rows": [{"id": 0}]}"#)).expect("parsed");
    assert_eq!(items.len(), 1);
    let fenced = parse_answer(&answer("```json\n{\"rows\": []}\n```")).expect("fenced");
    assert!(fenced.is_empty());
    let cut = json!({"choices": [{"finish_reason": "length", "message": {"content": "{\"rows\": ["}}]});
    assert_eq!(parse_answer(cut.to_string().as_bytes()), Err(AnswerError::Truncated));
    let refused = json!({"choices": [{"message": {"content": null, "refusal": "no"}}]});
    assert_eq!(parse_answer(refused.to_string().as_bytes()), Err(AnswerError::Refused));
    assert!(matches!(parse_answer(b"<html>"), Err(AnswerError::Malformed(_))));
    assert!(matches!(parse_answer(&answer("{\"items\": []}")), Err(AnswerError::Malformed(_))));
}

#[test]
fn a_grounded_answer_becomes_an_offer_read_by_the_sheet_readers() {
    let sent = [unread(7, &["Samsung A14 ex-uk, 3 pcs", "KSh 18.5k"])];
    let item = json!({"id": 0, "title": "Samsung A14", "sku": null, "price": "18500", "currency": "kes",
                      "quantity": 3, "condition": "ex-uk"});
    let (index, row) = check(item, &sent).expect("accepted");
    assert_eq!(index, 0);
    assert_eq!((row.sheet.as_deref(), row.row, row.title.as_str()), (Some("Prices"), 7, "Samsung A14"));
    assert_eq!((row.price.as_str(), row.currency.as_str(), row.quantity), ("18500", "KES", Some(3)));
    assert_eq!(row.condition.as_deref(), Some("ex_uk"));
    assert_eq!(row.source_text, "Samsung A14 ex-uk, 3 pcs | KSh 18.5k");
    // A price given as a JSON number, and a bare number with separators in the row.
    let sent = [unread(3, &["Rice 5kg 1,250.50 per bag"])];
    let (_, row) = check(json!({"id": 0, "title": "Rice 5kg", "price": 1250.5}), &sent).expect("number price");
    assert_eq!((row.price.as_str(), row.currency.as_str()), ("1250.5", "KES"));
}

#[test]
fn an_invented_price_or_an_unreadable_field_is_refused_with_the_row() {
    let sent = [unread(4, &["Tecno Spark 10", "call for price"]), unread(5, &["Oil 1l", "300"])];
    let refused = |item: Value| check(item, &sent).expect_err("refused");
    let (row, reason) = refused(json!({"id": 0, "title": "Tecno Spark 10", "price": "12500"}));
    assert_eq!(row, Some(0));
    assert!(reason.contains("not written in the row"), "{reason}");
    let (_, reason) = refused(json!({"id": 1, "title": "Oil 1l", "price": "300", "quantity": -2}));
    assert!(reason.contains("quantity"), "{reason}");
    let (_, reason) = refused(json!({"id": 1, "title": "Oil", "price": "300", "currency": "doubloons"}));
    assert!(reason.contains("currency"), "{reason}");
    let (_, reason) = refused(json!({"id": 1, "title": "", "price": "300"}));
    assert!(reason.contains("no description"), "{reason}");
    assert_eq!(refused(json!({"id": 2, "title": "Ghost", "price": "1"})).0, None);
    assert_eq!(refused(json!({"title": "Ghost", "price": "1"})).0, None);
}

#[test]
fn a_row_answered_twice_keeps_only_the_first() {
    let sent = [unread(5, &["Oil 1l", "300"])];
    let mut answered = HashSet::new();
    let item = json!({"id": 0, "title": "Oil 1l", "price": "300"});
    assert!(check_item(&item, &sent, &mut answered, "KES").is_ok());
    let (_, reason) = check_item(&item, &sent, &mut answered, "KES").expect_err("twice");
    assert!(reason.contains("twice"), "{reason}");
}

#[test]
fn amounts_in_a_row_include_whole_cells_text_prices_and_bare_numbers() {
    let cells = ["KES 45,000".to_owned(), "now 4.5k only".to_owned(), "was 1 200".to_owned(), "ref 77.".to_owned()];
    let found = amounts_in(&cells);
    for amount in ["45000", "4500", "4.5", "77", "1", "200"] {
        assert!(found.contains(&amount.parse::<Decimal>().expect("decimal").normalize()), "{amount} in {found:?}");
    }
    assert!(!found.contains(&"12500".parse::<Decimal>().expect("decimal")));
}
