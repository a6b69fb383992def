import { describe, expect, it } from "vitest";
import { compileExpression } from "../../src/core/compile/expression.js";
import { graphDepth } from "../../src/core/cost.js";

const x = { rows: 1, cols: 1, data: Float64Array.of(0.5) };
const depthOf = (text: string) =>
  graphDepth(compileExpression(text, { parameters: new Map([["x", x]]), constants: new Map() }).graph);

describe("graphDepth: the most ops on a path from a leaf", () => {
  it.each([
    ["a leaf alone", "x", 0],
    ["one op", "x + 1", 1],
    ["a chain of 64 transposes", `x${"'".repeat(64)}`, 64],
    ["a left-deep sum of 100 terms", Array(100).fill("x").join(" + "), 99],
    [
      "a balanced sum of 16 terms",
      "((x + x) + (x + x)) + ((x + x) + (x + x)) + (((x + x) + (x + x)) + ((x + x) + (x + x)))",
      4,
    ],
    ["the longer of two branches", "sigmoid(sigmoid(sigmoid(x))) * tanh(x)", 4],
    ["three nested layers of sigmoid(w·x)", "a = sigmoid(2 * x); b = sigmoid(3 * a); sigmoid(4 * b)", 6],
  ])("%s", (_what, text, depth) => {
    expect(depthOf(text)).toBe(depth);
  });
});
