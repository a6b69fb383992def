import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { exp, sigmoid } from "../../src/core/numerics.js";
import { mulberry32 } from "../support/random.js";

/** The double whose bits are hi:lo (two unsigned 32-bit words), NaNs and subnormals included. */
function fromBits(hi: number, lo: number): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setUint32(0, hi);
  view.setUint32(4, lo);
  return view.getFloat64(0);
}

/** The arguments in `xs` where exp and Math.exp differ, as [x, exp(x), Math.exp(x)], at most five. */
function mismatches(xs: Iterable<number>): [number, number, number][] {
  const out: [number, number, number][] = [];
  for (const x of xs) {
    const ours = exp(x);
    const engine = Math.exp(x);
    if (!Object.is(ours, engine) && out.length < 5) out.push([x, ours, engine]);
  }
  return out;
}

/** n doubles on each side of x, stepping by one unit in the last place. */
function* around(x: number, n: number): Generator<number> {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  for (let d = -n; d <= n; d++) {
    view.setBigUint64(0, bits + BigInt(d));
    yield view.getFloat64(0);
  }
}

describe("exp: Math.exp's algorithm written out for inlining", () => {
  it("is bit for bit Math.exp at the special values and at every boundary of fdlibm's argument ranges", () => {
    const special = [0, -0, 1, -1, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN, 5e-324, -5e-324];
    expect(mismatches(special)).toEqual([]);
    expect(exp(Number.NaN)).toBeNaN();
    const boundaries = [
      fromBits(0x40862e42, 0), // |x| ≥ 709.78…: the overflow / underflow filter
      fromBits(0x40862e42, 0xfefa39ef), // overflow
      fromBits(0xc0874910, 0xd52d3051), // underflow to 0
      fromBits(0x3fd62e42, 0xffffffff), // 0.5·ln 2 by the high word: k = 0 below, reduced above
      fromBits(0x3fd62e43, 0),
      0.5 * Math.LN2,
      fromBits(0x3ff0a2b2, 0), // 1.5·ln 2 by the high word: k = ±1 below
      1.5 * Math.LN2,
      2 ** -28, // below: 1 + x
      1024 * Math.LN2, // k = 1024, scaled in two steps
      -1021 * Math.LN2, // k = -1021, the last k scaled in one step
      -708.3964185322641, // results near the smallest normal
    ];
    for (const b of boundaries) {
      expect(mismatches(around(b, 2000))).toEqual([]);
      expect(mismatches(around(-b, 2000))).toEqual([]);
    }
  });

  it("is bit for bit Math.exp on a sweep of the whole finite range and on random bit patterns", () => {
    const sweep = function* () {
      for (let x = -746; x < 711; x += 0.000_731) yield x; // 2 million arguments, results from 0 to ∞
    };
    expect(mismatches(sweep())).toEqual([]);
    const rng = mulberry32(7);
    const patterns = function* () {
      for (let i = 0; i < 1_000_000; i++) yield fromBits((rng() * 2 ** 32) >>> 0, (rng() * 2 ** 32) >>> 0);
    };
    expect(mismatches(patterns())).toEqual([]);
  });

  it("is bit for bit Math.exp on arbitrary doubles (property)", () => {
    fc.assert(
      fc.property(fc.double(), (x) => Object.is(exp(x), Math.exp(x))),
      { numRuns: 20_000 },
    );
  });
});

describe("sigmoid", () => {
  it("equals the two textbook-stable forms, 1 / (1 + e^-x) for x ≥ 0 and e^x / (1 + e^x) below, bit for bit", () => {
    const stable = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
    fc.assert(
      fc.property(fc.double(), (x) => Object.is(sigmoid(x), stable(x))),
      { numRuns: 20_000 },
    );
    for (const x of [0, -0, 1, -1, 36.7, -36.7, 709, -709, 800, -800, -746]) expect(sigmoid(x)).toBe(stable(x));
  });

  it("stays finite and in [0, 1] where the direct form overflows", () => {
    expect(sigmoid(-1000)).toBe(0);
    expect(sigmoid(1000)).toBe(1);
    expect(sigmoid(0)).toBe(0.5);
    expect(1 / (1 + Math.exp(1000))).toBe(0); // the direct form: fine here, but e^1000 = ∞ on the way
    expect(Math.exp(1000) / (1 + Math.exp(1000))).toBeNaN(); // and ∞ / ∞ in the other form
  });
});
