import { isDeepStrictEqual } from "node:util";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MalformedJson, parseJson, parseJsonBytes } from "../../src/api/json.js";

/** parseJsonBytes of the text, and what parseJson (JSON.parse, or secure-json-parse) makes of it. */
function both(text: string): { bytes: unknown; text: unknown } {
  const outcome = (parse: () => unknown) => {
    try {
      return { value: parse() };
    } catch (e) {
      return { error: e instanceof MalformedJson ? { message: e.message, item: e.item } : String(e) };
    }
  };
  return { bytes: outcome(() => parseJsonBytes(Buffer.from(text))), text: outcome(() => parseJson(text)) };
}

const sameAsParseJson = (text: string) => {
  const { bytes, text: expected } = both(text);
  // Deep and strict: -0 is not 0, and a row must hold the same doubles, in the same order.
  expect(isDeepStrictEqual(bytes, expected), text.slice(0, 200)).toBe(true);
};

/** Values rich in number lists: matrices, lists and plain values nested in objects and arrays. */
const number = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
  fc.constantFrom(0, -0, 0.1, 1e21, 5e-324, 1.7976931348623157e308),
);
const numberList = fc.array(number, { minLength: 1, maxLength: 12 });
const matrix = fc.array(numberList, { minLength: 1, maxLength: 4 });
const document = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    numberList,
    matrix,
    fc.jsonValue({ maxDepth: 2 }),
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(fc.string(), tie("value"), { maxKeys: 4 }),
  ),
})).value;

describe("parseJsonBytes (the WebAssembly reader of number lists) against parseJson", () => {
  it("gives the same value for any document, however it is spaced", () => {
    fc.assert(
      fc.property(document, fc.constantFrom(undefined, 1, 2, "\t", "\r\n "), (value, space) => {
        const text = JSON.stringify(value, null, typeof space === "string" && space.includes("\r") ? undefined : space);
        sameAsParseJson(space === "\r\n " ? text.replaceAll(",", ",\r\n ").replaceAll("[", "[ \t") : text);
      }),
      { seed: 20_261_131, numRuns: 1500 },
    );
  });

  it("gives the same value where lists are read out and where they are left in the text", () => {
    for (const text of [
      "[1.5, 2.5, 3.5, 4.5, 5.5]",
      '{"a": [1, 2, 3, 4, 5, 6, 7, 8, 9], "a": [9, 8, 7, 6, 5, 4, 3, 2, 1]}',
      '{"2": [1, 2, 3, 4, 5, 6, 7, 8, 9], "1": [[0.5, 0.25, 0.125, 1e-3], [1e400, 2, 3, 4, 5, 6, 7]]}',
      '{"a": [4.9e-324, 1, 2, 3, 4, 5, 6], "b": [12345678901234567890, 1, 2, 3, 4]}',
      '\uFEFF{"a": [1, 2, 3, 4, 5, 6, 7, 8, 9]}',
      '{"é😀": "[1, 2, 3, 4, 5, 6, 7, 8, 9]", "b": ["x", [1, 2, 3, 4, 5, 6, 7, 8, 9]]}',
      '{"a": "\\uE000", "b": [1, 2, 3, 4, 5, 6, 7, 8, 9]}',
      "  \n[ [ -0 , 0.0 , 1E+2 , 2e-2 ] ]  ",
    ]) {
      sameAsParseJson(text);
    }
  });

  it("throws the same error, at the same place in the text as sent", () => {
    for (const text of [
      '{"a": [1.5, 2.5, 3.5, 4.5, 5.5], "b": }',
      '{"a": [1.5, 2.5, 3.5, 4.5, 5.5]',
      '{"a": [1.5, 2.5, 3.5, 4.5, 5.5]]',
      '{"a": [1.5, 2.5, 3.5, 4.5, 5.5], "b": [01, 2]}',
      "",
      "   ",
      '{"__proto__": {"x": 1}, "a": [1, 2, 3, 4, 5, 6, 7, 8, 9]}',
      '{"a": {"constructor": {"prototype": {"x": 1}}}, "b": [1, 2, 3, 4, 5, 6, 7, 8, 9]}',
    ]) {
      const { bytes, text: expected } = both(text);
      expect(bytes, text).toEqual(expected);
      expect((bytes as { error?: unknown }).error, text).toBeDefined();
    }
  });

  it("reads a large body's lists as JSON.parse does", () => {
    const rows = Array.from({ length: 64 }, (_, i) => Array.from({ length: 100 }, (_, j) => Math.sin(i * 100 + j) / 7));
    const text = JSON.stringify({ network: { layers: [{ weight: rows }] }, input: rows[0], target: 1 });
    expect(isDeepStrictEqual(parseJsonBytes(Buffer.from(text)), JSON.parse(text))).toBe(true);
  });
});
