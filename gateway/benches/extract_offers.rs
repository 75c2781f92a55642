//! Offer extraction throughput over a realistic mixed corpus of vendor
//! messages: single offers, price lists, multi-pair lines, multi-line
//! descriptions, price-less offers, greetings and notices, links, in English,
//! Swahili and Sheng. Criterion reports elements (messages) per second.
//!
//! Criterion measures wall-clock time, which on a shared machine counts the
//! time other processes hold the core. The bench therefore also prints a
//! CPU-time figure first: messages per second of this thread's own CPU time
//! (Linux `/proc/thread-self/stat`, 10 ms ticks, over about two seconds).
//!
//! Run: `cargo bench -p gateway --bench extract_offers`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use gateway::parse::{ExtractContext, extract_offers, find_whatsapp_links};

const CORPUS: &[&str] = &[
    "Pixel 8 Pro - $750",
    "New arrivals 🔥\n1. iPhone 12 64GB - 45k\n2. Samsung A54 - 38,000\n3. Tecno Spark 10 - 16.5k\nCall 0712345678",
    "HP EliteBook 840 G5\nCore i5 8th gen, 8GB RAM, 256GB SSD\nEx-UK\nPrice: 35,000",
    "Sugar 2kg 250, Rice 5kg 900, Cooking oil 3L 780",
    "Brand new Samsung 43 inch smart TV available, inbox for price",
    "Good morning family 🌞🙏",
    "Shop closed tomorrow",
    "Thank you for your order",
    "Toyota Vitz 2015\nMileage 80,000km\nVery clean, accident free\nKsh 650,000 negotiable",
    "Available:\n- HP 250 G8\n- Dell Latitude 5490\nInbox for prices",
    "Tomatoes 50 bob, onions 30 bob, sukuma 20 bob",
    "Mangoes @ 20 kila moja",
    "Socks 3 for 100",
    "Powerbank 20000mAh 2500/=",
    "Samsung 55\" 4K UHD smart TV 65k",
    "Toyota Prado 2018 Ksh 5.5m",
    "iPhone 12 64GB 45k, 128GB 50k",
    "Bei ya viatu ni 1500 kila jozi, mpya",
    "*iPhone 13 Pro Max* 256GB ex uk 95,000/= only!! call/whatsapp 0722 123 456",
    "Habari wateja wetu! Mzigo mpya umefika 🔥\nViatu vya Nike - 2500\nJeans trousers @1200\nT-shirts 3 kwa 1000\nKaribuni sana",
    "Unga wa ngano 2kg 180/-\nSukari 1kg 160/-\nMafuta 1L 350/-",
    "Mitumba jackets, bei poa. Inbox",
    "*PRICE LIST*\nHP 250 G8 i5 - 42,000\nDell 5490 i7 - 38,500\nLenovo X1 Carbon - 55k\nAll ex-UK 💯",
    "Hisense 32\" smart TV\nBei: 16,500\nWarranty 1 year",
    "Samsung A14 64gb\nWas 18,500 now 15,500",
    "📍 Location: Nairobi CBD, Luthuli Avenue\nOpen Monday to Saturday 8am - 7pm",
    "1️⃣ Blender 3,500\n2️⃣ Kettle 1,800\n3️⃣ Iron box 1,200",
    "🔥🔥HOT DEALS🔥🔥\n✅ Samsung A05 64GB - 13,999\n✅ Redmi 13C 128GB - 15,500\n✅ Itel A70 - 9,800\nFree delivery within CBD 🚚",
    "Order yours today! Visit https://wa.me/p/7123456789012345/254712345678 for details",
    "Check our catalog wa.me/c/254712345678",
    "Good morning! Fresh eggs tray 450, kienyeji chicken 1,200. Karibu",
    "Dear customers, we will be closed on 25th and 26th December. Merry Christmas!",
    "Dell Latitude 7490 core i7 8th gen 16gb ram 512 ssd 14\" FHD touch 45k",
    "Selling my laptop HP 840 G3 i5 8gb 256ssd clean 20k nego",
    "iPhone 14 Pro Max\niPhone 13 Pro\nSamsung S23 Ultra\nDM for prices",
    "Refurbished MacBook Pro 2019 i7 16GB 512GB €850",
    "JBL Flip 6 speaker UGX 450,000",
    "Oraimo earbuds - TZS 45,000",
    "Kuku wa kienyeji 1k kila mmoja",
    "ok",
    "Sawa, nitakuja kesho asubuhi",
    "Meeting tomorrow at 10:30",
    "Xiaomi Redmi Note 12 (8/256) - 23k. 1 year warranty. Delivery countrywide.",
    "Sofa set 5 seater - Ksh 45,000. Free delivery within Nairobi. Call 0712 345 678",
    "Watches 1200, wallets 800, belts 500 bob each",
    "Gas cylinder 6kg refill 1,100",
    "Ankara dresses N15,000",
    "3 bedroom apartment to let, Ruaka. Rent 35,000 per month. Call 0722000111",
];

/// This thread's user + system CPU time, from `/proc/thread-self/stat`
/// (fields 14 and 15, in USER_HZ ticks of 10 ms). `None` off Linux.
fn thread_cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // Fields after the parenthesised command name, which may hold spaces.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

/// Messages per second of CPU time, over about two seconds of wall time.
fn cpu_time_throughput(ctx: &ExtractContext<'_>) -> Option<f64> {
    let cpu_start = thread_cpu_time()?;
    let wall_start = Instant::now();
    let mut messages = 0u64;
    while wall_start.elapsed() < Duration::from_secs(2) {
        for message in CORPUS {
            black_box(extract_offers(black_box(message), ctx));
        }
        messages += CORPUS.len() as u64;
    }
    let cpu = thread_cpu_time()?.checked_sub(cpu_start)?;
    (cpu > Duration::ZERO).then(|| messages as f64 / cpu.as_secs_f64())
}

fn bench_extract(c: &mut Criterion) {
    let ctx = ExtractContext { default_currency: "KES" };
    let total_offers: usize = CORPUS.iter().map(|m| extract_offers(m, &ctx).len()).sum();
    let mean_bytes = CORPUS.iter().map(|m| m.len()).sum::<usize>() / CORPUS.len();
    println!("corpus: {} messages, {total_offers} offers, mean {mean_bytes} bytes/message", CORPUS.len());
    if let Some(rate) = cpu_time_throughput(&ctx) {
        println!("extract_offers: {rate:.0} messages per second of CPU time (one thread)");
    }

    let mut group = c.benchmark_group("extract_offers");
    group.throughput(Throughput::Elements(CORPUS.len() as u64));
    group.bench_function("mixed_corpus", |b| {
        b.iter(|| {
            for message in CORPUS {
                black_box(extract_offers(black_box(message), &ctx));
            }
        })
    });
    group.bench_function("mixed_corpus_with_links", |b| {
        b.iter(|| {
            for message in CORPUS {
                black_box(extract_offers(black_box(message), &ctx));
                black_box(find_whatsapp_links(black_box(message), phonenumber::country::Id::KE));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench_extract);
criterion_main!(benches);
