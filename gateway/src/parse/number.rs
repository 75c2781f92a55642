//! Numbers as vendors write them: digits with thousands groups (`45,000`,
//! `1.500.000`, `12 500` after a currency) and a decimal fraction (`4.5`),
//! read into an exact mantissa and scale. Nothing here decides whether the
//! number is a price; [`super::price`] does.

use rust_decimal::Decimal;

/// Largest amount accepted; anything above is an id, not a price.
const MAX_AMOUNT: i64 = 10_000_000_000_000;

/// A number as written: digits with optional thousands groups and fraction.
#[derive(Debug)]
pub(crate) struct Number {
    pub start: usize,
    pub end: usize,
    mantissa: u64,
    scale: u32,
    pub int_value: u64,
    pub int_digits: usize,
    pub grouped: bool,
    pub fraction: bool,
    pub overflow: bool,
}

impl Number {
    /// Reads the number at `start`; `space_groups` also accepts `45 000`
    /// (only asked for after a currency marker, where it cannot be two numbers).
    pub fn parse(b: &[u8], start: usize, limit: usize, space_groups: bool) -> Self {
        let mut n = Number {
            start,
            end: start,
            mantissa: 0,
            scale: 0,
            int_value: 0,
            int_digits: 0,
            grouped: false,
            fraction: false,
            overflow: false,
        };
        let mut j = n.read_digits(b, start, limit);
        let first_group = n.int_digits;
        let leading_zero = b[start] == b'0' && first_group > 1;
        let groupable = first_group <= 3 && !leading_zero;
        while groupable && is_group(b, j, limit, b',') {
            j = n.read_digits(b, j + 1, limit);
            n.grouped = true;
        }
        if groupable && space_groups && !n.grouped {
            while let Some(gap) = space_group(b, j, limit) {
                j = n.read_digits(b, j + gap, limit);
                n.grouped = true;
            }
        }
        let dotted =
            groupable && !n.grouped && is_group(b, j, limit, b'.') && !followed_by_multiplier(b, j + 4, limit);
        if dotted {
            while is_group(b, j, limit, b'.') {
                j = n.read_digits(b, j + 1, limit);
                n.grouped = true;
            }
        }
        n.int_value = n.mantissa;
        if !dotted && j + 1 < limit && b[j] == b'.' && b[j + 1].is_ascii_digit() {
            let before = j + 1;
            j = n.read_digits(b, before, limit);
            n.scale = u32::try_from(j - before).unwrap_or(u32::MAX);
            n.int_digits -= j - before;
            n.fraction = true;
        }
        n.end = j;
        n.overflow |= n.int_digits > 15 || n.scale > 6;
        n
    }

    fn read_digits(&mut self, b: &[u8], from: usize, limit: usize) -> usize {
        let mut j = from;
        while j < limit && b[j].is_ascii_digit() {
            let digit = u64::from(b[j] - b'0');
            match self.mantissa.checked_mul(10).and_then(|m| m.checked_add(digit)) {
                Some(m) => self.mantissa = m,
                None => self.overflow = true,
            }
            self.int_digits += 1;
            j += 1;
        }
        j
    }

    pub fn leading_zero(&self, b: &[u8]) -> bool {
        b[self.start] == b'0' && self.int_digits > 1
    }

    pub fn amount(&self, power_of_ten: u32) -> Option<Decimal> {
        if self.overflow {
            return None;
        }
        let mut amount = Decimal::try_from_i128_with_scale(i128::from(self.mantissa), self.scale).ok()?;
        for _ in 0..power_of_ten {
            amount = amount.checked_mul(Decimal::TEN)?;
        }
        let amount = amount.normalize();
        (amount > Decimal::ZERO && amount <= Decimal::from(MAX_AMOUNT)).then_some(amount)
    }
}

/// `,ddd` or `.ddd` at `j`, not followed by a fourth digit.
pub(crate) fn is_group(b: &[u8], j: usize, limit: usize, sep: u8) -> bool {
    j + 4 <= limit
        && b[j] == sep
        && b[j + 1..j + 4].iter().all(u8::is_ascii_digit)
        && !(j + 4 < limit && b[j + 4].is_ascii_digit())
}

/// ` ddd` at `j` (one to three spaces: a no-break or narrow space counts as
/// its bytes) not followed by a fourth digit; returns the spaces' length.
pub(crate) fn space_group(b: &[u8], j: usize, limit: usize) -> Option<usize> {
    let gap = b[j.min(limit)..limit].iter().take(3).take_while(|&&c| c == b' ').count();
    let digits = j + gap;
    let ok = gap > 0
        && digits + 3 <= limit
        && b[digits..digits + 3].iter().all(u8::is_ascii_digit)
        && !(digits + 3 < limit && b[digits + 3].is_ascii_digit());
    ok.then_some(gap)
}

fn followed_by_multiplier(b: &[u8], j: usize, limit: usize) -> bool {
    j < limit && matches!(b[j], b'k' | b'm') && !(j + 1 < limit && b[j + 1].is_ascii_alphabetic())
}
