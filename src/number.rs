//! Redis's `long double` numbers, for INCRBYFLOAT (and later HINCRBYFLOAT).
//!
//! Redis computes INCRBYFLOAT in C's `long double`, which on x86-64 Linux is the x87 80-bit
//! extended format: a 64-bit significand, not the 53 bits of an `f64`. The difference shows in
//! the most common replies: `0.1 + 0.2` prints as `0.3` with 64 bits but as
//! `0.30000000000000004` with 53, and `1000.1` prints as `1000.09999999999999998`. So this file
//! emulates the format exactly in software: parsing as glibc's `strtold` does under Redis's
//! rules (`string2ld`), addition rounded to nearest-even with gradual underflow as the x87 does,
//! and printing as `%.17Lf` followed by Redis's stripping of trailing zeros.
//!
//! It owns only numbers: no keys, no replies. Every input is bounded (Redis refuses texts of
//! 5120 bytes or more), so the big-integer arithmetic below never grows past a few thousand
//! words whatever a client sends.

use std::cmp::Ordering;

/// Redis's `MAX_LONG_DOUBLE_CHARS`: a text this long or longer is not a number.
const MAX_TEXT: usize = 5 * 1024;
/// Bits in the significand, the integer bit included.
const MANT_BITS: i64 = 64;
/// The value of the lowest significand bit of a subnormal (and of the smallest normal).
const EXP_MIN: i64 = -16445;
/// The value of the lowest significand bit of the largest finite numbers.
const EXP_MAX: i64 = 16320;
/// Digits after the point in Redis's human-friendly form (`%.17Lf`).
const FRACTION_DIGITS: u32 = 17;

/// An x87 extended-precision number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LongDouble {
    /// `±mant × 2^exp`. `mant` has its top bit set, except for zero and subnormals, whose
    /// `exp` is `EXP_MIN`; so every value has exactly one representation (zero has two signs).
    Finite {
        negative: bool,
        mant: u64,
        exp: i64,
    },
    Infinite {
        negative: bool,
    },
    Nan,
}

impl LongDouble {
    pub const ZERO: LongDouble = LongDouble::Finite {
        negative: false,
        mant: 0,
        exp: EXP_MIN,
    };

    /// Redis's `string2ld`: the whole text must be a number as `strtold` reads it (decimal or
    /// hexadecimal, `inf`/`infinity` in any case), with no leading space, no NUL byte, not NaN,
    /// and no overflow or underflow to zero (a result that underflows to a subnormal is fine).
    pub fn parse(text: &[u8]) -> Option<LongDouble> {
        if text.is_empty() || text.len() >= MAX_TEXT {
            return None;
        }
        let (negative, body) = match text {
            [b'-', rest @ ..] => (true, rest),
            [b'+', rest @ ..] => (false, rest),
            _ => (false, text),
        };
        if body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity") {
            return Some(LongDouble::Infinite { negative });
        }
        match body {
            [b'0', b'x' | b'X', hex @ ..] => parse_hex(negative, hex),
            _ => parse_decimal(negative, body),
        }
    }

    /// An integer, exactly (64 significand bits hold any i64).
    pub fn from_i64(n: i64) -> LongDouble {
        round(n < 0, u128::from(n.unsigned_abs()), 0, false)
    }

    pub fn is_finite(&self) -> bool {
        matches!(self, LongDouble::Finite { .. })
    }

    /// Redis's human-friendly text (`ld2string` with `LD_STR_HUMAN`): `%.17Lf`, then trailing
    /// zeros and a trailing point removed, and `-0` written `0`. Only finite values reach it in
    /// Redis (INCRBYFLOAT refuses the others first).
    pub fn to_human(&self) -> String {
        let (negative, mant, exp) = match *self {
            LongDouble::Finite {
                negative,
                mant,
                exp,
            } => (negative, mant, exp),
            LongDouble::Infinite { negative: true } => return "-inf".into(),
            LongDouble::Infinite { negative: false } => return "inf".into(),
            LongDouble::Nan => return "nan".into(),
        };
        let mut text = if exp >= 0 {
            // An integer: no fraction digits survive the stripping.
            let mut n = Big::from_u128(u128::from(mant));
            n.shl(exp as usize);
            n.to_decimal()
        } else {
            // mant × 10^17 < 2^121, so the scaled value fits a u128 exactly; rounding it to an
            // integer is what printf does with the digits after the 17th.
            let scaled = u128::from(mant) * 10u128.pow(FRACTION_DIGITS);
            let digits = shift_right_rounded(scaled, (-exp) as u64).to_string();
            let width = FRACTION_DIGITS as usize + 1;
            let padded = format!("{digits:0>width$}");
            let (int, frac) = padded.split_at(padded.len() - FRACTION_DIGITS as usize);
            let frac = frac.trim_end_matches('0');
            if frac.is_empty() {
                int.to_string()
            } else {
                format!("{int}.{frac}")
            }
        };
        if negative && text != "0" {
            text.insert(0, '-');
        }
        text
    }
}

impl std::ops::Add for LongDouble {
    type Output = LongDouble;

    /// The sum, rounded to nearest-even as the x87 does in extended precision.
    fn add(self, other: LongDouble) -> LongDouble {
        use LongDouble::*;
        match (self, other) {
            (Nan, _) | (_, Nan) => Nan,
            (Infinite { negative: a }, Infinite { negative: b }) if a != b => Nan,
            (inf @ Infinite { .. }, _) | (_, inf @ Infinite { .. }) => inf,
            (
                Finite {
                    negative: sa,
                    mant: ma,
                    exp: ea,
                },
                Finite {
                    negative: sb,
                    mant: mb,
                    exp: eb,
                },
            ) => add_finite((sa, ma, ea), (sb, mb, eb)),
        }
    }
}

/// `value / 2^shift`, rounded to nearest with ties to even.
fn shift_right_rounded(value: u128, shift: u64) -> u128 {
    if shift == 0 {
        return value;
    }
    if shift > 128 {
        return 0;
    }
    let kept = value.checked_shr(shift as u32).unwrap_or(0);
    let half = 1u128 << (shift - 1);
    let rest = if shift == 128 {
        value
    } else {
        value & ((1u128 << shift) - 1)
    };
    if rest > half || (rest == half && kept & 1 == 1) {
        kept + 1
    } else {
        kept
    }
}

/// Round `±m × 2^exp` (plus something smaller than the lowest bit of `m` when `sticky`) to the
/// format: 64 significand bits, or fewer below the normal range, overflowing to infinity.
/// Callers that pass `sticky` give `m` at least 66 significant bits, so the rounding point is
/// always well above the inexact part.
fn round(negative: bool, m: u128, exp: i64, sticky: bool) -> LongDouble {
    if m == 0 {
        return LongDouble::Finite {
            negative,
            mant: 0,
            exp: EXP_MIN,
        };
    }
    let bits = 128 - i64::from(m.leading_zeros());
    let shift = (bits - MANT_BITS).max(EXP_MIN - exp);
    let (mut kept, mut exp) = if shift <= 0 {
        // Exact: there is room to normalise (or the value is a subnormal that fits).
        (m << (-shift) as u32, exp + shift)
    } else if shift > 128 {
        (0, exp + shift)
    } else {
        let kept = m.checked_shr(shift as u32).unwrap_or(0);
        let rest = if shift == 128 {
            m
        } else {
            m & ((1u128 << shift) - 1)
        };
        let half = 1u128 << (shift - 1);
        let up = rest > half || (rest == half && (sticky || kept & 1 == 1));
        (kept + u128::from(up), exp + shift)
    };
    if kept >> MANT_BITS != 0 {
        // Rounding carried into a 65th bit.
        kept >>= 1;
        exp += 1;
    }
    if exp > EXP_MAX {
        return LongDouble::Infinite { negative };
    }
    LongDouble::Finite {
        negative,
        mant: kept as u64,
        exp: if kept == 0 { EXP_MIN } else { exp },
    }
}

/// Guard bits kept below the larger operand's significand during addition.
const GUARD: i64 = 62;

fn add_finite(a: (bool, u64, i64), b: (bool, u64, i64)) -> LongDouble {
    let (mut a, mut b) = (a, b);
    if b.1 == 0 {
        // x + 0 is x, and -0 + -0 is -0; +0 + -0 is +0 (round to nearest).
        return if a.1 == 0 {
            LongDouble::Finite {
                negative: a.0 && b.0,
                mant: 0,
                exp: EXP_MIN,
            }
        } else {
            LongDouble::Finite {
                negative: a.0,
                mant: a.1,
                exp: a.2,
            }
        };
    }
    if a.1 == 0 {
        return LongDouble::Finite {
            negative: b.0,
            mant: b.1,
            exp: b.2,
        };
    }
    if b.2 > a.2 {
        std::mem::swap(&mut a, &mut b);
    }
    let distance = a.2 - b.2;
    let big = u128::from(a.1) << GUARD;
    // The smaller operand, aligned; bits shifted out are folded into its lowest bit, which is
    // far below the rounding point and so rounds the same way as the exact value would.
    let small = if distance <= GUARD {
        u128::from(b.1) << (GUARD - distance)
    } else {
        let shift = distance - GUARD;
        let kept = if shift >= 64 { 0 } else { b.1 >> shift };
        let lost = shift >= 64 || b.1 & ((1u64 << shift) - 1) != 0;
        u128::from(kept) | u128::from(lost)
    };
    let exp = a.2 - GUARD;
    if a.0 == b.0 {
        return round(a.0, big + small, exp, false);
    }
    match big.cmp(&small) {
        Ordering::Greater => round(a.0, big - small, exp, false),
        Ordering::Less => round(b.0, small - big, exp, false),
        Ordering::Equal => LongDouble::ZERO,
    }
}

/// Where a digit string ended and what it held.
struct Digits<'t> {
    /// The digits, without the point.
    mantissa: Vec<u8>,
    /// How many of them came after the point.
    fraction: i64,
    rest: &'t [u8],
}

/// Digits with at most one point, at least one digit; `radix` 10 or 16.
fn scan_digits(text: &[u8], radix: u32) -> Option<Digits<'_>> {
    let mut mantissa = Vec::new();
    let mut fraction = 0;
    let mut seen_point = false;
    let mut i = 0;
    while i < text.len() {
        let c = text[i];
        if c == b'.' && !seen_point {
            seen_point = true;
        } else if let Some(d) = char::from(c).to_digit(radix) {
            mantissa.push(d as u8);
            fraction += i64::from(seen_point);
        } else {
            break;
        }
        i += 1;
    }
    if mantissa.is_empty() {
        return None;
    }
    Some(Digits {
        mantissa,
        fraction,
        rest: &text[i..],
    })
}

/// Far beyond any exponent that can matter for 5119 digits: clamping here keeps the arithmetic
/// in range and still overflows or underflows as the exact exponent would.
const EXP_CLAMP: i64 = 1_000_000;

/// An exponent part (`e-12`, `p+3`): the marker, an optional sign and at least one digit, and
/// nothing after it. No exponent part at all is 0.
fn parse_exponent(rest: &[u8], markers: &[u8; 2]) -> Option<i64> {
    let [marker, tail @ ..] = rest else {
        return Some(0);
    };
    if !markers.contains(marker) {
        return None;
    }
    let (negative, digits) = match tail {
        [b'-', d @ ..] => (true, d),
        [b'+', d @ ..] => (false, d),
        d => (false, d),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let magnitude = digits.iter().fold(0i64, |acc, d| {
        (acc * 10 + i64::from(d - b'0')).min(EXP_CLAMP)
    });
    Some(if negative { -magnitude } else { magnitude })
}

fn parse_decimal(negative: bool, text: &[u8]) -> Option<LongDouble> {
    let digits = scan_digits(text, 10)?;
    let exp10 = parse_exponent(digits.rest, b"eE")? - digits.fraction;
    let significant = digits.mantissa.iter().position(|&d| d != 0);
    let Some(first) = significant else {
        return Some(LongDouble::Finite {
            negative,
            mant: 0,
            exp: EXP_MIN,
        });
    };
    let last = digits
        .mantissa
        .iter()
        .rposition(|&d| d != 0)
        .unwrap_or(first);
    let used = &digits.mantissa[first..=last];
    // The value is used × 10^exp10, between 10^(count-1+exp10) and 10^(count+exp10).
    let exp10 = exp10 + (digits.mantissa.len() - 1 - last) as i64;
    let count = used.len() as i64;
    // Far outside the range (1.19e4932 down to 3.6e-4951): no need to compute.
    if count - 1 + exp10 > 4933 || count + exp10 < -4952 {
        return None;
    }
    let mut n = Big::from_decimal(used);
    if exp10 >= 0 {
        n.mul_pow10(exp10 as usize);
        return in_range(round_big(negative, n, 0));
    }
    let mut den = Big::from_u128(1);
    den.mul_pow10((-exp10) as usize);
    in_range(divide_rounded(negative, n, den))
}

/// strtold reports ERANGE when a nonzero number overflows or rounds to zero, and Redis refuses
/// both (a result that underflows to a subnormal is kept). Only called for nonzero texts.
fn in_range(value: LongDouble) -> Option<LongDouble> {
    match value {
        LongDouble::Finite { mant, .. } if mant != 0 => Some(value),
        _ => None,
    }
}

fn parse_hex(negative: bool, text: &[u8]) -> Option<LongDouble> {
    let digits = scan_digits(text, 16)?;
    let exp2 = parse_exponent(digits.rest, b"pP")? - 4 * digits.fraction;
    let first = digits.mantissa.iter().position(|&d| d != 0);
    let Some(first) = first else {
        return Some(LongDouble::Finite {
            negative,
            mant: 0,
            exp: EXP_MIN,
        });
    };
    let n = Big::from_hex(&digits.mantissa[first..]);
    let top = n.bit_len() as i64 + exp2;
    if !(-16500..=16385).contains(&top) {
        return None;
    }
    in_range(round_big(negative, n, exp2))
}

/// Round `±n × 2^exp` for a big `n`.
fn round_big(negative: bool, n: Big, exp: i64) -> LongDouble {
    let bits = n.bit_len();
    if bits <= 128 {
        return round(negative, n.low_u128(), exp, false);
    }
    let drop = bits - 128;
    round(
        negative,
        n.bits_from(drop),
        exp + drop as i64,
        n.any_below(drop),
    )
}

/// Round `±num / den` (both nonzero): a quotient of 66 to 68 bits plus the remainder as
/// sticky is enough for a correct rounding to 64 bits.
fn divide_rounded(negative: bool, mut num: Big, mut den: Big) -> LongDouble {
    let shift = den.bit_len() as i64 - num.bit_len() as i64 + 67;
    if shift >= 0 {
        num.shl(shift as usize);
    } else {
        den.shl((-shift) as usize);
    }
    // num / den is now below 2^68; find its bits from the top by shift-and-subtract.
    const QUOTIENT_BITS: usize = 68;
    den.shl(QUOTIENT_BITS);
    let mut quotient = 0u128;
    for bit in (0..=QUOTIENT_BITS).rev() {
        if num.cmp(&den) != Ordering::Less {
            num.sub_assign(&den);
            quotient |= 1 << bit;
        }
        den.shr1();
    }
    round(negative, quotient, -shift, !num.is_zero())
}

/// A minimal unsigned big integer (little-endian 32-bit limbs), only what parsing and printing
/// need.
#[derive(Debug, Clone)]
struct Big(Vec<u32>);

impl Big {
    fn from_u128(mut n: u128) -> Big {
        let mut limbs = Vec::new();
        while n != 0 {
            limbs.push(n as u32);
            n >>= 32;
        }
        Big(limbs)
    }

    fn from_decimal(digits: &[u8]) -> Big {
        let mut n = Big(Vec::new());
        for chunk in digits.chunks(9) {
            let value = chunk.iter().fold(0u32, |acc, &d| acc * 10 + u32::from(d));
            n.mul_add(10u32.pow(chunk.len() as u32), value);
        }
        n
    }

    fn from_hex(digits: &[u8]) -> Big {
        let limbs = digits
            .rchunks(8)
            .map(|chunk| chunk.iter().fold(0u32, |acc, &d| acc << 4 | u32::from(d)))
            .collect();
        let mut n = Big(limbs);
        n.trim();
        n
    }

    fn trim(&mut self) {
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
    }

    fn is_zero(&self) -> bool {
        self.0.is_empty()
    }

    /// `self = self × factor + add`.
    fn mul_add(&mut self, factor: u32, add: u32) {
        let mut carry = u64::from(add);
        for limb in &mut self.0 {
            let v = u64::from(*limb) * u64::from(factor) + carry;
            *limb = v as u32;
            carry = v >> 32;
        }
        if carry != 0 {
            self.0.push(carry as u32);
        }
    }

    fn mul_pow10(&mut self, mut power: usize) {
        while power >= 9 {
            self.mul_add(1_000_000_000, 0);
            power -= 9;
        }
        self.mul_add(10u32.pow(power as u32), 0);
    }

    /// `self / divisor`, returning the remainder.
    fn div_rem_small(&mut self, divisor: u32) -> u32 {
        let mut rem = 0u64;
        for limb in self.0.iter_mut().rev() {
            let v = rem << 32 | u64::from(*limb);
            *limb = (v / u64::from(divisor)) as u32;
            rem = v % u64::from(divisor);
        }
        self.trim();
        rem as u32
    }

    fn to_decimal(&self) -> String {
        if self.is_zero() {
            return "0".into();
        }
        let mut n = self.clone();
        let mut chunks = Vec::new();
        while !n.is_zero() {
            chunks.push(n.div_rem_small(1_000_000_000));
        }
        let mut text = chunks.pop().map(|c| c.to_string()).unwrap_or_default();
        for chunk in chunks.iter().rev() {
            text.push_str(&format!("{chunk:09}"));
        }
        text
    }

    fn bit_len(&self) -> usize {
        match self.0.last() {
            Some(top) => self.0.len() * 32 - top.leading_zeros() as usize,
            None => 0,
        }
    }

    fn bit(&self, i: usize) -> bool {
        self.0.get(i / 32).is_some_and(|l| l >> (i % 32) & 1 == 1)
    }

    fn low_u128(&self) -> u128 {
        self.bits_from(0)
    }

    /// The 128 bits starting at bit `from`.
    fn bits_from(&self, from: usize) -> u128 {
        (0..128).fold(0u128, |acc, i| acc | u128::from(self.bit(from + i)) << i)
    }

    /// Whether any bit below `below` is set.
    fn any_below(&self, below: usize) -> bool {
        let whole = below / 32;
        self.0[..whole.min(self.0.len())].iter().any(|&l| l != 0)
            || (0..below % 32).any(|i| self.bit(whole * 32 + i))
    }

    fn shl(&mut self, bits: usize) {
        if self.is_zero() {
            return;
        }
        let (limbs, bits) = (bits / 32, bits % 32);
        if bits != 0 {
            let mut carry = 0u32;
            for limb in &mut self.0 {
                let v = *limb;
                *limb = v << bits | carry;
                carry = v >> (32 - bits);
            }
            if carry != 0 {
                self.0.push(carry);
            }
        }
        self.0.splice(0..0, std::iter::repeat_n(0, limbs));
    }

    fn shr1(&mut self) {
        let mut carry = 0u32;
        for limb in self.0.iter_mut().rev() {
            let v = *limb;
            *limb = v >> 1 | carry << 31;
            carry = v & 1;
        }
        self.trim();
    }

    fn cmp(&self, other: &Big) -> Ordering {
        self.0
            .len()
            .cmp(&other.0.len())
            .then_with(|| self.0.iter().rev().cmp(other.0.iter().rev()))
    }

    /// `self -= other`, where `other <= self`.
    fn sub_assign(&mut self, other: &Big) {
        let mut borrow = 0i64;
        for (i, limb) in self.0.iter_mut().enumerate() {
            let v = i64::from(*limb) - i64::from(other.0.get(i).copied().unwrap_or(0)) - borrow;
            borrow = i64::from(v < 0);
            *limb = v.rem_euclid(1 << 32) as u32;
        }
        self.trim();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Option<LongDouble> {
        LongDouble::parse(text.as_bytes())
    }

    fn human(text: &str) -> String {
        parse(text).expect(text).to_human()
    }

    fn sum(a: &str, b: &str) -> String {
        (parse(a).unwrap() + parse(b).unwrap()).to_human()
    }

    // Expected texts below are redis-server 7.0.15's INCRBYFLOAT replies (x86-64).

    #[test]
    fn sums_print_as_redis_does() {
        assert_eq!(sum("0.1", "0.2"), "0.3");
        assert_eq!(sum("10.50", "0.1"), "10.6");
        assert_eq!(sum("10.6", "-5"), "5.6");
        assert_eq!(sum("5.0e3", "2.0e2"), "5200");
        assert_eq!(human("1000.1"), "1000.09999999999999998");
        assert_eq!(human("-0"), "0");
        assert_eq!(human("-0.000000000000000001"), "0");
        assert_eq!(human("0x10"), "16");
        assert_eq!(human("0x.8"), "0.5");
        assert_eq!(human("0X1P-2"), "0.25");
        assert_eq!(human("+1.5"), "1.5");
        assert_eq!(human(".5"), "0.5");
        assert_eq!(human("5."), "5");
        assert_eq!(human("1e-4950"), "0");
        assert_eq!(human("0e99999999999999999999"), "0");
    }

    #[test]
    fn printf_rounds_ties_to_even() {
        // 1 + 2^-18 and 1 + 3 × 2^-18 end in a 5 at the 18th decimal.
        assert_eq!(human("1.000003814697265625"), "1.00000381469726562");
        assert_eq!(human("1.000011444091796875"), "1.00001144409179688");
        assert_eq!(human("0x1p-18"), "0.00000381469726562");
        assert_eq!(human("0.000000000000000005"), "0");
        assert_eq!(human("0.000000000000000015"), "0.00000000000000002");
        assert_eq!(human("0.000000000000000025"), "0.00000000000000002");
    }

    #[test]
    fn huge_values_print_every_digit() {
        let text = human("1e400");
        assert_eq!(text.len(), 401);
        assert!(text.starts_with("10000000000000000000281880683947586514586"));
        assert!(human("1e4932").starts_with("1000000000000000000006018949387963891"));
        assert_eq!(human("9223372036854775807"), "9223372036854775807");
        assert_eq!(human("18446744073709551615"), "18446744073709551615");
        // 2^64 + 1 needs 65 bits: it rounds to 2^64.
        assert_eq!(human("18446744073709551617"), "18446744073709551616");
    }

    #[test]
    fn what_string2ld_refuses() {
        for bad in [
            "",
            " 1",
            "1 ",
            "\t1",
            "1\t",
            "abc",
            "1e",
            "1e+",
            "0x",
            "0x1p",
            "0xg",
            ".",
            "-",
            "+",
            "nan",
            "NaN",
            "-nan",
            "nan(123)",
            "infin",
            "1\0abc",
            "\0",
            "1.2.3",
            "1e5.5",
            "1e4933",
            "1.2e4932",
            "1e-4952",
            "1e-5000",
            "1e-99999999999999999999",
            "0x1p16384",
            "++1",
            "--1",
            "1_000",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
        // 0000...01 is 1 up to 5119 bytes, and not a number from 5120 on.
        let mut long = vec![b'0'; MAX_TEXT - 1];
        long.push(b'1');
        assert_eq!(LongDouble::parse(&long), None);
        assert_eq!(LongDouble::parse(&long[1..]), Some(LongDouble::from_i64(1)));
    }

    #[test]
    fn infinities_parse_and_poison_sums() {
        for inf in ["inf", "INF", "Infinity", "-inf", "+INFINITY"] {
            assert!(!parse(inf).expect(inf).is_finite(), "{inf}");
        }
        assert!(!(parse("inf").unwrap() + parse("1").unwrap()).is_finite());
        assert_eq!(
            parse("inf").unwrap() + parse("-inf").unwrap(),
            LongDouble::Nan
        );
        let max = parse("1.18e4932").unwrap();
        assert!(!(max + max).is_finite());
    }

    #[test]
    fn integers_convert_exactly() {
        for n in [0, 1, -1, 10, i64::MAX, i64::MIN, 1 << 62] {
            assert_eq!(LongDouble::from_i64(n).to_human(), n.to_string());
            assert_eq!(LongDouble::from_i64(n), parse(&n.to_string()).unwrap());
        }
    }

    #[test]
    fn subnormals_and_cancellation() {
        let tiny = parse("0x1p-16445").unwrap();
        assert_eq!(
            tiny,
            LongDouble::Finite {
                negative: false,
                mant: 1,
                exp: EXP_MIN
            }
        );
        // Below half the smallest subnormal is zero, which string2ld refuses.
        assert_eq!(parse("0x1p-16447"), None);
        // Exactly half rounds to even (zero), a little more rounds up.
        assert_eq!(parse("0x1p-16446"), None);
        assert_eq!(parse("0x1.8p-16446"), Some(tiny));
        assert_eq!(
            tiny + tiny,
            LongDouble::Finite {
                negative: false,
                mant: 2,
                exp: EXP_MIN
            }
        );
        assert_eq!(sum("1.5", "-1.5"), "0");
        assert_eq!(sum("1e-19", "1"), "1");
        assert_eq!(sum("1", "-0.99999999999999999999"), "0");
    }

    #[test]
    fn far_apart_operands_round_correctly() {
        // 2^64 + 1 is not representable; 2^64 + 1 + 1 is exactly 2^64 + 2.
        let big = parse("18446744073709551616").unwrap();
        let one = parse("1").unwrap();
        assert_eq!((big + one).to_human(), "18446744073709551616");
        assert_eq!(
            (big + parse("2").unwrap()).to_human(),
            "18446744073709551618"
        );
        // 2^64 + 1 + 2^-63: just above the midpoint, rounds up.
        assert_eq!(
            (big + parse("0x1.0000000000000002p0").unwrap()).to_human(),
            "18446744073709551618"
        );
        assert_eq!(
            (big + parse("-0x1p-100").unwrap()).to_human(),
            "18446744073709551616"
        );
    }
}
