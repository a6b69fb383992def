import { describe, expect, it } from "vitest";
import { type CheckOptions, checkDefaults, gradientCheck, type ParameterCheck } from "../../src/core/check.js";
import { ProblemBuilder } from "../../src/core/compile/builder.js";
import { compileExpression } from "../../src/core/compile/expression.js";
import { compileNetwork, type LayerSpec, type Layout } from "../../src/core/compile/network.js";
import { symbol } from "../../src/core/ops/formula.js";
import type { OpDef } from "../../src/core/ops/types.js";
import { type CompiledProblem, solve } from "../../src/core/problem.js";
import { fromRows, map, type Tensor, zeros } from "../../src/core/tensor.js";
import { fixture, flat, solveFixture } from "../support/fixtures.js";
import { mulberry32 as random } from "../support/random.js";

type M = number[][];

function check(problem: CompiledProblem, options: Partial<CheckOptions> = {}) {
  return gradientCheck(problem, solve(problem), { ...checkDefaults, ...options });
}

function expression(text: string, parameters: Record<string, M>, constants: Record<string, M> = {}) {
  const bind = (values: Record<string, M>) => new Map(Object.entries(values).map(([k, v]) => [k, fromRows(v)]));
  return compileExpression(text, { parameters: bind(parameters), constants: bind(constants) });
}

function only(result: ReturnType<typeof gradientCheck>, name: string): ParameterCheck {
  const found = result.parameters.find((p) => p.parameter === name);
  if (!found) expect.fail(`no check for ${name}`);
  return found as ParameterCheck;
}

describe("gradientCheck on correct gradients", () => {
  it("states gradcheck's defaults", () => {
    expect(checkDefaults).toEqual({ eps: 1e-6, atol: 1e-5, rtol: 1e-3, maxEntries: 1000 });
  });

  it.each([
    "homework1-linear-sse",
    "homework2-sigmoid-chain-bce",
    "homework3-regression-y1",
    "homework3-regression-y128",
  ])("%s passes, every entry checked", (name) => {
    const f = fixture(name);
    const { compiled, solution } = solveFixture(f);
    const result = gradientCheck(compiled, solution, checkDefaults);
    expect(result.pass).toBe(true);
    expect(result.options).toEqual(checkDefaults);
    expect(result.parameters.map((p) => p.parameter)).toEqual(compiled.parameters);
    for (const p of result.parameters) {
      expect(p.pass).toBe(true);
      expect(p.skipped).toBe(0);
      expect(p.checked).toBe(p.entries);
      expect(p.maxRelError).toBeLessThan(1e-5);
      // The worst entry's analytic value is the reference's gradient at that entry.
      const layer = p.parameter.replace(/\.weight$/, "");
      const g = f.expected.gradients[layer].weight;
      const cols = typeof g === "number" ? 1 : (g as M)[0].length;
      const want = flat(g)[(p.worst.row - 1) * cols + (p.worst.column - 1)];
      expect(Math.abs(p.worst.analytic - want)).toBeLessThanOrEqual(1e-12 * Math.abs(want));
      expect(Math.abs(p.worst.numeric - want)).toBeLessThanOrEqual(1e-5 + 1e-3 * Math.abs(want));
    }
  });

  it.each(["columns", "rows"] as const)("a random 3-layer MLP with biases (%s) passes", (layout: Layout) => {
    const next = random(layout === "columns" ? 7 : 11);
    const matrix = (r: number, c: number) =>
      fromRows(Array.from({ length: r }, () => Array.from({ length: c }, () => next() * 2 - 1)));
    const sizes = [4, 5, 3, 2];
    const batch = 6;
    const activations = ["tanh", "sigmoid", "identity"];
    const layers: LayerSpec[] = activations.map((activation, i) => {
      const [fanIn, out] = [sizes[i], sizes[i + 1]];
      return {
        name: `layer${i + 1}`,
        weight: layout === "columns" ? matrix(out, fanIn) : matrix(fanIn, out),
        bias: layout === "columns" ? matrix(out, 1) : matrix(1, out),
        activation,
      };
    });
    const network = compileNetwork({
      layout,
      layers,
      loss: "mse",
      input: layout === "columns" ? matrix(4, batch) : matrix(batch, 4),
      target: layout === "columns" ? matrix(2, batch) : matrix(batch, 2),
    });
    const result = check(network);
    expect(result.pass).toBe(true);
    expect(result.parameters).toHaveLength(6);
    for (const p of result.parameters) {
      expect(p.checked).toBe(p.entries);
      expect(p.maxRelError).toBeLessThan(1e-5);
    }
  });
});

describe("gradientCheck on a wrong gradient (a test double op)", () => {
  // x² forward, but a backward that returns 3x·g instead of 2x·g.
  const badSquare: OpDef = {
    name: "square",
    category: "function",
    description: "x², with a wrong derivative (a test double)",
    operands: ["x"],
    attrs: {},
    shape: ([x]) => x,
    forward: ([x]) => map(x, (v) => v * v),
    backward: (g, [x]) => {
      const out = zeros(x.rows, x.cols);
      for (let i = 0; i < out.data.length; i++) out.data[i] = 3 * x.data[i] * g.data[i];
      return [out];
    },
    math: {
      forward: ([x]) => symbol(`${x.text}²`),
      partial: () => symbol("3x"),
      vjp: (_k, g) => symbol(`${g.text}·3x`),
    },
  };

  /** L = Σ square(w) + Σ v·v: w goes through the double, v through the registry's mul. */
  function problemWith(w: Tensor, v: Tensor): CompiledProblem {
    const p = new ProblemBuilder();
    const wi = p.parameter("w", w);
    const vi = p.parameter("v", v);
    const b = p.graph;
    const s1 = b.apply("sum", [b.apply(badSquare, [wi])]);
    const s2 = b.apply("sum", [b.apply("mul", [vi, vi])]);
    return p.finish(b.apply("add", [s1, s2]));
  }

  const w = fromRows([
    [0.5, -2],
    [1.5, 0.25],
  ]);
  const v = fromRows([[1, -0.75]]);

  it("fails for that parameter only, worst at the largest |x| with 3x against 2x", () => {
    const result = check(problemWith(w, v));
    expect(result.pass).toBe(false);
    const bad = only(result, "w");
    expect(bad.pass).toBe(false);
    expect(bad.checked).toBe(4);
    // |3x - 2x| = |x| is largest at x = -2, entry (1, 2): analytic 3·(-2) = -6, numeric 2·(-2) = -4.
    expect([bad.worst.row, bad.worst.column]).toEqual([1, 2]);
    expect(bad.worst.analytic).toBe(-6);
    expect(Math.abs(bad.worst.numeric - -4)).toBeLessThan(1e-6);
    expect(Math.abs(bad.maxAbsError - 2)).toBeLessThan(1e-6);
    // |analytic - numeric| / max(|analytic|, |numeric|) = |x| / (3|x|) = 1/3 at every entry.
    expect(Math.abs(bad.maxRelError - 1 / 3)).toBeLessThan(1e-6);
    const good = only(result, "v");
    expect(good.pass).toBe(true);
    expect(good.maxRelError).toBeLessThan(1e-6);
  });

  it("maxEntries checks an evenly spaced subset", () => {
    // Ten entries 1..10; at most 3 compared: every ceil(10/3) = 4th entry, i.e. the 1st, 5th and 9th (1, 5, 9).
    const ten = fromRows([
      [1, 2, 3, 4, 5],
      [6, 7, 8, 9, 10],
    ]);
    const subset = only(check(problemWith(ten, v), { maxEntries: 3 }), "w");
    expect(subset.entries).toBe(10);
    expect(subset.checked).toBe(3);
    expect(subset.checked).toBeLessThan(subset.entries);
    expect(subset.skipped).toBe(0);
    // The worst among 1, 5 and 9 is 9, entry (2, 4): analytic 27 against numeric 18.
    expect([subset.worst.row, subset.worst.column]).toEqual([2, 4]);
    expect(subset.worst.analytic).toBe(27);
    expect(Math.abs(subset.worst.numeric - 18)).toBeLessThan(1e-6);
    const all = only(check(problemWith(ten, v)), "w");
    expect(all.checked).toBe(10);
    // All ten: the worst is 10, entry (2, 5).
    expect([all.worst.row, all.worst.column]).toEqual([2, 5]);
  });
});

describe("the options are honoured", () => {
  // L = x³ at x = 0.5: dL/dx = 3x² = 0.75. With h = eps·max(1, |x|) = 0.1 the central difference is
  // ((x + h)³ - (x - h)³)/(2h) = 3x² + h² = 0.76 exactly in real arithmetic: an error of 0.01.
  const cube = () => expression("sum(x * x * x)", { x: [[0.5]] });

  it("eps: the default step passes, a step of 0.1 shows the truncation error h²", () => {
    expect(check(cube()).pass).toBe(true);
    const coarse = check(cube(), { eps: 0.1 });
    expect(coarse.options).toEqual({ ...checkDefaults, eps: 0.1 });
    const x = only(coarse, "x");
    expect(x.pass).toBe(false);
    expect(x.worst.analytic).toBe(0.75);
    expect(Math.abs(x.worst.numeric - 0.76)).toBeLessThan(1e-12);
    expect(Math.abs(x.maxAbsError - 0.01)).toBeLessThan(1e-12);
    expect(Math.abs(x.maxRelError - 0.01 / 0.76)).toBeLessThan(1e-12);
  });

  it("atol: 0.01 ≤ 0.011 passes, 0.01 > 0.009 fails (rtol 0)", () => {
    expect(check(cube(), { eps: 0.1, atol: 0.011, rtol: 0 }).pass).toBe(true);
    expect(check(cube(), { eps: 0.1, atol: 0.009, rtol: 0 }).pass).toBe(false);
  });

  it("rtol: 0.01 ≤ 0.014·0.76 = 0.01064 passes, 0.01 > 0.013·0.76 = 0.00988 fails (atol 0)", () => {
    expect(check(cube(), { eps: 0.1, atol: 0, rtol: 0.014 }).pass).toBe(true);
    expect(check(cube(), { eps: 0.1, atol: 0, rtol: 0.013 }).pass).toBe(false);
  });
});

describe("entries where θ ± h leaves a domain are skipped, not fatal", () => {
  it("sqrt just above 0: θ - h < 0 is skipped, the other entry checked", () => {
    // h = 1e-6 > 1e-7, so sqrt(1e-7 - 1e-6) is not a number; the entry 4 is fine.
    const result = check(expression("sum(sqrt(x))", { x: [[1e-7, 4]] }));
    const x = only(result, "x");
    expect(x.entries).toBe(2);
    expect(x.skipped).toBe(1);
    expect(x.checked).toBe(1);
    expect([x.worst.row, x.worst.column]).toEqual([1, 2]);
    // d sqrt(x)/dx = 1/(2·sqrt(4)) = 0.25.
    expect(x.worst.analytic).toBe(0.25);
    expect(x.pass).toBe(true);
    expect(result.pass).toBe(true);
  });

  it("a loss that jumps from -1e308 to 1e308 across θ: its difference quotient overflows, skipped", () => {
    // A test double: ±1e308 by sign, derivative 0. At 0 the central difference is (1e308 + 1e308) / 2h = ∞.
    const step: OpDef = {
      name: "step",
      category: "function",
      description: "±1e308 by the sign of x (a test double)",
      operands: ["x"],
      attrs: {},
      shape: ([x]) => x,
      forward: ([x]) => map(x, (v) => (v >= 0 ? 1e308 : -1e308)),
      backward: (_g, [x]) => [zeros(x.rows, x.cols)],
      math: { forward: ([x]) => symbol(`step(${x.text})`), partial: () => symbol("0"), vjp: () => symbol("0") },
    };
    const p = new ProblemBuilder();
    const w = p.parameter("w", fromRows([[0]]));
    const problem = p.finish(p.graph.apply("sum", [p.graph.apply(step, [w])]));
    const result = only(check(problem), "w");
    expect(result).toMatchObject({ entries: 1, skipped: 1, checked: 0, maxAbsError: 0, maxRelError: 0 });
    expect(Number.isFinite(result.worst.numeric)).toBe(true);
  });

  it("a bce prediction 1e-7 below 1: θ + h > 1 is outside [0, 1], skipped", () => {
    const result = check(expression("bce(y, p)", { p: [[1 - 1e-7], [0.5]] }, { y: [[1], [0]] }));
    const p = only(result, "p");
    expect(p.skipped).toBe(1);
    expect(p.checked).toBe(1);
    // The checked entry: ∂/∂p of -ln(1 - p)/2 (mean over 2) at p = 0.5 is 1/(2·0.5) = 1.
    expect([p.worst.row, p.worst.column]).toEqual([2, 1]);
    expect(Math.abs(p.worst.analytic - 1)).toBeLessThan(1e-12);
    expect(p.pass).toBe(true);
  });
});
