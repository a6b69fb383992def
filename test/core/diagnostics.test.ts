import { describe, expect, it } from "vitest";
import { compileExpression } from "../../src/core/compile/expression.js";
import { compileNetwork, type Layout } from "../../src/core/compile/network.js";
import { diagnose, healthThresholds } from "../../src/core/diagnostics.js";
import { type CompiledProblem, solve } from "../../src/core/problem.js";
import { fromRows, scalar, zeros } from "../../src/core/tensor.js";
import { fixture, flat, scalarChain, solveFixture } from "../support/fixtures.js";

type M = number[][];

const transpose = (A: M): M => A[0].map((_, j) => A.map((r) => r[j]));

function diagnoseProblem(problem: CompiledProblem, compare: readonly [string, string] | null, unitAxis: 0 | 1 | null) {
  return diagnose(problem, solve(problem), compare, unitAxis);
}

function relClose(got: number | undefined, want: number, rel = 1e-12): void {
  expect(got).toBeDefined();
  if (!(Math.abs((got as number) - want) <= rel * Math.abs(want))) expect.fail(`got ${got}, expected ${want}`);
}

/** A scalar chain of identity layers: ŷ = w3·w2·w1·x, L = (y - ŷ)². */
function identityChain(weights: number[], x: number, y: number) {
  return compileNetwork({
    layout: "columns",
    layers: weights.map((w, i) => ({ name: `layer${i + 1}`, weight: scalar(w), activation: "identity" })),
    loss: "sse",
    input: scalar(x),
    target: scalar(y),
  });
}

/** One layer of `activation` with weight 1 and no bias, so that its pre-activations are the inputs themselves. */
function oneLayer(activation: string, z: number[]) {
  return compileNetwork({
    layout: "columns",
    layers: [{ name: "layer1", weight: scalar(1), activation }],
    loss: "sse",
    input: fromRows([z]),
    target: zeros(1, z.length),
  });
}

describe("the ratio of the first layer's gradient norm to the last's", () => {
  it("states its thresholds", () => {
    expect(healthThresholds).toEqual({ vanishingBelow: 1e-2, explodingAbove: 1e2, saturationMargin: 1e-3 });
  });

  it("homework 2: norms grow from layer1 to layer3, the ratio |dL/dw1|/|dL/dw3| is below 0.01: vanishing", () => {
    const f = fixture("homework2-sigmoid-chain-bce");
    const { dw } = scalarChain(f);
    const { compiled, solution } = solveFixture(f);
    const d = diagnose(compiled, solution, ["layer1.weight", "layer3.weight"], 0);
    expect(d.thresholds).toEqual(healthThresholds);
    expect(d.parameters.map((p) => p.parameter)).toEqual(["layer1.weight", "layer2.weight", "layer3.weight"]);
    d.parameters.forEach((p, i) => {
      relClose(p.norm, Math.abs(dw[i]));
      relClose(p.maxAbs, Math.abs(dw[i]));
    });
    expect(d.parameters[0].norm).toBeLessThan(d.parameters[1].norm);
    expect(d.parameters[1].norm).toBeLessThan(d.parameters[2].norm);
    const ratio = Math.abs(dw[0]) / Math.abs(dw[2]);
    expect(ratio).toBeLessThan(healthThresholds.vanishingBelow);
    relClose(d.ratio, ratio);
    expect(d.flag).toBe("vanishing");
    // Every sigmoid output of the chain (0.54, 0.49, 0.59) is far from 0 and 1.
    expect(d.activations).toEqual([
      { node: "layer1.a", activation: "sigmoid", entries: 1, saturated: 0 },
      { node: "layer2.a", activation: "sigmoid", entries: 1, saturated: 0 },
      { node: "layer3.a", activation: "sigmoid", entries: 1, saturated: 0 },
    ]);
  });

  it("identity layers with weights 0.5, 2, 100: exploding", () => {
    // x = 1, y = 0: z1 = 0.5, z2 = 1, ŷ = 100, ∂L/∂ŷ = -2(0 - 100) = 200.
    // dL/dw3 = 200·z2 = 200; dL/dw2 = 200·w3·z1 = 10000; dL/dw1 = 200·w3·w2·x = 40000. Ratio 40000/200 = 200.
    const d = diagnoseProblem(identityChain([0.5, 2, 100], 1, 0), ["layer1.weight", "layer3.weight"], 0);
    expect(d.parameters.map((p) => p.norm)).toEqual([40000, 10000, 200]);
    expect(d.ratio).toBe(200);
    expect(d.flag).toBe("exploding");
  });

  it("identity layers with weights 2, 3: healthy", () => {
    // x = 1, y = 0: ŷ = 6, ∂L/∂ŷ = 12; dL/dw1 = 12·w2·x = 36, dL/dw2 = 12·w1·x = 24. Ratio 1.5.
    const d = diagnoseProblem(identityChain([2, 3], 1, 0), ["layer1.weight", "layer2.weight"], 0);
    expect(d.parameters.map((p) => p.norm)).toEqual([36, 24]);
    expect(d.ratio).toBe(1.5);
    expect(d.flag).toBe("healthy");
  });

  it("a single layer has no ratio and no flag", () => {
    const f = fixture("homework1-linear-sse");
    const { compiled, solution } = solveFixture(f);
    const d = diagnose(compiled, solution, null, 0);
    expect("ratio" in d).toBe(false);
    expect("flag" in d).toBe(false);
    expect(d.parameters).toHaveLength(1);
    relClose(d.parameters[0].norm, Math.hypot(...flat(f.expected.gradients.layer1.weight)));
    expect(d.parameters[0].maxAbs).toBeCloseTo(6.2, 12);
    expect(d.activations).toEqual([]);
  });
});

describe("norms too large for float64", () => {
  it("are float64's largest number, not Infinity (JSON would write null)", () => {
    // dL/dw = c for L = sum(c * w) (0 at w = (1, -1)): two entries of 1.5e308, whose norm is 2.1e308.
    const problem = compileExpression("sum(c * w)", {
      parameters: new Map([["w", fromRows([[1, -1]])]]),
      constants: new Map([["c", fromRows([[1.5e308, 1.5e308]])]]),
    });
    const [w] = diagnoseProblem(problem, null, null).parameters;
    expect(w).toEqual({ parameter: "w", norm: Number.MAX_VALUE, maxAbs: 1.5e308 });
  });
});

describe("saturated sigmoid and tanh outputs", () => {
  it("sigmoid: within 1e-3 of 0 or 1, that is |z| > ln 999 ≈ 6.907", () => {
    // σ(z) > 0.999 ⟺ e^(-z) < 1/999 ⟺ z > ln 999; by symmetry σ(z) < 0.001 ⟺ z < -ln 999.
    const z = [10, -10, 0.5, 6.8, 7, -7, -6.8, 40];
    const d = diagnoseProblem(oneLayer("sigmoid", z), null, 0);
    expect(d.activations).toEqual([{ node: "layer1.a", activation: "sigmoid", entries: 8, saturated: 5 }]);
  });

  it("tanh: |tanh z| > 0.999, that is |z| > atanh(0.999) = ln(1999)/2 ≈ 3.800", () => {
    const z = [3.7, 3.9, -3.9, -3.7, 0, 20];
    const d = diagnoseProblem(oneLayer("tanh", z), null, 0);
    expect(d.activations).toEqual([{ node: "layer1.a", activation: "tanh", entries: 6, saturated: 3 }]);
  });
});

describe("dead ReLU units", () => {
  // Two inputs, four samples (columns); the third sample is all zeros, so every unit is exactly 0 there.
  const X = [
    [1, 2, 0, 1],
    [0, 3, 0, 2],
  ];
  // Unit 1: -x1 - x2 = [-1, -5, 0, -3], never positive: dead (0 counts as not firing).
  // Unit 2: x1 - x2 = [1, -1, 0, -1], positive for the first sample only: alive.
  // Unit 3: x1 + x2 = [1, 5, 0, 3]: alive.
  const oneDead = [
    [-1, -1],
    [1, -1],
    [1, 1],
  ];
  // Unit 2 now -2x1 - x2 = [-2, -7, 0, -4]: dead too.
  const twoDead = [
    [-1, -1],
    [-2, -1],
    [1, 1],
  ];

  function reluNetwork(layout: Layout, W: M) {
    const columns = layout === "columns";
    return compileNetwork({
      layout,
      layers: [{ name: "layer1", weight: fromRows(columns ? W : transpose(W)), activation: "relu" }],
      loss: "sse",
      input: fromRows(columns ? X : transpose(X)),
      target: columns ? zeros(3, 4) : zeros(4, 3),
    });
  }

  it.each([
    ["columns", 0, oneDead, 1],
    ["columns", 0, twoDead, 2],
    ["rows", 1, oneDead, 1],
    ["rows", 1, twoDead, 2],
  ] as const)("%s layout (units along axis %d): %#", (layout, axis, W, dead) => {
    const d = diagnoseProblem(reluNetwork(layout, W as unknown as M), null, axis);
    // Three units of four samples: 12 outputs, each dead unit counted once, not once per sample.
    expect(d.activations).toEqual([{ node: "layer1.a", activation: "relu", entries: 12, units: 3, deadUnits: dead }]);
  });
});

describe("norms of very large and very small gradients", () => {
  const sumOfProducts = (c: M) =>
    compileExpression("sum(c * W)", {
      parameters: new Map([["W", fromRows(c.map((r) => r.map(() => 1)))]]),
      constants: new Map([["c", fromRows(c)]]),
    });

  it.each([
    // dL/dW = c. ‖[3, 4]·10^k‖ = 5·10^k, though (3e200)² overflows and (3e-200)² underflows.
    [[[3e200, 4e200]], 5e200, 4e200],
    [[[3e-200, 4e-200]], 5e-200, 4e-200],
    // A hundred entries of 1e200: √100·1e200.
    [Array.from({ length: 10 }, () => Array.from({ length: 10 }, () => 1e200)), 1e201, 1e200],
  ])("%#: finite and exact to rounding", (c, norm, maxAbs) => {
    const d = diagnoseProblem(sumOfProducts(c), null, null);
    const [p] = d.parameters;
    expect(Number.isFinite(p.norm)).toBe(true);
    relClose(p.norm, norm, 1e-15);
    expect(p.maxAbs).toBe(maxAbs);
    expect(JSON.stringify(d)).not.toContain("null");
  });
});
