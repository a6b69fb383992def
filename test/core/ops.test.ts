import { describe, expect, it } from "vitest";
import { evaluate, gradients } from "../../src/core/autodiff.js";
import { CoreError } from "../../src/core/errors.js";
import { GraphBuilder } from "../../src/core/graph.js";
import { registry } from "../../src/core/ops/registry.js";
import type { Attrs, AttrValue, OpDef } from "../../src/core/ops/types.js";
import { fromRows, type Shape, scalar, shapeText, type Tensor, zeros } from "../../src/core/tensor.js";
import { mulberry32 } from "../support/random.js";

// ---------------------------------------------------------------- deterministic randomness

/** FNV-1a of the op name: each op gets its own stream, so adding an op does not change any other op's samples. */
function seedOf(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

type Rng = () => number;

function tensor(rows: number, cols: number, entry: (k: number) => number): Tensor {
  const t = zeros(rows, cols);
  for (let k = 0; k < t.data.length; k++) t.data[k] = entry(k);
  return t;
}

const uniform = (rng: Rng, rows: number, cols: number, lo: number, hi: number) =>
  tensor(rows, cols, () => lo + (hi - lo) * rng());

/** |x| in [0.1, 2] with a random sign: far from the kink at 0 of relu, leaky_relu, elu and abs (h is 1e-6). */
const awayFromZero = (rng: Rng, rows: number, cols: number) =>
  tensor(rows, cols, () => (rng() < 0.5 ? -1 : 1) * (0.1 + 1.9 * rng()));

/** Inside the domain of log and sqrt, and far enough from 0 that their higher derivatives stay small. */
const positive = (rng: Rng, rows: number, cols: number) => uniform(rng, rows, cols, 0.5, 3);

/** Rows (axis 1) or columns (axis 0) that are one-hot, or class probabilities summing to 1. */
function classTargets(rng: Rng, logits: Shape, ax: 0 | 1, kind: "one-hot" | "probabilities"): Tensor {
  const t = zeros(logits.rows, logits.cols);
  const samples = ax === 1 ? logits.rows : logits.cols;
  const classes = ax === 1 ? logits.cols : logits.rows;
  const at = (s: number, c: number) => (ax === 1 ? s * logits.cols + c : c * logits.cols + s);
  for (let s = 0; s < samples; s++) {
    if (kind === "one-hot") {
      t.data[at(s, Math.floor(rng() * classes))] = 1;
      continue;
    }
    const w = Array.from({ length: classes }, () => 0.1 + rng());
    const total = w.reduce((x, y) => x + y, 0);
    for (let c = 0; c < classes; c++) t.data[at(s, c)] = w[c] / total;
  }
  return t;
}

/** One class index per sample, as a row or a column vector. */
function classIndices(rng: Rng, samples: number, classes: number, as: "row" | "column"): Tensor {
  const values = () => Math.floor(rng() * classes);
  return as === "row" ? tensor(1, samples, values) : tensor(samples, 1, values);
}

// ---------------------------------------------------------------- samplers

interface Case {
  readonly label: string;
  readonly inputs: readonly Tensor[];
  readonly attrs?: Readonly<Record<string, AttrValue>>;
  /** Operands holding class indices: not differentiable, so their backward must be null. */
  readonly indices?: readonly number[];
  /**
   * Operands that are constants in this case (backward is told they need no gradient), because their
   * gradient is not real there: the exponent of pow with a negative base. They are not checked.
   */
  readonly constants?: readonly number[];
  /**
   * Operands whose entries may sit exactly on 0 or 1, the edges of the [0, 1] domain that the forward checks
   * (hard bce labels). The op is affine in them, so a one-sided difference there is exact up to rounding.
   */
  readonly unitInterval?: readonly number[];
}

type Sampler = (rng: Rng) => Case[];

const M = 2;
const N = 3;

/** Every 2-D broadcasting combination of a binary op: equal, scalar either side, row, column, column × row. */
const broadcastPairs: readonly (readonly [Shape, Shape, string])[] = [
  [{ rows: M, cols: N }, { rows: M, cols: N }, "equal shapes"],
  [{ rows: 1, cols: 1 }, { rows: M, cols: N }, "scalar with matrix"],
  [{ rows: M, cols: N }, { rows: 1, cols: 1 }, "matrix with scalar"],
  [{ rows: 1, cols: N }, { rows: M, cols: N }, "row 1×n with m×n"],
  [{ rows: M, cols: N }, { rows: 1, cols: N }, "m×n with row 1×n"],
  [{ rows: M, cols: 1 }, { rows: M, cols: N }, "column m×1 with m×n"],
  [{ rows: M, cols: N }, { rows: M, cols: 1 }, "m×n with column m×1"],
  [{ rows: M, cols: 1 }, { rows: 1, cols: N }, "column m×1 with row 1×n"],
  [{ rows: 1, cols: N }, { rows: M, cols: 1 }, "row 1×n with column m×1"],
];

/**
 * a^b: a positive base, where both partials are real, for every broadcasting combination; and a negative base
 * with an integer exponent that is a constant (x^2, x^3, x^-1), where only the base has a gradient.
 */
const powSampler: Sampler = (rng) => [
  ...broadcastPairs.map(([a, b, label]) => ({
    label: `positive base, ${label}`,
    inputs: [uniform(rng, a.rows, a.cols, 0.5, 2), uniform(rng, b.rows, b.cols, -2, 2)],
  })),
  {
    label: "negative base, constant integer exponents",
    inputs: [uniform(rng, 2, 4, -2, -0.5), fromRows([[1, 2, 3, -1]])],
    constants: [1],
  },
];

function binarySampler(divisor: boolean): Sampler {
  return (rng) =>
    broadcastPairs.map(([a, b, label]) => ({
      label,
      inputs: [
        uniform(rng, a.rows, a.cols, -2, 2),
        // A divisor stays in ±[0.1, 2]: the quotient's derivatives grow like 1/b³.
        divisor ? awayFromZero(rng, b.rows, b.cols) : uniform(rng, b.rows, b.cols, -2, 2),
      ],
    }));
}

/** An elementwise function on a 3×4 input drawn by `draw`, once per attribute set. */
function unarySampler(
  draw: (rng: Rng, rows: number, cols: number) => Tensor,
  attrSets: readonly Readonly<Record<string, AttrValue>>[] = [{}],
): Sampler {
  return (rng) =>
    attrSets.map((attrs) => ({
      label: Object.keys(attrs).length ? JSON.stringify(attrs) : "default attributes",
      inputs: [draw(rng, 3, 4)],
      attrs,
    }));
}

const smooth = (rng: Rng, rows: number, cols: number) => uniform(rng, rows, cols, -2, 2);

const classAxisSampler: Sampler = (rng) =>
  ([0, 1] as const).map((axis) => ({ label: `axis ${axis}`, inputs: [uniform(rng, 3, 4, -3, 3)], attrs: { axis } }));

const reductionSampler: Sampler = (rng) =>
  ([null, 0, 1] as const).map((axis) => ({
    label: `axis ${axis}`,
    inputs: [uniform(rng, 3, 4, -2, 2)],
    attrs: { axis },
  }));

function squaredErrorSampler(rng: Rng): Case[] {
  return (["sum", "mean"] as const).map((reduction) => ({
    label: `reduction ${reduction}`,
    inputs: [uniform(rng, 2, 3, -2, 2), uniform(rng, 2, 3, -2, 2)],
    attrs: { reduction },
  }));
}

/** bce and bce_with_logits: soft targets inside (0, 1) and hard 0/1 labels, both reductions. */
function binaryCrossEntropySampler(prediction: (rng: Rng) => Tensor): Sampler {
  return (rng) =>
    (["sum", "mean"] as const).flatMap((reduction) => [
      {
        label: `soft targets, ${reduction}`,
        inputs: [uniform(rng, 2, 3, 0.05, 0.95), prediction(rng)],
        attrs: { reduction },
      },
      {
        label: `hard 0/1 targets, ${reduction}`,
        inputs: [tensor(2, 3, () => (rng() < 0.5 ? 0 : 1)), prediction(rng)],
        attrs: { reduction },
        unitInterval: [0],
      },
    ]);
}

function crossEntropySampler(rng: Rng): Case[] {
  const cases: Case[] = [];
  for (const axis of [0, 1] as const) {
    // 3 samples of 4 classes: rows are samples for axis 1, columns for axis 0.
    const shape = axis === 1 ? { rows: 3, cols: 4 } : { rows: 4, cols: 3 };
    for (const reduction of ["sum", "mean"] as const) {
      const attrs = { axis, reduction };
      const logits = () => uniform(rng, shape.rows, shape.cols, -3, 3);
      for (const kind of ["one-hot", "probabilities"] as const) {
        cases.push({
          label: `axis ${axis}, ${reduction}, ${kind}`,
          inputs: [classTargets(rng, shape, axis, kind), logits()],
          attrs,
        });
      }
      // Targets that do not sum to 1 per sample: the loss is still -Σ t·log_softmax(z).
      cases.push({
        label: `axis ${axis}, ${reduction}, unnormalized weights`,
        inputs: [uniform(rng, shape.rows, shape.cols, 0, 2), logits()],
        attrs,
      });
      for (const as of ["row", "column"] as const) {
        cases.push({
          label: `axis ${axis}, ${reduction}, class indices as a ${as}`,
          inputs: [classIndices(rng, 3, 4, as), logits()],
          attrs,
          indices: [0],
        });
      }
    }
  }
  return cases;
}

/**
 * How to draw the inputs of each op. Every op in the registry must have an entry (checked below), so a new op
 * cannot be added without a gradient test.
 */
const samplers: Readonly<Record<string, Sampler>> = {
  add: binarySampler(false),
  sub: binarySampler(false),
  mul: binarySampler(false),
  div: binarySampler(true),
  pow: powSampler,
  neg: unarySampler(smooth),
  matmul: (rng) =>
    [
      [2, 3, 4],
      [1, 3, 1],
      [3, 1, 2],
    ].map(([m, k, n]) => ({
      label: `${m}×${k} · ${k}×${n}`,
      inputs: [uniform(rng, m, k, -2, 2), uniform(rng, k, n, -2, 2)],
    })),
  transpose: (rng) => [{ label: "2×3", inputs: [uniform(rng, 2, 3, -2, 2)] }],
  sum: reductionSampler,
  mean: reductionSampler,
  identity: unarySampler(smooth),
  sigmoid: unarySampler(smooth),
  tanh: unarySampler(smooth),
  softplus: unarySampler(smooth),
  exp: unarySampler(smooth),
  relu: unarySampler(awayFromZero),
  leaky_relu: unarySampler(awayFromZero, [{}, { slope: 0.2 }, { slope: -0.5 }]),
  elu: unarySampler(awayFromZero, [{}, { alpha: 0.5 }, { alpha: 2.5 }]),
  abs: unarySampler(awayFromZero),
  log: unarySampler(positive),
  sqrt: unarySampler(positive),
  softmax: classAxisSampler,
  log_softmax: classAxisSampler,
  sse: squaredErrorSampler,
  l2: squaredErrorSampler,
  mse: squaredErrorSampler,
  bce: binaryCrossEntropySampler((rng) => uniform(rng, 2, 3, 0.05, 0.95)),
  bce_with_logits: binaryCrossEntropySampler((rng) => uniform(rng, 2, 3, -3, 3)),
  cross_entropy: crossEntropySampler,
};

// ---------------------------------------------------------------- the check

const H = 1e-6;
const close = (a: number, n: number) => Math.abs(a - n) <= 1e-6 * Math.max(1, Math.abs(a), Math.abs(n));

/** The attributes the graph would hand the op: defaults filled in, as GraphBuilder's resolution does. */
function resolved(op: OpDef, given: Readonly<Record<string, AttrValue>> = {}): Attrs {
  const out: Record<string, AttrValue> = {};
  for (const [key, spec] of Object.entries(op.attrs)) out[key] = Object.hasOwn(given, key) ? given[key] : spec.default;
  return out;
}

function withEntry(inputs: readonly Tensor[], operand: number, k: number, delta: number): Tensor[] {
  return inputs.map((t, j) => {
    if (j !== operand) return t;
    const copy = { rows: t.rows, cols: t.cols, data: t.data.slice() };
    copy.data[k] += delta;
    return copy;
  });
}

const dot = (a: Tensor, b: Tensor) => a.data.reduce((s, x, k) => s + x * b.data[k], 0);

/** Returns one line per disagreement, so that a failure lists every bad entry at once. */
function checkCase(op: OpDef, c: Case): string[] {
  const attrs = resolved(op, c.attrs);
  const problems: string[] = [];
  expect(c.inputs.length, "sampler gives one tensor per operand").toBe(op.operands.length);
  const y = op.forward(c.inputs, attrs);
  expect(shapeText(y), "forward agrees with the shape rule").toBe(
    shapeText(
      op.shape(
        c.inputs.map((t) => ({ rows: t.rows, cols: t.cols })),
        attrs,
      ),
    ),
  );
  // The upstream gradient has its own stream per case, so running one test alone draws the same g.
  const g = uniform(mulberry32(seedOf(`${op.name}: ${c.label}`)), y.rows, y.cols, -1, 1);
  const needs = c.inputs.map((_, j) => !c.constants?.includes(j));
  const partials = op.backward(g, c.inputs, y, attrs, needs);
  expect(partials.length, "backward gives one gradient per operand").toBe(op.operands.length);

  for (const [j, x] of c.inputs.entries()) {
    const grad = partials[j];
    if (!needs[j]) continue;
    // null means "no gradient flows", which is right for class indices and for nothing else that is needed.
    if (c.indices?.includes(j)) {
      expect(grad, `${op.operands[j]} holds class indices`).toBeNull();
      continue;
    }
    if (grad === null) {
      problems.push(`${op.operands[j]} is differentiable but its backward returned null`);
      continue;
    }
    expect(shapeText(grad), `gradient of ${op.operands[j]} has its shape`).toBe(shapeText(x));
    const edges = c.unitInterval?.includes(j) ?? false;
    for (let k = 0; k < x.data.length; k++) {
      const v = x.data[k];
      // At a closed domain's edge step inwards only (affine operands, see Case.unitInterval).
      const up = edges && v === 1 ? 0 : H;
      const down = edges && v === 0 ? 0 : H;
      const fPlus = op.forward(withEntry(c.inputs, j, k, up), attrs);
      const fMinus = op.forward(withEntry(c.inputs, j, k, -down), attrs);
      const numeric = (dot(g, fPlus) - dot(g, fMinus)) / (up + down);
      const analytic = grad.data[k];
      if (!close(analytic, numeric)) {
        problems.push(`${op.operands[j]}[${k}]: backward ${analytic}, finite difference ${numeric}`);
      }
    }

    // Saying that another operand needs no gradient may save work but must not change this one.
    for (let other = 0; other < needs.length; other++) {
      if (other === j || !needs[other]) continue;
      const fewer = needs.map((n, i) => n && i !== other);
      const alone = op.backward(g, c.inputs, y, attrs, fewer)[j];
      if (!alone?.data.every((v, k) => Object.is(v, grad.data[k]))) {
        problems.push(`${op.operands[j]}: gradient changes when ${op.operands[other]} needs none`);
      }
    }
  }
  return problems;
}

describe("every op's backward matches central differences of its forward", () => {
  it("has a sampler for every op in the registry, and none for ops that do not exist", () => {
    const missing = [...registry.keys()].filter((name) => !Object.hasOwn(samplers, name));
    expect(missing, "add an entry to `samplers` in test/core/ops.test.ts for each of these ops").toEqual([]);
    expect(Object.keys(samplers).filter((name) => !registry.has(name))).toEqual([]);
  });

  for (const op of registry.values()) {
    describe(op.name, () => {
      const sampler = Object.hasOwn(samplers, op.name) ? samplers[op.name] : undefined;
      if (!sampler) {
        it("has a sampler", () => expect.fail(`no sampler for ${op.name} in test/core/ops.test.ts`));
        return;
      }
      const cases = sampler(mulberry32(seedOf(op.name)));

      for (const c of cases) {
        it(c.label, () => expect(checkCase(op, c)).toEqual([]));
      }

      // An attribute value that no case uses would be an untested branch of forward/backward.
      if (Object.keys(op.attrs).length === 0) return;
      it("samples every value of every attribute (a non-default value for numbers)", () => {
        for (const [key, spec] of Object.entries(op.attrs)) {
          const used = new Set(cases.map((c) => resolved(op, c.attrs)[key]));
          if (spec.type === "number") {
            expect(
              [...used].some((v) => v !== spec.default),
              `${key} besides its default`,
            ).toBe(true);
          } else {
            const all = spec.type === "choice" ? spec.values : spec.allowAll ? [0, 1, null] : [0, 1];
            expect([...used].sort(), key).toEqual([...all].sort());
          }
        }
      });
    });
  }
});

// ---------------------------------------------------------------- kinks

/** f'(x) as backward reports it, for an upstream gradient of 1. */
function derivativeAt(name: string, x: number, attrs: Readonly<Record<string, AttrValue>> = {}): number {
  const op = registry.get(name) as OpDef;
  const a = resolved(op, attrs);
  const input = scalar(x);
  const [d] = op.backward(scalar(1), [input], op.forward([input], a), a, [true]);
  return (d as Tensor).data[0];
}

describe("derivatives at kinks follow PyTorch", () => {
  it("relu'(0) = 0", () => expect(derivativeAt("relu", 0)).toBe(0));
  it("leaky_relu'(0) = slope", () => {
    expect(derivativeAt("leaky_relu", 0)).toBe(0.01);
    expect(derivativeAt("leaky_relu", 0, { slope: 0.2 })).toBe(0.2);
  });
  it("abs'(0) = 0", () => expect(derivativeAt("abs", 0)).toBe(0));
  it("elu'(0) = alpha", () => {
    expect(derivativeAt("elu", 0)).toBe(1);
    expect(derivativeAt("elu", 0, { alpha: 0.5 })).toBe(0.5);
  });
});

describe("pow at a zero base", () => {
  /** The partials of a^b at one point, both operands needing a gradient. */
  function powPartials(a: number, b: number): [number, number] {
    const op = registry.get("pow") as OpDef;
    const inputs = [scalar(a), scalar(b)];
    const [da, db] = op.backward(scalar(1), inputs, op.forward(inputs, {}), {}, [true, true]);
    return [(da as Tensor).data[0], (db as Tensor).data[0]];
  }

  it("d(a^2)/da = 2a and d(a^1)/da = 1 hold at a = 0", () => {
    expect(powPartials(0, 2)[0]).toBe(0);
    expect(powPartials(0, 1)[0]).toBe(1);
  });

  // The textbook forms are 0·(1/0) at a = 0, b = 0 and 0·(-∞) at a = 0, b > 0; a^0 ≡ 1 and 0^b ≡ 0 for b > 0,
  // so both derivatives are 0, which is also what PyTorch returns.
  it("d(a^0)/da = 0 at a = 0 (PyTorch)", () => expect(powPartials(0, 0)[0]).toBe(0));
  it("d(a^b)/db = 0 at a = 0 for b > 0 (PyTorch)", () => expect(powPartials(0, 2)[1]).toBe(0));
});

// ---------------------------------------------------------------- shape rules

/** Builds op(a, b) on leaves of the given shapes and returns what GraphBuilder throws. */
function shapeError(name: string, a: Shape, b: Shape, attrs: Record<string, unknown> = {}): CoreError {
  const builder = new GraphBuilder();
  const x = builder.constant("a", a);
  const y = builder.constant("b", b);
  try {
    builder.apply(name, [x, y], { attrs });
  } catch (e) {
    expect(e).toBeInstanceOf(CoreError);
    return e as CoreError;
  }
  return expect.fail(`${name} accepted ${shapeText(a)} and ${shapeText(b)}`);
}

describe("shape rules reject what they cannot combine, naming both shapes", () => {
  it("matmul 2×3 · 2×3", () => {
    const e = shapeError("matmul", { rows: 2, cols: 3 }, { rows: 2, cols: 3 });
    expect(e.kind).toBe("shape");
    expect(e.message).toContain("2×3 · 2×3");
  });

  it("add 2×3 + 3×2", () => {
    const e = shapeError("add", { rows: 2, cols: 3 }, { rows: 3, cols: 2 });
    expect(e.kind).toBe("shape");
    expect(e.message).toContain("2×3");
    expect(e.message).toContain("3×2");
  });

  it("sse with target and prediction of different shapes", () => {
    const e = shapeError("sse", { rows: 2, cols: 3 }, { rows: 3, cols: 2 });
    expect(e.kind).toBe("shape");
    expect(e.message).toContain("target is 2×3");
    expect(e.message).toContain("prediction is 3×2");
  });

  it("cross_entropy with an index vector of the wrong length", () => {
    // 4 samples (rows, axis 1) of 3 classes need 4 indices; 3 are given.
    const e = shapeError("cross_entropy", { rows: 3, cols: 1 }, { rows: 4, cols: 3 }, { axis: 1 });
    expect(e.kind).toBe("shape");
    expect(e.message).toContain("4×3");
    expect(e.message).toContain("3×1");
    // For axis 0 the samples are the columns: 3 of them, so 4 indices are wrong.
    const e0 = shapeError("cross_entropy", { rows: 1, cols: 4 }, { rows: 4, cols: 3 }, { axis: 0 });
    expect(e0.kind).toBe("shape");
    expect(e0.message).toContain("4×3");
    expect(e0.message).toContain("1×4");
  });
});

// ---------------------------------------------------------------- numerical stability

function run(name: string, inputs: readonly Tensor[], attrs: Readonly<Record<string, AttrValue>> = {}) {
  const op = registry.get(name) as OpDef;
  const a = resolved(op, attrs);
  const y = op.forward(inputs, a);
  const g = tensor(y.rows, y.cols, () => 1);
  return {
    y,
    grads: op.backward(
      g,
      inputs,
      y,
      a,
      inputs.map(() => true),
    ) as Tensor[],
  };
}

const finite = (t: Tensor) => t.data.every(Number.isFinite);

describe("numerical stability at extreme inputs", () => {
  it("sigmoid(0) = 1/2 and softplus(0) = ln 2", () => {
    expect(run("sigmoid", [scalar(0)]).y.data[0]).toBe(0.5);
    expect(run("softplus", [scalar(0)]).y.data[0]).toBeCloseTo(Math.LN2, 15);
    // σ'(0) = σ(0)(1 - σ(0)) = 1/4.
    expect(run("sigmoid", [scalar(0)]).grads[0].data[0]).toBe(0.25);
  });

  it("sigmoid(±800) saturates to 1 and 0 with a finite zero slope", () => {
    // e^-800 ≈ 1e-348 is below the smallest float64 (≈ 5e-324), so σ(800) rounds to 1 and σ(-800) to 0.
    const { y, grads } = run("sigmoid", [fromRows([[800, -800]])]);
    expect(y.data[0]).toBe(1);
    expect(y.data[1]).toBeGreaterThanOrEqual(0);
    expect(y.data[1]).toBeLessThan(1e-300);
    expect(finite(grads[0])).toBe(true);
    for (const d of grads[0].data) expect(Math.abs(d)).toBeLessThan(1e-300);
  });

  it("softplus(800) = 800 and softplus(-800) is a finite non-negative ≈ 0", () => {
    // softplus(x) = x + log(1 + e^-x), and log(1 + e^-800) is below float64 resolution at 800.
    const { y, grads } = run("softplus", [fromRows([[800, -800]])]);
    expect(y.data[0]).toBe(800);
    expect(Number.isFinite(y.data[1])).toBe(true);
    expect(y.data[1]).toBeGreaterThanOrEqual(0);
    expect(y.data[1]).toBeLessThan(1e-300);
    // softplus' = σ: 1 and ≈ 0.
    expect(grads[0].data[0]).toBe(1);
    expect(grads[0].data[1]).toBeGreaterThanOrEqual(0);
    expect(grads[0].data[1]).toBeLessThan(1e-300);
  });

  it("log_softmax of [1000, 0, -1000] is [0, -1000, -2000] along either axis", () => {
    // log Σ e^x = 1000 + log(1 + e^-1000 + e^-2000) = 1000 in float64.
    for (const [axis, x] of [
      [1, fromRows([[1000, 0, -1000]])],
      [0, fromRows([[1000], [0], [-1000]])],
    ] as const) {
      const { y, grads } = run("log_softmax", [x], { axis });
      expect(Array.from(y.data)).toEqual([0, -1000, -2000]);
      // d/dx Σ_i log_softmax(x)_i = 1 - n·softmax(x) = [1 - 3, 1, 1].
      expect(Array.from(grads[0].data)).toEqual([-2, 1, 1]);
    }
  });

  it("cross_entropy of logits [1000, 0, -1000] is the logit gap, with gradient softmax - onehot", () => {
    for (const [axis, z] of [
      [1, fromRows([[1000, 0, -1000]])],
      [0, fromRows([[1000], [0], [-1000]])],
    ] as const) {
      for (const [index, loss] of [
        [0, 0],
        [1, 1000],
        [2, 2000],
      ] as const) {
        const { y, grads } = run("cross_entropy", [scalar(index), z], { axis });
        expect(y.data[0]).toBe(loss);
        expect(grads[0]).toBeNull();
        // softmax(z) = [1, 0, 0] to float64 precision.
        const expected = [1, 0, 0];
        expected[index] -= 1;
        expect(Array.from(grads[1].data)).toEqual(expected);
      }
    }
  });

  it("bce with p exactly 0 or 1 gives a finite loss (log clamped at -100) and a finite gradient", () => {
    // Each entry's loss is -[t·max(log p, -100) + (1 - t)·max(log(1 - p), -100)]:
    // t=1, p=0 → 100; t=0, p=1 → 100; t=1, p=1 → 0; t=0, p=0 → 0.
    const t = fromRows([[1, 0, 1, 0]]);
    const p = fromRows([[0, 1, 1, 0]]);
    const { y, grads } = run("bce", [t, p], { reduction: "sum" });
    expect(y.data[0]).toBe(200);
    // PyTorch's backward: (p - t) / max(p(1 - p), 1e-12).
    expect(Array.from(grads[1].data)).toEqual([-1 / 1e-12, 1 / 1e-12, 0, 0]);
    expect(finite(grads[0])).toBe(true);

    // The same through the graph, whose non-finite guard must not fire.
    const builder = new GraphBuilder();
    const target = builder.constant("t", t);
    const prediction = builder.parameter("p", p);
    const loss = builder.apply("bce", [target, prediction]);
    const graph = builder.build();
    const values = evaluate(
      graph,
      new Map([
        ["t", t],
        ["p", p],
      ]),
    );
    // The default reduction is the mean over the 4 entries.
    expect(values[loss].data[0]).toBe(50);
    expect(finite(gradients(graph, values, loss)[prediction] as Tensor)).toBe(true);
  });
});
