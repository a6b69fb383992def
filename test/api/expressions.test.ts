import supertest from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExpressionsResponse } from "../../src/api/schemas/expressions.js";
import { buildApp } from "../../src/app.js";
import { useApp } from "../support/app.js";

const W = [
  [0.3, 0.5],
  [-0.2, 0.4],
];
const X = [
  [0, 2],
  [3, 1],
];
const Y = [
  [0.5, 1],
  [1, -1.5],
];
const chain = (last: string) => ({
  layers: [
    { weight: 0.25, activation: "sigmoid" },
    { weight: -0.11, activation: "sigmoid" },
    { weight: 0.78, activation: last },
  ],
});

describe("POST /v1/expressions", () => {
  const api = useApp();
  const expression = async (body: unknown) => {
    const res = await api.post("/v1/expressions", body);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(ExpressionsResponse.safeParse(res.body).success).toBe(true);
    return res.body;
  };
  const network = async (body: unknown) => (await api.post("/v1/gradients", body)).body;

  describe("gives the layer-stack endpoint's numbers to the last bit", () => {
    it("homework 1: sse(Y, W @ X)", async () => {
      const e = await expression({
        parameters: { W },
        constants: { X, Y },
        expression: "sse(Y, W @ X)",
        learningRate: 0.1,
      });
      const n = await network({
        network: { layers: [{ weight: W }], loss: "sse" },
        input: X,
        target: Y,
        learningRate: 0.1,
      });
      expect(e.output).toBe(n.loss);
      expect(e.gradients.W).toStrictEqual(n.gradients.layer1.weight);
      expect(e.updatedParameters.W).toStrictEqual(n.updatedNetwork.layers[0].weight);
    });

    it("homework 1 as an explicit graph, nodes out of order", async () => {
      const e = await expression({
        parameters: { W },
        constants: { X, Y },
        graph: {
          nodes: [
            { id: "L", op: "sse", inputs: ["Y", "P"] },
            { id: "P", op: "matmul", inputs: ["W", "X"] },
          ],
          output: "L",
        },
      });
      const n = await network({ network: { layers: [{ weight: W }], loss: "sse" }, input: X, target: Y });
      expect(e.output).toBe(n.loss);
      expect(e.values.P).toStrictEqual(n.output);
      expect(e.gradients.W).toStrictEqual(n.gradients.layer1.weight);
      expect(Object.keys(e.values)).toEqual(["L", "P"]);
    });

    it("homework 2: bce(y, sigmoid(w3 * sigmoid(w2 * sigmoid(w1 * x))))", async () => {
      const e = await expression({
        parameters: { w1: 0.25, w2: -0.11, w3: 0.78 },
        constants: { x: 0.63, y: 1 },
        expression: "bce(y, sigmoid(w3 * sigmoid(w2 * sigmoid(w1 * x))))",
      });
      const n = await network({ network: { ...chain("sigmoid"), loss: "bce" }, input: 0.63, target: 1 });
      expect(e.output).toBe(n.loss);
      expect([e.gradients.w1, e.gradients.w2, e.gradients.w3]).toStrictEqual(
        ["layer1", "layer2", "layer3"].map((l) => n.gradients[l].weight),
      );
    });

    it.each([1, 128])("homework 3 with y = %i: sse(y, w3 * sigmoid(w2 * sigmoid(w1 * x)))", async (y) => {
      const e = await expression({
        parameters: { w1: 0.25, w2: -0.11, w3: 0.78 },
        constants: { x: 0.63, y },
        expression: "s1 = sigmoid(w1 * x)\ns2 = sigmoid(w2 * s1)\nyhat = w3 * s2\nsse(y, yhat)",
      });
      const n = await network({ network: { ...chain("identity"), loss: "sse" }, input: 0.63, target: y });
      expect(e.output).toBe(n.loss);
      expect([e.values.s1, e.values.s2, e.values.yhat]).toStrictEqual(
        n.forward.map((l: { activation: number }) => l.activation),
      );
      expect([e.gradients.w1, e.gradients.w2, e.gradients.w3]).toStrictEqual(
        ["layer1", "layer2", "layer3"].map((l) => n.gradients[l].weight),
      );
    });
  });

  it("reports every assigned name in statement order, and gradients with respect to each", async () => {
    // f = (a·b + b³)² / 2 at a = 2, b = -1: u = a·b + b³ = -3, f = 4.5, ∂f/∂u = u = -3,
    // ∂f/∂a = u·b = 3, ∂f/∂b = u·(a + 3b²) = -15.
    const e = await expression({ parameters: { a: 2, b: -1 }, expression: "u = a*b + b^3\nf = u^2 / 2" });
    const { diagnostics, ...computed } = e;
    expect(computed).toEqual({
      output: 4.5,
      values: { u: -3, f: 4.5 },
      gradients: { a: 3, b: -15 },
      valueGradients: { u: -3, f: 1 },
    });
    // ‖∂f/∂a‖ / ‖∂f/∂b‖ = 3/15.
    expect(diagnostics).toMatchObject({ ratio: 0.2, flag: "healthy" });
  });

  it("lets a name be assigned again: later uses see the new value", async () => {
    const e = await expression({ parameters: { x: 2 }, expression: "a = x; a = a * 3; a = a + x; a" });
    expect(e.output).toBe(8);
    expect(e.gradients.x).toBe(4);
    expect(Object.keys(e.values)).toEqual(["a"]);
  });

  it("returns values in the forms sent: numbers stay numbers, lists stay lists", async () => {
    const e = await expression({
      parameters: { w: [1, 2], b: 0.5 },
      constants: { x: [[3, 4]] },
      expression: "sum(x @ w + b)",
      learningRate: 0.5,
    });
    // x @ w = 3 + 8 = 11; output 11.5; ∂/∂w = xᵀ = [3, 4]; ∂/∂b = 1.
    expect(e.output).toBe(11.5);
    expect(e.gradients).toEqual({ w: [3, 4], b: 1 });
    expect(e.updatedParameters).toEqual({ w: [-0.5, 0], b: 0 });
  });

  it("differentiates nothing the output does not depend on as zero", async () => {
    const e = await expression({ parameters: { a: 1, unused: [[1, 2]] }, expression: "t = unused * 2\na * 3" });
    expect(e.gradients).toEqual({ a: 3, unused: [[0, 0]] });
    expect(e.valueGradients).toEqual({ t: [[0, 0]] });
  });
});

describe("errors on POST /v1/expressions", () => {
  const api = useApp();
  const fails = async (body: unknown, status: number) => {
    const res = await api.post("/v1/expressions", body);
    expect(res.status, JSON.stringify(res.body)).toBe(status);
    expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
    return res.body as {
      type: string;
      detail: string;
      errors: { path?: string; line?: number; column?: number; message: string }[];
    };
  };

  it("gives a parse error's line, column and what was expected", async () => {
    const body = await fails({ parameters: { a: 1 }, expression: "b = a * 2\nc = (b + 1\nc" }, 400);
    expect(body.type).toBe("urn:gradserve:problem:syntax-error");
    expect(body.errors[0]).toMatchObject({ line: 2, column: 11 });
    expect(body.detail).toMatch(/^line 2, column 11: expected .*'\)'/);
  });

  it("lists the names in scope for an unknown name", async () => {
    const body = await fails({ parameters: { W: 1 }, constants: { x: 2 }, expression: "W * y" }, 400);
    expect(body.detail).toBe("line 1, column 5: unknown name 'y'; names in scope: W, x");
  });

  it("lists the valid functions for an unknown function", async () => {
    const body = await fails({ parameters: { W: 1 }, expression: "sigmod(W)" }, 400);
    expect(body.detail).toMatch(/^line 1, column 1: unknown function 'sigmod'; valid functions: .*sigmoid/);
  });

  it("names the operator, its position and both shapes on a mismatch", async () => {
    const body = await fails(
      {
        parameters: {
          W: [
            [1, 2],
            [3, 4],
          ],
        },
        constants: { x: [1, 2, 3] },
        expression: "sum(W @ x)",
      },
      422,
    );
    expect(body.type).toBe("urn:gradserve:problem:shape-mismatch");
    expect(body.errors[0]).toMatchObject({ line: 1, column: 7 });
    expect(body.detail).toContain("W @ x: matrix product 2×2 · 3×1");
  });

  it("says the output's shape and suggests sum() when it is not a scalar", async () => {
    const body = await fails(
      {
        parameters: {
          W: [
            [1, 2],
            [3, 4],
          ],
        },
        expression: "W * 2",
      },
      422,
    );
    expect(body.detail).toContain("is 2×2, but gradients need a scalar output: reduce it with sum(...) or a loss");
  });

  it("names the nodes of a cycle and a dangling input", async () => {
    const cycle = await fails(
      {
        parameters: { w: 1 },
        graph: {
          nodes: [
            { id: "a", op: "add", inputs: ["c", "w"] },
            { id: "b", op: "neg", inputs: ["a"] },
            { id: "c", op: "exp", inputs: ["b"] },
          ],
          output: "c",
        },
      },
      422,
    );
    expect(cycle.type).toBe("urn:gradserve:problem:invalid-graph");
    expect(cycle.detail).toMatch(/the graph has a cycle: (a → b → c → a|b → c → a → b|c → a → b → c)/);
    const dangling = await fails(
      { parameters: { w: 1 }, graph: { nodes: [{ id: "a", op: "add", inputs: ["w", "q"] }], output: "a" } },
      400,
    );
    expect(dangling.errors[0]).toMatchObject({ path: "/graph/nodes/0", message: expect.stringContaining("'q'") });
  });

  it("refuses text nested more than 256 levels deep with 422, pointing where the limit is passed", async () => {
    const body = await fails({ parameters: { x: 1 }, expression: `${"-".repeat(9999)}x` }, 422);
    expect(body.type).toBe("urn:gradserve:problem:limit-exceeded");
    expect(body.errors[0]).toMatchObject({ line: 1, column: 257 });
    expect(body.detail).toBe(
      "line 1, column 257: the expression nests more than 256 levels deep here (parentheses, calls, signs and powers inside one another); split it into several statements",
    );
  });

  it("rejects an unknown op in a graph with the valid list", async () => {
    const body = await fails(
      { parameters: { w: 1 }, graph: { nodes: [{ id: "a", op: "sine", inputs: ["w"] }], output: "a" } },
      400,
    );
    expect(body.errors[0]).toMatchObject({
      path: "/graph/nodes/0/op",
      message: expect.stringContaining("valid: add, sub"),
    });
  });

  it("wants exactly one of expression and graph, and no name both parameter and constant", async () => {
    const neither = await fails({ parameters: { w: 1 } }, 400);
    expect(neither.errors[0].message).toBe("give exactly one of expression or graph");
    const both = await fails({ parameters: { w: 1 }, constants: { w: 2 }, expression: "w" }, 400);
    expect(both.errors[0]).toEqual({ path: "/constants/w", message: "'w' is both a parameter and a constant" });
  });
});

describe("limits on POST /v1/expressions", () => {
  let app: Awaited<ReturnType<typeof buildApp>>;
  beforeAll(async () => {
    app = await buildApp({ limits: { expressionLength: 20, graphNodes: 2 } });
    await app.ready();
  });
  afterAll(() => app.close());

  it("rejects text over the length limit, naming the limit", async () => {
    const res = await supertest(app.server)
      .post("/v1/expressions")
      .send({ parameters: { a: 1 }, expression: "a + a + a + a + a + a + a" });
    expect(res.status).toBe(422);
    expect(res.body.type).toBe("urn:gradserve:problem:limit-exceeded");
    expect(res.body.detail).toBe("the expression's length is 25, over the limit of 20 (MAX_EXPRESSION_LENGTH)");
  });

  it("rejects a graph over the node limit, naming the limit", async () => {
    const nodes = ["a", "b", "c"].map((id, i) => ({ id, op: "neg", inputs: [i === 0 ? "w" : ["a", "b"][i - 1]] }));
    const res = await supertest(app.server)
      .post("/v1/expressions")
      .send({ parameters: { w: 1 }, graph: { nodes, output: "c" } });
    expect(res.status).toBe(422);
    expect(res.body.detail).toBe("the number of graph nodes is 3, over the limit of 2 (MAX_GRAPH_NODES)");
  });
});
