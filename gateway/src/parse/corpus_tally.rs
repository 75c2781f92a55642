//! The tally of the whole regression corpus (every group of `offers_tests`):
//! offers right, offers with wrong details, false offers and missed offers.
//! The before and after figures of a change come from the same command:
//!
//! `cargo nextest run -p gateway --lib corpus_tally --no-capture`
//!
//! Per message, the offers found are matched to the wanted ones: first
//! exact matches (title, price, currency, quantity, condition, delivery fee:
//! right), then by title (an offer of the right item with a wrong field:
//! wrong details). What is left of the found offers are false offers (nothing
//! wanted there), what is left of the wanted ones missed offers.

use super::offers::{ExtractContext, extract_offers};
use super::offers_tests::{GROUPS, Want, seen};

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Tally {
    messages: usize,
    wanted: usize,
    right: usize,
    wrong_details: usize,
    false_offers: usize,
    missed: usize,
}

impl Tally {
    fn add(&mut self, got: Vec<Want>, want: &[Want]) {
        self.messages += 1;
        self.wanted += want.len();
        let mut left: Vec<Option<&Want>> = want.iter().map(Some).collect();
        let mut unmatched = Vec::new();
        for offer in got {
            match left.iter_mut().find(|w| w.is_some_and(|w| *w == offer)) {
                Some(slot) => {
                    *slot = None;
                    self.right += 1;
                }
                None => unmatched.push(offer),
            }
        }
        for offer in unmatched {
            match left.iter_mut().find(|w| w.is_some_and(|w| w.title == offer.title)) {
                Some(slot) => {
                    *slot = None;
                    self.wrong_details += 1;
                }
                None => self.false_offers += 1,
            }
        }
        self.missed += left.iter().flatten().count();
    }
}

fn tally_of(groups: &[fn() -> Vec<super::offers_tests::Case>]) -> Tally {
    let ctx = ExtractContext { default_currency: "KES" };
    let mut tally = Tally::default();
    for group in groups {
        for (text, want) in group() {
            let got = extract_offers(text, &ctx).iter().map(seen).collect();
            tally.add(got, &want);
        }
    }
    tally
}

#[test]
fn corpus_tally() {
    let all = tally_of(&GROUPS);
    let before_issue_18 = tally_of(&GROUPS[..11]);
    let issue_18 = tally_of(&GROUPS[11..]);
    for (name, t) in [("whole corpus", all), ("cases before issue 18", before_issue_18), ("issue 18 cases", issue_18)] {
        println!(
            "{name}: {} messages, {} offers wanted: {} right, {} wrong details, {} false offers, {} missed",
            t.messages, t.wanted, t.right, t.wrong_details, t.false_offers, t.missed
        );
    }
    assert_eq!(all.right + all.wrong_details + all.missed, all.wanted, "{all:?}");
    assert_eq!(all.false_offers, 0, "false offers in the corpus: {all:?}");
    assert_eq!(all.missed + all.wrong_details, 0, "{all:?}");
}

#[test]
fn the_tally_counts_each_kind_once() {
    let want = |title: &str, price: &str| super::offers_tests::offer(title, price, "KES");
    let mut tally = Tally::default();
    tally.add(vec![want("Sofa", "100"), want("Bed", "50"), want("Delivery", "250")], &[want("Sofa", "100"), want("Bed", "60"), want("Chair", "10")]);
    assert_eq!(tally, Tally { messages: 1, wanted: 3, right: 1, wrong_details: 1, false_offers: 1, missed: 1 });
}
