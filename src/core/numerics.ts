/** Scalar functions in the forms that stay accurate and finite where the textbook forms do not. */

/**
 * σ(x) without overflow of exp for large |x|: 1 / (1 + e^-x) for x ≥ 0 and e^x / (1 + e^x) below, both through
 * e^-|x|, so that the sign picks only the numerator: a branch on the sign of every pre-activation is
 * mispredicted half the time in a hidden layer.
 */
export function sigmoid(x: number): number {
  const e = exp(-Math.abs(x));
  return (x >= 0 ? 1 : e) / (1 + e);
}

// exp's constants, as the bit patterns V8's src/base/ieee754.cc (FreeBSD msun's e_exp.c) gives them.
const bits = (high: number, low = 0): number => {
  const view = new DataView(new ArrayBuffer(8));
  view.setUint32(0, high);
  view.setUint32(4, low);
  return view.getFloat64(0);
};
/** Where fdlibm sorts |x| by its high word, the comparisons are with these doubles. */
const EXP_LARGE = bits(0x40862e42); // |x| ≥ 709.78…: overflow, underflow or non-finite
const EXP_REDUCED = bits(0x3fd62e43); // |x| > 0.5·ln 2 (by the high word): reduce by k·ln 2
const EXP_TINY = 2 ** -28;
const EXP_OVERFLOW = bits(0x40862e42, 0xfefa39ef);
const EXP_UNDERFLOW = bits(0xc0874910, 0xd52d3051);
const LN2_HI = bits(0x3fe62e42, 0xfee00000);
const LN2_LO = bits(0x3dea39ef, 0x35793c76);
const INV_LN2 = bits(0x3ff71547, 0x652b82fe);
const P1 = bits(0x3fc55555, 0x5555553e);
const P2 = bits(0xbf66c16c, 0x16bebd93);
const P3 = bits(0x3f11566a, 0xaf25de2c);
const P4 = bits(0xbebbbd41, 0xc5d26bf1);
const P5 = bits(0x3e663769, 0x72bea4d0);
/** 2^k for k from -1021 to 1023 at index k + POW2_ZERO, every one exact: a load where fdlibm builds the bits. */
const POW2_ZERO = 1021;
const POW2 = Float64Array.from({ length: POW2_ZERO + 1024 }, (_, i) => 2 ** (i - POW2_ZERO));

/**
 * e^x, bit for bit V8's Math.exp (fdlibm's algorithm, which V8 runs as a C function), written in JavaScript so
 * that TurboFan inlines it into the elementwise loops, where the call costs about as much as the arithmetic.
 * fdlibm writes out three argument ranges: |x| ≤ 0.5·ln 2 with k = 0, up to 1.5·ln 2 with k = ±1, and above
 * with k = x / ln 2 rounded. Their formulas are one formula, x - k·ln 2 reduced and scaled by 2^k, at those k,
 * and the rounding gives ±1 throughout the middle range; so here only k is chosen per range, which costs no
 * mispredicted branch where three formulas would. test/core/numerics.test.ts holds it to Math.exp.
 */
export function exp(x: number): number {
  const ax = Math.abs(x);
  if (!(ax < EXP_LARGE)) {
    if (Number.isNaN(x)) return x;
    if (x > EXP_OVERFLOW) return Number.POSITIVE_INFINITY;
    if (x < EXP_UNDERFLOW) return 0;
  }
  if (ax < EXP_TINY) return 1 + x;
  if (x === 1) return Math.E; // V8 returns e itself here, where the reduction below is one ulp off
  const rounded = (INV_LN2 * x + (x < 0 ? -0.5 : 0.5)) | 0;
  const k = ax < EXP_REDUCED ? 0 : rounded;
  const hi = x - k * LN2_HI;
  const lo = k * LN2_LO;
  const r = hi - lo;
  const t = r * r;
  const c = r - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))));
  const y = 1 - (lo - (r * c) / (2 - c) - hi);
  // Below 2^-1021 fdlibm scales in two steps, so that a subnormal result is rounded once, as here.
  if (k < -1021) return y * POW2[k + 1000 + POW2_ZERO] * 2 ** -1000;
  return k === 1024 ? y * 2 * 2 ** 1023 : y * POW2[k + POW2_ZERO];
}

/**
 * x, or float64's largest number where x overflowed: for a size (an error, a norm) that JSON must carry, which
 * has no Infinity (JSON.stringify writes null).
 */
export function saturated(x: number): number {
  return Math.min(x, Number.MAX_VALUE);
}

/** log(1 + e^x), exact for large |x| where the direct form overflows or loses every digit. */
export function softplus(x: number): number {
  return Math.max(x, 0) + Math.log1p(exp(-Math.abs(x)));
}

/**
 * PyTorch clamps log(p) in binary cross-entropy at -100 so that p = 0 gives a large finite loss
 * instead of Infinity; we follow it so that our numbers agree with the framework students use.
 */
export const LOG_CLAMP = -100;

export function clampedLog(x: number): number {
  return Math.max(Math.log(x), LOG_CLAMP);
}

/** The smallest denominator PyTorch's bce backward divides by, for the same reason. */
export const BCE_GRAD_EPS = 1e-12;
