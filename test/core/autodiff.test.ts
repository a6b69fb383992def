import { describe, expect, it } from "vitest";
import { evaluate, gradients } from "../../src/core/autodiff.js";
import { GraphBuilder } from "../../src/core/graph.js";
import { opNames } from "../../src/core/ops/registry.js";
import { type CompiledProblem, leafGradient, solve } from "../../src/core/problem.js";
import { firstNonFinite, fromRows, scalar, type Tensor, toRows } from "../../src/core/tensor.js";
import { coreError } from "../support/core.js";

type Feeds = Map<string, Tensor>;

/** Runs both passes and returns the gradient of every node (null where the output does not depend on it). */
function backprop(builder: GraphBuilder, feeds: Feeds, output: number) {
  const graph = builder.build();
  const values = evaluate(graph, feeds);
  return { values, grads: gradients(graph, values, output) };
}

describe("a value used more than once receives the sum of the gradients of its uses", () => {
  it("b = a + a, c = b + b gives dc/da = 4", () => {
    const g = new GraphBuilder();
    const a = g.parameter("a", { rows: 1, cols: 1 });
    const b = g.apply("add", [a, a]);
    const c = g.apply("add", [b, b]);
    const { values, grads } = backprop(g, new Map([["a", scalar(1.5)]]), c);
    expect(values[c].data[0]).toBe(6);
    expect(grads[a]?.data[0]).toBe(4);
    expect(grads[b]?.data[0]).toBe(2);
  });

  it("the same for every entry of a matrix, through sum", () => {
    const g = new GraphBuilder();
    const a = g.parameter("a", { rows: 2, cols: 2 });
    const b = g.apply("add", [a, a]);
    const c = g.apply("add", [b, b]);
    const s = g.apply("sum", [c]);
    const { grads } = backprop(
      g,
      new Map([
        [
          "a",
          fromRows([
            [1, -2],
            [3, 0.5],
          ]),
        ],
      ]),
      s,
    );
    expect(toRows(grads[a] as Tensor)).toEqual([
      [4, 4],
      [4, 4],
    ]);
  });

  it("mul(x, x) gives 2x", () => {
    const g = new GraphBuilder();
    const x = g.parameter("x", { rows: 2, cols: 3 });
    const s = g.apply("sum", [g.apply("mul", [x, x])]);
    const value = fromRows([
      [1, -2, 0.5],
      [0, 3, -0.25],
    ]);
    const { grads } = backprop(g, new Map([["x", value]]), s);
    expect(Array.from((grads[x] as Tensor).data)).toEqual(Array.from(value.data, (v) => 2 * v));
  });

  it("a scalar weight used twice in a product: d(w·(w·x))/dw = 2wx", () => {
    const g = new GraphBuilder();
    const w = g.parameter("w", { rows: 1, cols: 1 });
    const x = g.constant("x", { rows: 1, cols: 1 });
    const y = g.apply("mul", [w, g.apply("mul", [w, x])]);
    const { grads } = backprop(
      g,
      new Map([
        ["w", scalar(3)],
        ["x", scalar(-0.5)],
      ]),
      y,
    );
    expect(grads[w]?.data[0]).toBe(2 * 3 * -0.5);
  });

  it("a weight matrix applied twice: d Σ W·(W·x) / dW = 1·(Wx)ᵀ + Wᵀ·1·xᵀ", () => {
    const g = new GraphBuilder();
    const W = g.parameter("W", { rows: 2, cols: 2 });
    const x = g.constant("x", { rows: 2, cols: 1 });
    const s = g.apply("sum", [g.apply("matmul", [W, g.apply("matmul", [W, x])])]);
    const [[a, b], [c, d]] = [
      [1, 2],
      [3, 4],
    ];
    const [p, q] = [5, -1];
    const { grads } = backprop(
      g,
      new Map([
        [
          "W",
          fromRows([
            [a, b],
            [c, d],
          ]),
        ],
        ["x", fromRows([[p], [q]])],
      ]),
      s,
    );
    // Wx = [ap + bq, cp + dq]; Wᵀ·1 = [a + c, b + d]. Entry (i, j) is (Wx)_j + (Wᵀ1)_i · x_j.
    const wx = [a * p + b * q, c * p + d * q];
    const wt1 = [a + c, b + d];
    const xs = [p, q];
    const expected = [0, 1].map((i) => [0, 1].map((j) => wx[j] + wt1[i] * xs[j]));
    expect(toRows(grads[W] as Tensor)).toEqual(expected);
  });

  it("accumulating into one use never writes into a gradient it shares with another node", () => {
    // add hands the same gradient tensor to both its operands, so a, b, u and w all start out sharing one
    // buffer; a's second use (through w) must copy before adding, or b, u and w would read 4 as well.
    const g = new GraphBuilder();
    const a = g.parameter("a", { rows: 1, cols: 1 });
    const b = g.parameter("b", { rows: 1, cols: 1 });
    const k = g.constant("k", { rows: 1, cols: 1 });
    const w = g.apply("mul", [a, k]);
    const u = g.apply("add", [a, b]);
    const out = g.apply("add", [u, w]);
    const { grads } = backprop(
      g,
      new Map([
        ["a", scalar(2)],
        ["b", scalar(5)],
        ["k", scalar(3)],
      ]),
      out,
    );
    expect([grads[a], grads[b], grads[u], grads[w]].map((t) => t?.data[0])).toEqual([4, 1, 1, 1]);
  });
});

describe("deep graphs", () => {
  const DEPTH = 100_000;

  it(`a chain of ${DEPTH} adds of a constant runs both passes without a stack overflow`, () => {
    const g = new GraphBuilder();
    const x = g.parameter("x", { rows: 1, cols: 1 });
    const c = g.constant("c", { rows: 1, cols: 1 });
    let node = x;
    for (let i = 0; i < DEPTH; i++) node = g.apply("add", [node, c]);
    const { values, grads } = backprop(
      g,
      new Map([
        ["x", scalar(1.25)],
        ["c", scalar(0.5)],
      ]),
      node,
    );
    // y = x + DEPTH·c: every partial sum is a multiple of 0.25 below 2^53, so the arithmetic is exact.
    expect(values[node].data[0]).toBe(1.25 + DEPTH * 0.5);
    expect(grads[x]?.data[0]).toBe(1);
    expect(grads[c]?.data[0]).toBe(DEPTH);
  });

  it(`a chain of ${DEPTH + 1} negations gives dy/dx = (-1)^${DEPTH + 1}`, () => {
    const g = new GraphBuilder();
    const x = g.parameter("x", { rows: 1, cols: 1 });
    let node = x;
    for (let i = 0; i <= DEPTH; i++) node = g.apply("neg", [node]);
    const { values, grads } = backprop(g, new Map([["x", scalar(2)]]), node);
    expect(values[node].data[0]).toBe(-2);
    expect(grads[x]?.data[0]).toBe(-1);
  });
});

describe("non-finite values are reported with the node they arose in", () => {
  it("a forward value that overflows (exp of 1000)", () => {
    const g = new GraphBuilder();
    const x = g.parameter("x", { rows: 1, cols: 1 });
    g.apply("exp", [x], { name: "growth" });
    const e = coreError(() => evaluate(g.build(), new Map([["x", scalar(1000)]])));
    expect(e.kind).toBe("non-finite");
    expect(e.message).toContain("growth");
    expect(e.message).toContain("exp");
    expect(e.message).toContain("Infinity");
  });

  it("a gradient that overflows through one op", () => {
    // y = k·(a·b) with k = a = 1e300, b = 1e-300: y = 1e300 is finite, but dy/db = k·a = 1e600 is not.
    const g = new GraphBuilder();
    const a = g.parameter("a", { rows: 1, cols: 1 });
    const b = g.parameter("b", { rows: 1, cols: 1 });
    const k = g.constant("k", { rows: 1, cols: 1 });
    const y = g.apply("mul", [k, g.apply("mul", [a, b], { name: "product" })]);
    const graph = g.build();
    const values = evaluate(
      graph,
      new Map([
        ["a", scalar(1e300)],
        ["b", scalar(1e-300)],
        ["k", scalar(1e300)],
      ]),
    );
    const e = coreError(() => gradients(graph, values, y));
    expect(e.kind).toBe("non-finite");
    expect(e.message).toContain("'b'");
    expect(e.message).toContain("product");
  });

  it("a gradient that overflows only when the gradients of two uses are summed", () => {
    // y = k·x + k·x with k = 1.5e308: each use's gradient is 1.5e308, their sum exceeds float64's 1.8e308.
    const g = new GraphBuilder();
    const x = g.parameter("x", { rows: 1, cols: 1 });
    const k = g.constant("k", { rows: 1, cols: 1 });
    const y = g.apply("add", [g.apply("mul", [k, x]), g.apply("mul", [k, x])]);
    const graph = g.build();
    const values = evaluate(
      graph,
      new Map([
        ["x", scalar(1e-10)],
        ["k", scalar(1.5e308)],
      ]),
    );
    const e = coreError(() => gradients(graph, values, y));
    expect(e.kind).toBe("non-finite");
    expect(e.message).toContain("'x'");
  });
});

describe("firstNonFinite, the check behind those reports", () => {
  it("finds the first NaN or ±Infinity at any position of any length, and -1 where there is none", () => {
    for (let n = 1; n <= 9; n++) {
      expect(firstNonFinite({ rows: 1, cols: n, data: new Float64Array(n).fill(-1e308) })).toBe(-1);
      for (let k = 0; k < n; k++) {
        for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
          const data = new Float64Array(n).fill(1.5);
          data[k] = bad;
          if (k + 1 < n) data[n - 1] = Number.NaN; // a later one does not hide the first
          expect(firstNonFinite({ rows: n, cols: 1, data })).toBe(k);
        }
      }
    }
  });
});

describe("misuse is rejected with a message that says what to do", () => {
  it("gradients of a non-scalar output suggest reducing it with sum", () => {
    const g = new GraphBuilder();
    const x = g.parameter("x", { rows: 2, cols: 3 });
    const y = g.apply("exp", [x], { name: "y" });
    const graph = g.build();
    const values = evaluate(
      graph,
      new Map([
        [
          "x",
          fromRows([
            [0, 0, 0],
            [1, 1, 1],
          ]),
        ],
      ]),
    );
    const e = coreError(() => gradients(graph, values, y));
    expect(e.kind).toBe("shape");
    expect(e.message).toContain("'y'");
    expect(e.message).toContain("2×3");
    expect(e.message).toContain("sum");
  });

  it("an unknown op lists every valid op", () => {
    const g = new GraphBuilder();
    const x = g.parameter("x", { rows: 1, cols: 1 });
    const e = coreError(() => g.apply("relux", [x]));
    expect(e.kind).toBe("unknown");
    expect(e.message).toContain("'relux'");
    for (const name of opNames()) expect(e.message).toContain(name);
  });

  it("an unknown attribute lists the valid ones, or says there are none", () => {
    const g = new GraphBuilder();
    const x = g.parameter("x", { rows: 1, cols: 1 });
    const e = coreError(() => g.apply("leaky_relu", [x], { attrs: { alpha: 0.1 } }));
    expect(e.kind).toBe("unknown");
    expect(e.message).toContain("'alpha'");
    expect(e.message).toContain("valid attributes: slope");
    const none = coreError(() => g.apply("relu", [x], { attrs: { slope: 0.1 } }));
    expect(none.kind).toBe("unknown");
    expect(none.message).toContain("it takes none");
  });

  it("an attribute value outside its choices lists them", () => {
    const g = new GraphBuilder();
    const x = g.parameter("x", { rows: 2, cols: 2 });
    const axis = coreError(() => g.apply("softmax", [x], { attrs: { axis: null } }));
    expect(axis.kind).toBe("unknown");
    expect(axis.message).toContain("0 or 1");
    const reduction = coreError(() => g.apply("mse", [x, x], { attrs: { reduction: "max" } }));
    expect(reduction.kind).toBe("unknown");
    expect(reduction.message).toContain("'sum', 'mean'");
  });

  it("evaluate rejects a feed of the wrong shape, and a missing one", () => {
    const g = new GraphBuilder();
    const W = g.parameter("W", { rows: 2, cols: 3 });
    g.apply("sum", [W]);
    const graph = g.build();
    const wrong = coreError(() =>
      evaluate(
        graph,
        new Map([
          [
            "W",
            fromRows([
              [1, 2],
              [3, 4],
              [5, 6],
            ]),
          ],
        ]),
      ),
    );
    expect(wrong.kind).toBe("shape");
    expect(wrong.message).toContain("'W'");
    expect(wrong.message).toContain("declared 2×3");
    expect(wrong.message).toContain("3×2");
    const missing = coreError(() => evaluate(graph, new Map()));
    expect(missing.kind).toBe("unknown");
    expect(missing.message).toContain("'W'");
  });
});

describe("parameters the output does not depend on", () => {
  it("get a null gradient, and leafGradient gives zeros of their shape", () => {
    const g = new GraphBuilder();
    const used = g.parameter("used", { rows: 1, cols: 2 });
    const unused = g.parameter("unused", { rows: 2, cols: 3 });
    const output = g.apply("sum", [g.apply("exp", [used])]);
    const problem: CompiledProblem = {
      graph: g.build(),
      feeds: new Map([
        ["used", fromRows([[0, 1]])],
        [
          "unused",
          fromRows([
            [1, 2, 3],
            [4, 5, 6],
          ]),
        ],
      ]),
      output,
      parameters: ["used", "unused"],
      differentiate: new Set([used, unused]),
    };
    const solution = solve(problem);
    expect(solution.grads[unused]).toBeNull();
    expect(toRows(leafGradient(problem, solution, "unused"))).toEqual([
      [0, 0, 0],
      [0, 0, 0],
    ]);
    // d Σ e^x / dx = e^x.
    expect(Array.from(leafGradient(problem, solution, "used").data)).toEqual([1, Math.exp(1)]);
  });
});

describe("gradients with respect to chosen nodes", () => {
  /** y = Σ (x ⊙ c + d): x a parameter, c and d constants. */
  function graph() {
    const g = new GraphBuilder();
    const x = g.parameter("x", { rows: 1, cols: 2 });
    const c = g.constant("c", { rows: 1, cols: 2 });
    const d = g.constant("d", { rows: 1, cols: 1 });
    const xc = g.apply("mul", [x, c]);
    const y = g.apply("sum", [g.apply("add", [xc, d])]);
    const built = g.build();
    const values = evaluate(
      built,
      new Map([
        ["x", fromRows([[1, 2]])],
        ["c", fromRows([[3, -4]])],
        ["d", scalar(0.5)],
      ]),
    );
    return { built, values, x, c, d, xc, y };
  }

  it("without a choice every leaf gets its gradient, constants included", () => {
    const { built, values, x, c, d, y } = graph();
    const grads = gradients(built, values, y);
    expect(Array.from((grads[x] as Tensor).data)).toEqual([3, -4]);
    expect(Array.from((grads[c] as Tensor).data)).toEqual([1, 2]);
    // d is broadcast over both entries of x ⊙ c, so dy/dd = 2.
    expect(grads[d]?.data[0]).toBe(2);
  });

  it("leaves outside the choice, and nodes that depend on none in it, get null", () => {
    const { built, values, x, c, d, xc, y } = graph();
    const grads = gradients(built, values, y, new Set([x]));
    expect(Array.from((grads[x] as Tensor).data)).toEqual([3, -4]);
    expect(grads[xc]).not.toBeNull();
    expect(grads[c]).toBeNull();
    expect(grads[d]).toBeNull();
    // Choosing only constants that the output depends on still differentiates through the ops above them.
    const onlyD = gradients(built, values, y, new Set([d]));
    expect(onlyD[d]?.data[0]).toBe(2);
    expect([onlyD[x], onlyD[c], onlyD[xc]]).toEqual([null, null, null]);
  });

  it("an output that depends on no chosen node has no gradients at all", () => {
    const { built, values, y } = graph();
    expect(gradients(built, values, y, new Set()).every((t) => t === null)).toBe(true);
  });

  it("an op node can be chosen too: its gradient is d(output)/d(node), and nothing below it is formed", () => {
    const { built, values, x, xc, y } = graph();
    const grads = gradients(built, values, y, new Set([xc]));
    expect(Array.from((grads[xc] as Tensor).data)).toEqual([1, 1]);
    expect(grads[x]).toBeNull();
  });
});
