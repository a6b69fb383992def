import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { evaluate } from "../../src/core/autodiff.js";
import { type Bindings, type CompiledExpression, compileExpression } from "../../src/core/compile/expression.js";
import { CoreError } from "../../src/core/errors.js";
import { opNames } from "../../src/core/ops/registry.js";
import { leafGradient, leafIndex, solve } from "../../src/core/problem.js";
import { fromRows, type Shape, scalar, type Tensor, toRows, zeros } from "../../src/core/tensor.js";
import { bindings, coreError } from "../support/core.js";

const H = 1e-6;
/** 1e-5 relative to the larger of the two, with an absolute floor of 1e-5 for gradients near 0. */
const close = (a: number, n: number) => Math.abs(a - n) <= 1e-5 * Math.max(1, Math.abs(a), Math.abs(n));

/** Ops whose derivative jumps at 0: draws with an operand this close to 0 are rejected. */
const KINKED = new Set(["relu", "leaky_relu", "elu", "abs"]);
const KINK_MARGIN = 1e-3;
/**
 * bce is fed sigmoid(...): outside [0.0025, 0.9975] (|logit| > 6) the rounding error of 1 - p, amplified by
 * log(1 - p) and divided by 2h, would swamp the finite difference rather than reveal a wrong gradient.
 */
const BCE_MARGIN = 0.0025;

const column = (...v: number[]) => fromRows(v.map((x) => [x]));
const row = (...v: number[]) => fromRows([v]);

/** The value of a named statement. */
function namedValue(c: CompiledExpression, name: string): Tensor {
  const index = c.named.get(name);
  if (index === undefined) return expect.fail(`no statement named ${name}`);
  return evaluate(c.graph, c.feeds)[index];
}

/** d(output)/d(leaf) of a compiled expression by central differences, one entry at a time. */
function finiteDifference(c: CompiledExpression, name: string): Tensor {
  const base = c.feeds.get(name) as Tensor;
  const out = zeros(base.rows, base.cols);
  const outputWith = (k: number, delta: number) => {
    const t = zeros(base.rows, base.cols);
    t.data.set(base.data);
    t.data[k] += delta;
    return evaluate(c.graph, new Map([...c.feeds, [name, t]]))[c.output].data[0];
  };
  for (let k = 0; k < base.data.length; k++) out.data[k] = (outputWith(k, H) - outputWith(k, -H)) / (2 * H);
  return out;
}

// ---------------------------------------------------------------- random programs

/**
 * A piece of generated text and the leaves it reads. Every compound piece is parenthesized or a call, so
 * pieces can be pasted into any context, a transpose quote included.
 */
interface Gen {
  readonly text: string;
  readonly uses: readonly string[];
}

interface Var {
  readonly name: string;
  readonly shape: Shape;
}

const SHAPES: readonly Shape[] = [1, 2, 3].flatMap((rows) => [1, 2, 3].map((cols) => ({ rows, cols })));
const anyShape = fc.constantFrom(...SHAPES);
const dim = fc.integer({ min: 1, max: 3 });
const sameShape = (a: Shape, b: Shape) => a.rows === b.rows && a.cols === b.cols;
const isScalar = (s: Shape) => s.rows === 1 && s.cols === 1;

/**
 * The leaves: two parameters (p23a, p23b) and one constant (c23) per shape, so a parameter is often read
 * several times; class indices for cross_entropy are constants whose name spells their values (kr_1_0_2 is
 * the row [1, 0, 2], kc_... a column).
 */
const parameterNames = (s: Shape) => [`p${s.rows}${s.cols}a`, `p${s.rows}${s.cols}b`];
const constantName = (s: Shape) => `c${s.rows}${s.cols}`;

/** Text with the given pieces pasted in, reading the union of their leaves. */
function t(strings: TemplateStringsArray, ...parts: Gen[]): Gen {
  let text = strings[0];
  parts.forEach((p, i) => {
    text += p.text + strings[i + 1];
  });
  return { text, uses: parts.flatMap((p) => p.uses) };
}

/** Operand shapes that broadcast to exactly s: each dimension is full on at least one side. */
function broadcastPair(s: Shape): fc.Arbitrary<[Shape, Shape]> {
  const split = (n: number) =>
    n === 1 ? fc.constant<[number, number]>([1, 1]) : fc.constantFrom<[number, number]>([n, n], [n, 1], [1, n]);
  return fc.tuple(split(s.rows), split(s.cols)).map(([[ra, rb], [ca, cb]]) => [
    { rows: ra, cols: ca },
    { rows: rb, cols: cb },
  ]);
}

function leaf(s: Shape, env: readonly Var[]): fc.Arbitrary<Gen> {
  const names = [...parameterNames(s), ...parameterNames(s), constantName(s)];
  const options: fc.Arbitrary<Gen>[] = [fc.constantFrom(...names).map((n) => ({ text: n, uses: [n] }))];
  const vars = env.filter((v) => sameShape(v.shape, s));
  if (vars.length > 0) options.push(fc.constantFrom(...vars).map((v) => ({ text: v.name, uses: [] })));
  if (isScalar(s))
    options.push(fc.constantFrom("0.5", "2", "1.5", "3", ".25", "1e-1").map((n) => ({ text: n, uses: [] })));
  return fc.oneof(...options);
}

/** An expression of shape s whose entries are all positive (and not tiny): a base for any power, a log's operand. */
function positive(s: Shape, depth: number, env: readonly Var[]): fc.Arbitrary<Gen> {
  return gen(s, depth, env).chain((a) =>
    fc.constantFrom(
      t`sigmoid(${a})`,
      t`exp(tanh(${a}))`,
      t`softplus(${a})`,
      t`((${a} * ${a}) + 1)`,
      t`sqrt(((${a} ^ 2) + 1))`,
    ),
  );
}

/** An expression of shape s bounded away from 0, to divide by. */
function denominator(s: Shape, depth: number, env: readonly Var[]): fc.Arbitrary<Gen> {
  return gen(s, depth, env).chain((a) =>
    fc.constantFrom(t`(sigmoid(${a}) + 0.5)`, t`((${a} * ${a}) + 1)`, t`exp(tanh(${a}))`),
  );
}

const reductionKeyword = fc.constantFrom("", ', reduction="sum"', ', reduction="mean"');

/** A scalar loss of two generated operands of any one shape. */
function loss(depth: number, env: readonly Var[]): fc.Arbitrary<Gen> {
  const sub = (s: Shape) => gen(s, depth, env);
  return anyShape.chain((s) =>
    fc.oneof(
      fc.tuple(fc.constantFrom("sse", "l2", "mse"), sub(s), sub(s), reductionKeyword).map(([fn, target, p, kw]) => ({
        text: `${fn}(${target.text}, ${p.text}${kw})`,
        uses: [...target.uses, ...p.uses],
      })),
      // bce takes probabilities: a target in [0, 1] and a prediction that is a sigmoid.
      fc.tuple(sub(s), sub(s), reductionKeyword).map(([target, p, kw]) => ({
        text: `bce(sigmoid(${target.text}), sigmoid(${p.text})${kw})`,
        uses: [...target.uses, ...p.uses],
      })),
      fc.tuple(sub(s), sub(s), reductionKeyword).map(([target, z, kw]) => ({
        text: `bce_with_logits(sigmoid(${target.text}), ${z.text}${kw})`,
        uses: [...target.uses, ...z.uses],
      })),
      crossEntropy(s, depth, env),
    ),
  );
}

/** cross_entropy with soft targets (a softmax or sigmoid of anything) or class indices, axis given or not. */
function crossEntropy(z: Shape, depth: number, env: readonly Var[]): fc.Arbitrary<Gen> {
  return fc.tuple(fc.constantFrom<0 | 1 | undefined>(0, 1, undefined), reductionKeyword).chain(([given, kw]) => {
    // The default class axis is 0 for a column of more than one entry, 1 otherwise.
    const ax = given ?? (z.cols === 1 && z.rows > 1 ? 0 : 1);
    const axisKw = given === undefined ? "" : `, axis=${given}`;
    const samples = ax === 1 ? z.rows : z.cols;
    const classes = ax === 1 ? z.cols : z.rows;
    const soft = fc.tuple(gen(z, depth, env), gen(z, depth, env), fc.boolean()).map(([target, logits, useSoftmax]) => ({
      text: `cross_entropy(${useSoftmax ? `softmax(${target.text}${axisKw})` : `sigmoid(${target.text})`}, ${logits.text}${axisKw}${kw})`,
      uses: [...target.uses, ...logits.uses],
    }));
    // Indices are told apart from one-hot targets by shape: a vector of indices must not have the logits' shape.
    const orientations = (["r", "c"] as const).filter(
      (o) => !sameShape(o === "r" ? { rows: 1, cols: samples } : { rows: samples, cols: 1 }, z),
    );
    if (orientations.length === 0) return soft;
    const indices = fc
      .tuple(
        fc.constantFrom(...orientations),
        fc.array(fc.integer({ min: 0, max: classes - 1 }), { minLength: samples, maxLength: samples }),
        gen(z, depth, env),
      )
      .map(([o, values, logits]) => {
        const name = `k${o}_${values.join("_")}`;
        return { text: `cross_entropy(${name}, ${logits.text}${axisKw}${kw})`, uses: [name, ...logits.uses] };
      });
    return fc.oneof(soft, indices);
  });
}

/** Arbitraries are built eagerly, so each (shape, depth, scope) is built once and shared. */
const built = new Map<string, fc.Arbitrary<Gen>>();

/** A random expression of shape s, at most `depth` operations deep, that may read the variables in env. */
function gen(s: Shape, depth: number, env: readonly Var[]): fc.Arbitrary<Gen> {
  const key = `${s.rows}×${s.cols} ${depth} ${env.map((v) => `${v.name}:${v.shape.rows}×${v.shape.cols}`).join(",")}`;
  let arbitrary = built.get(key);
  if (!arbitrary) {
    arbitrary = build(s, depth, env);
    built.set(key, arbitrary);
  }
  return arbitrary;
}

function build(s: Shape, depth: number, env: readonly Var[]): fc.Arbitrary<Gen> {
  if (depth <= 0) return leaf(s, env);
  const sub = (shape: Shape) => gen(shape, depth - 1, env);
  // The leaf comes last: fast-check favours the first option of a oneof on small sizes.
  const options: fc.Arbitrary<Gen>[] = [
    // Elementwise arithmetic with broadcasting.
    fc
      .tuple(fc.constantFrom("+", "-", "*"), broadcastPair(s))
      .chain(([op, [sa, sb]]) =>
        fc
          .tuple(sub(sa), sub(sb))
          .map(([a, b]) => ({ text: `(${a.text} ${op} ${b.text})`, uses: [...a.uses, ...b.uses] })),
      ),
    broadcastPair(s).chain(([sa, sb]) =>
      fc.tuple(sub(sa), denominator(sb, depth - 1, env)).map(([a, b]) => t`(${a} / ${b})`),
    ),
    // Matrix product through an inner dimension of 1 to 3.
    dim.chain((k) =>
      fc.tuple(sub({ rows: s.rows, cols: k }), sub({ rows: k, cols: s.cols })).map(([a, b]) => t`(${a} @ ${b})`),
    ),
    sub({ rows: s.cols, cols: s.rows }).map((a) => t`${a}'`),
    sub(s).map((a) => t`(-${a})`),
    // Powers: integer exponents of anything, any exponent of a positive base, a parameter in the exponent.
    fc.oneof(
      sub(s).chain((a) => fc.constantFrom(t`(${a} ^ 2)`, t`(${a} ** 3)`)),
      positive(s, depth - 1, env).chain((b) => fc.constantFrom(t`(${b} ^ 0.5)`, t`(${b} ^ 1.5)`, t`(${b} ^ -0.5)`)),
      broadcastPair(s).chain(([sa, sb]) =>
        fc.tuple(positive(sa, depth - 1, env), sub(sb)).map(([b, e]) => t`(${b} ^ tanh(${e}))`),
      ),
      sub(s).map((e) => t`(2 ^ tanh(${e}))`),
    ),
    // Elementwise functions, within their domains.
    sub(s).chain((a) =>
      fc.constantFrom(
        t`sigmoid(${a})`,
        t`tanh(${a})`,
        t`softplus(${a})`,
        t`exp(tanh(${a}))`,
        t`relu(${a})`,
        t`leaky_relu(${a})`,
        t`leaky_relu(${a}, slope=0.2)`,
        t`leaky_relu(${a}, 0.3)`,
        t`elu(${a})`,
        t`elu(${a}, alpha=0.7)`,
        t`abs(${a})`,
      ),
    ),
    positive(s, depth - 1, env).chain((p) => fc.constantFrom(t`log(${p})`, t`sqrt(${p})`)),
    // Along a class axis, given or by default.
    sub(s).chain((a) =>
      fc.constantFrom(
        t`softmax(${a})`,
        t`softmax(${a}, axis=0)`,
        t`softmax(${a}, axis=1)`,
        t`log_softmax(${a})`,
        t`log_softmax(${a}, axis=0)`,
        t`log_softmax(${a}, axis=1)`,
      ),
    ),
  ];
  // Reductions that land on s.
  if (s.rows === 1) {
    options.push(
      dim
        .chain((k) => sub({ rows: k, cols: s.cols }))
        .chain((a) => fc.constantFrom(t`sum(${a}, axis=0)`, t`mean(${a}, axis=0)`, t`sum(${a}, 0)`)),
    );
  }
  if (s.cols === 1) {
    options.push(
      dim
        .chain((k) => sub({ rows: s.rows, cols: k }))
        .chain((a) => fc.constantFrom(t`sum(${a}, axis=1)`, t`mean(${a}, axis=1)`, t`mean(${a}, 1)`)),
    );
  }
  if (isScalar(s)) {
    options.push(
      anyShape.chain(sub).chain((a) => fc.constantFrom(t`sum(${a})`, t`mean(${a})`, t`sum(${a}, axis=null)`)),
      loss(depth - 1, env),
    );
  }
  options.push(leaf(s, env));
  return fc.oneof(...options);
}

interface Program {
  readonly text: string;
  readonly uses: readonly string[];
  readonly reassigned: boolean;
}

/**
 * 0 to 2 statements v0 = ..., v1 = ..., each maybe reassigned from itself (v0 = v0 * 2), later statements
 * reading earlier ones, then a scalar: a sum, a mean or a loss, which reads the last variable.
 */
function statements(
  left: number,
  env: readonly Var[],
  lines: readonly string[],
  uses: readonly string[],
  reassigned: boolean,
): fc.Arbitrary<Program> {
  const separator = fc.constantFrom("\n", "; ", "\n\n# next\n", " # note\n");
  if (left === 0) {
    const last = env[env.length - 1];
    const top = gen({ rows: 1, cols: 1 }, 5, env);
    const final = last
      ? fc.oneof(
          top.map((e) => ({ text: `sum(${last.name}) + ${e.text}`, uses: e.uses })),
          gen(last.shape, 1, env).map((e) => ({ text: `sum(${last.name} * ${e.text})`, uses: e.uses })),
        )
      : top;
    return fc
      .tuple(final, fc.array(separator, { minLength: lines.length, maxLength: lines.length }))
      .map(([f, seps]) => ({
        text: [...lines, f.text].reduce((acc, line, i) => (i === 0 ? line : acc + seps[i - 1] + line)),
        uses: [...uses, ...f.uses],
        reassigned,
      }));
  }
  const name = `v${env.length}`;
  return fc.tuple(anyShape, fc.nat(3)).chain(([shape, how]) => {
    const scope = [...env, { name, shape }];
    return fc.tuple(gen(shape, 3, env), gen(shape, 1, scope)).chain(([first, factor]) => {
      const again = [
        [],
        [`${name} = ${name} * 2`],
        [`${name} = tanh(${name}) + ${name}`],
        [`${name} = ${name} * ${factor.text}`, `${name} = ${name}'' - ${name} ^ 2`],
      ][how];
      return statements(
        left - 1,
        scope,
        [...lines, `${name} = ${first.text}`, ...again],
        [...uses, ...first.uses, ...(how === 3 ? factor.uses : [])],
        reassigned || how > 0,
      );
    });
  });
}

const program = fc.integer({ min: 0, max: 2 }).chain((n) => statements(n, [], [], [], false));

/** The value of a leaf named in the text: class indices spell their values, the others get random entries. */
function leafValue(name: string): fc.Arbitrary<Tensor> {
  if (name.startsWith("k")) {
    const values = name.split("_").slice(1).map(Number);
    return fc.constant(name[1] === "r" ? row(...values) : column(...values));
  }
  const rows = Number(name[1]);
  const cols = Number(name[2]);
  return fc
    .array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: rows * cols, maxLength: rows * cols })
    .map((data) => {
      const out = zeros(rows, cols);
      out.data.set(data);
      return out;
    });
}

const problem = program.chain((p) => {
  const names = [...new Set(p.uses)].sort();
  return fc.tuple(fc.constant(p), fc.tuple(...names.map(leafValue))).map(([prog, values]) => {
    const parameters = new Map<string, Tensor>();
    const constants = new Map<string, Tensor>();
    names.forEach((n, i) => {
      (n.startsWith("p") ? parameters : constants).set(n, values[i]);
    });
    return { program: prog, bindings: { parameters, constants } as Bindings };
  });
});

describe("compileExpression + solve on random programs", () => {
  it("every parameter's gradient matches central differences of the output", () => {
    const seen = { runs: 0, reassigned: 0, reused: 0, statements: 0, broadcast: 0, indices: 0 };
    const ops = new Set<string>();

    fc.assert(
      fc.property(problem, ({ program: p, bindings: b }) => {
        const c = compileExpression(p.text, b);
        const solution = solve(c);
        const output = solution.values[c.output].data[0];
        for (const node of c.graph.nodes) {
          if (node.kind !== "op") continue;
          if (KINKED.has(node.op.name)) {
            fc.pre(solution.values[node.inputs[0]].data.every((v) => Math.abs(v) >= KINK_MARGIN));
          }
          if (node.op.name === "bce") {
            fc.pre(solution.values[node.inputs[1]].data.every((v) => v >= BCE_MARGIN && v <= 1 - BCE_MARGIN));
          }
        }
        fc.pre(Math.abs(output) < 1e6);

        seen.runs++;
        for (const node of c.graph.nodes) if (node.kind === "op") ops.add(node.op.name);
        const stretched = c.graph.nodes.some(
          (n) =>
            n.kind === "op" &&
            n.op.category === "arithmetic" &&
            n.inputs.some((i) => !sameShape(c.graph.nodes[i].shape, n.shape) && !isScalar(c.graph.nodes[i].shape)),
        );
        if (stretched) seen.broadcast++;
        if (p.text.includes("cross_entropy(k")) seen.indices++;
        if (p.reassigned) seen.reassigned++;
        if (p.text.includes("v0 =")) seen.statements++;
        const counts = new Map<string, number>();
        for (const n of p.uses) counts.set(n, (counts.get(n) ?? 0) + 1);
        if ([...counts].some(([n, k]) => n.startsWith("p") && k > 1)) seen.reused++;

        const mismatches: string[] = [];
        for (const name of c.parameters) {
          const analytic = leafGradient(c, solution, name);
          const numeric = finiteDifference(c, name);
          for (let k = 0; k < numeric.data.length; k++) {
            if (!close(analytic.data[k], numeric.data[k])) {
              mismatches.push(`${name}[${k}]: solve ${analytic.data[k]}, finite difference ${numeric.data[k]}`);
            }
          }
        }
        expect(mismatches, p.text).toEqual([]);
      }),
      { seed: 20_240_614, numRuns: 200 },
    );
    // The draws covered what they are meant to: statements, reassignments and parameters read more than once.
    // Counted over the accepted draws of this seed; each kind must be common, not a lucky one-off.
    expect(seen.statements).toBeGreaterThan(seen.runs / 4);
    expect(seen.reassigned).toBeGreaterThan(seen.runs / 4);
    expect(seen.reused).toBeGreaterThan(seen.runs / 4);
    expect(seen.broadcast).toBeGreaterThan(seen.runs / 10);
    expect(seen.indices).toBeGreaterThan(0);
    const wanted = [
      ...opNames("arithmetic"),
      ...opNames("linear-algebra"),
      ...opNames("reduction"),
      ...opNames("loss"),
    ];
    const functions = ["sigmoid", "tanh", "softplus", "exp", "log", "sqrt", "relu", "leaky_relu", "elu", "abs"];
    expect([...wanted, ...functions, "softmax", "log_softmax"].filter((op) => !ops.has(op))).toEqual([]);
  });
});

// ---------------------------------------------------------------- worked by hand

describe("gradients worked by hand", () => {
  it("f = (a*b + b^3)^2 / 2 at a = 2, b = -1", () => {
    // u = ab + b³ = -2 - 1 = -3; f = u²/2 = 4.5.
    // df/da = u·∂u/∂a = u·b = (-3)(-1) = 3.
    // df/db = u·∂u/∂b = u·(a + 3b²) = (-3)(2 + 3) = -15.
    const c = compileExpression("f = (a*b + b^3)^2 / 2", bindings({ a: scalar(2), b: scalar(-1) }));
    const s = solve(c);
    expect(s.values[c.output].data[0]).toBe(4.5);
    expect(leafGradient(c, s, "a").data[0]).toBe(3);
    expect(leafGradient(c, s, "b").data[0]).toBe(-15);
    expect([...c.named.keys()]).toEqual(["f"]);
    expect(c.named.get("f")).toBe(c.output);
  });

  it("a = x; a = a * 3; a: d/dx = 3, and `named` binds a to the last node", () => {
    const c = compileExpression("a = x; a = a * 3; a", bindings({ x: scalar(0.7) }));
    const s = solve(c);
    expect(leafGradient(c, s, "x").data[0]).toBe(3);
    expect([...c.named.keys()]).toEqual(["a"]);
    const node = c.graph.nodes[c.named.get("a") as number];
    expect(node.kind === "op" && node.op.name).toBe("mul");
    expect(c.named.get("a")).toBe(c.output);
    // 0.7 · 3 in float64.
    expect(s.values[c.output].data[0]).toBe(0.7 * 3);
  });

  it("h = W @ x; h = h * 2; sum(h): d/dW = 2·1·xᵀ, d/dx = 2·Wᵀ·1", () => {
    const W = fromRows([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    const c = compileExpression("h = W @ x\nh = h * 2\nsum(h)", bindings({ W, x: column(-1, 0.5) }));
    const s = solve(c);
    // Rows of dW are 2·xᵀ = [-2, 1]; dx = 2·(column sums of W) = 2·[9, 12].
    expect(toRows(leafGradient(c, s, "W"))).toEqual([
      [-2, 1],
      [-2, 1],
      [-2, 1],
    ]);
    expect(toRows(leafGradient(c, s, "x"))).toEqual([[18], [24]]);
    // W·x = [-1 + 1, -3 + 2, -5 + 3] = [0, -1, -2], so h = [0, -2, -4] and the sum is -6.
    expect(s.values[c.output].data[0]).toBe(-6);
  });

  it("a parameter used several times accumulates: x*x*x + x at x = 2 has derivative 3x² + 1 = 13", () => {
    const c = compileExpression("x * x * x + x", bindings({ x: scalar(2) }));
    const s = solve(c);
    expect(s.values[c.output].data[0]).toBe(10);
    expect(leafGradient(c, s, "x").data[0]).toBe(13);
  });

  it("the same matrix on both sides: d Σ(W @ W)/dW = 1·Wᵀ + Wᵀ·1", () => {
    // Σ_ij (WW)_ij = Σ_ijk W_ik W_kj; ∂/∂W_ab = Σ_j W_bj + Σ_i W_ia = (row sum b) + (column sum a).
    const W = fromRows([
      [1, 2],
      [3, 4],
    ]);
    const c = compileExpression("sum(W @ W)", bindings({ W }));
    const s = solve(c);
    // Row sums [3, 7], column sums [4, 6]: entry (a, b) = rowsum[b] + colsum[a].
    expect(toRows(leafGradient(c, s, "W"))).toEqual([
      [3 + 4, 7 + 4],
      [3 + 6, 7 + 6],
    ]);
  });

  it("a constant is used but not differentiated; a literal is a constant too", () => {
    const c = compileExpression("sum(k * x * 2)", bindings({ x: row(1, 2) }, { k: row(3, -1) }));
    const s = solve(c);
    expect(toRows(leafGradient(c, s, "x"))).toEqual([[6, -2]]);
    expect(s.grads[leafIndex(c.graph, "k")]).toBeNull();
    expect(s.grads[leafIndex(c.graph, "2")]).toBeNull();
    expect(c.parameters).toEqual(["x"]);
  });
});

describe("the default class axis", () => {
  const softmaxOf = (values: readonly number[]) => {
    const total = values.reduce((acc, v) => acc + Math.exp(v), 0);
    return values.map((v) => Math.exp(v) / total);
  };

  it("softmax of a 3×1 column normalizes down the column", () => {
    const c = compileExpression("s = softmax(x)\nsum(s)", bindings({ x: column(1, 2, 3) }));
    const s = namedValue(c, "s");
    expect(s.rows).toBe(3);
    expect(s.data.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 14);
    softmaxOf([1, 2, 3]).forEach((v, i) => {
      expect(s.data[i]).toBeCloseTo(v, 14);
    });
  });

  it("softmax of a 1×3 row normalizes along the row", () => {
    const c = compileExpression("s = softmax(x)\nsum(s)", bindings({ x: row(1, 2, 3) }));
    const s = namedValue(c, "s");
    expect(s.cols).toBe(3);
    softmaxOf([1, 2, 3]).forEach((v, i) => {
      expect(s.data[i]).toBeCloseTo(v, 14);
    });
  });

  it("a matrix normalizes each row, as PyTorch's dim=1", () => {
    const x = fromRows([
      [0, 1],
      [2, 0],
    ]);
    const s = namedValue(compileExpression("s = softmax(x)\nsum(s)", bindings({ x })), "s");
    const [r0, r1] = [softmaxOf([0, 1]), softmaxOf([2, 0])];
    [...r0, ...r1].forEach((v, i) => {
      expect(s.data[i]).toBeCloseTo(v, 14);
    });
  });

  it("an explicit axis wins: along the rows of a column (each entry alone) is all ones", () => {
    const s = namedValue(compileExpression("s = softmax(x, axis=1)\nsum(s)", bindings({ x: column(1, 2, 3) })), "s");
    expect(Array.from(s.data)).toEqual([1, 1, 1]);
    const r = namedValue(compileExpression("s = softmax(x, axis=0)\nsum(s)", bindings({ x: row(1, 2, 3) })), "s");
    expect(Array.from(r.data)).toEqual([1, 1, 1]);
    // log_softmax likewise: log 1 = 0.
    const l = namedValue(
      compileExpression("s = log_softmax(x, axis=1)\nsum(s)", bindings({ x: column(1, 2, 3) })),
      "s",
    );
    expect(Array.from(l.data)).toEqual([0, 0, 0]);
  });

  it("cross_entropy of a 3×1 column of logits treats it as one sample of 3 classes", () => {
    // -log softmax(z)[1] = log(e + e² + e³) - 2.
    const expected = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3)) - 2;
    const oneHot = compileExpression("cross_entropy(t, z)", bindings({ z: column(1, 2, 3) }, { t: column(0, 1, 0) }));
    expect(solve(oneHot).values[oneHot.output].data[0]).toBeCloseTo(expected, 14);
    const index = compileExpression("cross_entropy(t, z)", bindings({ z: column(1, 2, 3) }, { t: scalar(1) }));
    expect(solve(index).values[index.output].data[0]).toBeCloseTo(expected, 14);
  });
});

// ---------------------------------------------------------------- errors

describe("compile errors say what is wrong and where", () => {
  const W = zeros(2, 2);
  const x = zeros(3, 1);

  it("an unknown name lists the names in scope, at the name's position", () => {
    const e = coreError(() => compileExpression("h = W @ W\nsum(h * y)", bindings({ W }, { x })));
    expect(e.kind).toBe("unknown");
    // Line 2 "sum(h * y)": s(1) u(2) m(3) ((4) h(5) space(6) *(7) space(8) y(9).
    expect(e.origin?.position).toEqual({ line: 2, column: 9 });
    expect(e.message).toContain("unknown name 'y'");
    expect(e.message).toContain("names in scope: W, x, h");
  });

  it("with nothing bound, the scope is said to be empty", () => {
    const e = coreError(() => compileExpression("q", bindings({})));
    expect(e.message).toContain("names in scope: none");
  });

  it("a name is not in scope before the statement that assigns it", () => {
    const e = coreError(() => compileExpression("a = b * 2\nb = W", bindings({ W })));
    expect(e.kind).toBe("unknown");
    // a(1) space(2) =(3) space(4) b(5)
    expect(e.origin?.position).toEqual({ line: 1, column: 5 });
  });

  it("an unknown function lists the valid functions, at the call", () => {
    // 1(1) space(2) +(3) space(4) s(5)
    const e = coreError(() => compileExpression("1 + sigmod(W)", bindings({ W })));
    expect(e.kind).toBe("unknown");
    expect(e.origin?.position).toEqual({ line: 1, column: 5 });
    expect(e.message).toContain("unknown function 'sigmod'");
    expect(e.message).toContain(`valid functions: ${opNames().join(", ")}`);
    expect(e.message).toContain("sigmoid");
  });

  it("W @ x with W 2×2 and x 3×1 names both shapes, at the '@'", () => {
    // h(1) space(2) =(3) space(4) W(5) space(6) @(7)
    const e = coreError(() => compileExpression("h = W @ x\nsum(h)", bindings({ W }, { x })));
    expect(e.kind).toBe("shape");
    expect(e.origin?.position).toEqual({ line: 1, column: 7 });
    expect(e.message).toContain("2×2");
    expect(e.message).toContain("3×1");
    // Unassigned, the node is called by its text.
    const inline = coreError(() => compileExpression("sum(W @ x)", bindings({ W }, { x })));
    expect(inline.message).toMatch(/^W @ x: /);
    // s(1) u(2) m(3) ((4) W(5) space(6) @(7)
    expect(inline.origin?.position).toEqual({ line: 1, column: 7 });
  });

  it("elementwise operands that do not broadcast are rejected at their operator", () => {
    // s(1) u(2) m(3) ((4) W(5) space(6) +(7)
    const e = coreError(() => compileExpression("sum(W + x)", bindings({ W }, { x })));
    expect(e.kind).toBe("shape");
    expect(e.origin?.position).toEqual({ line: 1, column: 7 });
    expect(e.message).toContain("cannot combine 2×2 with 3×1");
  });

  it("too many arguments to sigmoid, and too few to mse", () => {
    // s(1) u(2) m(3) ((4) s(5)
    const e = coreError(() => compileExpression("sum(sigmoid(W, W))", bindings({ W })));
    expect(e.kind).toBe("shape");
    expect(e.origin?.position).toEqual({ line: 1, column: 5 });
    expect(e.message).toContain("sigmoid(x) takes 1 operand(s), but was given 2 argument(s)");
    const few = coreError(() => compileExpression("mse(W)", bindings({ W })));
    expect(few.kind).toBe("shape");
    expect(few.message).toContain("mse(target, prediction, reduction?) takes 2 operand(s)");
    expect(few.message).toContain("given 1 argument(s)");
  });

  it("an attribute the function does not have is rejected with the valid ones", () => {
    const none = coreError(() => compileExpression("sum(sigmoid(W, axis=0))", bindings({ W })));
    expect(none.kind).toBe("unknown");
    expect(none.message).toContain("sigmoid has no attribute 'axis'; it takes none");
    const some = coreError(() => compileExpression("sum(leaky_relu(W, alpha=2))", bindings({ W })));
    expect(some.message).toContain("valid attributes: slope");
    const bad = coreError(() => compileExpression('mse(W, W, reduction="max")', bindings({ W })));
    expect(bad.message).toContain("'sum', 'mean'");
    const name = coreError(() => compileExpression("sum(W, W)", bindings({ W })));
    expect(name.message).toContain("the attribute 'axis' must be a number written in the text, not W");
  });

  it("a value outside an op's domain is reported by evaluate at the call's position", () => {
    // Line 2 "bce(y, 2 * q)": the probability 2·0.75 = 1.5 is not in [0, 1]; the call starts at column 1.
    const c = compileExpression("q = p\nbce(y, 2 * q)", bindings({ p: scalar(0.75) }, { y: scalar(1) }));
    const e = coreError(() => solve(c));
    expect(e.kind).toBe("domain");
    expect(e.origin?.position).toEqual({ line: 2, column: 1 });
    expect(e.message).toContain("1.5");
    expect(e.message).toContain("bce_with_logits");
  });

  it("a non-scalar output is refused by solve, suggesting sum(...)", () => {
    // W(1) space(2) @(3)
    const c = compileExpression("W @ W", bindings({ W }));
    const e = coreError(() => solve(c));
    expect(e.kind).toBe("shape");
    expect(e.message).toContain("2×2");
    expect(e.message).toContain("sum(...)");
    expect(e.origin?.position).toEqual({ line: 1, column: 3 });
  });
});

describe("deep expressions", () => {
  // Compiling recurses once per AST level, so "x" followed by 9,999 transpose quotes (10,000 characters, within
  // the API's limit) may exhaust the call stack: that must be a CoreError (a 4xx), not a RangeError (a 500).
  it("x''''… with 9,999 quotes compiles, or is refused with a CoreError", () => {
    let error: unknown;
    try {
      compileExpression(`x${"'".repeat(9999)}`, bindings({ x: scalar(1) }));
    } catch (e) {
      error = e;
    }
    expect(error === undefined || error instanceof CoreError, String(error)).toBe(true);
  });

  it("x with 3,000 quotes is x (an even number of transposes)", () => {
    const x = row(1, 2);
    const c = compileExpression(`sum(x${"'".repeat(3000)} * x)`, bindings({ x }));
    const s = solve(c);
    // Σ x² = 5; d/dx = 2x.
    expect(s.values[c.output].data[0]).toBe(5);
    expect(toRows(leafGradient(c, s, "x"))).toEqual([[2, 4]]);
  });
});

describe("attributes written in the text", () => {
  // leaky_relu at x = -2 with slope -0.2 is (-0.2)(-2) = 0.4, and its derivative there is the slope.
  it.each(["leaky_relu(x, -0.2)", "leaky_relu(x, slope=-0.2)", "leaky_relu(x, slope = - 0.2)"])(
    "%s takes a negative slope",
    (text) => {
      const c = compileExpression(text, bindings({ x: scalar(-2) }));
      const s = solve(c);
      expect(s.values[c.output].data[0]).toBeCloseTo(0.4, 15);
      expect(leafGradient(c, s, "x").data[0]).toBe(-0.2);
    },
  );

  it.each([
    ["sum(x, 0, axis=1)", "axis"],
    ["leaky_relu(x, slope=0.1, slope=0.2)", "slope"],
  ])("%s: an attribute given twice is refused", (text, name) => {
    let error: unknown;
    try {
      compileExpression(text, bindings({ x: scalar(1) }));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CoreError);
    expect((error as CoreError).message).toContain(`the attribute '${name}' is given twice`);
  });
});
