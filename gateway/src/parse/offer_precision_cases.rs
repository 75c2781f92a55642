//! Regression cases of issue 18, "nothing that is not for sale becomes an
//! offer": headers and footers (some carrying numbers), addresses, directions
//! and opening hours, calls to action and payment instructions, warranty and
//! delivery notes, buyers' questions in English, Swahili/Sheng and Nigerian
//! Pidgin, fee lines (kept on the items as `delivery_fee`) and the currency
//! decided per message. Realistic vendor texts, mixed with real offers; the
//! table runner and the tally live in `offers_tests`.

use super::offers::Condition::{ExUk, New, Used};
use super::offers_tests::{Case, offer, unpriced};

pub(super) fn headers_and_footers() -> Vec<Case> {
    vec![
        ("Phone accessories available 🔥\nOraimo earbuds - 2,500\nType C cable - 400\nInbox to order 📩", vec![
            offer("Oraimo earbuds", "2500", "KES"),
            offer("Type C cable", "400", "KES"),
        ]),
        ("TOP 5 DEALS THIS WEEK 🔥\n1. Samsung A15 - 17,999\n2. Redmi 13C - 14,500\nAll original. Delivery within Westlands 250", vec![
            offer("Samsung A15", "17999", "KES").fee("250"),
            offer("Redmi 13C", "14500", "KES").fee("250"),
        ]),
        ("Price list as at 1st June 2024 📋\nHP 840 G5 - 35k\nDell 7490 - 38k\nOver 500 happy customers served 🙏", vec![
            offer("HP 840 G5", "35000", "KES"),
            offer("Dell 7490", "38000", "KES"),
        ]),
        ("Ladies wear collection 👗\nMaxi dress 1,800\nBodycon 1,200\nSizes 8 - 16 available", vec![
            offer("Maxi dress", "1800", "KES"),
            offer("Bodycon", "1200", "KES"),
        ]),
        ("Kitchen appliances in stock\nRamtons kettle 1,950\nVon hotpoint microwave 9,800\nOffer valid for 7 days only!", vec![
            offer("Ramtons kettle", "1950", "KES"),
            offer("Von hotpoint microwave", "9800", "KES"),
        ]),
        ("Mzigo mpya wa viatu umefika 👟\nNike Air Force 1 - 3,500\nVans old skool - 2,800\nKaribuni wote, bei ni poa sana", vec![
            offer("Nike Air Force 1", "3500", "KES"),
            offer("Vans old skool", "2800", "KES"),
        ]),
        ("Fresh stock don land o 🔥\nAnkara 6 yards ₦12,000\nLace fabric ₦25,000\nNa first come first serve", vec![
            offer("Ankara 6 yards", "12000", "NGN"),
            offer("Lace fabric", "25000", "NGN"),
        ]),
    ]
}

pub(super) fn addresses_directions_and_hours() -> Vec<Case> {
    vec![
        ("Samsung A05s 64GB - 13,500\nShop 12, Luthuli Ave, Nairobi CBD", vec![offer("Samsung A05s 64GB", "13500", "KES")]),
        ("Find us at Tom Mboya street, Shop B14 opposite Ambassadeur\nOpen Mon - Sat 8am - 7pm", vec![]),
        ("Tecno Spark 20 - 16,999\nInfinix Hot 40i - 14,999\nWe are located at Luthuli Avenue, Room 4, 2nd floor", vec![
            offer("Tecno Spark 20", "16999", "KES"),
            offer("Infinix Hot 40i", "14999", "KES"),
        ]),
        ("Tuko Kenyatta Market stall 21, karibu sana\nMasaa: 8:00 - 18:00 kila siku", vec![]),
        ("Oraimo powerbank 20000mAh 2,800\nOpening hours: Monday to Saturday 9am to 6pm, Sunday 11am to 4pm", vec![
            offer("Oraimo powerbank 20000mAh", "2800", "KES"),
        ]),
        ("Our shop dey for Computer Village, Ikeja, opposite Otigba street\nWe open 8am to 7pm daily", vec![]),
    ]
}

pub(super) fn calls_to_action_and_payment() -> Vec<Case> {
    vec![
        ("Inbox to order 📩", vec![]),
        ("Samsung Galaxy A25 128GB - 27,999\nCall or WhatsApp 0712 345 678 to order\nPay via M-Pesa till 5544332", vec![
            offer("Samsung Galaxy A25 128GB", "27999", "KES"),
        ]),
        ("Order now before stock runs out! DM us 📲", vec![]),
        ("iPhone 11 64GB ₦280,000\nPayment before delivery. Account name: Gadget Hub, Opay 8123456789", vec![
            offer("iPhone 11 64GB", "280000", "NGN"),
        ]),
        ("Lipa kwa M-Pesa, paybill 247247 account 0712345678. Tuma order yako sasa!", vec![]),
        ("Click the link to see our catalogue 👇 Send your order today", vec![]),
    ]
}

pub(super) fn warranty_and_delivery_notes() -> Vec<Case> {
    vec![
        ("JBL Charge 5 speaker - 14,500\n1 year warranty on all speakers\nSame day delivery within Nairobi", vec![
            offer("JBL Charge 5 speaker", "14500", "KES"),
        ]),
        ("Warranty: 6 months on all ex-UK laptops. No returns after 7 days.", vec![]),
        ("We deliver countrywide via G4S and Easy Coach 🚚", vec![]),
        ("Hisense 43\" smart TV 28,500\nDhamana mwaka mmoja. Tunadeliver kote Nairobi", vec![offer("Hisense 43\" smart TV", "28500", "KES")]),
        ("Goods once sold are not returnable. Delivery nationwide 📦", vec![]),
    ]
}

pub(super) fn buyers_questions() -> Vec<Case> {
    vec![
        ("how much is the Tecno Camon 20? still there?", vec![]),
        ("Is the A14 still 15k?", vec![]),
        ("Hi, is the HP EliteBook 840 G5 still available?", vec![]),
        ("Do you have iPhone 13 Pro Max 256GB? What's the price?", vec![]),
        ("Hii Samsung A14 bei gani?", vec![]),
        ("Niaje boss, ile Tecno Camon 20 iko?", vec![]),
        ("Mambo, iPhone 11 64GB ni ngapi", vec![]),
        ("Sofa set ya 5 seater ni ngapi na mnadeliver Ruaka?", vec![]),
        ("How far, the Infinix Hot 30 still dey?", vec![]),
        ("Abeg how much for the Samsung 43 inch TV", vec![]),
        ("Oga abeg how much be this Itel A70? Last price", vec![]),
        ("Looking for a laptop? HP ProBook 450 G7 i5 - 38k", vec![offer("HP ProBook 450 G7 i5", "38000", "KES")]),
        ("Oraimo FreePods 4 - 3,999\nAny question? Inbox us", vec![offer("Oraimo FreePods 4", "3999", "KES")]),
    ]
}

pub(super) fn fee_lines() -> Vec<Case> {
    vec![
        ("Sofa set 5 seater 45,000\nDelivery fee 500 within Nairobi", vec![offer("Sofa set 5 seater", "45000", "KES").fee("500")]),
        ("Shipping 1,500", vec![]),
        ("Transport to Mombasa 800", vec![]),
        ("Airpods Pro 2 - 3,500\nEarPods - 1,200\n+ packaging 50 bob", vec![
            offer("Airpods Pro 2", "3500", "KES").fee("50"),
            offer("EarPods", "1200", "KES").fee("50"),
        ]),
        ("Gas cylinder 13kg 3,400, delivery 200", vec![offer("Gas cylinder 13kg", "3400", "KES").fee("200")]),
        ("Wig 18 inches ₦45,000\nDelivery within Lagos ₦3,000", vec![offer("Wig 18 inches", "45000", "NGN").fee("3000")]),
        ("Unga 2kg 180\nSukari 1kg 160\nUsafiri 100", vec![
            offer("Unga 2kg", "180", "KES").fee("100"),
            offer("Sukari 1kg", "160", "KES").fee("100"),
        ]),
        ("Mattress 5x6 8,500\nFree delivery within CBD", vec![offer("Mattress 5x6", "8500", "KES")]),
        ("Fridge 138L Ksh 24,000\nDelivery CBD 300, outside Nairobi 1,000", vec![offer("Fridge 138L", "24000", "KES")]),
    ]
}

pub(super) fn currency_per_message() -> Vec<Case> {
    vec![
        ("Tecno Spark 10 N95,000\nItel A60 N55,000\nInfinix Smart 8 - inbox", vec![
            offer("Tecno Spark 10", "95000", "NGN"),
            offer("Itel A60", "55000", "NGN"),
            unpriced("Infinix Smart 8", "NGN"),
        ]),
        ("Shoes ₦15,000\nBags 8,500\nBelts 3,000", vec![
            offer("Shoes", "15000", "NGN"),
            offer("Bags", "8500", "NGN"),
            offer("Belts", "3000", "NGN"),
        ]),
        ("Samsung A54 $320\nSamsung A34 250", vec![
            offer("Samsung A54", "320", "USD"),
            offer("Samsung A34", "250", "USD"),
        ]),
        ("iPhone 12 $400\nAirPods Ksh 3,500", vec![
            offer("iPhone 12", "400", "USD"),
            offer("AirPods", "3500", "KES"),
        ]),
        ("Vitenge TZS 20,000\nKanga 12,000\nUsed jeans 8,000", vec![
            offer("Vitenge", "20000", "TZS"),
            offer("Kanga", "12000", "TZS"),
            offer("jeans", "8000", "TZS").cond(Used),
        ]),
        ("Brand new Samsung 43 inch TV ₦210,000\nLG 32 inch - inbox for price", vec![
            offer("Samsung 43 inch TV", "210000", "NGN").cond(New),
            unpriced("LG 32 inch", "NGN"),
        ]),
        ("Ex-UK HP 840 G3 £180\nDell 5490 £210", vec![
            offer("HP 840 G3", "180", "GBP").cond(ExUk),
            offer("Dell 5490", "210", "GBP"),
        ]),
    ]
}
