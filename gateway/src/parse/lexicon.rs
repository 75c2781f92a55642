//! Word lists of the vendor-message dialect (English, Swahili, Sheng) that the
//! price scanner and the offer assembler consult. Every function takes one
//! ASCII-lowercased word, so the scanners can stay byte-oriented and fast.

/// A currency as written next to a number, before the vendor default applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marker {
    /// An explicit ISO 4217 code.
    Iso(&'static str),
    /// `Sh.`, `/=`, `/-`, `shillings`: a shilling of the vendor's region.
    Shilling,
}

/// Currency words that may stand right before or after a number.
pub fn currency_word(word: &str) -> Option<Marker> {
    Some(match word {
        "kes" | "ksh" | "kshs" | "bob" => Marker::Iso("KES"),
        "usd" | "dollars" | "dollar" => Marker::Iso("USD"),
        "eur" | "euro" | "euros" => Marker::Iso("EUR"),
        "gbp" => Marker::Iso("GBP"),
        "tzs" | "tsh" | "tshs" => Marker::Iso("TZS"),
        "ugx" | "ush" | "ushs" => Marker::Iso("UGX"),
        "ngn" | "naira" => Marker::Iso("NGN"),
        "zar" | "rand" => Marker::Iso("ZAR"),
        "sh" | "shs" | "shillings" | "shilling" => Marker::Shilling,
        _ => return None,
    })
}

/// Currency symbols (as UTF-8 text) that may stand right before or after a number.
pub const CURRENCY_SYMBOLS: [(&str, &str); 4] = [("$", "USD"), ("€", "EUR"), ("£", "GBP"), ("₦", "NGN")];

/// Words after a number that make it a multiple: `45k`, `1.2m`, `5 thao`.
pub fn multiplier_word(word: &str) -> Option<u32> {
    match word {
        "k" | "thao" | "thou" | "elfu" => Some(3),
        "m" | "mn" | "mil" | "million" | "millions" | "milioni" => Some(6),
        _ => None,
    }
}

/// Units that make the number a size, capacity, duration or count, never a price.
pub fn is_unit(word: &str) -> bool {
    matches!(
        word,
        "gb" | "tb" | "mb" | "kb" | "gig" | "gigs" | "mah" | "wh" | "kwh" | "kw" | "kva" | "va"
            | "hz" | "mhz" | "ghz" | "mp" | "px" | "inch" | "inches" | "inchs" | "in" | "cm" | "mm"
            | "km" | "kms" | "kg" | "kgs" | "kilo" | "kilos" | "kilogram" | "kilograms" | "g" | "gm"
            | "gms" | "gram" | "grams" | "lb" | "lbs" | "l" | "lt" | "ltr" | "ltrs" | "litre"
            | "litres" | "liter" | "liters" | "ml" | "cc" | "hp" | "bhp" | "rpm" | "fps" | "psi"
            | "mg" | "ft" | "feet" | "sqft" | "sqm" | "acre" | "acres" | "metre" | "metres"
            | "meter" | "meters" | "yards" | "yds" | "seater" | "seaters" | "bedroom"
            | "bedrooms" | "br" | "bdrm" | "burner" | "burners" | "core" | "cores" | "gen"
            | "generation" | "ssd" | "hdd" | "ram" | "rom" | "emmc" | "storage" | "bit" | "bits"
            | "pcs" | "pc" | "pieces" | "piece" | "units" | "unit" | "pairs" | "pair" | "pkts"
            | "pkt" | "packets" | "packs" | "pack" | "bales" | "bale" | "bags" | "sacks" | "crates"
            | "trays" | "boxes" | "dozen" | "dozens" | "vipande" | "kipande" | "jozi" | "rolls"
            | "days" | "day" | "hrs" | "hr" | "hours" | "hour" | "weeks" | "week" | "wks"
            | "months" | "month" | "yrs" | "yr" | "years" | "year" | "mins" | "min" | "minutes"
            | "secs" | "sec" | "am" | "pm" | "st" | "nd" | "rd" | "th" | "mph" | "kph" | "kmh"
            | "volts" | "volt" | "v" | "watts" | "watt" | "w" | "amps" | "amp" | "a" | "ah"
            | "ton" | "tons" | "tonne" | "tonnes" | "doors" | "door" | "ply" | "gsm" | "mbps"
            | "gbps" | "people" | "persons" | "pax" | "plates" | "percent" | "x" | "series"
            | "times" | "nm" | "sizes" | "size" | "colours" | "colors" | "left" | "remaining"
            | "degrees" | "deg" | "seats" | "rooms" | "pages" | "sheets" | "slots" | "ports"
            | "speed" | "speeds" | "gears" | "sets"
    )
}

/// Units counted as a quantity of the offered item (`2 pcs`).
pub fn is_quantity_unit(word: &str) -> bool {
    matches!(
        word,
        "pcs" | "pc" | "pieces" | "piece" | "units" | "unit" | "pairs" | "pair" | "vipande"
            | "kipande" | "jozi" | "pkts" | "packets" | "dozen" | "sets"
    )
}

/// Words before a number that make it a price on their own: `Price 500`, `bei 500`, `@ 500`.
pub fn is_price_label(word: &str) -> bool {
    matches!(
        word,
        "price" | "prices" | "priced" | "bei" | "cost" | "costs" | "rrp" | "retail" | "wholesale" | "ni"
            | "was" | "now" | "sasa" | "ilikuwa"
    )
}

/// Words before a number that make it a reference, never a price (`Till 123456`).
pub fn is_reference_label(word: &str) -> bool {
    matches!(
        word,
        "till" | "paybill" | "acc" | "account" | "imei" | "sn" | "serial" | "code" | "ref"
            | "namba" | "nambari" | "version" | "ver" | "ios" | "android" | "windows" | "win"
            | "office" | "route" | "bus" | "chapter" | "page" | "phase" | "ward" | "plot"
    )
}

/// Words before a small number (up to three digits) that make it a size,
/// number or model (`size 42`, `UK 9`, `No. 5`, `Core 2`), never a price.
pub fn is_size_label(word: &str) -> bool {
    matches!(
        word,
        "size" | "sizes" | "sz" | "eu" | "uk" | "us" | "no" | "number" | "nos" | "model" | "item"
            | "type" | "v" | "gen" | "generation" | "series" | "core" | "ryzen" | "ps"
            | "playstation" | "xbox" | "room" | "shop" | "stall" | "floor" | "house" | "grade"
            | "class" | "form" | "std" | "standard" | "level" | "stage" | "saizi" | "rangi"
            | "bedroom" | "gate" | "block" | "door" | "step"
    )
}

/// Brand and product-line words after which a bare number is a model number
/// (`Pixel 8`, `Spark 10`, `Latitude 5490`), not a price.
pub fn is_model_line_word(word: &str) -> bool {
    matches!(
        word,
        "iphone" | "ipad" | "galaxy" | "note" | "pixel" | "spark" | "camon" | "pova" | "phantom"
            | "hot" | "smart" | "zero" | "nokia" | "redmi" | "poco" | "mi" | "reno" | "nova"
            | "mate" | "latitude" | "inspiron" | "vostro" | "precision" | "optiplex" | "xps"
            | "elitebook" | "probook" | "zbook" | "envy" | "pavilion" | "spectre" | "thinkpad"
            | "thinkcentre" | "ideapad" | "yoga" | "legion" | "aspire" | "swift" | "predator"
            | "nitro" | "macbook" | "imac" | "surface" | "airpods" | "tab" | "hp"
            | "dell" | "lenovo" | "acer" | "asus" | "toshiba" | "tecno" | "infinix" | "itel"
            | "oppo" | "vivo" | "huawei" | "xiaomi" | "honor" | "oneplus" | "canon" | "nikon"
            | "fifa" | "pes" | "gta" | "jordan" | "moto" | "camry" | "corolla" | "hilux"
            | "prado" | "vitz" | "axio" | "fielder" | "mac" | "ps" | "playstation" | "xbox"
            | "series" | "model" | "gen" | "core" | "version" | "v" | "rtx" | "gtx" | "rx" | "gt"
            | "ryzen" | "flip" | "charge" | "go" | "clip" | "tune" | "live" | "buds" | "fit"
    )
}

/// Words before a four-digit number that make it a year: `model 2015`, `YOM 2016`.
pub fn is_year_label(word: &str) -> bool {
    matches!(word, "model" | "year" | "yom" | "mwaka" | "since" | "made" | "manufactured" | "reg" | "registered" | "in")
}

pub fn is_month(word: &str) -> bool {
    matches!(
        word,
        "jan" | "january" | "feb" | "february" | "mar" | "march" | "apr" | "april" | "may" | "jun"
            | "june" | "jul" | "july" | "aug" | "august" | "sep" | "sept" | "september" | "oct"
            | "october" | "nov" | "november" | "dec" | "december" | "januari" | "februari"
            | "machi" | "aprili" | "mei" | "juni" | "julai" | "agosti" | "septemba" | "oktoba"
            | "novemba" | "desemba"
    )
}

/// Words after a price that end its pair: `500 only`, `200 each`, `45k negotiable`.
pub fn is_price_trailer(word: &str) -> bool {
    matches!(
        word,
        "only" | "each" | "negotiable" | "nego" | "neg" | "ono" | "kila" | "per" | "tu" | "pekee"
            | "ea" | "apiece" | "net" | "flat" | "fixed" | "slightly" | "o" | "or" | "sasa"
            | "maelewano" | "cash" | "new" | "brand" | "used" | "ex" | "refurbished" | "mpya"
            | "call" | "inbox" | "dm" | "pm" | "whatsapp" | "contact" | "tel" | "free"
            | "delivery" | "and" | "na" | "plus" | "with"
    )
}

/// Words that carry no product identity: a title made only of these is no title.
pub fn is_generic_word(word: &str) -> bool {
    matches!(
        word,
        "new" | "arrivals" | "arrival" | "arrived" | "stock" | "stocks" | "fresh" | "latest"
            | "available" | "availability" | "now" | "today" | "tomorrow" | "this" | "week"
            | "weekend" | "hot" | "deals" | "deal" | "offers" | "offer" | "ofa" | "sale" | "sales"
            | "promo" | "promotion" | "special" | "specials" | "mega" | "flash" | "black"
            | "friday" | "discount" | "discounts" | "price" | "prices" | "list" | "pricelist"
            | "bei" | "items" | "item" | "products" | "product" | "goods" | "bidhaa" | "mzigo"
            | "mpya" | "zetu" | "leo" | "wiki" | "hii" | "our" | "the" | "a" | "an" | "and"
            | "all" | "in" | "of" | "for" | "at" | "with" | "on" | "shop" | "store" | "collection"
            | "clearance" | "restock" | "restocked" | "back" | "again" | "just" | "landed"
            | "limited" | "grab" | "yours" | "hurry" | "while" | "last" | "check" | "out" | "see"
            | "more" | "inbox" | "dm" | "pm" | "call" | "whatsapp" | "only" | "each" | "kila"
            | "moja" | "negotiable" | "nego" | "also" | "we" | "have" | "got" | "selling" | "sell"
            | "was" | "sasa" | "ni" | "na" | "kwa" | "ya" | "za" | "la" | "from" | "to"
            | "is" | "are" | "it" | "get" | "buy" | "order" | "cost" | "costs" | "total" | "x"
            | "tu" | "pekee" | "iko" | "ziko" | "zipo" | "ipo" | "tunazo" | "brand" | "used"
            | "ex" | "uk" | "exuk" | "refurbished" | "refurb" | "second" | "hand" | "mitumba"
            | "mtumba" | "or" | "per" | "piece" | "pcs" | "ono" | "neg" | "o" | "n" | "instock"
            | "still" | "go" | "going" | "here" | "there" | "pieces"
            | "ready" | "very" | "cheap" | "affordable" | "best" | "good" | "quality" | "original"
            | "genuine" | "details" | "info" | "rrp"
            | "retail" | "wholesale" | "happy" | "customers" | "family" | "guys" | "people"
            | "karibu" | "welcome" | "habari" | "hello" | "hi" | "morning" | "evening"
            | "afternoon" | "night" | "thanks" | "thank" | "you" | "asante" | "sana"
    )
}

/// Words that mark a known brand or product family; a line holding one is product-like.
pub fn is_brand_word(word: &str) -> bool {
    matches!(
        word,
        "iphone" | "ipad" | "galaxy" | "pixel" | "camon" | "pova" | "phantom" | "nokia" | "redmi"
            | "poco" | "reno" | "latitude" | "inspiron" | "vostro" | "optiplex" | "xps"
            | "elitebook" | "probook" | "zbook" | "envy" | "pavilion" | "spectre" | "thinkpad"
            | "thinkcentre" | "ideapad" | "legion" | "aspire" | "predator" | "macbook" | "imac"
            | "surface" | "airpods" | "hp" | "dell" | "lenovo" | "acer" | "asus" | "toshiba"
            | "tecno" | "infinix" | "itel" | "oppo" | "vivo" | "huawei" | "xiaomi" | "honor"
            | "oneplus" | "canon" | "nikon" | "samsung" | "apple" | "google" | "sony" | "lg"
            | "hisense" | "tcl" | "vitron" | "skyworth" | "jbl" | "oraimo" | "anker" | "bose"
            | "beats" | "playstation" | "xbox" | "nintendo" | "nike" | "adidas" | "puma" | "vans"
            | "converse" | "timberland" | "gucci" | "zara" | "toyota" | "nissan" | "mazda"
            | "honda" | "subaru" | "volkswagen" | "vw" | "audi" | "bmw" | "benz" | "mercedes"
            | "isuzu" | "mitsubishi" | "suzuki" | "ramtons" | "mika" | "armco" | "von" | "bruhm"
            | "philips" | "panasonic" | "sharp" | "kenwood" | "tefal" | "dyson" | "logitech"
            | "microsoft" | "kindle" | "gopro" | "dji" | "fitbit" | "garmin" | "casio" | "rolex"
            | "seiko" | "laptop" | "laptops" | "phone" | "phones" | "smartphone" | "tv" | "tvs"
            | "television" | "fridge" | "fridges" | "sofa" | "printer" | "monitor" | "speaker"
            | "headphones" | "earbuds" | "sneakers" | "shoes" | "dress" | "dresses" | "jacket"
            | "jackets" | "bag" | "bags" | "handbag" | "watch" | "camry" | "corolla" | "hilux"
            | "prado" | "vitz" | "axio" | "fielder" | "jordan" | "console" | "cooker" | "microwave"
            | "blender" | "iron" | "kettle" | "mattress" | "bed" | "table" | "chair" | "chairs"
    )
}

/// The kinds of product among the brand words: they name what is sold, not whose.
pub fn is_product_noun(word: &str) -> bool {
    matches!(
        word,
        "laptop" | "laptops" | "phone" | "phones" | "smartphone" | "tv" | "tvs" | "television" | "fridge" | "fridges"
            | "sofa" | "printer" | "monitor" | "speaker" | "headphones" | "earbuds" | "sneakers" | "shoes" | "dress"
            | "dresses" | "jacket" | "jackets" | "bag" | "bags" | "handbag" | "watch" | "console" | "cooker"
            | "microwave" | "blender" | "iron" | "kettle" | "mattress" | "bed" | "table" | "chair" | "chairs"
    )
}

/// Spec vocabulary: a line made mostly of these (and of numbers) is a spec line.
pub fn is_spec_word(word: &str) -> bool {
    is_unit(word)
        || matches!(
            word,
            "core" | "intel" | "amd" | "ryzen" | "ddr" | "ddr3" | "ddr4" | "ddr5" | "fhd" | "hd"
                | "uhd" | "qhd" | "touch" | "touchscreen" | "backlit" | "keyboard" | "graphics"
                | "dual" | "sim" | "nfc" | "wifi" | "bluetooth" | "android" | "ios" | "windows"
                | "processor" | "cpu" | "gpu" | "screen" | "display" | "battery" | "camera"
                | "front" | "rear" | "memory" | "internal" | "expandable" | "dedicated" | "nvme"
                | "fingerprint" | "face" | "id" | "unlocked" | "health" | "and" | "with"
                | "generation" | "th" | "amoled" | "oled" | "lcd" | "led" | "ips" | "retina"
                | "mah" | "fast" | "charging" | "charger" | "wireless" | "colour" | "color"
                | "black" | "white" | "blue" | "red" | "green" | "gold" | "silver" | "grey"
                | "gray" | "pink" | "purple" | "rangi" | "na" | "i3" | "i5" | "i7" | "i9"
        )
}

/// Words that open a description or spec line rather than a product title.
pub fn is_description_starter(word: &str) -> bool {
    matches!(
        word,
        "very" | "clean" | "original" | "genuine" | "quality" | "perfect" | "good" | "excellent"
            | "accident" | "well" | "comes" | "come" | "with" | "includes" | "including" | "free"
            | "warranty" | "colour" | "color" | "colours" | "colors" | "size" | "sizes" | "ram"
            | "storage" | "rom" | "processor" | "cpu" | "screen" | "display" | "battery"
            | "camera" | "material" | "weight" | "features" | "feature" | "specs" | "spec"
            | "specifications" | "os" | "graphics" | "mileage" | "engine" | "transmission"
            | "fuel" | "capacity" | "dimensions" | "location" | "delivery" | "condition" | "fits"
            | "suitable" | "ideal" | "made" | "imported" | "pure" | "best" | "high" | "super"
            | "smooth" | "nice" | "neat" | "kali" | "safi" | "poa" | "fiti" | "rangi" | "saizi"
            | "zinakuja" | "inakuja" | "inakam" | "zinakam" | "box" | "sealed" | "boxed"
            | "unlocked" | "health" | "like" | "in" | "no" | "all" | "works" | "working" | "fully"
            | "also" | "it" | "its" | "this" | "the" | "has"
            | "have" | "available" | "pick" | "pickup" | "we" | "our" | "your" | "for" | "minor"
            | "slight" | "barely" | "hardly" | "lightly" | "mint" | "pristine" | "tested"
    )
}
