import { XMLParser } from "fast-xml-parser";
import { describe, expect, it } from "vitest";
import { ExpressionsResponse } from "../../src/api/schemas/expressions.js";
import { GradientsResponse } from "../../src/api/schemas/gradients.js";
import { resolveAttrs } from "../../src/core/graph.js";
import { registry } from "../../src/core/ops/registry.js";
import type { OpDef } from "../../src/core/ops/types.js";
import { scalar, type Tensor } from "../../src/core/tensor.js";
import { useApp } from "../support/app.js";
import { fixture, scalarChain } from "../support/fixtures.js";

const hw2 = fixture("homework2-sigmoid-chain-bce");
const homework = [
  "homework1-linear-sse",
  "homework2-sigmoid-chain-bce",
  "homework3-regression-y1",
  "homework3-regression-y128",
];

/** A number as the pictures print it: rounded to `digits` significant digits, in JavaScript's shortest form. */
const rounded = (v: number, digits = 4) => String(Number(v.toPrecision(digits)));

/**
 * Homework 2's graph, node by node: its symbol, its value and its gradient, all from the numpy fixture.
 * The fixture gives a_l, z_l, dL/dw_l, dL/dx and L; the other gradients follow from z_l = w_l·a_{l-1}:
 * dL/dz_l = (dL/dw_l)/a_{l-1}, dL/da_{l-1} = (dL/dz_l)·w_l, and dL/dŷ = -1/ŷ (bce at y = 1).
 */
function homework2Nodes(): [string, number, number | null][] {
  const { a, z, dw, w, x, y } = scalarChain(hw2);
  const dz = [dw[0] / x, dw[1] / a[0], dw[2] / a[1]];
  return [
    ["x", x, hw2.expected.inputGradient as number],
    ["w1", w[0], dw[0]],
    ["z1", z[0], dz[0]],
    ["a1", a[0], dz[1] * w[1]],
    ["w2", w[1], dw[1]],
    ["z2", z[1], dz[1]],
    ["a2", a[1], dz[2] * w[2]],
    ["w3", w[2], dw[2]],
    ["z3", z[2], dz[2]],
    ["ŷ", a[2], -1 / a[2]],
    ["y", y, null],
    ["L", hw2.expected.loss, 1],
  ];
}

const xml = new XMLParser({ ignoreAttributes: false, parseTagValue: false, htmlEntities: true });

/** Every element named `tag` anywhere in a parsed document. */
function elements(node: unknown, tag: string, found: Record<string, unknown>[] = []): Record<string, unknown>[] {
  if (Array.isArray(node)) {
    for (const n of node) elements(n, tag, found);
  } else if (node !== null && typeof node === "object") {
    for (const [key, value] of Object.entries(node)) {
      if (key === tag) for (const v of [value].flat()) if (v !== null && typeof v === "object") found.push(v);
      elements(value, tag, found);
    }
  }
  return found;
}

const textOf = (t: unknown) => String(typeof t === "object" && t !== null ? (t as { "#text": unknown })["#text"] : t);

/** The texts of every value node of a Graphviz SVG (the records titled v0, v1, ..., not the op ovals). */
function svgRecords(svg: string): string[][] {
  const nodes = elements(xml.parse(svg), "g").filter((g) => g["@_class"] === "node" && /^v\d+$/.test(textOf(g.title)));
  return nodes.map((g) => elements(g, "text").map(textOf));
}

/** The texts of every record of a DOT graph: label="{ x | data 0.63 | grad 0.0005411 }". */
function dotRecords(dot: string): string[][] {
  return [...dot.matchAll(/label="\{ (.*?) \}"/g)].map((m) => m[1].split(" | "));
}

describe("pictures over HTTP", () => {
  const api = useApp();
  /** A picture's body as text, whatever its content type (supertest only buffers text/* and JSON by itself). */
  const picture = async (url: string, body: unknown) => {
    const res = await api
      .request()
      .post(url)
      .send(body as object)
      .buffer(true)
      .parse((stream, done) => {
        let text = "";
        stream.setEncoding("utf8");
        stream.on("data", (chunk: string) => {
          text += chunk;
        });
        stream.on("end", () => done(null, text));
      });
    return { status: res.status, type: res.type as string, text: res.body as string };
  };

  it('homework 2 as format "svg": every node with its symbol, data and grad', async () => {
    const res = await picture("/v1/gradients", { ...hw2.request, format: "svg" });
    expect(res.status).toBe(200);
    expect(res.type).toMatch(/^image\/svg\+xml/);
    const records = svgRecords(res.text);
    const expected = homework2Nodes().map(([label, data, grad]) => [
      label,
      `data ${rounded(data)}`,
      `grad ${grad === null ? "—" : rounded(grad)}`,
    ]);
    expect(records).toHaveLength(expected.length);
    for (const record of expected) expect(records).toContainEqual(record);
  });

  it('format "dot" is Graphviz text with the same records', async () => {
    const res = await picture("/v1/gradients", { ...hw2.request, format: "dot" });
    expect(res.status).toBe(200);
    expect(res.type).toMatch(/^text\/vnd\.graphviz/);
    expect(res.text.startsWith("digraph")).toBe(true);
    const records = dotRecords(res.text);
    const expected = homework2Nodes().map(([label, data, grad]) => [
      label,
      `data ${rounded(data)}`,
      `grad ${grad === null ? "—" : rounded(grad)}`,
    ]);
    expect(records).toEqual(expect.arrayContaining(expected));
    expect(records).toHaveLength(expected.length);
  });

  it("digits changes the rounding in the picture", async () => {
    const { a, dw } = scalarChain(hw2);
    const two = dotRecords((await picture("/v1/gradients", { ...hw2.request, format: "dot", digits: 2 })).text);
    const six = svgRecords((await picture("/v1/gradients", { ...hw2.request, format: "svg", digits: 6 })).text);
    // a1 = 0.539293... is 0.54 to two digits and 0.539294 to six; dL/dw2 = -0.0427113... is -0.043 and -0.0427113.
    expect(rounded(a[0], 2)).toBe("0.54");
    expect(two.find((r) => r[0] === "a1")?.[1]).toBe("data 0.54");
    expect(two.find((r) => r[0] === "w2")?.[2]).toBe(`grad ${rounded(dw[1], 2)}`);
    expect(six.find((r) => r[0] === "a1")?.[1]).toBe(`data ${rounded(a[0], 6)}`);
    expect(six.find((r) => r[0] === "w2")?.[2]).toBe(`grad ${rounded(dw[1], 6)}`);
  });

  it('format "chart": one bar per parameter, growing from layer1 to layer3 for homework 2', async () => {
    const res = await picture("/v1/gradients", { ...hw2.request, format: "chart" });
    expect(res.status).toBe(200);
    expect(res.type).toMatch(/^image\/svg\+xml/);
    const bars = elements(xml.parse(res.text), "rect").filter((r) => r.title !== undefined);
    expect(bars).toHaveLength(3);
    const { dw } = scalarChain(hw2);
    bars.forEach((bar, i) => {
      // The title names the parameter and its norm |dL/dw_l|, here the reference's.
      const [name, norm] = textOf(bar.title).split(": ‖∂L/∂θ‖ = ");
      expect(name).toBe(`layer${i + 1}.weight`);
      expect(Math.abs(Number(norm) - Math.abs(dw[i]))).toBeLessThanOrEqual(1e-12 * Math.abs(dw[i]));
    });
    const widths = bars.map((b) => Number(b["@_width"]));
    expect(widths[0]).toBeLessThan(widths[1]);
    expect(widths[1]).toBeLessThan(widths[2]);
    expect(widths[0]).toBeGreaterThan(0);
  });

  describe("the expression endpoint draws the same pictures", () => {
    const { a, z, dw } = scalarChain(hw2);
    const body = {
      parameters: { w1: 0.25 },
      constants: { w2: -0.11, w3: 0.78, x: 0.63, y: 1 },
      expression:
        "z1 = w1 * x; a1 = sigmoid(z1); z2 = w2 * a1; a2 = sigmoid(z2); z3 = w3 * a2; yhat = sigmoid(z3); L = bce(y, yhat)",
    };

    it("svg, with the expression's own names", async () => {
      const res = await picture("/v1/expressions", { ...body, format: "svg" });
      expect(res.status).toBe(200);
      expect(res.type).toMatch(/^image\/svg\+xml/);
      const records = svgRecords(res.text);
      const byLabel = new Map(records.map((r) => [r[0], r]));
      expect([...byLabel.keys()].sort()).toEqual(
        ["L", "a1", "a2", "w1", "w2", "w3", "x", "y", "yhat", "z1", "z2", "z3"].sort(),
      );
      expect(byLabel.get("w1")).toEqual(["w1", "data 0.25", `grad ${rounded(dw[0])}`]);
      expect(byLabel.get("a1")?.[1]).toBe(`data ${rounded(a[0])}`);
      expect(byLabel.get("z2")?.[1]).toBe(`data ${rounded(z[1])}`);
      expect(byLabel.get("yhat")).toEqual(["yhat", `data ${rounded(a[2])}`, `grad ${rounded(-1 / a[2])}`]);
      expect(byLabel.get("L")).toEqual(["L", `data ${rounded(hw2.expected.loss)}`, "grad 1"]);
    });

    it("dot", async () => {
      const res = await picture("/v1/expressions", { ...body, format: "dot", digits: 3 });
      expect(res.status).toBe(200);
      expect(res.type).toMatch(/^text\/vnd\.graphviz/);
      expect(res.text.startsWith("digraph")).toBe(true);
      expect(dotRecords(res.text)).toContainEqual(["a1", `data ${rounded(a[0], 3)}`, expect.any(String)]);
    });

    it("chart: one bar for the one parameter", async () => {
      const res = await picture("/v1/expressions", { ...body, format: "chart" });
      expect(res.status).toBe(200);
      expect(res.type).toMatch(/^image\/svg\+xml/);
      const bars = elements(xml.parse(res.text), "rect").filter((r) => r.title !== undefined);
      expect(bars.map((b) => textOf(b.title).split(":")[0])).toEqual(["w1"]);
    });
  });
});

describe("the size of a graph drawn as SVG (MAX_PICTURE_NODES)", () => {
  // Homework 2 as an expression: 12 nodes (w1, w2, w3, x, y, z1, a1, z2, a2, z3, yhat, L).
  const body = {
    parameters: { w1: 0.25 },
    constants: { w2: -0.11, w3: 0.78, x: 0.63, y: 1 },
    expression:
      "z1 = w1 * x; a1 = sigmoid(z1); z2 = w2 * a1; a2 = sigmoid(z2); z3 = w3 * a2; yhat = sigmoid(z3); L = bce(y, yhat)",
  };
  const atLimit = useApp({ limits: { pictureNodes: 12 } });
  const belowIt = useApp({ limits: { pictureNodes: 11 } });
  const defaults = useApp();

  it("draws a graph of as many nodes as the limit", async () => {
    const res = await atLimit.post("/v1/expressions", { ...body, format: "svg" });
    expect(res.status).toBe(200);
  });

  it("refuses one node more with 422, pointing at format and offering DOT, which it still draws", async () => {
    const res = await belowIt.post("/v1/expressions", { ...body, format: "svg" });
    expect(res.status).toBe(422);
    expect(res.body.type).toBe("urn:gradserve:problem:limit-exceeded");
    expect(res.body.errors[0]).toEqual({
      path: "/format",
      message:
        "the number of nodes to draw as SVG is 12, over the limit of 11 (MAX_PICTURE_NODES); ask for format dot and render the DOT text with Graphviz locally",
    });
    const dot = await belowIt.post("/v1/expressions", { ...body, format: "dot" });
    expect(dot.status).toBe(200);
  });

  it("by default keeps a 40-term sum (over 100 nodes, seconds of layout) from Graphviz", async () => {
    const terms = Array.from({ length: 40 }, (_, i) => i);
    const sum = {
      parameters: { w: 0.5 },
      constants: Object.fromEntries(terms.map((i) => [`x${i}`, i + 1])),
      expression: terms.map((i) => `w * x${i}`).join(" + "),
    };
    const svg = await defaults.post("/v1/expressions", { ...sum, format: "svg" });
    expect(svg.status).toBe(422);
    expect(svg.body.errors[0].message).toMatch(/^the number of nodes to draw as SVG is \d+, over the limit of 100 /);
    const dot = await defaults.post("/v1/expressions", { ...sum, format: "dot" });
    expect(dot.status).toBe(200);
  });
});

describe("diagnostics and flags over HTTP", () => {
  const api = useApp();

  it("are always present, without asking, on both endpoints", async () => {
    const n = await api.post("/v1/gradients", hw2.request);
    expect(n.body.diagnostics).toBeDefined();
    expect(n.body.explanation).toBeUndefined();
    expect(n.body.check).toBeUndefined();
    const e = await api.post("/v1/expressions", { parameters: { a: 2 }, expression: "a * a" });
    expect(e.body.diagnostics.parameters).toEqual([{ parameter: "a", norm: 4, maxAbs: 4 }]);
  });

  it("homework 2: vanishing, with the ratio |dL/dw1|/|dL/dw3| of the reference", async () => {
    const { dw } = scalarChain(hw2);
    const { body } = await api.post("/v1/gradients", hw2.request);
    const d = body.diagnostics;
    expect(d.thresholds).toEqual({ vanishingBelow: 0.01, explodingAbove: 100, saturationMargin: 0.001 });
    const ratio = Math.abs(dw[0]) / Math.abs(dw[2]);
    expect(Math.abs(d.ratio - ratio)).toBeLessThanOrEqual(1e-12 * ratio);
    expect(d.flag).toBe("vanishing");
    const norms = d.parameters.map((p: { norm: number }) => p.norm);
    expect(norms[0]).toBeLessThan(norms[1]);
    expect(norms[1]).toBeLessThan(norms[2]);
  });

  it("identity layers 0.5, 2, 100: exploding (ratio 40000/200, worked in test/core/diagnostics.test.ts)", async () => {
    const { body } = await api.post("/v1/gradients", {
      network: { layers: [{ weight: 0.5 }, { weight: 2 }, { weight: 100 }], loss: "sse" },
      input: 1,
      target: 0,
    });
    expect(body.diagnostics.ratio).toBe(200);
    expect(body.diagnostics.flag).toBe("exploding");
  });

  it("a single layer: no ratio, no flag", async () => {
    const { body } = await api.post("/v1/gradients", fixture("homework1-linear-sse").request);
    expect(Object.keys(body.diagnostics).sort()).toEqual(["activations", "parameters", "thresholds"]);
  });

  it("dead relu units in the rows layout are counted along the columns (units), once each", async () => {
    // Rows layout, 4 samples × 2 inputs; unit 1 is -x1 - x2 = [-1, -5, 0, -3]: dead; units 2 and 3 fire somewhere.
    const { body } = await api.post("/v1/gradients", {
      network: {
        layout: "rows",
        layers: [
          {
            weight: [
              [-1, 1, 1],
              [-1, -1, 1],
            ],
            activation: "relu",
          },
        ],
        loss: "sse",
      },
      input: [
        [1, 0],
        [2, 3],
        [0, 0],
        [1, 2],
      ],
      target: [
        [0, 0, 0],
        [0, 0, 0],
        [0, 0, 0],
        [0, 0, 0],
      ],
    });
    expect(body.diagnostics.activations).toEqual([
      { node: "layer1.a", activation: "relu", entries: 12, units: 3, deadUnits: 1 },
    ]);
  });

  it("norms of gradients with entries ~1e200 are finite numbers in the JSON", async () => {
    const res = await api.post("/v1/expressions", {
      parameters: { W: [[1, 1]] },
      constants: { c: [[3e200, 4e200]] },
      expression: "sum(c * W)",
    });
    expect(res.status).toBe(200);
    expect(res.text).not.toContain("null");
    // dL/dW = c, and ‖(3, 4)·1e200‖ = 5e200.
    const [p] = res.body.diagnostics.parameters;
    expect(Math.abs(p.norm - 5e200)).toBeLessThanOrEqual(1e-15 * 5e200);
    expect(p.maxAbs).toBe(4e200);
  });
});

describe("check and explain over HTTP", () => {
  const api = useApp();

  it.each(homework)("%s: check: true passes with gradcheck's defaults", async (name) => {
    const res = await api.post("/v1/gradients", { ...fixture(name).request, check: true });
    expect(res.status).toBe(200);
    expect(res.body.check.pass).toBe(true);
    expect(res.body.check.options).toEqual({ eps: 1e-6, atol: 1e-5, rtol: 1e-3, maxEntries: 1000 });
    expect(GradientsResponse.safeParse(res.body).success).toBe(true);
  });

  it.each(homework)("%s: check: {eps: 1e-4} passes, the other options at their defaults", async (name) => {
    const res = await api.post("/v1/gradients", { ...fixture(name).request, check: { eps: 1e-4 } });
    expect(res.status).toBe(200);
    expect(res.body.check.pass).toBe(true);
    expect(res.body.check.options).toEqual({ eps: 1e-4, atol: 1e-5, rtol: 1e-3, maxEntries: 1000 });
    for (const p of res.body.check.parameters) expect(p.checked).toBe(p.entries);
  });

  it("the expression endpoint checks and explains too", async () => {
    const res = await api.post("/v1/expressions", {
      parameters: { a: 3 },
      expression: "a * a",
      check: true,
      explain: true,
      digits: 2,
    });
    expect(res.status).toBe(200);
    expect(ExpressionsResponse.safeParse(res.body).success).toBe(true);
    expect(res.body.check.pass).toBe(true);
    expect(res.body.explanation.digits).toBe(2);
    expect(res.body.explanation.chainRule.a.paths).toHaveLength(2);
  });

  it("explains a value reused 200 times over (2^200 paths) at once, counting the paths it does not list", async () => {
    // The doublings b1 = a + a, b2 = b1 + b1, …: each path is a product of 1s, and d(b200)/da = 2^200.
    const lines = Array.from({ length: 200 }, (_, i) => (i === 0 ? "b1 = a + a" : `b${i + 1} = b${i} + b${i}`));
    const res = await api.post("/v1/expressions", {
      parameters: { a: 1 },
      expression: lines.join("\n"),
      explain: true,
    });
    expect(res.status).toBe(200);
    expect(ExpressionsResponse.safeParse(res.body).success).toBe(true);
    expect(res.body.gradients.a).toBe(2 ** 200);
    const rule = res.body.explanation.chainRule.a;
    expect(rule.paths).toHaveLength(32);
    expect(rule.omittedPaths).toBe(Number.MAX_SAFE_INTEGER - 32);
  });
});

describe("explanations against the published response schemas", () => {
  const api = useApp();

  it.each(["homework2-sigmoid-chain-bce", "homework3-regression-y128"])("%s: the chain rule conforms", async (name) => {
    const res = await api.post("/v1/gradients", { ...fixture(name).request, explain: true });
    expect(res.status).toBe(200);
    expect(res.body.explanation.chainRule["layer1.weight"].kind).toBe("chain-rule");
    expect(GradientsResponse.safeParse(res.body).success).toBe(true);
  });

  // Steps carry `value` and `rounded` side by side, as the published schema says (they were once nested).
  it("homework 1's backprop steps conform", async () => {
    const res = await api.post("/v1/gradients", { ...fixture("homework1-linear-sse").request, explain: true });
    expect(res.status).toBe(200);
    expect(GradientsResponse.safeParse(res.body).success).toBe(true);
  });

  // The same for reverse-mode steps.
  it("an expression's reverse-mode steps conform", async () => {
    const res = await api.post("/v1/expressions", {
      parameters: {
        A: [
          [1, 2],
          [3, 4],
        ],
      },
      expression: "C = A @ A\nsum(C)",
      explain: true,
    });
    expect(res.status).toBe(200);
    expect(res.body.explanation.reverseMode.steps.length).toBeGreaterThan(0);
    expect(ExpressionsResponse.safeParse(res.body).success).toBe(true);
  });
});

/** The registry's own f, f', f'' at one point, as POST /v1/functions/{name}/evaluate should give them. */
function registryAt(name: string, x: number, target: number, given: Record<string, number> = {}) {
  const op = registry.get(name) as OpDef;
  const loss = op.category === "loss";
  const attrs = resolveAttrs(op, loss ? { ...given, reduction: "sum" } : given);
  const inputs = loss ? [scalar(target), scalar(x)] : [scalar(x)];
  const out = op.forward(inputs, attrs);
  const grads = op.backward(
    scalar(1),
    inputs,
    out,
    attrs,
    inputs.map(() => true),
  );
  const d2 = op.secondDerivative as NonNullable<OpDef["secondDerivative"]>;
  return { f: out.data[0], df: (grads[loss ? 1 : 0] as Tensor).data[0], d2f: d2(x, attrs, target) };
}

describe("the catalog routes", () => {
  const api = useApp();

  it("GET /v1/functions lists exactly the registry ops with a doc", async () => {
    const res = await api.request().get("/v1/functions");
    expect(res.status).toBe(200);
    const functions = res.body.functions as {
      name: string;
      formula: unknown;
      derivative: unknown;
      range: unknown;
      derivativeExtrema: unknown;
      evaluable: boolean;
    }[];
    const documented = [...registry.values()].filter((op) => op.doc).map((op) => op.name);
    expect(functions.map((f) => f.name)).toEqual(documented);
    for (const f of functions) {
      expect(f).toHaveProperty("formula.text");
      expect(f).toHaveProperty("formula.latex");
      expect(f).toHaveProperty("derivative.text");
      expect(typeof f.range).toBe("string");
      expect(Array.isArray(f.derivativeExtrema)).toBe(true);
      expect(f.evaluable).toBe(registry.get(f.name)?.secondDerivative !== undefined);
    }
    const byName = (name: string) => functions.find((f) => f.name === name) as Record<string, unknown>;
    expect(byName("sigmoid").derivativeExtrema).toContainEqual({ kind: "maximum", value: 0.25, where: "x = 0", at: 0 });
    expect(byName("tanh").derivativeExtrema).toContainEqual({ kind: "maximum", value: 1, where: "x = 0", at: 0 });
    expect(byName("relu").atKink).toContain("relu'(0) = 0");
  });

  const cases: [string, number[], number, Record<string, number>][] = [
    ["identity", [-2, 0, 3], 1, {}],
    ["sigmoid", [-4, -1, 0, 0.5, 4], 1, {}],
    ["tanh", [-2, 0, 0.7], 1, {}],
    ["relu", [-1, 0, 2], 1, {}],
    ["leaky_relu", [-1, 0, 2], 1, { slope: 0.2 }],
    ["softplus", [-3, 0, 3], 1, {}],
    ["elu", [-1, 0, 1], 1, { alpha: 0.5 }],
    ["exp", [-1, 0, 2], 1, {}],
    ["log", [0.25, 1, 4], 1, {}],
    ["sqrt", [0.25, 1, 4], 1, {}],
    ["abs", [-2, 0, 2], 1, {}],
    ["sse", [-1, 0.5, 3], 2.25, {}],
    ["l2", [-1, 0.5, 3], 2.25, {}],
    ["mse", [-1, 0.5, 3], 2.25, {}],
    ["bce", [0.1, 0.5, 0.9], 0.3, {}],
    ["bce_with_logits", [-2, 0, 2], 0.3, {}],
  ];

  it("the cases below cover every evaluable entry", async () => {
    const res = await api.request().get("/v1/functions");
    const evaluable = res.body.functions
      .filter((f: { evaluable: boolean }) => f.evaluable)
      .map((f: { name: string }) => f.name);
    expect(cases.map(([name]) => name).sort()).toEqual([...evaluable].sort());
  });

  it.each(cases)(
    "POST /v1/functions/%s/evaluate gives the registry's f, f', f''",
    async (name, points, target, attributes) => {
      const res = await api.post(`/v1/functions/${name}/evaluate`, { points, target, attributes });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const at = points.map((x) => registryAt(name, x, target, attributes));
      // JSON has no -0 (tanh''(0) = -2·0·1 is -0 in float64): "+ 0" folds it into 0 as the wire does.
      const wire = (v: number) => v + 0;
      expect(res.body).toEqual({
        name,
        points,
        f: at.map((r) => wire(r.f)),
        df: at.map((r) => wire(r.df)),
        d2f: at.map((r) => wire(r.d2f)),
      });
    },
  );

  it("leaky_relu's slope attribute is the derivative for x ≤ 0", async () => {
    const { body } = await api.post("/v1/functions/leaky_relu/evaluate", {
      points: [-1, 0],
      attributes: { slope: 0.2 },
    });
    expect(body.df).toEqual([0.2, 0.2]);
    expect(body.f).toEqual([-0.2, 0]);
  });

  it("an unknown name is a 400 naming every function it can evaluate", async () => {
    const res = await api.post("/v1/functions/swish/evaluate", { points: [1] });
    expect(res.status).toBe(400);
    expect(res.body.type).toBe("urn:gradserve:problem:unknown-name");
    for (const [name] of cases) expect(res.body.detail).toContain(name);
  });

  // The message for an unknown name offers only what this route can evaluate.
  it("an unknown name's message does not offer softmax or cross_entropy, which it cannot evaluate", async () => {
    const res = await api.post("/v1/functions/swish/evaluate", { points: [1] });
    expect(res.body.detail).not.toContain("softmax");
    expect(res.body.detail).not.toContain("cross_entropy");
  });

  it("softmax, which is not elementwise, is a 4xx", async () => {
    const res = await api.post("/v1/functions/softmax/evaluate", { points: [1, 2] });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(res.body.detail).toContain("not elementwise");
  });

  it("log at -1 is a 422 non-finite pointing at the point", async () => {
    const first = await api.post("/v1/functions/log/evaluate", { points: [-1] });
    expect(first.status).toBe(422);
    expect(first.body.type).toBe("urn:gradserve:problem:non-finite");
    expect(first.body.errors[0].path).toBe("/points/0");
    const second = await api.post("/v1/functions/log/evaluate", { points: [1, -1] });
    expect(second.status).toBe(422);
    expect(second.body.errors[0].path).toBe("/points/1");
  });

  it("bce with a prediction outside [0, 1] is a 422", async () => {
    const res = await api.post("/v1/functions/bce/evaluate", { points: [0.5, 1.5], target: 1 });
    expect(res.status).toBe(422);
    expect(res.body.type).toBe("urn:gradserve:problem:domain-error");
    expect(res.body.errors[0].path).toBe("/points/1");
  });

  // A target outside [0, 1] for bce is the target's fault, whatever the points.
  it("bce with a target outside [0, 1] points at /target", async () => {
    const res = await api.post("/v1/functions/bce/evaluate", { points: [0.5], target: 2 });
    expect(res.status).toBe(422);
    expect(res.body.errors[0].path).toBe("/target");
  });
});
