import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import {
  type JsonNumbers,
  jsonNumbers,
  jsonNumbersFromBytes,
  pow5Entry,
  pow5InvEntry,
  pow10Entry,
} from "../../src/core/kernels/json-numbers.js";
import { compileModule } from "../../src/core/kernels/wasm/build.mjs";

// The module is compiled here from its current source, so the tests check numbers.as itself whether or not
// `npm run build:wasm` has run. The oracle throughout is V8: JSON.stringify for printing, Number() (what
// JSON.parse computes for a JSON number) for reading.
let json: JsonNumbers;
beforeAll(async () => {
  json = jsonNumbersFromBytes(await compileModule("numbers"));
}, 60_000);

const decoder = new TextDecoder();
const printed = (values: unknown[]) => {
  const bytes = json.list(values);
  return bytes === null ? null : decoder.decode(bytes);
};
const bitsOf = (hi: number, lo: number) => new Float64Array(new Uint32Array([lo, hi]).buffer)[0];
const word = (v: bigint, high: boolean) => (high ? v >> 64n : v & ((1n << 64n) - 1n));

/** Doubles from every binade and every kind: random bit patterns, so subnormals and extremes come up. */
const anyDouble = fc
  .tuple(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 0, max: 2 ** 32 - 1 }))
  .map(([hi, lo]) => bitsOf(hi, lo));

/** Hand-picked doubles where printing and reading are delicate. */
function edgeDoubles(): number[] {
  const edges = [
    0,
    -0,
    1,
    -1,
    0.1,
    0.2,
    0.3,
    0.30000000000000004,
    1.5,
    100,
    123e-9,
    1e-7,
    1e-6,
    0.000001,
    1e-6 * (1 - 2 ** -53),
    1e20,
    1e21,
    999999999999999900000,
    1e22,
    1e23,
    2 ** 53,
    2 ** 53 + 2,
    2 ** 63,
    2 ** 64,
    2 ** 53 + 1,
    5e-324,
    -5e-324,
    2.2250738585072014e-308,
    2.225073858507201e-308,
    Number.MAX_VALUE,
    -Number.MAX_VALUE,
    Number.MIN_VALUE,
    Number.EPSILON,
    Number("1234567890123456789"),
    8.98846567431158e307,
    1.7976931348623157e308,
  ];
  for (let e = -1074; e <= 1023; e++) edges.push(2 ** e, 1.5 * 2 ** e, -(2 ** e), 2 ** e * (2 - 2 ** -52));
  for (let e = -323; e <= 308; e++) edges.push(Number(`1e${e}`), Number(`9.999999999999999e${e}`), Number(`5e${e}`));
  return edges;
}

describe("the tables, against published values", () => {
  it("Ryū's powers of five (ulfjack/ryu d2s_small_table.h)", () => {
    // DOUBLE_POW5_INV_SPLIT2[1] is entry 26 of the full inverse table, DOUBLE_POW5_SPLIT2[2] entry 52 of the other.
    expect([word(pow5InvEntry(0), false), word(pow5InvEntry(0), true)]).toEqual([1n, 2305843009213693952n]);
    expect([word(pow5InvEntry(26), false), word(pow5InvEntry(26), true)]).toEqual([
      5955668970331000884n,
      1784059615882449851n,
    ]);
    expect([word(pow5Entry(0), false), word(pow5Entry(0), true)]).toEqual([0n, 1152921504606846976n]);
    expect([word(pow5Entry(52), false), word(pow5Entry(52), true)]).toEqual([
      1032610780636961552n,
      1925929944387235853n,
    ]);
  });

  it("Eisel-Lemire's powers of ten (Go's strconv detailedPowersOfTen)", () => {
    expect(pow10Entry(-348)).toBe(0xfa8fd5a0081c0288_1732c869cd60e453n);
    expect(pow10Entry(-343)).toBe(0xbf29dcaba82fdeae_7432ee873880fc33n);
    expect(pow10Entry(43)).toBe(0xe596b7b0c643c719_6d9ccd05d0000000n);
  });
});

describe("printing numbers as JSON.stringify does", () => {
  it("prints the edge cases", () => {
    const edges = edgeDoubles();
    expect(printed(edges)).toBe(JSON.stringify(edges).slice(1, -1));
  });

  it("prints NaN and the infinities as null, as JSON.stringify does", () => {
    expect(printed([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 2])).toBe("null,null,null,2");
  });

  it("prints any double", () => {
    fc.assert(
      fc.property(fc.array(anyDouble, { minLength: 1, maxLength: 64 }), (values) => {
        expect(printed(values)).toBe(JSON.stringify(values).slice(1, -1));
      }),
      { seed: 20_261_128, numRuns: 3000 },
    );
  });

  it("prints doubles of every size and precision, a million of them", () => {
    const values: number[] = [];
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let i = 0; i < 250_000; i++) {
      values.push(bitsOf(Math.floor(random() * 2 ** 32), Math.floor(random() * 2 ** 32)));
      values.push((random() - 0.5) * 10 ** Math.floor(random() * 44 - 22));
      values.push(Math.round(random() * 10 ** Math.floor(random() * 22)));
      values.push(Number((random() * 100).toFixed(Math.floor(random() * 8))));
    }
    expect(printed(values)).toBe(JSON.stringify(values).slice(1, -1));
  });

  it("prints rows as JSON.stringify prints a matrix, less its brackets", () => {
    const rows = [
      [1, 2.5, -0],
      [1e21, 5e-324, -0.125],
    ];
    expect(decoder.decode(json.rows(rows, 0, 2) as Uint8Array)).toBe(JSON.stringify(rows).slice(1, -1));
    expect(decoder.decode(json.rows(rows, 1, 2) as Uint8Array)).toBe(JSON.stringify([rows[1]]).slice(1, -1));
  });

  it("declines what is not a list of numbers or a rectangular block of rows", () => {
    expect(printed([])).toBeNull();
    expect(printed([1, "2"])).toBeNull();
    expect(printed([1, null])).toBeNull();
    // biome-ignore lint/suspicious/noSparseArray: a hole, which JSON.stringify prints as null
    expect(printed([1, , 3])).toBeNull();
    expect(json.rows([[1, 2], [3]], 0, 2)).toBeNull();
    expect(json.rows([[], []], 0, 2)).toBeNull();
    expect(json.rows([[1], "x"], 0, 2)).toBeNull();
  });
});

/** The numbers read from the list "[…]" of these texts, or null where the reader left the list to JSON.parse. */
function readList(numbers: string[]): number[] | null {
  const read = json.read(Buffer.from(`[${numbers.join(", ")}, 0, 0, 0, 0, 0]`));
  if (read === null || read.lists === 0) return null;
  expect(read.lists).toBe(1);
  return read.list(0).slice(0, numbers.length);
}

describe("reading numbers as JSON.parse does", () => {
  it("reads the shortest text of any double back to that double", () => {
    let normal = 0;
    let readHere = 0;
    fc.assert(
      fc.property(anyDouble, (x) => {
        fc.pre(Number.isFinite(x));
        const read = readList([String(x)]);
        if (read) expect(Object.is(read[0], Number(String(x)))).toBe(true);
        // Subnormals, integers of 20 or 21 digits (String writes them out with their zeros) and the rare decimal
        // that Eisel-Lemire cannot tell from a halfway case (a 17-digit binary fraction such as 246927576217122.25)
        // are left to JSON.parse; all else is read here.
        if (Math.abs(x) >= 2.2250738585072014e-308 && Math.abs(x) < 1e19) {
          normal++;
          if (read) readHere++;
        }
      }),
      { seed: 20_261_129, numRuns: 20_000 },
    );
    expect(readHere / normal).toBeGreaterThan(0.995);
  });

  it("reads any decimal of up to 19 significant digits as the nearest double", () => {
    const decimal = fc
      .tuple(
        fc.boolean(),
        fc.stringMatching(/^[1-9][0-9]{0,18}$/),
        fc.integer({ min: 0, max: 19 }),
        fc.integer({ min: -360, max: 360 }),
        fc.constantFrom("e", "E", "e+", "e-"),
      )
      .map(([negative, digits, point, exponent, mark]) => {
        const at = Math.min(point, digits.length);
        const mantissa =
          at === 0 ? `0.${digits}` : at === digits.length ? digits : `${digits.slice(0, at)}.${digits.slice(at)}`;
        const power = mark.length === 2 ? `${mark}${Math.abs(exponent)}` : `${mark}${exponent}`;
        return `${negative ? "-" : ""}${mantissa}${power}`;
      });
    let readHere = 0;
    fc.assert(
      fc.property(decimal, (text) => {
        const read = readList([text]);
        if (read) {
          readHere++;
          expect(Object.is(read[0], Number(text)), text).toBe(true);
        }
      }),
      { seed: 20_261_130, numRuns: 20_000 },
    );
    // Only what the fast paths cannot decide (subnormal, overflowing, halfway) goes to JSON.parse.
    expect(readHere).toBeGreaterThan(15_000);
  });

  it("reads the edge cases, or leaves them to JSON.parse", () => {
    for (const x of edgeDoubles()) {
      const read = readList([String(x)]);
      if (read) expect(Object.is(read[0], Number(String(x))), String(x)).toBe(true);
    }
    // Halfway between two doubles, to the even one: 2^53 + 1 (an integer, converted) and 2^60 + 384.
    const halfway = ["9007199254740993", "115292150460684736e1"];
    for (const text of ["-0", "0", "0.0", "-0.0e5", "0e-400", "1E2", "1e+2", "1e-25", ...halfway]) {
      expect(Object.is(readList([text])?.[0], Number(text)), text).toBe(true);
    }
  });

  it("leaves to JSON.parse what it cannot decide exactly", () => {
    // More than 19 digits, below the normal range, beyond the largest double.
    for (const text of ["12345678901234567890", "4.9e-324", "1e-400", "1.8e308", "1e999"]) {
      expect(readList([text]), text).toBeNull();
    }
  });

  it("leaves alone what is not a JSON number list", () => {
    for (const text of ['[1, "2", 3, 4, 5, 6, 7]', "[01, 2, 3, 4, 5, 6]", "[1., 2, 3, 4, 5, 6]", "[.5, 2, 3, 4, 5]"]) {
      const read = json.read(Buffer.from(text));
      expect(read?.lists, text).toBe(0);
      expect(read?.text).toBe(text);
    }
    for (const text of ["[+1, 2, 3, 4, 5, 6]", "[1e, 2, 3, 4, 5, 6]", "[NaN, 2, 3, 4, 5]", "[1, 2, 3, 4, 5, 6,]"]) {
      expect(json.read(Buffer.from(text))?.lists, text).toBe(0);
    }
  });

  it("replaces each list of 16 bytes or more with its placeholder, strings untouched", () => {
    const text = '{"a": [1.5, 2.5, 3.5, 4.5], "s": "[1.5, 2.5, 3.5, 4.5] \\" [9]", "b": [[0.25, 0.5, 1e3, -2], [1]]}';
    const read = json.read(Buffer.from(text));
    expect(read?.lists).toBe(2);
    expect(read?.text).toBe('{"a": "\uE0000", "s": "[1.5, 2.5, 3.5, 4.5] \\" [9]", "b": ["\uE0001", [1]]}');
    expect(read?.list(0)).toEqual([1.5, 2.5, 3.5, 4.5]);
    expect(read?.list(1)).toEqual([0.25, 0.5, 1000, -2]);
  });

  it("declines a text that holds the placeholders' character, raw or escaped", () => {
    expect(json.read(Buffer.from('{"a": "\uE000", "b": [1, 2, 3, 4, 5, 6, 7, 8]}'))).toBeNull();
    expect(json.read(Buffer.from('{"a": "\\uE000", "b": [1, 2, 3, 4, 5, 6, 7, 8]}'))).toBeNull();
    expect(json.read(Buffer.from('{"a": "\\ue000", "b": [1, 2, 3, 4, 5, 6, 7, 8]}'))).toBeNull();
    expect(json.read(Buffer.from('{"a": "\\ue001", "b": [1, 2, 3, 4, 5, 6, 7, 8]}'))?.lists).toBe(1);
  });
});

describe("the module as the service loads it", () => {
  it("gives its memory back, with the instance, once a text has grown it past what it keeps", () => {
    const first = jsonNumbers();
    expect(first, "numbers.wasm is built (npm test builds it first)").not.toBeNull();
    expect(jsonNumbers()).toBe(first);
    const read = first?.read(Buffer.from(`[${"1.5,".repeat(4_000_000)}2.5]`));
    expect(read?.lists).toBe(1);
    expect(first?.memoryBytes).toBeGreaterThan(32 * 2 ** 20);
    const next = jsonNumbers();
    expect(next).not.toBe(first);
    expect(next?.memoryBytes).toBeLessThan(2 ** 20);
  });
});
