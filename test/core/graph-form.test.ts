import { describe, expect, it } from "vitest";
import { evaluate } from "../../src/core/autodiff.js";
import { compileExpression } from "../../src/core/compile/expression.js";
import { compileGraphForm, type GraphFormNode } from "../../src/core/compile/graph-form.js";
import { opNames } from "../../src/core/ops/registry.js";
import { leafGradient, leafIndex, solve } from "../../src/core/problem.js";
import { fromRows, scalar, type Tensor, toRows } from "../../src/core/tensor.js";
import { bindings, coreError } from "../support/core.js";

const node = (
  id: string,
  op: string,
  inputs: (string | number)[],
  attrs: Record<string, unknown> = {},
): GraphFormNode => ({
  id,
  op,
  inputs,
  attrs,
});

/** Entry by entry with Object.is: the same float64 bits, not merely close. */
function expectSameBits(actual: Tensor, expected: Tensor): void {
  expect([actual.rows, actual.cols]).toEqual([expected.rows, expected.cols]);
  const differing = Array.from(actual.data).flatMap((v, k) =>
    Object.is(v, expected.data[k]) ? [] : [`${k}: ${v} ≠ ${expected.data[k]}`],
  );
  expect(differing).toEqual([]);
}

/** Every ordering of a list (for the few nodes of a test graph). */
function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, i) =>
    permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]),
  );
}

// ---------------------------------------------------------------- order and equivalence

describe("nodes may be listed in any order", () => {
  // One neuron with a bias: L = bce(y, σ(w·x + b)).
  const neuron = bindings({ w: fromRows([[0.5, -0.3]]), b: scalar(0.1) }, { x: fromRows([[1], [2]]), y: scalar(1) });
  const inOrder = [
    node("wx", "matmul", ["w", "x"]),
    node("z", "add", ["wx", "b"]),
    node("a", "sigmoid", ["z"]),
    node("L", "bce", ["y", "a"]),
  ];

  it("every ordering of the nodes computes the same loss and gradients, bit for bit", () => {
    const reference = compileGraphForm(inOrder, "L", neuron);
    const expected = solve(reference);
    const orders = permutations(inOrder);
    expect(orders).toHaveLength(24);
    for (const order of orders) {
      const c = compileGraphForm(order, "L", neuron);
      const s = solve(c);
      expectSameBits(s.values[c.output], expected.values[reference.output]);
      for (const name of ["w", "b"]) expectSameBits(leafGradient(c, s, name), leafGradient(reference, expected, name));
      // Every node's value and gradient, matched by id.
      for (const id of ["wx", "z", "a", "L"]) {
        expectSameBits(s.values[c.named.get(id) as number], expected.values[reference.named.get(id) as number]);
        expectSameBits(
          s.grads[c.named.get(id) as number] as Tensor,
          expected.grads[reference.named.get(id) as number] as Tensor,
        );
      }
      // named lists the nodes in the order the client gave them, not the order they were computed in.
      expect([...c.named.keys()]).toEqual(order.map((n) => n.id));
    }
  });

  it("the neuron's numbers, by hand", () => {
    // z = 0.5·1 - 0.3·2 + 0.1 = 0; a = σ(0) = 1/2; L = -log(1/2) = log 2.
    // dL/da = -1/a = -2; da/dz = a(1 - a) = 1/4, so dL/dz = -1/2 (= a - y); dL/dw = -1/2·xᵀ = [-1/2, -1].
    const c = compileGraphForm([...inOrder].reverse(), "L", neuron);
    const s = solve(c);
    expect(s.values[c.named.get("z") as number].data[0]).toBeCloseTo(0, 15);
    expect(s.values[c.output].data[0]).toBeCloseTo(Math.LN2, 14);
    expect(leafGradient(c, s, "b").data[0]).toBeCloseTo(-0.5, 14);
    const dw = toRows(leafGradient(c, s, "w"))[0];
    expect(dw[0]).toBeCloseTo(-0.5, 14);
    expect(dw[1]).toBeCloseTo(-1, 14);
  });

  it("homework 1 as a graph (matmul, then sse) equals the expression form bit for bit", () => {
    const hw1 = bindings(
      {
        W: fromRows([
          [0.3, 0.5],
          [-0.2, 0.4],
        ]),
      },
      {
        X: fromRows([
          [0, 2],
          [3, 1],
        ]),
        Y: fromRows([
          [0.5, 1],
          [1, -1.5],
        ]),
      },
    );
    const graph = compileGraphForm([node("L", "sse", ["Y", "P"]), node("P", "matmul", ["W", "X"])], "L", hw1);
    const text = compileExpression("P = W @ X\nL = sse(Y, P)", hw1);
    const [g, t] = [solve(graph), solve(text)];
    expectSameBits(g.values[graph.output], t.values[text.output]);
    expectSameBits(g.values[graph.named.get("P") as number], t.values[text.named.get("P") as number]);
    expectSameBits(leafGradient(graph, g, "W"), leafGradient(text, t, "W"));
    expectSameBits(g.grads[graph.named.get("P") as number] as Tensor, t.grads[text.named.get("P") as number] as Tensor);

    // By hand: P = WX = [[0·0.3 + 3·0.5, 2·0.3 + 1·0.5], [0·-0.2 + 3·0.4, 2·-0.2 + 1·0.4]] = [[1.5, 1.1], [1.2, 0]].
    // L = 1² + 0.1² + 0.2² + 1.5² = 3.3. dL/dP = 2(P - Y) = [[2, 0.2], [0.4, 3]];
    // dL/dW = dL/dP · Xᵀ = [[2·0 + 0.2·2, 2·3 + 0.2·1], [0.4·0 + 3·2, 0.4·3 + 3·1]] = [[0.4, 6.2], [6, 4.2]].
    const P = toRows(g.values[graph.named.get("P") as number]).flat();
    [1.5, 1.1, 1.2, 0].forEach((v, k) => {
      expect(P[k]).toBeCloseTo(v, 15);
    });
    expect(g.values[graph.output].data[0]).toBeCloseTo(3.3, 14);
    const dW = toRows(leafGradient(graph, g, "W")).flat();
    [0.4, 6.2, 6, 4.2].forEach((v, k) => {
      expect(dW[k]).toBeCloseTo(v, 14);
    });
  });
});

// ---------------------------------------------------------------- literals and attributes

describe("numbers and attributes", () => {
  it("a numeric input is a literal constant, one leaf per distinct value", () => {
    // y = 3·x + 0.5 + 3 at x = 2: 9.5; dy/dx = 3.
    const c = compileGraphForm(
      [node("y", "mul", [3, "x"]), node("u", "add", ["y", 0.5]), node("v", "add", ["u", 3])],
      "v",
      bindings({ x: scalar(2) }),
    );
    const s = solve(c);
    expect(s.values[c.output].data[0]).toBe(9.5);
    expect(leafGradient(c, s, "x").data[0]).toBe(3);
    const leaves = c.graph.nodes.filter((n) => n.kind !== "op").map((n) => [n.name, n.kind]);
    expect(leaves).toEqual(
      expect.arrayContaining([
        ["x", "parameter"],
        ["3", "constant"],
        ["0.5", "constant"],
      ]),
    );
    expect(leaves).toHaveLength(3);
    expect(s.grads[leafIndex(c.graph, "3")]).toBeNull();
    expect(c.parameters).toEqual(["x"]);
  });

  it("attributes pass through: leaky_relu's slope, sum's axis, mse's reduction", () => {
    // x = [[-2, 4], [6, -8]], slope 0.5: z = [[-1, 4], [6, -4]]; s = sum down the columns = [[5, 0]].
    // L = Σ (t - s)² with t = [[1, 2]] (reduction sum, not mse's default mean): 16 + 4 = 20.
    // dL/ds = 2(s - t) = [8, -4]; dL/dz = that in each row; dL/dx = dL/dz where x > 0, 0.5·dL/dz elsewhere.
    const c = compileGraphForm(
      [
        node("L", "mse", ["t", "s"], { reduction: "sum" }),
        node("s", "sum", ["z"], { axis: 0 }),
        node("z", "leaky_relu", ["x"], { slope: 0.5 }),
      ],
      "L",
      bindings(
        {
          x: fromRows([
            [-2, 4],
            [6, -8],
          ]),
        },
        { t: fromRows([[1, 2]]) },
      ),
    );
    const s = solve(c);
    expect(toRows(s.values[c.named.get("z") as number])).toEqual([
      [-1, 4],
      [6, -4],
    ]);
    expect(toRows(s.values[c.named.get("s") as number])).toEqual([[5, 0]]);
    expect(s.values[c.output].data[0]).toBe(20);
    expect(toRows(leafGradient(c, s, "x"))).toEqual([
      [4, -4],
      [8, -2],
    ]);
    const attrsOf = (id: string) => {
      const n = c.graph.nodes[c.named.get(id) as number];
      return n.kind === "op" ? n.attrs : expect.fail(`${id} is not an op`);
    };
    expect(attrsOf("z")).toEqual({ slope: 0.5 });
    expect(attrsOf("s")).toEqual({ axis: 0 });
    expect(attrsOf("L")).toEqual({ reduction: "sum" });
  });

  it("a class axis not given follows the scores' shape, as in expressions; one given wins", () => {
    const x = fromRows([[1], [2], [3]]);
    const run = (attrs: Record<string, unknown>) => {
      const c = compileGraphForm([node("p", "softmax", ["x"], attrs), node("L", "sum", ["p"])], "L", bindings({ x }));
      return Array.from(evaluate(c.graph, c.feeds)[c.named.get("p") as number].data);
    };
    const total = Math.exp(1) + Math.exp(2) + Math.exp(3);
    run({}).forEach((v, i) => {
      expect(v).toBeCloseTo(Math.exp(i + 1) / total, 15);
    });
    expect(run({ axis: 1 })).toEqual([1, 1, 1]);
  });

  it("an unknown attribute is rejected with the valid ones, naming the node", () => {
    const x = bindings({ x: fromRows([[1, 2]]) });
    const none = coreError(() => compileGraphForm([node("a", "sigmoid", ["x"], { slope: 1 })], "a", x));
    expect(none.kind).toBe("unknown");
    expect(none.message).toBe("a: sigmoid has no attribute 'slope'; it takes none");
    expect(none.origin?.path).toEqual(["graph", "nodes", 0]);
    const some = coreError(() =>
      compileGraphForm([node("h", "tanh", ["x"]), node("a", "leaky_relu", ["h"], { alpha: 1 })], "a", x),
    );
    expect(some.message).toBe("a: leaky_relu has no attribute 'alpha'; valid attributes: slope");
    expect(some.origin?.path).toEqual(["graph", "nodes", 1]);
    const value = coreError(() => compileGraphForm([node("L", "mse", ["x", "x"], { reduction: "max" })], "L", x));
    expect(value.kind).toBe("unknown");
    expect(value.message).toContain("'sum', 'mean'");
    const axis = coreError(() => compileGraphForm([node("L", "sum", ["x"], { axis: 2 })], "L", x));
    expect(axis.message).toContain("0, 1 or null");
  });

  it("an unknown op lists the valid ones; a wrong operand count says how many it takes", () => {
    const x = bindings({ x: scalar(1) });
    const op = coreError(() => compileGraphForm([node("a", "sigmod", ["x"])], "a", x));
    expect(op.kind).toBe("unknown");
    expect(op.message).toContain("unknown operation 'sigmod'");
    expect(op.message).toContain(opNames().join(", "));
    expect(op.origin?.path).toEqual(["graph", "nodes", 0]);
    const count = coreError(() => compileGraphForm([node("a", "add", ["x"])], "a", x));
    expect(count.kind).toBe("shape");
    expect(count.message).toContain("add takes 2 operand(s) (a, b) but was given 1");
  });
});

// ---------------------------------------------------------------- structure errors

describe("graphs that are not computations are named before anything is built", () => {
  const x = bindings({ x: scalar(1) });

  it("a cycle a → b → a", () => {
    // b = -a and a = -b: a flows into b and b into a.
    const e = coreError(() => compileGraphForm([node("a", "neg", ["b"]), node("b", "neg", ["a"])], "a", x));
    expect(e.kind).toBe("structure");
    expect(e.message).toBe("the graph has a cycle: a → b → a");
    expect(e.origin?.path).toEqual(["graph", "nodes", 0]);
  });

  it("a node that reads itself", () => {
    const e = coreError(() => compileGraphForm([node("a", "add", ["x", "a"])], "a", x));
    expect(e.kind).toBe("structure");
    expect(e.message).toBe("the graph has a cycle: a → a");
  });

  it("a longer cycle a → b → c → a, among nodes that are fine, reading parameters too", () => {
    // b reads a, c reads b, a reads c: the data flows a → b → c → a.
    const e = coreError(() =>
      compileGraphForm(
        [
          node("ok", "tanh", ["x"]),
          node("a", "add", ["x", "c"]),
          node("b", "mul", ["a", "ok"]),
          node("c", "sub", ["b", 2]),
        ],
        "c",
        x,
      ),
    );
    expect(e.kind).toBe("structure");
    expect(e.message).toBe("the graph has a cycle: a → b → c → a");
    expect(e.message).not.toContain("ok");
    expect(e.origin?.path).toEqual(["graph", "nodes", 1]);
  });

  it("a node that only depends on a cycle is reported with the cycle, not itself", () => {
    const e = coreError(() =>
      compileGraphForm(
        [node("out", "sum", ["mid"]), node("mid", "exp", ["a"]), node("a", "neg", ["b"]), node("b", "neg", ["a"])],
        "out",
        x,
      ),
    );
    expect(e.kind).toBe("structure");
    expect(e.message).toBe("the graph has a cycle: a → b → a");
    expect(e.message).not.toContain("out");
    expect(e.message).not.toContain("mid");
    expect(e.origin?.path).toEqual(["graph", "nodes", 2]);
  });

  it("a dangling input names the node and the missing input, with the names known", () => {
    const e = coreError(() =>
      compileGraphForm(
        [node("h", "tanh", ["x"]), node("y", "matmul", ["h", "q"])],
        "y",
        bindings({ x: scalar(1) }, { k: scalar(2) }),
      ),
    );
    expect(e.kind).toBe("unknown");
    expect(e.message).toContain("node 'y'");
    expect(e.message).toContain("input 'q'");
    expect(e.message).toContain("known names: x, k, h, y");
    expect(e.origin?.path).toEqual(["graph", "nodes", 1]);
  });

  it("a dangling input is reported even when the graph also has a cycle elsewhere", () => {
    const e = coreError(() =>
      compileGraphForm([node("a", "neg", ["b"]), node("b", "neg", ["a"]), node("c", "neg", ["nowhere"])], "c", x),
    );
    expect(e.kind).toBe("unknown");
    expect(e.message).toContain("'nowhere'");
  });

  it("an id used twice", () => {
    const e = coreError(() =>
      compileGraphForm([node("h", "tanh", ["x"]), node("h", "sigmoid", ["x"]), node("L", "sum", ["h"])], "L", x),
    );
    expect(e.kind).toBe("structure");
    expect(e.message).toBe("the node id 'h' is used twice");
    expect(e.origin?.path).toEqual(["graph", "nodes", 1]);
  });

  it.each([
    ["a parameter", "x"],
    ["a constant", "k"],
  ])("an id that is also the name of %s", (_what, id) => {
    const e = coreError(() =>
      compileGraphForm([node(id, "tanh", ["x"])], id, bindings({ x: scalar(1) }, { k: scalar(2) })),
    );
    expect(e.kind).toBe("structure");
    expect(e.message).toBe(`the node id '${id}' is also the name of a parameter or constant`);
    expect(e.origin?.path).toEqual(["graph", "nodes", 0]);
  });

  it.each([
    ["no such name", "nope"],
    ["a parameter, not a node", "x"],
  ])("an output that is not a node id: %s", (_what, output) => {
    const e = coreError(() => compileGraphForm([node("h", "tanh", ["x"]), node("L", "sum", ["h"])], output, x));
    expect(e.kind).toBe("unknown");
    expect(e.message).toBe(`the output '${output}' is not a node id; node ids: h, L`);
    expect(e.origin?.path).toEqual(["graph", "output"]);
  });
});
