// AssemblyScript source of the WebAssembly JSON number printer and reader used by ../json-numbers.ts.
// Compiled by build.mjs beside it (see gemm.as for why the extension is .as).
//
// Printing: lists of float64 as JSON text, byte for byte what JSON.stringify writes (ECMAScript's
// Number::toString: the shortest digits that read back as the same double, the nearest of them to it, ties to
// even; NaN and ±Infinity as null). The digits are Ulf Adams's Ryū (PLDI 2018): the double's rounding interval
// is scaled to a power of ten with one 64×128-bit product per bound against a table of powers of five (POW5
// for negative binary exponents, POW5_INV for the others, each entry 125 significant bits), then digits are
// dropped while both bounds still differ. The tables are filled by the caller (json-numbers.ts computes them
// with BigInt), which keeps this file free of 1,300 literals. WebAssembly has no 64×64→128-bit product, so
// mulHigh builds it from 32-bit halves.
//
// Reading: see scan, further down.

const POW5_ENTRIES: i32 = 326;
const POW5_INV_ENTRIES: i32 = 342;
const POW5_BITS: i32 = 125;
const POW5_INV_BITS: i32 = 125;

/** POW5[i] = ⌊5^i / 2^(pow5bits(i) − 125)⌋, low word first. */
const POW5: usize = memory.data(POW5_ENTRIES * 16, 16);
/** POW5_INV[q] = ⌊2^(pow5bits(q) − 1 + 125) / 5^q⌋ + 1, low word first. */
const POW5_INV: usize = memory.data(POW5_INV_ENTRIES * 16, 16);

export function pow5Table(): usize {
  return POW5;
}

export function pow5InvTable(): usize {
  return POW5_INV;
}

export function heapBase(): usize {
  return __heap_base;
}

/** "00" "01" … "99": two digits at a time. */
const DIGIT_PAIRS: usize = memory.data<u8>([
  48, 48, 48, 49, 48, 50, 48, 51, 48, 52, 48, 53, 48, 54, 48, 55, 48, 56, 48, 57, 49, 48, 49, 49, 49, 50, 49, 51, 49,
  52, 49, 53, 49, 54, 49, 55, 49, 56, 49, 57, 50, 48, 50, 49, 50, 50, 50, 51, 50, 52, 50, 53, 50, 54, 50, 55, 50, 56,
  50, 57, 51, 48, 51, 49, 51, 50, 51, 51, 51, 52, 51, 53, 51, 54, 51, 55, 51, 56, 51, 57, 52, 48, 52, 49, 52, 50, 52,
  51, 52, 52, 52, 53, 52, 54, 52, 55, 52, 56, 52, 57, 53, 48, 53, 49, 53, 50, 53, 51, 53, 52, 53, 53, 53, 54, 53, 55,
  53, 56, 53, 57, 54, 48, 54, 49, 54, 50, 54, 51, 54, 52, 54, 53, 54, 54, 54, 55, 54, 56, 54, 57, 55, 48, 55, 49, 55,
  50, 55, 51, 55, 52, 55, 53, 55, 54, 55, 55, 55, 56, 55, 57, 56, 48, 56, 49, 56, 50, 56, 51, 56, 52, 56, 53, 56, 54,
  56, 55, 56, 56, 56, 57, 57, 48, 57, 49, 57, 50, 57, 51, 57, 52, 57, 53, 57, 54, 57, 55, 57, 56, 57, 57,
]);

// ceil(log2(5^e)) for e ≥ 1 (1 for e = 0), ⌊log10(2^e)⌋ and ⌊log10(5^e)⌋, exact for 0 ≤ e ≤ 1500.
@inline function pow5bits(e: i32): i32 {
  return <i32>((<u32>e * 1217359) >>> 19) + 1;
}
@inline function log10Pow2(e: i32): i32 {
  return <i32>((<u32>e * 78913) >>> 18);
}
@inline function log10Pow5(e: i32): i32 {
  return <i32>((<u32>e * 732923) >>> 20);
}

/** The high 64 bits of the 128-bit product a·b. */
@inline function mulHigh(a: u64, b: u64): u64 {
  const aLo = a & 0xffffffff;
  const aHi = a >> 32;
  const bLo = b & 0xffffffff;
  const bHi = b >> 32;
  const hiLo = aHi * bLo;
  const cross = ((aLo * bLo) >> 32) + (hiLo & 0xffffffff) + aLo * bHi;
  return aHi * bHi + (hiLo >> 32) + (cross >> 32);
}

/** The 128-bit (hi, lo) >> shift, for 0 < shift < 64, where the result fits in 64 bits. */
@inline function shiftRight128(lo: u64, hi: u64, shift: i32): u64 {
  return (hi << (64 - <u64>shift)) | (lo >> <u64>shift);
}

// The three bounds scaled by the table entry (lo, hi) and shifted right by j: vr = 4·m2·entry >> j, and vp, vm
// those of the upper and lower bound, 4·m2 + 2 and 4·m2 − 1 − mmShift. One 64×128-bit product P = 2·m2·entry
// serves all three: (4·m2 + 2)·entry = 2·(P + entry), (4·m2 − 2)·entry = 2·(P − entry), (4·m2 − 1)·entry = 2·P − entry.
let vp: u64 = 0;
let vm: u64 = 0;

@inline function mulShiftAll(m2: u64, entry: usize, j: i32, mmShift: bool): u64 {
  const mulLo = load<u64>(entry);
  const mulHi = load<u64>(entry, 8);
  const m = m2 << 1;
  const lo = m * mulLo;
  const loHigh = mulHigh(m, mulLo);
  const midLow = m * mulHi;
  const mid = loHigh + midLow;
  const hi = mulHigh(m, mulHi) + (mid < loHigh ? 1 : 0);

  const lo2 = lo + mulLo;
  const mid2 = mid + mulHi + (lo2 < lo ? 1 : 0);
  const hi2 = hi + (mid2 < mid ? 1 : 0);
  vp = shiftRight128(mid2, hi2, j - 65);
  if (mmShift) {
    const lo3 = lo - mulLo;
    const mid3 = mid - mulHi - (lo3 > lo ? 1 : 0);
    const hi3 = hi - (mid3 > mid ? 1 : 0);
    vm = shiftRight128(mid3, hi3, j - 65);
  } else {
    const lo3 = lo + lo;
    const mid3 = mid + mid + (lo3 < lo ? 1 : 0);
    const hi3 = hi + hi + (mid3 < mid ? 1 : 0);
    const lo4 = lo3 - mulLo;
    const mid4 = mid3 - mulHi - (lo4 > lo3 ? 1 : 0);
    const hi4 = hi3 - (mid4 > mid3 ? 1 : 0);
    vm = shiftRight128(mid4, hi4, j - 64);
  }
  return shiftRight128(mid, hi, j - 65);
}

@inline function pow5Factor(value: u64): i32 {
  let count = 0;
  let q = value / 5;
  while (value - 5 * q == 0) {
    value = q;
    q = value / 5;
    count++;
  }
  return count;
}

@inline function multipleOfPowerOf5(value: u64, p: i32): bool {
  return pow5Factor(value) >= p;
}

// The decimal the double rounds to: its digits and the power of ten of the last one.
let digits: u64 = 0;
let exponent10: i32 = 0;

/** Ryū's shortest, nearest decimal of the positive finite double with these fields into digits, exponent10. */
function shortest(ieeeMantissa: u64, ieeeExponent: i32): void {
  let e2: i32;
  let m2: u64;
  if (ieeeExponent == 0) {
    e2 = 1 - 1023 - 52 - 2;
    m2 = ieeeMantissa;
  } else {
    e2 = ieeeExponent - 1023 - 52 - 2;
    m2 = (<u64>1 << 52) | ieeeMantissa;
  }
  // Round-to-nearest-even reads a bound back as this double when its significand is even.
  const acceptBounds = (m2 & 1) == 0;
  const mv = m2 << 2;
  // The lower bound is nearer when the significand is a power of two (the binade below is finer).
  const mmShift = ieeeMantissa != 0 || ieeeExponent <= 1;

  let vr: u64;
  let e10: i32;
  let vmIsTrailingZeros = false;
  let vrIsTrailingZeros = false;
  if (e2 >= 0) {
    const q = log10Pow2(e2) - (e2 > 3 ? 1 : 0);
    e10 = q;
    const k = POW5_INV_BITS + pow5bits(q) - 1;
    const i = -e2 + q + k;
    vr = mulShiftAll(m2, POW5_INV + (<usize>q << 4), i, mmShift);
    if (q <= 21) {
      // At most one of mv, mv + 2 and mv − 1 − mmShift is a multiple of 5.
      if (mv % 5 == 0) {
        vrIsTrailingZeros = multipleOfPowerOf5(mv, q);
      } else if (acceptBounds) {
        vmIsTrailingZeros = multipleOfPowerOf5(mv - 1 - (mmShift ? 1 : 0), q);
      } else if (multipleOfPowerOf5(mv + 2, q)) {
        vp--;
      }
    }
  } else {
    const q = log10Pow5(-e2) - (-e2 > 1 ? 1 : 0);
    e10 = q + e2;
    const i = -e2 - q;
    const k = pow5bits(i) - POW5_BITS;
    const j = q - k;
    vr = mulShiftAll(m2, POW5 + (<usize>i << 4), j, mmShift);
    if (q <= 1) {
      vrIsTrailingZeros = true;
      if (acceptBounds) vmIsTrailingZeros = mmShift;
      else vp--;
    } else if (q < 63) {
      vrIsTrailingZeros = (mv & ((<u64>1 << q) - 1)) == 0;
    }
  }

  let removed: i32 = 0;
  let lastRemovedDigit: u64 = 0;
  if (vmIsTrailingZeros || vrIsTrailingZeros) {
    // Rare: an exact decimal at a bound or at the value itself, where ties and bound inclusion matter.
    for (;;) {
      const vpDiv10 = vp / 10;
      const vmDiv10 = vm / 10;
      if (vpDiv10 <= vmDiv10) break;
      const vrDiv10 = vr / 10;
      vmIsTrailingZeros = vmIsTrailingZeros && vm - 10 * vmDiv10 == 0;
      vrIsTrailingZeros = vrIsTrailingZeros && lastRemovedDigit == 0;
      lastRemovedDigit = vr - 10 * vrDiv10;
      vr = vrDiv10;
      vp = vpDiv10;
      vm = vmDiv10;
      removed++;
    }
    if (vmIsTrailingZeros) {
      for (;;) {
        const vmDiv10 = vm / 10;
        if (vm - 10 * vmDiv10 != 0) break;
        const vrDiv10 = vr / 10;
        vrIsTrailingZeros = vrIsTrailingZeros && lastRemovedDigit == 0;
        lastRemovedDigit = vr - 10 * vrDiv10;
        vr = vrDiv10;
        vp = vp / 10;
        vm = vmDiv10;
        removed++;
      }
    }
    // Exactly halfway: to even.
    if (vrIsTrailingZeros && lastRemovedDigit == 5 && (vr & 1) == 0) lastRemovedDigit = 4;
    const outside = vr == vm && (!acceptBounds || !vmIsTrailingZeros);
    digits = vr + (outside || lastRemovedDigit >= 5 ? 1 : 0);
  } else {
    let roundUp = false;
    const vpDiv100 = vp / 100;
    const vmDiv100 = vm / 100;
    if (vpDiv100 > vmDiv100) {
      const vrDiv100 = vr / 100;
      roundUp = vr - 100 * vrDiv100 >= 50;
      vr = vrDiv100;
      vp = vpDiv100;
      vm = vmDiv100;
      removed += 2;
    }
    for (;;) {
      const vpDiv10 = vp / 10;
      const vmDiv10 = vm / 10;
      if (vpDiv10 <= vmDiv10) break;
      const vrDiv10 = vr / 10;
      roundUp = vr - 10 * vrDiv10 >= 5;
      vr = vrDiv10;
      vp = vpDiv10;
      vm = vmDiv10;
      removed++;
    }
    digits = vr + (vr == vm || roundUp ? 1 : 0);
  }
  exponent10 = e10 + removed;
}

@inline function decimalLength(v: u64): i32 {
  if (v >= 10000000000000000) return 17;
  if (v >= 1000000000000000) return 16;
  if (v >= 100000000000000) return 15;
  if (v >= 10000000000000) return 14;
  if (v >= 1000000000000) return 13;
  if (v >= 100000000000) return 12;
  if (v >= 10000000000) return 11;
  if (v >= 1000000000) return 10;
  if (v >= 100000000) return 9;
  if (v >= 10000000) return 8;
  if (v >= 1000000) return 7;
  if (v >= 100000) return 6;
  if (v >= 10000) return 5;
  if (v >= 1000) return 4;
  if (v >= 100) return 3;
  if (v >= 10) return 2;
  return 1;
}

@inline function pairAt(dst: usize, pair: u32): void {
  store<u16>(dst, load<u16>(DIGIT_PAIRS + (<usize>pair << 1)));
}

/** The `length` decimal digits of v (< 10^17) at dst, most significant first. */
function writeDigits(v: u64, length: i32, dst: usize): void {
  let end = dst + <usize>length;
  let rest: u32;
  if (v >> 32 != 0) {
    const q = v / 100000000;
    let low = <u32>(v - 100000000 * q);
    for (let n = 0; n < 4; n++) {
      end -= 2;
      pairAt(end, low % 100);
      low /= 100;
    }
    rest = <u32>q;
  } else {
    rest = <u32>v;
  }
  while (rest >= 100) {
    end -= 2;
    pairAt(end, rest % 100);
    rest /= 100;
  }
  if (rest >= 10) {
    end -= 2;
    pairAt(end, rest);
  } else {
    store<u8>(end - 1, 48 + rest);
  }
}

@inline function zeros(dst: usize, count: i32): usize {
  memory.fill(dst, 48, <usize>count);
  return dst + <usize>count;
}

/** x as JSON.stringify writes it, at dst (at most 24 bytes); the end. */
function writeNumber(x: f64, dst: usize): usize {
  const bits = reinterpret<u64>(x);
  const ieeeExponent = <i32>((bits >> 52) & 0x7ff);
  const ieeeMantissa = bits & 0xfffffffffffff;
  if (ieeeExponent == 0x7ff) {
    store<u32>(dst, 0x6c6c756e); // "null"
    return dst + 4;
  }
  if (ieeeExponent == 0 && ieeeMantissa == 0) {
    // -0 too: Number::toString(-0) is "0".
    store<u8>(dst, 48);
    return dst + 1;
  }
  if (bits >> 63 != 0) {
    store<u8>(dst, 45); // "-"
    dst++;
  }
  shortest(ieeeMantissa, ieeeExponent);
  const k = decimalLength(digits);
  // ECMAScript's n: the value is 0.d₁d₂…d_k × 10^n.
  const n = exponent10 + k;
  if (k <= n && n <= 21) {
    writeDigits(digits, k, dst);
    return zeros(dst + <usize>k, n - k);
  }
  if (0 < n && n <= 21) {
    // d₁…d_n . d_(n+1)…d_k: the digits written one place to the right, then the first n moved back over the gap.
    writeDigits(digits, k, dst + 1);
    memory.copy(dst, dst + 1, <usize>n);
    store<u8>(dst + <usize>n, 46); // "."
    return dst + <usize>k + 1;
  }
  if (-6 < n && n <= 0) {
    store<u16>(dst, 0x2e30); // "0."
    const at = zeros(dst + 2, -n);
    writeDigits(digits, k, at);
    return at + <usize>k;
  }
  // d₁.d₂…d_k e±(n − 1)
  let end: usize;
  if (k == 1) {
    store<u8>(dst, <u8>(48 + digits));
    end = dst + 1;
  } else {
    writeDigits(digits, k, dst + 1);
    store<u8>(dst, load<u8>(dst + 1));
    store<u8>(dst + 1, 46);
    end = dst + <usize>k + 1;
  }
  let e = n - 1;
  store<u8>(end, 101); // "e"
  store<u8>(end + 1, e < 0 ? 45 : 43);
  end += 2;
  if (e < 0) e = -e;
  if (e >= 100) {
    store<u8>(end, <u8>(48 + e / 100));
    pairAt(end + 1, <u32>(e % 100));
    return end + 3;
  }
  if (e >= 10) {
    pairAt(end, <u32>e);
    return end + 2;
  }
  store<u8>(end, <u8>(48 + e));
  return end + 1;
}

/** The `count` (≥ 1) float64 at src as "x,y,…" at dst: the end. At most 25 bytes a number. */
export function writeList(src: usize, count: i32, dst: usize): usize {
  dst = writeNumber(load<f64>(src), dst);
  for (let i = 1; i < count; i++) {
    store<u8>(dst, 44); // ","
    dst = writeNumber(load<f64>(src + (<usize>i << 3)), dst + 1);
  }
  return dst;
}

/** `rows` rows of `columns` (≥ 1) float64 at src, row-major, as "[a,b],[c,d],…" at dst: the end. */
export function writeRows(src: usize, rows: i32, columns: i32, dst: usize): usize {
  const stride = <usize>columns << 3;
  for (let r = 0; r < rows; r++) {
    if (r > 0) {
      store<u8>(dst, 44);
      dst++;
    }
    store<u8>(dst, 91); // "["
    dst = writeList(src, columns, dst + 1);
    store<u8>(dst, 93); // "]"
    dst++;
    src += stride;
  }
  return dst;
}

// ---------------------------------------------------------------------------------------------------------------
// Reading: the numbers of a JSON text's number lists, as float64, each the double nearest its decimal (what
// JSON.parse gives), with the text left around them, each list replaced by a placeholder.
//
// A list is an array of one or more JSON numbers and nothing else ("[0.5, -1e-3]"). `scan` reads the text,
// skipping strings, parses every list of at least MIN_LIST_BYTES into the numbers area and writes the text
// over itself with each such list replaced by the string "\uE000<k>" (k: the list's number, the character
// written raw as UTF-8), so that JSON.parse can read the rest. Conversion is Clinger's exact fast path
// (at most 2^53 and a power of ten up to 22) or else Eisel and Lemire's (Lemire, "Number parsing at a
// gigabyte per second", 2021): one or two 64×64-bit products with a truncated 128-bit power of ten (POW10,
// filled by the caller), which says when it cannot decide. A list with a number it cannot decide, more than
// 19 significant digits, or anything else out of the ordinary stays in the text for JSON.parse.

const POW10_MIN: i32 = -348;
const POW10_MAX: i32 = 347;
/** POW10[e − POW10_MIN]: 10^e's first 128 bits, rounded down, low word first. */
const POW10: usize = memory.data((POW10_MAX - POW10_MIN + 1) * 16, 16);

export function pow10Table(): usize {
  return POW10;
}

/** The exact doubles 1e0 … 1e22. */
const EXACT_POWERS: usize = memory.data<f64>([
  1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20,
  1e21, 1e22,
]);

/** A list shorter than its placeholder (at most 12 bytes) stays in the text, which then never grows. */
const MIN_LIST_BYTES: usize = 16;

/** The decimal man · 10^exp10 (man < 10^19) as the nearest double, or NaN where this cannot decide. */
function toDouble(man: u64, exp10: i32, negative: bool): f64 {
  let value: f64;
  if (man == 0) {
    value = 0;
  } else if (man <= <u64>1 << 53 && exp10 >= -22 && exp10 <= 22) {
    // Both operands exact, so the one rounding is the correctly rounded result.
    const power = load<f64>(EXACT_POWERS + (<usize>(exp10 < 0 ? -exp10 : exp10) << 3));
    value = exp10 < 0 ? <f64>man / power : <f64>man * power;
  } else if (exp10 == 0) {
    // An integer below 2^64: the conversion rounds to nearest, ties to even.
    value = <f64>man;
  } else {
    if (exp10 < POW10_MIN || exp10 > POW10_MAX) return NaN;
    const entry = POW10 + (<usize>(exp10 - POW10_MIN) << 4);
    const leading = <i32>clz<u64>(man);
    const m = man << <u64>leading;
    let exp2: i64 = <i64>(((217706 * exp10) >> 16) + 64 + 1023 - leading);
    const hiWord = load<u64>(entry, 8);
    let xLo = m * hiWord;
    let xHi = mulHigh(m, hiWord);
    if ((xHi & 0x1ff) == 0x1ff && xLo + m < m) {
      // The truncated product may be one ulp short of a carry: bring in the power's next 64 bits.
      const loWord = load<u64>(entry);
      const yLo = m * loWord;
      const yHi = mulHigh(m, loWord);
      let mergedHi = xHi;
      const mergedLo = xLo + yHi;
      if (mergedLo < xLo) mergedHi++;
      if ((mergedHi & 0x1ff) == 0x1ff && mergedLo + 1 == 0 && yLo + m < m) return NaN;
      xHi = mergedHi;
      xLo = mergedLo;
    }
    const msb = xHi >> 63;
    let mantissa = xHi >> (msb + 9);
    exp2 -= <i64>(1 ^ msb);
    // Exactly halfway between two doubles, as far as 128 bits can tell.
    if (xLo == 0 && (xHi & 0x1ff) == 0 && (mantissa & 3) == 1) return NaN;
    mantissa += mantissa & 1;
    mantissa >>= 1;
    if (mantissa >> 53 != 0) {
      mantissa >>= 1;
      exp2++;
    }
    // Subnormal, or beyond the largest double: JSON.parse decides.
    if (exp2 <= 0 || exp2 >= 0x7ff) return NaN;
    value = reinterpret<f64>((<u64>exp2 << 52) | (mantissa & 0xfffffffffffff));
  }
  return negative ? -value : value;
}

// Where the numbers go (grown as needed), how many lists and numbers the last scan found.
let numbersAt: usize = 0;
let numberCount: i32 = 0;
let listCount: i32 = 0;
/** The end of the last number `readNumber` read, or 0 where it found none. */
let numberEnd: usize = 0;

export function numbers(): usize {
  return numbersAt;
}
export function lists(): i32 {
  return listCount;
}

@inline function isDigit(c: u32): bool {
  return c - 48 < 10;
}
@inline function isSpace(c: u32): bool {
  return c == 32 || c == 10 || c == 13 || c == 9;
}
/** Whether the 8 bytes of v (as loaded, little-endian) are all ASCII digits. */
@inline function eightDigits(v: u64): bool {
  return ((v & 0xf0f0f0f0f0f0f0f0) | (((v + 0x0606060606060606) & 0xf0f0f0f0f0f0f0f0) >> 4)) == 0x3333333333333333;
}
/** The value of 8 ASCII digits loaded little-endian (the first digit the most significant): pairs, quads, then all. */
@inline function eightDigitsValue(v: u64): u64 {
  v = ((v & 0x0f0f0f0f0f0f0f0f) * 2561) >> 8;
  v = ((v & 0x00ff00ff00ff00ff) * 6553601) >> 16;
  return ((v & 0x0000ffff0000ffff) * 42949672960001) >> 32;
}
@inline function skipSpace(p: usize, end: usize): usize {
  while (p < end && isSpace(load<u8>(p))) p++;
  return p;
}

/**
 * Grows the memory to at least `end` bytes, doubling it at least (growing a page at a time made reading a
 * 170 MB text take seconds): false where it cannot grow.
 */
function room(end: usize): bool {
  const pages = memory.size();
  const have = <usize>pages << 16;
  if (end <= have) return true;
  const needed = <i32>((end - have + 0xffff) >> 16);
  return memory.grow(max(needed, pages)) >= 0 || memory.grow(needed) >= 0;
}

/** The JSON number at p (before end) as a double into the numbers area; false where it is not one we decide. */
function readNumber(p: usize, end: usize): bool {
  let c: u32 = p < end ? load<u8>(p) : 0;
  const negative = c == 45;
  if (negative) {
    p++;
    c = p < end ? load<u8>(p) : 0;
  }
  if (!isDigit(c)) return false;
  let man: u64 = 0;
  let significant = 0;
  let exp10: i32 = 0;
  if (c == 48) {
    // A digit after it ("01", not JSON) ends the number here, and its list (readList) at that digit.
    p++;
  } else {
    while (p + 8 <= end && eightDigits(load<u64>(p))) {
      man = man * 100000000 + eightDigitsValue(load<u64>(p));
      significant += 8;
      p += 8;
    }
    while (p < end && isDigit((c = load<u8>(p)))) {
      man = man * 10 + (c - 48);
      significant++;
      p++;
    }
  }
  if (p < end && load<u8>(p) == 46) {
    p++;
    if (!(p < end && isDigit(load<u8>(p)))) return false;
    // Zeros before the first significant digit only move the decimal point.
    if (man == 0) {
      while (p < end && load<u8>(p) == 48) {
        exp10--;
        p++;
      }
    }
    const first = p;
    while (p + 8 <= end && eightDigits(load<u64>(p))) {
      man = man * 100000000 + eightDigitsValue(load<u64>(p));
      p += 8;
    }
    while (p < end && isDigit((c = load<u8>(p)))) {
      man = man * 10 + (c - 48);
      p++;
    }
    significant += <i32>(p - first);
    exp10 -= <i32>(p - first);
  }
  // More would overflow the 64-bit significand (it has then wrapped, and is not used).
  if (significant > 19) return false;
  if (p < end && (load<u8>(p) | 32) == 101) {
    p++;
    let exponentNegative = false;
    if (p < end && (load<u8>(p) == 43 || load<u8>(p) == 45)) {
      exponentNegative = load<u8>(p) == 45;
      p++;
    }
    if (!(p < end && isDigit(load<u8>(p)))) return false;
    let exponent: i32 = 0;
    while (p < end && isDigit((c = load<u8>(p)))) {
      // Past 10^6 the value is 0 or Infinity however it goes on; JSON.parse says which.
      if (exponent < 1000000) exponent = exponent * 10 + <i32>(c - 48);
      p++;
    }
    exp10 += exponentNegative ? -exponent : exponent;
  }
  const value = toDouble(man, exp10, negative);
  if (isNaN(value)) return false;
  const at = numbersAt + (<usize>numberCount << 3);
  if (!room(at + 8)) return false;
  store<f64>(at, value);
  numberCount++;
  numberEnd = p;
  return true;
}

/**
 * The list that starts with "[" at p, read into the numbers area: the position after its "]", or 0 where
 * what starts there is not a list of numbers this reads (the numbers area is then as before).
 */
function readList(p: usize, end: usize): usize {
  const before = numberCount;
  p = skipSpace(p + 1, end);
  for (;;) {
    if (!readNumber(p, end)) break;
    p = skipSpace(numberEnd, end);
    if (p >= end) break;
    const c = load<u8>(p);
    if (c == 93) return p + 1;
    if (c != 44) break;
    p = skipSpace(p + 1, end);
  }
  numberCount = before;
  return 0;
}

/** Writes list k's placeholder, "\uE000<k>" with the character raw, at w: the end. */
function placeholder(w: usize, k: i32): usize {
  store<u8>(w, 34);
  store<u8>(w + 1, 0xee);
  store<u16>(w + 2, 0x8080);
  w += 4;
  let digits = 1;
  for (let rest = k; rest >= 10; rest /= 10) digits++;
  for (let i = digits - 1, rest = k; i >= 0; i--, rest /= 10) store<u8>(w + <usize>i, <u8>(48 + (rest % 10)));
  w += <usize>digits;
  store<u8>(w, 34);
  return w + 1;
}

/**
 * Scans the `length` bytes of JSON text at src: its number lists into the numbers area (from `into`, growing
 * the memory as needed; each list's count into the i32 array at `counts`, which needs room for length / 16
 * entries), the rest of the text written over src with each list's placeholder in its place. Returns the
 * rewritten text's length, or −1 where the text already holds the placeholder character (U+E000, raw or
 * as an escape), which would make its placeholders ambiguous.
 */
export function scan(src: usize, length: i32, counts: usize, into: usize): i32 {
  const end = src + <usize>length;
  numbersAt = into;
  numberCount = 0;
  listCount = 0;
  let r = src;
  let w = src;
  while (r < end) {
    const c = load<u8>(r);
    if (c == 0xee && r + 2 < end && load<u16>(r + 1) == 0x8080) return -1;
    if (c == 34) {
      // A string, copied as it is: its escapes and its quotes are not list syntax.
      store<u8>(w++, c);
      r++;
      while (r < end) {
        const s = load<u8>(r);
        if (s == 0xee && r + 2 < end && load<u16>(r + 1) == 0x8080) return -1;
        store<u8>(w++, s);
        r++;
        // Written as an escape, the placeholders' character would be as ambiguous.
        if (s == 92 && r + 4 < end && load<u8>(r) == 117 && (load<u32>(r + 1) | 0x20202020) == 0x30303065) return -1;
        if (s == 92 && r < end) {
          store<u8>(w++, load<u8>(r));
          r++;
        } else if (s == 34) {
          break;
        }
      }
      continue;
    }
    if (c == 91) {
      const before = numberCount;
      const after = readList(r, end);
      if (after != 0 && after - r >= MIN_LIST_BYTES) {
        store<i32>(counts + (<usize>listCount << 2), numberCount - before);
        w = placeholder(w, listCount);
        listCount++;
        r = after;
        continue;
      }
      numberCount = before;
    }
    store<u8>(w++, c);
    r++;
  }
  return <i32>(w - src);
}
