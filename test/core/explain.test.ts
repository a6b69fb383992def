import { describe, expect, it } from "vitest";
import { compileExpression } from "../../src/core/compile/expression.js";
import { MAX_LISTED_FACTORS, MAX_PATHS } from "../../src/core/explain/chain.js";
import { explain } from "../../src/core/explain/index.js";
import type { Numbers } from "../../src/core/explain/render.js";
import { SYMBOL_CHARS } from "../../src/core/explain/symbols.js";
import { solve } from "../../src/core/problem.js";
import { fromRows, scalar, type Tensor, toRows } from "../../src/core/tensor.js";
import { type Fixture, fixture, fixtures, flat, scalarChain, solveFixture } from "../support/fixtures.js";

type M = number[][];

function explainRequest(request: Fixture | Record<string, unknown>, digits = 4) {
  const solved = solveFixture(request);
  return explain(solved.target, solved.solution, digits);
}

const tensor = (v: number | M): Tensor => (typeof v === "number" ? scalar(v) : fromRows(v));

function explainExpression(text: string, parameters: Record<string, number | M>, digits = 4) {
  const compiled = compileExpression(text, {
    parameters: new Map(Object.entries(parameters).map(([k, v]) => [k, tensor(v)])),
    constants: new Map(),
  });
  const solution = solve(compiled);
  const explanation = explain({ kind: "graph", problem: compiled, names: compiled.named }, solution, digits);
  const gradient = (name: string) => {
    const index = compiled.graph.nodes.findIndex((n) => n.kind === "parameter" && n.name === name);
    return toRows(solution.grads[index] as Tensor);
  };
  return { explanation, gradient };
}

/** b1 = a + a, b2 = b1 + b1, …, bn: 2^n paths from a to bn, each a product of 1s. */
function doublings(n: number): string {
  return Array.from({ length: n }, (_, i) => (i === 0 ? "b1 = a + a" : `b${i + 1} = b${i} + b${i}`)).join("\n");
}

/** |got - want| ≤ rel·|want|, with an absolute floor for entries that are 0. */
function close(got: number, want: number, rel = 1e-12, abs = 1e-15): void {
  if (!(Math.abs(got - want) <= Math.max(rel * Math.abs(want), abs))) {
    expect.fail(`got ${got}, expected ${want} (relative tolerance ${rel})`);
  }
}

function closeMatrix(got: Numbers["value"], want: M, rel = 1e-12, abs = 1e-15): void {
  expect(Array.isArray(got)).toBe(true);
  const g = got as M;
  expect([g.length, g[0].length]).toEqual([want.length, want[0].length]);
  want.forEach((row, i) => {
    row.forEach((w, j) => {
      close(g[i][j], w, rel, abs);
    });
  });
}

// Plain matrix arithmetic for working the expected values out in the test itself.
const matmul = (A: M, B: M): M => A.map((r) => B[0].map((_, j) => r.reduce((s, v, k) => s + v * B[k][j], 0)));
const transpose = (A: M): M => A[0].map((_, j) => A.map((r) => r[j]));
const zip = (A: M, B: M, f: (a: number, b: number) => number): M => A.map((r, i) => r.map((v, j) => f(v, B[i][j])));
const each = (A: M, f: (a: number) => number): M => A.map((r) => r.map(f));
const sigma = (z: number) => 1 / (1 + Math.exp(-z));

describe("golden derivations: homework 2 (three sigmoid layers, bce, y = 1)", () => {
  const hw2 = fixture("homework2-sigmoid-chain-bce");
  const { a, dw, w, x } = scalarChain(hw2);
  // σ'(z_l) = σ(z_l)(1 - σ(z_l)) = a_l(1 - a_l), from the fixture's activations.
  const sp = (l: number) => a[l - 1] * (1 - a[l - 1]);
  // bce at y = 1 is -ln ŷ (mean over one entry), so ∂L/∂ŷ = -1/ŷ.
  const dLdyhat = -1 / a[2];
  const explanation = explainRequest(hw2);

  const cases = [
    {
      parameter: "layer1.weight",
      gradient: "∂L/∂w1",
      names: ["∂L/∂ŷ", "∂ŷ/∂z3", "∂z3/∂a2", "∂a2/∂z2", "∂z2/∂a1", "∂a1/∂z1", "∂z1/∂w1"],
      formulas: ["-1/ŷ", "σ'(z3)", "w3", "σ'(z2)", "w2", "σ'(z1)", "x"],
      values: [dLdyhat, sp(3), w[2], sp(2), w[1], sp(1), x],
      expected: dw[0],
    },
    {
      parameter: "layer2.weight",
      gradient: "∂L/∂w2",
      names: ["∂L/∂ŷ", "∂ŷ/∂z3", "∂z3/∂a2", "∂a2/∂z2", "∂z2/∂w2"],
      formulas: ["-1/ŷ", "σ'(z3)", "w3", "σ'(z2)", "a1"],
      values: [dLdyhat, sp(3), w[2], sp(2), a[0]],
      expected: dw[1],
    },
    {
      parameter: "layer3.weight",
      gradient: "∂L/∂w3",
      names: ["∂L/∂ŷ", "∂ŷ/∂z3", "∂z3/∂w3"],
      formulas: ["-1/ŷ", "σ'(z3)", "a2"],
      values: [dLdyhat, sp(3), a[1]],
      expected: dw[2],
    },
  ];

  it("explains every weight by the chain rule, nothing else", () => {
    expect(Object.keys(explanation.chainRule)).toEqual(["layer1.weight", "layer2.weight", "layer3.weight"]);
    expect(explanation.backprop).toBeUndefined();
    expect(explanation.reverseMode).toBeUndefined();
    expect(explanation.digits).toBe(4);
  });

  it.each(cases)(
    "$gradient: factors from the output down",
    ({ parameter, gradient, names, formulas, values, expected }) => {
      const rule = explanation.chainRule[parameter];
      expect(rule.kind).toBe("chain-rule");
      expect(rule.gradient.text).toBe(gradient);
      expect(rule.paths).toHaveLength(1);
      expect(rule.omittedPaths).toBe(0);
      const [path] = rule.paths;
      expect(path.factors.map((f) => f.name.text)).toEqual(names);
      expect(path.factors.map((f) => f.formula.text)).toEqual(formulas);
      let running = 1;
      path.factors.forEach((factor, i) => {
        close(factor.value, values[i]);
        expect(factor.rounded).toBe(Number(factor.value.toPrecision(4)));
        // The running product is this factor times the product before it, and the independent values' product.
        running *= values[i];
        close(factor.product, running);
        close(factor.product, (i === 0 ? 1 : path.factors[i - 1].product) * factor.value, 1e-15);
        expect(factor.productRounded).toBe(Number(factor.product.toPrecision(4)));
      });
      close(path.value, expected);
      close(rule.gradient.value, expected);
      expect(rule.gradient.rounded).toBe(Number(expected.toPrecision(4)));
    },
  );

  it("writes the derivation in LaTeX with the homework's symbols", () => {
    const { latex, text } = explanation.chainRule["layer1.weight"];
    expect(latex).toContain("\\frac{\\partial L}{\\partial w_{1}}");
    expect(latex).toContain("\\sigma'");
    expect(latex).toContain("\\frac{\\partial \\hat{y}}{\\partial z_{3}}");
    expect(text.startsWith("∂L/∂w1 = ∂L/∂ŷ · ∂ŷ/∂z3 · ")).toBe(true);
    expect(text).toContain("(-1/ŷ) · σ'(z3) · w3 · σ'(z2) · w2 · σ'(z1) · x");
  });

  it("digits changes the rounded numbers, never the values", () => {
    const two = explainRequest(hw2, 2);
    const seventeen = explainRequest(hw2, 17);
    expect(two.digits).toBe(2);
    const rule2 = two.chainRule["layer1.weight"];
    // -1/ŷ = -1.68493... rounds to -1.7 at two significant digits and to -1.685 at four.
    expect(rule2.paths[0].factors[0].rounded).toBe(-1.7);
    expect(explanation.chainRule["layer1.weight"].paths[0].factors[0].rounded).toBe(-1.685);
    // dL/dw1 = 0.0013636... rounds to 0.0014.
    expect(rule2.gradient.rounded).toBe(0.0014);
    expect(rule2.text).toContain("(-1.7) · ");
    expect(rule2.text.endsWith("= 0.0014")).toBe(true);
    for (const other of [two, seventeen]) {
      for (const name of Object.keys(explanation.chainRule)) {
        const a = explanation.chainRule[name];
        const b = other.chainRule[name];
        expect(b.gradient.value).toBe(a.gradient.value);
        expect(b.paths[0].value).toBe(a.paths[0].value);
        expect(b.paths[0].factors.map((f) => [f.value, f.product])).toEqual(
          a.paths[0].factors.map((f) => [f.value, f.product]),
        );
      }
    }
  });

  it("with L2 regularization, the penalty adds two paths λ·w1 (w1·w1 uses w1 twice)", () => {
    const lambda = 0.01;
    const request = { ...hw2.request, network: { ...hw2.request.network, regularization: { l2: lambda } } };
    const rule = explainRequest(request).chainRule["layer1.weight"];
    // d/dw1 of λ·Σ w² is 2λ·w1; the data part is the fixture's gradient.
    const expected = dw[0] + 2 * lambda * w[0];
    expect(rule.paths).toHaveLength(3);
    close(
      rule.paths.reduce((s, p) => s + p.value, 0),
      expected,
    );
    close(rule.gradient.value, expected);
    const penaltyPaths = rule.paths.filter((p) => p.factors.length === 2);
    expect(penaltyPaths).toHaveLength(2);
    for (const p of penaltyPaths) close(p.value, lambda * w[0]);
  });
});

describe("golden derivations: homework 3 (sigmoid, sigmoid, identity, sse)", () => {
  it.each(["homework3-regression-y128", "homework3-regression-y1"])("%s: dL/dw1 without the identity's 1", (name) => {
    const f = fixture(name);
    const { a, dw, w, x, y } = scalarChain(f);
    const yhat = a[2];
    const rule = explainRequest(f).chainRule["layer1.weight"];
    expect(rule.paths).toHaveLength(1);
    const [path] = rule.paths;
    expect(path.factors.map((f) => f.formula.text)).toEqual(["-2(y - ŷ)", "w3", "σ'(z2)", "w2", "σ'(z1)", "x"]);
    expect(path.factors.map((f) => f.name.text)).toEqual([
      "∂L/∂ŷ",
      "∂z3/∂a2",
      "∂a2/∂z2",
      "∂z2/∂a1",
      "∂a1/∂z1",
      "∂z1/∂w1",
    ]);
    // sse: ∂(y - ŷ)²/∂ŷ = -2(y - ŷ); the identity output contributes ∂ŷ/∂z3 = 1, which is left out.
    const values = [-2 * (y - yhat), w[2], a[1] * (1 - a[1]), w[1], a[0] * (1 - a[0]), x];
    path.factors.forEach((factor, i) => {
      close(factor.value, values[i]);
    });
    close(path.value, dw[0]);
    close(rule.gradient.value, dw[0]);
  });
});

describe("a value used more than once gives one path per use", () => {
  it("a*a: two paths of ∂(a·a)/∂a = a, summing to 2a", () => {
    const { explanation, gradient } = explainExpression("a * a", { a: 3 });
    const rule = explanation.chainRule.a;
    expect(rule.paths).toHaveLength(2);
    for (const p of rule.paths) {
      expect(p.factors.map((f) => f.formula.text)).toEqual(["a"]);
      expect(p.value).toBe(3);
    }
    expect(rule.paths[0].value + rule.paths[1].value).toBe(6);
    expect(rule.gradient.value).toBe(6);
    expect(gradient("a")).toEqual([[6]]);
  });

  it("b = a + a: two paths whose partials are identically 1 (left out), summing to 2", () => {
    const { explanation } = explainExpression("b = a + a", { a: 3 });
    const rule = explanation.chainRule.a;
    expect(rule.gradient.text).toBe("∂b/∂a");
    expect(rule.paths).toHaveLength(2);
    for (const p of rule.paths) {
      expect(p.factors).toEqual([]);
      expect(p.value).toBe(1);
    }
    expect(rule.gradient.value).toBe(2);
  });

  it("b = a + a; b*b: 2·2 = 4 paths of ∂(b·b)/∂b = b, summing to d(4a²)/da = 8a", () => {
    const { explanation } = explainExpression("b = a + a\nb * b", { a: 3 });
    const rule = explanation.chainRule.a;
    expect(rule.paths).toHaveLength(4);
    for (const p of rule.paths) {
      expect(p.factors.map((f) => [f.formula.text, f.value])).toEqual([["b", 6]]);
    }
    expect(rule.paths.reduce((s, p) => s + p.value, 0)).toBe(24);
    expect(rule.gradient.value).toBe(24);
  });

  it(`lists at most ${MAX_PATHS} paths and counts the rest`, () => {
    // Six doublings: 2^6 = 64 paths from a to b6, each of value 1; d(b6)/da = 64.
    const rule = explainExpression(doublings(6), { a: 1 }).explanation.chainRule.a;
    expect(MAX_PATHS).toBe(32);
    expect(rule.paths).toHaveLength(32);
    expect(rule.omittedPaths).toBe(64 - 32);
    expect(rule.gradient.value).toBe(64);
  });

  it(`lists at most ${MAX_LISTED_FACTORS} factors over all paths, the first path whole, and counts the rest`, () => {
    // b_i = b_(i-1)·b_(i-1) at a = 1: 2^n paths of n factors each (∂(b·b)/∂b = b, here 1), d(b_n)/da = 2^n.
    const squarings = (n: number) =>
      Array.from({ length: n }, (_, i) => `b${i + 1} = ${i === 0 ? "a * a" : `b${i} * b${i}`}`).join("\n");
    expect(MAX_LISTED_FACTORS).toBe(1024);
    const rule = explainExpression(squarings(100), { a: 1 }).explanation.chainRule.a;
    expect(rule.paths.map((p) => p.factors.length)).toEqual(Array(10).fill(100));
    expect(rule.omittedPaths).toBe(Number.MAX_SAFE_INTEGER - 10);
    // One path of 1,500 factors, tanh'(b) each: listed whole.
    const chain = Array.from({ length: 1500 }, (_, i) => `b${i + 1} = tanh(${i === 0 ? "a" : `b${i}`})`).join("\n");
    const long = explainExpression(chain, { a: 0.5 }).explanation.chainRule.a;
    expect(long.paths.map((p) => p.factors.length)).toEqual([1500]);
    expect(long.omittedPaths).toBe(0);
  });

  // Walking 2^40 paths would take hours; counting them is one pass over the nodes. Past 2^53 - 1, the largest
  // count a float64 holds exactly, the count stops there.
  it.each([
    { n: 40, omitted: 2 ** 40 - 32 },
    { n: 60, omitted: Number.MAX_SAFE_INTEGER - 32 },
  ])("counts the 2^$n paths of $n doublings without walking them", ({ n, omitted }) => {
    const rule = explainExpression(doublings(n), { a: 1 }).explanation.chainRule.a;
    expect(rule.paths).toHaveLength(32);
    expect(rule.omittedPaths).toBe(omitted);
    expect(rule.gradient.value).toBe(2 ** n);
  });
});

describe("long formulas in derivations", () => {
  /** p_0·p_0 + … + p_(n-1)·p_(n-1), every p_i = 0.5: a sum whose partial sums are ever longer formulas. */
  const squares = (n: number) => {
    const names = Array.from({ length: n }, (_, i) => `p_${i}`);
    const text = names.map((p) => `${p}*${p}`).join(" + ");
    return explainExpression(text, Object.fromEntries(names.map((p) => [p, 0.5]))).explanation;
  };

  it(`abbreviates an unnamed formula longer than ${SYMBOL_CHARS} characters to its start`, () => {
    const rule = squares(40).chainRule.p_5;
    const start = "p_0·p_0 + p_1·p_1 + p_2·p_2 + p_3·p_3 + p_4·p_4 + p_5·p_5 + p_6·p_6 + p_7·p_7 +";
    expect(start).toHaveLength(SYMBOL_CHARS - 1);
    expect(rule.gradient.text).toBe(`∂⟨${start}…⟩/∂p_5`);
    // LaTeX's special characters are escaped inside \text{…}.
    expect(rule.gradient.latex).toContain(`\\langle\\text{${start.replaceAll("_", "\\_")}…}\\rangle`);
    expect(rule.text).toBe(`∂⟨${start}…⟩/∂p_5 = ∂(p_5·p_5)/∂p_5 + ∂(p_5·p_5)/∂p_5 = p_5 + p_5 = (0.5) + (0.5) = 1`);
    expect(rule.gradient.value).toBe(1);
  });

  it("keeps a formula that fits whole", () => {
    const rule = squares(3).chainRule.p_1;
    expect(rule.gradient.text).toBe("∂(p_0·p_0 + p_1·p_1 + p_2·p_2)/∂p_1");
  });

  it("grows with the number of terms, not with its square", () => {
    const size = (n: number) => JSON.stringify(squares(n)).length;
    expect(size(160) / size(40)).toBeLessThan(4.5);
  });
});

describe("backprop for networks with matrices", () => {
  const stepNamed = (steps: readonly { name: { text: string } }[], name: string) => {
    const found = steps.find((s) => s.name.text === name);
    if (!found) expect.fail(`no step ${name} in ${steps.map((s) => s.name.text).join(", ")}`);
    return found as (typeof steps)[number] &
      Numbers & {
        formula: { text: string; latex: string };
        parts?: ({ name: { text: string } } & Numbers)[];
      };
  };

  it("homework 1: ∂L/∂Ŷ = -2(Y - Ŷ), δ1 and ∂L/∂W1 = δ1·Xᵀ", () => {
    const e = explainRequest(fixture("homework1-linear-sse"));
    expect(e.chainRule).toEqual({});
    expect(e.reverseMode).toBeUndefined();
    const bp = e.backprop;
    expect(bp?.kind).toBe("backprop");
    expect(bp?.layout).toBe("columns");
    const steps = bp?.steps ?? [];
    expect(steps.map((s) => s.name.text)).toEqual(["∂L/∂Ŷ", "δ1", "∂L/∂W1"]);
    // WX = [[1.5, 1.1], [1.2, 0]], Y = [[0.5, 1], [1, -1.5]]: Y - WX = [[-1, -0.1], [-0.2, -1.5]].
    const dYhat = [
      [2, 0.2],
      [0.4, 3],
    ];
    expect(steps[0].formula.text).toBe("-2(Y - Ŷ)");
    expect(steps[0].formula.latex).toBe("-2\\left(Y - \\hat{Y}\\right)");
    closeMatrix(steps[0].value, dYhat, 1e-12, 1e-14);
    // The identity activation passes the gradient through: δ1 = ∂L/∂Ŷ.
    expect(steps[1].formula.text).toBe("δ1 = ∂L/∂Ŷ");
    closeMatrix(steps[1].value, dYhat, 1e-12, 1e-14);
    // δ1·Xᵀ with Xᵀ = [[0, 3], [2, 1]]: [[2·0 + 0.2·2, 2·3 + 0.2·1], [0.4·0 + 3·2, 0.4·3 + 3·1]].
    expect(steps[2].formula.text).toBe("∂L/∂W1 = δ1·Xᵀ");
    expect(steps[2].formula.latex).toBe("\\frac{\\partial L}{\\partial W_{1}} = \\delta_{1} \\cdot X^{\\top}");
    closeMatrix(
      steps[2].value,
      [
        [0.4, 6.2],
        [6, 4.2],
      ],
      1e-12,
    );
    expect(steps[2].rounded).toEqual([
      [0.4, 6.2],
      [6, 4.2],
    ]);
  });

  // Two layers worked by hand: Z1 = W1·X + b1, A1 = σ(Z1), Ŷ = W2·A1, L = ‖Y - Ŷ‖².
  const W1 = [
    [0.5, -0.5],
    [1, 0.25],
  ];
  const b1 = [[0.1], [-0.2]];
  const X = [
    [1, 2],
    [0, -1],
  ];
  const W2 = [[1, -1]];
  const Y = [[1, 0]];
  const Z1 = matmul(W1, X).map((r, i) => r.map((v) => v + b1[i][0]));
  const A1 = each(Z1, sigma);
  const Yhat = matmul(W2, A1);
  const delta2 = zip(Y, Yhat, (y, p) => -2 * (y - p));
  const upstream = matmul(transpose(W2), delta2);
  const slope = each(A1, (v) => v * (1 - v));
  const delta1 = zip(upstream, slope, (u, s) => u * s);
  const dW1 = matmul(delta1, transpose(X));
  const dW2 = matmul(delta2, transpose(A1));
  const db1 = delta1.map((r) => [r.reduce((s, v) => s + v, 0)]);
  const twoLayers = (layout: "columns" | "rows", l2?: number) => {
    const t = layout === "rows" ? transpose : (m: M) => m;
    return {
      network: {
        layout,
        layers: [
          { weight: t(W1), bias: [0.1, -0.2], activation: "sigmoid" },
          { weight: t(W2), activation: "identity" },
        ],
        loss: "sse",
        ...(l2 === undefined ? {} : { regularization: { l2 } }),
      },
      input: t(X),
      target: t(Y),
    };
  };

  it("columns: δ1 = (W2ᵀ·δ2) ⊙ σ'(Z1), with the parts' values and their elementwise product", () => {
    const steps = explainRequest(twoLayers("columns")).backprop?.steps ?? [];
    expect(steps.map((s) => s.name.text)).toEqual(["∂L/∂Ŷ", "δ2", "∂L/∂W2", "δ1", "∂L/∂W1", "∂L/∂b1"]);
    closeMatrix(stepNamed(steps, "∂L/∂Ŷ").value, delta2);
    closeMatrix(stepNamed(steps, "δ2").value, delta2);
    const w2 = stepNamed(steps, "∂L/∂W2");
    expect(w2.formula.text).toBe("∂L/∂W2 = δ2·A1ᵀ");
    closeMatrix(w2.value, dW2);

    const d1 = stepNamed(steps, "δ1");
    expect(d1.formula.text).toBe("δ1 = (W2ᵀ·δ2) ⊙ σ'(Z1)");
    expect(d1.formula.latex).toContain("\\odot");
    const parts = d1.parts ?? [];
    expect(parts.map((p) => p.name.text)).toEqual(["W2ᵀ·δ2", "σ'(Z1)"]);
    closeMatrix(parts[0].value, upstream);
    closeMatrix(parts[1].value, slope);
    closeMatrix(d1.value, delta1);
    // δ1 is exactly what its parts combine to.
    closeMatrix(
      d1.value,
      zip(parts[0].value as M, parts[1].value as M, (u, s) => u * s),
      1e-15,
    );

    const w1 = stepNamed(steps, "∂L/∂W1");
    expect(w1.formula.text).toBe("∂L/∂W1 = δ1·Xᵀ");
    closeMatrix(w1.value, dW1);
    const b = stepNamed(steps, "∂L/∂b1");
    expect(b.formula.text).toBe("∂L/∂b1 = δ1·1 (the row sums of δ1)");
    closeMatrix(b.value, db1);
  });

  it("rows: the counterpart formulas, and every value the transpose of the columns layout's", () => {
    const bp = explainRequest(twoLayers("rows")).backprop;
    expect(bp?.layout).toBe("rows");
    const steps = bp?.steps ?? [];
    const d1 = stepNamed(steps, "δ1");
    expect(d1.formula.text).toBe("δ1 = (δ2·W2ᵀ) ⊙ σ'(Z1)");
    expect((d1.parts ?? []).map((p) => p.name.text)).toEqual(["δ2·W2ᵀ", "σ'(Z1)"]);
    closeMatrix(d1.parts?.[0].value ?? [], transpose(upstream));
    closeMatrix(d1.parts?.[1].value ?? [], transpose(slope));
    closeMatrix(d1.value, transpose(delta1));
    const w2 = stepNamed(steps, "∂L/∂W2");
    expect(w2.formula.text).toBe("∂L/∂W2 = A1ᵀ·δ2");
    closeMatrix(w2.value, transpose(dW2));
    const w1 = stepNamed(steps, "∂L/∂W1");
    expect(w1.formula.text).toBe("∂L/∂W1 = Xᵀ·δ1");
    closeMatrix(w1.value, transpose(dW1));
    const b = stepNamed(steps, "∂L/∂b1");
    expect(b.formula.text).toBe("∂L/∂b1 = 1ᵀ·δ1 (the column sums of δ1)");
    closeMatrix(b.value, transpose(db1));
  });

  it("regularization adds + 2λ·W_l to every weight gradient, and nothing to δ or the bias", () => {
    const lambda = 0.1;
    const steps = explainRequest(twoLayers("columns", lambda)).backprop?.steps ?? [];
    const w1 = stepNamed(steps, "∂L/∂W1");
    expect(w1.formula.text).toBe("∂L/∂W1 = δ1·Xᵀ + 2λ·W1");
    expect(w1.formula.latex).toContain("2\\lambda");
    closeMatrix(
      w1.value,
      zip(dW1, W1, (g, w) => g + 2 * lambda * w),
    );
    const w2 = stepNamed(steps, "∂L/∂W2");
    expect(w2.formula.text).toBe("∂L/∂W2 = δ2·A1ᵀ + 2λ·W2");
    closeMatrix(
      w2.value,
      zip(dW2, W2, (g, w) => g + 2 * lambda * w),
    );
    closeMatrix(stepNamed(steps, "δ1").value, delta1);
    closeMatrix(stepNamed(steps, "∂L/∂b1").value, db1);
  });

  const matrixCases = fixtures.filter((f) => typeof f.expected.output !== "number");
  it.each(matrixCases.map((f) => [f.name, f] as const))("%s: ∂L/∂W_l and ∂L/∂b_l are the reference's", (_, f) => {
    const steps = explainRequest(f).backprop?.steps ?? [];
    Object.entries(f.expected.gradients).forEach(([, g], i) => {
      const l = i + 1;
      const got = (name: string) => flat(stepNamed(steps, name).value as M);
      flat(g.weight).forEach((w, k) => {
        close(got(`∂L/∂W${l}`)[k], w, 1e-10, 1e-14);
      });
      if (g.bias !== undefined) {
        flat(g.bias).forEach((b, k) => {
          close(got(`∂L/∂b${l}`)[k], b, 1e-10, 1e-14);
        });
      }
      // The activation's slope part: σ' = A(1 - A) and tanh' = 1 - A², from the reference's activations.
      const delta = stepNamed(steps, `δ${l}`);
      const A = flat(f.expected.forward[i].activation);
      const slopePart = (delta.parts ?? [])[1];
      if (slopePart?.name.text === `σ'(Z${l})`) {
        flat(slopePart.value as M).forEach((s, k) => {
          close(s, A[k] * (1 - A[k]), 1e-12);
        });
      } else if (slopePart?.name.text === `tanh'(Z${l})`) {
        flat(slopePart.value as M).forEach((s, k) => {
          close(s, 1 - A[k] * A[k], 1e-12);
        });
      }
    });
  });
});

describe("reverse mode for other computations with matrices", () => {
  it("C = A @ A; sum(C): the two contributions to A sum to its gradient", () => {
    const A = [
      [1, 2],
      [3, 4],
    ];
    const { explanation, gradient } = explainExpression("C = A @ A\nsum(C)", { A });
    expect(explanation.chainRule).toEqual({});
    expect(explanation.backprop).toBeUndefined();
    const rm = explanation.reverseMode;
    expect(rm?.kind).toBe("reverse-mode");
    expect(rm?.omittedSteps).toBe(0);
    const toA = (rm?.steps ?? []).filter((s) => s.name.text.endsWith("/∂A"));
    expect(toA).toHaveLength(2);
    for (const s of toA) expect(s.formula.text).toContain("+=");
    // C used once: a plain "=".
    const toC = (rm?.steps ?? []).filter((s) => s.name.text.endsWith("/∂C"));
    expect(toC).toHaveLength(1);
    expect(toC[0].formula.text).not.toContain("+=");
    // ∂ sum(A·A)/∂A_pq = Σ_j A_qj + Σ_i A_ip: through the left operand G·Aᵀ = the row sums [3, 7] in every row,
    // through the right operand Aᵀ·G = the column sums [4, 6] down every column (G is all ones).
    const contributions = toA.map((s) => s.value as M);
    expect(contributions).toContainEqual([
      [3, 7],
      [3, 7],
    ]);
    expect(contributions).toContainEqual([
      [4, 4],
      [6, 6],
    ]);
    const total = zip(contributions[0], contributions[1], (p, q) => p + q);
    expect(total).toEqual([
      [7, 11],
      [9, 13],
    ]);
    expect(gradient("A")).toEqual(total);
  });
});
