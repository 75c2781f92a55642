//! Table tests: realistic vendor messages (English, Swahili, Sheng) and the
//! exact offers each must give: title, price, currency, quantity, condition.
//! Every case also checks the invariants the gateway relies on: item indexes
//! run from 0, spans lie on char boundaries and hold the price's digits, and
//! the product key is the normalised title and its own key.

use super::offers::Condition::{self, ExUk, New, Refurbished, Used};
use super::offers::{ExtractContext, OfferDraft, extract_offers};
use super::key::normalize_title_key;
use super::offer_precision_cases::{
    addresses_directions_and_hours, buyers_questions, calls_to_action_and_payment, currency_per_message, fee_lines,
    headers_and_footers, warranty_and_delivery_notes,
};

pub(super) type Case = (&'static str, Vec<Want>);

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Want {
    pub(super) title: String,
    price: Option<String>,
    currency: String,
    quantity: Option<u32>,
    condition: Option<Condition>,
    delivery_fee: Option<String>,
}

pub(super) fn offer(title: &str, price: &str, currency: &str) -> Want {
    Want { title: title.into(), price: Some(price.into()), currency: currency.into(), quantity: None, condition: None, delivery_fee: None }
}

pub(super) fn unpriced(title: &str, currency: &str) -> Want {
    Want { title: title.into(), price: None, currency: currency.into(), quantity: None, condition: None, delivery_fee: None }
}

impl Want {
    pub(super) fn qty(mut self, quantity: u32) -> Self {
        self.quantity = Some(quantity);
        self
    }

    pub(super) fn cond(mut self, condition: Condition) -> Self {
        self.condition = Some(condition);
        self
    }

    pub(super) fn fee(mut self, delivery_fee: &str) -> Self {
        self.delivery_fee = Some(delivery_fee.into());
        self
    }
}

pub(super) fn seen(offer: &OfferDraft) -> Want {
    Want {
        title: offer.title.clone(),
        price: offer.price.map(|p| p.to_string()),
        currency: offer.currency.clone(),
        quantity: offer.quantity,
        condition: offer.condition,
        delivery_fee: offer.delivery_fee.map(|fee| fee.to_string()),
    }
}

/// Digits of the span must contain the price's significant digits: `45k`
/// holds `45` of 45000, `1.35m` holds `135` of 1350000.
fn price_digits_in_span(text: &str, offer: &OfferDraft) -> bool {
    let Some(price) = offer.price else { return true };
    let significant: String = price.normalize().to_string().chars().filter(char::is_ascii_digit).collect();
    let significant = significant.trim_start_matches('0').trim_end_matches('0');
    let span_digits: String = text[offer.span.clone()].chars().filter(char::is_ascii_digit).collect();
    span_digits.contains(significant)
}

fn check(default_currency: &str, cases: Vec<Case>) {
    let ctx = ExtractContext { default_currency };
    let mut failures = Vec::new();
    for (text, want) in &cases {
        let offers = extract_offers(text, &ctx);
        let got: Vec<Want> = offers.iter().map(seen).collect();
        if &got != want {
            failures.push(format!("{text:?}\n   got: {got:?}\n  want: {want:?}"));
        }
        for (index, offer) in offers.iter().enumerate() {
            assert_eq!(offer.item_index as usize, index, "{text:?}");
            assert!(text.get(offer.span.clone()).is_some(), "{text:?}: span {:?}", offer.span);
            assert!(price_digits_in_span(text, offer), "{text:?}: {offer:?}");
            assert_eq!(offer.product_key, normalize_title_key(&offer.title), "{text:?}");
            assert_eq!(normalize_title_key(&offer.product_key), offer.product_key, "{text:?}");
        }
    }
    assert!(failures.is_empty(), "{} of {} messages differ:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

pub(super) const GROUPS: [fn() -> Vec<Case>; 18] = [
    smoke_and_single_offers,
    numbered_and_bulleted_lists,
    several_pairs_on_one_line,
    descriptions_over_several_lines,
    was_now_and_ranges,
    quantities_and_conditions,
    offers_without_a_price,
    swahili_and_sheng,
    currencies,
    numbers_that_are_not_prices,
    greetings_and_notices,
    headers_and_footers,
    addresses_directions_and_hours,
    calls_to_action_and_payment,
    warranty_and_delivery_notes,
    buyers_questions,
    fee_lines,
    currency_per_message,
];

#[test]
fn the_tables_hold_at_least_sixty_messages() {
    let messages: usize = GROUPS.iter().map(|group| group().len()).sum();
    assert!(messages >= 60, "{messages}");
    let precision: usize = GROUPS[11..].iter().map(|group| group().len()).sum();
    assert!(precision >= 40, "{precision} cases of issue 18");
}

#[test]
fn seed_smoke_text_gives_exactly_one_offer() {
    let text = "Pixel 8 Pro - $750";
    let offers = extract_offers(text, &ExtractContext::default());
    assert_eq!(offers.len(), 1);
    assert_eq!(offers[0].title, "Pixel 8 Pro");
    assert_eq!(offers[0].price.map(|p| p.to_string()).as_deref(), Some("750"));
    assert_eq!(offers[0].currency, "USD");
    assert_eq!(offers[0].span, 0..text.len());
    assert_eq!(offers[0].item_index, 0);
}

#[test]
fn spans_cover_each_item_of_a_list() {
    let text = "New arrivals 🔥\n1. iPhone 12 64GB - 45k\n2. Samsung A54 - 38,000";
    let spans: Vec<&str> = extract_offers(text, &ExtractContext::default()).iter().map(|o| &text[o.span.clone()]).collect();
    assert_eq!(spans, ["iPhone 12 64GB - 45k", "Samsung A54 - 38,000"]);
}

#[test]
fn unmarked_prices_take_the_vendor_default_currency() {
    check("USD", vec![("Pixel 8 Pro - 750", vec![offer("Pixel 8 Pro", "750", "USD")])]);
    check("TZS", vec![("Kitenge 15,000/=", vec![offer("Kitenge", "15000", "TZS")])]);
    check("UGX", vec![("Matooke bunch Sh. 25,000", vec![offer("Matooke bunch", "25000", "UGX")])]);
    check("USD", vec![("Sugar 2kg Sh. 250, bread 65 bob", vec![offer("Sugar 2kg", "250", "KES"), offer("bread", "65", "KES")])]);
    check("NGN", vec![("Ankara 2 yards 7,500", vec![offer("Ankara 2 yards", "7500", "NGN")])]);
}

macro_rules! table_tests {
    ($($group:ident),* $(,)?) => {
        mod table {
            $(
                #[test]
                fn $group() {
                    super::check("KES", super::$group());
                }
            )*
        }
    };
}

table_tests!(
    smoke_and_single_offers,
    numbered_and_bulleted_lists,
    several_pairs_on_one_line,
    descriptions_over_several_lines,
    was_now_and_ranges,
    quantities_and_conditions,
    offers_without_a_price,
    swahili_and_sheng,
    currencies,
    numbers_that_are_not_prices,
    greetings_and_notices,
    headers_and_footers,
    addresses_directions_and_hours,
    calls_to_action_and_payment,
    warranty_and_delivery_notes,
    buyers_questions,
    fee_lines,
    currency_per_message,
);

fn smoke_and_single_offers() -> Vec<Case> {
    vec![
        ("Pixel 8 Pro - $750", vec![offer("Pixel 8 Pro", "750", "USD")]),
        ("$1.2k MacBook Air M1", vec![offer("MacBook Air M1", "1200", "USD")]),
        ("Ksh 45,000 - iPhone 11 64GB", vec![offer("iPhone 11 64GB", "45000", "KES")]),
        ("Samsung Galaxy S23 Ultra 256GB - $899", vec![offer("Samsung Galaxy S23 Ultra 256GB", "899", "USD")]),
        ("Fridge 300L 45000", vec![offer("Fridge 300L", "45000", "KES")]),
        ("Powerbank 20000mAh 2500/=", vec![offer("Powerbank 20000mAh", "2500", "KES")]),
        ("Samsung 55\" 4K UHD smart TV 65k", vec![offer("Samsung 55\" 4K UHD smart TV", "65000", "KES")]),
        ("Toyota Prado 2018 Ksh 5.5m", vec![offer("Toyota Prado 2018", "5500000", "KES")]),
        ("*iPhone 13 Pro Max* 256GB ex uk 95,000/= only!! call/whatsapp 0722 123 456", vec![offer("iPhone 13 Pro Max 256GB", "95000", "KES").cond(ExUk)]),
        ("Airpods Pro 2nd gen 2,800 only!!", vec![offer("Airpods Pro 2nd gen", "2800", "KES")]),
        ("Infinix Hot 30 (8+128) Ksh 17,999", vec![offer("Infinix Hot 30 (8+128)", "17999", "KES")]),
        ("Mango juice 500ml @ 80", vec![offer("Mango juice 500ml", "80", "KES")]),
        ("Maize 90kg bag @ 4,200", vec![offer("Maize 90kg bag", "4200", "KES")]),
        ("School bags Ksh. 850", vec![offer("School bags", "850", "KES")]),
        ("Jordan 4 retro 4,500", vec![offer("Jordan 4 retro", "4500", "KES")]),
        ("Air fryer 4.5L 6,999 only", vec![offer("Air fryer 4.5L", "6999", "KES")]),
        ("Toyota Fielder 2014 asking 1.2M", vec![offer("Toyota Fielder 2014", "1200000", "KES")]),
        ("Dell Latitude 7490 core i7 8th gen 16gb ram 512 ssd 14\" FHD touch 45k", vec![offer("Dell Latitude 7490 core i7 8th gen 16gb ram 512 ssd 14\" FHD touch", "45000", "KES")]),
        ("Hp laptop 15.6\" i5 11th gen 8/512 ex uk 38k", vec![offer("Hp laptop 15.6\" i5 11th gen 8/512", "38000", "KES").cond(ExUk)]),
        ("Samsung S22 Ultra 12/256 Ksh 65,000", vec![offer("Samsung S22 Ultra 12/256", "65000", "KES")]),
        ("Offer ends 31/12/2024: Blender 3,500", vec![offer("Blender", "3500", "KES")]),
        ("Hello family, Samsung A14 now 15,500", vec![offer("Samsung A14", "15500", "KES")]),
        ("Selling my laptop HP 840 G3 i5 8gb 256ssd clean 20k nego", vec![offer("laptop HP 840 G3 i5 8gb 256ssd clean", "20000", "KES")]),
        ("Brand new original Airpods pro ... 2,500/=", vec![offer("original Airpods pro", "2500", "KES").cond(New)]),
        ("Nike tracksuits M, L, XL - 3500", vec![offer("Nike tracksuits M, L, XL", "3500", "KES")]),
        ("Fresh milk 60 per litre", vec![offer("Fresh milk", "60", "KES")]),
        ("Samsung 65\" QLED 4K 2023 model - 189,999", vec![offer("Samsung 65\" QLED 4K 2023 model", "189999", "KES")]),
        ("Infinix Smart 8 64+3GB 11,500", vec![offer("Infinix Smart 8 64+3GB", "11500", "KES")]),
        ("Lenovo IdeaPad 3 15\" Ryzen 5 8GB 512GB 52,000", vec![offer("Lenovo IdeaPad 3 15\" Ryzen 5 8GB 512GB", "52000", "KES")]),
        ("Apple iPhone 15 Pro Max 256GB Natural Titanium $1,199", vec![offer("Apple iPhone 15 Pro Max 256GB Natural Titanium", "1199", "USD")]),
        ("Tecno Spark 20 Pro+ 256GB+8GB 22.5k", vec![offer("Tecno Spark 20 Pro+ 256GB+8GB", "22500", "KES")]),
        ("HP ProBook 450 G7, 10th gen i5, 16gb/512gb ssd, ex-uk @ 38k", vec![offer("HP ProBook 450 G7, 10th gen i5, 16gb/512gb ssd", "38000", "KES").cond(ExUk)]),
        ("Subaru Forester 2012, 2000cc, 1.45m", vec![offer("Subaru Forester 2012, 2000cc", "1450000", "KES")]),
        ("Land for sale 50 by 100 in Juja @ 1.2M", vec![offer("Land for sale 50 by 100 in Juja", "1200000", "KES")]),
        ("Sony PS5 + 2 controllers + FIFA 24 = 68,000", vec![offer("Sony PS5 + 2 controllers + FIFA 24", "68000", "KES")]),
        ("2 bedroom Kileleshwa 65k/month", vec![offer("2 bedroom Kileleshwa", "65000", "KES")]),
        ("New Balance 574 sz 42 - 6,500", vec![offer("New Balance 574 sz 42", "6500", "KES")]),
        ("PlayStation 4 slim 500gb used - 28k ono", vec![offer("PlayStation 4 slim 500gb", "28000", "KES").cond(Used)]),
    ]
}

fn numbered_and_bulleted_lists() -> Vec<Case> {
    vec![
        ("New arrivals 🔥\n1. iPhone 12 64GB - 45k\n2. Samsung A54 - 38,000\n3. Tecno Spark 10 - 16.5k\nCall 0712345678", vec![
            offer("iPhone 12 64GB", "45000", "KES"),
            offer("Samsung A54", "38000", "KES"),
            offer("Tecno Spark 10", "16500", "KES"),
        ]),
        ("*PRICE LIST*\nHP 250 G8 i5 - 42,000\nDell 5490 i7 - 38,500\nLenovo X1 Carbon - 55k\nAll ex-UK 💯", vec![
            offer("HP 250 G8 i5", "42000", "KES").cond(ExUk),
            offer("Dell 5490 i7", "38500", "KES").cond(ExUk),
            offer("Lenovo X1 Carbon", "55000", "KES").cond(ExUk),
        ]),
        ("1\u{fe0f}\u{20e3} Blender 3,500\n2\u{fe0f}\u{20e3} Kettle 1,800\n3\u{fe0f}\u{20e3} Iron box 1,200", vec![
            offer("Blender", "3500", "KES"),
            offer("Kettle", "1800", "KES"),
            offer("Iron box", "1200", "KES"),
        ]),
        ("🔥🔥HOT DEALS🔥🔥\n✅ Samsung A05 64GB - 13,999\n✅ Redmi 13C 128GB - 15,500\n✅ Itel A70 - 9,800\nFree delivery within CBD 🚚", vec![
            offer("Samsung A05 64GB", "13999", "KES"),
            offer("Redmi 13C 128GB", "15500", "KES"),
            offer("Itel A70", "9800", "KES"),
        ]),
        ("Phones available:\niPhone 11 - 35k\niPhone 12 - 45k\nSamsung S21 - inbox", vec![
            offer("iPhone 11", "35000", "KES"),
            offer("iPhone 12", "45000", "KES"),
            unpriced("Samsung S21", "KES"),
        ]),
        ("Habari wateja wetu! Mzigo mpya umefika 🔥\nViatu vya Nike - 2500\nJeans trousers @1200\nT-shirts 3 kwa 1000\nKaribuni sana", vec![
            offer("Viatu vya Nike", "2500", "KES"),
            offer("Jeans trousers", "1200", "KES"),
            offer("T-shirts", "1000", "KES").qty(3),
        ]),
        ("Unga wa ngano 2kg 180/-\nSukari 1kg 160/-\nMafuta 1L 350/-", vec![
            offer("Unga wa ngano 2kg", "180", "KES"),
            offer("Sukari 1kg", "160", "KES"),
            offer("Mafuta 1L", "350", "KES"),
        ]),
        ("Weekend offer!!! 🛍\u{fe0f}\n*Smart watches* - 2,000\n*Earbuds* - 1,500\n*Power banks 10,000mAh* - 1,800\n📞 0712 345 678", vec![
            offer("Smart watches", "2000", "KES"),
            offer("Earbuds", "1500", "KES"),
            offer("Power banks 10,000mAh", "1800", "KES"),
        ]),
        ("Fresh avocados: 5 for 100\nMangoes: 3 for 100\nPawpaw: 80 each", vec![
            offer("Fresh avocados", "100", "KES").qty(5),
            offer("Mangoes", "100", "KES").qty(3),
            offer("Pawpaw", "80", "KES"),
        ]),
    ]
}

fn several_pairs_on_one_line() -> Vec<Case> {
    vec![
        ("Sugar 2kg 250, Rice 5kg 900, Cooking oil 3L 780", vec![
            offer("Sugar 2kg", "250", "KES"),
            offer("Rice 5kg", "900", "KES"),
            offer("Cooking oil 3L", "780", "KES"),
        ]),
        ("Tomatoes 50 bob, onions 30 bob, sukuma 20 bob", vec![
            offer("Tomatoes", "50", "KES"),
            offer("onions", "30", "KES"),
            offer("sukuma", "20", "KES"),
        ]),
        ("Laptop bag 1.5k, mouse 500, keyboard 800", vec![
            offer("Laptop bag", "1500", "KES"),
            offer("mouse", "500", "KES"),
            offer("keyboard", "800", "KES"),
        ]),
        ("iPhone 12 64GB 45k, 128GB 50k", vec![
            offer("iPhone 12 64GB", "45000", "KES"),
            offer("iPhone 12 128GB", "50000", "KES"),
        ]),
        ("Samsung A14 64gb 15,500 | 128gb 18,500", vec![
            offer("Samsung A14 64gb", "15500", "KES"),
            offer("Samsung A14 128gb", "18500", "KES"),
        ]),
        ("PS4 games: FIFA 23 - 2,500, GTA V - 2,000, COD - 1,800", vec![
            offer("FIFA 23", "2500", "KES"),
            offer("GTA V", "2000", "KES"),
            offer("COD", "1800", "KES"),
        ]),
        ("Ndoo 20L 250, karai 400, sufuria set 1.8k", vec![
            offer("Ndoo 20L", "250", "KES"),
            offer("karai", "400", "KES"),
            offer("sufuria set", "1800", "KES"),
        ]),
        ("Watches 1200, wallets 800, belts 500 bob each", vec![
            offer("Watches", "1200", "KES"),
            offer("wallets", "800", "KES"),
            offer("belts", "500", "KES"),
        ]),
        ("Carpets 5x8 2,800, 6x9 3,500", vec![
            offer("Carpets 5x8", "2800", "KES"),
            offer("Carpets 6x9", "3500", "KES"),
        ]),
        ("Bedsheets 4x6 @ 1,500, 5x6 @ 1,800, 6x6 @ 2,200", vec![
            offer("Bedsheets 4x6", "1500", "KES"),
            offer("Bedsheets 5x6", "1800", "KES"),
            offer("Bedsheets 6x6", "2200", "KES"),
        ]),
        ("Eggs @ 15 bob each, tray 400", vec![
            offer("Eggs", "15", "KES"),
            offer("tray", "400", "KES"),
        ]),
        ("Solar panel 150W 9,500 + battery 100Ah 18,000", vec![
            offer("Solar panel 150W", "9500", "KES"),
            offer("battery 100Ah", "18000", "KES"),
        ]),
        ("Good morning! Fresh eggs tray 450, kienyeji chicken 1,200. Karibu", vec![
            offer("Fresh eggs tray", "450", "KES"),
            offer("kienyeji chicken", "1200", "KES"),
        ]),
        ("Chapati 20 bob, mandazi 10 bob, chai 30 bob", vec![
            offer("Chapati", "20", "KES"),
            offer("mandazi", "10", "KES"),
            offer("chai", "30", "KES"),
        ]),
        ("iPhone 11 (64gb) 30k, iPhone 11 Pro (256gb) 42k, iPhone 12 mini 35k", vec![
            offer("iPhone 11 (64gb)", "30000", "KES"),
            offer("iPhone 11 Pro (256gb)", "42000", "KES"),
            offer("iPhone 12 mini", "35000", "KES"),
        ]),
        ("Dining table 6 seater 25k, coffee table 7k, TV stand 12k. All mninga wood.", vec![
            offer("Dining table 6 seater", "25000", "KES"),
            offer("coffee table", "7000", "KES"),
            offer("TV stand", "12000", "KES"),
        ]),
        ("Dress 1k, 2 for 1.8k", vec![
            offer("Dress", "1000", "KES"),
            offer("Dress", "1800", "KES").qty(2),
        ]),
    ]
}

fn descriptions_over_several_lines() -> Vec<Case> {
    vec![
        ("HP EliteBook 840 G5\nCore i5 8th gen, 8GB RAM, 256GB SSD\nEx-UK\nPrice: 35,000", vec![offer("HP EliteBook 840 G5", "35000", "KES").cond(ExUk)]),
        ("Toyota Vitz 2015\nMileage 80,000km\nVery clean, accident free\nKsh 650,000 negotiable", vec![offer("Toyota Vitz 2015", "650000", "KES")]),
        ("Lenovo ThinkPad T480\n- Core i5\n- 8GB RAM\n- 256GB SSD\nPrice 28k", vec![offer("Lenovo ThinkPad T480", "28000", "KES")]),
        ("Hisense 32\" smart TV\nBei: 16,500\nWarranty 1 year", vec![offer("Hisense 32\" smart TV", "16500", "KES")]),
        ("Ladies handbags\nKsh 1500 each\nAssorted colours", vec![offer("Ladies handbags", "1500", "KES")]),
        ("iPhone 12\n64GB - 45k\n128GB - 50k", vec![
            offer("iPhone 12 64GB", "45000", "KES"),
            offer("iPhone 12 128GB", "50000", "KES"),
        ]),
        ("Samsung A14 64gb\nWas 18,500 now 15,500", vec![offer("Samsung A14 64gb", "15500", "KES")]),
        ("Xiaomi Redmi Note 12 (8/256) - 23k. 1 year warranty. Delivery countrywide.", vec![offer("Xiaomi Redmi Note 12 (8/256)", "23000", "KES")]),
        ("Sofa set 5 seater - Ksh 45,000. Free delivery within Nairobi. Call 0712 345 678", vec![offer("Sofa set 5 seater", "45000", "KES")]),
    ]
}

fn was_now_and_ranges() -> Vec<Case> {
    vec![
        ("Was 5,000 now 4,000 - Nike Air Force 1", vec![offer("Nike Air Force 1", "4000", "KES")]),
        ("Nike Air Force 1 size 42 was 5000 now 4000", vec![offer("Nike Air Force 1 size 42", "4000", "KES")]),
        ("~Ksh 5,000~ Ksh 3,999 Nike Air Max", vec![offer("Nike Air Max", "3999", "KES")]),
        ("Kids shoes ksh 800-1200", vec![offer("Kids shoes", "800", "KES")]),
        ("Watermelon 150 - 300 depending on size", vec![offer("Watermelon", "150", "KES")]),
        ("Laptops from 15k", vec![offer("Laptops", "15000", "KES")]),
        ("Ankara dresses N15,000 / ₦15,000", vec![offer("Ankara dresses", "15000", "NGN")]),
        ("Oven 30L 9,999 (was 12,500)", vec![offer("Oven 30L", "9999", "KES")]),
    ]
}

fn quantities_and_conditions() -> Vec<Case> {
    vec![
        ("Socks 3 for 100", vec![offer("Socks", "100", "KES").qty(3)]),
        ("Shoes 2 pcs 3000 each", vec![offer("Shoes", "3000", "KES").qty(2)]),
        ("Chairs 12 pcs 1,200 each", vec![offer("Chairs", "1200", "KES").qty(12)]),
        ("Vitenge 2 for 1500", vec![offer("Vitenge", "1500", "KES").qty(2)]),
        ("Tshirts x3 ksh 1000", vec![offer("Tshirts", "1000", "KES").qty(3)]),
        ("Phone charger + cable 1,500 (2 pcs)", vec![offer("Phone charger + cable", "1500", "KES").qty(2)]),
        ("Curtains 2 for 3k", vec![offer("Curtains", "3000", "KES").qty(2)]),
        ("Mango 4 for 100 bob", vec![offer("Mango", "100", "KES").qty(4)]),
        ("Avocado 3 kwa 50", vec![offer("Avocado", "50", "KES").qty(3)]),
        ("Refurbished MacBook Pro 2019 i7 16GB 512GB €850", vec![offer("MacBook Pro 2019 i7 16GB 512GB", "850", "EUR").cond(Refurbished)]),
        ("Pre-owned iPad Air 4 64GB wifi $350 o.n.o", vec![offer("iPad Air 4 64GB wifi", "350", "USD").cond(Used)]),
        ("Refurb Lenovo T470 i5 6th gen 8gb 256ssd @ 18,500/=", vec![offer("Lenovo T470 i5 6th gen 8gb 256ssd", "18500", "KES").cond(Refurbished)]),
        ("Brand new PS5 slim with 2 pads. 75,000 ono", vec![offer("PS5 slim with 2 pads", "75000", "KES").cond(New)]),
        ("Toyota Axio 2016 ex-Japan, 1.35m negotiable", vec![offer("Toyota Axio 2016", "1350000", "KES").cond(Used)]),
        ("Second hand fridge Ramtons 200L, bado iko poa, 15k", vec![offer("fridge Ramtons 200L", "15000", "KES").cond(Used)]),
        ("Ex-uk laptops from 15k. Inbox for more.", vec![offer("laptops", "15000", "KES").cond(ExUk)]),
    ]
}

fn offers_without_a_price() -> Vec<Case> {
    vec![
        ("Brand new Samsung 43 inch smart TV available, inbox for price", vec![unpriced("Samsung 43 inch smart TV", "KES").cond(New)]),
        ("Available:\n- HP 250 G8\n- Dell Latitude 5490\nInbox for prices", vec![
            unpriced("HP 250 G8", "KES"),
            unpriced("Dell Latitude 5490", "KES"),
        ]),
        ("iPhone 14 Pro Max\niPhone 13 Pro\nSamsung S23 Ultra\nDM for prices", vec![
            unpriced("iPhone 14 Pro Max", "KES"),
            unpriced("iPhone 13 Pro", "KES"),
            unpriced("Samsung S23 Ultra", "KES"),
        ]),
        ("Inbox for price 📥\nSamsung Galaxy A34 5G", vec![unpriced("Samsung Galaxy A34 5G", "KES")]),
        ("Mitumba jackets, bei poa. Inbox", vec![unpriced("jackets", "KES").cond(Used)]),
        ("Samsung A14 call 0712 345 678", vec![unpriced("Samsung A14", "KES")]),
        ("NEW STOCK!\nInbox for prices", vec![]),
        ("DM for price 📩", vec![]),
    ]
}

fn swahili_and_sheng() -> Vec<Case> {
    vec![
        ("Bei ya viatu ni 1500 kila jozi, mpya", vec![offer("viatu", "1500", "KES").cond(New)]),
        ("Sukuma wiki 20 bob, nyanya 10 bob kila moja", vec![
            offer("Sukuma wiki", "20", "KES"),
            offer("nyanya", "10", "KES"),
        ]),
        ("Simu mpya Tecno Camon 20 bei 21,000 tu", vec![offer("Simu Tecno Camon 20", "21000", "KES").cond(New)]),
        ("iPhone XR 64gb used ila iko poa 18k", vec![offer("iPhone XR 64gb", "18000", "KES").cond(Used)]),
        ("Mangoes @ 20 kila moja", vec![offer("Mangoes", "20", "KES")]),
        ("Kuku wa kienyeji 1k kila mmoja", vec![offer("Kuku wa kienyeji", "1000", "KES")]),
        ("Kilo ya nyama 700 bob", vec![offer("Kilo ya nyama", "700", "KES")]),
        ("Meza ya plastiki 1,200 bob kila moja, viti 450 bob", vec![
            offer("Meza ya plastiki", "1200", "KES"),
            offer("viti", "450", "KES"),
        ]),
        ("Maziwa lala 500ml 70 bob", vec![offer("Maziwa lala 500ml", "70", "KES")]),
        ("Mambo vipi? Tuko na offer leo: Smart watch 1500 tu!", vec![offer("Smart watch", "1500", "KES")]),
        ("Viatu 👟 bei 1,500 tu. Saizi 40-45", vec![offer("Viatu", "1500", "KES")]),
        ("Mtumba shirts 200 kila moja, trousers 350", vec![
            offer("shirts", "200", "KES").cond(Used),
            offer("trousers", "350", "KES"),
        ]),
        ("Uji flour 2kg @ 200 bob. Asante", vec![offer("Uji flour 2kg", "200", "KES")]),
    ]
}

fn currencies() -> Vec<Case> {
    vec![
        ("JBL Flip 6 speaker UGX 450,000", vec![offer("JBL Flip 6 speaker", "450000", "UGX")]),
        ("Oraimo earbuds - TZS 45,000", vec![offer("Oraimo earbuds", "45000", "TZS")]),
        ("Tsh 20,000 kitenge mpya", vec![offer("kitenge", "20000", "TZS").cond(New)]),
        ("USh 50,000 for the gomesi", vec![offer("gomesi", "50000", "UGX")]),
        ("ZAR 1,299 Samsung Galaxy Buds", vec![offer("Samsung Galaxy Buds", "1299", "ZAR")]),
        ("Infinix Note 30 NGN 185,000", vec![offer("Infinix Note 30", "185000", "NGN")]),
        ("Gaming PC RTX 3060, 16GB, 1TB - R 12 500", vec![offer("Gaming PC RTX 3060, 16GB, 1TB", "12500", "ZAR")]),
        ("Used fridge £120, microwave £40", vec![
            offer("fridge", "120", "GBP").cond(Used),
            offer("microwave", "40", "GBP"),
        ]),
        ("Prices in USD\niPhone 15 Pro - 999\nAirPods Pro - 249", vec![
            offer("iPhone 15 Pro", "999", "USD"),
            offer("AirPods Pro", "249", "USD"),
        ]),
    ]
}

fn numbers_that_are_not_prices() -> Vec<Case> {
    vec![
        ("Nike Air Max size 42 - Ksh 2,500", vec![offer("Nike Air Max size 42", "2500", "KES")]),
        ("Sneakers sizes 38-44 @ 2,500", vec![offer("Sneakers sizes 38-44", "2500", "KES")]),
        ("Cooking gas 13kg full set 8,500. Call or WhatsApp 0700 111 222", vec![offer("Cooking gas 13kg full set", "8500", "KES")]),
        ("Gas cooker 4 burners 2 years old 12,000 negotiable", vec![offer("Gas cooker 4 burners 2 years old", "12000", "KES")]),
        ("2020 Mazda Demio 1.3 m, ksh 1,150,000", vec![offer("2020 Mazda Demio", "1150000", "KES")]),
        ("Ladies shoes available in sizes 37 to 41, 1,800 each", vec![offer("Ladies shoes in sizes 37 to 41", "1800", "KES")]),
        ("Gas cylinder 6kg refill 1,100", vec![offer("Gas cylinder 6kg refill", "1100", "KES")]),
        ("Tomatoes 1 crate 3,500", vec![offer("Tomatoes 1 crate", "3500", "KES")]),
        ("House for sale in Kitengela, 3 bedroom, 50x100 plot. Asking 6.5m", vec![offer("House for sale in Kitengela, 3 bedroom, 50x100 plot", "6500000", "KES")]),
        ("3 bedroom apartment to let, Ruaka. Rent 35,000 per month. Call 0722000111", vec![offer("3 bedroom apartment to let, Ruaka", "35000", "KES")]),
        ("Rental: 2 bedroom house Kilimani 45k per month", vec![offer("2 bedroom house Kilimani", "45000", "KES")]),
        ("Price 4500. Size 40,41,42,43", vec![]),
        ("Price: 2,500 (was 3,000)", vec![]),
        ("Ksh 2,500 only", vec![]),
        ("12/05 delivery slots available", vec![]),
        ("Meeting tomorrow at 10:30", vec![]),
    ]
}

fn greetings_and_notices() -> Vec<Case> {
    vec![
        ("Good morning family", vec![]),
        ("Shop closed tomorrow", vec![]),
        ("Thank you for your order", vec![]),
        ("Delivery fee 200", vec![]),
        ("📍 Location: Nairobi CBD, Luthuli Avenue\nOpen Monday to Saturday 8am - 7pm", vec![]),
        ("Happy new year family 🎉🎉", vec![]),
        ("Dear customers, we will be closed on 25th and 26th December. Merry Christmas!", vec![]),
        ("Stock clearance sale!! Everything 50% off", vec![]),
        ("Asante for shopping with us 🙏", vec![]),
        ("Thank you all for your support this year 🙏🙏", vec![]),
        ("Reminder: orders placed after 5pm will be delivered tomorrow", vec![]),
        ("Sawa, nitakuja kesho asubuhi", vec![]),
        ("ok", vec![]),
        ("Order yours today! Visit https://wa.me/p/7123456789012345/254712345678 for details", vec![]),
        ("Check our catalog wa.me/c/254712345678", vec![]),
        ("Sofa 45k, delivery fee 500", vec![offer("Sofa", "45000", "KES").fee("500")]),
        ("iPhone 12 - 45k (delivery fee 200)", vec![offer("iPhone 12", "45000", "KES").fee("200")]),
        ("Thank you for your order of Sofa set Ksh 45,000", vec![]),
        ("Lipa na M-Pesa till 123456", vec![]),
    ]
}
