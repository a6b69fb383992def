import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { jsonPieces } from "../../src/api/json-pieces.js";

function pieces(value: unknown, size: number): string[] {
  const out: string[] = [];
  jsonPieces(value, size, (piece) => out.push(piece.toString("utf8")));
  return out;
}

const anything = fc.anything({
  withBoxedValues: true,
  withDate: true,
  withMap: true,
  withNullPrototype: true,
  withSparseArray: true,
  withTypedArray: true,
  withObjectString: true,
});

describe("jsonPieces", () => {
  it("joins to exactly JSON.stringify's text, for any value and piece size", () => {
    fc.assert(
      fc.property(anything, fc.integer({ min: 1, max: 256 }), (value, size) => {
        const whole = JSON.stringify(value) ?? "null";
        expect(pieces(value, size).join("")).toBe(whole);
      }),
      { seed: 20_261_127, numRuns: 500 },
    );
  });

  it("cuts a large answer into pieces of at most the size asked for, rows whole", () => {
    const matrix = Array.from({ length: 100 }, (_, i) => Array.from({ length: 10 }, (_, j) => i + j / 7));
    const answer = { loss: 0.5, gradients: { layer1: { weight: matrix } }, names: ["a", "b"] };
    const cut = pieces(answer, 1000);
    expect(cut.join("")).toBe(JSON.stringify(answer));
    expect(cut.length).toBeGreaterThan(10);
    for (const piece of cut) expect(Buffer.byteLength(piece)).toBeLessThanOrEqual(1000);
  });

  it("never cuts a character in two", () => {
    const long = "é漢😀".repeat(700);
    const value = {
      "clé 😀": [long, "x", { [long]: ["漢", 1.5] }],
      matrix: [
        ["é", "😀"],
        ["a", long],
      ],
    };
    for (const size of [1, 7, 64, 4096]) expect(pieces(value, size).join("")).toBe(JSON.stringify(value));
  });

  it("leaves out or nulls what JSON.stringify does", () => {
    const value = {
      f: () => 1,
      s: Symbol("s"),
      u: undefined,
      list: [undefined, () => 1, Symbol("t"), { toJSON: () => "own" }, new Date(0)],
      nested: [{ f: () => 1, x: 1 }],
    };
    expect(pieces(value, 1).join("")).toBe(JSON.stringify(value));
  });

  it("gives one piece for a small answer", () => {
    expect(pieces({ loss: 3.3, output: [[1, 2]] }, 1024)).toEqual(['{"loss":3.3,"output":[[1,2]]}']);
  });
});
