#!/usr/bin/env python3
"""Builds the search relevance set: catalogue.jsonl (listings typed the way Kenyan and
Nigerian WhatsApp vendors type them, priced in KES, NGN or USD) and queries.json (queries
with graded judgements). Seeded, so a run gives the same files byte for byte:

    python3 tests/search/generate.py

Every listing is made from a structured item (category, brand, family, model, storage,
type, ...) and then written in a vendor's style: random case, numbers glued to units or
models (`256gb`, `iphone13`), slang (`ex-uk`, `tokunbo`, `mtumba`), emojis, typos. A
query names an intent over those attributes; its judgements are computed from the
attributes alone (never from any search engine's output):
  3  every `must` and every `prefer` attribute matches,
  2  every `must` attribute matches,
  1  every `related` attribute matches,
  0  otherwise (not listed).
"""
import json
import random
from pathlib import Path

SEED = 20261206
HERE = Path(__file__).resolve().parent
rng = random.Random(SEED)

KE_VENDORS = ["Nairobi Phone Hub", "Luthuli Gadgets", "Westlands Deals", "Mama Mboga Online", "Gikomba Mtumba Plus",
              "Kilimani Furniture", "Thika Road Electronics", "Eastleigh Fashion House", "Mombasa Duka", "Kisumu Tech"]
NG_VENDORS = ["Ikeja Computer Village Plug", "Lekki Fashion Store", "Aba Made Wears", "Balogun Market Deals",
              "Wuse Gadgets Abuja", "Mile 12 Foodstuff", "Oshodi Furniture Works", "PH Phones and Accessories"]

EMOJI = ["🔥", "✅", "💯", "📱", "⚡", "🚚", "👌", ""]


def case(text):
    roll = rng.random()
    if roll < 0.2:
        return text.upper()
    if roll < 0.35:
        return text.lower()
    return text


def storage_text(gb):
    style = rng.choice(["{}GB", "{}gb", "{} GB", "{}G", "{} gb"])
    return style.format(gb)


def glue(brand_word, number):
    return rng.choice([f"{brand_word} {number}", f"{brand_word}{number}", f"{brand_word} {number}"])


# --- structured items -----------------------------------------------------------------

def phones():
    items = []
    apple = [("iphone 11", ["", "pro", "pro max"]), ("iphone 12", ["", "mini", "pro", "pro max"]),
             ("iphone 13", ["", "mini", "pro", "pro max"]), ("iphone 14", ["", "plus", "pro", "pro max"]),
             ("iphone 15", ["", "plus", "pro", "pro max"]), ("iphone xr", [""]), ("iphone x", [""])]
    for family, variants in apple:
        for variant in variants:
            for storage in [64, 128, 256, 512]:
                if family in ("iphone 15", "iphone 14") and storage == 64:
                    continue
                items.append(dict(category="phone", brand="apple", family=family, model=f"{family} {variant}".strip(),
                                  storage=storage, kind="phone"))
    samsung = ["galaxy a14", "galaxy a15", "galaxy a24", "galaxy a34", "galaxy a54", "galaxy s21", "galaxy s22",
               "galaxy s23", "galaxy s23 ultra", "galaxy note 20", "galaxy z flip 5", "galaxy a05"]
    for model in samsung:
        for storage in [64, 128, 256]:
            items.append(dict(category="phone", brand="samsung", family=model.replace(" ultra", ""), model=model,
                              storage=storage, kind="phone"))
    others = [("tecno", ["spark 10", "spark 20", "camon 20", "pova 5", "spark go"]),
              ("infinix", ["hot 30", "hot 40", "note 30", "smart 8", "zero 30"]),
              ("xiaomi", ["redmi note 12", "redmi 13c", "redmi note 13"]),
              ("oppo", ["a78", "reno 10"]), ("itel", ["a70", "s23"]), ("nokia", ["105", "c32"]),
              ("google", ["pixel 7", "pixel 8 pro"])]
    for brand, models in others:
        for model in models:
            for storage in [64, 128, 256]:
                items.append(dict(category="phone", brand=brand, family=model, model=model, storage=storage, kind="phone"))
    return items


def electronics():
    items = []
    laptops = [("hp", "elitebook 840 g5"), ("hp", "elitebook 840 g6"), ("hp", "probook 450 g7"), ("dell", "latitude 7490"),
               ("dell", "latitude 5420"), ("dell", "xps 13"), ("lenovo", "thinkpad t480"), ("lenovo", "thinkpad x1 carbon"),
               ("lenovo", "ideapad 3"), ("apple", "macbook air m1"), ("apple", "macbook air m2"), ("apple", "macbook pro m2")]
    for brand, model in laptops:
        for ram, ssd in [(8, 256), (16, 512), (8, 512)]:
            items.append(dict(category="electronics", kind="laptop", brand=brand, family=model, model=model, ram=ram, storage=ssd))
    for brand, model, kind in [("sony", "ps5", "console"), ("sony", "ps4 slim", "console"), ("microsoft", "xbox series x", "console"),
                               ("nintendo", "switch oled", "console"), ("jbl", "flip 5", "speaker"), ("jbl", "charge 5", "speaker"),
                               ("jbl", "go 3", "speaker"), ("oraimo", "freepods 4", "earbuds"), ("apple", "airpods pro", "earbuds"),
                               ("apple", "airpods 3", "earbuds"), ("canon", "eos 2000d", "camera"), ("sony", "a6400", "camera"),
                               ("apple", "watch series 8", "smartwatch"), ("oraimo", "power bank 20000mah", "power bank")]:
        for _ in range(4):
            items.append(dict(category="electronics", kind=kind, brand=brand, family=model, model=model))
    for brand in ["samsung", "hisense", "tcl", "lg", "vitron"]:
        for inches in [32, 43, 50, 55, 65]:
            items.append(dict(category="electronics", kind="tv", brand=brand, family=f"{inches} tv", model=f"{inches} inch smart tv", size=inches))
    for brand, kind in [("ramtons", "fridge"), ("hotpoint", "microwave"), ("von", "blender"), ("lg", "washing machine"),
                        ("mika", "gas cooker"), ("bruhm", "fridge"), ("nasco", "blender"), ("samsung", "washing machine")]:
        for _ in range(4):
            items.append(dict(category="electronics", kind=kind, brand=brand, family=f"{brand} {kind}", model=f"{brand} {kind}"))
    return items


def fashion():
    items = []
    for brand, model, kind in [("nike", "air force 1", "sneakers"), ("nike", "air max 90", "sneakers"), ("jordan", "jordan 4", "sneakers"),
                               ("jordan", "jordan 1", "sneakers"), ("adidas", "samba", "sneakers"), ("adidas", "yeezy 350", "sneakers"),
                               ("vans", "old skool", "sneakers"), ("timberland", "timberland boots", "boots"),
                               ("crocs", "crocs classic clog", "sandals"), ("converse", "chuck taylor", "sneakers")]:
        for size in [40, 42, 43, 44]:
            items.append(dict(category="fashion", kind=kind, brand=brand, family=model, model=model, size=size))
    for kind, words in [("dress", ["ankara gown", "ankara dress", "bodycon dress", "kitenge dress", "maxi dress"]),
                        ("shirt", ["kitenge shirt", "senator wear", "agbada", "polo shirt", "dashiki"]),
                        ("jeans", ["mtumba jeans", "levis 501 jeans", "mom jeans", "cargo pants"]),
                        ("bag", ["gucci handbag", "louis vuitton bag", "ladies handbag", "laptop backpack"]),
                        ("wig", ["bone straight wig", "frontal wig", "kinky curly wig"]),
                        ("watch", ["casio g-shock", "rolex submariner", "fossil watch"])]:
        for model in words:
            for _ in range(5):
                items.append(dict(category="fashion", kind=kind, brand="", family=model, model=model))
    return items


def furniture():
    items = []
    for kind, models in [("sofa", ["5 seater sofa set", "7 seater sofa set", "l shaped sofa", "3 seater sofa", "chesterfield sofa"]),
                         ("bed", ["6x6 bed", "5x6 bed", "4x6 bed", "bunk bed", "6x6 mattress", "5x6 mattress"]),
                         ("table", ["6 seater dining table", "4 seater dining table", "coffee table", "tv stand", "study table"]),
                         ("chair", ["office chair", "gaming chair", "plastic chairs", "executive chair"]),
                         ("storage", ["wardrobe", "shoe rack", "kitchen cabinet", "bookshelf"])]:
        for model in models:
            for _ in range(6):
                items.append(dict(category="furniture", kind=kind, brand="", family=model, model=model))
    return items


def groceries():
    items = []
    for brand, model, kind, sizes in [
        ("jogoo", "jogoo maize flour", "flour", ["2kg", "1kg"]), ("pembe", "pembe maize flour", "flour", ["2kg", "1kg"]),
        ("ajab", "ajab home baking flour", "flour", ["2kg"]), ("pishori", "pishori rice", "rice", ["5kg", "25kg", "1kg"]),
        ("mama's pride", "mama's pride rice", "rice", ["50kg", "25kg"]), ("royal stallion", "royal stallion rice", "rice", ["50kg"]),
        ("mumias", "mumias sugar", "sugar", ["2kg", "1kg"]), ("dangote", "dangote sugar", "sugar", ["50kg", "1kg"]),
        ("fresh fri", "fresh fri cooking oil", "oil", ["3l", "5l", "1l"]), ("kings", "kings vegetable oil", "oil", ["5l", "25l"]),
        ("golden penny", "golden penny spaghetti", "pasta", ["500g", "carton"]), ("indomie", "indomie noodles", "noodles", ["carton", "pack"]),
        ("peak", "peak milk", "milk", ["tin", "sachet carton"]), ("milo", "milo", "beverage", ["400g", "1kg"]),
        ("", "garri", "garri", ["5kg", "paint bucket"]), ("", "honey beans oloyin", "beans", ["5kg", "paint bucket"]),
        ("", "palm oil", "oil", ["25l", "5l"]), ("gino", "gino tomato paste", "paste", ["carton", "tin"]),
        ("", "eggs", "eggs", ["tray", "crate"]), ("", "ndengu green grams", "beans", ["2kg", "1kg"]),
        ("dangote", "dangote spaghetti", "pasta", ["carton"]), ("brookside", "brookside milk", "milk", ["500ml", "1l"])]:
        for size in sizes:
            for _ in range(3):
                items.append(dict(category="groceries", kind=kind, brand=brand, family=model, model=model, size=size))
    return items


# --- surface text ----------------------------------------------------------------------

CONDITION_WORDS = {"new": ["brand new", "new sealed", "boxed", "new"], "ex_uk": ["ex-uk", "ex uk", "UK used", "tokunbo", "foreign used"],
                   "refurbished": ["refurbished", "refurb"], "used": ["used", "naija used", "clean used", "second hand"]}


def phone_title(item):
    model = item["model"]
    if item["brand"] == "apple":
        parts = model.split()
        number = parts[1]
        rest = " ".join(parts[2:])
        head = glue(rng.choice(["iPhone", "iphone", "IPHONE", "Iphone"]), number)
        name = f"{head} {rest}".strip()
    elif item["brand"] == "samsung":
        short = model.replace("galaxy ", "")
        style = rng.random()
        if style < 0.4:
            name = f"Samsung Galaxy {short.title()}"
        elif style < 0.7:
            name = f"Samsung {short.upper()}"
        elif style < 0.85:
            name = f"SAMSUNG {short}"
        else:
            name = f"Samsumg {short}"  # the typo vendors make
    else:
        name = f"{item['brand'].title()} {model.title()}"
    condition = rng.choice(list(CONDITION_WORDS))
    item["condition"] = condition
    bits = [case(name), storage_text(item["storage"])]
    if rng.random() < 0.4:
        bits.append(rng.choice(["4/64gb", "8+128", "6GB RAM", "8gb ram", ""]) if item["brand"] != "apple" else rng.choice(["100% battery", "89% BH", "face id working", ""]))
    bits.append(rng.choice(CONDITION_WORDS[condition]))
    bits.append(rng.choice(EMOJI))
    return " ".join(b for b in bits if b)


def generic_title(item):
    model = item["model"]
    brand = item["brand"]
    extra = {
        "laptop": lambda: f"{item['ram']}gb ram {storage_text(item['storage'])} ssd",
        "tv": lambda: rng.choice(["4k uhd", "android", "frameless", "full hd"]),
        "sneakers": lambda: f"size {item['size']}",
        "boots": lambda: f"size {item['size']}",
        "sandals": lambda: f"size {item['size']}",
    }.get(item["kind"], lambda: item.get("size", "") or "")()
    text = model if brand and brand in model else f"{brand} {model}".strip()
    if item["kind"] == "tv":
        unit = rng.choice(['"', " inch", "inch", ""])
        text = f"{brand} {item['size']}{unit} smart tv"
    if item["kind"] in ("flour", "rice", "sugar", "oil", "beans", "garri", "milk") and "size" in item:
        size = item["size"]
        text = rng.choice([f"{text} {size}", f"{text} {size.upper()}", f"{size} {text}"])
    if item["category"] == "groceries" and rng.random() < 0.3:
        text = text.replace("maize flour", rng.choice(["unga", "maize meal", "maize flour"]))
    if item["category"] == "furniture" and rng.random() < 0.3:
        text = text.replace("sofa set", rng.choice(["sofa set", "sofaset", "seti ya sofa"]))
    condition = rng.choice(list(CONDITION_WORDS)) if item["category"] in ("electronics",) else rng.choice(["new", "used"])
    item["condition"] = condition
    tail = rng.choice(CONDITION_WORDS[condition]) if item["category"] in ("electronics", "fashion") else ""
    return " ".join(b for b in [case(text), extra, tail, rng.choice(EMOJI)] if b)


DESCRIPTIONS = {
    "phone": ["Original, no scratches, comes with charger", "Pay on delivery within Nairobi", "Warranty 6 months, all networks",
              "Lagos delivery available, DM to order", "Clean tokunbo, face id working"],
    "laptop": ["Core i5 8th gen, backlit keyboard", "Battery lasts 5 hours, charger included", "Windows 11 pro activated"],
    "sofa": ["Quality wood frame, fabric of your choice", "Delivery within Nairobi free"],
    "default": ["Delivery available countrywide", "Call or WhatsApp to order", "Wholesale and retail", "Best price in town", ""],
}


def price_for(item, currency):
    base = {"phone": 30000, "laptop": 45000, "console": 60000, "tv": 35000, "sofa": 40000, "bed": 25000}.get(item["kind"], 3000)
    if item["category"] == "groceries":
        base = 400
    if item["brand"] == "apple":
        base *= 3
    value = base * rng.uniform(0.6, 2.5)
    if currency == "NGN":
        value *= 11
    if currency == "USD":
        value /= 130
        return f"{value:.2f}"
    return str(int(round(value, -2)))


def build():
    items = phones() + electronics() + fashion() + furniture() + groceries()
    # The same thing is sold by more than one vendor: about half the items twice.
    items += [dict(item) for item in rng.sample(items, len(items) // 2)]
    rng.shuffle(items)
    listings = []
    for index, item in enumerate(items):
        title = phone_title(item) if item["category"] == "phone" else generic_title(item)
        market = rng.random()
        currency = "KES" if market < 0.55 else ("NGN" if market < 0.9 else "USD")
        vendor = rng.choice(KE_VENDORS if currency == "KES" else NG_VENDORS + KE_VENDORS[:2])
        description = rng.choice(DESCRIPTIONS.get(item["kind"], DESCRIPTIONS["default"])) if rng.random() < 0.5 else ""
        listings.append(dict(id=f"L{index + 1:05d}", title=title, description=description, price=price_for(item, currency),
                             currency=currency, vendor=vendor, attrs=item))
    return listings


# --- queries and judgements --------------------------------------------------------------

def q(text, must, prefer=None, related=None):
    return dict(q=text, must=must, prefer=prefer or {}, related=related or {})


QUERIES = [
    q("iphone 13", {"family": "iphone 13"}, {"model": "iphone 13"}, {"brand": "apple", "category": "phone"}),
    q("iphon 13", {"family": "iphone 13"}, {"model": "iphone 13"}, {"brand": "apple", "category": "phone"}),
    q("iphone13 256gb", {"family": "iphone 13", "storage": 256}, {"model": "iphone 13"}, {"family": "iphone 13"}),
    q("iphone 13 pro max", {"model": "iphone 13 pro max"}, {}, {"family": "iphone 13"}),
    q("iphone 14 pro 256 GB", {"model": "iphone 14 pro", "storage": 256}, {}, {"model": "iphone 14 pro"}),
    q("iphone 12 mini", {"model": "iphone 12 mini"}, {}, {"family": "iphone 12"}),
    q("iphone 15 pro max 512gb", {"model": "iphone 15 pro max", "storage": 512}, {}, {"model": "iphone 15 pro max"}),
    q("iphone xr", {"model": "iphone xr"}, {}, {"brand": "apple", "category": "phone"}),
    q("iphone 11 128GB", {"family": "iphone 11", "storage": 128}, {"model": "iphone 11"}, {"family": "iphone 11"}),
    q("samsung a14", {"model": "galaxy a14"}, {}, {"brand": "samsung", "category": "phone"}),
    q("samsng a14", {"model": "galaxy a14"}, {}, {"brand": "samsung", "category": "phone"}),
    q("galaxy s23 ultra", {"model": "galaxy s23 ultra"}, {}, {"family": "galaxy s23"}),
    q("samsung s22 256gb", {"model": "galaxy s22", "storage": 256}, {}, {"model": "galaxy s22"}),
    q("samsung a54 128", {"model": "galaxy a54", "storage": 128}, {}, {"model": "galaxy a54"}),
    q("galaxy note 20", {"model": "galaxy note 20"}, {}, {"brand": "samsung", "category": "phone"}),
    q("z flip 5", {"model": "galaxy z flip 5"}, {}, {"brand": "samsung", "category": "phone"}),
    q("tecno spark 20", {"model": "spark 20"}, {}, {"brand": "tecno"}),
    q("tecno camon 20 256gb", {"model": "camon 20", "storage": 256}, {}, {"model": "camon 20"}),
    q("infinix hot 40", {"model": "hot 40"}, {}, {"brand": "infinix"}),
    q("infinx note 30", {"model": "note 30"}, {}, {"brand": "infinix"}),
    q("redmi note 12", {"model": "redmi note 12"}, {}, {"brand": "xiaomi"}),
    q("pixel 8 pro", {"model": "pixel 8 pro"}, {}, {"brand": "google"}),
    q("nokia 105", {"model": "105"}, {}, {"brand": "nokia"}),
    q("itel a70", {"model": "a70"}, {}, {"brand": "itel"}),
    q("hp elitebook 840 g5", {"model": "elitebook 840 g5"}, {}, {"brand": "hp", "kind": "laptop"}),
    q("elitebook 840", {"kind": "laptop", "brand": "hp"}, {"family": "elitebook 840 g5"}, {"kind": "laptop"}),
    q("thinkpad t480 16gb", {"model": "thinkpad t480", "ram": 16}, {}, {"model": "thinkpad t480"}),
    q("dell latitude 7490", {"model": "latitude 7490"}, {}, {"brand": "dell", "kind": "laptop"}),
    q("macbook air m1", {"model": "macbook air m1"}, {}, {"brand": "apple", "kind": "laptop"}),
    q("macbok pro m2", {"model": "macbook pro m2"}, {}, {"brand": "apple", "kind": "laptop"}),
    q("ps5", {"model": "ps5"}, {}, {"kind": "console"}),
    q("ps4 slim", {"model": "ps4 slim"}, {}, {"kind": "console"}),
    q("xbox series x", {"model": "xbox series x"}, {}, {"kind": "console"}),
    q("jbl flip 5", {"model": "flip 5"}, {}, {"brand": "jbl"}),
    q("jbl charge5", {"model": "charge 5"}, {}, {"brand": "jbl"}),
    q("airpods pro", {"model": "airpods pro"}, {}, {"kind": "earbuds"}),
    q("oraimo freepods", {"model": "freepods 4"}, {}, {"kind": "earbuds"}),
    q("hisense 55 inch tv", {"brand": "hisense", "size": 55}, {}, {"kind": "tv", "size": 55}),
    q("samsung 43 smart tv", {"brand": "samsung", "kind": "tv", "size": 43}, {}, {"kind": "tv", "brand": "samsung"}),
    q("tcl 32 inch", {"brand": "tcl", "size": 32}, {}, {"brand": "tcl", "kind": "tv"}),
    q("ramtons fridge", {"brand": "ramtons", "kind": "fridge"}, {}, {"kind": "fridge"}),
    q("lg washing machine", {"brand": "lg", "kind": "washing machine"}, {}, {"kind": "washing machine"}),
    q("canon eos 2000d", {"model": "eos 2000d"}, {}, {"kind": "camera"}),
    q("air force 1 size 42", {"model": "air force 1", "size": 42}, {}, {"model": "air force 1"}),
    q("nike airforce", {"model": "air force 1"}, {}, {"brand": "nike"}),
    q("jordan 4", {"model": "jordan 4"}, {}, {"brand": "jordan"}),
    q("adidas samba", {"model": "samba"}, {}, {"brand": "adidas"}),
    q("vans old skool 43", {"model": "old skool", "size": 43}, {}, {"model": "old skool"}),
    q("timberland boots", {"model": "timberland boots"}, {}, {"kind": "boots"}),
    q("ankara gown", {"model": "ankara gown"}, {}, {"kind": "dress"}),
    q("kitenge dress", {"model": "kitenge dress"}, {}, {"kind": "dress"}),
    q("senator wear", {"model": "senator wear"}, {}, {"kind": "shirt"}),
    q("mtumba jeans", {"model": "mtumba jeans"}, {}, {"kind": "jeans"}),
    q("bone straight wig", {"model": "bone straight wig"}, {}, {"kind": "wig"}),
    q("gucci bag", {"model": "gucci handbag"}, {}, {"kind": "bag"}),
    q("casio g shock", {"model": "casio g-shock"}, {}, {"kind": "watch"}),
    q("5 seater sofa set", {"model": "5 seater sofa set"}, {}, {"kind": "sofa"}),
    q("l shaped sofa", {"model": "l shaped sofa"}, {}, {"kind": "sofa"}),
    q("6x6 bed", {"model": "6x6 bed"}, {}, {"kind": "bed"}),
    q("6 by 6 mattress", {"model": "6x6 mattress"}, {}, {"kind": "bed"}),
    q("dining table 6 seater", {"model": "6 seater dining table"}, {}, {"kind": "table"}),
    q("office chair", {"model": "office chair"}, {}, {"kind": "chair"}),
    q("gaming chair", {"model": "gaming chair"}, {}, {"kind": "chair"}),
    q("wardrobe", {"model": "wardrobe"}, {}, {"kind": "storage"}),
    q("jogoo unga 2kg", {"model": "jogoo maize flour", "size": "2kg"}, {}, {"kind": "flour"}),
    q("pembe maize flour", {"model": "pembe maize flour"}, {}, {"kind": "flour"}),
    q("pishori rice 5kg", {"model": "pishori rice", "size": "5kg"}, {}, {"model": "pishori rice"}),
    q("mama's pride rice 50kg", {"model": "mama's pride rice", "size": "50kg"}, {}, {"kind": "rice"}),
    q("fresh fri 3 litres", {"model": "fresh fri cooking oil"}, {"size": "3l"}, {"kind": "oil"}),
    q("kings oil 5l", {"model": "kings vegetable oil", "size": "5l"}, {}, {"kind": "oil"}),
    q("indomie carton", {"model": "indomie noodles", "size": "carton"}, {}, {"model": "indomie noodles"}),
    q("peak milk", {"model": "peak milk"}, {}, {"kind": "milk"}),
    q("garri paint bucket", {"model": "garri", "size": "paint bucket"}, {}, {"model": "garri"}),
    q("honey beans", {"model": "honey beans oloyin"}, {}, {"kind": "beans"}),
    q("palm oil 25 litres", {"model": "palm oil"}, {"size": "25l"}, {"kind": "oil"}),
    q("dangote sugar", {"model": "dangote sugar"}, {}, {"kind": "sugar"}),
    q("mumias sugar 2kg", {"model": "mumias sugar", "size": "2kg"}, {}, {"kind": "sugar"}),
    # Words the titles rarely use: what a vendor calls it is not what a buyer types
    # (Swahili, Pidgin, or the kind of thing rather than its name).
    q("bluetooth speaker", {"kind": "speaker"}, {}, {"kind": "earbuds"}),
    q("wireless earbuds", {"kind": "earbuds"}, {}, {"kind": "speaker"}),
    q("gaming console", {"kind": "console"}, {}, {"category": "electronics"}),
    q("couch", {"kind": "sofa"}, {}, {"category": "furniture"}),
    q("simu ya samsung", {"brand": "samsung", "category": "phone"}, {}, {"category": "phone"}),
    q("kiti cha ofisi", {"model": "office chair"}, {}, {"kind": "chair"}),
    q("maize meal 2kg", {"kind": "flour", "size": "2kg"}, {}, {"kind": "flour"}),
    q("hp laptop 16gb ram", {"brand": "hp", "kind": "laptop", "ram": 16}, {}, {"kind": "laptop", "brand": "hp"}),
    q("trainers size 44", {"kind": "sneakers", "size": 44}, {}, {"kind": "sneakers"}),
    q("foodstuff rice bag", {"kind": "rice"}, {}, {"category": "groceries"}),
]


def grade(query, attrs):
    def matches(wanted):
        return all(attrs.get(key) == value for key, value in wanted.items())
    if matches(query["must"]):
        return 3 if matches(query["prefer"]) else 2
    if query["related"] and matches(query["related"]):
        return 1
    return 0


def main():
    listings = build()
    with open(HERE / "catalogue.jsonl", "w", encoding="utf-8") as out:
        for listing in listings:
            row = {k: listing[k] for k in ("id", "title", "description", "price", "currency", "vendor")}
            row["category"] = listing["attrs"]["category"]
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    queries = []
    for query in QUERIES:
        judged = [(listing["id"], grade(query, listing["attrs"])) for listing in listings]
        judgements = {lid: g for lid, g in judged if g > 0}
        if not any(g >= 2 for g in judgements.values()):
            raise SystemExit(f"query {query['q']!r} has no relevant listing")
        queries.append(dict(q=query["q"], judgements=judgements))
    with open(HERE / "queries.json", "w", encoding="utf-8") as out:
        json.dump(dict(seed=SEED, queries=queries), out, ensure_ascii=False, indent=1)
        out.write("\n")
    print(f"{len(listings)} listings, {len(queries)} queries")


if __name__ == "__main__":
    main()
